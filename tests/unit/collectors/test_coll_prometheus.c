/*
 * Unit tests for the Prometheus collector's pure parts, on the fixtures in
 * tests/fixtures/prometheus (the API shapes of Prometheus's HTTP API reference: vector,
 * scalar, matrix, empty, a bad_data error) and a raft-metrics answer mixing
 * jmx_exporter and Strimzi names with a leader, a follower and an observer.
 * Also the JSON of an unavailable quorum, alerts, the queries list and its
 * warn/crit per unit and config validation. No server, no curses. The
 * Metrics pane is tested in tests/unit/views/test_view_metrics.c.
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
#include "collectors/prometheus.h"
#include "core/snapshot.h"
#include "tu.h"
#include "core/util.h"
#include "tu_promtool.h"

static char *fixture(const char *name, size_t *len)
{
        char rel[256];
        char *b;

        snprintf(rel, sizeof rel, "tests/fixtures/prometheus/%s", name);
        b = tu_read_file(tu_src_path(rel), len);
        if (!b)
                fail_msg("missing fixture %s", rel);
        return b;
}

static void test_values(void **state)
{
        (void)state;
        assert_true(prometheus_value("12.5") == 12.5);
        assert_true(isnan(prometheus_value("NaN")));
        assert_true(prometheus_value("+Inf") == INFINITY);
        assert_true(prometheus_value("-Inf") == -INFINITY);
        assert_true(isnan(prometheus_value("12x")));
        assert_true(isnan(prometheus_value("")));
        assert_true(prometheus_value("1e3") == 1000.0);
}

static void test_parse(void **state)
{
        struct prom_sample *s;
        struct err err = { 0 };
        size_t n, len;
        char *b;

        (void)state;
        b = fixture("vector.json", &len);
        assert_int_equal(prometheus_parse(b, len, &s, &n, &err), 0);
        assert_int_equal(n, 4);
        assert_string_equal(s[1].metric, "kafka_server_replicamanager_underreplicatedpartitions");
        assert_string_equal(s[1].labels, "{instance=\"kafka-1:9404\",job=\"kafka\"}");
        assert_true(s[1].v == 2.0 && s[1].t == 1714557600.123);
        assert_null(s[2].metric);
        assert_true(isnan(s[2].v));
        assert_string_equal(s[3].labels, "");
        assert_true(isinf(s[3].v));
        prometheus_samples_free(s, n);
        free(b);

        b = fixture("scalar.json", &len);
        assert_int_equal(prometheus_parse(b, len, &s, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_true(s[0].v == 42.5);
        prometheus_samples_free(s, n);
        free(b);

        b = fixture("matrix.json", &len);
        assert_int_equal(prometheus_parse(b, len, &s, &n, &err), 0);
        assert_int_equal(n, 4);
        assert_string_equal(s[2].labels, "{topic=\"orders\"}");
        assert_true(s[2].v == 3.0 && s[2].t == 1714557630.0);
        prometheus_samples_free(s, n);
        free(b);

        b = fixture("empty.json", &len);
        assert_int_equal(prometheus_parse(b, len, &s, &n, &err), 0);
        assert_int_equal(n, 0);
        prometheus_samples_free(s, n);
        free(b);

        b = fixture("bad_data.json", &len);
        assert_int_equal(prometheus_parse(b, len, &s, &n, &err), -1);
        assert_string_equal(err.msg, "bad_data: invalid parameter \"query\": 1:12: parse error: "
                            "unexpected \")\"");
        free(b);

        assert_int_equal(prometheus_parse("<html>502</html>", 16, &s, &n, &err), -1);
        assert_string_equal(err.msg, "not a Prometheus API answer (16 bytes, HTML): is the url "
                            "the Prometheus server?");
        assert_int_equal(prometheus_parse("{\"status\":\"success\",\"data\":{\"resultT", 35, &s, &n,
                                          &err), -1);
}

static void test_quorum(void **state)
{
        struct prom_quorum q;
        size_t len;
        char *b = fixture("raft_mixed.json", &len);

        (void)state;
        memset(&q, 0, sizeof q);
        prometheus_quorum_from(b, len, &q);
        free(b);
        assert_true(q.available);
        assert_int_equal(q.leader_id, 3);
        assert_int_equal(q.leader_epoch, 12);
        assert_int_equal(q.high_watermark, 1000);
        assert_int_equal(q.n_voters, 2);
        assert_int_equal(q.n_observers, 1);
        /* Sorted by job/instance: c2 then c3. */
        assert_string_equal(q.voters[0].instance, "kafka/c2:9404");
        assert_int_equal(q.voters[0].id, 2);
        assert_string_equal(q.voters[0].state, "follower");
        assert_int_equal(q.voters[0].lag, 10);
        assert_int_equal(q.voters[1].id, 3);
        assert_int_equal(q.voters[1].lag, 0);
        assert_string_equal(q.observers[0].instance, "kafka/b4:9404");
        assert_int_equal(q.observers[0].id, -1);
        assert_int_equal(q.observers[0].lag, 300);
        prometheus_quorum_done(&q);

        b = fixture("empty.json", &len);
        prometheus_quorum_from(b, len, &q);
        free(b);
        assert_false(q.available);
        assert_non_null(strstr(q.reason, "no raft metrics in Prometheus"));
        assert_int_equal(q.leader_id, -1);
        prometheus_quorum_done(&q);
}

static struct config *load(const char *extra, struct err *err)
{
        char *yaml = xasprintf("sources:\n  - name: prom\n    kind: prometheus\n"
                               "    url: http://127.0.0.1:9090\n%s", extra);
        struct config *c = config_load_string(yaml, strlen(yaml), "<t>", err);

        free(yaml);
        return c;
}

static void test_limits(void **state)
{
        struct err err;
        double v;

        (void)state;
        assert_int_equal(prometheus_limit_parse(NULL, "100", &v, &err), 0);
        assert_true(v == 100.0);
        assert_int_equal(prometheus_limit_parse("count", "0.5", &v, &err), 0);
        assert_true(v == 0.5);
        assert_int_equal(prometheus_limit_parse("rate", "-3", &v, &err), 0);
        assert_true(v == -3.0);
        assert_int_equal(prometheus_limit_parse("bytes", "1GiB", &v, &err), 0);
        assert_true(v == 1073741824.0);
        assert_int_equal(prometheus_limit_parse("bytes", "1024", &v, &err), 0);
        assert_true(v == 1024.0);
        assert_int_equal(prometheus_limit_parse("ms", "1.5s", &v, &err), 0);
        assert_true(v == 1500.0);
        assert_int_equal(prometheus_limit_parse("s", "250ms", &v, &err), 0);
        assert_true(v == 0.25);
        assert_int_equal(prometheus_limit_parse("s", "2m", &v, &err), 0);
        assert_true(v == 120.0);
        assert_int_equal(prometheus_limit_parse("ms", "500", &v, &err), -1);
        assert_string_equal(err.msg, "invalid duration \"500\": missing unit (ms, s, m, h or d)");
        assert_int_equal(prometheus_limit_parse("bytes", "2gib", &v, &err), -1);
        assert_string_equal(err.msg, "invalid size \"2gib\": unknown unit \"gib\" (did you mean "
                            "\"GiB\"?)");
        static const char *const not_numbers[] = { "", "lots", "1e3", "inf", "NaN", "0x10", " 1",
                                                   "1GiB" };
        for (size_t i = 0; i < LO_ARRAY_LEN(not_numbers); i++)
                if (prometheus_limit_parse("count", not_numbers[i], &v, &err) != -1)
                        fail_msg("\"%s\" was taken as a number", not_numbers[i]);
        assert_string_equal(err.msg, "expected a number for unit count, got \"1GiB\"");
}

static void test_config(void **state)
{
        static const struct {
                const char *yaml;
                const char *msg;        /* the whole message after "<t>:" */
        } bad[] = {
                { "    queries:\n      - {name: a, expr: up, unit: furlongs}\n",
                  "2:5: source \"prom\": queries[0].unit: \"furlongs\" is not one of bytes, ms, s, "
                  "count, rate" },
                { "    queries:\n      - {name: a, expr: up}\n      - {name: b, expr: up, warn: lots}\n",
                  "2:5: source \"prom\": queries[1].warn: expected a number for unit count, got "
                  "\"lots\"" },
                { "    queries:\n      - {name: a, expr: up, unit: bytes, crit: 2gib}\n",
                  "2:5: source \"prom\": queries[0].crit: invalid size \"2gib\": unknown unit "
                  "\"gib\" (did you mean \"GiB\"?)" },
                { "    queries:\n      - {name: a, expr: up, unit: ms, warn: 500}\n",
                  "2:5: source \"prom\": queries[0].warn: invalid duration \"500\": missing unit "
                  "(ms, s, m, h or d)" },
                { "    queries:\n      - {name: a, expr: up, unit: s, warn: 2m, crit: 30s}\n",
                  "2:5: source \"prom\": queries[0]: warn (2m) is above crit (30s)" },
                /* The loader's own checks of the list. */
                { "    queries:\n      - {name: a, expr: up}\n      - {name: a, expr: down}\n",
                  "7:16: queries[1].name: duplicate \"a\" (first defined at line 6)" },
                { "    queries:\n      - {expr: up}\n",
                  "6:9: queries[0]: missing required key \"name\"" },
                { "    queries:\n      - {name: a, expr: up, unti: ms}\n",
                  "6:29: queries[0]: unknown key \"unti\" (did you mean \"unit\"?)" },
                /* The old map form is refused with the list's message. */
                { "    queries: {a: up}\n",
                  "5:14: queries: expected a list of mappings, got a mapping" },
                { "    units: {a: ms}\n",
                  "5:5: unknown key \"units\" for kind prometheus (valid keys: name, kind, "
                  "interval, timeout, thresholds, for, keep_firing_for, url, token_env, "
                  "token_file, user, password_env, password_file, queries, quorum, ca_file, "
                  "insecure)" },
                { "    quorum: maybe\n", "2:5: source \"prom\": quorum must be auto or off" },
                { "    quorum: \"off\"\n",
                  "2:5: source \"prom\": nothing to do: no queries and quorum: off" },
                { "    token_env: A\n    token_file: /x\n",
                  "6:5: token_env and token_file are exclusive" },
        };
        struct err err;
        struct config *c;

        (void)state;
        err_clear(&err);
        c = load("    queries:\n"
                 "      - {name: lag, expr: sum(x), warn: 100, crit: 1000}\n"
                 "      - name: p99\n        expr: \"histogram_quantile(0.99, y)\"\n"
                 "        unit: ms\n        warn: 250ms\n        crit: 1s\n"
                 "      - {name: disk, expr: z, unit: bytes, warn: 1GiB}\n"
                 "      - {name: age, expr: w, unit: s, crit: 90s}\n", &err);
        if (!c)
                fail_msg("%s", err.msg);
        assert_int_equal(((const struct prom_cfg *)c->sources[0].kind_cfg)->queries.n, 4);
        config_free(c);
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                char want[512];

                err_clear(&err);
                c = load(bad[i].yaml, &err);
                snprintf(want, sizeof want, "<t>:%s", bad[i].msg);
                if (c || strcmp(err.msg, want) != 0)
                        fail_msg("%s:\n  got  %s\n  want %s", bad[i].yaml, err.msg, want);
        }
}

static void test_json_alerts(void **state)
{
        struct err err = { 0 };
        struct config *c = load("    queries:\n      - {name: lag, expr: sum(x), warn: 100}\n"
                                "      - {name: p99, expr: y, unit: ms, crit: 250ms}\n"
                                "      - {name: bad, expr: \"sum(\"}\n", &err);
        struct prom_data *d = xcalloc(1, sizeof *d);
        struct alert_list al;
        cJSON *o;
        char *s;

        (void)state;
        assert_non_null(c);
        d->series = xcalloc(3, sizeof *d->series);
        d->n_series = 3;
        d->series[0] = (struct prom_series){ xstrdup("lag"), xstrdup("lag"), "count", 150, NULL,
                                             100, NAN, { { 0 }, { 0 }, 0, 0 } };
        d->series[1] = (struct prom_series){ xstrdup("p99"), xstrdup("p99"), "ms", 300, NULL,
                                             NAN, 250, { { 0 }, { 0 }, 0, 0 } };
        d->series[2] = (struct prom_series){ xstrdup("bad"), xstrdup("bad"), "count", NAN,
                                             xstrdup("bad_data: parse error"), NAN, NAN,
                                             { { 0 }, { 0 }, 0, 0 } };
        d->n_errors = 1;
        d->quorum_asked = true;
        d->quorum.leader_id = d->quorum.leader_epoch = d->quorum.high_watermark = -1;
        str_copy(d->quorum.reason, "no raft metrics", sizeof d->quorum.reason);

        o = cJSON_CreateObject();
        coll_prometheus_ops.to_json(d, o);
        s = cJSON_PrintUnformatted(o);
        assert_string_equal(s,
                "{\"series\":[{\"name\":\"lag\",\"query\":\"lag\",\"value\":150,\"unit\":\"count\","
                "\"error\":null},{\"name\":\"p99\",\"query\":\"p99\",\"value\":300,\"unit\":\"ms\","
                "\"error\":null},{\"name\":\"bad\",\"query\":\"bad\",\"value\":null,"
                "\"unit\":\"count\",\"error\":\"bad_data: parse error\"}],"
                "\"quorum\":{\"available\":false,\"reason\":\"no raft metrics\",\"leader_id\":null,"
                "\"leader_epoch\":null,\"high_watermark\":null,\"voters\":null,"
                "\"observers\":null}}");
        free(s);
        cJSON_Delete(o);

        alert_list_init(&al);
        coll_prometheus_ops.alerts(&c->sources[0], d, &al);
        assert_int_equal(al.n, 3);
        assert_int_equal(al.v[0].sev, SEV_WARN);
        assert_string_equal(al.v[0].message, "lag 150 count >= warn 100");
        assert_int_equal(al.v[1].sev, SEV_CRIT);
        assert_string_equal(al.v[1].message, "p99 300 ms >= crit 250");
        assert_string_equal(al.v[2].message, "query bad failed: bad_data: parse error");

        alert_list_done(&al);
        prometheus_data_free(d);
        config_free(c);
}

/* ---- /metrics ------------------------------------------------------------ */

/* The kind's metrics hook on the same data as the JSON test: exact text
 * (tests/fixtures/prometheus/metrics.prom), which promtool check metrics accepts. */
static void test_metrics(void **state)
{
        struct source_cfg msrc = { .name = "prom", .kind = "prometheus",
                                   .ops = &coll_prometheus_ops };
        struct snapshot snap = { .src = &msrc };
        struct promtext *p = promtext_new();
        char *text;

        (void)state;
        struct prom_data *d = xcalloc(1, sizeof *d);
        size_t len;
        char *b = fixture("raft_mixed.json", &len);

        /* Two series of one query that answered, one query that failed,
         * and the quorum of raft_mixed.json. */
        d->series = xcalloc(3, sizeof *d->series);
        d->n_series = 3;
        d->series[0] = (struct prom_series){ xstrdup("lag"), xstrdup("lag{topic=\"a\"}"), "count",
                                             150, NULL, NAN, NAN, { { 0 }, { 0 }, 0, 0 } };
        d->series[1] = (struct prom_series){ xstrdup("lag"), xstrdup("lag{topic=\"b\"}"), "count",
                                             7, NULL, NAN, NAN, { { 0 }, { 0 }, 0, 0 } };
        d->series[2] = (struct prom_series){ xstrdup("bad"), xstrdup("bad"), "count", NAN,
                                             xstrdup("bad_data: parse error"), NAN, NAN,
                                             { { 0 }, { 0 }, 0, 0 } };
        d->quorum_asked = true;
        prometheus_quorum_from(b, len, &d->quorum);
        free(b);
        snap.data = d;
        assert_non_null(coll_prometheus_ops.metrics);
        coll_prometheus_ops.metrics(&snap, &msrc, p);
        assert_int_equal(promtext_errors(p), 0);
        text = promtext_finish(p, NULL);
        tu_metrics_expect(text, "tests/fixtures/prometheus/metrics.prom");
        free(text);
        promtext_free(p);
        prometheus_data_free(d);
}


int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_values),
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_quorum),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_metrics),
                cmocka_unit_test(test_json_alerts),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
