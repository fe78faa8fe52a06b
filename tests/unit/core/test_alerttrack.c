/*
 * Alert episodes (src/core/alerttrack.c): since, resolution, re-firing,
 * ordering and trend. Time is driven by the test. The Alerts pane
 * (views/alerts.c) is tested in tests/unit/views/test_view_alerts.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/alerttrack.h"
#include "core/util.h"

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

static void test_episodes(void **state)
{
        struct alert_tracker t;
        struct alert_list l;
        struct alert lag = mk(SEV_WARN, "db", "slot_lag_bytes", "s1", 150);
        struct alert down = mk(SEV_CRIT, "ch", "status", "", NAN);

        (void)state;
        alerttrack_init(&t);
        alert_list_init(&l);

        alert_list_add(&l, &lag);
        alerttrack_update(&t, &l, 1000, 1700000000000);
        assert_int_equal(t.n, 1);
        assert_int_equal(t.v[0].since_mono, 1000);
        assert_int_equal(t.v[0].since_wall, 1700000000000);
        assert_int_equal(t.v[0].peak, SEV_WARN);

        /* Same key later, now crit, plus a new crit: the older crit sorts first. */
        l.v[0].sev = SEV_CRIT;
        l.v[0].value = 300;
        alert_list_add(&l, &down);
        alerttrack_update(&t, &l, 5000, 1700000004000);
        assert_int_equal(t.n, 2);
        assert_string_equal(t.v[0].a.source, "db");
        assert_int_equal(t.v[0].since_mono, 1000);     /* the episode keeps its start */
        assert_int_equal(t.v[0].peak, SEV_CRIT);
        assert_true(t.v[0].a.value == 300);
        assert_string_equal(t.v[1].a.source, "ch");
        assert_int_equal(t.v[1].since_mono, 5000);
        assert_int_equal(alerttrack_active(&t), 2);

        /* db clears: resolved, listed after active ones. */
        alert_list_done(&l);
        alert_list_init(&l);
        alert_list_add(&l, &down);
        alerttrack_update(&t, &l, 9000, 1700000008000);
        assert_int_equal(t.n, 2);
        assert_string_equal(t.v[0].a.source, "ch");
        assert_int_equal(t.v[0].resolved_mono, 0);
        assert_string_equal(t.v[1].a.source, "db");
        assert_int_equal(t.v[1].resolved_mono, 9000);
        assert_int_equal(alerttrack_active(&t), 1);

        /* db fires again: a new episode starts, the resolved one stays listed. */
        alert_list_add(&l, &lag);
        alerttrack_update(&t, &l, 12000, 1700000011000);
        assert_int_equal(t.n, 3);
        assert_int_equal(alerttrack_active(&t), 2);
        assert_string_equal(t.v[1].a.source, "db");
        assert_int_equal(t.v[1].since_mono, 12000);
        assert_int_equal(t.v[1].peak, SEV_WARN);
        assert_int_equal(t.v[2].resolved_mono, 9000);

        /* Resolved entries are dropped after ALERTTRACK_KEEP_MS. */
        alerttrack_update(&t, &l, 9000 + ALERTTRACK_KEEP_MS, 0);
        assert_int_equal(t.n, 3);
        alerttrack_update(&t, &l, 9001 + ALERTTRACK_KEEP_MS, 0);
        assert_int_equal(t.n, 2);
        assert_int_equal(alerttrack_active(&t), 2);

        alert_list_done(&l);
        alerttrack_done(&t);
}

static void test_trend(void **state)
{
        struct alert_tracker t;
        struct alert_list l;
        struct alert a = mk(SEV_WARN, "db", "slot_lag_bytes", "s1", 1000);

        (void)state;
        alerttrack_init(&t);
        alert_list_init(&l);
        alert_list_add(&l, &a);
        alerttrack_update(&t, &l, 0, 0);
        assert_int_equal(alerttrack_trend(&t.v[0], 300000), TREND_UNKNOWN);
        /* Frames closer than ALERTTRACK_SAMPLE_MS add no sample. */
        alerttrack_update(&t, &l, ALERTTRACK_SAMPLE_MS - 1, 0);
        assert_int_equal(t.v[0].values.n, 1);
        for (int i = 1; i <= 5; i++) {
                l.v[0].value = 1000 + 500 * i;          /* +250 per second */
                alerttrack_update(&t, &l, (int64_t)i * ALERTTRACK_SAMPLE_MS, 0);
        }
        assert_int_equal(t.v[0].values.n, 6);
        assert_int_equal(alerttrack_trend(&t.v[0], 300000), TREND_WORSE);
        for (int i = 6; i <= 30; i++) {
                l.v[0].value = 100;                     /* falls, then flat */
                alerttrack_update(&t, &l, (int64_t)i * ALERTTRACK_SAMPLE_MS, 0);
        }
        assert_int_equal(alerttrack_trend(&t.v[0], 20000), TREND_STEADY);
        assert_string_equal(alerttrack_trend_name(TREND_STEADY), "steady");
        assert_string_equal(alerttrack_trend_name(TREND_UNKNOWN), "");
        alert_list_done(&l);
        alerttrack_done(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_episodes),
                cmocka_unit_test(test_trend),
                };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
