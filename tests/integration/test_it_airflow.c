/*
 * The Airflow collector against a fixture server (tests/lib/fixture_httpd.py)
 * that answers as Airflow 2 (/api/v1, Basic auth) and Airflow 3 (/api/v2,
 * JWT from POST /auth/token) do, per Airflow's REST API reference. Dates are generated
 * relative to the test's anchor (tu_fixture_now(), whole seconds) so the
 * 24 h window is exact, the JSON times are known strings, and lateness is
 * bounded by the wall clock read before and after the poll.
 *
 *   v1: auto-detection (/api/v2/version 404, /api/v1/version 200), Basic
 *       auth as the server saw it, DAG list pagination (102 DAGs over two
 *       pages, globs keep 3), run pagination (150 runs, the second page
 *       crossing the 24 h line), every run state and task-instance state,
 *       the failed tasks of the last failed run, exact JSON;
 *   one DAG's runs answering 500: DEGRADED with a note, the others read;
 *   the request budget: DEGRADED, the DAGs not reached noted;
 *   v2: token issued (201), sent as Bearer, expired (401) → one new token
 *       → the request again, asserted from the request log; the failed-task
 *       cache (one taskInstances request over two polls);
 *   bad input: token endpoint 401 and 500, HTML 502 page, HTML 200 page,
 *       500 problem+json, truncated JSON: DOWN with a message saying what.
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
#include "core/collector.h"
#include "core/config.h"
#include "tu.h"
#include "tu_http.h"
#include "core/util.h"

static struct tu_httpd srv;
static int64_t now_ms;

/* ---- routes ----------------------------------------------------------- */

static cJSON *route(cJSON *routes, const char *method, const char *path, const char *query,
                    int status)
{
        cJSON *r = cJSON_CreateObject();

        cJSON_AddStringToObject(r, "method", method);
        cJSON_AddStringToObject(r, "path", path);
        if (query)
                cJSON_AddStringToObject(r, "query", query);
        cJSON_AddNumberToObject(r, "status", status);
        cJSON_AddItemToArray(routes, r);
        return r;
}

static void route_json(cJSON *routes, const char *method, const char *path, const char *query,
                       int status, cJSON *json)
{
        cJSON_AddItemToObject(route(routes, method, path, query, status), "json", json);
}

static void route_body(cJSON *routes, const char *path, int status, const char *body,
                       const char *ctype)
{
        cJSON *r = route(routes, "GET", path, NULL, status), *h;

        cJSON_AddStringToObject(r, "body", body);
        h = cJSON_AddObjectToObject(r, "headers");
        cJSON_AddStringToObject(h, "Content-Type", ctype);
}

static void set_routes(cJSON *routes)
{
        cJSON *o = cJSON_CreateObject();
        char *s;

        cJSON_AddItemToObject(o, "routes", routes);
        s = cJSON_PrintUnformatted(o);
        assert_int_equal(tu_httpd_set_routes(&srv, s), 0);
        free(s);
        cJSON_Delete(o);
}

static char *iso(int64_t ms)
{
        char buf[40];

        fmt_rfc3339(ms, buf, sizeof buf);
        return xstrdup(buf);
}

static void add_time(cJSON *o, const char *k, int64_t ms)
{
        char *s;

        if (ms < 0) {
                cJSON_AddNullToObject(o, k);
                return;
        }
        s = iso(ms);
        cJSON_AddStringToObject(o, k, s);
        free(s);
}

static cJSON *dag(const char *id, bool paused, const char *cron, int64_t due, bool v2)
{
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "dag_id", id);
        cJSON_AddBoolToObject(o, "is_paused", paused);
        cJSON_AddBoolToObject(o, v2 ? "is_stale" : "is_active", !v2);
        cJSON_AddBoolToObject(o, "has_import_errors", false);
        if (v2) {
                cJSON_AddStringToObject(o, "timetable_summary", cron);
                add_time(o, "next_dagrun_run_after", due);
        } else {
                cJSON *si = cJSON_AddObjectToObject(o, "schedule_interval");

                cJSON_AddStringToObject(si, "__type", "CronExpression");
                cJSON_AddStringToObject(si, "value", cron);
                add_time(o, "next_dagrun", due - 3600000);
                add_time(o, "next_dagrun_create_after", due);
        }
        return o;
}

static cJSON *run(const char *dag_id, const char *id, const char *state, int64_t start,
                  int64_t end, bool v2)
{
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "dag_run_id", id);
        cJSON_AddStringToObject(o, "dag_id", dag_id);
        add_time(o, "logical_date", start - 60000);
        if (!v2)
                add_time(o, "execution_date", start - 60000);
        else
                add_time(o, "run_after", start - 60000);
        add_time(o, "start_date", start);
        add_time(o, "end_date", end);
        cJSON_AddStringToObject(o, "run_type", "scheduled");
        cJSON_AddStringToObject(o, "state", state);
        cJSON_AddItemToObject(o, "conf", cJSON_CreateObject());
        return o;
}

static cJSON *envelope(const char *key, cJSON *items, int total)
{
        cJSON *o = cJSON_CreateObject();

        cJSON_AddItemToObject(o, key, items);
        cJSON_AddNumberToObject(o, "total_entries", total);
        return o;
}

/* Every TaskInstance state of Airflow's REST API reference (null included). */
static cJSON *all_tasks(const char *dag_id, const char *run_id)
{
        static const char *const states[] = {
                NULL, "scheduled", "queued", "running", "success", "failed", "up_for_retry",
                "up_for_reschedule", "upstream_failed", "skipped", "removed", "restarting",
                "deferred", "shutdown",
        };
        cJSON *a = cJSON_CreateArray();

        for (size_t i = 0; i < LO_ARRAY_LEN(states); i++) {
                cJSON *t = cJSON_CreateObject();
                char id[64];

                snprintf(id, sizeof id, "t_%s", states[i] ? states[i] : "none");
                cJSON_AddStringToObject(t, "task_id", id);
                cJSON_AddStringToObject(t, "dag_id", dag_id);
                cJSON_AddStringToObject(t, "dag_run_id", run_id);
                cJSON_AddNumberToObject(t, "map_index", -1);
                if (states[i])
                        cJSON_AddStringToObject(t, "state", states[i]);
                else
                        cJSON_AddNullToObject(t, "state");
                cJSON_AddNumberToObject(t, "try_number", 1);
                cJSON_AddNumberToObject(t, "duration", 12.5);
                cJSON_AddItemToArray(a, t);
        }
        return envelope("task_instances", a, (int)LO_ARRAY_LEN(states));
}

#define MIN 60000LL
#define HOUR 3600000LL

static const char *run_q_v1 = "limit=100&offset=0&order_by=-execution_date";

/* The v1 server: 102 DAGs in two pages; nightly_compact with one run of
 * each state; etl_a with 150 runs over two pages; etl_b quiet. */
static cJSON *v1_routes(bool etl_b_500)
{
        cJSON *routes = cJSON_CreateArray(), *p1 = cJSON_CreateArray(), *p2 = cJSON_CreateArray();
        cJSON *r, *v;

        v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "version", "2.9.1");
        cJSON_AddStringToObject(v, "git_version", "release:2.9.1+abc");
        route_json(routes, "GET", "/api/v1/version", NULL, 200, v);
        for (int i = 0; i < 98; i++) {
                char id[32];

                snprintf(id, sizeof id, "gen_%03d", i);
                cJSON_AddItemToArray(p1, dag(id, false, "@daily", now_ms + HOUR, false));
        }
        cJSON_AddItemToArray(p1, dag("etl_a", false, "*/10 * * * *", now_ms + 5 * MIN, false));
        /* Due 2 h ago and not created: overdue. */
        cJSON_AddItemToArray(p1, dag("nightly_compact", false, "0 2 * * *", now_ms - 2 * HOUR,
                                     false));
        cJSON_AddItemToArray(p2, dag("etl_b", true, "0 * * * *", now_ms - 5 * HOUR, false));
        cJSON_AddItemToArray(p2, dag("zzz_other", false, "0 * * * *", now_ms, false));
        route_json(routes, "GET", "/api/v1/dags", "limit=100&offset=0", 200,
                   envelope("dags", p1, 102));
        route_json(routes, "GET", "/api/v1/dags", "limit=100&offset=100", 200,
                   envelope("dags", p2, 102));

        r = cJSON_CreateArray();
        cJSON_AddItemToArray(r, run("nightly_compact", "manual__run4", "queued", -1, -1, false));
        /* queued has no start: its logical date (start - 1 min) counts. */
        cJSON_DeleteItemFromObject(cJSON_GetArrayItem(r, 0), "logical_date");
        add_time(cJSON_GetArrayItem(r, 0), "logical_date", now_ms - 1 * MIN);
        cJSON_DeleteItemFromObject(cJSON_GetArrayItem(r, 0), "execution_date");
        add_time(cJSON_GetArrayItem(r, 0), "execution_date", now_ms - 1 * MIN);
        cJSON_AddItemToArray(r, run("nightly_compact", "manual__run3", "running", now_ms - 30 * MIN,
                                    -1, false));
        cJSON_AddItemToArray(r, run("nightly_compact", "scheduled__2024-05-01T02:00:00+00:00",
                                    "failed", now_ms - 10 * HOUR, now_ms - 10 * HOUR + 41 * MIN,
                                    false));
        cJSON_AddItemToArray(r, run("nightly_compact", "scheduled__run1", "success",
                                    now_ms - 20 * HOUR, now_ms - 20 * HOUR + 35 * MIN, false));
        route_json(routes, "GET", "/api/v1/dags/nightly_compact/dagRuns", run_q_v1, 200,
                   envelope("dag_runs", r, 4));
        route_json(routes, "GET", "/api/v1/dags/nightly_compact/dagRuns/"
                   "scheduled__2024-05-01T02%3A00%3A00%2B00%3A00/taskInstances",
                   "limit=100&offset=0", 200,
                   all_tasks("nightly_compact", "scheduled__2024-05-01T02:00:00+00:00"));

        r = cJSON_CreateArray();
        for (int i = 0; i < 100; i++) {
                char id[32];

                snprintf(id, sizeof id, "a1_%03d", i);
                cJSON_AddItemToArray(r, run("etl_a", id, "success", now_ms - (i + 1) * 5 * MIN,
                                            now_ms - (i + 1) * 5 * MIN + 2 * MIN, false));
        }
        route_json(routes, "GET", "/api/v1/dags/etl_a/dagRuns", run_q_v1, 200,
                   envelope("dag_runs", r, 150));
        /* Page 2: a2_019 started 23h49m before the anchor (inside 24 h while
         * the poll is less than 11 min after it), a2_020 24h01m (outside). */
        r = cJSON_CreateArray();
        for (int i = 0; i < 50; i++) {
                char id[32];
                int64_t st = now_ms - 20 * HOUR - i * 12 * MIN - MIN;

                snprintf(id, sizeof id, "a2_%03d", i);
                cJSON_AddItemToArray(r, run("etl_a", id, i % 10 == 0 ? "failed" : "success", st,
                                            st + 3 * MIN, false));
        }
        route_json(routes, "GET", "/api/v1/dags/etl_a/dagRuns",
                   "limit=100&offset=100&order_by=-execution_date", 200,
                   envelope("dag_runs", r, 150));
        route_json(routes, "GET", "/api/v1/dags/etl_a/dagRuns/a2_000/taskInstances",
                   "limit=100&offset=0", 200, all_tasks("etl_a", "a2_000"));
        if (etl_b_500) {
                cJSON *p = cJSON_CreateObject();

                cJSON_AddStringToObject(p, "title", "Internal Server Error");
                cJSON_AddNumberToObject(p, "status", 500);
                cJSON_AddStringToObject(p, "detail", "database is locked");
                route_json(routes, "GET", "/api/v1/dags/etl_b/dagRuns", NULL, 500, p);
        } else {
                route_json(routes, "GET", "/api/v1/dags/etl_b/dagRuns", run_q_v1, 200,
                           envelope("dag_runs", cJSON_CreateArray(), 0));
        }
        return routes;
}

/* ---- polling ---------------------------------------------------------- */

static struct config *load(const char *extra)
{
        struct err err = { 0 };
        char *yaml = xasprintf("sources:\n  - name: af\n    kind: airflow\n    url: %s\n"
                               "    user: admin\n    password_env: LO_IT_AF_PW\n"
                               "    timeout: 5s\n%s", srv.base_url, extra ? extra : "");
        struct config *c = config_load_string(yaml, strlen(yaml), "<t>", &err);

        if (!c)
                fail_msg("config: %s\n%s", err.msg, yaml);
        free(yaml);
        return c;
}

static enum coll_status it_poll(void *st, const struct source_cfg *src, struct af_data **d,
                                struct err *err)
{
        struct coll_ctx ctx;
        enum coll_status s;
        void *data = NULL;

        err_clear(err);
        ctx.stop_fd = -1;
        ctx.now_mono = clock_mono_ms();
        ctx.timeout_ms = src->timeout_ms;
        ctx.deadline_mono = ctx.now_mono + src->timeout_ms;
        s = coll_airflow_ops.poll(st, &ctx, &data, err);
        *d = data;
        return s;
}

/* Requests logged since the last call, parsed. Owned array. */
static size_t log_seen;

static cJSON *requests(void)
{
        char *log = tu_httpd_requests(&srv), *line, *save = NULL;
        cJSON *a = cJSON_CreateArray();
        size_t i = 0;

        assert_non_null(log);
        for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++)
                if (i >= log_seen)
                        cJSON_AddItemToArray(a, cJSON_Parse(line));
        log_seen = i;
        free(log);
        return a;
}

static const char *rq(cJSON *a, int i, const char *k)
{
        cJSON *h, *o = cJSON_GetArrayItem(a, i);

        assert_non_null(o);
        if (strcmp(k, "authorization") == 0) {
                h = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "headers"), "authorization");
                return h ? h->valuestring : "";
        }
        return cJSON_GetObjectItem(o, k)->valuestring;
}

static const struct af_dag *find(const struct af_data *d, const char *id)
{
        for (size_t i = 0; i < d->n_dags; i++)
                if (strcmp(d->dags[i].dag_id, id) == 0)
                        return &d->dags[i];
        fail_msg("no DAG %s", id);
        return NULL;
}

/* ---- tests ------------------------------------------------------------- */

static void test_v1(void **state)
{
        struct config *c = load("    dags: [\"etl_*\", \"nightly_compact\"]\n");
        const struct source_cfg *src = &c->sources[0];
        void *st = coll_airflow_ops.create(src);
        struct af_data *d;
        struct err err;
        const struct af_dag *g;
        cJSON *log, *o, *j;
        char *s, *want, *w;
        int64_t t0, t1;

        (void)state;
        set_routes(v1_routes(false));
        cJSON_Delete(requests());
        t0 = clock_wall_ms();
        assert_int_equal(it_poll(st, src, &d, &err), COLL_OK);
        t1 = clock_wall_ms();
        assert_int_equal(d->api, AF_API_V1);
        assert_string_equal(d->version, "2.9.1");
        assert_int_equal(d->total_dags, 102);
        assert_int_equal(d->n_dags, 3);
        assert_string_equal(d->dags[0].dag_id, "etl_a");
        assert_string_equal(d->dags[1].dag_id, "etl_b");
        assert_string_equal(d->dags[2].dag_id, "nightly_compact");

        /* etl_a: 100 + 20 runs inside 24 h, 2 of them failed. */
        g = find(d, "etl_a");
        assert_int_equal(g->runs_24h[AF_RUN_SUCCESS], 118);
        assert_int_equal(g->runs_24h[AF_RUN_FAILED], 2);
        assert_string_equal(g->failed_run_id, "a2_000");
        assert_int_equal(g->n_failed_tasks, 2);
        assert_int_equal(g->overdue_s, 0);
        /* The duration history holds the 10 recent finished runs (2 min each). */
        assert_int_equal(g->dur_hist.n, 10);
        assert_true(ring_last(&g->dur_hist) == 120.0);

        g = find(d, "nightly_compact");
        assert_string_equal(g->last_run.state, "queued");
        assert_int_equal(g->runs_24h[AF_RUN_QUEUED], 1);
        assert_int_equal(g->runs_24h[AF_RUN_RUNNING], 1);
        assert_int_equal(g->runs_24h[AF_RUN_FAILED], 1);
        assert_int_equal(g->runs_24h[AF_RUN_SUCCESS], 1);
        /* Due 2 h before the anchor; the collector's clock read between t0
         * and t1: overdue_s = (now - due) / 1000 within those bounds. */
        assert_in_range(g->overdue_s, (t0 - (now_ms - 2 * HOUR)) / 1000,
                        (t1 - (now_ms - 2 * HOUR)) / 1000);

        /* The exact JSON of nightly_compact (overdue_s pinned first): the
         * last run is the queued one, its logical date 1 min before the
         * anchor (expanded independently of lambdaops' formatter). */
        ((struct af_dag *)g)->overdue_s = 7200;
        o = cJSON_CreateObject();
        coll_airflow_ops.to_json(d, o);
        j = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "dags"), 2);
        s = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "last_run"));
        w = tu_fixture_expand("{\"run_id\":\"manual__run4\",\"state\":\"queued\","
                              "\"run_type\":\"scheduled\","
                              "\"logical_date\":\"{{now-1m|%Y-%m-%dT%H:%M:%S.000Z}}\","
                              "\"start\":null,\"end\":null,\"duration_s\":null}",
                              now_ms / 1000);
        assert_string_equal(s, w);
        free(s);
        free(w);
        /* etl_a's last run: started 5 min before the anchor, 2 min long. */
        s = cJSON_PrintUnformatted(cJSON_GetObjectItem(
                cJSON_GetArrayItem(cJSON_GetObjectItem(o, "dags"), 0), "last_run"));
        w = tu_fixture_expand("{\"run_id\":\"a1_000\",\"state\":\"success\","
                              "\"run_type\":\"scheduled\","
                              "\"logical_date\":\"{{now-6m|%Y-%m-%dT%H:%M:%S.000Z}}\","
                              "\"start\":\"{{now-5m|%Y-%m-%dT%H:%M:%S.000Z}}\","
                              "\"end\":\"{{now-3m|%Y-%m-%dT%H:%M:%S.000Z}}\","
                              "\"duration_s\":120}", now_ms / 1000);
        assert_string_equal(s, w);
        free(s);
        free(w);
        cJSON_DeleteItemFromObject(j, "last_run");
        s = cJSON_PrintUnformatted(j);
        want = "{\"dag_id\":\"nightly_compact\",\"paused\":false,\"schedule\":\"0 2 * * *\","
               "\"runs_24h\":{\"queued\":1,\"running\":1,\"success\":1,\"failed\":1},"
               "\"running\":1,\"queued\":1,\"overdue_s\":7200,"
               "\"failed_run_id\":\"scheduled__2024-05-01T02:00:00+00:00\","
               "\"failed_tasks\":[{\"task_id\":\"t_failed\",\"state\":\"failed\",\"map_index\":-1,"
               "\"try_number\":1,\"duration_s\":12.5},{\"task_id\":\"t_upstream_failed\","
               "\"state\":\"upstream_failed\",\"map_index\":-1,\"try_number\":1,"
               "\"duration_s\":12.5}]}";
        assert_string_equal(s, want);
        free(s);
        cJSON_Delete(o);

        /* What the server saw: detection, then Basic auth on the API. */
        log = requests();
        assert_string_equal(rq(log, 0, "path"), "/api/v2/version");
        assert_string_equal(rq(log, 1, "path"), "/api/v1/version");
        assert_string_equal(rq(log, 2, "path"), "/api/v1/dags");
        assert_string_equal(rq(log, 2, "query"), "limit=100&offset=0");
        /* admin:secret */
        assert_string_equal(rq(log, 2, "authorization"), "Basic YWRtaW46c2VjcmV0");
        assert_string_equal(rq(log, 3, "query"), "limit=100&offset=100");
        assert_string_equal(rq(log, 4, "path"), "/api/v1/dags/etl_a/dagRuns");
        assert_string_equal(rq(log, 5, "query"), "limit=100&offset=100&order_by=-execution_date");
        assert_string_equal(rq(log, 6, "path"), "/api/v1/dags/etl_a/dagRuns/a2_000/taskInstances");
        assert_int_equal(cJSON_GetArraySize(log), 10);
        assert_int_equal(d->requests, 10);
        cJSON_Delete(log);
        airflow_data_free(d);

        /* One DAG's runs fail: DEGRADED with a note, the others read. */
        set_routes(v1_routes(true));
        assert_int_equal(it_poll(st, src, &d, &err), COLL_DEGRADED);
        assert_string_equal(err.msg, "etl_b: DAG runs: HTTP 500 Internal Server Error -- Airflow "
                            "error: Internal Server Error: database is locked");
        assert_int_equal(d->n_notes, 1);
        assert_false(find(d, "etl_b")->runs_read);
        assert_true(find(d, "nightly_compact")->runs_read);
        /* Failed tasks came from the cache: no taskInstances request now. */
        log = requests();
        for (int i = 0; i < cJSON_GetArraySize(log); i++)
                assert_null(strstr(rq(log, i, "path"), "taskInstances"));
        cJSON_Delete(log);
        airflow_data_free(d);
        coll_airflow_ops.destroy(st);
        config_free(c);
}

static void test_budget(void **state)
{
        struct config *c = load("    api: v1\n    max_requests: 5\n");
        const struct source_cfg *src = &c->sources[0];
        void *st = coll_airflow_ops.create(src);
        struct af_data *d;
        struct err err;

        (void)state;
        set_routes(v1_routes(false));
        cJSON_Delete(requests());
        /* version + 2 DAG pages + etl_a's 2 run pages = 5 requests. */
        assert_int_equal(it_poll(st, src, &d, &err), COLL_DEGRADED);
        assert_int_equal(d->n_dags, 102);
        assert_int_equal(d->requests, 5);
        assert_string_equal(err.msg, "request budget (5 per poll) reached: runs of 101 of 102 "
                            "DAGs not read; narrow `dags` or raise max_requests");
        airflow_data_free(d);
        coll_airflow_ops.destroy(st);
        config_free(c);
}

static cJSON *v2_routes(void)
{
        cJSON *routes = cJSON_CreateArray(), *v = cJSON_CreateObject(), *a, *r, *t;

        cJSON_AddStringToObject(v, "version", "3.0.2");
        route_json(routes, "GET", "/api/v2/version", NULL, 200, v);
        t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "access_token", "tok1");
        cJSON_AddNumberToObject(route(routes, "POST", "/auth/token", NULL, 201), "times", 1);
        cJSON_AddItemToObject(cJSON_GetArrayItem(routes, 1), "json", t);
        t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "access_token", "tok2");
        route_json(routes, "POST", "/auth/token", NULL, 201, t);

        a = cJSON_CreateArray();
        cJSON_AddItemToArray(a, dag("nightly_compact", false, "0 2 * * *", now_ms + HOUR, true));
        /* First answer ok; then one 401 (the token expired); then ok. */
        route_json(routes, "GET", "/api/v2/dags", NULL, 200, envelope("dags", a, 1));
        cJSON_AddNumberToObject(cJSON_GetArrayItem(routes, 3), "times", 1);
        t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "detail", "Token expired");
        route_json(routes, "GET", "/api/v2/dags", NULL, 401, t);
        cJSON_AddNumberToObject(cJSON_GetArrayItem(routes, 4), "times", 1);
        route_json(routes, "GET", "/api/v2/dags", NULL, 200,
                   envelope("dags", cJSON_Duplicate(a, true), 1));
        r = cJSON_CreateArray();
        cJSON_AddItemToArray(r, run("nightly_compact", "scheduled__x", "failed", now_ms - HOUR,
                                    now_ms - HOUR + 10 * MIN, true));
        route_json(routes, "GET", "/api/v2/dags/nightly_compact/dagRuns",
                   "limit=100&offset=0&order_by=-run_after", 200, envelope("dag_runs", r, 1));
        route_json(routes, "GET", "/api/v2/dags/nightly_compact/dagRuns/scheduled__x/"
                   "taskInstances", NULL, 200, all_tasks("nightly_compact", "scheduled__x"));
        return routes;
}

static void test_v2_token(void **state)
{
        struct config *c;
        const struct source_cfg *src;
        void *st;
        struct af_data *d;
        struct err err;
        cJSON *log, *body;

        (void)state;
        /* A fresh server: its `times` counters are per route index. */
        tu_httpd_stop(&srv);
        assert_int_equal(tu_httpd_start(&srv, "{\"routes\": []}", false), 0);
        log_seen = 0;
        c = load(NULL);
        src = &c->sources[0];
        st = coll_airflow_ops.create(src);
        set_routes(v2_routes());
        cJSON_Delete(requests());
        assert_int_equal(it_poll(st, src, &d, &err), COLL_OK);
        assert_int_equal(d->api, AF_API_V2);
        assert_string_equal(d->version, "3.0.2");
        assert_string_equal(d->dags[0].last_run.state, "failed");
        assert_true(d->dags[0].last_run.duration_s == 600.0);
        assert_int_equal(d->dags[0].n_failed_tasks, 2);
        airflow_data_free(d);
        log = requests();
        assert_int_equal(cJSON_GetArraySize(log), 5);
        assert_string_equal(rq(log, 0, "path"), "/api/v2/version");
        assert_string_equal(rq(log, 1, "path"), "/auth/token");
        assert_string_equal(rq(log, 1, "method"), "POST");
        body = cJSON_Parse(rq(log, 1, "body"));
        assert_string_equal(cJSON_GetObjectItem(body, "username")->valuestring, "admin");
        assert_string_equal(cJSON_GetObjectItem(body, "password")->valuestring, "secret");
        cJSON_Delete(body);
        assert_string_equal(rq(log, 2, "path"), "/api/v2/dags");
        assert_string_equal(rq(log, 2, "authorization"), "Bearer tok1");
        assert_string_equal(rq(log, 3, "authorization"), "Bearer tok1");
        assert_string_equal(rq(log, 4, "path"),
                            "/api/v2/dags/nightly_compact/dagRuns/scheduled__x/taskInstances");
        cJSON_Delete(log);

        /* Second poll: 401 → new token → the same request again, once. */
        assert_int_equal(it_poll(st, src, &d, &err), COLL_OK);
        airflow_data_free(d);
        log = requests();
        assert_int_equal(cJSON_GetArraySize(log), 4);
        assert_string_equal(rq(log, 0, "path"), "/api/v2/dags");
        assert_string_equal(rq(log, 0, "authorization"), "Bearer tok1");
        assert_string_equal(rq(log, 1, "path"), "/auth/token");
        assert_string_equal(rq(log, 2, "path"), "/api/v2/dags");
        assert_string_equal(rq(log, 2, "authorization"), "Bearer tok2");
        assert_string_equal(rq(log, 3, "path"), "/api/v2/dags/nightly_compact/dagRuns");
        assert_string_equal(rq(log, 3, "authorization"), "Bearer tok2");
        cJSON_Delete(log);
        coll_airflow_ops.destroy(st);
        config_free(c);
}

/* One poll of a fresh state against `routes`; returns the status and
 * leaves the message in err. */
static enum coll_status bad_poll(const char *extra, cJSON *routes, struct err *err)
{
        struct config *c = load(extra);
        void *st = coll_airflow_ops.create(&c->sources[0]);
        struct af_data *d;
        enum coll_status s;

        set_routes(routes);
        s = it_poll(st, &c->sources[0], &d, err);
        airflow_data_free(d);
        coll_airflow_ops.destroy(st);
        config_free(c);
        return s;
}

static void test_bad_input(void **state)
{
        struct err err;
        cJSON *r, *t;
        size_t len;
        char *html = tu_read_file(tu_src_path("tests/fixtures/airflow/html_502.html"), &len);

        (void)state;
        /* Token endpoint refuses. */
        r = cJSON_CreateArray();
        route_json(r, "GET", "/api/v2/version", NULL, 200, cJSON_CreateObject());
        t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "detail", "Invalid credentials");
        route_json(r, "POST", "/auth/token", NULL, 401, t);
        assert_int_equal(bad_poll(NULL, r, &err), COLL_DOWN);
        assert_string_equal(err.msg, "POST /auth/token: HTTP 401 Unauthorized: check user and "
                            "password_env/password_file (Airflow 3 wants a JWT from its auth "
                            "manager)");
        /* Token endpoint broken. */
        r = cJSON_CreateArray();
        route_json(r, "GET", "/api/v2/version", NULL, 200, cJSON_CreateObject());
        route_body(r, "/auth/token", 500, "oops", "text/plain");
        cJSON_ReplaceItemInObject(cJSON_GetArrayItem(r, 1), "method", cJSON_CreateString("POST"));
        assert_int_equal(bad_poll(NULL, r, &err), COLL_DOWN);
        assert_non_null(strstr(err.msg, "POST /auth/token: HTTP 500"));
        /* A 200 token answer without a token. */
        r = cJSON_CreateArray();
        route_json(r, "GET", "/api/v2/version", NULL, 200, cJSON_CreateObject());
        route_json(r, "POST", "/auth/token", NULL, 201, cJSON_CreateObject());
        assert_int_equal(bad_poll(NULL, r, &err), COLL_DOWN);
        assert_string_equal(err.msg, "token: the answer of POST /auth/token has no access_token");
        /* An nginx 502 page in front of Airflow. */
        r = cJSON_CreateArray();
        route_body(r, "/api/v1/dags", 502, html, "text/html");
        assert_int_equal(bad_poll("    api: v1\n", r, &err), COLL_DOWN);
        assert_string_equal(err.msg, "DAG list: HTTP 502 Bad Gateway -- Airflow sent an HTML "
                            "page, not JSON: is the url the Airflow webserver/API server base "
                            "(no /api/... path)?");
        /* The UI's login page with 200. */
        r = cJSON_CreateArray();
        route_body(r, "/api/v1/dags", 200, "<!DOCTYPE html><html>Sign In</html>", "text/html");
        assert_int_equal(bad_poll("    api: v1\n", r, &err), COLL_DOWN);
        assert_non_null(strstr(err.msg, "DAG list: Airflow sent an HTML page, not JSON"));
        /* 500 problem+json. */
        r = cJSON_CreateArray();
        t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "title", "Internal Server Error");
        cJSON_AddNumberToObject(t, "status", 500);
        cJSON_AddStringToObject(t, "detail", "metadata database unreachable");
        route_json(r, "GET", "/api/v1/dags", NULL, 500, t);
        assert_int_equal(bad_poll("    api: v1\n", r, &err), COLL_DOWN);
        assert_string_equal(err.msg, "DAG list: HTTP 500 Internal Server Error -- Airflow error: "
                            "Internal Server Error: metadata database unreachable");
        /* Truncated JSON. */
        r = cJSON_CreateArray();
        route_body(r, "/api/v1/dags", 200, "{\"dags\":[{\"dag_id\":\"a\",\"is_pa",
                   "application/json");
        assert_int_equal(bad_poll("    api: v1\n", r, &err), COLL_DOWN);
        assert_string_equal(err.msg, "DAG list: invalid or truncated JSON from Airflow "
                            "(29 bytes)");
        /* Basic auth refused. */
        r = cJSON_CreateArray();
        route_json(r, "GET", "/api/v1/dags", NULL, 401, cJSON_CreateObject());
        assert_int_equal(bad_poll("    api: v1\n", r, &err), COLL_DOWN);
        assert_non_null(strstr(err.msg, "DAG list: HTTP 401 Unauthorized: check user and "
                               "password_env/password_file"));
        /* Neither API there. */
        assert_int_equal(bad_poll(NULL, cJSON_CreateArray(), &err), COLL_DOWN);
        assert_non_null(strstr(err.msg, "neither /api/v2/version nor /api/v1/version"));
        free(html);
}

static int setup(void **state)
{
        (void)state;
        setenv("LO_IT_AF_PW", "secret", 1);
        now_ms = tu_fixture_now() * 1000;
        return tu_httpd_start(&srv, "{\"routes\": []}", false);
}

static int teardown(void **state)
{
        (void)state;
        tu_httpd_stop(&srv);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_v1),
                cmocka_unit_test(test_budget),
                cmocka_unit_test(test_v2_token),
                cmocka_unit_test(test_bad_input),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
