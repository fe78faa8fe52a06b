/*
 * lag_eval: pure consumer-lag evaluation, usable for any "consumer position
 * behind a producer head" pair (Kafka groups today, replication slots or
 * stream checkpoints later). Three independent pieces:
 *
 *   - a Burrow-style status per partition over a sliding window of
 *     commits, and its group roll-up (Burrow's consumer lag evaluation rules);
 *   - lag in seconds from a partition's (head offset, time) history,
 *     interpolated as kafka-lag-exporter does (§3.2) but saying "unknown"
 *     instead of guessing;
 *   - the trend: lag change per second and the time to catch up.
 *
 * Everything is plain data with fixed capacity (no allocation; copying a
 * struct copies the history, as with struct ring) and has no locks: the
 * owner (one collector thread) writes, readers get copies. Times are
 * milliseconds on any clock, as long as the caller uses the same one for
 * samples and `now`.
 *
 * A collector keeps one table per partition and one window per group and
 * partition, 10,000s of them, so both are packed: times are 32-bit offsets
 * from a per-struct base (the oldest entry), table offsets likewise. The
 * accessors return values, not pointers into the storage. A history that
 * would span more than 2^32 ms (49.7 days) or, for a table, 2^32 messages
 * drops its oldest entries to fit (see lag_eval.c).
 */
#ifndef LO_COLLECTORS_KAFKA_LAG_EVAL_H
#define LO_COLLECTORS_KAFKA_LAG_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ring.h"

/* Ordered as Burrow's constants (NOTFOUND 0 ... REWIND 6): a larger value
 * is worse, which is what the group roll-up uses. */
enum lag_status {
        LAG_UNKNOWN = 0,        /* not enough samples for a verdict */
        LAG_OK,
        LAG_WARN,               /* lag grew across the whole window */
        LAG_ERR,                /* group only: some partition is stop/stall/rewind */
        LAG_STOP,               /* no commit for longer than the window spans */
        LAG_STALL,              /* committing, but the offset does not move */
        LAG_REWIND,             /* the committed offset went backwards */
};

/* "ok", "warn", "err", "stop", "stall", "rewind", "unknown". */
const char *lag_status_name(enum lag_status s);

#define LAG_WINDOW_MAX 16       /* largest window, in commits */

struct lag_cfg {
        int     intervals;      /* window size in commits, 2..LAG_WINDOW_MAX (Burrow: 10) */
        int64_t min_distance_ms;/* a commit closer than this to the previous one replaces
                                   it, keeping the older time (Burrow: 1 s) */
        int64_t allowed_lag;    /* messages; rules apply only above it (Burrow: 0) */
        double  min_complete;   /* fraction of the window that must be filled before a
                                   verdict; below it the status is unknown (0.5 here) */
};

/* Fills c with the defaults above. */
void lag_cfg_default(struct lag_cfg *c);

struct lag_sample {
        int64_t ts_ms;          /* when the commit was made (or first seen) */
        int64_t offset;         /* committed offset */
        int64_t hwm;            /* head (high watermark) known at that time */
        int64_t lag;            /* hwm - offset, clamped at 0 */
};

/* Per-partition history: the last `intervals` commits, and the last
 * `intervals` head observations (Burrow keeps broker offsets apart from
 * commits, so "was it caught up lately" does not depend on commit timing).
 * Packed (496 bytes, was 680): a commit's time is s_dt ms after
 * base_ms, the time of the oldest commit held, and its lag is derived. */
struct lag_window {
        struct lag_cfg cfg;                     /* copied at init */
        int64_t base_ms;                        /* time of the oldest commit held */
        int64_t s_off[LAG_WINDOW_MAX];          /* ring of commits: committed offset */
        int64_t s_hwm[LAG_WINDOW_MAX];          /*   head known at that time */
        int64_t head_hwm[LAG_WINDOW_MAX];       /* ring of observed heads */
        uint32_t s_dt[LAG_WINDOW_MAX];          /*   ms after base_ms */
        uint8_t s_next, s_n;                    /* next write, count */
        uint8_t h_next, h_n;
};

/* cfg NULL means defaults; intervals is clamped to 2..LAG_WINDOW_MAX. */
void lag_window_init(struct lag_window *w, const struct lag_cfg *cfg);

/* A commit observed at ts_ms: `offset` committed while the head was `hwm`.
 * Also records hwm as a head observation. Use it when the group committed
 * (for a poller without commit times: when the offset changed, or when it
 * has other evidence of a commit such as an active member; see the design
 * note in lag_eval.c). Returns false, recording nothing, when offset or
 * hwm is negative (unknown) or ts_ms is older than the newest commit. */
bool lag_window_push(struct lag_window *w, int64_t ts_ms, int64_t offset, int64_t hwm);
/* A head observation alone (poll without a new commit). False if hwm < 0. */
bool lag_window_head(struct lag_window *w, int64_t hwm);

size_t lag_window_len(const struct lag_window *w);              /* commits held */
/* i = 0 is the oldest commit held; caller keeps i < lag_window_len(w). */
struct lag_sample lag_window_at(const struct lag_window *w, size_t i);
/* Newest head - newest committed offset, clamped at 0; -1 when unknown. */
int64_t lag_window_current_lag(const struct lag_window *w);
/* Commits held / intervals (Burrow's "complete"). */
double lag_window_complete(const struct lag_window *w);

/* Burrow's partition rules in Burrow's order (see lag_eval.c). */
enum lag_status lag_eval_partition(const struct lag_window *w, int64_t now_ms);

struct lag_group_result {
        enum lag_status status; /* worst partition; stop/stall/rewind become err;
                                   unknown when no partition has a verdict */
        int64_t total_lag;      /* sum of known current lags */
        size_t  maxlag;         /* index of the highest current lag; SIZE_MAX if none known */
        size_t  worst;          /* index of the first partition with the worst status;
                                   SIZE_MAX when all are unknown */
        double  complete;       /* fraction of partitions whose window is full (0 if n = 0) */
        size_t  n_unknown;      /* partitions without a verdict */
};

/* Evaluates n partitions (ws[i] must not be NULL). each (may be NULL) gets
 * n per-partition statuses. Returns out->status. */
enum lag_status lag_eval_group(const struct lag_window *const *ws, size_t n,
                               int64_t now_ms, enum lag_status *each,
                               struct lag_group_result *out);

/* ---- Lag in seconds --------------------------------------------------------- */

#define LAG_TABLE_CAP 60        /* points (kafka-lag-exporter's memory default) */

struct lag_point {
        int64_t offset;         /* head offset */
        int64_t ts_ms;          /* when it was read */
};

/* One per topic partition (shared by every group reading it). Packed (504
 * bytes; 60 lag_points would be 960): point i is (base_offset + d_off,
 * base_ms + d_ms), the base being the oldest point held. Offsets never
 * fall inside a table (a fall restarts it), so the deltas are unsigned. */
struct lag_table {
        int64_t  base_offset, base_ms;
        uint32_t d_off[LAG_TABLE_CAP];          /* ring, oldest at [first] */
        uint32_t d_ms[LAG_TABLE_CAP];
        uint8_t  first, n;
        uint32_t resets;        /* times the head went backwards */
};

enum lag_add {
        LAG_ADD_APPENDED,       /* a new point */
        LAG_ADD_REPLACED,       /* flat line: the newest point moved forward in time */
        LAG_ADD_REJECTED,       /* not newer than the newest point, or offset < 0 */
        LAG_ADD_RESET,          /* head went backwards (truncation, recreated topic):
                                   history dropped, table restarted from this point */
};

void lag_table_init(struct lag_table *t);
enum lag_add lag_table_add(struct lag_table *t, int64_t offset, int64_t ts_ms);
size_t lag_table_len(const struct lag_table *t);
/* i = 0 is the oldest point; caller keeps i < lag_table_len(t). */
struct lag_point lag_table_at(const struct lag_table *t, size_t i);

struct lag_seconds {
        bool    known;          /* false: no estimate; seconds is NAN, never 0 */
        double  seconds;        /* age of the consumer's position, >= 0 */
        double  at_least;       /* when unknown: a lower bound in seconds if one is known
                                   (position older than the history, or inside a gap), else NAN */
        const char *why;        /* static reason when unknown, else NULL */
};

/* How far behind, in time, a consumer at `committed` is at now_ms: the time
 * since the head last stood at `committed`, interpolated linearly between
 * the two points around it. Zero lag (committed >= newest head) is exactly
 * 0 s. Unknown, with a reason, when: no commit (committed < 0), fewer than
 * two points, the position is older than the oldest point, or the two
 * points around it are more than max_gap_ms apart (no data in between, so
 * a straight line would be a guess; max_gap_ms <= 0 disables the check). */
struct lag_seconds lag_seconds_eval(const struct lag_table *t, int64_t committed,
                                    int64_t now_ms, int64_t max_gap_ms);

/* ---- Trend -------------------------------------------------------------------- */

enum lag_dir {
        LAG_DIR_STEADY = 0,     /* change under half a message across the window */
        LAG_DIR_CATCHING_UP,
        LAG_DIR_FALLING_BEHIND,
};

struct lag_trend {
        double  rate;           /* lag change in messages/s (least squares); + = growing */
        enum lag_dir dir;
        double  eta_s;          /* catching up: seconds until lag 0 at this rate; 0 when
                                   lag is 0; NAN otherwise (never, at this rate) */
        double  behind_rate;    /* falling behind: messages/s added to the lag, else 0 */
};

/* From a lag history (values are lags, the newest is the current lag) over
 * samples no older than window_ms before the newest (ring_rate). */
struct lag_trend lag_trend_ring(const struct ring *lag, int64_t window_ms);
/* The same from a window's commits (ts_ms, lag). */
struct lag_trend lag_trend_window(const struct lag_window *w, int64_t window_ms);

#endif
