/*
 * Kafka Connect collector, pure parts, on fixtures shaped after the Kafka Connect REST API reference
 * (tests/fixtures/connect/): the expanded listing with every connector and
 * task state (a RUNNING Debezium connector with a FAILED task and its
 * trace), the pre-2.3 name list with per-connector status/config, bad
 * bodies (truncated JSON, an HTML error page, wrong shapes), HTTP error
 * texts, to_json exactly and the alerts exactly. The Connect pane is tested
 * in tests/unit/views/test_view_connect.c.
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

#include "core/promtext.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "collectors/kafka_connect.h"
#include "collectors/postgres.h"
#include "core/snapshot.h"
#include "tu.h"
#include "tu_samples.h"
#include "core/util.h"
#include "tu_promtool.h"

static char *fixture(const char *name, size_t *len)
{
        char rel[256];
        char *s;

        snprintf(rel, sizeof rel, "tests/fixtures/connect/%s", name);
        s = tu_read_file(tu_src_path(rel), len);
        if (!s)
                fail_msg("missing fixture %s", rel);
        return s;
}

static const char *const TRACE0 =
        "org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change "
        "event producer. This connector will be stopped.\n"
        "\tat io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:67)\n";

static void test_parse_expanded(void **state)
{
        struct kc_data *d = tu_kc_sample_expanded();
        static const char *const names[] = { "audit-sink", "es-sink", "jdbc-sink", "legacy-src",
                                             "orders-cdc", "pg-cdc", "s3-sink" };
        static const char *const states[] = { "PAUSED", "RESTARTING", "UNASSIGNED", "STOPPED",
                                              "FAILED", "RUNNING", "RUNNING" };
        const struct kc_connector *c;

        (void)state;
        assert_true(d->expanded);
        assert_int_equal(d->n_conns, 7);
        for (size_t i = 0; i < 7; i++) {
                assert_string_equal(d->conns[i].name, names[i]);
                assert_string_equal(d->conns[i].state, states[i]);
        }
        c = kafka_connect_find(d, "pg-cdc");
        assert_non_null(c);
        assert_string_equal(c->type, "source");
        assert_string_equal(c->klass, KC_DEBEZIUM_PG_CLASS);
        assert_string_equal(c->worker, "10.0.3.7:8083");
        assert_null(c->trace);
        assert_int_equal(c->n_tasks, 2);
        assert_int_equal(c->tasks[0].id, 0);            /* sorted by id */
        assert_string_equal(c->tasks[0].state, "FAILED");
        assert_string_equal(c->tasks[0].worker, "10.0.3.8:8083");
        assert_int_equal(strncmp(c->tasks[0].trace, TRACE0, strlen(TRACE0)), 0);
        assert_non_null(strstr(c->tasks[0].trace, "\t... 9 more\n"));
        assert_int_equal(c->tasks[1].id, 1);
        assert_string_equal(c->tasks[1].state, "RUNNING");
        assert_null(c->tasks[1].trace);
        assert_int_equal(c->failed_tasks, 1);
        assert_int_equal(c->running_tasks, 1);
        assert_true(c->debezium_pg);
        assert_string_equal(c->slot, "debezium_shop");
        assert_string_equal(c->publication, "dbz_shop");
        assert_string_equal(c->topic_prefix, "shop");

        c = kafka_connect_find(d, "orders-cdc");             /* Debezium 1.x, defaults */
        assert_true(c->debezium_pg);
        assert_string_equal(c->slot, "debezium");
        assert_string_equal(c->publication, "dbz_publication");
        assert_string_equal(c->topic_prefix, "orders");
        assert_non_null(c->trace);
        assert_non_null(strstr(c->trace, "password authentication failed"));
        assert_int_equal(c->failed_tasks, 1);

        c = kafka_connect_find(d, "s3-sink");
        assert_false(c->debezium_pg);
        assert_null(c->slot);
        assert_string_equal(c->type, "sink");
        assert_string_equal(c->klass, "io.confluent.connect.s3.S3SinkConnector");
        assert_int_equal(c->running_tasks, 2);

        c = kafka_connect_find(d, "legacy-src");
        assert_int_equal(c->n_tasks, 0);
        c = kafka_connect_find(d, "es-sink");
        assert_string_equal(c->tasks[0].state, "RESTARTING");
        assert_int_equal(c->running_tasks, 1);
        assert_null(kafka_connect_find(d, "nope"));
        kafka_connect_data_free(d);
}

static void test_parse_fallback(void **state)
{
        struct kc_data *d = kafka_connect_data_new();
        struct cfg_strmap ov;
        char *keys[] = { "s3-sink" }, *vals[] = { "not-used" };
        struct err e;
        size_t len;
        char *j = fixture("list_names.json", &len);

        (void)state;
        err_clear(&e);
        assert_int_equal(kafka_connect_parse_list(j, len, d, &e), 1);
        free(j);
        assert_false(d->expanded);
        assert_int_equal(d->n_conns, 3);
        assert_string_equal(d->conns[2].name, "gone-sink");
        assert_null(d->conns[0].state);

        j = fixture("status_pg-cdc.json", &len);
        assert_int_equal(kafka_connect_parse_status(j, len, &d->conns[0], &e), 0);
        free(j);
        j = fixture("config_pg-cdc.json", &len);
        assert_int_equal(kafka_connect_parse_config(j, len, &d->conns[0], &e), 0);
        free(j);
        j = fixture("status_s3-sink.json", &len);        /* no "type" (older Connect) */
        assert_int_equal(kafka_connect_parse_status(j, len, &d->conns[1], &e), 0);
        free(j);
        j = fixture("config_s3-sink.json", &len);
        assert_int_equal(kafka_connect_parse_config(j, len, &d->conns[1], &e), 0);
        free(j);
        /* status parsed twice replaces the tasks */
        j = fixture("status_s3-sink.json", &len);
        assert_int_equal(kafka_connect_parse_status(j, len, &d->conns[1], &e), 0);
        free(j);

        ov.keys = keys;
        ov.vals = vals;
        ov.n = 1;
        kafka_connect_finish(d, &ov);
        assert_string_equal(d->conns[0].name, "gone-sink");
        assert_string_equal(d->conns[1].name, "pg-cdc");
        assert_string_equal(d->conns[1].slot, "debezium_shop");
        assert_string_equal(d->conns[1].type, "source");
        assert_int_equal(d->conns[1].failed_tasks, 1);
        assert_string_equal(d->conns[2].name, "s3-sink");
        assert_null(d->conns[2].type);
        assert_int_equal(d->conns[2].n_tasks, 2);
        /* an override on a connector whose class is known and not Debezium
         * sets the slot but does not make it Debezium */
        assert_false(d->conns[2].debezium_pg);
        kafka_connect_data_free(d);
}

static void test_slot_override(void **state)
{
        struct kc_data *d = tu_kc_sample_expanded();
        struct cfg_strmap ov;
        char *keys[] = { "pg-cdc" }, *vals[] = { "shop_slot" };

        (void)state;
        kafka_connect_data_free(d);
        d = kafka_connect_data_new();
        {
                struct err e;
                size_t len;
                char *j = fixture("expanded_all_states.json", &len);

                assert_int_equal(kafka_connect_parse_list(j, len, d, &e), 0);
                free(j);
        }
        ov.keys = keys;
        ov.vals = vals;
        ov.n = 1;
        kafka_connect_finish(d, &ov);
        assert_string_equal(kafka_connect_find(d, "pg-cdc")->slot, "shop_slot");
        assert_string_equal(kafka_connect_find(d, "orders-cdc")->slot, "debezium");
        kafka_connect_data_free(d);
}

static void test_bad_bodies(void **state)
{
        struct kc_data *d;
        struct kc_connector c = { 0 };
        struct err e;
        size_t len;
        char *j;

        (void)state;
        d = kafka_connect_data_new();
        j = fixture("truncated.json", &len);
        assert_int_equal(kafka_connect_parse_list(j, len, d, &e), -1);
        assert_string_equal(e.msg, "GET /connectors: the answer is not JSON (truncated?)");
        assert_int_equal(e.code, KC_ERR_BADJSON);
        free(j);
        kafka_connect_data_free(d);

        d = kafka_connect_data_new();
        j = fixture("error_502.html", &len);
        assert_int_equal(kafka_connect_parse_list(j, len, d, &e), -1);
        free(j);
        kafka_connect_data_free(d);

        d = kafka_connect_data_new();
        assert_int_equal(kafka_connect_parse_list("[\"a\", 3]", 8, d, &e), -1);
        assert_string_equal(e.msg, "GET /connectors: the list holds something other than names");
        kafka_connect_data_free(d);

        d = kafka_connect_data_new();
        assert_int_equal(kafka_connect_parse_list("42", 2, d, &e), -1);
        assert_string_equal(e.msg, "GET /connectors: expected an object or a list");
        kafka_connect_data_free(d);

        d = kafka_connect_data_new();
        j = fixture("expanded_empty.json", &len);
        assert_int_equal(kafka_connect_parse_list(j, len, d, &e), 0);
        assert_int_equal(d->n_conns, 0);
        free(j);
        kafka_connect_data_free(d);

        /* shapes that are JSON but odd: skipped, not crashing */
        d = kafka_connect_data_new();
        {
                const char *odd = "{\"a\":{\"status\":{\"tasks\":[{\"id\":\"x\"},"
                                  "{\"id\":-1},{\"id\":2,\"state\":7}]}},\"b\":3}";

                assert_int_equal(kafka_connect_parse_list(odd, strlen(odd), d, &e), 0);
        }
        assert_int_equal(d->n_conns, 1);
        assert_int_equal(d->conns[0].n_tasks, 1);
        assert_null(d->conns[0].tasks[0].state);
        kafka_connect_data_free(d);

        d = kafka_connect_data_new();
        assert_int_equal(kafka_connect_parse_list("{\"a\":{\"status\":[]}}", 20, d, &e), -1);
        assert_string_equal(e.msg, "connector a: status is not an object");
        kafka_connect_data_free(d);

        c.name = "x";
        assert_int_equal(kafka_connect_parse_status("{\"name\":", 8, &c, &e), -1);
        assert_string_equal(e.msg, "connector x: status is not JSON (truncated?)");
        assert_int_equal(kafka_connect_parse_config("[]", 2, &c, &e), -1);
        assert_string_equal(e.msg, "connector x: config is not a JSON object");
        d = kafka_connect_data_new();
        assert_int_equal(kafka_connect_parse_root("<html>", 6, d, &e), -1);
        assert_int_equal(kafka_connect_parse_root("{\"version\":\"2.2.1\"}", 19, d, &e), 0);
        assert_string_equal(d->version, "2.2.1");
        kafka_connect_data_free(d);
}

static void test_http_errors(void **state)
{
        struct err e;
        size_t len;
        char *j;

        (void)state;
        j = fixture("error_401.json", &len);
        kafka_connect_http_error(401, j, len, "application/json", "GET /connectors", &e);
        assert_string_equal(e.msg, "GET /connectors: HTTP 401 Unauthorized: check user and "
                            "password_env/password_file -- Unauthorized");
        assert_int_equal(e.code, KC_ERR_HTTP);
        free(j);
        j = fixture("error_500.json", &len);
        kafka_connect_http_error(500, j, len, "application/json", "GET /connectors", &e);
        assert_string_equal(e.msg, "GET /connectors: HTTP 500 Internal Server Error: Request "
                            "timed out");
        free(j);
        j = fixture("error_502.html", &len);
        kafka_connect_http_error(502, j, len, NULL, "GET /connectors", &e);
        assert_string_equal(e.msg, "GET /connectors: HTTP 502 Bad Gateway (an HTML page, not "
                            "Connect's JSON: a proxy in the way, or is url the Connect REST "
                            "port?)");
        free(j);
        kafka_connect_http_error(503, "", 0, NULL, "GET /", &e);
        assert_string_equal(e.msg, "GET /: HTTP 503 Service Unavailable");
}

static void test_trace_head_and_segment(void **state)
{
        struct err e;
        char *s;

        (void)state;
        s = kafka_connect_trace_head("a\nb\nc\nd", 2, 100);
        assert_string_equal(s, "a\nb");
        free(s);
        s = kafka_connect_trace_head("a\nb", 5, 100);
        assert_string_equal(s, "a\nb");
        free(s);
        s = kafka_connect_trace_head("abcdef", 5, 3);
        assert_string_equal(s, "abc");
        free(s);
        s = kafka_connect_trace_head("ab\xc3\xa9z", 5, 3);          /* no half code point */
        assert_string_equal(s, "ab");
        free(s);
        assert_null(kafka_connect_trace_head(NULL, 3, 3));
        s = kafka_connect_path("pg cdc/é~x", "/status", &e);
        assert_string_equal(s, "/connectors/pg%20cdc%2F%C3%A9~x/status");
        free(s);
        s = kafka_connect_path("a/b", NULL, &e);
        assert_string_equal(s, "/connectors/a%2Fb");
        free(s);
        s = kafka_connect_path("..b", "/restart", &e);     /* dots inside a name are plain */
        assert_string_equal(s, "/connectors/..b/restart");
        free(s);
        /* A dot segment would leave /connectors/ once libcurl removes it. */
        assert_null(kafka_connect_path("..", "/restart?includeTasks=true", &e));
        assert_string_equal(e.msg, "connector name \"..\" is refused: in a URL path it would "
                            "name another resource");
        assert_null(kafka_connect_path(".", "/pause", &e));
        assert_string_equal(e.msg, "connector name \".\" is refused: in a URL path it would "
                            "name another resource");
        assert_null(kafka_connect_path("", "/status", &e));
        assert_string_equal(e.msg, "connector name is empty");
}

static void test_config(void **state)
{
        struct config *c = tu_kc_config("    slot: {pg-cdc: shop_slot}\n");
        const struct kc_cfg *k = c->sources[1].kind_cfg;
        struct err e;
        const char *bad[] = {
                "environment: t\nsources:\n  - name: c\n    kind: kafka_connect\n"
                "    url: http://u:p@h:8083\n",
                "environment: t\nsources:\n  - name: c\n    kind: kafka_connect\n"
                "    url: h:8083\n",
                "environment: t\nsources:\n  - name: c\n    kind: kafka_connect\n"
                "    url: http://h:8083\n    password_env: X\n",
                "environment: t\nsources:\n  - name: c\n    kind: kafka_connect\n"
                "    url: http://h:8083\n  - name: d\n    kind: kafka_connect\n"
                "    url: http://h:8083\n    postgres: c\n",
        };

        (void)state;
        assert_ptr_equal(c->sources[1].ops, &coll_kafka_connect_ops);
        assert_string_equal(k->postgres.name, "shop-db");
        assert_ptr_equal(k->postgres.src, &c->sources[0]);
        assert_int_equal(k->slot.n, 1);
        assert_int_equal(c->sources[1].interval_ms, 10000);
        assert_int_equal(c->sources[1].timeout_ms, 5000);
        config_free(c);
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                c = config_load_string(bad[i], strlen(bad[i]), "<t>", &e);
                if (c)
                        fail_msg("accepted: %s", bad[i]);
        }
        c = config_load_string(bad[3], strlen(bad[3]), "<t>", &e);
        assert_null(c);
        assert_non_null(strstr(e.msg, "not postgres"));
}

static void test_to_json(void **state)
{
        struct kc_data *d = tu_kc_sample_expanded();
        cJSON *o = cJSON_CreateObject(), *arr;
        char *s;

        (void)state;
        d->version = xstrdup("3.7.0");
        d->postgres_source = xstrdup("shop-db");
        coll_kafka_connect_ops.to_json(d, o);
        arr = cJSON_GetObjectItem(o, "connectors");
        assert_int_equal(cJSON_GetArraySize(arr), 7);
        s = cJSON_PrintUnformatted(cJSON_GetArrayItem(arr, 5));
        assert_string_equal(s,
                "{\"name\":\"pg-cdc\",\"type\":\"source\","
                "\"class\":\"io.debezium.connector.postgresql.PostgresConnector\","
                "\"state\":\"RUNNING\",\"worker\":\"10.0.3.7:8083\",\"trace\":null,"
                "\"failed_tasks\":1,\"tasks\":["
                "{\"id\":0,\"state\":\"FAILED\",\"worker\":\"10.0.3.8:8083\",\"trace\":"
                "\"org.apache.kafka.connect.errors.ConnectException: An exception occurred in "
                "the change event producer. This connector will be stopped.\\n"
                "\\tat io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:67)\\n"
                "\\tat io.debezium.connector.postgresql.PostgresStreamingChangeEventSource.execute("
                "PostgresStreamingChangeEventSource.java:180)\\n"
                "\\tat io.debezium.pipeline.ChangeEventSourceCoordinator.streamEvents("
                "ChangeEventSourceCoordinator.java:172)\\n"
                "\\tat io.debezium.pipeline.ChangeEventSourceCoordinator.executeChangeEventSources("
                "ChangeEventSourceCoordinator.java:139)\"},"
                "{\"id\":1,\"state\":\"RUNNING\",\"worker\":\"10.0.3.7:8083\",\"trace\":null}],"
                "\"slot\":\"debezium_shop\",\"publication\":\"dbz_shop\",\"topic_prefix\":\"shop\","
                "\"postgres_source\":\"shop-db\",\"error\":null}");
        free(s);
        s = cJSON_PrintUnformatted(cJSON_GetArrayItem(arr, 3));
        assert_string_equal(s,
                "{\"name\":\"legacy-src\",\"type\":\"source\","
                "\"class\":\"org.apache.kafka.connect.file.FileStreamSourceConnector\","
                "\"state\":\"STOPPED\",\"worker\":\"10.0.3.7:8083\",\"trace\":null,"
                "\"failed_tasks\":0,\"tasks\":[],\"slot\":null,\"publication\":null,"
                "\"topic_prefix\":null,\"postgres_source\":null,\"error\":null}");
        free(s);
        assert_string_equal(cJSON_GetObjectItem(o, "version")->valuestring, "3.7.0");
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "expand")));
        cJSON_Delete(o);

        /* unknown everything: nulls */
        kafka_connect_data_free(d);
        d = kafka_connect_data_new();
        {
                struct err e;

                assert_int_equal(kafka_connect_parse_list("[\"x\"]", 5, d, &e), 1);
        }
        kafka_connect_finish(d, NULL);
        o = cJSON_CreateObject();
        coll_kafka_connect_ops.to_json(d, o);
        s = cJSON_PrintUnformatted(o);
        assert_string_equal(s, "{\"version\":null,\"expand\":false,\"connectors\":[{\"name\":\"x\","
                            "\"type\":null,\"class\":null,\"state\":null,\"worker\":null,"
                            "\"trace\":null,\"failed_tasks\":0,\"tasks\":[],\"slot\":null,"
                            "\"publication\":null,\"topic_prefix\":null,\"postgres_source\":null,"
                            "\"error\":null}]}");
        free(s);
        cJSON_Delete(o);
        kafka_connect_data_free(d);
}

static void test_alerts(void **state)
{
        struct config *c = tu_kc_config(NULL);
        struct kc_data *d = tu_kc_sample_expanded();
        struct alert_list l;
        static const struct {
                enum severity sev;
                const char *metric, *subject, *msg;
        } want[] = {
                { SEV_WARN, "connector_not_running", "audit-sink",
                  "connector audit-sink is PAUSED (not RUNNING)" },
                { SEV_WARN, "connector_not_running", "es-sink",
                  "connector es-sink is RESTARTING (not RUNNING)" },
                { SEV_WARN, "connector_not_running", "jdbc-sink",
                  "connector jdbc-sink is UNASSIGNED (not RUNNING)" },
                { SEV_WARN, "unassigned_tasks", "jdbc-sink",
                  "connector jdbc-sink has 1 UNASSIGNED task(s): no worker runs them" },
                { SEV_WARN, "connector_not_running", "legacy-src",
                  "connector legacy-src is STOPPED (not RUNNING)" },
                { SEV_CRIT, "connector_failed", "orders-cdc",
                  "connector orders-cdc FAILED on 10.0.3.8:8083: restart it after fixing the "
                  "cause (see its trace)" },
                { SEV_CRIT, "failed_tasks", "orders-cdc",
                  "connector orders-cdc (FAILED) has 1 of 1 tasks FAILED" },
                { SEV_CRIT, "failed_tasks", "pg-cdc",
                  "connector pg-cdc is RUNNING but 1 of 2 tasks FAILED (task 0 on "
                  "10.0.3.8:8083): the classic silent outage -- Connect never restarts tasks "
                  "by itself" },
        };
        char buf[256];

        (void)state;
        alert_list_init(&l);
        coll_kafka_connect_ops.alerts(&c->sources[1], d, &l);
        assert_int_equal(l.n, LO_ARRAY_LEN(want));
        for (size_t i = 0; i < l.n; i++) {
                assert_int_equal(l.v[i].sev, want[i].sev);
                assert_string_equal(l.v[i].source, "connect");
                assert_string_equal(l.v[i].metric, want[i].metric);
                assert_string_equal(l.v[i].subject, want[i].subject);
                assert_string_equal(l.v[i].message, want[i].msg);
        }
        assert_true(l.v[7].value == 1.0 && l.v[7].threshold == 1.0);
        alert_list_done(&l);
        assert_true(coll_kafka_connect_ops.key_metric(d) == 2.0);
        coll_kafka_connect_ops.summary(d, buf, sizeof buf);
        assert_string_equal(buf, "7 connectors: 2 running, 1 failed, 4 other; 2 failed tasks");
        config_free(c);

        /* thresholds are configurable: failed_tasks warn 1 crit 3, not_running off */
        c = tu_kc_config("    thresholds:\n"
                     "      failed_tasks: {warn: 1, crit: 3}\n"
                     "      connector_not_running: {warn: 5}\n");
        alert_list_init(&l);
        coll_kafka_connect_ops.alerts(&c->sources[1], d, &l);
        assert_int_equal(l.n, 4);
        assert_string_equal(l.v[0].metric, "unassigned_tasks");
        assert_string_equal(l.v[1].metric, "connector_failed");
        assert_int_equal(l.v[2].sev, SEV_WARN);
        assert_int_equal(l.v[3].sev, SEV_WARN);
        assert_string_equal(l.v[3].subject, "pg-cdc");
        alert_list_done(&l);
        config_free(c);
        kafka_connect_data_free(d);
}

/* ---- /metrics ------------------------------------------------------------ */

/* The kind's metrics hook on the same data as the JSON test: exact text
 * (tests/fixtures/connect/metrics.prom), which promtool check metrics accepts. */
static void test_metrics(void **state)
{
        struct source_cfg msrc = { .name = "connect", .kind = "kafka_connect",
                                   .ops = &coll_kafka_connect_ops };
        struct snapshot snap = { .src = &msrc };
        struct promtext *p = promtext_new();
        char *text;

        (void)state;
        struct kc_data *d = tu_kc_sample_expanded();

        snap.data = d;
        assert_non_null(coll_kafka_connect_ops.metrics);
        coll_kafka_connect_ops.metrics(&snap, &msrc, p);
        assert_int_equal(promtext_errors(p), 0);
        text = promtext_finish(p, NULL);
        tu_metrics_expect(text, "tests/fixtures/connect/metrics.prom");
        free(text);
        promtext_free(p);
        kafka_connect_data_free(d);
}


int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_expanded),
                cmocka_unit_test(test_parse_fallback),
                cmocka_unit_test(test_slot_override),
                cmocka_unit_test(test_bad_bodies),
                cmocka_unit_test(test_http_errors),
                cmocka_unit_test(test_trace_head_and_segment),
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_to_json),
                cmocka_unit_test(test_alerts),
                cmocka_unit_test(test_metrics),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
