/*
 * Spark collector, pure parts, on the fixture set tests/fixtures/kube/spark/
 * (SparkApplications in all 11 states of applicationState.state, two
 * ScheduledSparkApplications, and the driver REST answers of Spark's monitoring REST API reference as
 * served through the service proxy): compact models, the jobs / stages /
 * executors / metrics/json / streaming/statistics parsers, bad bodies, the
 * processing-below-input window, to_json exactly and the alerts exactly.
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

#include "core/snapshot.h"
#include "core/promtext.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/ring.h"
#include "collectors/spark/spark.h"
#include "tu.h"
#include "core/util.h"
#include "tu_promtool.h"

#define PROXY "raw/api/v1/namespaces/processing/services/"
#define SPEED_ID "spark-9f1c2a7e4b3d4e8fa1b2c3d4e5f60718"
#define CDC_ID "spark-1a2b3c4d5e6f708192a3b4c5d6e7f801"
#define BATCH_ID "spark-cccccccccccccccccccccccccccccccc"
#define SPEED(rel) PROXY "speed-layer-ui-svc:4040/proxy/" rel
#define CDC(rel) PROXY "cdc-enricher-ui-svc:4040/proxy/" rel
#define BATCH(rel) PROXY "batch-report-ui-svc:4040/proxy/" rel

/* The clock of these tests, 2026-11-27T12:30:00Z: the fixtures' relative
 * times ({{now-1d2h30m}}, tests/lib/fixture_time.py) are expanded at it, and it
 * is the collector's wall clock (spark_data.now). */
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

/* Every SparkApplication of the fixture, in file order. */
static struct spark_data *load_apps(void)
{
        cJSON *arr = fixture_json("objects/sparkapplications.json"), *o;
        struct spark_data *d = spark_data_new();

        cJSON_ArrayForEach(o, arr) {
                struct spark_app *a = spark_app_from_json(o);

                assert_non_null(a);
                d->apps = xrealloc(d->apps, (d->n_apps + 1) * sizeof *d->apps);
                d->apps[d->n_apps++] = *a;
                free(a);
        }
        cJSON_Delete(arr);
        arr = fixture_json("objects/scheduled.json");
        cJSON_ArrayForEach(o, arr) {
                struct spark_sched *s = spark_sched_from_json(o);

                assert_non_null(s);
                d->scheds = xrealloc(d->scheds, (d->n_scheds + 1) * sizeof *d->scheds);
                d->scheds[d->n_scheds++] = *s;
                free(s);
        }
        cJSON_Delete(arr);
        d->now = NOW_S * 1000;
        return d;
}

static struct spark_app *app(struct spark_data *d, const char *name)
{
        return (struct spark_app *)spark_find(d, "processing", name);
}

static void parse_into(const char *file, struct spark_rest *r,
                       int (*fn)(const char *, size_t, struct spark_rest *, struct err *))
{
        struct err e;
        size_t len;
        char *s = fixture(file, &len);

        err_clear(&e);
        assert_int_equal(fn(s, len, r, &e), 0);
        free(s);
}

/* What the collector would have read from the running drivers. */
static void fill_rest(struct spark_data *d)
{
        struct spark_app *a = app(d, "speed-layer");
        struct err e;
        size_t len;
        char *s;

        a->rest.asked = true;
        parse_into(SPEED("api/v1/applications/" SPEED_ID "/jobs.json"), &a->rest,
                   spark_parse_jobs);
        parse_into(SPEED("api/v1/applications/" SPEED_ID "/stages.json"), &a->rest,
                   spark_parse_stages);
        parse_into(SPEED("api/v1/applications/" SPEED_ID "/executors.json"), &a->rest,
                   spark_parse_executors);
        s = fixture(SPEED("metrics/json.json"), &len);
        err_clear(&e);
        assert_int_equal(spark_parse_metrics(s, len, &a->rest.streaming, &e), 1);
        free(s);
        a->rest.have_streaming = true;

        a = app(d, "cdc-enricher");
        a->rest.asked = true;
        parse_into(CDC("api/v1/applications/" CDC_ID "/jobs.json"), &a->rest, spark_parse_jobs);
        parse_into(CDC("api/v1/applications/" CDC_ID "/stages.json"), &a->rest,
                   spark_parse_stages);
        parse_into(CDC("api/v1/applications/" CDC_ID "/executors.json"), &a->rest,
                   spark_parse_executors);
        s = fixture(CDC("api/v1/applications/" CDC_ID "/streaming/statistics.json"), &len);
        assert_int_equal(spark_parse_dstream(s, len, &a->rest.streaming, &e), 0);
        free(s);
        a->rest.have_streaming = true;

        a = app(d, "broken-driver");
        a->rest.asked = true;
        a->rest.error = xstrdup("GET jobs: HTTP 503 Service Unavailable: no endpoints "
                                "available for service \"broken-driver-ui-svc\"");

        a = app(d, "batch-report");
        a->rest.asked = true;
        parse_into(BATCH("api/v1/applications/" BATCH_ID "/jobs.json"), &a->rest,
                   spark_parse_jobs);
        parse_into(BATCH("api/v1/applications/" BATCH_ID "/stages.json"), &a->rest,
                   spark_parse_stages);
        parse_into(BATCH("api/v1/applications/" BATCH_ID "/executors.json"), &a->rest,
                   spark_parse_executors);
}

/* ---- states and models ---------------------------------------------------- */

static void test_states(void **state)
{
        static const struct { const char *s; enum spark_state st; enum severity sev;
                              enum theme_role role; } t[] = {
                { "", SPARK_ST_NEW, SEV_OK, ROLE_DEFAULT },
                { "SUBMITTED", SPARK_ST_SUBMITTED, SEV_OK, ROLE_DEFAULT },
                { "RUNNING", SPARK_ST_RUNNING, SEV_OK, ROLE_OK },
                { "COMPLETED", SPARK_ST_COMPLETED, SEV_OK, ROLE_OK },
                { "FAILED", SPARK_ST_FAILED, SEV_CRIT, ROLE_CRIT },
                { "SUBMISSION_FAILED", SPARK_ST_SUBMISSION_FAILED, SEV_CRIT, ROLE_CRIT },
                { "PENDING_RERUN", SPARK_ST_PENDING_RERUN, SEV_WARN, ROLE_WARN },
                { "INVALIDATING", SPARK_ST_INVALIDATING, SEV_WARN, ROLE_WARN },
                { "SUCCEEDING", SPARK_ST_SUCCEEDING, SEV_OK, ROLE_OK },
                { "FAILING", SPARK_ST_FAILING, SEV_CRIT, ROLE_CRIT },
                { "UNKNOWN", SPARK_ST_UNKNOWN, SEV_WARN, ROLE_WARN },
                { "RESUMING", SPARK_ST_OTHER, SEV_OK, ROLE_DEFAULT },
                { "running", SPARK_ST_OTHER, SEV_OK, ROLE_DEFAULT },
        };

        (void)state;
        assert_int_equal(spark_state_parse(NULL), SPARK_ST_NEW);
        for (size_t i = 0; i < LO_ARRAY_LEN(t); i++) {
                assert_int_equal(spark_state_parse(t[i].s), t[i].st);
                assert_int_equal(spark_state_sev(t[i].st), t[i].sev);
                assert_int_equal(spark_state_role(t[i].st), t[i].role);
        }
}

static void test_models(void **state)
{
        struct spark_data *d = load_apps();
        int seen[SPARK_ST__COUNT] = { 0 };
        struct spark_app *a;

        (void)state;
        assert_int_equal(d->n_apps, 14);
        for (size_t i = 0; i < d->n_apps; i++)
                seen[d->apps[i].state]++;
        /* every one of the 11 states; RUNNING four times */
        for (int s = 0; s < SPARK_ST_OTHER; s++)
                assert_int_equal(seen[s], s == SPARK_ST_RUNNING ? 4 : 1);
        assert_int_equal(seen[SPARK_ST_OTHER], 0);

        a = app(d, "new-app");
        assert_string_equal(a->state_text, "");
        assert_int_equal(a->submission_attempts, 0);
        assert_null(a->driver_pod);
        assert_null(a->app_id);
        assert_null(a->error);
        assert_int_equal(a->ui_port, -1);
        assert_int_equal(a->submitted_ms, -1);
        assert_true(a->created_ms == 1795687200000LL);  /* 2026-11-26T10:00:00Z */
        assert_string_equal(a->type, "Scala");

        a = app(d, "speed-layer");
        assert_int_equal(a->state, SPARK_ST_RUNNING);
        assert_string_equal(a->app_id, SPEED_ID);
        assert_string_equal(a->driver_pod, "speed-layer-driver");
        assert_string_equal(a->ui_service, "speed-layer-ui-svc");
        assert_int_equal(a->ui_port, 4040);
        assert_int_equal(a->exec_by_state[SPARK_EX_RUNNING], 2);
        assert_int_equal(a->exec_by_state[SPARK_EX_FAILED], 1);
        assert_int_equal(a->exec_by_state[SPARK_EX_PENDING], 0);
        assert_int_equal(a->submission_attempts, 1);
        assert_int_equal(a->execution_attempts, 1);
        assert_true(a->submitted_ms == 1795687203000LL);
        assert_int_equal(a->terminated_ms, -1);        /* null */
        assert_int_equal(a->rest.failed_jobs, -1);
        assert_int_equal(a->behind_ms, -1);

        a = app(d, "failed-job");
        assert_string_equal(a->state_text, "FAILED");
        assert_string_equal(a->error, "driver container failed with ExitCode: 1, Reason: Error\n"
                            "Exception in thread \"main\" java.lang.IllegalStateException: "
                            "topic orders not found");
        assert_int_equal(a->submission_attempts, 3);
        assert_true(a->terminated_ms == 1795683900000LL);
        assert_int_equal(a->exec_by_state[SPARK_EX_FAILED], 1);

        a = app(d, "bad-submit");
        assert_int_equal(a->state, SPARK_ST_SUBMISSION_FAILED);
        assert_int_equal(a->submission_attempts, 5);
        assert_string_equal(a->error, "failed to run spark-submit: exit status 1");

        a = app(d, "failing-app");
        assert_int_equal(a->exec_by_state[SPARK_EX_FAILED], 2);
        a = app(d, "cdc-enricher");
        assert_int_equal(a->exec_by_state[SPARK_EX_PENDING], 1);
        a = app(d, "daily-agg");
        assert_int_equal(a->exec_by_state[SPARK_EX_COMPLETED], 2);
        assert_null(a->ui_service);

        /* scheduled */
        assert_int_equal(d->n_scheds, 2);
        assert_string_equal(d->scheds[0].name, "nightly-compact");
        assert_string_equal(d->scheds[0].schedule, "@every 72h");
        assert_false(d->scheds[0].suspend);
        assert_string_equal(d->scheds[0].schedule_state, "Scheduled");
        assert_true(d->scheds[0].last_run_ms == 1795658400000LL);
        assert_true(d->scheds[0].next_run_ms == 1795917600000LL);      /* 11-29T02:00 */
        assert_string_equal(d->scheds[0].last_run_name, "daily-agg");
        assert_true(d->scheds[1].suspend);
        assert_string_equal(d->scheds[1].schedule_state, "FailedValidation");
        assert_string_equal(d->scheds[1].reason, "invalid cron schedule \"every 7d\"");
        assert_int_equal(d->scheds[1].last_run_ms, -1);
        assert_null(d->scheds[1].last_run_name);
        spark_data_free(d);
}

static void test_model_rejects(void **state)
{
        static const char *const bad[] = {
                "[]", "{}", "{\"metadata\":{}}", "{\"metadata\":{\"name\":\"\"}}",
                "{\"metadata\":{\"name\":7}}", "\"x\"",
        };
        cJSON *j;
        struct spark_app *a;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                j = cJSON_Parse(bad[i]);
                assert_null(spark_app_from_json(j));
                assert_null(spark_sched_from_json(j));
                cJSON_Delete(j);
        }
        /* wrong types inside status are ignored, not trusted */
        j = cJSON_Parse("{\"metadata\":{\"name\":\"x\",\"namespace\":\"n\"},\"status\":{"
                        "\"applicationState\":{\"state\":5,\"errorMessage\":\"\"},"
                        "\"submissionAttempts\":\"3\",\"executorState\":{\"a\":1,\"b\":\"RUNNING\"},"
                        "\"driverInfo\":{\"webUIPort\":99999}}}");
        a = spark_app_from_json(j);
        assert_non_null(a);
        assert_int_equal(a->state, SPARK_ST_NEW);
        assert_null(a->error);
        assert_int_equal(a->submission_attempts, 0);
        assert_int_equal(a->exec_by_state[SPARK_EX_UNKNOWN], 1);
        assert_int_equal(a->exec_by_state[SPARK_EX_RUNNING], 1);
        assert_int_equal(a->ui_port, -1);
        spark_app_free(a);
        cJSON_Delete(j);
}

/* ---- driver REST parsers -------------------------------------------------- */

static void test_rest_parsers(void **state)
{
        struct spark_data *d = load_apps();
        struct spark_app *a;

        (void)state;
        fill_rest(d);
        a = app(d, "speed-layer");
        assert_int_equal(a->rest.failed_jobs, 2);
        assert_int_equal(a->rest.n_jobs, 2);
        assert_int_equal(a->rest.jobs[0].id, 41);       /* newest first */
        assert_int_equal(a->rest.jobs[0].failed_tasks, 2);
        assert_true(a->rest.jobs[0].completed_ms == 1795689004120LL);
        assert_string_equal(a->rest.jobs[0].name, "start at SpeedLayer.scala:88");
        assert_int_equal(a->rest.jobs[1].id, 12);
        assert_int_equal(a->rest.failed_stages, 1);
        assert_int_equal(a->rest.stages[0].id, 81);
        assert_int_equal(a->rest.stages[0].attempt, 0);
        assert_non_null(strstr(a->rest.stages[0].failure, "TimeoutException: Timeout of 60000ms"));
        assert_int_equal(a->rest.exec_active, 2);
        assert_int_equal(a->rest.exec_dead, 1);
        assert_int_equal(a->rest.tasks_active, 3);
        assert_int_equal(a->rest.tasks_failed, 5);
        assert_int_equal(a->rest.tasks_completed, 1118);
        assert_int_equal(a->rest.n_execs, 4);
        assert_string_equal(a->rest.execs[3].id, "3");
        assert_false(a->rest.execs[3].active);
        assert_string_equal(a->rest.execs[3].host, "10.244.1.7:37401");

        /* Structured Streaming: two queries (one with a dotted name) */
        assert_int_equal(a->rest.streaming.kind, SPARK_STREAM_STRUCTURED);
        assert_int_equal(a->rest.streaming.queries, 2);
        assert_true(a->rest.streaming.input_rate == 1500.5);
        assert_true(a->rest.streaming.processing_rate == 1380.0);
        assert_true(a->rest.streaming.batch_ms == 1250.0);
        assert_true(isnan(a->rest.streaming.sched_delay_ms));

        /* DStream: processing rate = 400 x 5000 / 6250 */
        a = app(d, "cdc-enricher");
        assert_int_equal(a->rest.streaming.kind, SPARK_STREAM_DSTREAM);
        assert_true(a->rest.streaming.input_rate == 400.0);
        assert_true(a->rest.streaming.processing_rate == 320.0);
        assert_true(a->rest.streaming.batch_ms == 5000.0);
        assert_true(a->rest.streaming.sched_delay_ms == 2500.0);
        assert_true(a->rest.streaming.proc_time_ms == 6250.0);
        assert_int_equal(a->rest.failed_jobs, 0);
        assert_int_equal(a->rest.exec_active, 1);

        a = app(d, "batch-report");
        assert_int_equal(a->rest.failed_jobs, 0);
        assert_int_equal(a->rest.failed_stages, 0);
        assert_int_equal(a->rest.exec_active, 2);
        assert_int_equal(a->rest.tasks_active, 8);
        spark_data_free(d);
}

static void test_metrics_cases(void **state)
{
        struct spark_streaming s;
        struct err e;
        const char *j;

        (void)state;
        /* a query before its first batch: NaN as Jackson writes it (a string) */
        j = "{\"gauges\":{\"app.driver.spark.streaming.q1.inputRate-total\":{\"value\":10},"
            "\"app.driver.spark.streaming.q1.processingRate-total\":{\"value\":20},"
            "\"app.driver.spark.streaming.q2.inputRate-total\":{\"value\":5},"
            "\"app.driver.spark.streaming.q2.processingRate-total\":{\"value\":\"NaN\"},"
            "\"app.driver.spark.streaming.q2.latency\":{\"value\":\"NaN\"}}}";
        err_clear(&e);
        assert_int_equal(spark_parse_metrics(j, strlen(j), &s, &e), 1);
        assert_int_equal(s.queries, 2);
        assert_true(s.input_rate == 15.0);
        assert_true(isnan(s.processing_rate));     /* unknown, not 20 */
        assert_true(isnan(s.batch_ms));

        /* a custom spark.metrics.namespace prefix; no other gauges */
        j = "{\"gauges\":{\"speed.driver.spark.streaming.agg.inputRate-total\":{\"value\":1.5},"
            "\"speed.driver.spark.streaming.agg.processingRate-total\":{\"value\":2.5},"
            "\"speed.driver.spark.streaming.agg.latency\":{\"value\":300}}}";
        assert_int_equal(spark_parse_metrics(j, strlen(j), &s, &e), 1);
        assert_true(s.input_rate == 1.5 && s.processing_rate == 2.5 && s.batch_ms == 300);

        /* no streaming gauges: not Structured Streaming */
        j = "{\"version\":\"4.0.0\",\"gauges\":{\"a.driver.mySpark.streaming.x.latency\":"
            "{\"value\":1},\"a.driver.spark.streaming.inputRate-total\":{\"value\":3}}}";
        assert_int_equal(spark_parse_metrics(j, strlen(j), &s, &e), 0);
        assert_int_equal(s.kind, SPARK_STREAM_NONE);
        assert_int_equal(spark_parse_metrics("{}", 2, &s, &e), 0);

        /* bad bodies */
        err_clear(&e);
        assert_int_equal(spark_parse_metrics("<html>", 6, &s, &e), -1);
        assert_non_null(strstr(e.msg, "metrics/json: not JSON"));
        err_clear(&e);
        assert_int_equal(spark_parse_metrics("[1]", 3, &s, &e), -1);
        assert_string_equal(e.msg, "metrics/json: expected a JSON object");
        assert_int_equal(spark_parse_metrics("{\"gauges\":{\"a.spark.streaming.q.latency\"", 40,
                                             &s, &e), -1);
}

static void test_dstream_cases(void **state)
{
        struct spark_streaming s;
        struct err e;
        const char *j;

        (void)state;
        /* no batches yet: the averages are absent (Option None) */
        j = "{\"startTime\":\"2026-11-26T10:00:10.000GMT\",\"batchDuration\":2000,"
            "\"numReceivers\":0,\"numActiveBatches\":0}";
        err_clear(&e);
        assert_int_equal(spark_parse_dstream(j, strlen(j), &s, &e), 0);
        assert_true(s.batch_ms == 2000.0);
        assert_true(isnan(s.input_rate));
        assert_true(isnan(s.processing_rate));
        assert_true(isnan(s.sched_delay_ms));
        /* avgProcessingTime 0: rate unknown, no division by zero */
        j = "{\"batchDuration\":1000,\"avgInputRate\":10,\"avgProcessingTime\":0}";
        assert_int_equal(spark_parse_dstream(j, strlen(j), &s, &e), 0);
        assert_true(isnan(s.processing_rate));
        assert_true(s.input_rate == 10.0);

        err_clear(&e);
        assert_int_equal(spark_parse_dstream("{\"message\":\"no streaming\"}", 26, &s, &e), -1);
        assert_string_equal(e.msg, "streaming/statistics: not a StreamingStatistics object");
        err_clear(&e);
        assert_int_equal(spark_parse_dstream("{\"batchDuration\":", 17, &s, &e), -1);
        assert_string_equal(e.msg, "streaming/statistics: not JSON");
}

static void test_rest_bad(void **state)
{
        struct spark_rest r;
        struct err e;
        const char *html = "<html><body>Corporate proxy login</body></html>";

        (void)state;
        spark_rest_init(&r);
        err_clear(&e);
        assert_int_equal(spark_parse_jobs(html, strlen(html), &r, &e), -1);
        assert_string_equal(e.msg, "jobs: not JSON (an HTML page: is this the Spark UI?)");
        assert_int_equal(r.failed_jobs, -1);    /* still unknown */
        err_clear(&e);
        assert_int_equal(spark_parse_stages("{\"a\":1}", 7, &r, &e), -1);
        assert_string_equal(e.msg, "stages: expected a JSON array");
        err_clear(&e);
        assert_int_equal(spark_parse_executors("[{\"id\":", 7, &r, &e), -1);
        assert_string_equal(e.msg, "executors: not JSON (truncated or garbled)");
        /* elements of the wrong shape are skipped */
        assert_int_equal(spark_parse_jobs("[1,\"x\",{\"jobId\":3,\"status\":\"FAILED\"},"
                                          "{\"jobId\":4,\"status\":\"SUCCEEDED\"}]", 73, &r,
                                          &e), 0);
        assert_int_equal(r.failed_jobs, 1);
        assert_int_equal(r.jobs[0].id, 3);
        assert_int_equal(r.jobs[0].completed_ms, -1);
        assert_int_equal(spark_parse_executors("[{\"isActive\":true},{\"id\":\"driver\"}]", 35,
                                               &r, &e), 0);
        assert_int_equal(r.exec_active, 0);
        assert_int_equal(r.n_execs, 1);
        spark_rest_done(&r);
}

static void test_time(void **state)
{
        (void)state;
        assert_true(spark_time_parse("2026-11-26T10:30:04.120GMT") == 1795689004120LL);
        assert_true(spark_time_parse("2026-11-26T10:30:04GMT") == 1795689004000LL);
        assert_true(spark_time_parse("2026-11-26T10:30:04.1GMT") == 1795689004100LL);
        assert_int_equal(spark_time_parse("1969-12-31T23:59:59.999GMT"), -1);
        assert_int_equal(spark_time_parse("2026-11-26T10:30:04.120"), -1);
        assert_int_equal(spark_time_parse("2026-11-26T10:30:04.GMT"), -1);
        assert_int_equal(spark_time_parse("yesterday"), -1);
        assert_int_equal(spark_time_parse(NULL), -1);
}

/* ---- processing below input, over a window --------------------------------- */

static void test_behind(void **state)
{
        struct ring in, proc;

        (void)state;
        ring_init(&in);
        ring_init(&proc);
        assert_int_equal(spark_behind_ms(&in, &proc), -1);
        /* keeping up */
        ring_push(&in, 0, 100);
        ring_push(&proc, 0, 120);
        assert_int_equal(spark_behind_ms(&in, &proc), 0);
        /* one sample below is not a window */
        ring_push(&in, 10000, 100);
        ring_push(&proc, 10000, 90);
        assert_int_equal(spark_behind_ms(&in, &proc), 0);
        /* below for three polls: 20 s */
        ring_push(&in, 20000, 100);
        ring_push(&proc, 20000, 95);
        ring_push(&in, 30000, 150);
        ring_push(&proc, 30000, 149.5);
        assert_int_equal(spark_behind_ms(&in, &proc), 20000);
        /* equal is not below: the run ends */
        ring_push(&in, 40000, 100);
        ring_push(&proc, 40000, 100);
        assert_int_equal(spark_behind_ms(&in, &proc), 0);
        /* an unknown sample breaks the run too */
        ring_push(&in, 50000, 100);
        ring_push(&proc, 50000, 10);
        ring_push(&in, 60000, 100);
        ring_push(&proc, 60000, NAN);
        ring_push(&in, 70000, 100);
        ring_push(&proc, 70000, 10);
        ring_push(&in, 80000, 100);
        ring_push(&proc, 80000, 10);
        assert_int_equal(spark_behind_ms(&in, &proc), 10000);
        /* a full ring below: the whole span */
        ring_init(&in);
        ring_init(&proc);
        for (int i = 0; i < RING_CAP + 30; i++) {
                ring_push(&in, i * 1000, 10);
                ring_push(&proc, i * 1000, 9);
        }
        assert_int_equal(spark_behind_ms(&in, &proc), (RING_CAP - 1) * 1000);
}

/* ---- to_json and alerts ------------------------------------------------------ */

static struct threshold thr[8];
static struct source_cfg src;

static void setup_src(void)
{
        size_t n = 0;

        memset(&src, 0, sizeof src);
        src.name = (char *)"spark";
        src.kind = (char *)"spark";
        src.ops = &coll_spark_ops;
        for (; coll_spark_ops.thresholds[n].name; n++) {
                thr[n].def = &coll_spark_ops.thresholds[n];
                thr[n].warn = thr[n].def->warn;
                thr[n].crit = thr[n].def->crit;
        }
        src.thresholds = thr;
        src.n_thresholds = n;
}

static void test_json_exact(void **state)
{
        struct spark_data *full = load_apps(), *d = spark_data_new();
        static const char *const keep[] = { "new-app", "speed-layer", "broken-driver",
                                            "batch-report", "failed-job" };
        cJSON *o = cJSON_CreateObject();
        char *s;

        (void)state;
        fill_rest(full);
        app(full, "speed-layer")->behind_ms = 20000;
        /* move five apps into d, in this order */
        d->apps = xcalloc(LO_ARRAY_LEN(keep), sizeof *d->apps);
        for (size_t i = 0; i < LO_ARRAY_LEN(keep); i++) {
                struct spark_app *a = app(full, keep[i]);

                d->apps[d->n_apps++] = *a;
                memset(a, 0, sizeof *a);
                a->namespace_ = xstrdup("gone");
                a->name = xstrdup(keep[i]);
                a->state_text = xstrdup("");
        }
        d->scheds = full->scheds;
        d->n_scheds = full->n_scheds;
        full->scheds = NULL;
        full->n_scheds = 0;
        coll_spark_ops.to_json(d, o);
        s = cJSON_PrintUnformatted(o);
        assert_string_equal(s,
                "{\"applications\":["
                "{\"namespace\":\"processing\",\"name\":\"new-app\",\"state\":\"\",\"attempts\":0,"
                "\"execution_attempts\":0,\"driver_pod\":null,\"executors_running\":0,"
                "\"executors_failed\":0,\"error\":null,\"app_id\":null,\"type\":\"Scala\","
                "\"submitted_at\":null,\"terminated_at\":null,\"streaming\":null,"
                "\"failed_jobs\":null,\"failed_stages\":null,\"driver_error\":null},"
                "{\"namespace\":\"processing\",\"name\":\"speed-layer\",\"state\":\"RUNNING\","
                "\"attempts\":1,\"execution_attempts\":1,\"driver_pod\":\"speed-layer-driver\","
                "\"executors_running\":2,\"executors_failed\":1,\"error\":null,"
                "\"app_id\":\"" SPEED_ID "\",\"type\":\"Scala\","
                "\"submitted_at\":\"2026-11-26T10:00:03.000Z\",\"terminated_at\":null,"
                "\"streaming\":{\"kind\":\"structured\",\"input_rate\":1500.5,"
                "\"processing_rate\":1380,\"batch_duration_ms\":1250,"
                "\"scheduling_delay_ms\":null,\"behind_ms\":20000},"
                "\"failed_jobs\":2,\"failed_stages\":1,\"driver_error\":null},"
                "{\"namespace\":\"processing\",\"name\":\"broken-driver\",\"state\":\"RUNNING\","
                "\"attempts\":1,\"execution_attempts\":1,\"driver_pod\":\"broken-driver-driver\","
                "\"executors_running\":1,\"executors_failed\":0,\"error\":null,"
                "\"app_id\":\"spark-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\",\"type\":\"Scala\","
                "\"submitted_at\":\"2026-11-26T10:00:03.000Z\",\"terminated_at\":null,"
                "\"streaming\":null,\"failed_jobs\":null,\"failed_stages\":null,"
                "\"driver_error\":\"GET jobs: HTTP 503 Service Unavailable: no endpoints "
                "available for service \\\"broken-driver-ui-svc\\\"\"},"
                "{\"namespace\":\"processing\",\"name\":\"batch-report\",\"state\":\"RUNNING\","
                "\"attempts\":1,\"execution_attempts\":1,\"driver_pod\":\"batch-report-driver\","
                "\"executors_running\":2,\"executors_failed\":0,\"error\":null,"
                "\"app_id\":\"" BATCH_ID "\",\"type\":\"Python\","
                "\"submitted_at\":\"2026-11-26T10:00:03.000Z\",\"terminated_at\":null,"
                "\"streaming\":null,\"failed_jobs\":0,\"failed_stages\":0,\"driver_error\":null},"
                "{\"namespace\":\"processing\",\"name\":\"failed-job\",\"state\":\"FAILED\","
                "\"attempts\":3,\"execution_attempts\":3,\"driver_pod\":\"failed-job-driver\","
                "\"executors_running\":0,\"executors_failed\":1,"
                "\"error\":\"driver container failed with ExitCode: 1, Reason: Error\\n"
                "Exception in thread \\\"main\\\" java.lang.IllegalStateException: topic orders "
                "not found\","
                "\"app_id\":\"spark-eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\",\"type\":\"Scala\","
                "\"submitted_at\":\"2026-11-26T09:00:00.000Z\","
                "\"terminated_at\":\"2026-11-26T09:05:00.000Z\",\"streaming\":null,"
                "\"failed_jobs\":null,\"failed_stages\":null,\"driver_error\":null}],"
                "\"scheduled\":["
                "{\"namespace\":\"processing\",\"name\":\"nightly-compact\","
                "\"schedule\":\"@every 72h\",\"suspend\":false,"
                "\"last_run\":\"2026-11-26T02:00:00.000Z\",\"next_run\":\"2026-11-29T02:00:00.000Z\","
                "\"schedule_state\":\"Scheduled\",\"last_run_name\":\"daily-agg\"},"
                "{\"namespace\":\"processing\",\"name\":\"weekly-backfill\","
                "\"schedule\":\"every 7d\",\"suspend\":true,\"last_run\":null,\"next_run\":null,"
                "\"schedule_state\":\"FailedValidation\",\"last_run_name\":null}],"
                "\"notes\":[]}");
        free(s);
        cJSON_Delete(o);
        spark_data_free(d);
        spark_data_free(full);
}

static void test_alerts_exact(void **state)
{
        struct spark_data *d = load_apps();
        struct alert_list l;
        char line[512];
        static const char *const want[] = {
                "warn streaming_behind_ms processing/speed-layer: streaming application "
                "processing/speed-layer processes 1380.0 rec/s, below its input 1500.5 rec/s, "
                "for 1m10s",
                "warn executors_failed processing/speed-layer: application "
                "processing/speed-layer has 1 FAILED executor(s) (2 running)",
                "warn driver_ui processing/broken-driver: driver UI of processing/broken-driver "
                "unreadable: GET jobs: HTTP 503 Service Unavailable: no endpoints available "
                "for service \"broken-driver-ui-svc\"",
                "crit app_failed processing/failed-job: application processing/failed-job is "
                "FAILED: driver container failed with ExitCode: 1, Reason: Error",
                "crit app_failed processing/bad-submit: application processing/bad-submit is "
                "SUBMISSION_FAILED: failed to run spark-submit: exit status 1",
                "warn app_state processing/rerun-app: application processing/rerun-app is "
                "PENDING_RERUN",
                "warn app_state processing/invalidating-app: application "
                "processing/invalidating-app is INVALIDATING",
                "crit app_failed processing/failing-app: application processing/failing-app is "
                "FAILING: executor lost: OOMKilled",
                "warn app_state processing/unknown-app: application processing/unknown-app is "
                "UNKNOWN",
                "crit schedule_state processing/weekly-backfill: scheduled application "
                "processing/weekly-backfill failed validation: invalid cron schedule "
                "\"every 7d\"",
        };
        size_t k = 0;

        (void)state;
        setup_src();
        fill_rest(d);
        app(d, "speed-layer")->behind_ms = 70000;       /* past the 60 s default */
        app(d, "cdc-enricher")->behind_ms = 0;
        alert_list_init(&l);
        coll_spark_ops.alerts(&src, d, &l);
        /* speed-layer alerts come in the code's order: executors first */
        for (size_t i = 0; i < l.n; i++) {
                snprintf(line, sizeof line, "%s %s %s: %s", severity_name(l.v[i].sev),
                         l.v[i].metric, l.v[i].subject, l.v[i].message);
                if (strcmp(l.v[i].metric, "streaming_behind_ms") == 0)
                        assert_string_equal(line, want[0]);
                else
                        assert_string_equal(line, want[++k]);
        }
        assert_int_equal(l.n, LO_ARRAY_LEN(want));
        /* cdc-enricher's 2.5 s scheduling delay is under the 10 s warn */
        alert_list_done(&l);

        /* the DStream delay past warn, the speed layer not behind any more */
        app(d, "cdc-enricher")->rest.streaming.sched_delay_ms = 12000;
        app(d, "speed-layer")->behind_ms = 50000;
        alert_list_init(&l);
        coll_spark_ops.alerts(&src, d, &l);
        k = 0;
        for (size_t i = 0; i < l.n; i++) {
                if (strcmp(l.v[i].metric, "streaming_behind_ms") == 0)
                        fail_msg("50 s behind is under the 60 s default");
                if (strcmp(l.v[i].metric, "scheduling_delay_ms") == 0) {
                        assert_int_equal(l.v[i].sev, SEV_WARN);
                        assert_string_equal(l.v[i].subject, "processing/cdc-enricher");
                        k++;
                }
        }
        assert_int_equal(k, 1);
        alert_list_done(&l);
        assert_true(coll_spark_ops.key_metric(d) == 3.0);
        coll_spark_ops.summary(d, line, sizeof line);
        assert_string_equal(line, "14 apps: 4 running (2 streaming), 3 failed; 2 scheduled");
        spark_data_free(d);
}


/* ---- config ------------------------------------------------------------------ */

static struct config *cfg(const char *spark_keys, struct err *e)
{
        char *y = xasprintf("sources:\n"
                            "  - name: k8s\n"
                            "    kind: kubernetes\n"
                            "    kubeconfig: /nonexistent/kubeconfig\n"
                            "  - name: prom\n"
                            "    kind: prometheus\n"
                            "    url: http://127.0.0.1:9090\n"
                            "  - name: spark\n"
                            "    kind: spark\n"
                            "%s", spark_keys);
        struct config *c;

        err_clear(e);
        c = config_load_string(y, strlen(y), "<t>", e);
        free(y);
        return c;
}

static void test_config(void **state)
{
        static const struct { const char *keys, *msg; } bad[] = {
                { "    namespaces: [processing]\n", "kubernetes" },
                { "    kubernetes: prom\n",
                  "kubernetes: source \"prom\" is of kind prometheus, not kubernetes" },
                { "    kubernetes: nosuch\n", "nosuch" },
                { "    kubernetes: k8s\n    namespaces: [Processing]\n",
                  "namespaces: \"Processing\" is not a namespace name" },
                { "    kubernetes: k8s\n    ui_urls: {speed: \"ftp://x\"}\n", "ui_urls: speed: " },
                { "    kubernetes: k8s\n    ui_urls: {speed: \"http://u:pw@x\"}\n",
                  "ui_urls: speed: " },
                { "    kubernetes: k8s\n    watch: maybe\n",
                  "watch: expected true or false, got \"maybe\"" },
                { "    kubernetes: k8s\n    ui_url: {a: http://x}\n", "ui_urls" },
        };
        const struct spark_cfg *sc;
        struct config *c;
        struct err e;

        (void)state;
        c = cfg("    kubernetes: k8s\n    namespaces: [processing, batch]\n"
                "    ui_urls: {speed-layer: \"http://10.0.0.1:4040/\"}\n", &e);
        if (!c)
                fail_msg("%s", e.msg);
        sc = config_source(c, "spark")->kind_cfg;
        assert_string_equal(sc->kubernetes.src->name, "k8s");
        assert_int_equal(sc->namespaces.n, 2);
        assert_int_equal(sc->ui_urls.n, 1);
        assert_null(sc->watch);         /* unset: watch */
        assert_true(config_source(c, "spark")->interval_ms == 10000);
        config_free(c);
        c = cfg("    kubernetes: k8s\n    watch: false\n", &e);
        assert_non_null(c);
        config_free(c);
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                c = cfg(bad[i].keys, &e);
                if (c)
                        fail_msg("accepted: %s", bad[i].keys);
                if (!strstr(e.msg, bad[i].msg))
                        fail_msg("%s: got \"%s\", want \"%s\"", bad[i].keys, e.msg, bad[i].msg);
        }
}

/* ---- /metrics ------------------------------------------------------------ */

/* The kind's metrics hook on the same data as the JSON test: exact text
 * (tests/fixtures/kube/spark/metrics.prom), which promtool check metrics accepts. */
static void test_metrics(void **state)
{
        struct source_cfg msrc = { .name = "spark", .kind = "spark", .ops = &coll_spark_ops };
        struct snapshot snap = { .src = &msrc };
        struct promtext *p = promtext_new();
        char *text;

        (void)state;
        struct spark_data *d = load_apps();

        fill_rest(d);
        app(d, "speed-layer")->behind_ms = 20000;
        snap.data = d;
        assert_non_null(coll_spark_ops.metrics);
        coll_spark_ops.metrics(&snap, &msrc, p);
        assert_int_equal(promtext_errors(p), 0);
        text = promtext_finish(p, NULL);
        tu_metrics_expect(text, "tests/fixtures/kube/spark/metrics.prom");
        free(text);
        promtext_free(p);
        spark_data_free(d);
}


int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_states),
                cmocka_unit_test(test_models),
                cmocka_unit_test(test_model_rejects),
                cmocka_unit_test(test_rest_parsers),
                cmocka_unit_test(test_metrics_cases),
                cmocka_unit_test(test_dstream_cases),
                cmocka_unit_test(test_rest_bad),
                cmocka_unit_test(test_time),
                cmocka_unit_test(test_behind),
                cmocka_unit_test(test_json_exact),
                cmocka_unit_test(test_alerts_exact),
                cmocka_unit_test(test_metrics),
                cmocka_unit_test(test_config),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
