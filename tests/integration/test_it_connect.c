/*
 * Integration tests for the Kafka Connect and Schema Registry collectors
 * against tests/lib/fixture_httpd.py serving answers shaped after the Kafka Connect and Schema Registry REST API references
 * (the fixtures in tests/fixtures/connect and tests/fixtures/schema_registry):
 *   1. Connect 2.3+: the expanded listing, every connector and task state,
 *      the FAILED task's trace; one request for the list (+ GET /), Basic
 *      auth as the server saw it, the password nowhere in the data;
 *   2. pre-2.3 Connect (expand ignored, a list of names): per-connector
 *      status and config, a connector deleted mid-poll (404) left out, one
 *      whose status fails (500) kept with its error: DEGRADED;
 *   3. bad answers: 401, an HTML 502 page, a 500 with Connect's error JSON,
 *      truncated JSON, a hung worker (DOWN at the timeout) -- each DOWN with
 *      a message saying what to check;
 *   4. the real runtime (collector thread, snapshot, status JSON) for one
 *      Connect and one Schema Registry source, stopped at once;
 *   5. Schema Registry: global and per-subject compatibility, 404 40408
 *      (inherits global), 40401 (deleted since the list), PROTOBUF/JSON/
 *      AVRO types, and a request cap that reads 3 subjects a poll and goes
 *      round-robin with a note.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "collectors/kafka_connect.h"
#include "collectors/schema_registry.h"
#include "core/snapshot.h"
#include "tu.h"
#include "tu_http.h"
#include "core/util.h"

static struct tu_httpd srv;
static int stop_pipe[2];

static char *fx(const char *rel)
{
        char path[256];
        char *s;

        snprintf(path, sizeof path, "tests/fixtures/%s", rel);
        s = tu_read_fixture(tu_src_path(path), NULL);
        if (!s)
                fail_msg("missing fixture %s", path);
        return s;
}

/* A routes file under construction. */
struct routes {
        cJSON *root, *arr;
};

static void routes_init(struct routes *r)
{
        r->root = cJSON_CreateObject();
        r->arr = cJSON_AddArrayToObject(r->root, "routes");
}

/* Adds a route answering `body` (a fixture path when it starts with '@'). */
static cJSON *route(struct routes *r, const char *path, const char *query, int status,
                    const char *body, const char *ctype)
{
        cJSON *o = cJSON_CreateObject(), *h;
        char *text = body && body[0] == '@' ? fx(body + 1) : xstrdup(body ? body : "");

        cJSON_AddStringToObject(o, "path", path);
        if (query)
                cJSON_AddStringToObject(o, "query", query);
        cJSON_AddNumberToObject(o, "status", status);
        cJSON_AddStringToObject(o, "body", text);
        h = cJSON_AddObjectToObject(o, "headers");
        cJSON_AddStringToObject(h, "Content-Type", ctype ? ctype : "application/json");
        cJSON_AddItemToArray(r->arr, o);
        free(text);
        return o;
}

static void routes_apply(struct routes *r)
{
        char *s = cJSON_PrintUnformatted(r->root);

        assert_int_equal(tu_httpd_set_routes(&srv, s), 0);
        free(s);
        cJSON_Delete(r->root);
}

static struct config *load(const char *kind, const char *extra, const char *timeout)
{
        struct err e;
        char *y = xasprintf("environment: it\n"
                            "sources:\n"
                            "  - name: src\n"
                            "    kind: %s\n"
                            "    url: %s/\n"
                            "    interval: 200ms\n"
                            "    timeout: %s\n"
                            "%s", kind, srv.base_url, timeout, extra ? extra : "");
        struct config *c = config_load_string(y, strlen(y), "<it>", &e);

        if (!c)
                fail_msg("config: %s\n%s", e.msg, y);
        free(y);
        return c;
}

static enum coll_status poll_once(const struct source_cfg *src, void *st, void **data,
                                  struct err *err, int64_t *elapsed)
{
        struct coll_ctx ctx;
        enum coll_status s;
        int64_t t0 = clock_mono_ms();

        err_clear(err);
        ctx.stop_fd = stop_pipe[0];
        ctx.now_mono = t0;
        ctx.timeout_ms = src->timeout_ms;
        ctx.deadline_mono = t0 + src->timeout_ms;
        *data = NULL;
        s = src->ops->poll(st, &ctx, data, err);
        if (elapsed)
                *elapsed = clock_mono_ms() - t0;
        return s;
}

static int count(const char *hay, const char *needle)
{
        int n = 0;

        for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
                n++;
        return n;
}

static int group_setup(void **state)
{
        (void)state;
        if (pipe(stop_pipe) != 0)
                return -1;
        return tu_httpd_start(&srv, "{\"routes\": []}", false);
}

static int group_teardown(void **state)
{
        (void)state;
        tu_httpd_stop(&srv);
        close(stop_pipe[0]);
        close(stop_pipe[1]);
        return 0;
}

static void clear_log(void)
{
        FILE *f = fopen(srv.log, "w");

        if (f)
                fclose(f);
}

/* 1 ------------------------------------------------------------------------ */

static void test_connect_expanded(void **state)
{
        struct routes r;
        struct config *c;
        void *st, *data;
        struct kc_data *d;
        const struct kc_connector *k;
        struct err e;
        char *log, *json;
        cJSON *o;

        (void)state;
        routes_init(&r);
        route(&r, "/connectors", "expand=status&expand=info", 200,
              "@connect/expanded_all_states.json", NULL);
        route(&r, "/", NULL, 200, "@connect/root.json", NULL);
        routes_apply(&r);
        setenv("LO_IT_CONNECT_PW", "s3cret-connect", 1);
        c = load("kafka_connect", "    user: monitor\n    password_env: LO_IT_CONNECT_PW\n", "2s");
        st = c->sources[0].ops->create(&c->sources[0]);
        clear_log();
        assert_int_equal(poll_once(&c->sources[0], st, &data, &e, NULL), COLL_OK);
        d = data;
        assert_non_null(d);
        assert_true(d->expanded);
        assert_string_equal(d->version, "3.7.0");
        assert_int_equal(d->n_conns, 7);
        k = kafka_connect_find(d, "pg-cdc");
        assert_string_equal(k->state, "RUNNING");
        assert_int_equal(k->failed_tasks, 1);
        assert_string_equal(k->tasks[0].state, "FAILED");
        assert_non_null(strstr(k->tasks[0].trace, "Caused by: org.postgresql.util.PSQLException"));
        assert_string_equal(k->slot, "debezium_shop");
        assert_string_equal(kafka_connect_find(d, "legacy-src")->state, "STOPPED");
        assert_string_equal(kafka_connect_find(d, "jdbc-sink")->state, "UNASSIGNED");
        assert_string_equal(kafka_connect_find(d, "es-sink")->state, "RESTARTING");
        assert_string_equal(kafka_connect_find(d, "audit-sink")->state, "PAUSED");
        assert_string_equal(kafka_connect_find(d, "orders-cdc")->state, "FAILED");

        log = tu_httpd_requests(&srv);
        assert_int_equal(count(log, "\"path\": \"/connectors\""), 1);
        assert_non_null(strstr(log, "\"query\": \"expand=status&expand=info\""));
        /* base64("monitor:s3cret-connect") */
        assert_non_null(strstr(log,
                               "\"authorization\": \"Basic bW9uaXRvcjpzM2NyZXQtY29ubmVjdA==\""));
        assert_int_equal(count(log, "\"method\": \"GET\""), 2);
        free(log);

        o = cJSON_CreateObject();
        c->sources[0].ops->to_json(d, o);
        json = cJSON_PrintUnformatted(o);
        assert_null(strstr(json, "s3cret"));
        assert_non_null(strstr(json, "\"name\":\"pg-cdc\",\"type\":\"source\""));
        free(json);
        cJSON_Delete(o);
        c->sources[0].ops->data_free(d);
        c->sources[0].ops->destroy(st);
        config_free(c);
        unsetenv("LO_IT_CONNECT_PW");
}

/* 2 ------------------------------------------------------------------------ */

static void test_connect_fallback(void **state)
{
        struct routes r;
        struct config *c;
        void *st, *data;
        struct kc_data *d;
        struct err e;
        char *log;

        (void)state;
        routes_init(&r);
        route(&r, "/connectors", "expand=status&expand=info", 200, "@connect/list_names.json",
              NULL);
        route(&r, "/connectors/pg-cdc/status", NULL, 200, "@connect/status_pg-cdc.json", NULL);
        route(&r, "/connectors/pg-cdc/config", NULL, 200, "@connect/config_pg-cdc.json", NULL);
        route(&r, "/connectors/s3-sink/status", NULL, 200, "@connect/status_s3-sink.json", NULL);
        route(&r, "/connectors/s3-sink/config", NULL, 200, "@connect/config_s3-sink.json", NULL);
        route(&r, "/connectors/gone-sink/status", NULL, 404, "@connect/error_404.json", NULL);
        route(&r, "/", NULL, 200, "{\"version\":\"2.2.2\",\"commit\":\"x\"}", NULL);
        routes_apply(&r);
        c = load("kafka_connect", "    slot: {pg-cdc: shop_override}\n", "2s");
        st = c->sources[0].ops->create(&c->sources[0]);
        clear_log();
        assert_int_equal(poll_once(&c->sources[0], st, &data, &e, NULL), COLL_OK);
        d = data;
        assert_false(d->expanded);
        assert_string_equal(d->version, "2.2.2");
        assert_int_equal(d->n_conns, 2);
        assert_string_equal(d->conns[0].name, "pg-cdc");
        assert_string_equal(d->conns[0].klass, KC_DEBEZIUM_PG_CLASS);
        assert_string_equal(d->conns[0].slot, "shop_override");
        assert_int_equal(d->conns[0].failed_tasks, 1);
        assert_string_equal(d->conns[1].name, "s3-sink");
        assert_int_equal(d->conns[1].running_tasks, 2);
        log = tu_httpd_requests(&srv);
        assert_int_equal(count(log, "\"method\": \"GET\""), 7);
        assert_null(strstr(log, "\"path\": \"/connectors/gone-sink/config\""));
        assert_null(strstr(log, "authorization"));
        free(log);
        c->sources[0].ops->data_free(d);

        /* one connector's status fails: kept with its error, DEGRADED */
        routes_init(&r);
        route(&r, "/connectors", "expand=status&expand=info", 200, "[\"pg-cdc\",\"s3-sink\"]",
              NULL);
        route(&r, "/connectors/pg-cdc/status", NULL, 200, "@connect/status_pg-cdc.json", NULL);
        route(&r, "/connectors/pg-cdc/config", NULL, 200, "@connect/config_pg-cdc.json", NULL);
        route(&r, "/connectors/s3-sink/status", NULL, 500, "@connect/error_500.json", NULL);
        route(&r, "/connectors/s3-sink/config", NULL, 200, "@connect/config_s3-sink.json", NULL);
        routes_apply(&r);
        assert_int_equal(poll_once(&c->sources[0], st, &data, &e, NULL), COLL_DEGRADED);
        d = data;
        assert_int_equal(d->n_conns, 2);
        assert_null(d->conns[1].state);
        assert_string_equal(d->conns[1].error, "GET /connectors/s3-sink/status: HTTP 500 "
                            "Internal Server Error: Request timed out");
        assert_string_equal(e.msg, "1 connector(s) unreadable: GET /connectors/s3-sink/status: "
                            "HTTP 500 Internal Server Error: Request timed out");
        assert_null(d->version);        /* GET / had no route: 404, ignored */
        c->sources[0].ops->data_free(d);
        c->sources[0].ops->destroy(st);
        config_free(c);
}

/* 3 ------------------------------------------------------------------------ */

static void expect_down(const char *status_body, int status, const char *ctype, const char *want,
                        int delay_ms)
{
        struct routes r;
        struct config *c;
        void *st, *data;
        struct err e;
        int64_t elapsed;
        cJSON *o;

        routes_init(&r);
        o = route(&r, "/connectors", "expand=status&expand=info", status, status_body, ctype);
        if (delay_ms)
                cJSON_AddNumberToObject(o, "delay_ms", delay_ms);
        routes_apply(&r);
        c = load("kafka_connect", NULL, delay_ms ? "1s" : "2s");
        st = c->sources[0].ops->create(&c->sources[0]);
        assert_int_equal(poll_once(&c->sources[0], st, &data, &e, &elapsed), COLL_DOWN);
        assert_null(data);
        if (!strstr(e.msg, want))
                fail_msg("error \"%s\" lacks \"%s\"", e.msg, want);
        if (delay_ms)
                assert_true(elapsed >= 900 && elapsed < 1000 + 1500);
        c->sources[0].ops->destroy(st);
        config_free(c);
}

static void test_connect_bad_answers(void **state)
{
        (void)state;
        expect_down("@connect/error_401.json", 401, NULL,
                    "GET /connectors: HTTP 401 Unauthorized: check user and "
                    "password_env/password_file", 0);
        expect_down("@connect/error_502.html", 502, "text/html",
                    "GET /connectors: HTTP 502 Bad Gateway (an HTML page, not Connect's JSON", 0);
        expect_down("@connect/error_500.json", 500, NULL,
                    "GET /connectors: HTTP 500 Internal Server Error: Request timed out", 0);
        expect_down("@connect/truncated.json", 200, NULL,
                    "GET /connectors: the answer is not JSON (truncated?)", 0);
        expect_down("{}", 200, NULL, "timed out", 3000);
}

/* 4 ------------------------------------------------------------------------ */

static void test_runtime(void **state)
{
        struct routes r;
        struct config *c;
        struct collector *cs[2];
        struct err e;
        char *y;

        (void)state;
        routes_init(&r);
        route(&r, "/connectors", "expand=status&expand=info", 200,
              "@connect/expanded_all_states.json", NULL);
        route(&r, "/", NULL, 200, "@connect/root.json", NULL);
        route(&r, "/subjects", NULL, 200, "[\"orders-value\"]", NULL);
        route(&r, "/config", NULL, 200, "{\"compatibilityLevel\":\"BACKWARD\"}", NULL);
        route(&r, "/subjects/orders-value/versions", NULL, 200, "[1,2]", NULL);
        route(&r, "/subjects/orders-value/versions/latest", NULL, 200,
              "{\"subject\":\"orders-value\",\"version\":2,\"id\":7,\"schema\":\"{}\"}", NULL);
        route(&r, "/config/orders-value", NULL, 404,
              "{\"error_code\":40408,\"message\":\"Subject 'orders-value' does not have "
              "subject-level compatibility configured\"}", NULL);
        routes_apply(&r);
        y = xasprintf("environment: it\nsources:\n"
                      "  - {name: c, kind: kafka_connect, url: \"%s\", interval: 100ms}\n"
                      "  - {name: s, kind: schema_registry, url: \"%s\", interval: 100ms}\n",
                      srv.base_url, srv.base_url);
        c = config_load_string(y, strlen(y), "<it>", &e);
        free(y);
        assert_non_null(c);
        for (int i = 0; i < 2; i++)
                cs[i] = collector_start(&c->sources[i], -1, false);
        for (int i = 0; i < 2; i++) {
                struct snapshot *s;

                assert_true(collector_wait_gen(cs[i], 2, clock_mono_ms() + 60000));
                s = collector_latest(cs[i], NULL);
                assert_non_null(s);
                assert_int_equal(s->status, COLL_OK);
                if (i == 0)
                        assert_int_equal(((const struct kc_data *)s->data)->n_conns, 7);
                else
                        assert_string_equal(((const struct sr_data *)s->data)->compatibility,
                                            "BACKWARD");
                snapshot_unref(s);
        }
        {
                int64_t t0 = clock_mono_ms();

                collector_stop_all(cs, 2);
                /* Returns (a bound for a loaded machine, not a speed target:
                 * quit during a hung poll is test_collector's). */
                assert_true(clock_mono_ms() - t0 < 60000);
        }
        config_free(c);
}

/* 5 ------------------------------------------------------------------------ */

static void sr_subject_routes(struct routes *r, const char *name, int versions, int id,
                              const char *type, const char *compat)
{
        char path[128], body[256], vs[64] = "[";

        for (int v = 1; v <= versions; v++)
                snprintf(vs + strlen(vs), sizeof vs - strlen(vs), "%s%d", v > 1 ? "," : "", v);
        strcat(vs, "]");
        snprintf(path, sizeof path, "/subjects/%s/versions", name);
        route(r, path, NULL, 200, vs, "application/vnd.schemaregistry.v1+json");
        snprintf(path, sizeof path, "/subjects/%s/versions/latest", name);
        snprintf(body, sizeof body, "{\"subject\":\"%s\",\"version\":%d,\"id\":%d,%s%s%s"
                 "\"schema\":\"{\\\"type\\\":\\\"string\\\"}\"}", name, versions, id,
                 type ? "\"schemaType\":\"" : "", type ? type : "", type ? "\"," : "");
        route(r, path, NULL, 200, body, "application/vnd.schemaregistry.v1+json");
        snprintf(path, sizeof path, "/config/%s", name);
        if (compat) {
                snprintf(body, sizeof body, "{\"compatibilityLevel\":\"%s\"}", compat);
                route(r, path, NULL, 200, body, NULL);
        } else {
                snprintf(body, sizeof body, "{\"error_code\":40408,\"message\":\"Subject '%s' "
                         "does not have subject-level compatibility configured\"}", name);
                route(r, path, NULL, 404, body, NULL);
        }
}

static void test_schema_registry(void **state)
{
        struct routes r;
        struct config *c;
        void *st, *data;
        struct sr_data *d;
        struct err e;
        char *json, *log;
        cJSON *o;
        int64_t t0, t1;

        (void)state;
        routes_init(&r);
        route(&r, "/subjects", NULL, 200, "@schema_registry/subjects.json", NULL);
        route(&r, "/config", NULL, 200, "@schema_registry/config_global.json", NULL);
        sr_subject_routes(&r, "orders-value", 3, 42, NULL, NULL);
        sr_subject_routes(&r, "orders-key", 1, 41, NULL, "FULL");
        sr_subject_routes(&r, "payments-value", 2, 57, "PROTOBUF", "NONE");
        sr_subject_routes(&r, "shop.public.customers-value", 1, 60, "JSON", NULL);
        route(&r, "/subjects/deleted-value/versions", NULL, 404,
              "{\"error_code\":40401,\"message\":\"Subject 'deleted-value' not found.\"}", NULL);
        routes_apply(&r);
        c = load("schema_registry", NULL, "2s");
        st = c->sources[0].ops->create(&c->sources[0]);
        assert_int_equal(poll_once(&c->sources[0], st, &data, &e, NULL), COLL_OK);
        d = data;
        assert_string_equal(d->compatibility, "BACKWARD");
        assert_false(d->capped);
        assert_string_equal(d->note, "");
        o = cJSON_CreateObject();
        c->sources[0].ops->to_json(d, o);
        json = cJSON_PrintUnformatted(o);
        assert_string_equal(json,
                "{\"compatibility\":\"BACKWARD\",\"subjects_total\":4,\"refreshed\":5,"
                "\"capped\":false,\"note\":null,\"subjects\":["
                "{\"name\":\"orders-key\",\"versions\":1,\"latest_version\":1,\"latest_id\":41,"
                "\"type\":\"AVRO\",\"compatibility\":\"FULL\",\"inherits_global\":false},"
                "{\"name\":\"orders-value\",\"versions\":3,\"latest_version\":3,\"latest_id\":42,"
                "\"type\":\"AVRO\",\"compatibility\":null,\"inherits_global\":true},"
                "{\"name\":\"payments-value\",\"versions\":2,\"latest_version\":2,"
                "\"latest_id\":57,\"type\":\"PROTOBUF\",\"compatibility\":\"NONE\","
                "\"inherits_global\":false},"
                "{\"name\":\"shop.public.customers-value\",\"versions\":1,\"latest_version\":1,"
                "\"latest_id\":60,\"type\":\"JSON\",\"compatibility\":null,"
                "\"inherits_global\":true}]}");
        free(json);
        cJSON_Delete(o);
        c->sources[0].ops->data_free(d);
        c->sources[0].ops->destroy(st);
        config_free(c);

        /* the cap: 11 requests a poll, subjects round-robin */
        c = load("schema_registry", "    max_requests: 11\n", "2s");
        st = c->sources[0].ops->create(&c->sources[0]);
        clear_log();
        t0 = clock_wall_ms();
        assert_int_equal(poll_once(&c->sources[0], st, &data, &e, NULL), COLL_OK);
        t1 = clock_wall_ms();
        d = data;
        /* "read at" on the subject page: the wall clock of this poll for the
         * subjects read, never for the others. */
        for (size_t i = 0; i < d->n_subjects; i++) {
                if (d->subjects[i].known)
                        assert_in_range(d->subjects[i].read_at, t0, t1);
                else
                        assert_int_equal(d->subjects[i].read_at, 0);
        }
        log = tu_httpd_requests(&srv);
        /* /subjects, /config, deleted-value (1: 40401), orders-key (3),
         * orders-value (3); 2 left < 3 for the next subject */
        assert_int_equal(count(log, "\"method\": \"GET\""), 9);
        free(log);
        assert_true(d->capped);
        assert_int_equal(d->refreshed, 3);
        assert_int_equal(d->n_subjects, 4);     /* deleted-value dropped */
        assert_string_equal(d->note, "details of 3 of 5 subjects refreshed this poll "
                            "(max_requests 11); 2 not read yet, later polls continue");
        assert_true(d->subjects[0].known);
        assert_false(d->subjects[3].known);
        c->sources[0].ops->data_free(d);
        clear_log();
        assert_int_equal(poll_once(&c->sources[0], st, &data, &e, NULL), COLL_OK);
        d = data;
        assert_int_equal(d->n_subjects, 4);
        for (size_t i = 0; i < 4; i++)
                assert_true(d->subjects[i].known);
        log = tu_httpd_requests(&srv);
        assert_non_null(strstr(log, "/subjects/shop.public.customers-value/versions"));
        free(log);
        c->sources[0].ops->data_free(d);
        c->sources[0].ops->destroy(st);
        config_free(c);

        /* global config unreadable: DOWN with Schema Registry's own error */
        routes_init(&r);
        route(&r, "/subjects", NULL, 200, "[]", NULL);
        route(&r, "/config", NULL, 500, "{\"error_code\":50001,\"message\":\"Error in the "
              "backend data store\"}", NULL);
        routes_apply(&r);
        c = load("schema_registry", NULL, "2s");
        st = c->sources[0].ops->create(&c->sources[0]);
        assert_int_equal(poll_once(&c->sources[0], st, &data, &e, NULL), COLL_DOWN);
        assert_string_equal(e.msg, "config: HTTP 500 Internal Server Error: error 50001: Error "
                            "in the backend data store");
        c->sources[0].ops->destroy(st);
        config_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_connect_expanded),
                cmocka_unit_test(test_connect_fallback),
                cmocka_unit_test(test_connect_bad_answers),
                cmocka_unit_test(test_runtime),
                cmocka_unit_test(test_schema_registry),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
