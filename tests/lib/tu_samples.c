/*
 * Sample data shared by the tests of a collector and of its pane: the
 * parsed fixtures a poll would have left, and a SQL row feeder. See
 * tu_samples.h. Test-only.
 */
#include "tu_samples.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tu.h"
#include "clients/sql.h"
#include "core/util.h"

char *tu_fixture_file(const char *area, const char *name, size_t *len)
{
        char rel[256];
        char *b;

        snprintf(rel, sizeof rel, "tests/fixtures/%s/%s", area, name);
        b = tu_read_file(tu_src_path(rel), len);
        if (!b)
                fail_msg("missing fixture %s", rel);
        return b;
}

/* --- ClickHouse ----------------------------------------------------------- */

void tu_ch_parse_ok(tu_ch_parse_fn fn, const char *name, struct ch_data *d)
{
        struct err err = { 0 };
        size_t len;
        char *b = tu_fixture_file("clickhouse", name, &len);

        if (fn(b, len, d, &err) != 0)
                fail_msg("%s: %s", name, err.msg);
        free(b);
}

/* Everything a poll of version `v` ("v18", "v23") parses, as the collector
 * would have it (no history). Owned. */
struct ch_data *tu_ch_sample(const char *v, struct ch_caps *caps)
{
        struct ch_data *d = clickhouse_data_new();
        struct ch_counters k;
        struct err err;
        char name[64], *b;
        size_t len;

        memset(caps, 0, sizeof *caps);
        snprintf(name, sizeof name, "overview_%s.json", v);
        b = tu_fixture_file("clickhouse", name, &len);
        assert_int_equal(clickhouse_parse_overview(b, len, d, caps, &err), 0);
        free(b);
        snprintf(name, sizeof name, "columns_%s.json", v);
        b = tu_fixture_file("clickhouse", name, &len);
        assert_int_equal(clickhouse_parse_caps(b, len, caps, &err), 0);
        free(b);
        d->query_log = caps->query_log;
        snprintf(name, sizeof name, "mt_settings_%s.json", v);
        tu_ch_parse_ok(clickhouse_parse_mt_settings, name, d);
        snprintf(name, sizeof name, "latency_%s.json", v);
        tu_ch_parse_ok(clickhouse_parse_latency, name, d);
        snprintf(name, sizeof name, "rates_%s.json", v);
        tu_ch_parse_ok(clickhouse_parse_rates, name, d);
        snprintf(name, sizeof name, "slow_%s.json", v);
        tu_ch_parse_ok(clickhouse_parse_slow, name, d);
        snprintf(name, sizeof name, "tables_%s.json", v);
        tu_ch_parse_ok(clickhouse_parse_tables, name, d);
        snprintf(name, sizeof name, "merges_%s.json", v);
        tu_ch_parse_ok(clickhouse_parse_merges, name, d);
        snprintf(name, sizeof name, "replicas_%s.json", v);
        tu_ch_parse_ok(clickhouse_parse_replicas, name, d);
        snprintf(name, sizeof name, "counters_%s.json", v);
        b = tu_fixture_file("clickhouse", name, &len);
        assert_int_equal(clickhouse_parse_counters(b, len, &k, &err), 0);
        free(b);
        d->memory_bytes = k.memory;
        return d;
}

/* --- Airflow ------------------------------------------------------------- */

struct config *tu_af_config(const char *extra)
{
        struct err err = { 0 };
        char *yaml = xasprintf("sources:\n  - name: af\n    kind: airflow\n"
                               "    url: http://127.0.0.1:8080\n%s", extra ? extra : "");
        struct config *c = config_load_string(yaml, strlen(yaml), "<t>", &err);

        if (!c)
                fail_msg("config: %s\n%s", err.msg, yaml);
        free(yaml);
        return c;
}

/* The v1 DAG list with nightly_compact's runs and tasks, as a poll at `now`
 * would leave it (no history). Owned. */
struct af_data *tu_af_sample_v1(int64_t now)
{
        struct af_data *d = airflow_data_new();
        struct err err = { 0 };
        size_t len, pn, total;
        bool older;
        char *b;

        d->api = AF_API_V1;
        d->version = xstrdup("2.9.1");
        d->now = now;
        b = tu_fixture_file("airflow", "v1_dags.json", &len);
        assert_int_equal(airflow_parse_dags(b, len, AF_API_V1, NULL, 0, d, &pn, &total, &err), 0);
        free(b);
        for (size_t i = 0; i < d->n_dags; i++)
                d->dags[i].overdue_s = airflow_overdue_s(&d->dags[i], now);
        b = tu_fixture_file("airflow", "v1_runs.json", &len);
        assert_int_equal(airflow_parse_runs(b, len, now, true, &d->dags[0], &pn, &total, &older,
                                            &err),
                         0);
        d->dags[0].runs_read = true;
        free(b);
        b = tu_fixture_file("airflow", "v1_tasks.json", &len);
        assert_int_equal(airflow_parse_tasks(b, len, &d->dags[0], &pn, &total, &err), 0);
        free(b);
        return d;
}

/* --- Kafka Connect ------------------------------------------------------- */

struct kc_data *tu_kc_sample_expanded(void)
{
        struct kc_data *d = kafka_connect_data_new();
        struct err e;
        size_t len;
        char *j = tu_fixture_file("connect", "expanded_all_states.json", &len);

        err_clear(&e);
        assert_int_equal(kafka_connect_parse_list(j, len, d, &e), 0);
        free(j);
        kafka_connect_finish(d, NULL);
        return d;
}

struct config *tu_kc_config(const char *extra)
{
        struct err e;
        char *y = xasprintf("environment: t\n"
                            "sources:\n"
                            "  - name: shop-db\n"
                            "    kind: postgres\n"
                            "    dsn: \"host=127.0.0.1 dbname=shop\"\n"
                            "  - name: connect\n"
                            "    kind: kafka_connect\n"
                            "    url: http://127.0.0.1:8083\n"
                            "    postgres: shop-db\n"
                            "%s", extra ? extra : "");
        struct config *c = config_load_string(y, strlen(y), "<t>", &e);

        if (!c)
                fail_msg("%s", e.msg);
        free(y);
        return c;
}

/* --- Reconciliation ------------------------------------------------------ */

int64_t tu_time(const char *s)
{
        int64_t ms;

        if (sql_parse_time(s, &ms) < 0)
                fail_msg("bad time %s", s);
        return ms;
}

/* Streams rows into a side; returns 0 or -1 with err set. */
int tu_reconcile_feed_rc(struct reconcile_engine *e, enum reconcile_side side,
                         const char *header, const char *rows, struct err *err)
{
        struct sql_sink sink = coll_reconcile_sink(e, side);
        struct sql_col cols[16];
        char *hb = xstrdup(header), *rb = xstrdup(rows), *save = NULL, *line;
        size_t n = 0;
        int rc = 0;

        for (char *tok = strtok_r(hb, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
                char *colon = strchr(tok, ':');

                *colon = '\0';
                cols[n].name = tok;
                cols[n].db_type = colon + 1;
                cols[n].type = strcmp(colon + 1, "time") == 0 ? SQL_T_TIME :
                               strcmp(colon + 1, "int") == 0 ? SQL_T_INT :
                               strcmp(colon + 1, "num") == 0 ? SQL_T_NUM :
                               strcmp(colon + 1, "bool") == 0 ? SQL_T_BOOL : SQL_T_TEXT;
                n++;
        }
        if (sink.begin(sink.ud, cols, n, err) < 0) {
                rc = -1;
                goto out;
        }
        save = NULL;
        for (line = strtok_r(rb, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                struct sql_cell c[16];
                size_t i = 0;

                memset(c, 0, sizeof c);
                for (char *f = line, *bar; f && i < n; f = bar ? bar + 1 : NULL, i++) {
                        bar = strchr(f, '|');
                        if (bar)
                                *bar = '\0';
                        if (strcmp(f, "NULL") == 0) {
                                c[i].null = true;
                                continue;
                        }
                        switch (cols[i].type) {
                        case SQL_T_TIME:
                                c[i].i = tu_time(f);
                                break;
                        case SQL_T_INT:
                        case SQL_T_BOOL:
                                c[i].i = atoll(f);
                                break;
                        case SQL_T_NUM:
                                c[i].d = strtod(f, NULL);
                                c[i].text = f;
                                break;
                        case SQL_T_TEXT:
                                c[i].text = f;
                                break;
                        }
                }
                if (sink.row(sink.ud, c, n, err) < 0) {
                        rc = -1;
                        break;
                }
        }
out:
        free(hb);
        free(rb);
        return rc;
}

void tu_reconcile_feed(struct reconcile_engine *e, enum reconcile_side side,
                       const char *header, const char *rows)
{
        struct err err;

        if (tu_reconcile_feed_rc(e, side, header, rows, &err) < 0)
                fail_msg("feed: %s", err.msg);
}
