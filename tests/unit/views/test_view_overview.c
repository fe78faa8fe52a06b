/*
 * test_view_overview: the Overview pane's pure rows() and detail() on
 * snapshots built by hand -- one healthy source with history and a warn
 * alert, one down and stale, one never polled. Asserts exact cell strings
 * and roles, config order, row severities and staleness, the "/" filter on
 * those rows, ASCII sparklines, and the detail page's lines. No curses.
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
#include "core/ring.h"
#include "core/snapshot.h"
#include "core/util.h"
#include "views/view.h"
#include "views/overview.h"

#define NOW 1000000         /* monotonic ms of the frame */

static void fake_summary(const void *data, char *buf, size_t n)
{
        snprintf(buf, n, "%d things", *(const int *)data);
}

static void fake_free(void *data)
{
        free(data);
}

static const struct threshold_def fake_defs[] = {
        { "lag_bytes", THR_BYTES, 0, 0, "bytes" },
        { NULL, 0, 0, 0, NULL },
};

static struct threshold fake_thr[] = {
        { &fake_defs[0], 1024, 4096 },
};

static const struct collector_ops fake_ops = {
        .name = "fake",
        .title = "Fake",
        .thresholds = fake_defs,
        .data_free = fake_free,
        .summary = fake_summary,
        .key_metric_name = "queue size",
        .key_metric_unit = THR_BYTES,
};

static struct source_cfg srcs[3] = {
        { .name = (char *)"alpha", .kind = (char *)"fake", .ops = &fake_ops,
          .interval_ms = 5000, .timeout_ms = 2000,
          .thresholds = fake_thr, .n_thresholds = 1 },
        { .name = (char *)"beta", .kind = (char *)"fake", .ops = &fake_ops,
          .interval_ms = 5000, .timeout_ms = 2000 },
        { .name = (char *)"gamma", .kind = (char *)"fake", .ops = &fake_ops,
          .interval_ms = 5000, .timeout_ms = 2000 },
};

struct fixture {
        struct snapshot *snaps[3];
        struct alert_list alerts;
        struct view_data d;
        struct table_rows rows;
};

static int setup(void **state)
{
        struct fixture *f = xcalloc(1, sizeof *f);
        struct snapshot *s;
        int *things;

        /* alpha: ok, 3 s old, history 0..7, one warn alert. */
        s = snapshot_new(&srcs[0]);
        s->status = COLL_OK;
        s->collected_at = 1764165600000;
        s->last_ok_at = s->collected_at;
        s->collected_mono = NOW - 3000;
        s->poll_ms = 4;
        s->seq = 12;
        s->next_poll_ms = 5000;
        s->key_value = 1536;
        for (int i = 0; i < 8; i++)
                ring_push(&s->key_hist, NOW - 8000 + i * 1000, i);
        things = xmalloc(sizeof *things);
        *things = 3;
        s->data = things;
        f->snaps[0] = s;

        /* beta: down, last poll 42 s ago at a 5 s interval: stale. */
        s = snapshot_new(&srcs[1]);
        s->status = COLL_DOWN;
        str_copy(s->error, "connection refused: is it running?", sizeof s->error);
        s->collected_at = 1764165561000;
        s->collected_mono = NOW - 42000;
        s->poll_ms = 1000;
        s->failures = 4;
        f->snaps[1] = s;

        /* gamma: never polled. */
        f->snaps[2] = NULL;

        alert_list_init(&f->alerts);
        for (int i = 0; i < 3; i++)
                health_eval(f->snaps[i], &f->alerts);
        health_add(&f->alerts, SEV_WARN, &srcs[0], "lag_bytes", "q1", 2048, 1024,
                   "q1 lag_bytes 2.0 KiB >= warn 1.0 KiB");

        f->d.srcs = srcs;
        f->d.snaps = (const struct snapshot *const *)f->snaps;
        f->d.n = 3;
        f->d.alerts = &f->alerts;
        f->d.now_mono = NOW;
        f->d.width = 100;
        table_rows_init(&f->rows);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        for (int i = 0; i < 3; i++)
                snapshot_unref(f->snaps[i]);
        alert_list_done(&f->alerts);
        table_rows_done(&f->rows);
        free(f);
        return 0;
}

static void assert_cell(const struct table_row *r, int col, const char *text, enum theme_role role)
{
        assert_string_equal(r->cell[col].text, text);
        assert_int_equal(r->cell[col].role, role);
}

static void test_rows(void **state)
{
        struct fixture *f = *state;
        const struct table_row *r;

        view_overview_rows(&f->d, &f->rows);
        assert_int_equal(f->rows.n, 3);

        /* Config order, ids are source names. */
        r = &f->rows.v[0];
        assert_string_equal(r->id, "alpha");
        assert_cell(r, OV_SOURCE, "alpha", ROLE_DEFAULT);
        assert_cell(r, OV_KIND, "fake", ROLE_DIM);
        assert_cell(r, OV_STATUS, "ok", ROLE_OK);
        assert_cell(r, OV_METRIC, "1.5 KiB", ROLE_DEFAULT);
        assert_cell(r, OV_TREND, "    \u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588",
                    ROLE_SPARK);
        assert_cell(r, OV_AGE, "3s", ROLE_DEFAULT);
        assert_cell(r, OV_POLL, "4ms", ROLE_DIM);
        assert_cell(r, OV_SUMMARY, "3 things", ROLE_DEFAULT);
        assert_cell(r, OV_ERROR, "", ROLE_DEFAULT);
        assert_int_equal(r->sev, SEV_WARN);     /* from the hand-made alert */
        assert_false(r->stale);

        r = &f->rows.v[1];
        assert_string_equal(r->id, "beta");
        assert_cell(r, OV_STATUS, "down", ROLE_CRIT);
        assert_cell(r, OV_METRIC, "-", ROLE_DEFAULT);
        assert_cell(r, OV_TREND, "            ", ROLE_SPARK);
        assert_cell(r, OV_AGE, "stale 42s", ROLE_STALE);
        assert_cell(r, OV_POLL, "1s", ROLE_DIM);
        assert_cell(r, OV_SUMMARY, "", ROLE_DEFAULT);
        assert_cell(r, OV_ERROR, "connection refused: is it running?", ROLE_CRIT);
        assert_int_equal(r->sev, SEV_CRIT);
        assert_true(r->stale);

        r = &f->rows.v[2];
        assert_string_equal(r->id, "gamma");
        assert_cell(r, OV_STATUS, "unknown", ROLE_UNKNOWN);
        assert_cell(r, OV_METRIC, "-", ROLE_DEFAULT);
        assert_cell(r, OV_TREND, "", ROLE_SPARK);
        assert_cell(r, OV_AGE, "never", ROLE_UNKNOWN);
        assert_cell(r, OV_POLL, "-", ROLE_DIM);
        assert_cell(r, OV_ERROR, "waiting for the first poll", ROLE_DIM);
        assert_int_equal(r->sev, SEV_UNKNOWN);
        assert_false(r->stale);
}

static void test_rows_ascii_and_degraded(void **state)
{
        struct fixture *f = *state;
        struct snapshot *s = f->snaps[0];

        f->d.ascii = true;
        s->status = COLL_DEGRADED;
        str_copy(s->error, "permission denied for pg_stat_replication", sizeof s->error);
        view_overview_rows(&f->d, &f->rows);
        assert_cell(&f->rows.v[0], OV_TREND, "     .:-=+*#", ROLE_SPARK);
        assert_cell(&f->rows.v[0], OV_STATUS, "degraded", ROLE_WARN);
        assert_cell(&f->rows.v[0], OV_ERROR, "permission denied for pg_stat_replication",
                    ROLE_WARN);
}

static void test_filter(void **state)
{
        struct fixture *f = *state;

        view_overview_rows(&f->d, &f->rows);
        assert_int_equal(table_filter(&f->rows, "DOWN"), 1);
        assert_string_equal(f->rows.v[0].id, "beta");

        table_rows_clear(&f->rows);
        view_overview_rows(&f->d, &f->rows);
        assert_int_equal(table_filter(&f->rows, "things"), 1);
        assert_string_equal(f->rows.v[0].id, "alpha");

        table_rows_clear(&f->rows);
        view_overview_rows(&f->d, &f->rows);
        assert_int_equal(table_filter(&f->rows, "Never"), 1);
        assert_string_equal(f->rows.v[0].id, "gamma");

        table_rows_clear(&f->rows);
        view_overview_rows(&f->d, &f->rows);
        assert_int_equal(table_filter(&f->rows, "fake"), 3);
        assert_int_equal(table_filter(&f->rows, "nothing matches this"), 0);
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

static void test_detail(void **state)
{
        struct fixture *f = *state;
        struct tlines l;

        tlines_init(&l);
        view_overview_detail(&f->d, "alpha", &l);
        assert_true(has_line(&l, "alpha  Fake (fake)"));
        assert_true(has_line(&l, "  status               ok"));
        assert_true(has_line(&l, "  collected at         2025-11-26T14:00:00.000Z  (3s)"));
        assert_true(has_line(&l, "  poll took            4ms"));
        assert_true(has_line(&l, "  polls                12, 0 failed in a row"));
        assert_true(has_line(&l, "  interval / timeout   5s / 2s"));
        assert_true(has_line(&l, "  queue size           1.5 KiB"));
        assert_true(has_line(&l, "  summary              3 things"));
        assert_true(has_line(&l, "Thresholds"));
        assert_true(has_line(&l, "  lag_bytes            warn 1.0 KiB  crit 4.0 KiB"));
        assert_true(has_line(&l, "  warn  q1 lag_bytes 2.0 KiB >= warn 1.0 KiB"));
        assert_true(has_line(&l, "queue size history  (8 samples)"));
        /* A 6-row chart (48 eighths), 8 samples wide: 0..7 scale to 0, 7,
         * 14, 21, 27, 34, 41, 48 eighths; the zero leaves its column empty. */
        assert_true(has_line(&l, "        \u2581\u2588"));
        assert_true(has_line(&l, "     \u2585\u2588\u2588\u2588\u2588"));
        assert_true(has_line(&l, "   \u2587\u2588\u2588\u2588\u2588\u2588\u2588"));
        tlines_done(&l);

        tlines_init(&l);
        view_overview_detail(&f->d, "beta", &l);
        assert_true(has_line(&l, "  status               down"));
        assert_true(has_line(&l, "  error                connection refused: is it running?"));
        assert_true(has_line(&l, "  last ok at           never"));
        assert_true(has_line(&l, "  polls                0, 4 failed in a row"));
        assert_true(has_line(&l, "  crit  beta is down: connection refused: is it running?"));
        assert_true(has_line(&l, "  no samples yet"));
        tlines_done(&l);

        tlines_init(&l);
        view_overview_detail(&f->d, "gamma", &l);
        assert_true(has_line(&l, "  status               unknown"));
        assert_true(has_line(&l, "  collected at         never (waiting for the first poll)"));
        assert_true(has_line(&l, "  none"));
        tlines_done(&l);

        tlines_init(&l);
        view_overview_detail(&f->d, "nope", &l);
        assert_int_equal(l.n, 1);
        assert_true(has_line(&l, "source nope is no longer configured"));
        tlines_done(&l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rows_ascii_and_degraded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_filter, setup, teardown),
                cmocka_unit_test_setup_teardown(test_detail, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
