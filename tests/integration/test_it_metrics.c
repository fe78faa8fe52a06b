/*
 * test_it_metrics: the /metrics endpoint end to end. A real PostgreSQL
 * (tu_pg) with a logical slot that no one consumes and rows written after
 * it, so its lag and retained WAL are fixed (autovacuum off: WAL moves only
 * when the test writes); lambdaops's collectors poll it once (plus a second
 * source on a closed port, down), metrics_server_start serves them on a
 * free loopback port, and the real Prometheus (tu_prom) scrapes it every
 * second. Asserted through Prometheus's query API, exactly:
 *   - the slot's lag and retained WAL equal pg_wal_lsn_diff() computed by
 *     the server itself, safe_wal_size absent (unlimited);
 *   - up/status/polls of both sources, the crit alert of the slot lag
 *     (thresholds 1 B / 2 B) and of the down source;
 *   - Prometheus's own up{job} 1 and scrape_samples_scraped equal to the
 *     sample lines of the document we fetch ourselves;
 * and over plain HTTP: 200 with the 0.0.4 content type, promtool check
 * metrics clean, 404 elsewhere, 405 with Allow for POST, an address in use
 * refused, a bad listen string refused with its reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "clients/http.h"
#include "core/app.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/promtext.h"
#include "core/util.h"
#include "export/metrics.h"
#include "tu_pg.h"
#include "tu_prom.h"
#include "tu_promtool.h"

static struct tu_pg pg;
static struct tu_prom prom;
static struct app app = { .wake_pipe = { -1, -1 } };
static struct metrics_server *srv;
static char base[64];

static int it_http(const char *method, const char *url, struct http_response *r)
{
        struct http_client *c = http_client_new(NULL);
        struct http_request rq = { .method = method, .url = url };
        struct coll_ctx ctx = { .stop_fd = -1 };
        struct err err;
        int rc;

        if (strcmp(method, "POST") == 0) {
                rq.body = "x=1";
                rq.content_type = "application/x-www-form-urlencoded";
        }
        ctx.now_mono = clock_mono_ms();
        ctx.timeout_ms = 5000;
        ctx.deadline_mono = ctx.now_mono + 5000;
        rc = http_do(c, &ctx, &rq, r, &err);
        if (rc != 0)
                fprintf(stderr, "%s %s: %s\n", method, url, err.msg);
        http_client_free(c);
        return rc;
}

/* The value of the one series `query` returns in Prometheus (as Prometheus
 * writes it), polled until it exists; owned, or NULL past 30 s. *n gets
 * the number of series of the last answer. */
static char *it_prom_value(const char *query, int *n)
{
        int64_t deadline = clock_mono_ms() + 30000;
        char *val = NULL;

        *n = 0;
        if (tu_prom_wait(&prom, query, deadline) != 0)
                return NULL;
        while (!val && clock_mono_ms() < deadline) {
                struct http_response r = { 0 };
                char *esc = NULL, *url;
                size_t len = 0, cap = 0;
                cJSON *root, *res;

                /* Percent-encode the query for the URL. */
                for (const unsigned char *c = (const unsigned char *)query; *c; c++) {
                        char b[4];

                        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                            (*c >= '0' && *c <= '9') || *c == '_')
                                snprintf(b, sizeof b, "%c", *c);
                        else
                                snprintf(b, sizeof b, "%%%02X", *c);
                        if (len + 4 > cap)
                                esc = xrealloc(esc, cap = cap * 2 + 64);
                        memcpy(esc + len, b, strlen(b) + 1);
                        len += strlen(b);
                }
                url = xasprintf("%s/api/v1/query?query=%s", prom.url, esc);
                free(esc);
                if (it_http("GET", url, &r) == 0 && r.status == 200) {
                        root = cJSON_ParseWithLength(r.body, r.len);
                        res = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "data"), "result");
                        *n = cJSON_GetArraySize(res);
                        if (*n >= 1) {
                                cJSON *first = cJSON_GetArrayItem(res, 0);
                                cJSON *v = cJSON_GetArrayItem(
                                        cJSON_GetObjectItem(first, "value"), 1);

                                val = xstrdup(cJSON_GetStringValue(v));
                        }
                        cJSON_Delete(root);
                }
                http_response_done(&r);
                free(url);
        }
        return val;
}

static void it_expect(const char *query, const char *want)
{
        int n = 0;
        char *v = it_prom_value(query, &n);

        if (!v || strcmp(v, want) != 0 || n != 1)
                fail_msg("%s: Prometheus says %s (%d series), want %s", query, v ? v : "nothing",
                         n, want);
        free(v);
}

static int group_setup(void **st)
{
        struct err err;
        char *dsn, *yaml, *sc;

        (void)st;
        if (!tu_prom_available()) {
                fprintf(stderr, "skip: prometheus is not installed (scripts/deps.sh)\n");
                return 0;
        }
        if (tu_pg_start(&pg) != 0 ||
            tu_pg_exec(&pg, "CREATE TABLE orders (id bigserial PRIMARY KEY, amount int)") ||
            tu_pg_exec(&pg, "SELECT pg_create_logical_replication_slot('lo_meta', 'pgoutput')") ||
            tu_pg_exec(&pg, "INSERT INTO orders (amount) SELECT g FROM generate_series(1, 500) g"))
                return -1;
        dsn = tu_pg_dsn(&pg, NULL);
        yaml = xasprintf("environment: test\n"
                         "sources:\n"
                         "  - name: orders-db\n"
                         "    kind: postgres\n"
                         "    dsn: \"%s\"\n"
                         "    interval: 60s\n"
                         "    timeout: 3s\n"
                         "    thresholds:\n"
                         "      slot_lag_bytes: {warn: 1, crit: 2}\n"
                         "  - name: gone-db\n"
                         "    kind: postgres\n"
                         "    dsn: \"host=127.0.0.1 port=1 dbname=postgres user=postgres\"\n"
                         "    interval: 60s\n"
                         "    timeout: 3s\n", dsn);
        app.cfg = config_load_string(yaml, strlen(yaml), "<it>", &err);
        free(yaml);
        free(dsn);
        if (!app.cfg) {
                fprintf(stderr, "config: %s\n", err.msg);
                return -1;
        }
        app_start_collectors(&app, true);
        for (size_t i = 0; i < app.n_colls; i++)
                if (!collector_wait_gen(app.colls[i], 1, clock_mono_ms() + 10000)) {
                        fprintf(stderr, "source %zu did not poll\n", i);
                        return -1;
                }
        if (metrics_server_start(&app, "127.0.0.1:0", &srv, &err) != 0) {
                fprintf(stderr, "metrics_server_start: %s\n", err.msg);
                return -1;
        }
        snprintf(base, sizeof base, "http://127.0.0.1:%d", metrics_server_port(srv));
        sc = xasprintf("  - job_name: lambdaops\n"
                       "    static_configs:\n"
                       "      - targets: ['127.0.0.1:%d']\n", metrics_server_port(srv));
        if (tu_prom_start(&prom, sc) != 0) {
                free(sc);
                return -1;
        }
        free(sc);
        return 0;
}

static int group_teardown(void **st)
{
        (void)st;
        tu_prom_stop(&prom);
        metrics_server_stop(srv);
        app_stop_collectors(&app);
        config_free(app.cfg);
        tu_pg_destroy(&pg);
        return 0;
}

static void skip_without_prom(void)
{
        if (!tu_prom_available())
                skip();
}

/* 1. What Prometheus stored equals what PostgreSQL itself computes. */
static void test_prometheus_scrape_values(void **st)
{
        char *lag, *retained;

        (void)st;
        skip_without_prom();
        lag = tu_pg_query1(&pg, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), "
                           "confirmed_flush_lsn) FROM pg_replication_slots "
                           "WHERE slot_name = 'lo_meta'");
        retained = tu_pg_query1(&pg, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), "
                                "restart_lsn) FROM pg_replication_slots "
                                "WHERE slot_name = 'lo_meta'");
        assert_non_null(lag);
        assert_non_null(retained);
        assert_true(strtod(lag, NULL) > 10000);        /* 500 rows of WAL */
        it_expect("lambdaops_postgres_slot_lag_bytes{source=\"orders-db\",slot=\"lo_meta\"}", lag);
        it_expect("lambdaops_postgres_slot_retained_wal_bytes{source=\"orders-db\","
                  "slot=\"lo_meta\"}", retained);
        it_expect("lambdaops_postgres_slot_active{source=\"orders-db\",slot=\"lo_meta\"}", "0");
        it_expect("lambdaops_postgres_slot_wal_status{source=\"orders-db\",slot=\"lo_meta\","
                  "status=\"reserved\"}", "1");
        it_expect("lambdaops_postgres_in_recovery{source=\"orders-db\"}", "0");
        it_expect("lambdaops_source_up{source=\"orders-db\",kind=\"postgres\"}", "1");
        it_expect("lambdaops_source_up{source=\"gone-db\",kind=\"postgres\"}", "0");
        it_expect("lambdaops_source_status{source=\"gone-db\",status=\"down\"}", "1");
        it_expect("lambdaops_source_status{source=\"orders-db\",status=\"ok\"}", "1");
        it_expect("lambdaops_source_polls_total{source=\"orders-db\"}", "1");
        it_expect("lambdaops_alert{source=\"orders-db\",metric=\"slot_lag_bytes\","
                  "subject=\"lo_meta\",severity=\"crit\"}", "1");
        it_expect("lambdaops_alert{source=\"gone-db\",metric=\"status\",severity=\"crit\"}", "1");
        /* Those two only: the retained WAL is under its default 1 GiB and the
         * slot was seen inactive for 0 s of its 5 min. */
        it_expect("count(lambdaops_alert)", "2");
        /* Four wal_status series, one at 1; an unlimited
         * max_slot_wal_keep_size gives no safe_wal_size sample at all. */
        it_expect("count(lambdaops_postgres_slot_wal_status)", "4");
        it_expect("sum(lambdaops_postgres_slot_wal_status)", "1");
        it_expect("absent(lambdaops_postgres_slot_safe_wal_size_bytes)", "1");
        it_expect("up{job=\"lambdaops\"}", "1");
        free(lag);
        free(retained);
}

/* 2. The document over HTTP: status, type, promtool, sample count as
 * Prometheus counted it; 404 and 405. */
static void test_http(void **st)
{
        struct http_response r = { 0 };
        char *url, out[4096], want[32];
        size_t samples = 0;
        int rc;

        (void)st;
        skip_without_prom();
        url = xasprintf("%s/metrics", base);
        assert_int_equal(it_http("GET", url, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.content_type, PROMTEXT_CONTENT_TYPE);
        rc = tu_promtool_check(r.body, out, sizeof out);
        if (rc != 0)
                fail_msg("promtool check metrics exited %d:\n%s", rc, out);
        for (const char *l = r.body; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                samples += *l != '#' && *l != '\n';
        snprintf(want, sizeof want, "%zu", samples);
        it_expect("scrape_samples_scraped{job=\"lambdaops\"}", want);
        http_response_done(&r);

        memset(&r, 0, sizeof r);
        assert_int_equal(it_http("POST", url, &r), 0);
        assert_int_equal(r.status, 405);
        http_response_done(&r);
        free(url);

        memset(&r, 0, sizeof r);
        url = xasprintf("%s/", base);
        assert_int_equal(it_http("GET", url, &r), 0);
        assert_int_equal(r.status, 404);
        assert_string_equal(r.body, "not found: lambdaops serves /metrics\n");
        http_response_done(&r);
        free(url);
        assert_true(metrics_server_scrapes(srv) >= 2);
}

/* 3. Start refusals: the port in use, a listen string that is no address. */
static void test_start_errors(void **st)
{
        struct metrics_server *m = NULL;
        struct err err;
        char listen[32];

        (void)st;
        skip_without_prom();
        snprintf(listen, sizeof listen, "127.0.0.1:%d", metrics_server_port(srv));
        assert_int_equal(metrics_server_start(&app, listen, &m, &err), -1);
        assert_null(m);
        snprintf(listen, sizeof listen, "%d", metrics_server_port(srv));
        assert_int_equal(metrics_server_start(&app, listen, &m, &err), -1);
        assert_int_equal(metrics_server_start(&app, "localhost:9464", &m, &err), -1);
        assert_non_null(strstr(err.msg, "numeric"));
        assert_int_equal(metrics_server_start(&app, "127.0.0.1:70000", &m, &err), -1);
        assert_string_equal(err.msg, "listen address \"127.0.0.1:70000\" is not PORT, HOST:PORT "
                            "or [IPV6]:PORT with a numeric HOST and a port 0-65535 (for example "
                            "127.0.0.1:9464)");
        /* The default host is loopback. */
        assert_int_equal(metrics_server_start(&app, "0", &m, &err), 0);
        assert_true(metrics_server_port(m) > 0);
        metrics_server_stop(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_prometheus_scrape_values),
                cmocka_unit_test(test_http),
                cmocka_unit_test(test_start_errors),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
