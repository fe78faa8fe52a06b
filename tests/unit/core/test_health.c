/*
 * test_health: threshold checks exactly at their limits, disabled (NAN)
 * limits, the alert text per unit, status rules (down -> crit and nothing
 * else, degraded -> warn plus the kind's rules), the overall state with
 * sources that never answered, and the Nagios exit codes. The source and
 * its kind are built by hand; no config file is involved.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/snapshot.h"

static const struct threshold_def fake_defs[] = {
        { "lag_bytes", THR_BYTES, 0, 0, "bytes" },
        { "wait_ms",   THR_MS,    0, 0, "ms" },
        { "count",     THR_COUNT, 0, 0, "count" },
        { "rate",      THR_RATE,  0, 0, "rate" },
        { NULL, 0, 0, 0, NULL },
};

static struct threshold fake_thr[] = {
        { &fake_defs[0], 1024, 4096 },
        { &fake_defs[1], NAN, 5000 },   /* warn disabled */
        { &fake_defs[2], 10, NAN },     /* crit disabled */
        { &fake_defs[3], NAN, NAN },    /* both disabled */
};

/* Kind data for the fake: one number, checked against lag_bytes. */
static void fake_alerts(const struct source_cfg *src, const void *data, struct alert_list *out)
{
        health_check(out, src, "lag_bytes", "slot_a", *(const double *)data, NULL);
}

static const struct collector_ops fake_ops = {
        .name = "fake",
        .title = "Fake",
        .thresholds = fake_defs,
        .alerts = fake_alerts,
};

static struct source_cfg fake_src = {
        .name = (char *)"db1",
        .kind = (char *)"fake",
        .ops = &fake_ops,
        .interval_ms = 1000,
        .timeout_ms = 1000,
        .thresholds = fake_thr,
        .n_thresholds = LO_ARRAY_LEN(fake_thr),
};

static void test_bytes_boundaries(void **state)
{
        struct alert_list l;

        (void)state;
        alert_list_init(&l);
        assert_int_equal(health_check(&l, &fake_src, "lag_bytes", "s", 1023, NULL), SEV_OK);
        assert_int_equal(l.n, 0);
        assert_int_equal(health_check(&l, &fake_src, "lag_bytes", "s", 1024, NULL), SEV_WARN);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.v[0].sev, SEV_WARN);
        assert_string_equal(l.v[0].source, "db1");
        assert_string_equal(l.v[0].metric, "lag_bytes");
        assert_string_equal(l.v[0].subject, "s");
        assert_true(l.v[0].value == 1024);
        assert_true(l.v[0].threshold == 1024);
        assert_string_equal(l.v[0].message, "s lag_bytes 1.0 KiB >= warn 1.0 KiB");
        assert_int_equal(health_check(&l, &fake_src, "lag_bytes", "s", 4095, NULL), SEV_WARN);
        assert_int_equal(health_check(&l, &fake_src, "lag_bytes", "s", 4096, NULL), SEV_CRIT);
        assert_int_equal(l.n, 3);
        assert_int_equal(l.v[2].sev, SEV_CRIT);
        assert_true(l.v[2].threshold == 4096);      /* the crossed limit is crit's */
        assert_string_equal(l.v[2].message, "s lag_bytes 4.0 KiB >= crit 4.0 KiB");
        assert_int_equal(health_check(&l, &fake_src, "lag_bytes", "s", 1e12, NULL), SEV_CRIT);
        assert_int_equal(l.n, 4);
        alert_list_done(&l);
        assert_int_equal(l.n, 0);
        assert_null(l.v);
}

static void test_message_forms(void **state)
{
        struct alert_list l;

        (void)state;
        alert_list_init(&l);
        /* No subject: the metric alone. */
        health_check(&l, &fake_src, "lag_bytes", "", 2048, NULL);
        health_check(&l, &fake_src, "lag_bytes", NULL, 2048, NULL);
        /* `what` replaces subject and metric. */
        health_check(&l, &fake_src, "lag_bytes", "slot_a", 5000, "slot slot_a lag");
        assert_int_equal(l.n, 3);
        assert_string_equal(l.v[0].message, "lag_bytes 2.0 KiB >= warn 1.0 KiB");
        assert_string_equal(l.v[1].message, "lag_bytes 2.0 KiB >= warn 1.0 KiB");
        assert_string_equal(l.v[1].subject, "");
        assert_string_equal(l.v[2].message, "slot slot_a lag 4.9 KiB >= crit 4.0 KiB");
        assert_string_equal(l.v[2].subject, "slot_a");
        alert_list_done(&l);
}

static void test_disabled_limits(void **state)
{
        struct alert_list l;

        (void)state;
        alert_list_init(&l);
        /* warn NAN: nothing below crit, crit at the limit. */
        assert_int_equal(health_check(&l, &fake_src, "wait_ms", "", 4999, NULL), SEV_OK);
        assert_int_equal(health_check(&l, &fake_src, "wait_ms", "", 5000, NULL), SEV_CRIT);
        assert_string_equal(l.v[0].message, "wait_ms 5s >= crit 5s");
        /* crit NAN: warn however large. */
        assert_int_equal(health_check(&l, &fake_src, "count", "t", 9, NULL), SEV_OK);
        assert_int_equal(health_check(&l, &fake_src, "count", "t", 10, NULL), SEV_WARN);
        assert_int_equal(health_check(&l, &fake_src, "count", "t", 1e15, NULL), SEV_WARN);
        assert_string_equal(l.v[1].message, "t count 10 >= warn 10");
        /* Both NAN: never. */
        assert_int_equal(health_check(&l, &fake_src, "rate", "", 1e300, NULL), SEV_OK);
        /* A NAN value or an unknown metric: never. */
        assert_int_equal(health_check(&l, &fake_src, "lag_bytes", "", NAN, NULL), SEV_OK);
        assert_int_equal(health_check(&l, &fake_src, "nope", "", 1e300, NULL), SEV_OK);
        assert_int_equal(l.n, 3);
        alert_list_done(&l);
}

static void test_add_and_grow(void **state)
{
        struct alert_list l;

        (void)state;
        alert_list_init(&l);
        for (int i = 0; i < 100; i++)
                health_add(&l, SEV_WARN, &fake_src, "rule", "x", i, NAN, "rule %d", i);
        assert_int_equal(l.n, 100);
        assert_string_equal(l.v[99].message, "rule 99");
        assert_true(l.v[99].value == 99);
        assert_true(isnan(l.v[99].threshold));
        assert_string_equal(l.v[99].source, "db1");
        alert_list_done(&l);
}

static struct snapshot *mk(enum coll_status st, const char *err, double *data)
{
        struct snapshot *s = snapshot_new(&fake_src);

        s->status = st;
        strcpy(s->error, err);
        s->data = data;
        s->collected_at = 1;
        return s;
}

static void test_eval_status(void **state)
{
        static double big = 5000, small = 1;
        struct alert_list l;
        struct snapshot *s;

        (void)state;
        alert_list_init(&l);
        /* down: one crit, and the kind's rules are not consulted. */
        s = mk(COLL_DOWN, "connection refused", &big);
        health_eval(s, &l);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.v[0].sev, SEV_CRIT);
        assert_string_equal(l.v[0].metric, "status");
        assert_string_equal(l.v[0].subject, "");
        assert_true(isnan(l.v[0].value) && isnan(l.v[0].threshold));
        assert_string_equal(l.v[0].message, "db1 is down: connection refused");
        s->data = NULL;
        snapshot_unref(s);
        alert_list_done(&l);

        /* degraded: warn, plus the kind's rules. */
        s = mk(COLL_DEGRADED, "wal_level is replica", &big);
        health_eval(s, &l);
        assert_int_equal(l.n, 2);
        assert_int_equal(l.v[0].sev, SEV_WARN);
        assert_string_equal(l.v[0].message, "db1 is degraded: wal_level is replica");
        assert_int_equal(l.v[1].sev, SEV_CRIT);
        assert_string_equal(l.v[1].metric, "lag_bytes");
        s->data = NULL;
        snapshot_unref(s);
        alert_list_done(&l);

        /* ok: only the kind's rules; ok below limits: nothing. */
        s = mk(COLL_OK, "", &small);
        health_eval(s, &l);
        assert_int_equal(l.n, 0);
        s->data = NULL;
        snapshot_unref(s);
        s = mk(COLL_OK, "", NULL);              /* no data: no kind rules */
        health_eval(s, &l);
        assert_int_equal(l.n, 0);
        snapshot_unref(s);
        health_eval(NULL, &l);
        assert_int_equal(l.n, 0);
        alert_list_done(&l);
}

static void test_overall(void **state)
{
        struct snapshot *ok = mk(COLL_OK, "", NULL);
        struct snapshot *unk = mk(COLL_UNKNOWN, "", NULL);
        const struct snapshot *v[3];
        struct alert_list l;

        (void)state;
        alert_list_init(&l);
        assert_int_equal(health_overall(v, 0, &l), SEV_OK);
        v[0] = ok;
        v[1] = ok;
        assert_int_equal(health_overall(v, 2, &l), SEV_OK);
        health_add(&l, SEV_WARN, &fake_src, "m", "", NAN, NAN, "w");
        assert_int_equal(health_overall(v, 2, &l), SEV_WARN);
        /* A source that never answered (NULL) beats warn ... */
        v[2] = NULL;
        assert_int_equal(health_overall(v, 3, &l), SEV_UNKNOWN);
        v[2] = unk;
        assert_int_equal(health_overall(v, 3, &l), SEV_UNKNOWN);
        /* ... and crit beats unknown. */
        health_add(&l, SEV_CRIT, &fake_src, "m", "", NAN, NAN, "c");
        assert_int_equal(health_overall(v, 3, &l), SEV_CRIT);
        assert_int_equal(health_overall(v, 2, &l), SEV_CRIT);
        alert_list_done(&l);
        /* No alerts, one unknown: unknown. */
        assert_int_equal(health_overall(v, 3, &l), SEV_UNKNOWN);
        snapshot_unref(ok);
        snapshot_unref(unk);
}

static void test_names_and_exit_codes(void **state)
{
        (void)state;
        assert_string_equal(severity_name(SEV_OK), "ok");
        assert_string_equal(severity_name(SEV_WARN), "warn");
        assert_string_equal(severity_name(SEV_CRIT), "crit");
        assert_string_equal(severity_name(SEV_UNKNOWN), "unknown");
        assert_int_equal(severity_exit_code(SEV_OK), 0);
        assert_int_equal(severity_exit_code(SEV_WARN), 1);
        assert_int_equal(severity_exit_code(SEV_CRIT), 2);
        assert_int_equal(severity_exit_code(SEV_UNKNOWN), 3);
        assert_string_equal(coll_status_name(COLL_OK), "ok");
        assert_string_equal(coll_status_name(COLL_DEGRADED), "degraded");
        assert_string_equal(coll_status_name(COLL_DOWN), "down");
        assert_string_equal(coll_status_name(COLL_UNKNOWN), "unknown");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bytes_boundaries),
                cmocka_unit_test(test_message_forms),
                cmocka_unit_test(test_disabled_limits),
                cmocka_unit_test(test_add_and_grow),
                cmocka_unit_test(test_eval_status),
                cmocka_unit_test(test_overall),
                cmocka_unit_test(test_names_and_exit_codes),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
