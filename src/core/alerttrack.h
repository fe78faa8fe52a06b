/*
 * alerttrack: gives alerts a memory. Health rules are pure and stateless
 * (an alert is whatever the latest snapshot says); the console also wants
 * "since when" and "is it getting worse". The tracker matches each frame's
 * alerts to the ones it already knows by (source, metric, subject), keeps
 * when each was first seen, its worst severity, a short history of its
 * value, and alerts that cleared a little while ago.
 *
 * Owned and updated by the UI thread; panes read it through view_data.
 */
#ifndef LO_SRC_ALERTTRACK_H
#define LO_SRC_ALERTTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/health.h"
#include "core/ring.h"

/* How long a cleared alert stays listed as "resolved". */
#define ALERTTRACK_KEEP_MS (10 * 60 * 1000)
/* Minimum spacing of value samples (RING_CAP of them span 4 minutes). */
#define ALERTTRACK_SAMPLE_MS 2000

enum alert_trend { TREND_UNKNOWN = 0, TREND_WORSE, TREND_BETTER, TREND_STEADY };

struct alert_track {
        struct alert a;            /* latest text and values (a copy) */
        int64_t  since_mono;       /* first seen (this episode) */
        int64_t  since_wall;
        int64_t  resolved_mono;    /* 0 while active */
        int64_t  resolved_wall;
        enum severity peak;        /* worst severity this episode */
        struct ring values;        /* a.value samples over time (numeric alerts) */
};

struct alert_tracker {
        struct alert_track *v;     /* owned; active first, then resolved */
        size_t n, cap;
};

void alerttrack_init(struct alert_tracker *t);
void alerttrack_done(struct alert_tracker *t);
/* Folds in the current alerts at the given times: new ones start an
 * episode, known ones update, missing ones become resolved, resolved ones
 * older than ALERTTRACK_KEEP_MS are dropped, and an alert that returns
 * starts a new episode. Sorted: active by severity (crit first) then
 * oldest first; resolved newest first. */
void alerttrack_update(struct alert_tracker *t, const struct alert_list *now,
                       int64_t now_mono, int64_t now_wall);
/* Worse/better/steady from the value history over the last window_ms
 * (higher is worse, the health rules' convention); unknown for
 * non-numeric alerts or too few samples. Pure. */
enum alert_trend alerttrack_trend(const struct alert_track *a, int64_t window_ms);
const char *alerttrack_trend_name(enum alert_trend tr);   /* "worse", ... "" */
/* Number of active (unresolved) alerts. */
size_t alerttrack_active(const struct alert_tracker *t);

#endif
