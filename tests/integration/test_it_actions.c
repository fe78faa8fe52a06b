/*
 * Integration tests for the REST actions (src/actions/action.h) against
 * tests/lib/fixture_httpd.py, asserted from the server's request log and from
 * the audit log the real binary (`lambdaops act`) writes:
 *   1. Connect 3.x restart: one POST with includeTasks/onlyFailed, 202 + a
 *      ConnectorStateInfo body;
 *   2. Connect before 3.0: 204, then the status read and a restart of only
 *      the FAILED task;
 *   3. pause and resume: PUT, 202 with no body; an error answer fails;
 *   4. `lambdaops act`: --yes runs and audits; --dry-run sends nothing and
 *      audits dry_run; --read-only refuses (exit 77) and audits; no --yes
 *      without a terminal refuses (75); an unknown action (66);
 *   5. Airflow v1 and v2: trigger (v2's strict body: logical_date null, only
 *      known keys; v1 conf; a bad conf refused before sending), clear (the
 *      dry run first, then dry_run false with the same task ids), pause and
 *      unpause (PATCH; v1 with update_mask).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "actions/action.h"
#include "collectors/airflow/airflow.h"
#include "core/collector.h"
#include "core/config.h"
#include "collectors/kafka_connect.h"
#include "tu.h"
#include "tu_http.h"
#include "core/util.h"

static struct tu_httpd srv;
static char tmpdir[128];

struct routes {
        cJSON *root, *arr;
};

static void routes_init(struct routes *r)
{
        r->root = cJSON_CreateObject();
        r->arr = cJSON_AddArrayToObject(r->root, "routes");
}

static void route(struct routes *r, const char *method, const char *path, const char *query,
                  int status, const char *body)
{
        cJSON *o = cJSON_CreateObject(), *h;
        char *text = NULL;

        if (body && body[0] == '@') {
                char rel[256];

                snprintf(rel, sizeof rel, "tests/fixtures/%s", body + 1);
                text = tu_read_fixture(tu_src_path(rel), NULL);
                if (!text)
                        fail_msg("missing fixture %s", rel);
        }
        cJSON_AddStringToObject(o, "method", method);
        cJSON_AddStringToObject(o, "path", path);
        if (query)
                cJSON_AddStringToObject(o, "query", query);
        cJSON_AddNumberToObject(o, "status", status);
        cJSON_AddStringToObject(o, "body", text ? text : (body ? body : ""));
        h = cJSON_AddObjectToObject(o, "headers");
        cJSON_AddStringToObject(h, "Content-Type", "application/json");
        cJSON_AddItemToArray(r->arr, o);
        free(text);
}

static void routes_apply(struct routes *r)
{
        char *s = cJSON_PrintUnformatted(r->root);

        assert_int_equal(tu_httpd_set_routes(&srv, s), 0);
        free(s);
        cJSON_Delete(r->root);
}

static void clear_log(void)
{
        FILE *f = fopen(srv.log, "w");

        if (f)
                fclose(f);
}

/* The request log as an array of {method, path, query, body}. */
static cJSON *requests(void)
{
        char *s = tu_httpd_requests(&srv), *line, *save = NULL;
        cJSON *arr = cJSON_CreateArray();

        for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                cJSON *o = cJSON_Parse(line);
                assert_non_null(o);
                cJSON_AddItemToArray(arr, o);
        }
        free(s);
        return arr;
}

static const char *req_field(const cJSON *arr, int i, const char *k)
{
        const cJSON *o = cJSON_GetArrayItem(arr, i);
        const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *config_text(const char *extra_top)
{
        return xasprintf("environment: it-actions\n"
                         "audit_log: %s/audit.jsonl\n"
                         "%s"
                         "sources:\n"
                         "  - name: connect-1\n"
                         "    kind: kafka_connect\n"
                         "    url: %s/\n"
                         "    timeout: 3s\n", tmpdir, extra_top ? extra_top : "", srv.base_url);
}

static struct config *load(void)
{
        struct err e;
        char *y = config_text(NULL);
        struct config *c = config_load_string(y, strlen(y), "<it>", &e);

        if (!c)
                fail_msg("config: %s\n%s", e.msg, y);
        free(y);
        return c;
}

static const struct action_def *kc_action(const char *name)
{
        const struct action_def *d = action_find(&coll_kafka_connect_ops, name);

        assert_non_null(d);
        return d;
}

/* 1 ------------------------------------------------------------------------ */

static void test_connect_restart_3x(void **state)
{
        const char *body = "{\"name\":\"pg-cdc\",\"connector\":{\"state\":\"RESTARTING\","
                           "\"worker_id\":\"w1\"},\"tasks\":[{\"id\":0,\"state\":\"RESTARTING\","
                           "\"worker_id\":\"w1\"},{\"id\":1,\"state\":\"RUNNING\","
                           "\"worker_id\":\"w1\"}],\"type\":\"source\"}";
        struct config *c = load();
        const struct action_def *d = kc_action("restart");
        struct action_plan plan;
        struct action_result res;
        struct routes r;
        struct err e;
        cJSON *log;

        (void)state;
        routes_init(&r);
        route(&r, "POST", "/connectors/pg-cdc/restart", "includeTasks=true&onlyFailed=true",
              202, body);
        routes_apply(&r);
        clear_log();
        assert_int_equal(action_prepare(d, &c->sources[0], "pg-cdc", NULL, false, &plan, &e), 0);
        assert_int_equal(plan.n, 1);
        assert_string_equal(plan.reqs[0].method, "POST");
        assert_string_equal(plan.reqs[0].path,
                            "/connectors/pg-cdc/restart?includeTasks=true&onlyFailed=true");
        action_run(d, &c->sources[0], "pg-cdc", NULL, &plan, &res);
        assert_int_equal(res.outcome, ACT_OK);
        assert_int_equal(res.status, 202);
        assert_non_null(strstr(res.output, "task 0: RESTARTING"));
        log = requests();
        assert_int_equal(cJSON_GetArraySize(log), 1);
        assert_string_equal(req_field(log, 0, "method"), "POST");
        assert_string_equal(req_field(log, 0, "query"), "includeTasks=true&onlyFailed=true");
        cJSON_Delete(log);
        action_result_done(&res);
        action_plan_done(&plan);
        config_free(c);
}

/* 2 ------------------------------------------------------------------------ */

static void test_connect_restart_old(void **state)
{
        struct config *c = load();
        const struct action_def *d = kc_action("restart");
        struct action_plan plan;
        struct action_result res;
        struct routes r;
        struct err e;
        cJSON *log;
        int n;

        (void)state;
        routes_init(&r);
        route(&r, "POST", "/connectors/pg-cdc/restart", NULL, 204, "");
        route(&r, "GET", "/connectors/pg-cdc/status", NULL, 200, "@connect/status_pg-cdc.json");
        route(&r, "POST", "/connectors/pg-cdc/tasks/0/restart", NULL, 204, "");
        routes_apply(&r);
        clear_log();
        assert_int_equal(action_prepare(d, &c->sources[0], "pg-cdc", NULL, false, &plan, &e), 0);
        action_run(d, &c->sources[0], "pg-cdc", NULL, &plan, &res);
        assert_int_equal(res.outcome, ACT_OK);
        assert_non_null(strstr(res.output, "1 of 1 FAILED task(s) restarted"));
        log = requests();
        n = cJSON_GetArraySize(log);
        assert_int_equal(n, 3);
        assert_string_equal(req_field(log, 0, "path"), "/connectors/pg-cdc/restart");
        assert_string_equal(req_field(log, 1, "method"), "GET");
        assert_string_equal(req_field(log, 1, "path"), "/connectors/pg-cdc/status");
        /* Only task 0 is FAILED; task 1 (RUNNING) is never restarted. */
        assert_string_equal(req_field(log, 2, "method"), "POST");
        assert_string_equal(req_field(log, 2, "path"), "/connectors/pg-cdc/tasks/0/restart");
        assert_non_null(strstr(res.requests, "POST /connectors/pg-cdc/tasks/0/restart"));
        cJSON_Delete(log);
        action_result_done(&res);
        action_plan_done(&plan);
        config_free(c);
}

/* 3 ------------------------------------------------------------------------ */

static void pause_resume(const char *name)
{
        struct config *c = load();
        const struct action_def *d = kc_action(name);
        struct action_plan plan;
        struct action_result res;
        struct routes r;
        struct err e;
        char path[64];
        cJSON *log;

        snprintf(path, sizeof path, "/connectors/s3-sink/%s", name);
        routes_init(&r);
        route(&r, "PUT", path, NULL, 202, "");
        routes_apply(&r);
        clear_log();
        assert_int_equal(action_prepare(d, &c->sources[0], "s3-sink", NULL, false, &plan, &e), 0);
        action_run(d, &c->sources[0], "s3-sink", NULL, &plan, &res);
        assert_int_equal(res.outcome, ACT_OK);
        assert_int_equal(res.status, 202);
        log = requests();
        assert_int_equal(cJSON_GetArraySize(log), 1);
        assert_string_equal(req_field(log, 0, "method"), "PUT");
        assert_string_equal(req_field(log, 0, "path"), path);
        cJSON_Delete(log);
        action_result_done(&res);

        /* A 409 (rebalance) fails with Connect's message. */
        routes_init(&r);
        route(&r, "PUT", path, NULL, 409, "{\"error_code\":409,\"message\":\"rebalance in "
              "progress\"}");
        routes_apply(&r);
        action_run(d, &c->sources[0], "s3-sink", NULL, &plan, &res);
        assert_int_equal(res.outcome, ACT_FAILED);
        assert_int_equal(res.status, 409);
        assert_non_null(strstr(res.err.msg, "rebalance"));
        action_result_done(&res);
        action_plan_done(&plan);
        config_free(c);
}

static void test_connect_pause_resume(void **state)
{
        (void)state;
        pause_resume("pause");
        pause_resume("resume");
}

/* The worker thread the TUI uses: both phases off the calling thread, the
 * wake pipe written when done, the plan moved in and the result out. */
static void test_job_worker(void **state)
{
        struct config *c = load();
        const struct action_def *d = kc_action("pause");
        struct action_plan plan;
        struct action_result res;
        struct action_job *j;
        struct routes r;
        struct err e;
        int wake[2];
        char b;

        (void)state;
        assert_int_equal(pipe(wake), 0);
        routes_init(&r);
        route(&r, "PUT", "/connectors/pg-cdc/pause", NULL, 202, "");
        routes_apply(&r);
        j = action_job_start(d, &c->sources[0], "pg-cdc", NULL, ACT_PHASE_PREPARE, NULL, wake[1]);
        assert_non_null(j);
        assert_int_equal(read(wake[0], &b, 1), 1);
        assert_true(action_job_done(j));
        assert_int_equal(action_job_prepare_rc(j, &plan, &e), 0);
        action_job_free(j);
        assert_int_equal(plan.n, 1);
        j = action_job_start(d, &c->sources[0], "pg-cdc", NULL, ACT_PHASE_RUN, &plan, wake[1]);
        assert_non_null(j);
        assert_int_equal(plan.n, 0);            /* taken over */
        assert_int_equal(read(wake[0], &b, 1), 1);
        assert_true(action_job_done(j));
        action_job_result(j, &res);
        assert_true(action_job_duration_ms(j) >= 0);
        action_job_free(j);
        assert_int_equal(res.outcome, ACT_OK);
        assert_int_equal(res.status, 202);
        action_result_done(&res);
        /* Freed before done: cancelled through the stop pipe. The server
         * holds its answer for ten minutes and the source's timeout is ten
         * minutes: only the cancel can end the request, which is freed once
         * the server has it (mid-request). The one-minute bound leaves room
         * for a loaded machine. */
        {
                char *y = xasprintf("sources:\n  - name: connect-slow\n    kind: kafka_connect\n"
                                    "    url: %s/\n    timeout: 10m\n", srv.base_url);
                struct config *slow = config_load_string(y, strlen(y), "<it>", &e);
                int64_t t0;
                cJSON *log;
                int n;

                free(y);
                assert_non_null(slow);
                routes_init(&r);
                route(&r, "PUT", "/connectors/pg-cdc/pause", NULL, 202, "");
                cJSON_AddNumberToObject(cJSON_GetArrayItem(r.arr, 0), "delay_ms", 600000);
                routes_apply(&r);
                clear_log();
                action_plan_init(&plan);
                action_plan_add(&plan, "PUT", "http://x/connectors/pg-cdc/pause", NULL);
                j = action_job_start(d, &slow->sources[0], "pg-cdc", NULL, ACT_PHASE_RUN, &plan,
                                     -1);
                assert_non_null(j);
                for (t0 = clock_mono_ms();; usleep(20 * 1000)) {
                        log = requests();
                        n = cJSON_GetArraySize(log);
                        cJSON_Delete(log);
                        if (n > 0)
                                break;
                        if (clock_mono_ms() - t0 > 60000)
                                fail_msg("the server never got the pause request");
                }
                assert_false(action_job_done(j));
                t0 = clock_mono_ms();
                action_job_free(j);
                print_message("job freed mid-request: %lld ms\n",
                              (long long)(clock_mono_ms() - t0));
                assert_true(clock_mono_ms() - t0 < 60000);
                config_free(slow);
        }
        close(wake[0]);
        close(wake[1]);
        config_free(c);
}

/* 4 ------------------------------------------------------------------------ */

/* Runs the binary with args (stdin from /dev/null); returns the exit code. */
static int run_cli(const char *cfg, const char *args, char **out)
{
        const char *bin = getenv("LO_BINARY");
        char *cmd, buf[4096];
        size_t n = 0;
        FILE *p;
        int st;

        if (!bin)
                fail_msg("LO_BINARY is not set (run through ctest)");
        cmd = xasprintf("'%s' -c '%s' %s </dev/null 2>&1", bin, cfg, args);
        p = popen(cmd, "r");
        assert_non_null(p);
        *out = xstrdup("");
        while ((n = fread(buf, 1, sizeof buf - 1, p)) > 0) {
                char *t;

                buf[n] = '\0';
                t = xasprintf("%s%s", *out, buf);
                free(*out);
                *out = t;
        }
        st = pclose(p);
        free(cmd);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The audit log's lines, parsed. */
/* "2026-11-26T14:01:02.123Z" (UTC, as the audit log writes it) -> Unix ms,
 * parsed here with timegm (not lambdaops' parser); -1 if not that shape. */
static int64_t utc_ms(const char *t)
{
        struct tm tm = { 0 };
        int ms, n = 0;

        if (!t || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon,
                         &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &n) != 7 ||
            n != 24 || t[n] != '\0')
                return -1;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        return (int64_t)timegm(&tm) * 1000 + ms;
}

static cJSON *audit_lines(void)
{
        char path[256], *s, *line, *save = NULL;
        cJSON *arr = cJSON_CreateArray();

        snprintf(path, sizeof path, "%s/audit.jsonl", tmpdir);
        s = tu_read_file(path, NULL);
        if (!s)
                return arr;
        for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                cJSON *o = cJSON_Parse(line);
                assert_non_null(o);
                cJSON_AddItemToArray(arr, o);
        }
        free(s);
        return arr;
}

static const cJSON *audit_last(const cJSON *arr)
{
        int n = cJSON_GetArraySize(arr);

        assert_true(n > 0);
        return cJSON_GetArrayItem(arr, n - 1);
}

static const char *jstr(const cJSON *o, const char *k)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void test_cli_act(void **state)
{
        char cfg[256], *y, *out, ap[256];
        struct routes r;
        cJSON *log, *au;
        const cJSON *l;
        FILE *f;
        int rc;
        int64_t t0, t1;

        (void)state;
        snprintf(ap, sizeof ap, "%s/audit.jsonl", tmpdir);
        unlink(ap);
        snprintf(cfg, sizeof cfg, "%s/lambdaops.yaml", tmpdir);
        y = config_text(NULL);
        f = fopen(cfg, "w");
        assert_non_null(f);
        fputs(y, f);
        fclose(f);
        free(y);
        routes_init(&r);
        route(&r, "PUT", "/connectors/pg-cdc/pause", NULL, 202, "");
        routes_apply(&r);

        /* --yes runs it. */
        clear_log();
        t0 = clock_wall_ms();
        rc = run_cli(cfg, "act connect-1 pause pg-cdc --yes", &out);
        t1 = clock_wall_ms();
        assert_int_equal(rc, 0);
        free(out);
        log = requests();
        assert_int_equal(cJSON_GetArraySize(log), 1);
        cJSON_Delete(log);
        au = audit_lines();
        l = audit_last(au);
        assert_string_equal(jstr(l, "outcome"), "ok");
        assert_string_equal(jstr(l, "via"), "cli");
        assert_string_equal(jstr(l, "source"), "connect-1");
        assert_string_equal(jstr(l, "action"), "pause");
        assert_string_equal(jstr(l, "target"), "pg-cdc");
        assert_string_equal(jstr(l, "environment"), "it-actions");
        assert_string_equal(jstr(l, "request"), "PUT /connectors/pg-cdc/pause");
        assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(l, "dry_run")));
        assert_int_equal((int)jnum(l, "status"), 202);
        assert_true(jnum(l, "duration_ms") >= 0);
        /* The audit time is UTC (whatever TZ says), written during the run. */
        assert_in_range(utc_ms(jstr(l, "time")), t0, t1);
        cJSON_Delete(au);

        /* --dry-run sends nothing and prints the exact request. */
        clear_log();
        rc = run_cli(cfg, "act connect-1 restart pg-cdc --dry-run", &out);
        assert_int_equal(rc, 0);
        assert_non_null(strstr(out, "POST http://127.0.0.1:"));
        assert_non_null(strstr(out, "/connectors/pg-cdc/restart?includeTasks=true&onlyFailed=true"));
        free(out);
        log = requests();
        assert_int_equal(cJSON_GetArraySize(log), 0);
        cJSON_Delete(log);
        au = audit_lines();
        l = audit_last(au);
        assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "dry_run")));
        assert_string_equal(jstr(l, "outcome"), "ok");
        cJSON_Delete(au);

        /* --read-only refuses, audited. */
        rc = run_cli(cfg, "--read-only act connect-1 restart pg-cdc --yes", &out);
        assert_int_equal(rc, ACT_EXIT_READONLY);
        assert_non_null(strstr(out, "read-only"));
        free(out);
        au = audit_lines();
        l = audit_last(au);
        assert_string_equal(jstr(l, "outcome"), "refused");
        assert_non_null(strstr(jstr(l, "error"), "read-only"));
        cJSON_Delete(au);

        /* No --yes and no terminal: refused, nothing sent. */
        clear_log();
        rc = run_cli(cfg, "act connect-1 restart pg-cdc", &out);
        assert_int_equal(rc, ACT_EXIT_NOTTY);
        free(out);
        log = requests();
        assert_int_equal(cJSON_GetArraySize(log), 0);
        cJSON_Delete(log);
        au = audit_lines();
        assert_string_equal(jstr(audit_last(au), "outcome"), "refused");
        cJSON_Delete(au);

        /* Unknown action: 66, with the list of actions. */
        rc = run_cli(cfg, "act connect-1 explode pg-cdc --yes", &out);
        assert_int_equal(rc, ACT_EXIT_NOINPUT);
        assert_non_null(strstr(out, "restart pause resume"));
        free(out);

        /* A failed action is audited as failed with its status. */
        routes_init(&r);
        route(&r, "PUT", "/connectors/nope/resume", NULL, 404,
              "{\"error_code\":404,\"message\":\"Connector nope not found\"}");
        routes_apply(&r);
        rc = run_cli(cfg, "act connect-1 resume nope --yes", &out);
        assert_int_equal(rc, ACT_EXIT_FAILED);
        free(out);
        au = audit_lines();
        l = audit_last(au);
        assert_string_equal(jstr(l, "outcome"), "failed");
        assert_int_equal((int)jnum(l, "status"), 404);
        assert_non_null(strstr(jstr(l, "error"), "not found"));
        cJSON_Delete(au);
}


/* 5: Airflow ------------------------------------------------------------------- */

static struct config *load_af(const char *api)
{
        struct err e;
        char *y = xasprintf("environment: it-actions\n"
                            "sources:\n"
                            "  - name: af\n"
                            "    kind: airflow\n"
                            "    url: %s\n"
                            "    api: %s\n"
                            "    user: admin\n"
                            "    password_env: LO_IT_AF_PW\n"
                            "    timeout: 3s\n", srv.base_url, api);
        struct config *c = config_load_string(y, strlen(y), "<it>", &e);

        if (!c)
                fail_msg("config: %s\n%s", e.msg, y);
        free(y);
        setenv("LO_IT_AF_PW", "s3cret", 1);
        return c;
}

static void af_common_routes(struct routes *r)
{
        route(r, "GET", "/api/v1/version", NULL, 200, "{\"version\":\"2.9.1\"}");
        route(r, "GET", "/api/v2/version", NULL, 200, "{\"version\":\"3.0.2\"}");
        route(r, "POST", "/auth/token", NULL, 201, "{\"access_token\":\"jwt-1\"}");
}

/* The one request of the log matching method + path. */
static const cJSON *find_req(const cJSON *log, const char *method, const char *path, int nth)
{
        const cJSON *o;

        cJSON_ArrayForEach(o, log) {
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "method");
                const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "path");
                if (strcmp(m->valuestring, method) == 0 && strcmp(p->valuestring, path) == 0 &&
                    nth-- == 0)
                        return o;
        }
        return NULL;
}

static cJSON *req_body(const cJSON *req)
{
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(req, "body");

        assert_non_null(b);
        return cJSON_Parse(b->valuestring);
}

static void af_run(struct config *c, const char *name, const char *target, const char *arg,
                   struct action_result *res)
{
        const struct action_def *d = action_find(&coll_airflow_ops, name);
        struct action_plan plan;
        struct err e;

        assert_non_null(d);
        err_clear(&e);
        if (action_prepare(d, &c->sources[0], target, arg, false, &plan, &e) != 0)
                fail_msg("prepare %s: %s", name, e.msg);
        action_run(d, &c->sources[0], target, arg, &plan, res);
        action_plan_done(&plan);
}

static void test_airflow_trigger(void **state)
{
        struct config *c;
        struct action_result res;
        struct routes r;
        const cJSON *q, *it;
        cJSON *log, *b;
        struct err e;
        struct action_plan plan;
        int n = 0;

        (void)state;
        /* v2: strict body, logical_date present and null, nothing unknown. */
        c = load_af("v2");
        routes_init(&r);
        af_common_routes(&r);
        route(&r, "POST", "/api/v2/dags/nightly/dagRuns", NULL, 200,
              "{\"dag_run_id\":\"manual__1\",\"state\":\"queued\"}");
        routes_apply(&r);
        clear_log();
        af_run(c, "trigger", "nightly", "{\"day\":\"2024-05-01\"}", &res);
        assert_int_equal(res.outcome, ACT_OK);
        assert_non_null(strstr(res.output, "run manual__1: queued"));
        log = requests();
        q = find_req(log, "POST", "/api/v2/dags/nightly/dagRuns", 0);
        assert_non_null(q);
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(q, "headers"),
                                                "authorization")->valuestring, "Bearer jwt-1");
        b = req_body(q);
        assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(b, "logical_date")));
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "conf"), "day")->valuestring,
                            "2024-05-01");
        cJSON_ArrayForEach(it, b) {
                assert_true(strcmp(it->string, "logical_date") == 0 ||
                            strcmp(it->string, "conf") == 0);
                n++;
        }
        assert_int_equal(n, 2);
        cJSON_Delete(b);
        cJSON_Delete(log);
        action_result_done(&res);

        /* Bad conf: refused before any request. */
        clear_log();
        assert_int_equal(action_prepare(action_find(&coll_airflow_ops, "trigger"), &c->sources[0],
                                        "nightly", "[1,2", false, &plan, &e), -1);
        assert_non_null(strstr(e.msg, "JSON object"));
        log = requests();
        assert_int_equal(cJSON_GetArraySize(log), 0);
        cJSON_Delete(log);
        config_free(c);

        /* v1: Basic auth, {"conf":{}}. */
        c = load_af("v1");
        routes_init(&r);
        af_common_routes(&r);
        route(&r, "POST", "/api/v1/dags/nightly/dagRuns", NULL, 200,
              "{\"dag_run_id\":\"manual__2\",\"state\":\"queued\"}");
        routes_apply(&r);
        clear_log();
        af_run(c, "trigger", "nightly", NULL, &res);
        assert_int_equal(res.outcome, ACT_OK);
        log = requests();
        q = find_req(log, "POST", "/api/v1/dags/nightly/dagRuns", 0);
        assert_non_null(q);
        assert_non_null(strstr(cJSON_GetObjectItem(cJSON_GetObjectItem(q, "headers"),
                                                   "authorization")->valuestring, "Basic "));
        b = req_body(q);
        assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(b, "conf")));
        assert_null(cJSON_GetObjectItemCaseSensitive(b, "logical_date"));
        cJSON_Delete(b);
        cJSON_Delete(log);
        action_result_done(&res);
        config_free(c);
}

static void test_airflow_clear(void **state)
{
        const char *ver[] = { "v1", "v2" };

        (void)state;
        for (size_t i = 0; i < 2; i++) {
                struct config *c = load_af(ver[i]);
                struct action_result res;
                struct routes r;
                char runs[64], clear[64];
                const cJSON *q0, *q1;
                cJSON *log, *b0, *b1;

                snprintf(runs, sizeof runs, "/api/%s/dags/nightly/dagRuns", ver[i]);
                snprintf(clear, sizeof clear, "/api/%s/dags/nightly/clearTaskInstances", ver[i]);
                routes_init(&r);
                af_common_routes(&r);
                route(&r, "GET", runs, NULL, 200,
                      "{\"dag_runs\":[{\"dag_run_id\":\"scheduled__x\",\"state\":\"failed\"}],"
                      "\"total_entries\":1}");
                route(&r, "POST", clear, NULL, 200,
                      "{\"task_instances\":[{\"task_id\":\"load\",\"dag_id\":\"nightly\","
                      "\"dag_run_id\":\"scheduled__x\"},{\"task_id\":\"compact\",\"dag_id\":"
                      "\"nightly\",\"dag_run_id\":\"scheduled__x\"}]}");
                routes_apply(&r);
                clear_log();
                af_run(c, "clear", "nightly", NULL, &res);
                assert_int_equal(res.outcome, ACT_OK);
                log = requests();
                q0 = find_req(log, "POST", clear, 0);
                q1 = find_req(log, "POST", clear, 1);
                assert_non_null(q0);
                assert_non_null(q1);
                assert_null(find_req(log, "POST", clear, 2));
                assert_non_null(strstr(cJSON_GetObjectItem(find_req(log, "GET", runs, 0),
                                                           "query")->valuestring, "state=failed"));
                b0 = req_body(q0);
                b1 = req_body(q1);
                assert_true(cJSON_IsTrue(cJSON_GetObjectItem(b0, "dry_run")));
                assert_true(cJSON_IsFalse(cJSON_GetObjectItem(b1, "dry_run")));
                assert_string_equal(cJSON_GetObjectItem(b0, "dag_run_id")->valuestring,
                                    "scheduled__x");
                assert_string_equal(cJSON_GetObjectItem(b1, "dag_run_id")->valuestring,
                                    "scheduled__x");
                assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(b1, "task_ids")), 2);
                assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(b1, "task_ids"),
                                                       0)->valuestring, "load");
                assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(b1, "task_ids"),
                                                       1)->valuestring, "compact");
                cJSON_Delete(b0);
                cJSON_Delete(b1);
                cJSON_Delete(log);
                action_result_done(&res);
                config_free(c);
        }
}

static void test_airflow_pause(void **state)
{
        const char *ver[] = { "v1", "v2" };

        (void)state;
        for (size_t i = 0; i < 2; i++) {
                struct config *c = load_af(ver[i]);
                struct action_result res;
                struct routes r;
                char path[64];
                const cJSON *q;
                cJSON *log, *b;

                snprintf(path, sizeof path, "/api/%s/dags/nightly", ver[i]);
                routes_init(&r);
                af_common_routes(&r);
                route(&r, "PATCH", path, NULL, 200, "{\"dag_id\":\"nightly\",\"is_paused\":true}");
                routes_apply(&r);
                clear_log();
                af_run(c, "pause", "nightly", NULL, &res);
                assert_int_equal(res.outcome, ACT_OK);
                action_result_done(&res);
                af_run(c, "unpause", "nightly", NULL, &res);
                assert_int_equal(res.outcome, ACT_OK);
                log = requests();
                q = find_req(log, "PATCH", path, 0);
                assert_non_null(q);
                assert_string_equal(cJSON_GetObjectItem(q, "query")->valuestring,
                                    i == 0 ? "update_mask=is_paused" : "");
                b = req_body(q);
                assert_true(cJSON_IsTrue(cJSON_GetObjectItem(b, "is_paused")));
                cJSON_Delete(b);
                b = req_body(find_req(log, "PATCH", path, 1));
                assert_true(cJSON_IsFalse(cJSON_GetObjectItem(b, "is_paused")));
                cJSON_Delete(b);
                cJSON_Delete(log);
                action_result_done(&res);
                config_free(c);
        }
}

static int group_setup(void **state)
{
        (void)state;
        snprintf(tmpdir, sizeof tmpdir, "/tmp/lo-it-actions-XXXXXX");
        if (!mkdtemp(tmpdir))
                return -1;
        return tu_httpd_start(&srv, "{\"routes\": []}", false);
}

static int group_teardown(void **state)
{
        char cmd[256];

        (void)state;
        tu_httpd_stop(&srv);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
                return -1;
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_connect_restart_3x),
                cmocka_unit_test(test_connect_restart_old),
                cmocka_unit_test(test_connect_pause_resume),
                cmocka_unit_test(test_job_worker),
                cmocka_unit_test(test_cli_act),
                cmocka_unit_test(test_airflow_trigger),
                cmocka_unit_test(test_airflow_clear),
                cmocka_unit_test(test_airflow_pause),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
