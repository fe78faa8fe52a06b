/*
 * The Prometheus collector against a real Prometheus (Debian's 2.42,
 * tests/lib/tu_prom.c) scraping two static exposition files served by the
 * fixture server: controller 1 with jmx_exporter's default raft names
 * (kafka_server_raft_metrics_*, the leader) and controller 2 with Strimzi's
 * (kafka_server_raftmetrics_*, a follower 42 records behind), plus a
 * consumer-lag metric with known values. Waits for both targets with up ==
 * 1 against a deadline (no sleeps), then asserts exact values: the sum and
 * per-partition lag, the under-replicated count and their warn/crit
 * colours, the quorum in the Kafka JSON shape (leader, epoch, high
 * watermark, voters with lag), a query with a PromQL syntax error failing
 * alone (bad_data; the source DEGRADED, the rest fine), the history
 * backfilled from query_range, and DOWN when Prometheus is gone.
 * Skips when prometheus is not installed.
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
#include "collectors/prometheus.h"
#include "tu.h"
#include "tu_http.h"
#include "tu_prom.h"
#include "core/util.h"

static struct tu_httpd srv;
static struct tu_prom prom;
static bool have_prom;

static const char m1[] =
        "# TYPE kafka_server_raft_metrics_current_leader gauge\n"
        "kafka_server_raft_metrics_current_leader 1\n"
        "kafka_server_raft_metrics_current_epoch 7\n"
        "kafka_server_raft_metrics_high_watermark 4242\n"
        "kafka_server_raft_metrics_log_end_offset 4242\n"
        "kafka_server_raft_metrics_current_state{state=\\\"leader\\\"} 1\n"
        "kafka_server_raft_metrics_current_state{state=\\\"follower\\\"} 0\n"
        "kafka_consumergroup_lag{consumergroup=\\\"etl\\\",topic=\\\"orders\\\",partition=\\\"0\\\"} 120\n"
        "kafka_consumergroup_lag{consumergroup=\\\"etl\\\",topic=\\\"orders\\\",partition=\\\"1\\\"} 30\n"
        "kafka_server_replicamanager_underreplicatedpartitions 2\n";

static const char m2[] =
        "kafka_server_raftmetrics_current_leader 1\n"
        "kafka_server_raftmetrics_current_epoch 7\n"
        "kafka_server_raftmetrics_high_watermark 4242\n"
        "kafka_server_raftmetrics_log_end_offset 4200\n"
        "kafka_server_raftmetrics_current_state{current_state=\\\"follower\\\"} 1\n";

static struct config *load(const char *url)
{
        struct err err = { 0 };
        char *yaml = xasprintf(
                "sources:\n  - name: prom\n    kind: prometheus\n    url: %s\n"
                "    interval: 1s\n    timeout: 3s\n"
                "    queries:\n"
                "      - {name: lag_total, expr: sum(kafka_consumergroup_lag), unit: count,\n"
                "         warn: 100, crit: 1000}\n"
                "      - name: lag_by_partition\n"
                "        expr: sum by (partition) (kafka_consumergroup_lag)\n"
                "      - name: urp\n"
                "        expr: sum(kafka_server_replicamanager_underreplicatedpartitions)\n"
                "        unit: count\n"
                "        warn: 1\n"
                "        crit: 5\n"
                "      - {name: broken, expr: \"sum(rate(kafka_consumergroup_lag[1m])\"}\n", url);
        struct config *c = config_load_string(yaml, strlen(yaml), "<t>", &err);

        if (!c)
                fail_msg("config: %s\n%s", err.msg, yaml);
        free(yaml);
        return c;
}

static enum coll_status it_poll(void *st, const struct source_cfg *src, struct prom_data **d,
                                struct err *err)
{
        struct coll_ctx ctx;
        void *data = NULL;
        enum coll_status s;

        err_clear(err);
        ctx.stop_fd = -1;
        ctx.now_mono = clock_mono_ms();
        ctx.timeout_ms = src->timeout_ms;
        ctx.deadline_mono = ctx.now_mono + src->timeout_ms;
        s = coll_prometheus_ops.poll(st, &ctx, &data, err);
        *d = data;
        return s;
}

static void test_queries_and_quorum(void **state)
{
        struct config *c;
        void *st;
        struct prom_data *d;
        struct err err;
        struct alert_list al;
        cJSON *o;
        char *s;

        (void)state;
        if (!have_prom)
                skip();
        c = load(prom.url);
        st = coll_prometheus_ops.create(&c->sources[0]);
        assert_int_equal(it_poll(st, &c->sources[0], &d, &err), COLL_DEGRADED);
        assert_non_null(strstr(err.msg, "query broken: bad_data: "));
        assert_non_null(strstr(err.msg, "parse error"));
        assert_int_equal(d->n_series, 5);
        assert_string_equal(d->series[0].name, "lag_total");
        assert_true(d->series[0].value == 150.0);
        assert_null(d->series[0].error);
        assert_true(d->series[0].warn == 100.0 && d->series[0].crit == 1000.0);
        /* History backfilled from query_range, plus this sample. */
        assert_true(d->series[0].hist.n >= 2);
        assert_true(ring_last(&d->series[0].hist) == 150.0);
        assert_string_equal(d->series[1].name, "lag_by_partition{partition=\"0\"}");
        assert_true(d->series[1].value == 120.0);
        assert_string_equal(d->series[2].name, "lag_by_partition{partition=\"1\"}");
        assert_true(d->series[2].value == 30.0);
        assert_string_equal(d->series[3].name, "urp");
        assert_true(d->series[3].value == 2.0);
        assert_true(d->series[3].warn == 1.0 && d->series[3].crit == 5.0);
        assert_true(isnan(d->series[1].warn) && isnan(d->series[1].crit));
        assert_string_equal(d->series[4].name, "broken");
        assert_true(isnan(d->series[4].value));
        assert_non_null(strstr(d->series[4].error, "bad_data: "));
        assert_int_equal(d->n_errors, 1);

        /* Quorum in the Kafka shape, both metric spellings. */
        o = cJSON_CreateObject();
        coll_prometheus_ops.to_json(d, o);
        s = cJSON_PrintUnformatted(cJSON_GetObjectItem(o, "quorum"));
        {
                char *want = xasprintf(
                        "{\"available\":true,\"reason\":null,\"leader_id\":1,\"leader_epoch\":7,"
                        "\"high_watermark\":4242,\"voters\":["
                        "{\"id\":1,\"instance\":\"kafka-c1/127.0.0.1:%d\",\"state\":\"leader\","
                        "\"log_end_offset\":4242,\"lag\":0,\"last_fetch_age_ms\":null,"
                        "\"last_caught_up_age_ms\":null},"
                        "{\"id\":2,\"instance\":\"kafka-c2/127.0.0.1:%d\",\"state\":\"follower\","
                        "\"log_end_offset\":4200,\"lag\":42,\"last_fetch_age_ms\":null,"
                        "\"last_caught_up_age_ms\":null}],\"observers\":[]}",
                        srv.port, srv.port);

                assert_string_equal(s, want);
                free(want);
        }
        free(s);
        s = cJSON_PrintUnformatted(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "series"), 0));
        assert_string_equal(s, "{\"name\":\"lag_total\",\"query\":\"lag_total\",\"value\":150,"
                            "\"unit\":\"count\",\"error\":null}");
        free(s);
        cJSON_Delete(o);

        alert_list_init(&al);
        coll_prometheus_ops.alerts(&c->sources[0], d, &al);
        assert_int_equal(al.n, 3);
        assert_int_equal(al.v[0].sev, SEV_WARN);
        assert_string_equal(al.v[0].message, "lag_total 150 count >= warn 100");
        assert_int_equal(al.v[1].sev, SEV_WARN);
        assert_string_equal(al.v[1].message, "urp 2 count >= warn 1");
        assert_int_equal(al.v[2].sev, SEV_WARN);
        assert_string_equal(al.v[2].subject, "broken");
        alert_list_done(&al);
        prometheus_data_free(d);

        /* A second poll adds one sample per series. */
        assert_int_equal(it_poll(st, &c->sources[0], &d, &err), COLL_DEGRADED);
        assert_true(d->series[0].value == 150.0);
        prometheus_data_free(d);
        coll_prometheus_ops.destroy(st);
        config_free(c);
}

static void test_down(void **state)
{
        struct config *c;
        void *st;
        struct prom_data *d;
        struct err err;

        (void)state;
        if (!have_prom)
                skip();
        /* The fixture server is not Prometheus: its 404 JSON is not the envelope. */
        c = load(srv.base_url);
        st = coll_prometheus_ops.create(&c->sources[0]);
        assert_int_equal(it_poll(st, &c->sources[0], &d, &err), COLL_DOWN);
        assert_null(d);
        assert_non_null(strstr(err.msg, "query lag_total: HTTP 404"));
        assert_non_null(strstr(err.msg, "not a Prometheus API answer"));
        coll_prometheus_ops.destroy(st);
        config_free(c);
        /* Nothing listening. */
        c = load("http://127.0.0.1:1");
        st = coll_prometheus_ops.create(&c->sources[0]);
        assert_int_equal(it_poll(st, &c->sources[0], &d, &err), COLL_DOWN);
        assert_non_null(strstr(err.msg, "query lag_total: "));
        coll_prometheus_ops.destroy(st);
        config_free(c);
}

static int setup(void **state)
{
        char *routes, *scrape;
        int64_t deadline;

        (void)state;
        have_prom = tu_prom_available();
        if (!have_prom) {
                fprintf(stderr, "skip: prometheus is not installed (scripts/deps.sh)\n");
                return 0;
        }
        routes = xasprintf("{\"routes\": ["
                           "{\"path\": \"/m1\", \"body\": \"%s\", \"headers\": {\"Content-Type\": "
                           "\"text/plain; version=0.0.4\"}},"
                           "{\"path\": \"/m2\", \"body\": \"%s\", \"headers\": {\"Content-Type\": "
                           "\"text/plain; version=0.0.4\"}}]}", m1, m2);
        {
                /* JSON needs \n escaped inside strings. */
                size_t n = strlen(routes);
                char *j = xmalloc(n * 2 + 1), *p = j;

                for (const char *q = routes; *q; q++) {
                        if (*q == '\n') {
                                *p++ = '\\';
                                *p++ = 'n';
                        } else {
                                *p++ = *q;
                        }
                }
                *p = '\0';
                free(routes);
                routes = j;
        }
        if (tu_httpd_start(&srv, routes, false) != 0)
                return -1;
        free(routes);
        scrape = xasprintf("  - job_name: kafka-c1\n    metrics_path: /m1\n    static_configs:\n"
                           "      - targets: ['127.0.0.1:%d']\n        labels: {node_id: '1'}\n"
                           "  - job_name: kafka-c2\n    metrics_path: /m2\n    static_configs:\n"
                           "      - targets: ['127.0.0.1:%d']\n        labels: {node_id: '2'}\n",
                           srv.port, srv.port);
        if (tu_prom_start(&prom, scrape) != 0)
                return -1;
        free(scrape);
        /* Targets are applied on a 5 s tick: wait for both scrapes. */
        deadline = clock_mono_ms() + 30000;
        if (tu_prom_wait(&prom, "up{job=\"kafka-c1\"} == 1", deadline) != 0 ||
            tu_prom_wait(&prom, "up{job=\"kafka-c2\"} == 1", deadline) != 0 ||
            /* and for some history, so query_range has points to backfill */
            tu_prom_wait(&prom, "count_over_time(kafka_server_replicamanager_"
                         "underreplicatedpartitions[1m]) >= 3", deadline) != 0) {
                fprintf(stderr, "prometheus never scraped the fixture targets\n");
                return -1;
        }
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        if (have_prom) {
                tu_prom_stop(&prom);
                tu_httpd_stop(&srv);
        }
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_queries_and_quorum),
                cmocka_unit_test(test_down),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
