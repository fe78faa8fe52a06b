/*
 * The Alerts pane (views/alerts.c) over alert episodes
 * (src/core/alerttrack.c): the exact cells a person sees and the brief.
 * Time is driven by the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/alerttrack.h"
#include "core/config.h"
#include "core/util.h"
#include "views/view.h"
#include "views/alerts.h"

static struct alert mk(enum severity sev, const char *src, const char *metric,
                       const char *subject, double value)
{
        struct alert a;

        memset(&a, 0, sizeof a);
        a.sev = sev;
        str_copy(a.source, src, sizeof a.source);
        str_copy(a.metric, metric, sizeof a.metric);
        str_copy(a.subject, subject, sizeof a.subject);
        a.value = value;
        a.threshold = 100;
        str_copy(a.message, "m", sizeof a.message);
        return a;
}

static void test_pane_rows(void **state)
{
        static const char *yaml =
                "sources:\n"
                "  - name: orders-db\n"
                "    kind: postgres\n"
                "    dsn: \"host=127.0.0.1\"\n";
        struct err e;
        struct config *cfg = config_load_string(yaml, strlen(yaml), "t.yaml", &e);
        struct alert_tracker t;
        struct alert_list l;
        struct alert lag = mk(SEV_CRIT, "orders-db", "slot_lag_bytes", "analytics_stale",
                              3.0 * 1024 * 1024 * 1024);
        struct alert gone = mk(SEV_WARN, "orders-db", "slot_inactive_ms", "debezium", 400000);
        struct view_data d;
        struct table_rows rows;
        struct tlines brief;
        char line[512];

        (void)state;
        assert_non_null(cfg);
        alerttrack_init(&t);
        alert_list_init(&l);
        alert_list_add(&l, &lag);
        alert_list_add(&l, &gone);
        alerttrack_update(&t, &l, 10000, 0);
        l.n = 1;                                        /* "gone" clears */
        alerttrack_update(&t, &l, 70000, 0);

        memset(&d, 0, sizeof d);
        d.srcs = cfg->sources;
        d.n = cfg->n_sources;
        d.track = &t;
        d.now_mono = 100000;
        d.ascii = true;
        table_rows_init(&rows);
        view_alerts_rows(&d, &rows);
        assert_int_equal(rows.n, 2);
        assert_string_equal(rows.v[0].cell[AL_SEV].text, "crit");
        assert_int_equal(rows.v[0].cell[AL_SEV].role, ROLE_CRIT);
        assert_string_equal(rows.v[0].cell[AL_SINCE].text, "1m30s");
        assert_string_equal(rows.v[0].cell[AL_SUBJECT].text, "analytics_stale");
        assert_string_equal(rows.v[0].cell[AL_VALUE].text, "3.0 GiB");
        assert_int_equal(rows.v[0].sev, SEV_CRIT);
        assert_string_equal(rows.v[0].id, "orders-db/slot_lag_bytes/analytics_stale");
        assert_string_equal(rows.v[1].cell[AL_SEV].text, "ok");
        assert_string_equal(rows.v[1].cell[AL_SINCE].text, "-30s");
        assert_string_equal(rows.v[1].cell[AL_TREND].text, "resolved");
        assert_string_equal(rows.v[1].cell[AL_VALUE].text, "6m40s");
        assert_int_equal(rows.v[1].sev, SEV_OK);
        table_rows_done(&rows);

        tlines_init(&brief);
        view_alerts_brief(&d, 5, &brief);
        assert_int_equal(brief.n, 2);
        tline_text(&brief.v[0], line, sizeof line);
        assert_string_equal(line, "1 active alert  (worst first)");
        tline_text(&brief.v[1], line, sizeof line);
        assert_string_equal(line, " crit for 1m30s   orders-db: m");
        tlines_done(&brief);

        alert_list_done(&l);
        alerttrack_done(&t);
        config_free(cfg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pane_rows),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
