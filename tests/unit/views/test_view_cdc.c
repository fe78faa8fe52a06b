/*
 * test_view_cdc: the CDC pane's pure rows(), preamble() and detail() on
 * hand-built PostgreSQL data. Five sources: orders-db (ok, four slots of
 * every kind, a sender, two publications, thresholds), other-db (stale,
 * wal_level replica, no thresholds), down-db (down), new-db (never polled)
 * and a non-postgres source that the pane must ignore. Asserts slot order
 * (lag, largest first, across sources), exact cell strings and their
 * threshold roles, row severities from thresholds and alerts, staleness,
 * the "/" filter and the inactive-only toggle, the per-source lines, and the
 * slot page (fields, joined sender, publications, only that slot's alerts,
 * chart). A last case runs the real postgres alert rules via health_eval.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "collectors/kafka_connect.h"
#include "collectors/postgres.h"
#include "core/ring.h"
#include "core/snapshot.h"
#include "core/util.h"
#include "views/view.h"
#include "views/cdc.h"

#define NOW 5000000
#define MiB (1024.0 * 1024)
#define GiB (1024.0 * MiB)

enum { ORDERS, OTHER, DOWN, NEW, FAKE, NSRC };

/* The postgres kind as the pane sees it, minus its alert rules, so row
 * severities here come only from thresholds and the alerts we add. */
static struct collector_ops pg_ops;
static const struct collector_ops fake_ops = { .name = "fake", .title = "Fake" };

static struct threshold orders_thr[4];
static struct source_cfg srcs[NSRC];

static const struct threshold_def *pg_def(const char *name)
{
        for (size_t i = 0; coll_postgres_ops.thresholds[i].name; i++)
                if (strcmp(coll_postgres_ops.thresholds[i].name, name) == 0)
                        return &coll_postgres_ops.thresholds[i];
        fail_msg("no threshold %s", name);
        return NULL;
}

static void init_sources(const struct collector_ops *ops)
{
        static const struct {
                const char *name;
                double warn, crit;
        } thr[] = {
                { "slot_lag_bytes", 1 * MiB, 64 * MiB },
                { "retained_bytes", 1 * GiB, 8 * GiB },
                { "slot_inactive_ms", 5 * 60000, 30 * 60000 },
                { "sender_lag_ms", 30000, 300000 },
        };
        static const char *const names[NSRC] = { "orders-db", "other-db", "down-db", "new-db",
                                                   "queue" };

        for (size_t i = 0; i < LO_ARRAY_LEN(thr); i++) {
                orders_thr[i].def = pg_def(thr[i].name);
                orders_thr[i].warn = thr[i].warn;
                orders_thr[i].crit = thr[i].crit;
        }
        memset(srcs, 0, sizeof srcs);
        for (int i = 0; i < NSRC; i++) {
                srcs[i].name = (char *)names[i];
                srcs[i].kind = (char *)(i == FAKE ? "fake" : "postgres");
                srcs[i].ops = i == FAKE ? &fake_ops : ops;
                srcs[i].interval_ms = 5000;
                srcs[i].timeout_ms = 3000;
        }
        srcs[ORDERS].thresholds = orders_thr;
        srcs[ORDERS].n_thresholds = LO_ARRAY_LEN(orders_thr);
}

static struct pg_slot *add_slot(struct pg_data *d, const char *name, const char *plugin,
                                bool active, double lag, double retained, const char *ws)
{
        struct pg_slot *s;

        d->slots = xrealloc(d->slots, (d->n_slots + 1) * sizeof *d->slots);
        s = &d->slots[d->n_slots++];
        memset(s, 0, sizeof *s);
        s->name = xstrdup(name);
        s->plugin = xstrdup(plugin);
        s->type = xstrdup(plugin ? "logical" : "physical");
        s->database = plugin ? xstrdup("postgres") : NULL;
        s->active = active;
        s->active_pid = active ? 4242 : 0;
        s->has_lag = !isnan(lag);
        s->lag_bytes = s->has_lag ? (int64_t)lag : 0;
        s->has_retained = !isnan(retained);
        s->retained_bytes = s->has_retained ? (int64_t)retained : 0;
        s->wal_status = xstrdup(ws);
        s->eta_lost_s = -1;
        ring_init(&s->lag_hist);
        ring_init(&s->retained_hist);
        return s;
}

static struct pg_data *orders_data(void)
{
        struct pg_data *d = xcalloc(1, sizeof *d);
        struct pg_slot *s;
        struct pg_publication *p;
        struct pg_sender *se;

        d->server_version = xstrdup("15.18 (Debian 15.18-0+deb12u1)");
        d->server_version_num = 150018;
        d->wal_level = xstrdup("logical");
        d->max_replication_slots = 10;
        d->max_wal_senders = 10;
        d->max_slot_wal_keep_size = -1;
        d->wal_bytes_per_sec = 41 * 1024;
        ring_init(&d->wal_hist);

        /* Deliberately not in lag order. */
        s = add_slot(d, "debezium_orders", "pgoutput", true, 2048, 300 * 1024, "reserved");
        s->lag_rate = -80;
        str_copy(s->restart_lsn, "0/152B720", sizeof s->restart_lsn);
        str_copy(s->confirmed_flush_lsn, "0/152B758", sizeof s->confirmed_flush_lsn);
        for (int i = 1; i <= 3; i++)
                ring_push(&s->lag_hist, NOW - 3000 + i * 1000, i);

        s = add_slot(d, "analytics_stale", "pgoutput", false, 3 * MiB, 3 * MiB, "extended");
        s->lag_rate = 42 * 1024;
        s->retained_rate = 42 * 1024;
        s->inactive_for_ms = 31 * 60000;
        s->has_safe_wal_size = true;
        s->safe_wal_size = (int64_t)GiB;
        s->eta_lost_s = 3600;

        s = add_slot(d, "phys", NULL, false, NAN, 1024, "lost");

        s = add_slot(d, "huge", "wal2json", true, 100 * MiB, 9 * GiB, "unreserved");
        s->has_safe_wal_size = true;
        s->safe_wal_size = 0;

        d->pubs = xcalloc(2, sizeof *d->pubs);
        d->n_pubs = 2;
        p = &d->pubs[0];
        p->name = xstrdup("dbz_publication");
        p->ins = p->upd = p->del = p->trunc = true;
        p->tables = xcalloc(1, sizeof *p->tables);
        p->tables[0] = xstrdup("public.orders");
        p->n_tables = 1;
        p = &d->pubs[1];
        p->name = xstrdup("all_pub");
        p->all_tables = true;
        p->ins = true;

        d->senders = xcalloc(1, sizeof *d->senders);
        d->n_senders = 1;
        se = &d->senders[0];
        se->pid = 4242;
        se->user = xstrdup("postgres");
        se->application_name = xstrdup("debezium");
        se->client_addr = xstrdup("10.0.0.7");
        se->state = xstrdup("streaming");
        se->sync_state = xstrdup("async");
        str_copy(se->sent_lsn, "0/169C890", sizeof se->sent_lsn);
        str_copy(se->write_lsn, "0/1698780", sizeof se->write_lsn);
        str_copy(se->flush_lsn, "0/1698780", sizeof se->flush_lsn);
        se->write_lag_ms = 5;
        se->flush_lag_ms = 10;
        se->replay_lag_ms = 45000;
        se->slot_name = xstrdup("debezium_orders");
        return d;
}

static struct pg_data *other_data(void)
{
        struct pg_data *d = xcalloc(1, sizeof *d);

        d->server_version = xstrdup("14.9");
        d->wal_level = xstrdup("replica");
        d->max_replication_slots = 10;
        d->max_wal_senders = 10;
        d->wal_bytes_per_sec = NAN;
        add_slot(d, "x_slot", "pgoutput", true, 5 * MiB, 5 * MiB, NULL)->lag_rate = NAN;
        return d;
}

struct fixture {
        struct snapshot *snaps[NSRC];
        struct alert_list alerts;
        struct view_data d;
        struct table_rows rows;
        struct tlines lines;
};

static struct snapshot *snap(int i, enum coll_status st, int64_t age_ms, void *data)
{
        struct snapshot *s = snapshot_new(&srcs[i]);

        s->status = st;
        s->collected_at = 1764165600000 - age_ms;
        s->collected_mono = NOW - age_ms;
        s->data = data;
        return s;
}

static int setup_with(void **state, const struct collector_ops *ops)
{
        struct fixture *f = xcalloc(1, sizeof *f);

        init_sources(ops);
        f->snaps[ORDERS] = snap(ORDERS, COLL_OK, 3000, orders_data());
        f->snaps[OTHER] = snap(OTHER, COLL_OK, 42000, other_data());
        f->snaps[DOWN] = snap(DOWN, COLL_DOWN, 2000, NULL);
        str_copy(f->snaps[DOWN]->error, "connection refused", sizeof f->snaps[DOWN]->error);
        f->snaps[NEW] = NULL;
        f->snaps[FAKE] = snap(FAKE, COLL_OK, 1000, NULL);

        alert_list_init(&f->alerts);
        for (int i = 0; i < NSRC; i++)
                health_eval(f->snaps[i], &f->alerts);
        f->d.srcs = srcs;
        f->d.snaps = (const struct snapshot *const *)f->snaps;
        f->d.n = NSRC;
        f->d.alerts = &f->alerts;
        f->d.now_mono = NOW;
        f->d.width = 100;
        table_rows_init(&f->rows);
        tlines_init(&f->lines);
        *state = f;
        return 0;
}

static int setup(void **state)
{
        pg_ops = coll_postgres_ops;
        pg_ops.alerts = NULL;
        return setup_with(state, &pg_ops);
}

static int setup_real_rules(void **state)
{
        return setup_with(state, &coll_postgres_ops);
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        for (int i = 0; i < NSRC; i++)
                snapshot_unref(f->snaps[i]);
        alert_list_done(&f->alerts);
        table_rows_done(&f->rows);
        tlines_done(&f->lines);
        free(f);
        return 0;
}

static void assert_cell(const struct table_row *r, int col, const char *text, enum theme_role role)
{
        if (strcmp(r->cell[col].text, text) != 0)
                fail_msg("row %s col %d: \"%s\" != \"%s\"", r->id, col, r->cell[col].text, text);
        assert_int_equal(r->cell[col].role, role);
}

static void test_order_and_cells(void **state)
{
        struct fixture *f = *state;
        const struct table_row *r;

        view_cdc_rows(&f->d, &f->rows);
        /* Every slot of every postgres source with data, largest lag first;
         * a slot without a lag (physical) last. */
        assert_int_equal(f->rows.n, 5);
        assert_string_equal(f->rows.v[0].id, "orders-db\thuge");
        assert_string_equal(f->rows.v[1].id, "other-db\tx_slot");
        assert_string_equal(f->rows.v[2].id, "orders-db\tanalytics_stale");
        assert_string_equal(f->rows.v[3].id, "orders-db\tdebezium_orders");
        assert_string_equal(f->rows.v[4].id, "orders-db\tphys");

        r = &f->rows.v[0];
        assert_cell(r, CDC_SOURCE, "orders-db", ROLE_DEFAULT);
        assert_cell(r, CDC_SLOT, "huge", ROLE_DEFAULT);
        assert_cell(r, CDC_PLUGIN, "wal2json", ROLE_DEFAULT);
        assert_cell(r, CDC_ACTIVE, "yes", ROLE_OK);
        assert_cell(r, CDC_LAG, "100.0 MiB", ROLE_CRIT);        /* >= crit 64 MiB */
        assert_cell(r, CDC_TREND, "\u2192 0 B/s", ROLE_DIM);
        assert_cell(r, CDC_RETAINED, "9.0 GiB", ROLE_CRIT);     /* >= crit 8 GiB */
        assert_cell(r, CDC_WAL, "unreserved", ROLE_CRIT);
        assert_cell(r, CDC_SAFE, "0 B", ROLE_DEFAULT);
        assert_cell(r, CDC_HIST, "            ", ROLE_SPARK);   /* no history yet */
        assert_int_equal(r->sev, SEV_CRIT);
        assert_false(r->stale);

        /* other-db has no thresholds configured: nothing is coloured. */
        r = &f->rows.v[1];
        assert_cell(r, CDC_LAG, "5.0 MiB", ROLE_OK);
        assert_cell(r, CDC_TREND, "-", ROLE_DIM);
        assert_cell(r, CDC_WAL, "-", ROLE_DIM);
        assert_cell(r, CDC_SAFE, "-", ROLE_DIM);
        assert_int_equal(r->sev, SEV_OK);
        assert_true(r->stale);                  /* 42 s old at a 5 s interval */

        r = &f->rows.v[2];
        assert_cell(r, CDC_SLOT, "analytics_stale", ROLE_DEFAULT);
        assert_cell(r, CDC_ACTIVE, "no", ROLE_CRIT);            /* 31 min >= crit 30 min */
        assert_cell(r, CDC_LAG, "3.0 MiB", ROLE_WARN);
        assert_cell(r, CDC_TREND, "\u2191 42.0 KiB/s", ROLE_DEFAULT);
        assert_cell(r, CDC_RETAINED, "3.0 MiB", ROLE_OK);
        assert_cell(r, CDC_WAL, "extended", ROLE_WARN);
        assert_cell(r, CDC_SAFE, "1.0 GiB / 1h00m", ROLE_WARN);
        assert_int_equal(r->sev, SEV_CRIT);

        r = &f->rows.v[3];
        assert_cell(r, CDC_PLUGIN, "pgoutput", ROLE_DEFAULT);
        assert_cell(r, CDC_LAG, "2.0 KiB", ROLE_OK);
        assert_cell(r, CDC_TREND, "\u2193 80 B/s", ROLE_DIM);
        assert_cell(r, CDC_RETAINED, "300.0 KiB", ROLE_OK);
        assert_cell(r, CDC_WAL, "reserved", ROLE_OK);
        assert_cell(r, CDC_SAFE, "unlimited", ROLE_DIM);
        assert_cell(r, CDC_HIST, "         \u2583\u2586\u2588", ROLE_SPARK);
        assert_int_equal(r->sev, SEV_OK);

        r = &f->rows.v[4];
        assert_cell(r, CDC_PLUGIN, "-", ROLE_DIM);
        assert_cell(r, CDC_ACTIVE, "no", ROLE_WARN);    /* inactive, below the threshold */
        assert_cell(r, CDC_LAG, "-", ROLE_DIM);
        assert_cell(r, CDC_TREND, "-", ROLE_DIM);
        assert_cell(r, CDC_RETAINED, "1.0 KiB", ROLE_OK);
        assert_cell(r, CDC_WAL, "lost", ROLE_CRIT);
        assert_cell(r, CDC_SAFE, "-", ROLE_DIM);
        assert_int_equal(r->sev, SEV_CRIT);
}

static void test_ascii(void **state)
{
        struct fixture *f = *state;

        f->d.ascii = true;
        view_cdc_rows(&f->d, &f->rows);
        assert_cell(&f->rows.v[0], CDC_TREND, "= 0 B/s", ROLE_DIM);
        assert_cell(&f->rows.v[2], CDC_TREND, "^ 42.0 KiB/s", ROLE_DEFAULT);
        assert_cell(&f->rows.v[3], CDC_TREND, "v 80 B/s", ROLE_DIM);
        assert_cell(&f->rows.v[3], CDC_HIST, "         :+#", ROLE_SPARK);
}

static void test_alerts_set_row_severity(void **state)
{
        struct fixture *f = *state;

        health_add(&f->alerts, SEV_WARN, &srcs[ORDERS], "slot_lag_bytes", "debezium_orders",
                   2048, 1024, "debezium_orders is falling behind");
        /* Same slot name on another source must not leak across. */
        health_add(&f->alerts, SEV_CRIT, &srcs[OTHER], "slot_lag_bytes", "debezium_orders",
                   NAN, NAN, "elsewhere");
        view_cdc_rows(&f->d, &f->rows);
        assert_string_equal(f->rows.v[3].id, "orders-db\tdebezium_orders");
        assert_int_equal(f->rows.v[3].sev, SEV_WARN);
        assert_int_equal(f->rows.v[1].sev, SEV_OK);
}

static void test_filter_and_toggle(void **state)
{
        struct fixture *f = *state;

        view_cdc_rows(&f->d, &f->rows);
        assert_int_equal(table_filter(&f->rows, "ANALYTICS"), 1);
        assert_string_equal(f->rows.v[0].id, "orders-db\tanalytics_stale");

        table_rows_clear(&f->rows);
        view_cdc_rows(&f->d, &f->rows);
        assert_int_equal(table_filter(&f->rows, "pgoutput"), 3);
        assert_string_equal(f->rows.v[0].id, "other-db\tx_slot");

        table_rows_clear(&f->rows);
        view_cdc_rows(&f->d, &f->rows);
        assert_int_equal(table_filter(&f->rows, "other-db"), 1);

        /* `i`: only slots without a consumer, still in lag order. */
        table_rows_clear(&f->rows);
        f->d.flags = VIEW_CDC_F_INACTIVE;
        view_cdc_rows(&f->d, &f->rows);
        assert_int_equal(f->rows.n, 2);
        assert_string_equal(f->rows.v[0].id, "orders-db\tanalytics_stale");
        assert_string_equal(f->rows.v[1].id, "orders-db\tphys");
}

static void line_text(const struct tlines *l, size_t i, char *buf, size_t n)
{
        assert_true(i < l->n);
        tline_text(&l->v[i], buf, n);
}

static bool has_line(const struct tlines *l, const char *want)
{
        char buf[2048];

        for (size_t i = 0; i < l->n; i++) {
                tline_text(&l->v[i], buf, sizeof buf);
                if (strcmp(buf, want) == 0)
                        return true;
        }
        fprintf(stderr, "missing line: \"%s\"; have:\n", want);
        for (size_t i = 0; i < l->n; i++) {
                tline_text(&l->v[i], buf, sizeof buf);
                fprintf(stderr, "  \"%s\"\n", buf);
        }
        return false;
}

static bool has_text(const struct tlines *l, const char *needle)
{
        char buf[2048];

        for (size_t i = 0; i < l->n; i++) {
                tline_text(&l->v[i], buf, sizeof buf);
                if (strstr(buf, needle))
                        return true;
        }
        return false;
}

static void test_preamble(void **state)
{
        struct fixture *f = *state;
        char buf[1024];

        view_cdc_preamble(&f->d, &f->lines);
        assert_int_equal(f->lines.n, 4);        /* the fake source has no line */
        line_text(&f->lines, 0, buf, sizeof buf);
        assert_string_equal(buf, "orders-db  age 3s  PostgreSQL 15.18  wal_level logical  "
                            "WAL 41.0 KiB/s  slots 4/10  senders 1/10");
        line_text(&f->lines, 1, buf, sizeof buf);
        assert_string_equal(buf, "other-db  stale 42s  PostgreSQL 14.9  wal_level replica  "
                            "WAL -/s  slots 1/10  senders 0/10");
        line_text(&f->lines, 2, buf, sizeof buf);
        assert_string_equal(buf, "down-db  down: connection refused  age 2s");
        line_text(&f->lines, 3, buf, sizeof buf);
        assert_string_equal(buf, "new-db  waiting for the first poll");

        /* Roles: title, stale age, wal_level warn when not logical, down crit. */
        assert_int_equal(f->lines.v[0].seg[0].role, ROLE_TITLE);
        assert_int_equal(f->lines.v[0].seg[4].role, ROLE_OK);           /* logical */
        assert_int_equal(f->lines.v[1].seg[1].role, ROLE_STALE);
        assert_int_equal(f->lines.v[1].seg[4].role, ROLE_WARN);         /* replica */
        assert_int_equal(f->lines.v[2].seg[1].role, ROLE_CRIT);
        assert_int_equal(f->lines.v[3].seg[1].role, ROLE_UNKNOWN);

        tlines_done(&f->lines);
        f->d.flags = VIEW_CDC_F_INACTIVE;
        view_cdc_preamble(&f->d, &f->lines);
        assert_true(has_line(&f->lines, "showing inactive slots only (i shows all)"));

        /* No postgres source at all. */
        tlines_done(&f->lines);
        f->d.srcs = &srcs[FAKE];
        f->d.snaps = (const struct snapshot *const *)&f->snaps[FAKE];
        f->d.n = 1;
        view_cdc_preamble(&f->d, &f->lines);
        assert_true(has_line(&f->lines, "no postgres sources configured"));
        table_rows_clear(&f->rows);
        view_cdc_rows(&f->d, &f->rows);
        assert_int_equal(f->rows.n, 0);
}

static void test_detail(void **state)
{
        struct fixture *f = *state;
        struct tlines *l = &f->lines;

        health_add(&f->alerts, SEV_CRIT, &srcs[ORDERS], "slot_lag_bytes", "debezium_orders",
                   NAN, NAN, "debezium_orders lag is bad");
        health_add(&f->alerts, SEV_WARN, &srcs[ORDERS], "sender_lag_ms", "debezium", 45000,
                   30000, "sender debezium (pid 4242) replay lag 45s >= warn 30s");
        health_add(&f->alerts, SEV_WARN, &srcs[ORDERS], "slot_lag_bytes", "analytics_stale",
                   NAN, NAN, "not this slot");

        view_cdc_detail(&f->d, "orders-db\tdebezium_orders", l);
        assert_true(has_line(l, "Slot debezium_orders  on orders-db  age 3s"));
        assert_true(has_line(l, "  plugin               pgoutput"));
        assert_true(has_line(l, "  type                 logical"));
        assert_true(has_line(l, "  database             postgres"));
        assert_true(has_line(l, "  temporary            no"));
        assert_true(has_line(l, "  active               yes (pid 4242)"));
        assert_true(has_line(l, "  restart_lsn          0/152B720"));
        assert_true(has_line(l, "  confirmed_flush_lsn  0/152B758"));
        assert_true(has_line(l, "  lag                  2.0 KiB  (2048 bytes)"));
        assert_true(has_line(l, "  lag trend            \u2193 80 B/s"));
        assert_true(has_line(l, "  retained             300.0 KiB"));
        assert_true(has_line(l, "  wal_status           reserved"));
        assert_true(has_line(l, "  safe_wal_size        unlimited (max_slot_wal_keep_size = -1)"));
        assert_true(has_line(l, "WAL sender"));
        assert_true(has_line(l, "  pid                  4242"));
        assert_true(has_line(l, "  application          debezium"));
        assert_true(has_line(l, "  client               10.0.0.7"));
        assert_true(has_line(l, "  state                streaming"));
        assert_true(has_line(l, "  sent / write LSN     0/169C890 / 0/1698780"));
        assert_true(has_line(l, "  flush / replay LSN   0/1698780 / -"));
        assert_true(has_line(l, "  lag write / flush    5ms / 10ms  replay 45s"));
        assert_true(has_line(l, "Publications  (in the source's database)"));
        assert_true(has_line(l, "  dbz_publication  1 table  [insert update delete truncate]"));
        assert_true(has_line(l, "      public.orders"));
        assert_true(has_line(l, "  all_pub  all tables  [insert]"));
        /* The slot's own alerts and its sender's, nobody else's. */
        assert_true(has_line(l, "  crit  debezium_orders lag is bad"));
        assert_true(has_line(l, "  warn  sender debezium (pid 4242) replay lag 45s >= warn 30s"));
        assert_false(has_text(l, "not this slot"));
        assert_true(has_line(l, "Lag history  (3 samples, min 1 B, max 3 B)"));
        assert_true(has_line(l, "         \u2588"));       /* top of an 8-row chart */
        tlines_done(l);

        view_cdc_detail(&f->d, "orders-db\tanalytics_stale", l);
        assert_true(has_line(l, "  active               no (seen inactive for 31m00s)"));
        assert_true(has_line(l, "  safe_wal_size        1.0 GiB"));
        assert_true(has_line(l, "  WAL lost in          1h00m at the current growth"));
        assert_true(has_line(l, "  retained trend       \u2191 42.0 KiB/s"));
        assert_true(has_line(l, "  none: no walsender is streaming this slot"));
        assert_true(has_line(l, "  warn  not this slot"));
        assert_true(has_line(l, "Lag history  (no samples yet)"));
        tlines_done(l);

        view_cdc_detail(&f->d, "orders-db\tgone", l);
        assert_true(has_line(l, "  this slot is not in the latest data (dropped?)"));
        tlines_done(l);
        view_cdc_detail(&f->d, "down-db\tx", l);
        assert_true(has_line(l, "Slot x  on down-db  age 2s"));
        assert_true(has_line(l, "  this slot is not in the latest data: connection refused"));
        tlines_done(l);
        view_cdc_detail(&f->d, "nope", l);
        assert_true(has_line(l, "  this slot is not in the latest data (dropped?)"));
}

/* The slot page joins the Debezium connector reading the slot from a
 * kafka_connect source's snapshot: state and every task side by side. */
static void test_detail_connector(void **state)
{
        struct fixture *f = *state;
        struct source_cfg two[2];
        const struct snapshot *snaps[2];
        struct view_data d = f->d;
        struct kc_data *kd = kafka_connect_data_new();
        struct kc_connector *kc;
        struct snapshot *ks;
        struct tlines *l = &f->lines;

        memset(two, 0, sizeof two);
        two[0] = srcs[ORDERS];
        two[1].name = "connect-1";
        two[1].kind = "kafka_connect";
        two[1].ops = &coll_kafka_connect_ops;
        kd->postgres_source = xstrdup("orders-db");
        kd->n_conns = 2;
        kd->conns = xcalloc(2, sizeof *kd->conns);
        kc = &kd->conns[0];
        kc->name = xstrdup("pg-cdc");
        kc->state = xstrdup("RUNNING");
        kc->debezium_pg = true;
        kc->slot = xstrdup("debezium_orders");
        kc->n_tasks = 2;
        kc->tasks = xcalloc(2, sizeof *kc->tasks);
        kc->tasks[0].id = 0;
        kc->tasks[0].state = xstrdup("RUNNING");
        kc->tasks[0].worker = xstrdup("10.0.3.8:8083");
        kc->tasks[1].id = 1;
        kc->tasks[1].state = xstrdup("FAILED");
        kc->failed_tasks = 1;
        kc->running_tasks = 1;
        kd->conns[1].name = xstrdup("other-slot");
        kd->conns[1].state = xstrdup("RUNNING");
        kd->conns[1].debezium_pg = true;
        kd->conns[1].slot = xstrdup("analytics_stale");
        ks = snapshot_new(&two[1]);
        ks->status = COLL_OK;
        ks->data = kd;
        snaps[0] = f->snaps[ORDERS];
        snaps[1] = ks;
        d.srcs = two;
        d.snaps = snaps;
        d.n = 2;

        view_cdc_detail(&d, "orders-db\tdebezium_orders", l);
        assert_true(has_line(l, "Debezium connector"));
        assert_true(has_line(l, "  pg-cdc               RUNNING  on connect-1"));
        assert_true(has_line(l, "    task 0             RUNNING  10.0.3.8:8083"));
        assert_true(has_line(l, "    task 1             FAILED"));
        assert_true(has_line(l, "  RUNNING with a FAILED task: Connect never restarts it, so this "
                                "slot's lag only grows"));
        assert_false(has_text(l, "other-slot"));
        tlines_done(l);

        /* Without a link, the page says so. */
        view_cdc_detail(&f->d, "orders-db\tdebezium_orders", l);
        assert_true(has_line(l, "  none known (no kafka_connect source links a Debezium connector "
                                "to this slot)"));
        snapshot_unref(ks);
}

/* With the collector's own rules, the alerts it raises land on the rows. */
static void test_real_rules(void **state)
{
        struct fixture *f = *state;
        bool huge = false;

        for (size_t i = 0; i < f->alerts.n; i++)
                if (strcmp(f->alerts.v[i].source, "orders-db") == 0 &&
                    strcmp(f->alerts.v[i].subject, "huge") == 0 &&
                    f->alerts.v[i].sev == SEV_CRIT)
                        huge = true;
        assert_true(huge);
        assert_int_equal(view_alert_sev(&f->alerts, "down-db", NULL), SEV_CRIT);
        view_cdc_rows(&f->d, &f->rows);
        assert_int_equal(f->rows.v[0].sev, SEV_CRIT);
        view_cdc_detail(&f->d, "orders-db\thuge", &f->lines);
        assert_true(has_text(&f->lines, "  crit "));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_order_and_cells, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ascii, setup, teardown),
                cmocka_unit_test_setup_teardown(test_alerts_set_row_severity, setup, teardown),
                cmocka_unit_test_setup_teardown(test_filter_and_toggle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_preamble, setup, teardown),
                cmocka_unit_test_setup_teardown(test_detail, setup, teardown),
                cmocka_unit_test_setup_teardown(test_detail_connector, setup, teardown),
                cmocka_unit_test_setup_teardown(test_real_rules, setup_real_rules, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
