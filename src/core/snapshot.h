/*
 * snapshot: what one poll of one source produced. Built privately by the
 * collector thread, then published and never written again; readers (the UI
 * thread, the status command) hold references. Refcounted with C11 atomics.
 */
#ifndef LO_SRC_SNAPSHOT_H
#define LO_SRC_SNAPSHOT_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/ring.h"

struct source_cfg;

enum coll_status {
        COLL_UNKNOWN = 0,       /* not polled yet */
        COLL_OK,
        COLL_DEGRADED,          /* answered, but something is missing or wrong */
        COLL_DOWN,              /* could not be reached or queried */
};

const char *coll_status_name(enum coll_status s);      /* "ok", "degraded", ... */

struct snapshot {
        atomic_int refs;
        const struct source_cfg *src;   /* borrowed; config outlives snapshots */
        enum coll_status status;
        char     error[256];            /* "" when none; never holds a secret */
        int64_t  collected_at;          /* wall ms when the poll finished; 0 = never */
        int64_t  collected_mono;        /* monotonic ms of the same moment */
        int64_t  last_ok_at;            /* wall ms of the last ok/degraded poll; 0 = never */
        int64_t  poll_ms;               /* how long the poll took */
        uint64_t seq;                   /* 1 for the first poll, +1 each */
        int      failures;              /* consecutive failed polls */
        int64_t  next_poll_ms;          /* ms until the next poll is due (backoff shows here) */
        double   key_value;             /* the source's key metric (ops->key_metric), NAN if none */
        struct ring key_hist;           /* history of key_value */
        void    *data;                  /* kind data, owned; freed with src->ops->data_free; may be NULL */
};

/* Returns a zeroed snapshot with one reference, owned by the caller. */
struct snapshot *snapshot_new(const struct source_cfg *src);
/* Adds a reference (NULL-safe); returns s. Any thread. */
struct snapshot *snapshot_ref(struct snapshot *s);
/* Drops a reference and frees on the last (NULL-safe). Any thread. */
void snapshot_unref(struct snapshot *s);

/* Age in ms at monotonic time `now_mono`; -1 when never collected. */
int64_t snapshot_age_ms(const struct snapshot *s, int64_t now_mono);
/* True when older than 2 x the expected gap between polls: the source's
 * interval, or the backoff delay while it fails (the UI marks it stale). */
int snapshot_is_stale(const struct snapshot *s, int64_t now_mono);

#endif
