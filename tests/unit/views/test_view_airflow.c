/*
 * The Airflow pane's pure parts (views/airflow.c: rows, detail, preamble)
 * over the Airflow collector's data parsed from the fixtures in
 * tests/fixtures/airflow at a fixed `now`. No server, no curses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/airflow/airflow.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/snapshot.h"
#include "tu.h"
#include "tu_samples.h"
#include "core/util.h"
#include "views/view.h"
#include "views/airflow.h"

#define NOW 1714651200000LL     /* 2024-05-02T12:00:00Z */

static void test_view(void **state)
{
        struct config *cfg = tu_af_config(NULL);
        struct snapshot *s = snapshot_new(&cfg->sources[0]);
        const struct snapshot *snaps[1];
        struct af_data *d = tu_af_sample_v1(NOW);
        struct alert_list al;
        struct view_data vd = { 0 };
        struct table_rows rows;
        struct tlines tl;
        char line[512];
        bool found = false;

        (void)state;
        s->status = COLL_OK;
        s->collected_mono = clock_mono_ms();
        s->data = d;
        snaps[0] = s;
        alert_list_init(&al);
        coll_airflow_ops.alerts(&cfg->sources[0], d, &al);
        vd.srcs = cfg->sources;
        vd.snaps = snaps;
        vd.n = 1;
        vd.alerts = &al;
        vd.now_mono = clock_mono_ms();
        vd.ascii = true;
        table_rows_init(&rows);
        view_airflow_rows(&vd, &rows);
        assert_int_equal(rows.n, 4);
        assert_string_equal(rows.v[0].cell[AFV_DAG].text, "nightly_compact");
        assert_string_equal(rows.v[0].cell[AFV_STATE].text, "running");
        assert_int_equal(rows.v[0].cell[AFV_STATE].role, ROLE_OK);
        assert_string_equal(rows.v[0].cell[AFV_LAST].text, "1h59m ago");
        assert_string_equal(rows.v[0].cell[AFV_FAIL24].text, "1");
        assert_int_equal(rows.v[0].cell[AFV_FAIL24].role, ROLE_WARN);
        assert_string_equal(rows.v[0].cell[AFV_RUNNING].text, "1/1");
        assert_string_equal(rows.v[1].cell[AFV_DAG].text, "reconcile_hourly");
        assert_string_equal(rows.v[1].cell[AFV_OVERDUE].text, "2h00m");
        assert_int_equal(rows.v[1].cell[AFV_OVERDUE].role, ROLE_CRIT);
        assert_int_equal(rows.v[1].sev, SEV_CRIT);
        assert_string_equal(rows.v[2].cell[AFV_DAG].text, "adhoc_backfill (paused)");
        assert_string_equal(rows.v[0].id, "af\tnightly_compact");
        table_rows_done(&rows);

        tlines_init(&tl);
        view_airflow_detail(&vd, "af\tnightly_compact", &tl);
        for (size_t i = 0; i < tl.n; i++) {
                tline_text(&tl.v[i], line, sizeof line);
                if (strstr(line, "t_failed[3]  try 2  1m01s"))
                        found = true;
        }
        assert_true(found);
        tline_text(&tl.v[0], line, sizeof line);
        assert_string_equal(line, "DAG nightly_compact  (af)");
        tlines_done(&tl);

        tlines_init(&tl);
        view_airflow_preamble(&vd, &tl);
        tline_text(&tl.v[0], line, sizeof line);
        assert_non_null(strstr(line, "Airflow 2.9.1 (api v1)  4 DAGs (1 paused)  0 last run "
                               "failed  1 failed runs 24h  1 running  1 overdue"));
        tlines_done(&tl);
        alert_list_done(&al);
        snapshot_unref(s);
        config_free(cfg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_view),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
