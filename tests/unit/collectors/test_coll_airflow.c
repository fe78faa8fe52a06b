/*
 * Unit tests for the Airflow collector's pure parts, on the fixtures in
 * tests/fixtures/airflow (shaped after Airflow's REST API reference: Airflow 2 /api/v1 and
 * Airflow 3 /api/v2 answers, problem+json and FastAPI errors, an nginx
 * HTML page, a truncated body). Covers time parsing, state colours, every
 * parser with exact values at a fixed `now`, lateness, the JSON output
 * (exact), the alert rules (exact) and config validation. No server, no
 * curses. The Airflow pane is tested in tests/unit/views/test_view_airflow.c.
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

#include "collectors/airflow/airflow.h"
#include "core/promtext.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/snapshot.h"
#include "tu.h"
#include "tu_samples.h"
#include "core/util.h"
#include "tu_promtool.h"

#define NOW 1714651200000LL     /* 2024-05-02T12:00:00Z */

static char *fixture(const char *name, size_t *len)
{
        return tu_fixture_file("airflow", name, len);
}

static void test_time(void **state)
{
        (void)state;
        assert_int_equal(airflow_time_parse("2024-05-02T12:00:00+00:00"), NOW);
        assert_int_equal(airflow_time_parse("2024-05-02T12:00:00Z"), NOW);
        assert_int_equal(airflow_time_parse("2024-05-02T12:00:00.30Z"), NOW + 300);
        assert_int_equal(airflow_time_parse("2024-05-02T12:00:01.500000+00:00"), NOW + 1500);
        assert_int_equal(airflow_time_parse("2024-05-02T14:00:00+02:00"), NOW);
        assert_int_equal(airflow_time_parse("2024-05-02T07:30:00-0430"), NOW);
        assert_int_equal(airflow_time_parse(NULL), -1);
        assert_int_equal(airflow_time_parse(""), -1);
        assert_int_equal(airflow_time_parse("2024-05-02"), -1);
        assert_int_equal(airflow_time_parse("2024-05-02T12:00:00+00:00junk"), -1);
        assert_int_equal(airflow_time_parse("2024-13-02T12:00:00Z"), -1);
}

static void test_states(void **state)
{
        /* Every DagRun and TaskInstance state of Airflow's REST API reference. */
        static const struct {
                const char *s;
                enum severity sev;
                enum theme_role role;
        } want[] = {
                { "queued", SEV_OK, ROLE_DIM },         { "running", SEV_OK, ROLE_OK },
                { "success", SEV_OK, ROLE_OK },         { "failed", SEV_CRIT, ROLE_CRIT },
                { NULL, SEV_OK, ROLE_DIM },             { "scheduled", SEV_OK, ROLE_DIM },
                { "up_for_retry", SEV_WARN, ROLE_WARN },
                { "up_for_reschedule", SEV_OK, ROLE_DIM },
                { "upstream_failed", SEV_WARN, ROLE_WARN },
                { "skipped", SEV_OK, ROLE_DIM },        { "removed", SEV_OK, ROLE_DIM },
                { "restarting", SEV_WARN, ROLE_WARN },  { "deferred", SEV_OK, ROLE_DIM },
                { "shutdown", SEV_WARN, ROLE_WARN },    { "sensing", SEV_OK, ROLE_OK },
                { "brand_new_state", SEV_OK, ROLE_DEFAULT },
        };

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(want); i++) {
                assert_int_equal(airflow_state_sev(want[i].s), want[i].sev);
                assert_int_equal(airflow_state_role(want[i].s), want[i].role);
        }
        assert_int_equal(airflow_run_state_parse("queued"), AF_RUN_QUEUED);
        assert_int_equal(airflow_run_state_parse("running"), AF_RUN_RUNNING);
        assert_int_equal(airflow_run_state_parse("success"), AF_RUN_SUCCESS);
        assert_int_equal(airflow_run_state_parse("failed"), AF_RUN_FAILED);
        assert_int_equal(airflow_run_state_parse("other"), AF_RUN_OTHER);
        assert_int_equal(airflow_run_state_parse(NULL), AF_RUN_OTHER);
        assert_string_equal(airflow_run_state_name(AF_RUN_FAILED), "failed");
}

static void test_parse_dags_v1(void **state)
{
        struct af_data *d = tu_af_sample_v1(NOW);
        const struct af_dag *g;

        (void)state;
        assert_int_equal(d->n_dags, 4);
        g = &d->dags[0];
        assert_string_equal(g->dag_id, "nightly_compact");
        assert_false(g->paused);
        assert_string_equal(g->schedule, "0 2 * * *");
        assert_int_equal(g->next_due, airflow_time_parse("2024-05-03T02:00:00Z"));
        assert_int_equal(g->overdue_s, 0);
        g = &d->dags[1];
        assert_string_equal(g->dag_id, "reconcile_hourly");
        assert_string_equal(g->schedule, "every 3600s");
        assert_true(g->import_errors);
        assert_int_equal(g->overdue_s, 7200);
        g = &d->dags[2];
        assert_string_equal(g->dag_id, "adhoc_backfill");
        assert_true(g->paused);
        assert_null(g->schedule);
        assert_int_equal(g->next_due, -1);
        assert_int_equal(g->overdue_s, -1);
        g = &d->dags[3];
        assert_string_equal(g->schedule, "*/30 * * * *");
        assert_int_equal(g->overdue_s, 0);
        airflow_data_free(d);
}

static void test_parse_dags_globs_pages(void **state)
{
        const char *globs[] = { "nightly_*", "spark_batch" };
        struct af_data *d = airflow_data_new();
        struct err err = { 0 };
        size_t len, pn, total;
        char *b = fixture("v1_dags.json", &len);

        (void)state;
        assert_int_equal(airflow_parse_dags(b, len, AF_API_V1, globs, 2, d, &pn, &total, &err), 0);
        assert_int_equal(pn, 4);
        assert_int_equal(total, 4);
        assert_int_equal(d->n_dags, 2);
        assert_string_equal(d->dags[0].dag_id, "nightly_compact");
        assert_string_equal(d->dags[1].dag_id, "spark_batch");
        /* A second page appends. */
        assert_int_equal(airflow_parse_dags(b, len, AF_API_V1, NULL, 0, d, &pn, &total, &err), 0);
        assert_int_equal(d->n_dags, 6);
        free(b);
        airflow_data_free(d);
}

static void test_parse_dags_v2(void **state)
{
        struct af_data *d = airflow_data_new();
        struct err err = { 0 };
        size_t len, pn, total;
        char *b = fixture("v2_dags.json", &len);

        (void)state;
        assert_int_equal(airflow_parse_dags(b, len, AF_API_V2, NULL, 0, d, &pn, &total, &err), 0);
        free(b);
        assert_int_equal(d->n_dags, 2);
        assert_string_equal(d->dags[0].schedule, "0 2 * * *");
        assert_true(d->dags[0].active);
        /* v2: next_dagrun_run_after, not the data interval end. */
        assert_int_equal(d->dags[0].next_due, airflow_time_parse("2024-05-02T11:00:00Z"));
        assert_int_equal(airflow_overdue_s(&d->dags[0], NOW), 3600);
        assert_null(d->dags[1].schedule);
        assert_int_equal(airflow_overdue_s(&d->dags[1], NOW), -1);
        airflow_data_free(d);
}

static void test_parse_runs_v1(void **state)
{
        struct af_data *d = tu_af_sample_v1(NOW);
        const struct af_dag *g = &d->dags[0];

        (void)state;
        assert_true(g->have_last);
        assert_string_equal(g->last_run.run_id, "manual__2024-05-02T10:00:00+00:00");
        assert_string_equal(g->last_run.state, "running");
        assert_string_equal(g->last_run.run_type, "manual");
        assert_int_equal(g->last_run.logical_date, airflow_time_parse("2024-05-02T10:00:00Z"));
        assert_int_equal(g->last_run.start, airflow_time_parse("2024-05-02T10:00:01.5Z"));
        assert_int_equal(g->last_run.end, -1);
        assert_true(isnan(g->last_run.duration_s));
        assert_int_equal(g->n_recent, 5);
        assert_int_equal(g->runs_24h[AF_RUN_QUEUED], 1);
        assert_int_equal(g->runs_24h[AF_RUN_RUNNING], 1);
        assert_int_equal(g->runs_24h[AF_RUN_SUCCESS], 0);
        assert_int_equal(g->runs_24h[AF_RUN_FAILED], 1);
        assert_int_equal(g->running, 1);
        assert_int_equal(g->queued, 1);
        assert_string_equal(g->failed_run_id, "scheduled__2024-05-01T02:00:00+00:00");
        assert_true(fabs(g->recent[2].duration_s - 2470.0) < 1e-9);
        assert_true(fabs(g->recent[3].duration_s - 2100.0) < 1e-9);
        /* Failed tasks: failed and upstream_failed only. */
        assert_true(g->tasks_read);
        assert_int_equal(g->n_failed_tasks, 2);
        assert_string_equal(g->failed_tasks[0].task_id, "t_failed");
        assert_int_equal(g->failed_tasks[0].map_index, 3);
        assert_int_equal(g->failed_tasks[0].try_number, 2);
        assert_true(fabs(g->failed_tasks[0].duration_s - 61.5) < 1e-9);
        assert_string_equal(g->failed_tasks[1].task_id, "t_upstream_failed");
        assert_string_equal(g->failed_tasks[1].state, "upstream_failed");
        airflow_data_free(d);
}

static void test_parse_runs_v2(void **state)
{
        struct af_dag g;
        struct err err = { 0 };
        size_t len, pn, total;
        bool older;
        char *b = fixture("v2_runs.json", &len);

        (void)state;
        memset(&g, 0, sizeof g);
        g.dag_id = xstrdup("nightly_compact");
        assert_int_equal(airflow_parse_runs(b, len, NOW, true, &g, &pn, &total, &older, &err), 0);
        free(b);
        assert_int_equal(pn, 2);
        assert_int_equal(total, 2);
        assert_false(older);
        /* logical_date null (manual run in Airflow 3): run_after instead. */
        assert_int_equal(g.last_run.logical_date, airflow_time_parse("2024-05-02T11:00:00Z"));
        assert_true(fabs(g.last_run.duration_s - 600.0) < 1e-9);
        assert_int_equal(g.runs_24h[AF_RUN_SUCCESS], 1);
        assert_int_equal(g.runs_24h[AF_RUN_FAILED], 1);
        assert_string_equal(g.failed_run_id, "scheduled__2024-05-01T02:00:00+00:00");
        /* Re-parse resets (first = true). */
        b = fixture("v2_runs.json", &len);
        assert_int_equal(airflow_parse_runs(b, len, NOW, true, &g, &pn, &total, &older, &err), 0);
        free(b);
        assert_int_equal(g.runs_24h[AF_RUN_FAILED], 1);
        assert_int_equal(g.n_recent, 2);
        free(g.dag_id);
        free(g.last_run.run_id);
        free(g.last_run.state);
        free(g.last_run.run_type);
        for (size_t i = 0; i < g.n_recent; i++) {
                free(g.recent[i].run_id);
                free(g.recent[i].state);
                free(g.recent[i].run_type);
        }
        free(g.recent);
        free(g.failed_run_id);
}

static void test_parse_errors(void **state)
{
        static const struct {
                const char *file;
                const char *msg;
        } want[] = {
                { "v1_problem.json", "DAG list: Airflow error: DAG not found: DAG with dag_id: "
                  "'x' not found" },
                { "v2_detail.json", "DAG list: Airflow error: The DAG with dag_id: `x` was not "
                  "found" },
                { "v2_422.json", "DAG list: Airflow error: Field required" },
                { "html_502.html", "DAG list: Airflow sent an HTML page, not JSON: is the url "
                  "the Airflow webserver/API server base (no /api/... path)?" },
                { "token.json", "DAG list: the answer has no \"dags\" list: is this the Airflow "
                  "stable REST API?" },
        };
        struct af_data *d = airflow_data_new();
        struct err err;
        size_t len, pn, total;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(want); i++) {
                char *b = fixture(want[i].file, &len);

                err_clear(&err);
                assert_int_equal(airflow_parse_dags(b, len, AF_API_V1, NULL, 0, d, &pn, &total,
                                                    &err),
                                 -1);
                assert_string_equal(err.msg, want[i].msg);
                free(b);
        }
        {
                char *b = fixture("truncated.json", &len);

                err_clear(&err);
                assert_int_equal(airflow_parse_dags(b, len, AF_API_V1, NULL, 0, d, &pn, &total,
                                                    &err),
                                 -1);
                assert_non_null(strstr(err.msg, "invalid or truncated JSON"));
                free(b);
        }
        err_clear(&err);
        assert_int_equal(airflow_parse_dags("", 0, AF_API_V1, NULL, 0, d, &pn, &total, &err), -1);
        assert_string_equal(err.msg, "DAG list: empty answer from Airflow");
        assert_int_equal(d->n_dags, 0);
        airflow_data_free(d);
}

static void test_token(void **state)
{
        struct err err = { 0 };
        size_t len;
        char *b = fixture("token.json", &len), *t;

        (void)state;
        t = airflow_parse_token(b, len, &err);
        assert_string_equal(t, "eyJhbGciOiJIUzUxMiJ9.e30.sig");
        free(t);
        free(b);
        assert_null(airflow_parse_token("{\"token_type\":\"bearer\"}", 23, &err));
        assert_string_equal(err.msg, "token: the answer of POST /auth/token has no access_token");
        assert_null(airflow_parse_token("{\"detail\":\"Invalid credentials\"}", 32, &err));
        assert_string_equal(err.msg, "token: Airflow error: Invalid credentials");
}

static void test_dag_path(void **state)
{
        struct err e;
        char *s;

        (void)state;
        s = airflow_dag_path("etl/x", "scheduled__2024-05-01T02:00:00+00:00/x y~",
                             "/taskInstances?limit=100&offset=0", &e);
        assert_string_equal(s, "/dags/etl%2Fx/dagRuns/"
                            "scheduled__2024-05-01T02%3A00%3A00%2B00%3A00%2Fx%20y~"
                            "/taskInstances?limit=100&offset=0");
        free(s);
        s = airflow_dag_path("nightly_compact", NULL, NULL, &e);
        assert_string_equal(s, "/dags/nightly_compact");
        free(s);
        /* "/dags/../dagRuns" would be "/dagRuns" once libcurl removes the
         * dot segment: refused, for a DAG and for a run a server names. */
        assert_null(airflow_dag_path("..", NULL, "/dagRuns", &e));
        assert_string_equal(e.msg, "DAG name \"..\" is refused: in a URL path it would name "
                            "another resource");
        assert_null(airflow_dag_path("etl", "..", "/taskInstances", &e));
        assert_string_equal(e.msg, "DAG run name \"..\" is refused: in a URL path it would "
                            "name another resource");
        assert_null(airflow_dag_path(".", NULL, NULL, &e));
        assert_null(airflow_dag_path("", NULL, NULL, &e));
        assert_string_equal(e.msg, "DAG name is empty");
}

static void test_json(void **state)
{
        struct af_data *d = tu_af_sample_v1(NOW);
        cJSON *o = cJSON_CreateObject(), *dags, *g0;
        char *s;

        (void)state;
        coll_airflow_ops.to_json(d, o);
        dags = cJSON_GetObjectItem(o, "dags");
        assert_int_equal(cJSON_GetArraySize(dags), 4);
        g0 = cJSON_DetachItemFromArray(dags, 0);
        s = cJSON_PrintUnformatted(g0);
        assert_string_equal(s,
                "{\"dag_id\":\"nightly_compact\",\"paused\":false,\"schedule\":\"0 2 * * *\","
                "\"last_run\":{\"run_id\":\"manual__2024-05-02T10:00:00+00:00\","
                "\"state\":\"running\",\"run_type\":\"manual\","
                "\"logical_date\":\"2024-05-02T10:00:00.000Z\","
                "\"start\":\"2024-05-02T10:00:01.500Z\",\"end\":null,\"duration_s\":null},"
                "\"runs_24h\":{\"queued\":1,\"running\":1,\"success\":0,\"failed\":1},"
                "\"running\":1,\"queued\":1,\"overdue_s\":0,"
                "\"failed_run_id\":\"scheduled__2024-05-01T02:00:00+00:00\","
                "\"failed_tasks\":[{\"task_id\":\"t_failed\",\"state\":\"failed\","
                "\"map_index\":3,\"try_number\":2,\"duration_s\":61.5},"
                "{\"task_id\":\"t_upstream_failed\",\"state\":\"upstream_failed\","
                "\"map_index\":-1,\"try_number\":1,\"duration_s\":null}]}");
        free(s);
        cJSON_Delete(g0);
        s = cJSON_PrintUnformatted(cJSON_GetArrayItem(dags, 0));
        assert_string_equal(s,
                "{\"dag_id\":\"reconcile_hourly\",\"paused\":false,\"schedule\":\"every 3600s\","
                "\"last_run\":null,\"runs_24h\":null,\"running\":null,\"queued\":null,"
                "\"overdue_s\":7200,\"failed_run_id\":null,\"failed_tasks\":[]}");
        free(s);
        assert_string_equal(cJSON_GetObjectItem(o, "api")->valuestring, "v1");
        assert_string_equal(cJSON_GetObjectItem(o, "version")->valuestring, "2.9.1");
        cJSON_Delete(o);
        airflow_data_free(d);
}

static void test_alerts(void **state)
{
        struct config *cfg = tu_af_config(NULL);
        struct af_data *d = tu_af_sample_v1(NOW);
        struct alert_list l;
        char sum[256];

        (void)state;
        /* Make the last run the failed one (drop the two newer ones). */
        for (int k = 0; k < 2; k++) {
                free(d->dags[0].recent[k].run_id);
                free(d->dags[0].recent[k].state);
                free(d->dags[0].recent[k].run_type);
        }
        free(d->dags[0].last_run.run_id);
        free(d->dags[0].last_run.state);
        free(d->dags[0].last_run.run_type);
        d->dags[0].last_run = d->dags[0].recent[2];
        d->dags[0].last_run.run_id = xstrdup(d->dags[0].recent[2].run_id);
        d->dags[0].last_run.state = xstrdup(d->dags[0].recent[2].state);
        d->dags[0].last_run.run_type = xstrdup(d->dags[0].recent[2].run_type);
        memmove(d->dags[0].recent, d->dags[0].recent + 2, 3 * sizeof *d->dags[0].recent);
        d->dags[0].n_recent = 3;

        alert_list_init(&l);
        coll_airflow_ops.alerts(&cfg->sources[0], d, &l);
        assert_int_equal(l.n, 4);
        assert_int_equal(l.v[0].sev, SEV_CRIT);
        assert_string_equal(l.v[0].metric, "last_run_failed");
        assert_string_equal(l.v[0].subject, "nightly_compact");
        assert_string_equal(l.v[0].message, "DAG nightly_compact last run "
                            "scheduled__2024-05-01T02:00:00+00:00 failed: task t_failed");
        assert_int_equal(l.v[1].sev, SEV_WARN);
        assert_string_equal(l.v[1].metric, "failed_runs_24h");
        assert_string_equal(l.v[1].message, "DAG nightly_compact failed runs (24h) 1 >= warn 1");
        assert_int_equal(l.v[2].sev, SEV_WARN);
        assert_string_equal(l.v[2].metric, "import_errors");
        assert_string_equal(l.v[2].subject, "reconcile_hourly");
        assert_int_equal(l.v[3].sev, SEV_CRIT);
        assert_string_equal(l.v[3].metric, "overdue_s");
        assert_string_equal(l.v[3].message, "DAG reconcile_hourly next run overdue (s) 7200 >= "
                            "crit 3600");
        assert_true(l.v[3].value == 7200.0 && l.v[3].threshold == 3600.0);
        alert_list_done(&l);

        coll_airflow_ops.summary(d, sum, sizeof sum);
        assert_string_equal(sum, "4 DAGs (1 paused), 1 last failed, 1 failed runs 24h, "
                            "1 running, 1 overdue");
        assert_true(coll_airflow_ops.key_metric(d) == 1.0);
        airflow_data_free(d);
        config_free(cfg);
}

static void test_config(void **state)
{
        static const struct {
                const char *yaml;
                const char *msg;        /* substring of the error */
        } bad[] = {
                { "    api: v3\n", "api must be v1 (Airflow 2), v2 (Airflow 3) or auto" },
                { "    password_env: A\n    password_file: /x\n", "exclusive" },
                { "    max_requests: 1\n", "max_requests must be between 2 and 10000" },
                { "    dags: [\"\"]\n", "must not be empty" },
        };
        struct config *c = tu_af_config("    api: v2\n    user: admin\n    dags: [\"nightly_*\"]\n"
                                       "    thresholds:\n      overdue_s: {warn: 60, crit: 120}\n");
        const struct af_cfg *ac = c->sources[0].kind_cfg;
        struct err err;

        (void)state;
        assert_string_equal(ac->api, "v2");
        assert_int_equal(ac->dags.n, 1);
        assert_true(config_threshold(&c->sources[0], "overdue_s")->crit == 120.0);
        assert_int_equal(c->sources[0].interval_ms, 30000);
        config_free(c);
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                char *yaml = xasprintf("sources:\n  - name: af\n    kind: airflow\n"
                                       "    url: http://127.0.0.1:8080\n%s", bad[i].yaml);

                err_clear(&err);
                c = config_load_string(yaml, strlen(yaml), "<t>", &err);
                if (c || !strstr(err.msg, bad[i].msg))
                        fail_msg("%s: got \"%s\"", bad[i].yaml, err.msg);
                free(yaml);
        }
        err_clear(&err);
        {
                const char *y = "sources:\n  - name: af\n    kind: airflow\n"
                                "    url: http://h:8080/api/v1\n";

                c = config_load_string(y, strlen(y), "<t>", &err);
        }
        assert_null(c);
        assert_non_null(strstr(err.msg, "without /api/v1"));
}

/* ---- /metrics ------------------------------------------------------------ */

/* The kind's metrics hook on the same data as the JSON test: exact text
 * (tests/fixtures/airflow/metrics_v1.prom), which promtool check metrics accepts. */
static void test_metrics(void **state)
{
        struct source_cfg msrc = { .name = "airflow", .kind = "airflow", .ops = &coll_airflow_ops };
        struct snapshot snap = { .src = &msrc };
        struct promtext *p = promtext_new();
        char *text;

        (void)state;
        struct af_data *d = tu_af_sample_v1(NOW);

        d->total_dags = 4;      /* set by the poll from the list's total_entries */
        snap.data = d;
        assert_non_null(coll_airflow_ops.metrics);
        coll_airflow_ops.metrics(&snap, &msrc, p);
        assert_int_equal(promtext_errors(p), 0);
        text = promtext_finish(p, NULL);
        tu_metrics_expect(text, "tests/fixtures/airflow/metrics_v1.prom");
        free(text);
        promtext_free(p);
        airflow_data_free(d);
}


int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_time),
                cmocka_unit_test(test_states),
                cmocka_unit_test(test_parse_dags_v1),
                cmocka_unit_test(test_parse_dags_globs_pages),
                cmocka_unit_test(test_parse_dags_v2),
                cmocka_unit_test(test_parse_runs_v1),
                cmocka_unit_test(test_parse_runs_v2),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_token),
                cmocka_unit_test(test_dag_path),
                cmocka_unit_test(test_json),
                cmocka_unit_test(test_alerts),
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_metrics),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
