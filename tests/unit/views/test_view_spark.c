/*
 * Spark pane, pure parts: rows (state colours, order, cells, ids),
 * the scheduled sub-view, the preamble and the detail pages, on a snapshot
 * built from tests/fixtures/kube/spark/ and the driver answers parsed by the
 * collector's own parsers. No curses.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/ring.h"
#include "core/snapshot.h"
#include "collectors/spark/spark.h"
#include "tu.h"
#include "core/util.h"
#include "views/view.h"
#include "views/spark.h"

#define PROXY "raw/api/v1/namespaces/processing/services/"
#define SPEED_ID "spark-9f1c2a7e4b3d4e8fa1b2c3d4e5f60718"
#define CDC_ID "spark-1a2b3c4d5e6f708192a3b4c5d6e7f801"
#define NOW_MONO 1000000

static struct source_cfg src;
static struct threshold thr[8];
static struct snapshot *snap;

/* The wall clock of these tests, 2026-11-27T12:30:00Z: the fixtures'
 * relative times ({{now-1d2h30m}}, tests/lib/fixture_time.py) are expanded at
 * it, and it is the collector's clock (spark_data.now). */
#define NOW_S 1795782600LL

/* A fixture file with its times expanded at NOW_S; owned. */
static char *fixture(const char *name, size_t *len)
{
        char rel[512];
        char *raw, *s;

        snprintf(rel, sizeof rel, "tests/fixtures/kube/spark/%s", name);
        raw = tu_read_file(tu_src_path(rel), NULL);
        if (!raw)
                fail_msg("missing fixture %s", rel);
        s = tu_fixture_expand(raw, NOW_S);
        free(raw);
        if (len)
                *len = strlen(s);
        return s;
}

static cJSON *fixture_json(const char *name)
{
        size_t len;
        char *s = fixture(name, &len);
        cJSON *j = cJSON_ParseWithLength(s, len);

        free(s);
        assert_non_null(j);
        return j;
}

static struct spark_app *app(struct spark_data *d, const char *name)
{
        return (struct spark_app *)spark_find(d, "processing", name);
}

static void rest(const char *file, struct spark_rest *r,
                 int (*fn)(const char *, size_t, struct spark_rest *, struct err *))
{
        struct err e;
        size_t len;
        char *s = fixture(file, &len);

        err_clear(&e);
        assert_int_equal(fn(s, len, r, &e), 0);
        free(s);
}

static struct spark_data *build(void)
{
        cJSON *arr = fixture_json("objects/sparkapplications.json"), *o;
        struct spark_data *d = spark_data_new();
        struct spark_app *a;
        struct err e;
        size_t len;
        char *s;

        cJSON_ArrayForEach(o, arr) {
                a = spark_app_from_json(o);
                d->apps = xrealloc(d->apps, (d->n_apps + 1) * sizeof *d->apps);
                d->apps[d->n_apps++] = *a;
                free(a);
        }
        cJSON_Delete(arr);
        arr = fixture_json("objects/scheduled.json");
        cJSON_ArrayForEach(o, arr) {
                struct spark_sched *sc = spark_sched_from_json(o);

                d->scheds = xrealloc(d->scheds, (d->n_scheds + 1) * sizeof *d->scheds);
                d->scheds[d->n_scheds++] = *sc;
                free(sc);
        }
        cJSON_Delete(arr);
        d->now = NOW_S * 1000;

        a = app(d, "speed-layer");
        a->rest.asked = true;
        rest(PROXY "speed-layer-ui-svc:4040/proxy/api/v1/applications/" SPEED_ID "/jobs.json",
             &a->rest, spark_parse_jobs);
        rest(PROXY "speed-layer-ui-svc:4040/proxy/api/v1/applications/" SPEED_ID "/stages.json",
             &a->rest, spark_parse_stages);
        rest(PROXY "speed-layer-ui-svc:4040/proxy/api/v1/applications/" SPEED_ID
             "/executors.json", &a->rest, spark_parse_executors);
        s = fixture(PROXY "speed-layer-ui-svc:4040/proxy/metrics/json.json", &len);
        assert_int_equal(spark_parse_metrics(s, len, &a->rest.streaming, &e), 1);
        free(s);
        a->rest.have_streaming = true;
        for (int i = 0; i < 8; i++) {
                ring_push(&a->in_hist, i * 10000, 1500.5);
                ring_push(&a->proc_hist, i * 10000, i < 5 ? 1600 : 1380);
        }
        a->behind_ms = 70000;

        a = app(d, "cdc-enricher");
        a->rest.asked = true;
        s = fixture(PROXY "cdc-enricher-ui-svc:4040/proxy/api/v1/applications/" CDC_ID
                    "/streaming/statistics.json", &len);
        assert_int_equal(spark_parse_dstream(s, len, &a->rest.streaming, &e), 0);
        free(s);
        a->rest.have_streaming = true;
        a->rest.streaming.sched_delay_ms = 12000;       /* past the 10 s warn */
        a->rest.failed_jobs = 0;
        a->behind_ms = 0;

        a = app(d, "broken-driver");
        a->rest.asked = true;
        a->rest.error = xstrdup("GET jobs: HTTP 503 Service Unavailable");
        return d;
}

static int setup(void **state)
{
        size_t n = 0;

        (void)state;
        memset(&src, 0, sizeof src);
        src.name = (char *)"spark";
        src.kind = (char *)"spark";
        src.ops = &coll_spark_ops;
        src.interval_ms = 10000;
        src.timeout_ms = 8000;
        for (; coll_spark_ops.thresholds[n].name; n++) {
                thr[n].def = &coll_spark_ops.thresholds[n];
                thr[n].warn = thr[n].def->warn;
                thr[n].crit = thr[n].def->crit;
        }
        src.thresholds = thr;
        src.n_thresholds = n;
        snap = snapshot_new(&src);
        snap->status = COLL_DEGRADED;
        str_copy(snap->error, "1 driver UI(s) unreadable", sizeof snap->error);
        snap->collected_at = NOW_S * 1000;
        snap->collected_mono = NOW_MONO - 2000;
        snap->seq = 3;
        snap->data = build();
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        snapshot_unref(snap);
        return 0;
}

static struct view_data vd(unsigned flags)
{
        struct view_data d;

        memset(&d, 0, sizeof d);
        d.srcs = &src;
        d.snaps = (const struct snapshot *const *)&snap;
        d.n = 1;
        d.now_mono = NOW_MONO;
        d.width = 100;
        d.ascii = true;
        d.flags = flags;
        return d;
}

#define CELL(r, i, c) ((r).v[i].cell[c].text)
#define ROLE(r, i, c) ((r).v[i].cell[c].role)

static int row_of(const struct table_rows *r, const char *name)
{
        char id[TABLE_ID_MAX];

        spark_row_id("spark", "processing", name, id, sizeof id);
        return table_find(r, id);
}

static void test_rows(void **state)
{
        struct view_data d = vd(0);
        struct table_rows r;
        static const char *const order[] = {
                /* failing and warning states first */
                "failed-job", "bad-submit", "rerun-app", "invalidating-app", "failing-app",
                "unknown-app",
                "new-app", "submitted-app", "speed-layer", "cdc-enricher", "broken-driver",
                "batch-report", "daily-agg", "succeeding-app",
        };
        static const struct { const char *name, *state; enum theme_role role;
                              enum severity sev; } st[] = {
                { "new-app", "(new)", ROLE_DEFAULT, SEV_OK },
                { "submitted-app", "SUBMITTED", ROLE_DEFAULT, SEV_OK },
                { "daily-agg", "COMPLETED", ROLE_OK, SEV_OK },
                { "succeeding-app", "SUCCEEDING", ROLE_OK, SEV_OK },
                { "failed-job", "FAILED", ROLE_CRIT, SEV_CRIT },
                { "bad-submit", "SUBMISSION_FAILED", ROLE_CRIT, SEV_CRIT },
                { "failing-app", "FAILING", ROLE_CRIT, SEV_CRIT },
                { "rerun-app", "PENDING_RERUN", ROLE_WARN, SEV_WARN },
                { "invalidating-app", "INVALIDATING", ROLE_WARN, SEV_WARN },
                { "unknown-app", "UNKNOWN", ROLE_WARN, SEV_WARN },
                { "batch-report", "RUNNING", ROLE_OK, SEV_OK },
        };
        int i;

        (void)state;
        table_rows_init(&r);
        view_spark_rows(&d, &r);
        assert_int_equal(r.n, LO_ARRAY_LEN(order));
        for (size_t k = 0; k < r.n; k++) {
                char id[TABLE_ID_MAX];

                spark_row_id("spark", "processing", order[k], id, sizeof id);
                assert_string_equal(r.v[k].id, id);
                assert_string_equal(CELL(r, k, SPV_NAME), order[k]);
                assert_string_equal(CELL(r, k, SPV_NS), "processing");
        }
        assert_string_equal(r.v[0].id, "spark\tprocessing/failed-job");
        for (size_t k = 0; k < LO_ARRAY_LEN(st); k++) {
                i = row_of(&r, st[k].name);
                assert_true(i >= 0);
                assert_string_equal(CELL(r, i, SPV_STATE), st[k].state);
                assert_int_equal(ROLE(r, i, SPV_STATE), st[k].role);
                assert_int_equal(r.v[i].sev, st[k].sev);
        }

        /* Structured Streaming, behind for 70 s */
        i = row_of(&r, "speed-layer");
        assert_string_equal(CELL(r, i, SPV_ATT), "1");
        assert_string_equal(CELL(r, i, SPV_DRIVER), "speed-layer-driver");
        assert_string_equal(CELL(r, i, SPV_EXEC), "2/1");
        assert_int_equal(ROLE(r, i, SPV_EXEC), ROLE_WARN);
        assert_string_equal(CELL(r, i, SPV_IN), "1.5k");
        assert_string_equal(CELL(r, i, SPV_PROC), "1.4k");
        assert_int_equal(ROLE(r, i, SPV_PROC), ROLE_WARN);
        assert_string_equal(CELL(r, i, SPV_BATCH), "1.2s");
        assert_string_equal(CELL(r, i, SPV_DELAY), "-");
        assert_string_equal(CELL(r, i, SPV_AGE), "1d02h");     /* created now-1d2h30m */
        assert_string_equal(CELL(r, i, SPV_ERROR), "");
        assert_int_equal(strlen(CELL(r, i, SPV_IN_H)), 8);
        assert_string_equal(CELL(r, i, SPV_IN_H), "########");      /* flat: sits high */
        assert_true(strcmp(CELL(r, i, SPV_PROC_H), CELL(r, i, SPV_IN_H)) != 0);
        assert_int_equal(ROLE(r, i, SPV_IN_H), ROLE_SPARK);

        /* DStream, scheduling delay past warn */
        i = row_of(&r, "cdc-enricher");
        assert_string_equal(CELL(r, i, SPV_IN), "400.0");
        assert_string_equal(CELL(r, i, SPV_PROC), "320.0");
        assert_string_equal(CELL(r, i, SPV_BATCH), "5.0s");
        assert_string_equal(CELL(r, i, SPV_DELAY), "12.0s");
        assert_int_equal(ROLE(r, i, SPV_DELAY), ROLE_WARN);
        assert_int_equal(r.v[i].sev, SEV_WARN);
        assert_string_equal(CELL(r, i, SPV_EXEC), "1/0");
        assert_int_equal(ROLE(r, i, SPV_EXEC), ROLE_DEFAULT);

        /* unreadable driver: unknown, not zero */
        i = row_of(&r, "broken-driver");
        assert_string_equal(CELL(r, i, SPV_IN), "?");
        assert_string_equal(CELL(r, i, SPV_PROC), "?");
        assert_string_equal(CELL(r, i, SPV_ERROR), "driver UI: GET jobs: HTTP 503 Service "
                            "Unavailable");
        assert_int_equal(ROLE(r, i, SPV_ERROR), ROLE_WARN);

        /* not running: nothing to show */
        i = row_of(&r, "daily-agg");
        assert_string_equal(CELL(r, i, SPV_IN), "-");
        assert_string_equal(CELL(r, i, SPV_DRIVER), "daily-agg-driver");
        assert_string_equal(CELL(r, i, SPV_EXEC), "0/0");
        i = row_of(&r, "new-app");
        assert_string_equal(CELL(r, i, SPV_DRIVER), "-");
        assert_string_equal(CELL(r, i, SPV_ATT), "0");

        /* failed: attempts warn, first line of the error, crit */
        i = row_of(&r, "failed-job");
        assert_string_equal(CELL(r, i, SPV_ATT), "3");
        assert_int_equal(ROLE(r, i, SPV_ATT), ROLE_WARN);
        assert_string_equal(CELL(r, i, SPV_ERROR), "driver container failed with ExitCode: 1, "
                            "Reason: Error");
        assert_int_equal(ROLE(r, i, SPV_ERROR), ROLE_CRIT);
        assert_false(r.v[i].stale);
        table_rows_done(&r);
}

static void test_scheduled_rows(void **state)
{
        struct view_data d = vd(VIEW_SPARK_F_SCHEDULED);
        struct table_rows r;

        (void)state;
        table_rows_init(&r);
        view_spark_rows(&d, &r);
        assert_int_equal(r.n, 2);
        assert_string_equal(r.v[0].id, "spark\tscheduled:processing/nightly-compact");
        assert_string_equal(CELL(r, 0, SPS_NAME), "nightly-compact");
        assert_string_equal(CELL(r, 0, SPS_SCHEDULE), "@every 72h");
        assert_string_equal(CELL(r, 0, SPS_STATE), "Scheduled");
        assert_int_equal(ROLE(r, 0, SPS_STATE), ROLE_OK);
        assert_string_equal(CELL(r, 0, SPS_SUSPEND), "no");
        assert_string_equal(CELL(r, 0, SPS_LAST), "1d10h ago");        /* now-1d10h30m */
        assert_int_equal(ROLE(r, 0, SPS_LAST), ROLE_DEFAULT);
        assert_string_equal(CELL(r, 0, SPS_NEXT), "in 1d13h");         /* now+1d13h30m */
        assert_int_equal(ROLE(r, 0, SPS_NEXT), ROLE_DEFAULT);
        assert_string_equal(CELL(r, 0, SPS_LASTNAME), "daily-agg");
        assert_int_equal(r.v[0].sev, SEV_OK);
        assert_string_equal(CELL(r, 1, SPS_STATE), "FailedValidation");
        assert_int_equal(ROLE(r, 1, SPS_STATE), ROLE_CRIT);
        assert_string_equal(CELL(r, 1, SPS_SUSPEND), "yes");
        assert_string_equal(CELL(r, 1, SPS_LAST), "-");
        assert_string_equal(CELL(r, 1, SPS_NEXT), "-");
        assert_string_equal(CELL(r, 1, SPS_REASON), "invalid cron schedule \"every 7d\"");
        assert_int_equal(r.v[1].sev, SEV_CRIT);
        table_rows_done(&r);
}

static bool has_line(const struct tlines *l, const char *text)
{
        char buf[2048];

        for (size_t i = 0; i < l->n; i++) {
                tline_text(&l->v[i], buf, sizeof buf);
                if (strstr(buf, text))
                        return true;
        }
        return false;
}

static void dump(const struct tlines *l)
{
        char buf[2048];

        for (size_t i = 0; i < l->n; i++) {
                tline_text(&l->v[i], buf, sizeof buf);
                print_message("|%s\n", buf);
        }
}

static void expect(const struct tlines *l, const char *const *want, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!has_line(l, want[i])) {
                        dump(l);
                        fail_msg("missing line: %s", want[i]);
                }
}

static void test_preamble(void **state)
{
        struct view_data d = vd(0);
        struct tlines l;
        static const char *const want[] = {
                "spark  14 applications  4 running (2 streaming)  3 failed  1 behind  "
                "2 scheduled  age 2s",
                "  degraded: 1 driver UI(s) unreadable",
                "showing SparkApplications (s switches)",
        };

        (void)state;
        tlines_init(&l);
        view_spark_preamble(&d, &l);
        expect(&l, want, LO_ARRAY_LEN(want));
        tlines_done(&l);
}

static void test_detail_app(void **state)
{
        struct view_data d = vd(0);
        struct tlines l;
        static const char *const speed[] = {
                "SparkApplication processing/speed-layer  (spark)",
                "  state                RUNNING",
                "  spark app id         " SPEED_ID,
                "  attempts             1 submission, 1 execution",
                "  driver UI            service speed-layer-ui-svc:4040",
                "  executors            2 running, 0 pending, 0 completed, 1 failed, 0 unknown",
                "  last submitted       2026-11-26T10:00:03",
                "  executors            2 active, 1 dead; tasks 3 active, 5 failed, "
                "1118 completed",
                "    3        10.244.1.7:37401         dead   tasks 0 active, 4 failed, 120 done",
                "  failed jobs          2",
                "    job 41  2026-11-26T10:30:04",
                "  failed stages        1",
                "    stage 81.0",
                "    Job aborted due to stage failure: Task 3 in stage 81.0 failed 4 times",
                "  kind                 Structured Streaming (/metrics/json gauges)",
                "  queries              2",
                "  input                1.5k records/s",
                "  processed            1.4k records/s",
                "  batch duration       1.2s",
                "  behind input for     1m10s",
                "  input records/s (now 1.5k/s, 8 polls)",
                "  processed records/s (now 1.4k/s, 8 polls)",
        };
        static const char *const failed[] = {
                "  state                FAILED",
                "Error message",
                "    driver container failed with ExitCode: 1, Reason: Error",
                "    Exception in thread \"main\" java.lang.IllegalStateException: topic orders "
                "not found",
                "  not RUNNING: the driver's REST API is read for running applications only",
        };

        (void)state;
        tlines_init(&l);
        view_spark_detail(&d, "spark\tprocessing/speed-layer", &l);
        expect(&l, speed, LO_ARRAY_LEN(speed));
        tlines_done(&l);

        tlines_init(&l);
        view_spark_detail(&d, "spark\tprocessing/failed-job", &l);
        expect(&l, failed, LO_ARRAY_LEN(failed));
        tlines_done(&l);

        tlines_init(&l);
        view_spark_detail(&d, "spark\tprocessing/broken-driver", &l);
        expect(&l, (const char *const[]){ "  unreadable: GET jobs: HTTP 503 Service "
                                          "Unavailable" }, 1);
        tlines_done(&l);

        tlines_init(&l);
        view_spark_detail(&d, "spark\tprocessing/cdc-enricher", &l);
        expect(&l, (const char *const[]){ "DStream (/streaming/statistics)",
                                          "  scheduling delay     12.0s",
                                          "  processing time      6.2s per batch" }, 3);
        tlines_done(&l);

        tlines_init(&l);
        view_spark_detail(&d, "spark\tprocessing/nope", &l);
        expect(&l, (const char *const[]){ "processing/nope is not in the latest data of "
                                          "spark" }, 1);
        tlines_done(&l);
        tlines_init(&l);
        view_spark_detail(&d, "garbage", &l);
        expect(&l, (const char *const[]){ "no such application" }, 1);
        tlines_done(&l);
}

static void test_detail_sched(void **state)
{
        struct view_data d = vd(VIEW_SPARK_F_SCHEDULED);
        struct tlines l;
        static const char *const want[] = {
                "ScheduledSparkApplication processing/nightly-compact  (spark)",
                "  schedule             @every 72h",
                "  schedule state       Scheduled",
                "  last run             2026-11-26T02:00:00.000Z",
                "  next run             2026-11-29T02:00:00.000Z",
                "  last run name        daily-agg",
                "  last run state       COMPLETED",
        };

        (void)state;
        tlines_init(&l);
        view_spark_detail(&d, "spark\tscheduled:processing/nightly-compact", &l);
        expect(&l, want, LO_ARRAY_LEN(want));
        tlines_done(&l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rows),
                cmocka_unit_test(test_scheduled_rows),
                cmocka_unit_test(test_preamble),
                cmocka_unit_test(test_detail_app),
                cmocka_unit_test(test_detail_sched),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
