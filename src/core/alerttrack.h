/*
 * alerttrack: the alert lifecycle, one implementation for the console and
 * `lambdaops watch`. Health rules are pure and stateless (an alert is
 * whatever the latest snapshot says); the tracker gives each alert a
 * memory and a state:
 *
 *   (condition seen) -> pending --held for `for`--> firing
 *   firing --clear for `keep_firing_for`--> resolved
 *   pending --clear--> dropped (it never fired: nothing was said about it)
 *   pending/firing --its source is down--> unknown --source back--> the
 *     state it had (same episode: a firing alert that still holds is not
 *     fired again; one that is now clear starts its keep_firing_for)
 *
 * A source is down in a frame when that frame holds its "status" crit
 * alert (health_eval of a COLL_DOWN snapshot, health_alert_down()); a
 * source's alerts are never resolved while it is down. `for` and
 * `keep_firing_for` come from the alert's source config (per threshold,
 * else per source, default 0: config_alert_timing()).
 *
 * Matching: a frame's alert is the same alert as a tracked one when
 * source, metric and subject are equal (the fingerprint's inputs).
 *
 * Fingerprint: 16 lowercase hex digits of the 64-bit FNV-1a hash of the
 * bytes  environment NUL source NUL metric NUL subject NUL  (environment
 * from the config, "" for an alert built by hand). Stable across restarts
 * and versions: it is what a receiver deduplicates on.
 *
 * Transitions: when recording is on (alerttrack_record), every change a
 * receiver cares about is appended once to a bounded queue that one
 * consumer drains (alerttrack_drain): fired (pending -> firing, once per
 * episode), severity (a firing alert's severity changed), unknown (a fired
 * alert's source went down), known (it came back), resolved (once per
 * episode). Pending alerts produce no record.
 *
 * Pure data structure code: the caller passes both clocks (monotonic ms for
 * every duration, wall ms for startsAt/endsAt), so tests drive time. Owned
 * by one thread (the console's UI thread, or watch's main loop).
 */
#ifndef LO_SRC_ALERTTRACK_H
#define LO_SRC_ALERTTRACK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/health.h"
#include "core/ring.h"

/* How long a resolved alert stays listed. */
#define ALERTTRACK_KEEP_MS (10 * 60 * 1000)
/* Minimum spacing of value samples (RING_CAP of them span 4 minutes). */
#define ALERTTRACK_SAMPLE_MS 2000
/* Transitions kept until drained; past it the oldest are dropped (counted). */
#define ALERTTRACK_QUEUE_MAX 4096
/* 16 hex digits and the NUL. */
#define ALERT_FP_LEN 17

enum alert_trend { TREND_UNKNOWN = 0, TREND_WORSE, TREND_BETTER, TREND_STEADY };

enum alert_state {
        ALERT_PENDING = 0,      /* condition holds, `for` not yet elapsed */
        ALERT_FIRING,           /* fired; stays firing through keep_firing_for */
        ALERT_RESOLVED,         /* clear for keep_firing_for; kept ALERTTRACK_KEEP_MS */
        ALERT_UNKNOWN,          /* its source is down: neither firing nor resolved */
};

enum alert_tr_kind {
        ALERT_TR_FIRED = 0,
        ALERT_TR_SEVERITY,
        ALERT_TR_UNKNOWN,
        ALERT_TR_KNOWN,
        ALERT_TR_RESOLVED,
};

struct alert_track {
        struct alert a;            /* latest text and values (a copy) */
        int64_t  since_mono;       /* first seen (this episode: pending start) */
        int64_t  since_wall;
        int64_t  resolved_mono;    /* 0 until resolved */
        int64_t  resolved_wall;    /* endsAt */
        enum severity peak;        /* worst severity this episode */
        struct ring values;        /* a.value samples over time (numeric alerts) */
        /* The lifecycle. */
        enum alert_state state;
        char     fingerprint[ALERT_FP_LEN];
        int64_t  fired_mono;       /* 0 while it never fired */
        int64_t  fired_wall;       /* startsAt */
        int64_t  clear_mono;       /* firing but clear since then (keep_firing_for
                                      running); 0 while the condition holds */
        int64_t  for_ms, keep_ms;  /* its timing, from the config at first sight */
        enum severity notified;    /* the severity of its last fired/severity record */
};

/* One transition, self-contained (copies, no pointer into the tracker but
 * a.src, which the config owns). */
struct alert_transition {
        uint64_t seq;              /* 1, 2, ... per tracker */
        enum alert_tr_kind kind;
        enum alert_state state;    /* the state after it */
        enum severity sev;         /* the alert's severity now */
        enum severity prev_sev;    /* ALERT_TR_SEVERITY: the one before; else sev */
        char     fingerprint[ALERT_FP_LEN];
        char     environment[64];
        struct alert a;            /* source, metric, subject, value, message */
        int64_t  at_mono, at_wall; /* when the transition happened */
        int64_t  starts_at_wall;   /* when it fired */
        int64_t  ends_at_wall;     /* when it resolved; 0 unless resolved */
};

struct alert_tracker {
        struct alert_track *v;     /* owned; active first, then resolved */
        size_t n, cap;
        /* The transition queue (a ring of ALERTTRACK_QUEUE_MAX at most). */
        bool     record;
        struct alert_transition *q;
        size_t   q_head, q_n, q_cap;
        uint64_t seq;
        uint64_t dropped;          /* records lost because nobody drained */
};

/* A consumer of transitions (the log, a notifier): watch calls every sink's
 * transition() for each record it drains, in order, on its main thread.
 * A sink must not block (spool and return); it copies what it keeps. */
struct alert_sink {
        const char *name;
        void *ctx;
        void (*transition)(void *ctx, const struct alert_transition *tr);
        void (*close)(void *ctx);          /* optional, at stop */
};

/* The tracker's alerts as other threads may read them (the /metrics
 * server): the owner publishes a copy after each update; a reader takes
 * its own copy. Any thread. */
struct alert_board {
        pthread_mutex_t mu;
        struct alert_track *v;     /* owned */
        size_t   n;
        uint64_t gen;              /* +1 per publish */
};

void alert_board_init(struct alert_board *b);
void alert_board_done(struct alert_board *b);
void alert_board_publish(struct alert_board *b, const struct alert_tracker *t);
/* An owned copy of the last published alerts in *out (free(); NULL when
 * none); returns how many. */
size_t alert_board_copy(struct alert_board *b, struct alert_track **out);

void alerttrack_init(struct alert_tracker *t);
void alerttrack_done(struct alert_tracker *t);
/* Turns the transition queue on (watch) or off (the default: the console
 * does not drain). */
void alerttrack_record(struct alert_tracker *t, bool on);
/* Folds in the current alerts (every source's health_eval of this frame) at
 * the given times and moves every tracked alert along its lifecycle (see
 * the top of this file); resolved ones older than ALERTTRACK_KEEP_MS are
 * dropped, and an alert that returns after resolving starts a new episode.
 * Sorted: active (pending, firing, unknown) by severity (crit first) then
 * oldest first; resolved newest first. */
void alerttrack_update(struct alert_tracker *t, const struct alert_list *now,
                       int64_t now_mono, int64_t now_wall);
/* Moves up to max queued transitions into out (oldest first); returns how
 * many. */
size_t alerttrack_drain(struct alert_tracker *t, struct alert_transition *out, size_t max);
/* Worse/better/steady from the value history over the last window_ms
 * (higher is worse, the health rules' convention); unknown for
 * non-numeric alerts or too few samples. Pure. */
enum alert_trend alerttrack_trend(const struct alert_track *a, int64_t window_ms);
const char *alerttrack_trend_name(enum alert_trend tr);   /* "worse", ... "" */
/* Number of active (unresolved: pending, firing, unknown) alerts. */
size_t alerttrack_active(const struct alert_tracker *t);
/* The fingerprint of (environment, source, metric, subject) as above. */
void alerttrack_fingerprint(const char *environment, const char *source, const char *metric,
                            const char *subject, char out[ALERT_FP_LEN]);
const char *alert_state_name(enum alert_state s);       /* "pending", "firing", ... */
const char *alert_tr_kind_name(enum alert_tr_kind k);   /* "fired", "severity", ... */

#endif
