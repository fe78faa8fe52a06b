/*
 * test_lag_eval: consumer-lag evaluation on hand-built sequences. Each
 * of Burrow's consumer lag evaluation rules with its exact status, the boundaries
 * at the window edges (stop at exactly the span, a lag-zero commit or a
 * rewind sliding out of the window, the head ring forgetting a caught-up
 * head), the order of the rules, the group roll-up; lag in seconds (as kafka-lag-exporter interpolates it)
 * on a known produced timeline with exact values, flat line, idle gap,
 * zero lag, single point, head reset; and the trend. Pure.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/kafka/lag_eval.h"
#include "core/ring.h"

/* Window of 5 commits, no min-distance, full window required. */
static void cfg5(struct lag_window *w, double min_complete)
{
        struct lag_cfg c;

        lag_cfg_default(&c);
        c.intervals = 5;
        c.min_distance_ms = 0;
        c.min_complete = min_complete;
        lag_window_init(w, &c);
}

/* Pushes n commits at ts[i] with offsets off[i] and heads hwm[i]. */
static void push_all(struct lag_window *w, size_t n, const int64_t *ts,
                     const int64_t *off, const int64_t *hwm)
{
        for (size_t i = 0; i < n; i++)
                assert_true(lag_window_push(w, ts[i], off[i], hwm[i]));
}

#define N5 5
static const int64_t T5[N5] = { 0, 10000, 20000, 30000, 40000 };

static void test_status_names(void **state)
{
        (void)state;
        assert_string_equal(lag_status_name(LAG_OK), "ok");
        assert_string_equal(lag_status_name(LAG_WARN), "warn");
        assert_string_equal(lag_status_name(LAG_ERR), "err");
        assert_string_equal(lag_status_name(LAG_STOP), "stop");
        assert_string_equal(lag_status_name(LAG_STALL), "stall");
        assert_string_equal(lag_status_name(LAG_REWIND), "rewind");
        assert_string_equal(lag_status_name(LAG_UNKNOWN), "unknown");
        /* Worse is larger, as Burrow's constants. */
        assert_true(LAG_UNKNOWN < LAG_OK && LAG_OK < LAG_WARN && LAG_WARN < LAG_ERR &&
                    LAG_ERR < LAG_STOP && LAG_STOP < LAG_STALL && LAG_STALL < LAG_REWIND);
}

static void test_window_basics(void **state)
{
        struct lag_window w;
        struct lag_cfg c;

        (void)state;
        lag_window_init(&w, NULL);
        assert_int_equal(w.cfg.intervals, 10);
        assert_true(w.cfg.min_distance_ms == 1000);
        assert_true(w.cfg.allowed_lag == 0);
        assert_true(w.cfg.min_complete == 0.5);
        assert_int_equal(lag_window_len(&w), 0);
        assert_true(lag_window_current_lag(&w) == -1);
        assert_int_equal(lag_eval_partition(&w, 0), LAG_UNKNOWN);

        lag_cfg_default(&c);
        c.intervals = 0;
        lag_window_init(&w, &c);
        assert_int_equal(w.cfg.intervals, 2);
        c.intervals = 99;
        lag_window_init(&w, &c);
        assert_int_equal(w.cfg.intervals, LAG_WINDOW_MAX);

        cfg5(&w, 1.0);
        /* Unknown inputs and time going backwards are refused. */
        assert_false(lag_window_push(&w, 0, -1001, 10));
        assert_false(lag_window_push(&w, 0, 5, -1));
        assert_false(lag_window_head(&w, -1));
        assert_int_equal(lag_window_len(&w), 0);
        assert_true(lag_window_push(&w, 1000, 100, 150));
        assert_false(lag_window_push(&w, 999, 101, 150));
        /* Same time is allowed (min-distance 0 here). */
        assert_true(lag_window_push(&w, 1000, 101, 150));
        assert_int_equal(lag_window_len(&w), 2);
        /* Lag is computed at push and clamped at 0. */
        assert_true(lag_window_push(&w, 2000, 160, 150));
        assert_true(lag_window_at(&w, 2).lag == 0);
        assert_true(lag_window_at(&w, 0).lag == 50);
        assert_true(lag_window_current_lag(&w) == 0);
        /* A head alone moves the current lag. */
        assert_true(lag_window_head(&w, 175));
        assert_true(lag_window_current_lag(&w) == 15);
        /* Wrap: 7 commits in a window of 5 keep the newest 5, in order. */
        for (int i = 3; i < 7; i++)
                assert_true(lag_window_push(&w, 1000 * (i + 1), 200 + i, 300));
        assert_int_equal(lag_window_len(&w), 5);
        assert_true(lag_window_at(&w, 0).offset == 160);
        assert_true(lag_window_at(&w, 1).offset == 203);
        assert_true(lag_window_at(&w, 4).offset == 206);
        assert_true(lag_window_at(&w, 4).ts_ms == 7000);
        assert_true(lag_window_complete(&w) == 1.0);
}

static void test_min_distance(void **state)
{
        struct lag_window w;
        struct lag_cfg c;

        (void)state;
        lag_cfg_default(&c);            /* min-distance 1 s */
        c.intervals = 5;
        lag_window_init(&w, &c);
        assert_true(lag_window_push(&w, 10000, 100, 200));
        /* 999 ms later: replaces the commit, keeps the older time. */
        assert_true(lag_window_push(&w, 10999, 120, 210));
        assert_int_equal(lag_window_len(&w), 1);
        assert_true(lag_window_at(&w, 0).ts_ms == 10000);
        assert_true(lag_window_at(&w, 0).offset == 120);
        assert_true(lag_window_at(&w, 0).lag == 90);
        /* Measured from the kept time: 11000 is exactly 1 s on, a new entry. */
        assert_true(lag_window_push(&w, 11000, 130, 220));
        assert_int_equal(lag_window_len(&w), 2);
        assert_true(lag_window_at(&w, 1).ts_ms == 11000);
        assert_true(lag_window_complete(&w) == 0.4);
}

static void test_completeness(void **state)
{
        static const int64_t off[N5] = { 100, 100, 100, 100, 100 };
        static const int64_t hwm[N5] = { 150, 160, 170, 180, 190 };
        struct lag_window w;

        (void)state;
        /* A stalled sequence, judged only once 3 of 5 commits are in. */
        cfg5(&w, 0.6);
        push_all(&w, 2, T5, off, hwm);
        assert_int_equal(lag_eval_partition(&w, 10000), LAG_UNKNOWN);
        assert_true(lag_window_push(&w, T5[2], off[2], hwm[2]));
        assert_int_equal(lag_eval_partition(&w, 20000), LAG_STALL);

        /* Unknown comes first: an incomplete window with zero lag too. */
        cfg5(&w, 0.6);
        assert_true(lag_window_push(&w, 0, 100, 100));
        assert_int_equal(lag_eval_partition(&w, 0), LAG_UNKNOWN);

        /* min_complete 0 (Burrow's own default) still needs two commits:
         * one commit spans 0 ms and would read as stopped at once. */
        cfg5(&w, 0.0);
        assert_true(lag_window_push(&w, 0, 100, 150));
        assert_int_equal(lag_eval_partition(&w, 1), LAG_UNKNOWN);
        assert_true(lag_window_push(&w, 10000, 100, 160));
        assert_int_equal(lag_eval_partition(&w, 10000), LAG_STALL);
        assert_int_equal(lag_eval_partition(&w, 20001), LAG_STOP);
}

static void test_ok_current_lag(void **state)
{
        static const int64_t off[N5] = { 100, 100, 100, 100, 100 };
        static const int64_t hwm[N5] = { 150, 160, 170, 180, 190 };
        struct lag_window w;
        struct lag_cfg c;

        (void)state;
        /* Stalled and stopped, but the head came back to the commit: ok
         * (rule 2 comes before all others). */
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, off, hwm);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_STALL);
        assert_true(lag_window_head(&w, 100));
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_OK);
        assert_int_equal(lag_eval_partition(&w, 999999), LAG_OK);

        /* allowed_lag: rules apply only above it. */
        lag_cfg_default(&c);
        c.intervals = 5;
        c.min_distance_ms = 0;
        c.min_complete = 1;
        c.allowed_lag = 90;
        lag_window_init(&w, &c);
        push_all(&w, N5, T5, off, hwm);
        assert_true(lag_window_current_lag(&w) == 90);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_OK);
        assert_true(lag_window_head(&w, 191));
        /* Current lag above allowed, but the commits' lags (50..90) were
         * within it: "lag ok at some point" makes it ok. */
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_OK);
        c.allowed_lag = 49;
        lag_window_init(&w, &c);
        push_all(&w, N5, T5, off, hwm);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_STALL);
}

static void test_stop(void **state)
{
        static const int64_t off[N5] = { 100, 110, 120, 130, 140 };
        static const int64_t hwm[N5] = { 200, 205, 210, 215, 220 };    /* lag 100..80 */
        struct lag_window w;

        (void)state;
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, off, hwm);
        /* Window spans 40 s; silent for exactly 40 s is not yet a stop. */
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_OK);
        assert_int_equal(lag_eval_partition(&w, 80000), LAG_OK);
        assert_int_equal(lag_eval_partition(&w, 80001), LAG_STOP);

        /* Not a stop while some recorded head is <= the last commit (it
         * was caught up lately): here the first head, 100. */
        static const int64_t hwm0[N5] = { 100, 205, 210, 215, 220 };
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, off, hwm0);
        assert_int_equal(lag_eval_partition(&w, 80001), LAG_OK);
        /* One more head observation pushes that head out of the head ring
         * (5 entries): now it is a stop. */
        assert_true(lag_window_head(&w, 230));
        assert_int_equal(lag_eval_partition(&w, 80001), LAG_STOP);
        assert_int_equal(lag_eval_partition(&w, 80000), LAG_OK);

        /* A head equal to the last commit counts as caught up. */
        static const int64_t hwm_eq[N5] = { 140, 205, 210, 215, 220 };
        struct lag_window w2;
        cfg5(&w2, 1.0);
        push_all(&w2, N5, T5, off, hwm_eq);
        assert_true(lag_window_at(&w2, 0).lag == 40);
        assert_int_equal(lag_eval_partition(&w2, 80001), LAG_OK);

        /* A new commit ends the stop: the window now spans 10..90 s. */
        assert_true(lag_window_push(&w, 90000, 150, 240));
        assert_int_equal(lag_eval_partition(&w, 90000), LAG_OK);
        assert_int_equal(lag_eval_partition(&w, 170000), LAG_OK);
        assert_int_equal(lag_eval_partition(&w, 170001), LAG_STOP);
}

static void test_rewind(void **state)
{
        static const int64_t hwm[N5] = { 300, 300, 300, 300, 300 };
        static const int64_t back[N5] = { 100, 110, 90, 95, 100 };     /* never 110 again */
        static const int64_t back_ok[N5] = { 100, 110, 90, 105, 110 }; /* reaches 110 */
        static const int64_t back_last[N5] = { 100, 110, 120, 130, 125 };
        struct lag_window w;

        (void)state;
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, back, hwm);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_REWIND);

        /* Back to the old offset later in the window: no rewind. The lag
         * went 200,190,210,195,190: decreased somewhere, so ok. */
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, back_ok, hwm);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_OK);

        cfg5(&w, 1.0);
        push_all(&w, N5, T5, back_last, hwm);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_REWIND);

        /* The rewind slides out of the window once the commit before it
         * (110 at 10 s) is no longer held: 90,95,100,101,102. Lag
         * decreased, so ok. */
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, back, hwm);
        assert_true(lag_window_push(&w, 50000, 101, 300));
        assert_int_equal(lag_eval_partition(&w, 50000), LAG_REWIND);   /* 110,90,95,100,101 */
        assert_true(lag_window_push(&w, 60000, 102, 300));
        assert_int_equal(lag_eval_partition(&w, 60000), LAG_OK);

        /* A lag of zero inside the window does not excuse a rewind. */
        static const int64_t hwm_z[N5] = { 100, 300, 300, 300, 300 };
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, back, hwm_z);
        assert_true(lag_window_at(&w, 0).lag == 0);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_REWIND);
}

static void test_stall(void **state)
{
        static const int64_t off[N5] = { 100, 100, 100, 100, 100 };
        static const int64_t hwm[N5] = { 150, 160, 170, 180, 190 };
        static const int64_t hwm_z[N5] = { 100, 160, 170, 180, 190 };
        struct lag_window w;

        (void)state;
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, off, hwm);
        /* Lag grew too, but stall is checked first. */
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_STALL);
        /* Silent past the span: stop comes before stall. */
        assert_int_equal(lag_eval_partition(&w, 80001), LAG_STOP);

        /* Lag zero at the first commit: ok ... */
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, off, hwm_z);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_OK);
        /* ... until that commit leaves the window. */
        assert_true(lag_window_push(&w, 50000, 100, 200));
        assert_int_equal(lag_eval_partition(&w, 50000), LAG_STALL);
}

static void test_warn(void **state)
{
        static const int64_t off[N5] = { 100, 110, 120, 130, 140 };
        static const int64_t up[N5] = { 150, 165, 180, 195, 210 };     /* lag 50..70 */
        static const int64_t flat[N5] = { 150, 160, 170, 180, 190 };   /* lag 50 each */
        static const int64_t dip[N5] = { 150, 165, 175, 195, 210 };    /* 50,55,55,65,70 */
        static const int64_t down[N5] = { 150, 165, 170, 195, 210 };   /* 50,55,50,65,70 */
        struct lag_window w;

        (void)state;
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, off, up);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_WARN);
        /* Non-decreasing includes equal lags. */
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, off, flat);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_WARN);
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, off, dip);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_WARN);
        /* One decrease anywhere: ok. */
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, off, down);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_OK);
        /* Growing lag but caught up at one commit: ok. */
        static const int64_t caught[N5] = { 150, 110, 180, 195, 210 };
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, off, caught);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_OK);
        /* Rewind beats warn. */
        static const int64_t rw[N5] = { 100, 110, 105, 106, 107 };
        static const int64_t rwh[N5] = { 150, 165, 180, 195, 210 };
        cfg5(&w, 1.0);
        push_all(&w, N5, T5, rw, rwh);
        assert_int_equal(lag_eval_partition(&w, 40000), LAG_REWIND);
}

static void test_group(void **state)
{
        static const int64_t mv[N5] = { 100, 110, 120, 130, 140 };
        static const int64_t same[N5] = { 100, 100, 100, 100, 100 };
        static const int64_t down[N5] = { 200, 205, 210, 215, 220 };   /* ok, lag 80 now */
        static const int64_t up[N5] = { 150, 165, 180, 195, 210 };     /* warn, lag 70 */
        static const int64_t grow[N5] = { 150, 160, 170, 180, 190 };   /* stall, lag 90 */
        static const int64_t back[N5] = { 100, 110, 90, 95, 100 };
        static const int64_t h300[N5] = { 300, 300, 300, 300, 300 };   /* rewind, lag 200 */
        struct lag_window ok, warn, stall, unk, rew;
        const struct lag_window *ws[5];
        enum lag_status each[5];
        struct lag_group_result g;

        (void)state;
        cfg5(&ok, 1.0);
        push_all(&ok, N5, T5, mv, down);
        cfg5(&warn, 1.0);
        push_all(&warn, N5, T5, mv, up);
        cfg5(&stall, 1.0);
        push_all(&stall, N5, T5, same, grow);
        cfg5(&unk, 1.0);
        push_all(&unk, 2, T5, mv, down);                /* 2 of 5: unknown, lag 95 */
        cfg5(&rew, 1.0);
        push_all(&rew, N5, T5, back, h300);

        ws[0] = &ok;
        ws[1] = &warn;
        assert_int_equal(lag_eval_group(ws, 2, 40000, each, &g), LAG_WARN);
        assert_int_equal(each[0], LAG_OK);
        assert_int_equal(each[1], LAG_WARN);
        assert_int_equal(g.worst, 1);
        assert_true(g.total_lag == 150);
        assert_int_equal(g.maxlag, 0);
        assert_true(g.complete == 1.0);
        assert_int_equal(g.n_unknown, 0);

        /* Stall is reported as err for the group; unknown does not count
         * as worse than ok; complete = full windows / partitions. */
        ws[0] = &ok;
        ws[1] = &unk;
        ws[2] = &stall;
        ws[3] = &warn;
        assert_int_equal(lag_eval_group(ws, 4, 40000, each, &g), LAG_ERR);
        assert_int_equal(each[1], LAG_UNKNOWN);
        assert_int_equal(each[2], LAG_STALL);
        assert_int_equal(g.worst, 2);
        assert_true(g.total_lag == 80 + 95 + 90 + 70);
        assert_int_equal(g.maxlag, 1);
        assert_true(g.complete == 0.75);
        assert_int_equal(g.n_unknown, 1);

        /* The worst raw status names the partition: rewind over stall. */
        ws[0] = &stall;
        ws[1] = &rew;
        assert_int_equal(lag_eval_group(ws, 2, 40000, NULL, &g), LAG_ERR);
        assert_int_equal(g.worst, 1);
        assert_int_equal(g.maxlag, 1);

        /* Stop, too, is err. */
        ws[0] = &ok;
        assert_int_equal(lag_eval_group(ws, 1, 80001, NULL, &g), LAG_ERR);

        /* Only unknown partitions, and no partitions. */
        ws[0] = &unk;
        assert_int_equal(lag_eval_group(ws, 1, 40000, NULL, &g), LAG_UNKNOWN);
        assert_true(g.worst == SIZE_MAX);
        assert_int_equal(g.maxlag, 0);
        assert_true(g.complete == 0);
        assert_int_equal(lag_eval_group(ws, 0, 40000, NULL, &g), LAG_UNKNOWN);
        assert_true(g.maxlag == SIZE_MAX);
        assert_true(g.total_lag == 0);
        assert_true(g.complete == 0);
}

/* ---- lag in seconds ------------------------------------------------------------ */

static void assert_secs(struct lag_seconds s, double want)
{
        if (!s.known)
                fail_msg("unknown (%s), want %g s", s.why ? s.why : "?", want);
        if (s.seconds != want)
                fail_msg("%.9g s, want %g s", s.seconds, want);
        assert_null(s.why);
}

static void assert_unknown(struct lag_seconds s, const char *why, double at_least)
{
        assert_false(s.known);
        assert_true(isnan(s.seconds));
        assert_string_equal(s.why, why);
        if (isnan(at_least))
                assert_true(isnan(s.at_least));
        else if (s.at_least != at_least)
                fail_msg("at_least %.9g, want %g", s.at_least, at_least);
}

/* The produced timeline used below: head 0 at 0 s, 100 at 10 s, 300 at
 * 20 s, still 300 at 30 s and 40 s (idle), 600 at 50 s. */
static void timeline(struct lag_table *t)
{
        lag_table_init(t);
        assert_int_equal(lag_table_add(t, 0, 0), LAG_ADD_APPENDED);
        assert_int_equal(lag_table_add(t, 100, 10000), LAG_ADD_APPENDED);
        assert_int_equal(lag_table_add(t, 300, 20000), LAG_ADD_APPENDED);
        assert_int_equal(lag_table_add(t, 300, 30000), LAG_ADD_APPENDED);
        assert_int_equal(lag_table_add(t, 300, 40000), LAG_ADD_REPLACED);      /* flat run */
        assert_int_equal(lag_table_add(t, 600, 50000), LAG_ADD_APPENDED);
}

static void test_table_add(void **state)
{
        struct lag_table t;

        (void)state;
        timeline(&t);
        /* Flat run keeps its first and newest point. */
        assert_int_equal(lag_table_len(&t), 5);
        assert_true(lag_table_at(&t, 2).offset == 300 && lag_table_at(&t, 2).ts_ms == 20000);
        assert_true(lag_table_at(&t, 3).offset == 300 && lag_table_at(&t, 3).ts_ms == 40000);
        /* Out of order, same time, negative: rejected, table unchanged. */
        assert_int_equal(lag_table_add(&t, 700, 50000), LAG_ADD_REJECTED);
        assert_int_equal(lag_table_add(&t, 700, 49000), LAG_ADD_REJECTED);
        assert_int_equal(lag_table_add(&t, -1, 60000), LAG_ADD_REJECTED);
        assert_int_equal(lag_table_len(&t), 5);
        /* FIFO eviction at capacity. */
        lag_table_init(&t);
        for (int i = 0; i < LAG_TABLE_CAP + 10; i++)
                assert_int_equal(lag_table_add(&t, 10 * i, 1000 * i), LAG_ADD_APPENDED);
        assert_int_equal(lag_table_len(&t), LAG_TABLE_CAP);
        assert_true(lag_table_at(&t, 0).offset == 100);
        assert_true(lag_table_at(&t, LAG_TABLE_CAP - 1).offset == 10 * (LAG_TABLE_CAP + 9));
}

static void test_seconds_timeline(void **state)
{
        struct lag_table t;
        const int64_t now = 60000;

        (void)state;
        timeline(&t);
        /* Zero lag is exactly 0 s, also for a commit past the last head. */
        assert_secs(lag_seconds_eval(&t, 600, now, 0), 0.0);
        assert_secs(lag_seconds_eval(&t, 700, now, 0), 0.0);
        /* 450 is half way from 300 (40 s) to 600 (50 s): 45 s -> 15 s ago. */
        assert_secs(lag_seconds_eval(&t, 450, now, 0), 15.0);
        {
                struct lag_seconds s = lag_seconds_eval(&t, 599, now, 0);

                assert_true(s.known && fabs(s.seconds - (10.0 + 1.0 / 30.0)) < 1e-9);
        }
        /* At the flat run, the newest time the head stood there (40 s). */
        assert_secs(lag_seconds_eval(&t, 300, now, 0), 20.0);
        /* 200: half way from 100 (10 s) to 300 (20 s): 15 s -> 45 s ago. */
        assert_secs(lag_seconds_eval(&t, 200, now, 0), 45.0);
        assert_secs(lag_seconds_eval(&t, 50, now, 0), 55.0);
        /* At the oldest point: its time, exactly. */
        assert_secs(lag_seconds_eval(&t, 0, now, 0), 60.0);
        /* now before the estimate clamps at 0. */
        assert_secs(lag_seconds_eval(&t, 450, 40000, 0), 0.0);
        /* No commit. */
        assert_unknown(lag_seconds_eval(&t, -1001, now, 0), "no committed offset", NAN);
}

static void test_seconds_below_oldest(void **state)
{
        struct lag_table t;

        (void)state;
        lag_table_init(&t);
        for (int i = 0; i < LAG_TABLE_CAP + 10; i++)
                lag_table_add(&t, 10 * i, 1000 * i);
        /* Oldest point kept: offset 100 at 10 s. */
        assert_secs(lag_seconds_eval(&t, 100, 80000, 0), 70.0);
        /* Older than the history: unknown, never extrapolated, but at
         * least as old as the oldest point. */
        assert_unknown(lag_seconds_eval(&t, 99, 80000, 0),
                       "position older than the head history", 70.0);
        assert_unknown(lag_seconds_eval(&t, 0, 80000, 0),
                       "position older than the head history", 70.0);
}

static void test_seconds_flat_line(void **state)
{
        struct lag_table t;

        (void)state;
        lag_table_init(&t);
        assert_int_equal(lag_table_add(&t, 500, 0), LAG_ADD_APPENDED);
        assert_int_equal(lag_table_add(&t, 500, 10000), LAG_ADD_APPENDED);
        assert_int_equal(lag_table_add(&t, 500, 20000), LAG_ADD_REPLACED);
        assert_int_equal(lag_table_len(&t), 2);
        /* No division by zero: caught up is 0 s ... */
        assert_secs(lag_seconds_eval(&t, 500, 30000, 0), 0.0);
        /* ... and behind a head that never moved in the table is older
         * than all of it. */
        assert_unknown(lag_seconds_eval(&t, 400, 30000, 0),
                       "position older than the head history", 30.0);
}

static void test_seconds_idle_gap(void **state)
{
        struct lag_table t;

        (void)state;
        /* Polls every 10 s, then none for 100 s (collector or leader down). */
        lag_table_init(&t);
        lag_table_add(&t, 0, 0);
        lag_table_add(&t, 100, 10000);
        lag_table_add(&t, 1100, 110000);
        /* Inside the gap: unknown, at least as old as the gap's end. */
        assert_unknown(lag_seconds_eval(&t, 600, 120000, 15000),
                       "no head data around the position (polling gap)", 10.0);
        /* At the gap's start the time is known exactly. */
        assert_secs(lag_seconds_eval(&t, 100, 120000, 15000), 110.0);
        /* Outside the gap, as usual. */
        assert_secs(lag_seconds_eval(&t, 50, 120000, 15000), 115.0);
        /* A gap exactly max_gap wide still interpolates; one ms more not. */
        assert_secs(lag_seconds_eval(&t, 600, 120000, 100000), 60.0);
        assert_false(lag_seconds_eval(&t, 600, 120000, 99999).known);
        /* Check disabled: straight line across the gap. */
        assert_secs(lag_seconds_eval(&t, 600, 120000, 0), 60.0);
}

/* Packed storage: 32-bit deltas from the oldest entry. Large absolute
 * values are exact; a span over 2^32 ms or 2^32 messages drops the oldest
 * entries until it fits. */
static void test_packed_spans(void **state)
{
        const int64_t big = 1000000000000000LL, span = (int64_t)UINT32_MAX;
        struct lag_table t;
        struct lag_window w;

        (void)state;
        lag_table_init(&t);
        lag_table_add(&t, big, 5 * big);
        lag_table_add(&t, big + 5, 5 * big + 1000);
        assert_true(lag_table_at(&t, 0).offset == big && lag_table_at(&t, 0).ts_ms == 5 * big);
        assert_true(lag_table_at(&t, 1).offset == big + 5 &&
                    lag_table_at(&t, 1).ts_ms == 5 * big + 1000);

        lag_table_init(&t);
        lag_table_add(&t, 0, 0);
        lag_table_add(&t, 100, 1000);
        assert_int_equal(lag_table_add(&t, 200, 1000 + span), LAG_ADD_APPENDED);
        assert_int_equal(lag_table_len(&t), 2);
        assert_true(lag_table_at(&t, 0).offset == 100 && lag_table_at(&t, 0).ts_ms == 1000);
        assert_true(lag_table_at(&t, 1).ts_ms == 1000 + span);
        /* A flat run stretched past the span keeps its newest point. */
        assert_int_equal(lag_table_add(&t, 200, 2000 + span), LAG_ADD_APPENDED);
        assert_int_equal(lag_table_add(&t, 200, 3000 + span), LAG_ADD_REPLACED);
        assert_true(lag_table_at(&t, lag_table_len(&t) - 1).ts_ms == 3000 + span);
        assert_true(lag_table_at(&t, 0).ts_ms >= 3000);

        lag_table_init(&t);
        lag_table_add(&t, 0, 0);
        lag_table_add(&t, 10, 1000);
        lag_table_add(&t, 10 + span + 1, 2000);
        assert_int_equal(lag_table_len(&t), 1);
        assert_true(lag_table_at(&t, 0).offset == 10 + span + 1);

        lag_window_init(&w, NULL);
        assert_true(lag_window_push(&w, 0, 1, 10));
        assert_true(lag_window_push(&w, 1000, 2, 10));
        assert_true(lag_window_push(&w, 2000, 3, 10));
        assert_true(lag_window_push(&w, 1000 + span, 4, big));
        assert_int_equal(lag_window_len(&w), 3);
        assert_true(lag_window_at(&w, 0).ts_ms == 1000 && lag_window_at(&w, 0).offset == 2);
        assert_true(lag_window_at(&w, 2).ts_ms == 1000 + span);
        assert_true(lag_window_at(&w, 2).lag == big - 4);
        assert_true(lag_window_current_lag(&w) == big - 4);
}

static void test_seconds_single_and_empty(void **state)
{
        struct lag_table t;

        (void)state;
        lag_table_init(&t);
        assert_unknown(lag_seconds_eval(&t, 0, 1000, 0), "no head history yet", NAN);
        lag_table_add(&t, 100, 0);
        assert_secs(lag_seconds_eval(&t, 100, 5000, 0), 0.0);
        assert_unknown(lag_seconds_eval(&t, 50, 5000, 0), "too few head points", NAN);
}

static void test_seconds_reset(void **state)
{
        struct lag_table t;

        (void)state;
        lag_table_init(&t);
        lag_table_add(&t, 0, 0);
        lag_table_add(&t, 100, 10000);
        lag_table_add(&t, 200, 20000);
        /* Head went backwards (truncated or recreated): start over. */
        assert_int_equal(lag_table_add(&t, 50, 30000), LAG_ADD_RESET);
        assert_int_equal(t.resets, 1);
        assert_int_equal(lag_table_len(&t), 1);
        assert_unknown(lag_seconds_eval(&t, 40, 30000, 0), "too few head points", NAN);
        assert_int_equal(lag_table_add(&t, 150, 40000), LAG_ADD_APPENDED);
        /* 100 is half way from 50 (30 s) to 150 (40 s): 35 s. */
        assert_secs(lag_seconds_eval(&t, 100, 50000, 0), 15.0);
        assert_unknown(lag_seconds_eval(&t, 10, 50000, 0),
                       "position older than the head history", 20.0);
}

/* ---- trend --------------------------------------------------------------------- */

static void test_trend(void **state)
{
        struct ring r;
        struct lag_trend t;
        struct lag_window w;
        static const int64_t off[3] = { 100, 130, 160 };
        static const int64_t hwm[3] = { 200, 210, 220 };       /* lag 100, 80, 60 */

        (void)state;
        /* Catching up 10 messages/s from 1000: 600 left, 60 s to go. */
        ring_init(&r);
        for (int i = 0; i < 5; i++)
                ring_push(&r, 10000 * i, 1000 - 100 * i);
        t = lag_trend_ring(&r, 600000);
        assert_true(fabs(t.rate + 10.0) < 1e-9);
        assert_int_equal(t.dir, LAG_DIR_CATCHING_UP);
        assert_true(fabs(t.eta_s - 60.0) < 1e-6);
        assert_true(t.behind_rate == 0);

        /* Falling behind 5 messages/s. */
        ring_init(&r);
        for (int i = 0; i < 4; i++)
                ring_push(&r, 10000 * i, 50.0 * i);
        t = lag_trend_ring(&r, 600000);
        assert_int_equal(t.dir, LAG_DIR_FALLING_BEHIND);
        assert_true(fabs(t.behind_rate - 5.0) < 1e-9);
        assert_true(isnan(t.eta_s));

        /* Steady: constant, or less than half a message over the window. */
        ring_init(&r);
        for (int i = 0; i < 3; i++)
                ring_push(&r, 10000 * i, 500);
        t = lag_trend_ring(&r, 600000);
        assert_int_equal(t.dir, LAG_DIR_STEADY);
        assert_true(isnan(t.eta_s));
        ring_init(&r);
        for (int i = 0; i < 3; i++)
                ring_push(&r, 10000 * i, 500 + 0.1 * i);
        t = lag_trend_ring(&r, 600000);
        assert_int_equal(t.dir, LAG_DIR_STEADY);
        assert_true(t.behind_rate == 0);

        /* Caught up: ETA 0. Empty: nothing known. */
        ring_push(&r, 30000, 0);
        t = lag_trend_ring(&r, 600000);
        assert_true(t.eta_s == 0);
        ring_init(&r);
        t = lag_trend_ring(&r, 600000);
        assert_true(t.rate == 0);
        assert_int_equal(t.dir, LAG_DIR_STEADY);
        assert_true(isnan(t.eta_s));

        /* Only samples inside the window count: the old burst is ignored. */
        ring_init(&r);
        ring_push(&r, 0, 10000);
        for (int i = 1; i <= 3; i++)
                ring_push(&r, 100000 + 10000 * i, 100.0 * i);
        t = lag_trend_ring(&r, 30000);
        assert_true(fabs(t.rate - 10.0) < 1e-9);

        /* From a window's commits: -2 messages/s, 60 left, 30 s. */
        cfg5(&w, 1.0);
        push_all(&w, 3, T5, off, hwm);
        t = lag_trend_window(&w, 600000);
        assert_true(fabs(t.rate + 2.0) < 1e-9);
        assert_int_equal(t.dir, LAG_DIR_CATCHING_UP);
        assert_true(fabs(t.eta_s - 30.0) < 1e-6);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status_names),
                cmocka_unit_test(test_window_basics),
                cmocka_unit_test(test_min_distance),
                cmocka_unit_test(test_completeness),
                cmocka_unit_test(test_ok_current_lag),
                cmocka_unit_test(test_stop),
                cmocka_unit_test(test_rewind),
                cmocka_unit_test(test_stall),
                cmocka_unit_test(test_warn),
                cmocka_unit_test(test_group),
                cmocka_unit_test(test_table_add),
                cmocka_unit_test(test_seconds_timeline),
                cmocka_unit_test(test_seconds_below_oldest),
                cmocka_unit_test(test_seconds_flat_line),
                cmocka_unit_test(test_seconds_idle_gap),
                cmocka_unit_test(test_seconds_single_and_empty),
                cmocka_unit_test(test_seconds_reset),
                cmocka_unit_test(test_packed_spans),
                cmocka_unit_test(test_trend),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
