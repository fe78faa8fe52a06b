/*
 * The Reconcile pane (views/reconcile.c) over reconciliation results of
 * the engine (collectors/reconcile/reconcile.c) fed by hand: a check with data, one
 * down (its batch query failed) and one without a snapshot yet; the rows,
 * the preamble and the bucket pages. No server, no curses.
 *
 * tu_reconcile_feed() takes a header "name:type ..." (time, int, num, text, bool) and
 * rows "v|v|v" separated by newlines, NULL for SQL NULL; times are RFC 3339.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "collectors/reconcile/reconcile.h"
#include "core/snapshot.h"
#include "clients/sql.h"
#include "tu.h"
#include "tu_samples.h"
#include "core/util.h"
#include "views/view.h"
#include "views/reconcile.h"

#define H 3600000LL

static const char *const keys1[] = { "bucket" };
static const char *const meas2[] = { "n", "amount" };

static const char *cfg_head =
        "sources:\n"
        "  - {name: speed-pg, kind: postgres, dsn: \"host=127.0.0.1\"}\n"
        "  - {name: warehouse, kind: postgres, dsn: \"host=127.0.0.1\"}\n";

static struct config *load(const char *body, struct err *e)
{
        char *y = xasprintf("%s%s", cfg_head, body);
        struct config *c = config_load_string(y, strlen(y), "t.yaml", e);

        free(y);
        return c;
}

/* ---- collector readers ------------------------------------------------------ */

static struct reconcile_data *sample_data(void)
{
        struct reconcile_tol tol[2] = { { REC_TOL_ABS, 0 }, { REC_TOL_PCT, 0.5 } };
        struct reconcile_spec sp = { keys1, 1, meas2, 2, tol, 2 * H, 0 };
        struct reconcile_engine *e = coll_reconcile_engine_new(&sp);
        struct reconcile_data *d;
        struct err err;

        tu_reconcile_feed(e, REC_SPEED, "bucket:time n:int amount:num",
             "2024-05-01T10:00:00Z|10|100\n2024-05-01T11:00:00Z|20|201\n"
             "2024-05-01T12:00:00Z|31|300\n2024-05-01T14:00:00Z|50|500\n"
             "2024-05-02T11:00:00Z|8|8\n");
        tu_reconcile_feed(e, REC_BATCH, "bucket:time n:int amount:num",
             "2024-05-01T10:00:00Z|10|100\n2024-05-01T11:00:00Z|20|200\n"
             "2024-05-01T12:00:00Z|30|300\n2024-05-01T13:00:00Z|40|400\n"
             "2024-05-02T11:00:00Z|3|3\n");
        d = coll_reconcile_finish(e, tu_time("2024-05-02T12:00:00Z"), &err);
        coll_reconcile_engine_free(e);
        assert_non_null(d);
        ring_push(&d->hist, 1000, 3);
        ring_push(&d->hist, 2000, 1);
        return d;
}

/* ---- the pane ----------------------------------------------------------------- */

static void cell_is(const struct table_row *r, int col, const char *text, enum theme_role role)
{
        if (strcmp(r->cell[col].text, text) != 0)
                fail_msg("column %d: got \"%s\", want \"%s\"", col, r->cell[col].text, text);
        assert_int_equal(r->cell[col].role, role);
}

static void test_pane(void **state)
{
        struct err e;
        struct config *c = load("  - {name: chk, kind: reconcile, key: [bucket], measures: [n, amount],\n"
                                "     speed: {source: speed-pg, query: q},\n"
                                "     batch: {source: warehouse, query: q}, settle: 2h}\n"
                                "  - {name: broken, kind: reconcile, key: [b], measures: [n],\n"
                                "     speed: {source: speed-pg, query: q},\n"
                                "     batch: {source: warehouse, query: q}}\n"
                                "  - {name: fresh, kind: reconcile, key: [b], measures: [n],\n"
                                "     speed: {source: speed-pg, query: q},\n"
                                "     batch: {source: warehouse, query: q}}\n", &e);
        struct snapshot *snaps[5] = { NULL };
        struct alert_list al;
        struct view_data vd = { 0 };
        struct table_rows rows;
        struct tlines lines;
        char text[512];
        bool saw_flight = false, saw_mismatch = false, saw_header = false;

        (void)state;
        assert_non_null(c);
        snaps[2] = snapshot_new(&c->sources[2]);
        snaps[2]->status = COLL_OK;
        snaps[2]->collected_mono = 5000;
        snaps[2]->data = sample_data();
        snaps[3] = snapshot_new(&c->sources[3]);
        snaps[3]->status = COLL_DOWN;
        snaps[3]->collected_mono = 5000;
        str_copy(snaps[3]->error, "batch query on warehouse: relation \"nope\" does not exist",
                 sizeof snaps[3]->error);
        alert_list_init(&al);
        for (int i = 0; i < 5; i++)
                health_eval(snaps[i], &al);
        vd.srcs = c->sources;
        vd.snaps = (const struct snapshot *const *)snaps;
        vd.n = c->n_sources;
        vd.alerts = &al;
        vd.now_mono = 6000;
        vd.ascii = true;
        vd.width = 120;

        table_rows_init(&rows);
        view_reconcile_rows(&vd, &rows);
        assert_int_equal(rows.n, 3);
        assert_string_equal(rows.v[0].id, "chk");
        cell_is(&rows.v[0], RECV_STATUS, "ok", view_status_role(COLL_OK));
        cell_is(&rows.v[0], RECV_COMPARED, "3", ROLE_DEFAULT);
        cell_is(&rows.v[0], RECV_MISMATCHED, "1", ROLE_WARN);
        cell_is(&rows.v[0], RECV_MISS_SPEED, "1", ROLE_WARN);
        cell_is(&rows.v[0], RECV_MISS_BATCH, "1", ROLE_WARN);
        cell_is(&rows.v[0], RECV_IN_FLIGHT, "1", ROLE_DIM);
        cell_is(&rows.v[0], RECV_WORST, "2024-05-01T12:00:00.000Z n +1 (+3.33%)", ROLE_WARN);
        assert_int_equal(rows.v[0].sev, SEV_WARN);
        assert_int_equal(strlen(rows.v[0].cell[RECV_HIST].text), 12);
        cell_is(&rows.v[1], RECV_STATUS, "down", view_status_role(COLL_DOWN));
        cell_is(&rows.v[1], RECV_COMPARED, "-", ROLE_DIM);
        cell_is(&rows.v[1], RECV_WORST, "batch query on warehouse: relation \"nope\" does not exist",
                ROLE_CRIT);
        assert_int_equal(rows.v[1].sev, SEV_CRIT);
        cell_is(&rows.v[2], RECV_WORST, "waiting for the first poll", ROLE_DIM);
        table_rows_done(&rows);

        tlines_init(&lines);
        view_reconcile_preamble(&vd, &lines);
        tline_text(&lines.v[0], text, sizeof text);
        assert_string_equal(text, "chk  speed speed-pg vs batch warehouse  settle 2h00m");
        tlines_done(&lines);

        tlines_init(&lines);
        view_reconcile_detail(&vd, "chk", &lines);
        for (size_t i = 0; i < lines.n; i++) {
                tline_text(&lines.v[i], text, sizeof text);
                if (strstr(text, "KEY") && strstr(text, "n: speed / batch / delta"))
                        saw_header = true;
                if (strstr(text, "2024-05-02T11:00:00.000Z")) {
                        /* Newest first, dimmed. */
                        assert_false(saw_mismatch);
                        assert_int_equal(lines.v[i].seg[0].role, ROLE_DIM);
                        assert_non_null(strstr(text, "in_flight"));
                        assert_non_null(strstr(text, "8 / 3 / +5 (+166.67%)"));
                        saw_flight = true;
                }
                if (strstr(text, "2024-05-01T12:00:00.000Z") && strstr(text, "mismatch")) {
                        assert_int_equal(lines.v[i].seg[1].role, ROLE_CRIT);
                        assert_int_equal(lines.v[i].seg[2].role, ROLE_CRIT);
                        assert_non_null(strstr(text, "31 / 30 / +1 (+3.33%)"));
                        assert_non_null(strstr(text, "  300 / 300 / 0 "));
                        saw_mismatch = true;
                }
                if (strstr(text, "2024-05-01T13:00:00.000Z"))
                        assert_non_null(strstr(text, "missing_in_speed  - / 40 / -"));
        }
        assert_true(saw_header && saw_flight && saw_mismatch);
        tlines_done(&lines);

        tlines_init(&lines);
        view_reconcile_detail(&vd, "broken", &lines);
        tline_text(&lines.v[1], text, sizeof text);
        assert_string_equal(text, "  down: batch query on warehouse: relation \"nope\" does not exist");
        tlines_done(&lines);

        alert_list_done(&al);
        for (int i = 0; i < 5; i++)
                snapshot_unref(snaps[i]);
        config_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pane),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
