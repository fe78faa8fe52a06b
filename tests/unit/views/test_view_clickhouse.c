/*
 * The ClickHouse pane's pure parts (views/clickhouse.c: rows, preamble,
 * detail pages, the `s` toggle) over the ClickHouse collector's data parsed
 * from the fixtures in tests/fixtures/clickhouse (a current server and
 * 18.16). No server, no curses.
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

#include "collectors/clickhouse/clickhouse.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/snapshot.h"
#include "tu.h"
#include "tu_samples.h"
#include "core/util.h"
#include "views/view.h"
#include "views/clickhouse.h"

/* ---- the pane ----------------------------------------------------------- */

#define NOW 1000000

struct pane {
        struct config *cfg;             /* speed-ch (v23 data), old-ch (v18), down-ch */
        struct snapshot *snaps[3];
        struct alert_list alerts;
        struct view_data d;
        struct table_rows rows;
        struct tlines lines;
};

static struct snapshot *pane_snap(const struct source_cfg *src, enum coll_status st,
                                  struct ch_data *data)
{
        struct snapshot *s = snapshot_new(src);

        s->status = st;
        s->collected_at = 1795704301000;
        s->collected_mono = NOW - 1000;
        s->data = data;
        return s;
}

static struct pane *pane_new(void)
{
        struct pane *p = xcalloc(1, sizeof *p);
        struct ch_caps c;
        struct ch_data *d;
        struct err err;
        static const char yaml[] =
                "sources:\n"
                "  - {name: speed-ch, kind: clickhouse, url: \"http://a:8123\", interval: 5s}\n"
                "  - {name: old-ch, kind: clickhouse, url: \"http://b:8123\", interval: 5s}\n"
                "  - {name: down-ch, kind: clickhouse, url: \"http://c:8123\", interval: 5s}\n";

        p->cfg = config_load_string(yaml, sizeof yaml - 1, "<pane>", &err);
        if (!p->cfg)
                fail_msg("%s", err.msg);
        d = tu_ch_sample("v23", &c);
        {
                struct ch_history *h = clickhouse_history_new();

                for (int i = 0; i < 5; i++) {
                        d->lat[CH_W1M].p95 = 10 + i;
                        clickhouse_history_apply(h, d, NULL, &c, 0, 1000 * i);
                }
                d->lat[CH_W1M].p95 = 12.5;
                clickhouse_history_free(h);
        }
        p->snaps[0] = pane_snap(&p->cfg->sources[0], COLL_OK, d);
        d = tu_ch_sample("v18", &c);
        p->snaps[1] = pane_snap(&p->cfg->sources[1], COLL_OK, d);
        p->snaps[2] = pane_snap(&p->cfg->sources[2], COLL_DOWN, NULL);
        str_copy(p->snaps[2]->error, "http://c:8123: connection refused: is the service running "
                 "there?", sizeof p->snaps[2]->error);
        alert_list_init(&p->alerts);
        for (int i = 0; i < 3; i++)
                health_eval(p->snaps[i], &p->alerts);
        p->d.srcs = p->cfg->sources;
        p->d.snaps = (const struct snapshot *const *)p->snaps;
        p->d.n = 3;
        p->d.alerts = &p->alerts;
        p->d.now_mono = NOW;
        p->d.width = 100;
        table_rows_init(&p->rows);
        tlines_init(&p->lines);
        return p;
}

static void pane_free(struct pane *p)
{
        for (int i = 0; i < 3; i++)
                snapshot_unref(p->snaps[i]);
        alert_list_done(&p->alerts);
        table_rows_done(&p->rows);
        tlines_done(&p->lines);
        config_free(p->cfg);
        free(p);
}

/* All lines as text, one per line. Owned. */
static char *lines_text(const struct tlines *l)
{
        size_t cap = l->n * 1024 + 1, o = 0;
        char *s = xmalloc(cap), line[1024];

        s[0] = '\0';
        for (size_t i = 0; i < l->n; i++) {
                tline_text(&l->v[i], line, sizeof line);
                o += (size_t)snprintf(s + o, cap - o, "%s\n", line);
        }
        return s;
}

static const struct table_row *row_id(const struct table_rows *r, const char *id)
{
        int i = table_find(r, id);

        if (i < 0)
                fail_msg("no row %s", id);
        return &r->v[i];
}

static void test_pane_rows(void **state)
{
        struct pane *p = pane_new();
        const struct table_row *r;
        struct view v = { .ops = &view_clickhouse_ops };
        size_t ntab = 0, nrep = 0, nmer = 0, nslow = 0;

        (void)state;
        view_clickhouse_rows(&p->d, &p->rows);
        /* v23: 3 tables, 2 replicas, 2 merges, 6 slow; v18: 4 tables, 10 slow. */
        assert_int_equal(p->rows.n, 3 + 2 + 2 + 6 + 4 + 10);
        for (size_t i = 0; i < p->rows.n; i++) {
                const char *k = p->rows.v[i].cell[CHV_KIND].text;

                ntab += strcmp(k, "table") == 0;
                nrep += strcmp(k, "replica") == 0;
                nmer += strcmp(k, "merge") == 0;
                nslow += strcmp(k, "slow") == 0;
        }
        assert_int_equal(ntab, 7);
        assert_int_equal(nrep, 2);
        assert_int_equal(nmer, 2);
        assert_int_equal(nslow, 16);
        /* Sections in order, sources in config order inside them. */
        assert_string_equal(p->rows.v[0].id, "speed-ch\ttable\tcdc.orders_local");
        assert_string_equal(p->rows.v[3].id, "old-ch\ttable\tsystem.query_log");
        assert_string_equal(p->rows.v[7].cell[CHV_KIND].text, "replica");
        assert_string_equal(p->rows.v[9].cell[CHV_KIND].text, "merge");
        assert_string_equal(p->rows.v[11].cell[CHV_KIND].text, "slow");

        /* Tables: parts against the limit, coloured. */
        r = row_id(&p->rows, "speed-ch\ttable\tcdc.orders_local");
        assert_string_equal(r->cell[CHV_SOURCE].text, "speed-ch");
        assert_string_equal(r->cell[CHV_NAME].text, "cdc.orders_local");
        assert_string_equal(r->cell[CHV_PARTS].text, "1210");
        assert_string_equal(r->cell[CHV_MAX].text, "1005/1000");
        assert_int_equal(r->cell[CHV_MAX].role, ROLE_CRIT);
        assert_string_equal(r->cell[CHV_ROWS].text, "9.2G");
        assert_string_equal(r->cell[CHV_SIZE].text, "383.7 GiB");
        assert_string_equal(r->cell[CHV_STATE].text, "inserts delayed");
        assert_int_equal(r->cell[CHV_STATE].role, ROLE_CRIT);
        assert_int_equal(r->sev, SEV_CRIT);
        r = row_id(&p->rows, "speed-ch\ttable\tcdc.customers");
        assert_string_equal(r->cell[CHV_MAX].text, "120/1000");
        assert_int_equal(r->cell[CHV_MAX].role, ROLE_WARN);
        assert_int_equal(r->sev, SEV_CRIT);     /* its replica alert has the same subject */
        r = row_id(&p->rows, "old-ch\ttable\tdefault.events");
        assert_string_equal(r->cell[CHV_MAX].text, "4/150");
        assert_int_equal(r->cell[CHV_MAX].role, ROLE_OK);
        assert_string_equal(r->cell[CHV_ROWS].text, "5");
        assert_string_equal(r->cell[CHV_STATE].text, "-");
        assert_int_equal(r->sev, SEV_OK);
        assert_false(r->stale);

        /* Replicas. */
        r = row_id(&p->rows, "speed-ch\treplica\tcdc.customers");
        assert_string_equal(r->cell[CHV_STATE].text, "read-only, queue 0, delay 0ms");
        assert_int_equal(r->cell[CHV_STATE].role, ROLE_CRIT);
        r = row_id(&p->rows, "speed-ch\treplica\tcdc.orders_local");
        assert_string_equal(r->cell[CHV_STATE].text, "queue 150, delay 1m15s");
        assert_int_equal(r->cell[CHV_STATE].role, ROLE_CRIT);

        /* Merges. */
        r = row_id(&p->rows, "speed-ch\tmerge\t202611_1_906_5");
        assert_string_equal(r->cell[CHV_NAME].text, "cdc.orders_local -> 202611_1_906_5");
        assert_string_equal(r->cell[CHV_PARTS].text, "6");
        assert_string_equal(r->cell[CHV_SIZE].text, "2.0 GiB");
        assert_string_equal(r->cell[CHV_STATE].text, "42% after 5m12s");

        /* Slow queries: masked text, duration, age, user. */
        r = &p->rows.v[11];
        assert_string_equal(r->cell[CHV_NAME].text, p->snaps[0] ? ((const struct ch_data *)
                            p->snaps[0]->data)->slow[0].query : "");
        assert_string_equal(r->cell[CHV_STATE].text, "4.21s, 11s ago, grafana");
        assert_int_equal(r->cell[CHV_STATE].role, ROLE_WARN);  /* >= latency_p99_ms warn 3s */
        r = &p->rows.v[12];
        assert_string_equal(r->cell[CHV_NAME].text, "CREATE USER etl IDENTIFIED WITH "
                            "sha256_password BY '***' HOST ANY");
        assert_string_equal(r->cell[CHV_STATE].text, "1.80s, 3m21s ago, admin");
        for (size_t i = 0; i < p->rows.n; i++)
                for (int c = 0; c < CHV__COUNT; c++)
                        assert_null(strstr(p->rows.v[i].cell[c].text, "S3cret"));

        /* `s` cycles: tables, replicas, merges, slow, all. */
        assert_int_equal(view_clickhouse_ops.key(&v, 's'), VIEW_HANDLED | VIEW_REDRAW);
        assert_int_equal(v.flags & VIEW_CH_SHOW_MASK, VIEW_CH_SHOW_TABLES);
        p->d.flags = v.flags;
        table_rows_clear(&p->rows);
        view_clickhouse_rows(&p->d, &p->rows);
        assert_int_equal(p->rows.n, 7);
        for (int i = 0; i < 3; i++)
                view_clickhouse_ops.key(&v, 's');
        assert_int_equal(v.flags & VIEW_CH_SHOW_MASK, VIEW_CH_SHOW_SLOW);
        p->d.flags = v.flags;
        table_rows_clear(&p->rows);
        view_clickhouse_rows(&p->d, &p->rows);
        assert_int_equal(p->rows.n, 16);
        view_clickhouse_ops.key(&v, 's');
        assert_int_equal(v.flags & VIEW_CH_SHOW_MASK, 0);
        assert_int_equal(view_clickhouse_ops.key(&v, 'x'), VIEW_IGNORED);

        /* Stale data dims the rows. */
        p->d.flags = 0;
        p->d.now_mono = NOW + 60000;
        table_rows_clear(&p->rows);
        view_clickhouse_rows(&p->d, &p->rows);
        assert_true(p->rows.v[0].stale);
        pane_free(p);
}

static void test_pane_preamble(void **state)
{
        struct pane *p = pane_new();
        char *t;

        (void)state;
        view_clickhouse_preamble(&p->d, &p->lines);
        t = lines_text(&p->lines);
        print_message("%s", t);
        assert_non_null(strstr(t, "speed-ch  age 1s  ClickHouse 23.8.2.7  up 1d00h  memory "
                               "700.0 MiB"));
        assert_non_null(strstr(t, "   latency       p50       p95       p99   queries\n"));
        assert_non_null(strstr(t, "        1m       4ms      12ms      48ms       180\n"));
        assert_non_null(strstr(t, "        5m       5ms      14ms      96ms       910\n"));
        assert_non_null(strstr(t, "       15m       5ms      13ms     120ms      2700\n"));
        assert_non_null(strstr(t, "  1m history  p50"));
        assert_non_null(strstr(t, "  3.2 q/s"));
        assert_non_null(strstr(t, "  0.05 failed/s"));
        assert_non_null(strstr(t, "  ingest 2000 rows/s 156.2 KiB/s"));
        assert_non_null(strstr(t, "  merges 2  parts limit 1000\n"));
        assert_non_null(strstr(t, "old-ch  age 1s  ClickHouse 18.16.1  up 5m19s"));
        assert_non_null(strstr(t, "        1m       1ms      55ms      59ms        11\n"));
        assert_non_null(strstr(t, "  parts limit 150\n"));
        assert_non_null(strstr(t, "down-ch  down: http://c:8123: connection refused: is the "
                               "service running there?  age 1s\n"));
        free(t);
        /* Colours: p95 14ms and p99 96.5ms are under the defaults (1s, 3s). */
        for (size_t i = 0; i < p->lines.n; i++) {
                char line[512];

                tline_text(&p->lines.v[i], line, sizeof line);
                if (strncmp(line, "        5m", 10) == 0 && strstr(line, "14ms")) {
                        assert_int_equal(p->lines.v[i].seg[2].role, ROLE_OK);
                        assert_int_equal(p->lines.v[i].seg[3].role, ROLE_OK);
                }
        }

        /* No query_log: say so instead of the latency block. */
        tlines_done(&p->lines);
        tlines_init(&p->lines);
        ((struct ch_data *)p->snaps[1]->data)->query_log = false;
        p->snaps[1]->status = COLL_DEGRADED;
        str_copy(p->snaps[1]->error, "system.query_log does not exist", sizeof p->snaps[1]->error);
        p->d.flags = VIEW_CH_SHOW_SLOW;
        view_clickhouse_preamble(&p->d, &p->lines);
        t = lines_text(&p->lines);
        assert_non_null(strstr(t, "  degraded: system.query_log does not exist\n"));
        assert_non_null(strstr(t, "  query_log: false -- latency unknown"));
        assert_non_null(strstr(t, "showing slow queries only"));
        free(t);
        pane_free(p);

        /* No clickhouse source at all. */
        {
                struct view_data d = { .n = 0 };
                struct tlines l;

                tlines_init(&l);
                view_clickhouse_preamble(&d, &l);
                t = lines_text(&l);
                assert_string_equal(t, "no clickhouse sources configured\n");
                free(t);
                tlines_done(&l);
        }
}

static void test_pane_detail(void **state)
{
        struct pane *p = pane_new();
        char *t;

        (void)state;
        view_clickhouse_detail(&p->d, "speed-ch\ttable\tcdc.orders_local", &p->lines);
        t = lines_text(&p->lines);
        print_message("%s", t);
        assert_non_null(strstr(t, "Table cdc.orders_local  on speed-ch\n"));
        assert_non_null(strstr(t, "max parts/partition  1005  in partition 202611\n"));
        assert_non_null(strstr(t, "parts_to_delay_insert 1000"));
        assert_non_null(strstr(t, "  202611_1_906_5  6 parts, 42% after 5m12s\n"));
        assert_non_null(strstr(t, "  202611_907_912_1  3 parts, 90% after 4s\n"));
        assert_non_null(strstr(t, "  crit  cdc.orders_local has 1005 active parts in partition "
                               "202611 >= parts_to_delay_insert 1000"));
        free(t);

        tlines_done(&p->lines);
        tlines_init(&p->lines);
        view_clickhouse_detail(&p->d, "speed-ch\treplica\tcdc.customers", &p->lines);
        t = lines_text(&p->lines);
        assert_non_null(strstr(t, "Replicated table cdc.customers  on speed-ch\n"));
        assert_non_null(strstr(t, "read-only            yes"));
        assert_non_null(strstr(t,
                               "  crit  replica cdc.customers lost its ZooKeeper/Keeper session"));
        free(t);

        tlines_done(&p->lines);
        tlines_init(&p->lines);
        view_clickhouse_detail(&p->d, "speed-ch\tmerge\t202611_1_906_5", &p->lines);
        t = lines_text(&p->lines);
        assert_non_null(strstr(t, "Merge into 202611_1_906_5  on speed-ch\n"));
        assert_non_null(strstr(t, "progress             42.0%"));
        free(t);

        /* A slow query: its whole (shortened) text, wrapped to the pane. */
        table_rows_clear(&p->rows);
        view_clickhouse_rows(&p->d, &p->rows);
        tlines_done(&p->lines);
        tlines_init(&p->lines);
        p->d.width = 46;
        view_clickhouse_detail(&p->d, p->rows.v[11].id, &p->lines);
        t = lines_text(&p->lines);
        print_message("%s", t);
        assert_non_null(strstr(t, "Slow query  on speed-ch\n"));
        assert_non_null(strstr(t, "duration             4.21s\n"));
        assert_non_null(strstr(t, "finished             2026-11-26T14:44:50.000Z\n"));
        assert_non_null(strstr(t, "user                 grafana\n"));
        assert_non_null(strstr(t, "    SELECT toStartOfHour(ts) AS bucket,\n"));
        assert_non_null(strstr(t, "    INTERVAL 2 DAY GROUP BY bucket ORDER BY\n    bucket\n"));
        for (size_t i = 0; i < p->lines.n; i++) {
                char line[512];

                tline_text(&p->lines.v[i], line, sizeof line);
                if (strncmp(line, "    ", 4) == 0)         /* the wrapped query */
                        assert_true(text_width(line) <= 46);
        }
        free(t);

        /* Gone rows and sources. */
        tlines_done(&p->lines);
        tlines_init(&p->lines);
        view_clickhouse_detail(&p->d, "speed-ch\tslow\t1-00000000", &p->lines);
        view_clickhouse_detail(&p->d, "down-ch\ttable\tx.y", &p->lines);
        view_clickhouse_detail(&p->d, "nonsense", &p->lines);
        t = lines_text(&p->lines);
        assert_non_null(strstr(t, "no longer among the slowest"));
        assert_non_null(strstr(t, "no data from this source: http://c:8123: connection refused"));
        assert_non_null(strstr(t, "no such row"));
        free(t);
        pane_free(p);
}

static void test_pane_registered(void **state)
{
        (void)state;
        assert_ptr_equal(view_find("clickhouse"), &view_clickhouse_ops);
        assert_string_equal(view_clickhouse_ops.collector, "clickhouse");
        assert_int_equal(table_ncols(view_clickhouse_ops.columns), CHV__COUNT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pane_rows),
                cmocka_unit_test(test_pane_preamble),
                cmocka_unit_test(test_pane_detail),
                cmocka_unit_test(test_pane_registered),
        };

        return cmocka_run_group_tests_name("view_clickhouse", tests, NULL, NULL);
}
