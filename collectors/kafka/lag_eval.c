/*
 * lag_eval: consumer-lag status, lag in seconds and trend. Pure; see
 * lag_eval.h. Any thread may call anything here on data it owns or copied.
 *
 * Status (Burrow's consumer lag evaluation rules, Burrow's evaluator). Per partition we keep the
 * last `intervals` commits, each with the head known when it was appended
 * and the lag then (clamped at 0), plus the last `intervals` head
 * observations. The rules, in Burrow's order, first match wins:
 *
 *   1. fewer commits than min_complete x intervals: unknown (Burrow says OK,
 *      "not enough data"; we say so instead). We also need two commits,
 *      because a one-commit window spans 0 ms and rule 3 would call any
 *      later moment a stop;
 *   2. current lag (newest head - newest commit) <= allowed_lag: ok;
 *   3. stop: now - last commit > last commit - first commit (silent longer
 *      than the window spans), unless some recorded head is <= the last
 *      committed offset (it was caught up lately);
 *   4. rewind: some offset[i] < offset[i-1] and no later commit in the
 *      window reached offset[i-1] again;
 *   5. only if no commit in the window had lag <= allowed_lag ("lag zero at
 *      any point" means ok): stall when every committed offset is the same,
 *      warn when lag never decreased from one commit to the next;
 *   6. ok.
 *
 * Group: the worst partition (enum order), with stop, stall and rewind
 * reported as err; total lag is the sum, max lag the largest, complete the
 * fraction of partitions with a full window.
 *
 * Commit times. Burrow reads commits (with their timestamps) from
 * __consumer_offsets. A poller that only sees the committed offset cannot
 * tell "committed the same offset again" (stall) from "did not commit"
 * (stop). It should call lag_window_push() when the offset changed or when
 * it otherwise knows the consumer committed (for example an active member
 * owns the partition), and lag_window_head() otherwise. Pushing on every
 * poll turns every stop into a stall; pushing only on change turns every
 * stall into a stop after one window.
 *
 * Lag in seconds (§3.2, kafka-lag-exporter). Per topic partition a table of
 * (head offset, time) points, with the same flat-line compression (a run of
 * equal offsets keeps its first and newest point) and FIFO eviction. Where
 * the exporter rejects a head that went backwards, we restart the table
 * from it (the old history describes a log that no longer exists). The
 * lookup interpolates between the two points around the committed offset,
 * but never extrapolates: a position older than the table, or inside a gap
 * wider than max_gap_ms (no polls), is unknown, with the lower bound we do
 * know. Only pairs with rising offsets are interpolated, so there is no
 * division by zero on a flat line, and lag 0 is exactly 0 s.
 *
 * Storage. Times (and table offsets) are kept as uint32 deltas from the
 * oldest entry held, rebased when it leaves. An entry that would not fit
 * (a window or table spanning more than 49.7 days, a table spanning more
 * than 2^32 messages) first pushes out the oldest entries until it does:
 * the history gets shorter, the verdicts stay exact for what is left.
 */
#include "collectors/kafka/lag_eval.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/ring.h"

const char *lag_status_name(enum lag_status s)
{
        switch (s) {
        case LAG_OK:
                return "ok";
        case LAG_WARN:
                return "warn";
        case LAG_ERR:
                return "err";
        case LAG_STOP:
                return "stop";
        case LAG_STALL:
                return "stall";
        case LAG_REWIND:
                return "rewind";
        case LAG_UNKNOWN:
        default:
                return "unknown";
        }
}

void lag_cfg_default(struct lag_cfg *c)
{
        c->intervals = 10;
        c->min_distance_ms = 1000;
        c->allowed_lag = 0;
        c->min_complete = 0.5;
}

/* ---- Window ----------------------------------------------------------------- */

void lag_window_init(struct lag_window *w, const struct lag_cfg *cfg)
{
        memset(w, 0, sizeof *w);
        if (cfg)
                w->cfg = *cfg;
        else
                lag_cfg_default(&w->cfg);
        if (w->cfg.intervals < 2)
                w->cfg.intervals = 2;
        if (w->cfg.intervals > LAG_WINDOW_MAX)
                w->cfg.intervals = LAG_WINDOW_MAX;
}

static size_t lag_window_cap(const struct lag_window *w)
{
        return (size_t)w->cfg.intervals;
}

size_t lag_window_len(const struct lag_window *w)
{
        return w->s_n;
}

/* Slot of the i-th oldest commit held. */
static size_t lag_window_slot(const struct lag_window *w, size_t i)
{
        size_t cap = lag_window_cap(w);

        return (w->s_next + cap - w->s_n + i) % cap;
}

static int64_t lag_of(int64_t hwm, int64_t offset)
{
        return hwm > offset ? hwm - offset : 0;
}

struct lag_sample lag_window_at(const struct lag_window *w, size_t i)
{
        size_t k = lag_window_slot(w, i);

        return (struct lag_sample){ w->base_ms + w->s_dt[k], w->s_off[k], w->s_hwm[k],
                                    lag_of(w->s_hwm[k], w->s_off[k]) };
}

/* Drops the oldest commit; the next one becomes the time base. */
static void lag_window_drop_oldest(struct lag_window *w)
{
        uint32_t d;

        w->s_n--;
        if (w->s_n == 0)
                return;
        d = w->s_dt[lag_window_slot(w, 0)];
        w->base_ms += d;
        for (size_t i = 0; i < w->s_n; i++)
                w->s_dt[lag_window_slot(w, i)] -= d;
}

bool lag_window_head(struct lag_window *w, int64_t hwm)
{
        size_t cap = lag_window_cap(w);

        if (hwm < 0)
                return false;
        w->head_hwm[w->h_next] = hwm;
        w->h_next = (uint8_t)((w->h_next + 1) % cap);
        if (w->h_n < cap)
                w->h_n++;
        return true;
}

bool lag_window_push(struct lag_window *w, int64_t ts_ms, int64_t offset, int64_t hwm)
{
        size_t cap = lag_window_cap(w), k;
        int64_t last_ts = w->s_n ? lag_window_at(w, w->s_n - 1).ts_ms : 0;

        if (offset < 0 || hwm < 0 || (w->s_n && ts_ms < last_ts))
                return false;
        lag_window_head(w, hwm);
        if (w->s_n && ts_ms - last_ts < w->cfg.min_distance_ms) {
                /* Burrow's min-distance: replace, keep the older time, so
                 * fast committers do not shrink the window. */
                k = lag_window_slot(w, w->s_n - 1);
                w->s_off[k] = offset;
                w->s_hwm[k] = hwm;
                return true;
        }
        if (w->s_n == cap)
                lag_window_drop_oldest(w);
        while (w->s_n && ts_ms - w->base_ms > (int64_t)UINT32_MAX)
                lag_window_drop_oldest(w);
        if (w->s_n == 0)
                w->base_ms = ts_ms;
        k = w->s_next;
        w->s_off[k] = offset;
        w->s_hwm[k] = hwm;
        w->s_dt[k] = (uint32_t)(ts_ms - w->base_ms);
        w->s_next = (uint8_t)((w->s_next + 1) % cap);
        w->s_n++;
        return true;
}

int64_t lag_window_current_lag(const struct lag_window *w)
{
        size_t cap = lag_window_cap(w);

        if (w->s_n == 0 || w->h_n == 0)
                return -1;
        return lag_of(w->head_hwm[(w->h_next + cap - 1) % cap],
                      w->s_off[lag_window_slot(w, w->s_n - 1)]);
}

double lag_window_complete(const struct lag_window *w)
{
        return (double)w->s_n / (double)w->cfg.intervals;
}

/* Some recorded head at or below the last committed offset. */
static bool lag_recent_zero(const struct lag_window *w, int64_t last_offset)
{
        for (size_t i = 0; i < w->h_n; i++)
                if (w->head_hwm[i] <= last_offset)
                        return true;
        return false;
}

static bool lag_offsets_rewound(const struct lag_window *w)
{
        size_t n = w->s_n;

        for (size_t i = 1; i < n; i++) {
                int64_t prev = w->s_off[lag_window_slot(w, i - 1)];
                bool reached = false;

                if (w->s_off[lag_window_slot(w, i)] >= prev)
                        continue;
                for (size_t j = i + 1; j < n && !reached; j++)
                        reached = w->s_off[lag_window_slot(w, j)] >= prev;
                if (!reached)
                        return true;
        }
        return false;
}

enum lag_status lag_eval_partition(const struct lag_window *w, int64_t now_ms)
{
        size_t n = w->s_n;
        struct lag_sample first, last, prev = { 0 };
        bool lag_ever_ok = false, same = true, nondecreasing = true;

        if (n < 2 || lag_window_complete(w) < w->cfg.min_complete)
                return LAG_UNKNOWN;
        if (lag_window_current_lag(w) <= w->cfg.allowed_lag)
                return LAG_OK;
        first = lag_window_at(w, 0);
        last = lag_window_at(w, n - 1);
        if (now_ms - last.ts_ms > last.ts_ms - first.ts_ms &&
            !lag_recent_zero(w, last.offset))
                return LAG_STOP;
        if (lag_offsets_rewound(w))
                return LAG_REWIND;
        for (size_t i = 0; i < n; i++) {
                struct lag_sample s = lag_window_at(w, i);

                if (s.lag <= w->cfg.allowed_lag)
                        lag_ever_ok = true;
                if (i > 0) {
                        if (s.offset != prev.offset)
                                same = false;
                        if (s.lag < prev.lag)
                                nondecreasing = false;
                }
                prev = s;
        }
        if (!lag_ever_ok) {
                if (same)
                        return LAG_STALL;
                if (nondecreasing)
                        return LAG_WARN;
        }
        return LAG_OK;
}

enum lag_status lag_eval_group(const struct lag_window *const *ws, size_t n,
                               int64_t now_ms, enum lag_status *each,
                               struct lag_group_result *out)
{
        enum lag_status worst = LAG_UNKNOWN;
        int64_t max_lag = -1;
        size_t full = 0;

        memset(out, 0, sizeof *out);
        out->maxlag = SIZE_MAX;
        out->worst = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
                enum lag_status st = lag_eval_partition(ws[i], now_ms);
                int64_t lag = lag_window_current_lag(ws[i]);

                if (each)
                        each[i] = st;
                if (st == LAG_UNKNOWN)
                        out->n_unknown++;
                if (st > worst) {
                        worst = st;
                        out->worst = i;
                }
                if (lag >= 0) {
                        out->total_lag += lag;
                        if (lag > max_lag) {
                                max_lag = lag;
                                out->maxlag = i;
                        }
                }
                if (lag_window_len(ws[i]) == lag_window_cap(ws[i]))
                        full++;
        }
        out->status = worst > LAG_ERR ? LAG_ERR : worst;
        out->complete = n ? (double)full / (double)n : 0;
        return out->status;
}

/* ---- Lag in seconds --------------------------------------------------------- */

void lag_table_init(struct lag_table *t)
{
        memset(t, 0, sizeof *t);
}

size_t lag_table_len(const struct lag_table *t)
{
        return t->n;
}

static size_t lag_table_slot(const struct lag_table *t, size_t i)
{
        return (t->first + i) % LAG_TABLE_CAP;
}

struct lag_point lag_table_at(const struct lag_table *t, size_t i)
{
        size_t k = lag_table_slot(t, i);

        return (struct lag_point){ t->base_offset + t->d_off[k], t->base_ms + t->d_ms[k] };
}

/* Drops the oldest point; the next one becomes the base. */
static void lag_table_drop_oldest(struct lag_table *t)
{
        uint32_t doff, dms;

        t->first = (uint8_t)((t->first + 1) % LAG_TABLE_CAP);
        t->n--;
        if (t->n == 0)
                return;
        doff = t->d_off[t->first];
        dms = t->d_ms[t->first];
        t->base_offset += doff;
        t->base_ms += dms;
        for (size_t i = 0; i < t->n; i++) {
                t->d_off[lag_table_slot(t, i)] -= doff;
                t->d_ms[lag_table_slot(t, i)] -= dms;
        }
}

/* Offsets and times are not below the newest point's. */
static void lag_table_append(struct lag_table *t, int64_t offset, int64_t ts_ms)
{
        size_t k;

        if (t->n == LAG_TABLE_CAP)
                lag_table_drop_oldest(t);
        while (t->n && (offset - t->base_offset > (int64_t)UINT32_MAX ||
                        ts_ms - t->base_ms > (int64_t)UINT32_MAX))
                lag_table_drop_oldest(t);
        if (t->n == 0) {
                t->first = 0;
                t->base_offset = offset;
                t->base_ms = ts_ms;
        }
        k = lag_table_slot(t, t->n);
        t->d_off[k] = (uint32_t)(offset - t->base_offset);
        t->d_ms[k] = (uint32_t)(ts_ms - t->base_ms);
        t->n++;
}

enum lag_add lag_table_add(struct lag_table *t, int64_t offset, int64_t ts_ms)
{
        struct lag_point last;

        if (offset < 0)
                return LAG_ADD_REJECTED;
        if (t->n == 0) {
                lag_table_append(t, offset, ts_ms);
                return LAG_ADD_APPENDED;
        }
        last = lag_table_at(t, t->n - 1);
        if (ts_ms <= last.ts_ms)
                return LAG_ADD_REJECTED;
        if (offset < last.offset) {
                t->first = 0;
                t->n = 0;
                t->resets++;
                lag_table_append(t, offset, ts_ms);
                return LAG_ADD_RESET;
        }
        if (t->n >= 2 && offset == last.offset && lag_table_at(t, t->n - 2).offset == offset) {
                /* Flat run: the newest point moves forward in time (taken
                 * out and appended again, so the time delta is checked). */
                t->n--;
                lag_table_append(t, offset, ts_ms);
                return LAG_ADD_REPLACED;
        }
        lag_table_append(t, offset, ts_ms);
        return LAG_ADD_APPENDED;
}

static double lag_age_s(int64_t now_ms, double then_ms)
{
        double d = ((double)now_ms - then_ms) / 1000.0;

        return d > 0 ? d : 0;
}

struct lag_seconds lag_seconds_eval(const struct lag_table *t, int64_t committed,
                                    int64_t now_ms, int64_t max_gap_ms)
{
        struct lag_seconds r = { false, NAN, NAN, NULL };
        struct lag_point oldest, newest;
        size_t n = t->n;

        if (committed < 0) {
                r.why = "no committed offset";
                return r;
        }
        if (n == 0) {
                r.why = "no head history yet";
                return r;
        }
        newest = lag_table_at(t, n - 1);
        if (committed >= newest.offset) {
                r.known = true;
                r.seconds = 0;
                return r;
        }
        if (n < 2) {
                r.why = "too few head points";
                return r;
        }
        oldest = lag_table_at(t, 0);
        if (committed < oldest.offset) {
                r.why = "position older than the head history";
                r.at_least = lag_age_s(now_ms, (double)oldest.ts_ms);
                return r;
        }
        /* Newest pair first: within a flat run the newest time wins. */
        for (size_t i = n - 1; i >= 1; i--) {
                struct lag_point L = lag_table_at(t, i - 1), R = lag_table_at(t, i);
                double at;

                if (!(L.offset <= committed && committed < R.offset))
                        continue;
                if (committed > L.offset && max_gap_ms > 0 && R.ts_ms - L.ts_ms > max_gap_ms) {
                        r.why = "no head data around the position (polling gap)";
                        r.at_least = lag_age_s(now_ms, (double)R.ts_ms);
                        return r;
                }
                at = (double)R.ts_ms - (double)(R.offset - committed) *
                     (double)(R.ts_ms - L.ts_ms) / (double)(R.offset - L.offset);
                r.known = true;
                r.seconds = lag_age_s(now_ms, at);
                return r;
        }
        /* Not reached: oldest <= committed < newest and offsets never fall,
         * so some pair brackets it. */
        r.why = "no bracketing points";
        return r;
}

/* ---- Trend -------------------------------------------------------------------- */

static struct lag_trend lag_trend_make(double rate, double span_s, double cur)
{
        struct lag_trend t = { rate, LAG_DIR_STEADY, NAN, 0 };

        if (fabs(rate) * span_s >= 0.5)
                t.dir = rate < 0 ? LAG_DIR_CATCHING_UP : LAG_DIR_FALLING_BEHIND;
        if (cur == 0)
                t.eta_s = 0;
        else if (t.dir == LAG_DIR_CATCHING_UP && cur > 0)
                t.eta_s = cur / -rate;
        if (t.dir == LAG_DIR_FALLING_BEHIND)
                t.behind_rate = rate;
        return t;
}

/* Seconds between the oldest sample ring_rate() would use and the newest. */
static double lag_ring_span_s(const struct ring *r, int64_t window_ms)
{
        int64_t newest;
        size_t first;

        if (r->n < 2)
                return 0;
        newest = ring_time(r, r->n - 1);
        first = r->n;
        while (first > 0 && newest - ring_time(r, first - 1) <= window_ms)
                first--;
        if (first >= r->n)
                return 0;
        return (double)(newest - ring_time(r, first)) / 1000.0;
}

struct lag_trend lag_trend_ring(const struct ring *lag, int64_t window_ms)
{
        return lag_trend_make(ring_rate(lag, window_ms), lag_ring_span_s(lag, window_ms),
                              ring_last(lag));
}

struct lag_trend lag_trend_window(const struct lag_window *w, int64_t window_ms)
{
        struct ring r;
        int64_t cur = lag_window_current_lag(w);

        ring_init(&r);
        for (size_t i = 0; i < w->s_n; i++) {
                struct lag_sample s = lag_window_at(w, i);

                ring_push(&r, s.ts_ms, (double)s.lag);
        }
        return lag_trend_make(ring_rate(&r, window_ms), lag_ring_span_s(&r, window_ms),
                              cur >= 0 ? (double)cur : NAN);
}
