/*
 * Unit tests for the reconciliation engine (collectors/reconcile/reconcile.c). No
 * server: rows go into the engine's sinks by hand, or through the
 * ClickHouse and PostgreSQL decoders. The Reconcile pane (views/reconcile.c)
 * is tested in tests/unit/views/test_view_reconcile.c.
 *
 * Covered: every class; tolerance boundaries exactly, absolute and
 * percent; summation noise; settle boundaries; bucket keys across an hour
 * boundary, a midnight, a month end (leap day) and both DST changes of a
 * server zone, judged at set clocks, the same whatever the process's TZ;
 * keys from different time zones and number types aligning; composite keys; NULL measures (NULL =
 * NULL, NULL vs value); duplicated keys left out and named; the worst
 * bucket; the exact JSON; column errors (missing, ambiguous, non-numeric,
 * key kinds that disagree, max_rows); config validation of the kind;
 * alerts and the summary.
 *
 * tu_reconcile_feed() takes a header "name:type ..." (time, int, num, text, bool) and
 * rows "v|v|v" separated by newlines, NULL for SQL NULL; times are RFC 3339.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/promtext.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "collectors/reconcile/reconcile.h"
#include "core/snapshot.h"
#include "clients/sql.h"
#include "tu.h"
#include "tu_samples.h"
#include "core/util.h"
#include "tu_promtool.h"

#define H 3600000LL

static char *json_of(const struct reconcile_data *d)
{
        cJSON *o = cJSON_CreateObject();
        char *s;

        coll_reconcile_ops.to_json(d, o);
        s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        return s;
}

static const char *const keys1[] = { "bucket" };
static const char *const meas2[] = { "n", "amount" };
static const char *const meas1[] = { "amount" };

/* The bucket with this key text, or fail. */
static const struct reconcile_bucket *bucket(const struct reconcile_data *d, const char *key)
{
        char b[256];

        for (size_t i = 0; i < d->n_buckets; i++) {
                coll_reconcile_key_text(d, &d->buckets[i], b, sizeof b);
                if (strcmp(b, key) == 0)
                        return &d->buckets[i];
        }
        fail_msg("no bucket %s", key);
        return NULL;
}

/* ---- every class, NULLs, duplicates, exact JSON ---------------------------- */

static void test_classes_json(void **state)
{
        struct reconcile_tol tol[2] = { { REC_TOL_ABS, 0 }, { REC_TOL_PCT, 0.5 } };
        struct reconcile_spec sp = { keys1, 1, meas2, 2, tol, 2 * H, 0 };
        struct reconcile_engine *e = coll_reconcile_engine_new(&sp);
        struct reconcile_data *d;
        struct err err;
        char *js;

        (void)state;
        tu_reconcile_feed(e, REC_SPEED, "bucket:time n:int amount:num",
             "2024-05-01T10:00:00Z|10|100.00\n"
             "2024-05-01T11:00:00Z|20|201.00\n"
             "2024-05-01T12:00:00Z|31|300.00\n"
             "2024-05-01T14:00:00Z|50|500\n"
             "2024-05-01T15:00:00Z|NULL|NULL\n"
             "2024-05-01T16:00:00Z|70|NULL\n"
             "2024-05-01T17:00:00Z|1|1\n"
             "2024-05-01T17:00:00Z|2|2\n"
             "2024-05-02T10:00:00Z|5|5\n"
             "2024-05-02T11:00:00Z|8|8\n");
        tu_reconcile_feed(e, REC_BATCH, "bucket:time n:int amount:num",
             "2024-05-02T11:00:00Z|3|3\n"
             "2024-05-02T10:00:00Z|5|5.000\n"
             "2024-05-01T17:00:00Z|3|3\n"
             "2024-05-01T16:00:00Z|70|NULL\n"
             "2024-05-01T15:00:00Z|60|NULL\n"
             "2024-05-01T13:00:00Z|40|400\n"
             "2024-05-01T12:00:00Z|30|300\n"
             "2024-05-01T11:00:00Z|20|200.00\n"
             "2024-05-01T10:00:00Z|10|100.0\n");
        d = coll_reconcile_finish(e, tu_time("2024-05-02T12:00:00Z"), &err);
        coll_reconcile_engine_free(e);
        assert_non_null(d);
        assert_int_equal(d->compared, 6);
        assert_int_equal(d->matched, 3);
        assert_int_equal(d->within, 1);
        assert_int_equal(d->mismatched, 2);
        assert_int_equal(d->missing_in_speed, 1);
        assert_int_equal(d->missing_in_batch, 1);
        assert_int_equal(d->in_flight, 1);
        assert_int_equal(d->duplicated, 1);
        assert_int_equal(d->n_dup_keys, 1);
        assert_string_equal(d->dup_keys[0], "speed: bucket=2024-05-01T17:00:00.000Z");
        assert_int_equal(d->rows[REC_SPEED], 10);
        assert_int_equal(d->rows[REC_BATCH], 9);

        js = json_of(d);
        assert_string_equal(js,
                "{\"compared\":6,\"mismatched\":2,\"missing_in_speed\":1,\"missing_in_batch\":1,"
                "\"in_flight\":1,"
                "\"worst\":{\"key\":{\"bucket\":\"2024-05-01T15:00:00.000Z\"},\"measure\":\"n\","
                "\"speed\":null,\"batch\":60,\"delta\":null,\"delta_pct\":null},"
                "\"buckets\":["
                "{\"key\":{\"bucket\":\"2024-05-01T10:00:00.000Z\"},\"speed\":{\"n\":10,\"amount\":100},"
                "\"batch\":{\"n\":10,\"amount\":100},\"class\":\"match\"},"
                "{\"key\":{\"bucket\":\"2024-05-01T11:00:00.000Z\"},\"speed\":{\"n\":20,\"amount\":201},"
                "\"batch\":{\"n\":20,\"amount\":200},\"class\":\"within\"},"
                "{\"key\":{\"bucket\":\"2024-05-01T12:00:00.000Z\"},\"speed\":{\"n\":31,\"amount\":300},"
                "\"batch\":{\"n\":30,\"amount\":300},\"class\":\"mismatch\"},"
                "{\"key\":{\"bucket\":\"2024-05-01T13:00:00.000Z\"},\"speed\":null,"
                "\"batch\":{\"n\":40,\"amount\":400},\"class\":\"missing_in_speed\"},"
                "{\"key\":{\"bucket\":\"2024-05-01T14:00:00.000Z\"},\"speed\":{\"n\":50,\"amount\":500},"
                "\"batch\":null,\"class\":\"missing_in_batch\"},"
                "{\"key\":{\"bucket\":\"2024-05-01T15:00:00.000Z\"},\"speed\":{\"n\":null,\"amount\":null},"
                "\"batch\":{\"n\":60,\"amount\":null},\"class\":\"mismatch\"},"
                "{\"key\":{\"bucket\":\"2024-05-01T16:00:00.000Z\"},\"speed\":{\"n\":70,\"amount\":null},"
                "\"batch\":{\"n\":70,\"amount\":null},\"class\":\"match\"},"
                "{\"key\":{\"bucket\":\"2024-05-02T10:00:00.000Z\"},\"speed\":{\"n\":5,\"amount\":5},"
                "\"batch\":{\"n\":5,\"amount\":5},\"class\":\"match\"},"
                "{\"key\":{\"bucket\":\"2024-05-02T11:00:00.000Z\"},\"speed\":{\"n\":8,\"amount\":8},"
                "\"batch\":{\"n\":3,\"amount\":3},\"class\":\"in_flight\"}]}");
        cJSON_free(js);
        reconcile_data_free(d);
}

/* ---- tolerances ----------------------------------------------------------- */

static enum reconcile_class judge1(const struct reconcile_tol *tol, const char *speed,
                                   const char *batch)
{
        struct reconcile_spec sp = { keys1, 1, meas1, 1, tol, 0, 0 };
        struct reconcile_engine *e = coll_reconcile_engine_new(&sp);
        struct reconcile_data *d;
        char rs[96], rb[96];
        struct err err;
        enum reconcile_class c;

        snprintf(rs, sizeof rs, "2024-05-01T10:00:00Z|%s", speed);
        snprintf(rb, sizeof rb, "2024-05-01T10:00:00Z|%s", batch);
        tu_reconcile_feed(e, REC_SPEED, "bucket:time amount:num", rs);
        tu_reconcile_feed(e, REC_BATCH, "bucket:time amount:num", rb);
        d = coll_reconcile_finish(e, 0, &err);
        coll_reconcile_engine_free(e);
        assert_non_null(d);
        assert_int_equal(d->n_buckets, 1);
        c = (enum reconcile_class)d->buckets[0].cls;
        reconcile_data_free(d);
        return c;
}

static void test_tolerance_boundaries(void **state)
{
        struct reconcile_tol pct = { REC_TOL_PCT, 0.5 }, abs05 = { REC_TOL_ABS, 0.5 },
                             abs0 = { REC_TOL_ABS, 0 };

        (void)state;
        /* Percent of the batch value, inclusive. */
        assert_int_equal(judge1(&pct, "1005", "1000"), REC_WITHIN);
        assert_int_equal(judge1(&pct, "1005.01", "1000"), REC_MISMATCH);
        assert_int_equal(judge1(&pct, "995", "1000"), REC_WITHIN);
        assert_int_equal(judge1(&pct, "994.99", "1000"), REC_MISMATCH);
        /* 0.5% of 200.2 is 1.001; 201.201 - 200.2 is 1.0010000000000048 in
         * doubles: the slack keeps the boundary inclusive. */
        assert_int_equal(judge1(&pct, "201.201", "200.2"), REC_WITHIN);
        assert_int_equal(judge1(&pct, "1", "0"), REC_MISMATCH);
        assert_int_equal(judge1(&pct, "0", "0"), REC_MATCH);
        /* Absolute. */
        assert_int_equal(judge1(&abs05, "100.5", "100"), REC_WITHIN);
        assert_int_equal(judge1(&abs05, "99.5", "100"), REC_WITHIN);
        assert_int_equal(judge1(&abs05, "100.5000001", "100"), REC_MISMATCH);
        assert_int_equal(judge1(&abs0, "5", "5.000"), REC_MATCH);
        assert_int_equal(judge1(&abs0, "5.0000001", "5"), REC_MISMATCH);
        /* Summation noise is never a mismatch, but not a match either. */
        assert_int_equal(judge1(&abs0, "0.30000000000000004", "0.3"), REC_WITHIN);
        /* NULL handling with any tolerance. */
        assert_int_equal(judge1(&pct, "NULL", "NULL"), REC_MATCH);
        assert_int_equal(judge1(&pct, "NULL", "0"), REC_MISMATCH);
        assert_int_equal(judge1(&pct, "0", "NULL"), REC_MISMATCH);
        /* No tolerance table means exact. */
        assert_int_equal(judge1(NULL, "1", "1.01"), REC_MISMATCH);
}

static void test_tolerance_parse(void **state)
{
        struct reconcile_tol tol;
        struct err e;

        (void)state;
        assert_int_equal(coll_reconcile_tol_parse("0.5%", &tol, &e), 0);
        assert_int_equal(tol.kind, REC_TOL_PCT);
        assert_true(tol.v == 0.5);
        assert_int_equal(coll_reconcile_tol_parse("0", &tol, &e), 0);
        assert_int_equal(tol.kind, REC_TOL_ABS);
        assert_true(tol.v == 0);
        assert_int_equal(coll_reconcile_tol_parse("12.25", &tol, &e), 0);
        assert_true(tol.v == 12.25);
        assert_int_equal(coll_reconcile_tol_parse("-1", &tol, &e), -1);
        assert_string_equal(e.msg, "tolerance \"-1\": expected a non-negative number such as "
                            "2.5, or a percent such as 0.5%");
        assert_int_equal(coll_reconcile_tol_parse("%", &tol, &e), -1);
        assert_int_equal(coll_reconcile_tol_parse("0.5 %", &tol, &e), -1);
        assert_int_equal(coll_reconcile_tol_parse("abc", &tol, &e), -1);
        assert_int_equal(coll_reconcile_tol_parse("inf", &tol, &e), -1);
        assert_int_equal(coll_reconcile_tol_parse("+1", &tol, &e), -1);
}

/* Absolute vs percent on the same data, and the worst bucket by delta %. */
static void test_abs_vs_pct_worst(void **state)
{
        struct reconcile_tol tol = { REC_TOL_ABS, 0.5 };
        struct reconcile_spec sp = { keys1, 1, meas1, 1, &tol, 0, 0 };
        const char *hdr = "bucket:time amount:num";
        const char *speed = "2024-05-01T01:00:00Z|100\n2024-05-01T02:00:00Z|1000\n"
                            "2024-05-01T03:00:00Z|10\n";
        const char *batch = "2024-05-01T01:00:00Z|100.5\n2024-05-01T02:00:00Z|1000.6\n"
                            "2024-05-01T03:00:00Z|10.51\n";
        struct reconcile_engine *e = coll_reconcile_engine_new(&sp);
        struct reconcile_data *d;
        struct err err;
        char *js;

        (void)state;
        tu_reconcile_feed(e, REC_SPEED, hdr, speed);
        tu_reconcile_feed(e, REC_BATCH, hdr, batch);
        d = coll_reconcile_finish(e, 0, &err);
        coll_reconcile_engine_free(e);
        assert_int_equal(d->within, 1);
        assert_int_equal(d->mismatched, 2);
        js = json_of(d);
        assert_non_null(strstr(js, "\"worst\":{\"key\":{\"bucket\":\"2024-05-01T03:00:00.000Z\"},"
                                   "\"measure\":\"amount\",\"speed\":10,\"batch\":10.51,"
                                   "\"delta\":-0.51,\"delta_pct\":-4.852521408}"));
        cJSON_free(js);
        reconcile_data_free(d);

        tol = (struct reconcile_tol){ REC_TOL_PCT, 0.5 };
        e = coll_reconcile_engine_new(&sp);
        tu_reconcile_feed(e, REC_SPEED, hdr, speed);
        tu_reconcile_feed(e, REC_BATCH, hdr, batch);
        d = coll_reconcile_finish(e, 0, &err);
        coll_reconcile_engine_free(e);
        assert_int_equal(d->within, 2);         /* 0.498% and 0.06% */
        assert_int_equal(d->mismatched, 1);     /* 4.85% */
        assert_int_equal(bucket(d, "2024-05-01T03:00:00.000Z")->cls, REC_MISMATCH);
        reconcile_data_free(d);

        /* Only `within` buckets: the worst is among them. */
        tol = (struct reconcile_tol){ REC_TOL_PCT, 10 };
        e = coll_reconcile_engine_new(&sp);
        tu_reconcile_feed(e, REC_SPEED, hdr, speed);
        tu_reconcile_feed(e, REC_BATCH, hdr, batch);
        d = coll_reconcile_finish(e, 0, &err);
        coll_reconcile_engine_free(e);
        assert_int_equal(d->mismatched, 0);
        assert_true(d->has_worst);
        assert_int_equal(d->worst_bucket, 2);
        reconcile_data_free(d);

        /* All match: no worst. */
        e = coll_reconcile_engine_new(&sp);
        tu_reconcile_feed(e, REC_SPEED, hdr, speed);
        tu_reconcile_feed(e, REC_BATCH, hdr, speed);
        d = coll_reconcile_finish(e, 0, &err);
        coll_reconcile_engine_free(e);
        assert_false(d->has_worst);
        js = json_of(d);
        assert_non_null(strstr(js, "\"worst\":null"));
        cJSON_free(js);
        reconcile_data_free(d);
}

/* ---- settle ------------------------------------------------------------------ */

static void test_settle_boundary(void **state)
{
        struct reconcile_spec sp = { keys1, 1, meas1, 1, NULL, 2 * H, 0 };
        const char *rows = "2024-05-01T10:00:00Z|1\n2024-05-01T10:00:00.001Z|1\n"
                           "2024-05-01T13:00:00Z|1\nNULL|1\n";
        int64_t now = tu_time("2024-05-01T12:00:00Z");
        struct reconcile_engine *e = coll_reconcile_engine_new(&sp);
        struct reconcile_data *d;
        struct err err;

        (void)state;
        tu_reconcile_feed(e, REC_SPEED, "bucket:time amount:int", rows);
        tu_reconcile_feed(e, REC_BATCH, "bucket:time amount:int", rows);
        d = coll_reconcile_finish(e, now, &err);
        coll_reconcile_engine_free(e);
        /* Exactly settle old: judged. One ms younger: in flight. Future: in
         * flight. A NULL timestamp cannot be in flight. NULL keys sort first. */
        assert_int_equal(d->n_buckets, 4);
        assert_int_equal(bucket(d, "NULL")->cls, REC_MATCH);
        assert_ptr_equal(bucket(d, "NULL"), &d->buckets[0]);
        assert_int_equal(bucket(d, "2024-05-01T10:00:00.000Z")->cls, REC_MATCH);
        assert_int_equal(bucket(d, "2024-05-01T10:00:00.001Z")->cls, REC_IN_FLIGHT);
        assert_int_equal(bucket(d, "2024-05-01T13:00:00.000Z")->cls, REC_IN_FLIGHT);
        assert_int_equal(d->in_flight, 2);
        assert_int_equal(d->compared, 2);
        reconcile_data_free(d);

        /* No settle: nothing is in flight, not even the future. */
        sp.settle_ms = 0;
        e = coll_reconcile_engine_new(&sp);
        tu_reconcile_feed(e, REC_SPEED, "bucket:time amount:int", rows);
        tu_reconcile_feed(e, REC_BATCH, "bucket:time amount:int", "2024-05-01T10:00:00Z|1\n");
        d = coll_reconcile_finish(e, now, &err);
        coll_reconcile_engine_free(e);
        assert_int_equal(d->in_flight, 0);
        assert_int_equal(d->missing_in_batch, 3);
        reconcile_data_free(d);
}

/* ---- calendar boundaries ------------------------------------------------------- */

/* Hourly buckets (the queries bucket; the engine keys by UTC instant) across
 * a midnight that is also a month end (2024-02-29, a leap day), judged at set
 * clocks on either side of a bucket boundary, with settle 1h. The speed side
 * comes from ClickHouse as zone-less DateTime of a server in Europe/Berlin
 * around both 2024 DST changes (31 March 02:00 -> 03:00, 27 October 03:00 ->
 * 02:00), the batch side as UTC: each pair is one instant. Run once with TZ
 * unset and once with TZ=America/New_York (its own DST dates differ): the
 * process zone must change nothing. */
static char *boundary_json(int64_t now)
{
        static const char *const k[] = { "bucket" };
        static const char *const m[] = { "n" };
        struct reconcile_spec sp = { k, 1, m, 1, NULL, H, 0 };
        struct reconcile_engine *e = coll_reconcile_engine_new(&sp);
        struct sql_sink speed = coll_reconcile_sink(e, REC_SPEED);
        /* Berlin wall time: +01:00 before 31 March 02:00 and after 27 October
         * 03:00 (the second 02:xx), +02:00 between. */
        const char *ch = "{\"meta\":[{\"name\":\"bucket\",\"type\":\"DateTime\"},"
                         "{\"name\":\"n\",\"type\":\"UInt64\"}],\"data\":["
                         "{\"bucket\":\"2024-02-29 23:00:00\",\"n\":\"1\"},"   /* 22:00Z */
                         "{\"bucket\":\"2024-03-01 00:00:00\",\"n\":\"2\"},"   /* 23:00Z, 29th */
                         "{\"bucket\":\"2024-03-01 01:00:00\",\"n\":\"3\"},"   /* 00:00Z */
                         "{\"bucket\":\"2024-03-01 02:00:00\",\"n\":\"4\"},"   /* 01:00Z */
                         "{\"bucket\":\"2024-03-31 01:00:00\",\"n\":\"5\"},"   /* 00:00Z */
                         "{\"bucket\":\"2024-03-31 03:00:00\",\"n\":\"6\"},"   /* 01:00Z */
                         "{\"bucket\":\"2024-10-27 01:00:00\",\"n\":\"7\"},"   /* 26th 23:00Z */
                         "{\"bucket\":\"2024-10-27 03:00:00\",\"n\":\"8\"}]}"; /* 02:00Z */
        struct reconcile_data *d;
        struct err err;
        char *js;

        assert_int_equal(sql_ch_decode(ch, strlen(ch), "Europe/Berlin", &speed, &err), 0);
        tu_reconcile_feed(e, REC_BATCH, "bucket:time n:int",
             "2024-02-29T22:00:00Z|1\n2024-02-29T23:00:00Z|2\n2024-03-01T00:00:00Z|3\n"
             "2024-03-01T01:00:00Z|4\n2024-03-31T00:00:00Z|5\n2024-03-31T01:00:00Z|6\n"
             "2024-10-26T23:00:00Z|7\n2024-10-27T02:00:00Z|8\n");
        d = coll_reconcile_finish(e, now, &err);
        coll_reconcile_engine_free(e);
        assert_int_equal(d->n_buckets, 8);
        assert_int_equal(d->missing_in_speed + d->missing_in_batch + d->mismatched, 0);
        js = json_of(d);
        reconcile_data_free(d);
        return js;
}

static void check_boundaries(void)
{
        char *js;

        /* 2024-03-01 01:00:00Z: the 00:00Z bucket (the first of March) is
         * exactly settle old and judged; 01:00Z is in flight. */
        js = boundary_json(tu_time("2024-03-01T01:00:00Z"));
        assert_non_null(strstr(js, "\"compared\":3,"));
        assert_non_null(strstr(js, "\"in_flight\":5,"));
        assert_non_null(strstr(js, "{\"key\":{\"bucket\":\"2024-02-29T23:00:00.000Z\"},"
                               "\"speed\":{\"n\":2},\"batch\":{\"n\":2},\"class\":\"match\"}"));
        assert_non_null(strstr(js, "{\"key\":{\"bucket\":\"2024-03-01T00:00:00.000Z\"},"
                               "\"speed\":{\"n\":3},\"batch\":{\"n\":3},\"class\":\"match\"}"));
        assert_non_null(strstr(js, "{\"key\":{\"bucket\":\"2024-03-01T01:00:00.000Z\"},"
                               "\"speed\":{\"n\":4},\"batch\":{\"n\":4},"
                               "\"class\":\"in_flight\"}"));
        cJSON_free(js);
        /* One ms before: the first of March's first bucket is in flight too. */
        js = boundary_json(tu_time("2024-03-01T00:59:59.999Z"));
        assert_non_null(strstr(js, "\"compared\":2,"));
        assert_non_null(strstr(js, "{\"key\":{\"bucket\":\"2024-03-01T00:00:00.000Z\"},"
                               "\"speed\":{\"n\":3},\"batch\":{\"n\":3},"
                               "\"class\":\"in_flight\"}"));
        cJSON_free(js);
        /* Across the spring change: 03:00 Berlin is one hour after 01:00,
         * and that hour is judged exactly one settle after it began. */
        js = boundary_json(tu_time("2024-03-31T02:00:00Z"));
        assert_non_null(strstr(js, "\"compared\":6,\"mismatched\":0,\"missing_in_speed\":0,"
                               "\"missing_in_batch\":0,\"in_flight\":2,"));
        assert_non_null(strstr(js, "{\"key\":{\"bucket\":\"2024-03-31T01:00:00.000Z\"},"
                               "\"speed\":{\"n\":6},\"batch\":{\"n\":6},\"class\":\"match\"}"));
        cJSON_free(js);
        /* Across the autumn change: the second 02:00 (03:00 Berlin) is
         * 02:00Z; at 02:59:59.999Z it is still in flight, 01:00 Berlin
         * (the 26th, 23:00Z) is judged. */
        js = boundary_json(tu_time("2024-10-27T02:59:59.999Z"));
        assert_non_null(strstr(js, "\"compared\":7,"));
        assert_non_null(strstr(js, "{\"key\":{\"bucket\":\"2024-10-26T23:00:00.000Z\"},"
                               "\"speed\":{\"n\":7},\"batch\":{\"n\":7},\"class\":\"match\"}"));
        assert_non_null(strstr(js, "{\"key\":{\"bucket\":\"2024-10-27T02:00:00.000Z\"},"
                               "\"speed\":{\"n\":8},\"batch\":{\"n\":8},"
                               "\"class\":\"in_flight\"}"));
        cJSON_free(js);
}

static void test_calendar_boundaries(void **state)
{
        char *old = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
        char *js_utc, *js_ny;

        (void)state;
        unsetenv("TZ");
        tzset();
        check_boundaries();
        js_utc = boundary_json(tu_time("2024-03-31T02:00:00Z"));
        setenv("TZ", "America/New_York", 1);
        tzset();
        check_boundaries();
        js_ny = boundary_json(tu_time("2024-03-31T02:00:00Z"));
        assert_string_equal(js_ny, js_utc);
        cJSON_free(js_utc);
        cJSON_free(js_ny);
        if (old)
                setenv("TZ", old, 1);
        else
                unsetenv("TZ");
        tzset();
        free(old);
}

/* ---- key alignment ------------------------------------------------------------ */

/* The speed side from ClickHouse JSON (Asia/Kolkata wall time, a server
 * in Asia/Tokyo), the batch side from PostgreSQL text (+00 and -03:00). */
static void test_time_zones_across_decoders(void **state)
{
        static const char *const k[] = { "bucket" };
        static const char *const m[] = { "n" };
        struct reconcile_spec sp = { k, 1, m, 1, NULL, 0, 0 };
        struct reconcile_engine *e = coll_reconcile_engine_new(&sp);
        struct sql_sink speed = coll_reconcile_sink(e, REC_SPEED);
        struct sql_sink batch = coll_reconcile_sink(e, REC_BATCH);
        const char *ch = "{\"meta\":[{\"name\":\"bucket\",\"type\":\"DateTime('Asia/Kolkata')\"},"
                         "{\"name\":\"srv\",\"type\":\"DateTime\"},"
                         "{\"name\":\"n\",\"type\":\"UInt64\"}],\"data\":["
                         "{\"bucket\":\"2024-05-01 15:30:00\",\"srv\":\"2024-05-01 19:00:00\",\"n\":\"3\"},"
                         "{\"bucket\":\"2024-05-01 16:30:00\",\"srv\":\"2024-05-01 20:00:00\",\"n\":\"4\"}]}";
        const char *pg[2][2] = { { "2024-05-01 10:00:00+00", "3" },
                                 { "2024-05-01 08:00:00-03", "4" } };
        struct sql_col cols[2] = { { "bucket", SQL_T_TIME, "timestamptz" },
                                   { "n", SQL_T_INT, "int8" } };
        struct reconcile_data *d;
        struct err err;

        (void)state;
        assert_int_equal(sql_ch_decode(ch, strlen(ch), "Asia/Tokyo", &speed, &err), 0);
        assert_int_equal(batch.begin(batch.ud, cols, 2, &err), 0);
        for (int r = 0; r < 2; r++) {
                struct sql_cell c[2];

                assert_int_equal(sql_pg_cell(SQL_T_TIME, pg[r][0], &c[0], &err), 0);
                assert_int_equal(sql_pg_cell(SQL_T_INT, pg[r][1], &c[1], &err), 0);
                assert_int_equal(batch.row(batch.ud, c, 2, &err), 0);
        }
        d = coll_reconcile_finish(e, 0, &err);
        coll_reconcile_engine_free(e);
        assert_int_equal(d->n_buckets, 2);
        assert_int_equal(d->matched, 2);
        assert_int_equal(bucket(d, "2024-05-01T10:00:00.000Z")->cls, REC_MATCH);
        assert_int_equal(bucket(d, "2024-05-01T11:00:00.000Z")->cls, REC_MATCH);
        reconcile_data_free(d);

        /* Keyed by the zone-less column instead, read in the server's zone. */
        {
                static const char *const k2[] = { "srv" };
                struct reconcile_spec sp2 = { k2, 1, m, 1, NULL, 0, 0 };
                struct sql_col c2[2] = { { "srv", SQL_T_TIME, "timestamptz" },
                                         { "n", SQL_T_INT, "int8" } };
                struct sql_cell c[2];

                e = coll_reconcile_engine_new(&sp2);
                speed = coll_reconcile_sink(e, REC_SPEED);
                batch = coll_reconcile_sink(e, REC_BATCH);
                assert_int_equal(sql_ch_decode(ch, strlen(ch), "Asia/Tokyo", &speed, &err), 0);
                assert_int_equal(batch.begin(batch.ud, c2, 2, &err), 0);
                assert_int_equal(sql_pg_cell(SQL_T_TIME, "2024-05-01 10:00:00+00", &c[0], &err), 0);
                assert_int_equal(sql_pg_cell(SQL_T_INT, "3", &c[1], &err), 0);
                assert_int_equal(batch.row(batch.ud, c, 2, &err), 0);
                d = coll_reconcile_finish(e, 0, &err);
                coll_reconcile_engine_free(e);
                assert_int_equal(bucket(d, "2024-05-01T10:00:00.000Z")->cls, REC_MATCH);
                assert_int_equal(bucket(d, "2024-05-01T11:00:00.000Z")->cls, REC_MISSING_IN_BATCH);
                reconcile_data_free(d);
        }
}

static void test_number_and_composite_keys(void **state)
{
        static const char *const k[] = { "region", "shard" };
        static const char *const m[] = { "n" };
        struct reconcile_spec sp = { k, 2, m, 1, NULL, 0, 0 };
        struct reconcile_engine *e = coll_reconcile_engine_new(&sp);
        struct reconcile_data *d;
        struct err err;
        char *js;

        (void)state;
        /* Number keys align across int and numeric columns. */
        tu_reconcile_feed(e, REC_SPEED, "REGION:text SHARD:int N:int",
             "eu|5|1\neu|0|2\nus|-12|3\nNULL|1|4\n");
        tu_reconcile_feed(e, REC_BATCH, "region:text shard:num n:num",
             "eu|5.00|1\neu|-0.0|2\nus|-012.0|3\nNULL|1|4\nus|1.5|5\n");
        d = coll_reconcile_finish(e, 0, &err);
        coll_reconcile_engine_free(e);
        assert_int_equal(d->matched, 4);
        assert_int_equal(d->missing_in_speed, 1);
        /* Sorted: NULL first, then text, numbers by value. */
        js = json_of(d);
        assert_non_null(strstr(js, "\"buckets\":[{\"key\":{\"region\":null,\"shard\":1},"));
        assert_non_null(strstr(js, "{\"key\":{\"region\":\"eu\",\"shard\":0},"));
        assert_non_null(strstr(js, "{\"key\":{\"region\":\"us\",\"shard\":-12},"));
        assert_non_null(strstr(js, "{\"key\":{\"region\":\"us\",\"shard\":1.5},\"speed\":null,"));
        cJSON_free(js);
        assert_ptr_equal(bucket(d, "eu | 0"), &d->buckets[1]);
        assert_ptr_equal(bucket(d, "eu | 5"), &d->buckets[2]);
        assert_ptr_equal(bucket(d, "us | -12"), &d->buckets[3]);
        reconcile_data_free(d);
}

/* ---- errors ----------------------------------------------------------------- */

static void test_column_errors(void **state)
{
        struct reconcile_spec sp = { keys1, 1, meas2, 2, NULL, 0, 0 };
        struct reconcile_engine *e;
        struct reconcile_data *d;
        struct err err;

        (void)state;
        e = coll_reconcile_engine_new(&sp);
        assert_int_equal(tu_reconcile_feed_rc(e, REC_SPEED, "bucket:time n:int total:num", "",
                                              &err), -1);
        assert_string_equal(err.msg,
                            "the result has no column \"amount\" (it has: bucket, n, total)");
        coll_reconcile_engine_free(e);

        e = coll_reconcile_engine_new(&sp);
        assert_int_equal(tu_reconcile_feed_rc(e, REC_SPEED, "bucket:time n:int N:int amount:num",
                                              "", &err), -1);
        assert_string_equal(err.msg, "the result has 2 columns named \"n\": alias them apart");
        coll_reconcile_engine_free(e);

        e = coll_reconcile_engine_new(&sp);
        assert_int_equal(tu_reconcile_feed_rc(e, REC_SPEED, "bucket:time n:int amount:text", "",
                                              &err), -1);
        assert_string_equal(err.msg, "measure \"amount\" is text (text), not a number: cast it "
                            "to a numeric type");
        coll_reconcile_engine_free(e);

        e = coll_reconcile_engine_new(&sp);
        tu_reconcile_feed(e, REC_SPEED, "bucket:time n:int amount:num",
                          "2024-05-01T10:00:00Z|1|1\n");
        assert_int_equal(tu_reconcile_feed_rc(e, REC_BATCH, "bucket:text n:int amount:num", "",
                                              &err), -1);
        assert_string_equal(err.msg, "key \"bucket\" is text here (text) but a timestamp in the "
                            "speed result: cast one side so that both agree");
        coll_reconcile_engine_free(e);

        sp.max_rows = 2;
        e = coll_reconcile_engine_new(&sp);
        assert_int_equal(tu_reconcile_feed_rc(e, REC_SPEED, "bucket:time n:int amount:num",
                                 "2024-05-01T10:00:00Z|1|1\n2024-05-01T11:00:00Z|1|1\n"
                                 "2024-05-01T12:00:00Z|1|1\n", &err), -1);
        assert_string_equal(err.msg, "more than 2 rows (max_rows): narrow the query's time window "
                            "or raise max_rows");
        coll_reconcile_engine_free(e);

        sp.max_rows = 0;
        e = coll_reconcile_engine_new(&sp);
        tu_reconcile_feed(e, REC_SPEED, "bucket:time n:int amount:num", "");
        d = coll_reconcile_finish(e, 0, &err);
        assert_null(d);
        assert_string_equal(err.msg, "the batch query returned no result");
        coll_reconcile_engine_free(e);

        /* Empty results on both sides are fine: nothing to compare. */
        e = coll_reconcile_engine_new(&sp);
        tu_reconcile_feed(e, REC_SPEED, "bucket:time n:int amount:num", "");
        tu_reconcile_feed(e, REC_BATCH, "BUCKET:time N:int AMOUNT:num", "");
        d = coll_reconcile_finish(e, 0, &err);
        assert_non_null(d);
        assert_int_equal(d->n_buckets, 0);
        reconcile_data_free(d);
        coll_reconcile_engine_free(e);
        coll_reconcile_engine_free(NULL);
        reconcile_data_free(NULL);
}

/* ---- config ------------------------------------------------------------------- */

static const char *cfg_head =
        "sources:\n"
        "  - {name: speed-pg, kind: postgres, dsn: \"host=127.0.0.1\"}\n"
        "  - {name: warehouse, kind: postgres, dsn: \"host=127.0.0.1\"}\n";

static struct config *load(const char *body, struct err *e)
{
        char *y = xasprintf("%s%s", cfg_head, body);
        struct config *c = config_load_string(y, strlen(y), "t.yaml", e);

        free(y);
        return c;
}

static void test_config_good(void **state)
{
        struct err e;
        struct config *c = load("  - name: orders-hourly\n"
                                "    kind: reconcile\n"
                                "    interval: 5m\n"
                                "    speed: {source: speed-pg, query: \"SELECT 1\"}\n"
                                "    batch:\n"
                                "      source: warehouse\n"
                                "      query: SELECT 2\n"
                                "    key: [bucket]\n"
                                "    measures: [n, amount]\n"
                                "    tolerance: {n: 0, amount: 0.5%}\n"
                                "    settle: 2h\n"
                                "    thresholds: {mismatched: {warn: 1, crit: 3}}\n", &e);
        const struct reconcile_cfg *rc;

        (void)state;
        if (!c)
                fail_msg("%s", e.msg);
        rc = c->sources[2].kind_cfg;
        assert_ptr_equal(rc->speed.source.src, &c->sources[0]);
        assert_ptr_equal(rc->batch.source.src, &c->sources[1]);
        assert_string_equal(rc->speed.query, "SELECT 1");
        assert_string_equal(rc->batch.query, "SELECT 2");
        assert_int_equal(rc->key.n, 1);
        assert_int_equal(rc->measures.n, 2);
        assert_int_equal(rc->tolerance.n, 2);
        assert_string_equal(rc->tolerance.keys[1], "amount");
        assert_string_equal(rc->tolerance.vals[1], "0.5%");
        assert_int_equal(rc->settle_ms, 2 * H);
        assert_int_equal(c->sources[2].interval_ms, 300000);
        assert_int_equal(c->sources[2].timeout_ms, 60000);
        assert_true(config_threshold(&c->sources[2], "mismatched")->crit == 3);
        assert_true(config_threshold(&c->sources[2], "missing")->warn == 1);
        config_free(c);
}

struct bad {
        const char *yaml;
        const char *msg;
};

static void test_config_bad(void **state)
{
        static const char *base = "  - name: chk\n    kind: reconcile\n"
                                  "    speed: {source: speed-pg, query: q}\n"
                                  "    batch: {source: warehouse, query: q}\n";
        static const struct bad cases[] = {
                { "    key: [bucket]\n    measures: [n]\n    tolerance: {amnt: 1}\n",
                  "t.yaml:4:5: source \"chk\": tolerance: \"amnt\" is not one of the measures" },
                { "    key: [bucket]\n    measures: [n]\n    tolerance: {n: 0.5 %}\n",
                  "t.yaml:4:5: source \"chk\": tolerance.n: tolerance \"0.5 %\": expected a "
                  "non-negative number such as 2.5, or a percent such as 0.5%" },
                { "    key: []\n    measures: [n]\n",
                  "t.yaml:4:5: source \"chk\": key: list at least one key column" },
                { "    key: [bucket]\n    measures: []\n",
                  "t.yaml:4:5: source \"chk\": measures: list at least one measure column" },
                { "    key: [bucket]\n    measures: [n, Bucket]\n",
                  "t.yaml:4:5: source \"chk\": column \"bucket\" is listed twice in key and measures" },
                { "    measures: [n]\n",
                  "t.yaml:4:5: source \"chk\" is missing required key \"key\" (kind reconcile)" },
                { "    key: [bucket]\n    measures: [n]\n    max_rows: -5\n",
                  "t.yaml:4:5: source \"chk\": max_rows must be positive" },
                { "    key: [bucket]\n    measures: [n]\n    settle: 2\n",
                  "t.yaml:10:13: settle: invalid duration \"2\": missing unit (ms, s, m, h or d)" },
                { "    key: [bucket]\n    measures: [n]\n"
                  "  - {name: chk2, kind: reconcile, key: [b], measures: [n],\n"
                  "     speed: {source: chk, query: q}, batch: {source: warehouse, query: q}}\n",
                  "t.yaml:10:5: source \"chk2\": speed.source: \"chk\" is a reconcile source, "
                  "which cannot run queries (use a postgres, clickhouse or snowflake source)" },
        };
        int bad = 0;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(cases); i++) {
                char *body = xasprintf("%s%s", base, cases[i].yaml);
                struct err e;
                struct config *c = load(body, &e);

                free(body);
                if (c) {
                        print_error("case %zu loaded\n", i);
                        config_free(c);
                        bad++;
                } else if (strcmp(e.msg, cases[i].msg) != 0) {
                        print_error("case %zu:\n  got  %s\n  want %s\n", i, e.msg, cases[i].msg);
                        bad++;
                }
        }
        assert_int_equal(bad, 0);
}

/* ---- collector readers ------------------------------------------------------ */

static struct reconcile_data *sample_data(void)
{
        struct reconcile_tol tol[2] = { { REC_TOL_ABS, 0 }, { REC_TOL_PCT, 0.5 } };
        struct reconcile_spec sp = { keys1, 1, meas2, 2, tol, 2 * H, 0 };
        struct reconcile_engine *e = coll_reconcile_engine_new(&sp);
        struct reconcile_data *d;
        struct err err;

        tu_reconcile_feed(e, REC_SPEED, "bucket:time n:int amount:num",
             "2024-05-01T10:00:00Z|10|100\n2024-05-01T11:00:00Z|20|201\n"
             "2024-05-01T12:00:00Z|31|300\n2024-05-01T14:00:00Z|50|500\n"
             "2024-05-02T11:00:00Z|8|8\n");
        tu_reconcile_feed(e, REC_BATCH, "bucket:time n:int amount:num",
             "2024-05-01T10:00:00Z|10|100\n2024-05-01T11:00:00Z|20|200\n"
             "2024-05-01T12:00:00Z|30|300\n2024-05-01T13:00:00Z|40|400\n"
             "2024-05-02T11:00:00Z|3|3\n");
        d = coll_reconcile_finish(e, tu_time("2024-05-02T12:00:00Z"), &err);
        coll_reconcile_engine_free(e);
        assert_non_null(d);
        ring_push(&d->hist, 1000, 3);
        ring_push(&d->hist, 2000, 1);
        return d;
}

static void test_alerts_summary(void **state)
{
        struct err e;
        struct config *c = load("  - {name: chk, kind: reconcile, key: [bucket], measures: [n, amount],\n"
                                "     speed: {source: speed-pg, query: q},\n"
                                "     batch: {source: warehouse, query: q},\n"
                                "     thresholds: {missing: {warn: 1, crit: 2}}}\n", &e);
        struct reconcile_data *d = sample_data();
        struct snapshot *s;
        struct alert_list al;
        char buf[160];

        (void)state;
        assert_non_null(c);
        s = snapshot_new(&c->sources[2]);
        s->status = COLL_OK;
        s->data = d;
        alert_list_init(&al);
        health_eval(s, &al);
        assert_int_equal(al.n, 2);
        assert_int_equal(al.v[0].sev, SEV_WARN);
        assert_string_equal(al.v[0].metric, "mismatched");
        assert_string_equal(al.v[0].message, "mismatched buckets 1 >= warn 1");
        assert_int_equal(al.v[1].sev, SEV_CRIT);
        assert_string_equal(al.v[1].message, "missing buckets 2 >= crit 2");
        alert_list_done(&al);
        coll_reconcile_ops.summary(d, buf, sizeof buf);
        assert_string_equal(buf, "1 mismatched, 2 missing of 3 compared (1 in flight)");
        assert_true(coll_reconcile_ops.key_metric(d) == 1);
        snapshot_unref(s);
        config_free(c);
}

/* ---- /metrics ------------------------------------------------------------ */

/* The kind's metrics hook on the same data as the JSON test: exact text
 * (tests/fixtures/reconcile/metrics.prom), which promtool check metrics accepts. */
static void test_metrics(void **state)
{
        struct source_cfg msrc = { .name = "orders-rec", .kind = "reconcile",
                                   .ops = &coll_reconcile_ops };
        struct snapshot snap = { .src = &msrc };
        struct promtext *p = promtext_new();
        char *text;

        (void)state;
        struct reconcile_data *d = sample_data();

        snap.data = d;
        assert_non_null(coll_reconcile_ops.metrics);
        coll_reconcile_ops.metrics(&snap, &msrc, p);
        assert_int_equal(promtext_errors(p), 0);
        text = promtext_finish(p, NULL);
        tu_metrics_expect(text, "tests/fixtures/reconcile/metrics.prom");
        free(text);
        promtext_free(p);
        reconcile_data_free(d);
}


int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_classes_json),
                cmocka_unit_test(test_tolerance_boundaries),
                cmocka_unit_test(test_tolerance_parse),
                cmocka_unit_test(test_abs_vs_pct_worst),
                cmocka_unit_test(test_settle_boundary),
                cmocka_unit_test(test_calendar_boundaries),
                cmocka_unit_test(test_time_zones_across_decoders),
                cmocka_unit_test(test_number_and_composite_keys),
                cmocka_unit_test(test_column_errors),
                cmocka_unit_test(test_config_good),
                cmocka_unit_test(test_config_bad),
                cmocka_unit_test(test_metrics),
                cmocka_unit_test(test_alerts_summary),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
