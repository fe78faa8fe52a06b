/*
 * Alert episodes (src/core/alerttrack.c): since, resolution, re-firing,
 * ordering and trend; the lifecycle (pending, firing through `for`,
 * keep_firing_for, unknown while the source is down, severity changes),
 * the transition records and the fingerprint. Time is driven by the test,
 * so every transition time is asserted exactly. The Alerts pane
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
#include "core/config.h"
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

/* --- the lifecycle ------------------------------------------------------ */

/* A source built by hand: environment "prod", source-level timing, and one
 * threshold "lag" with its own. */
static struct threshold_def life_defs[] = {
        { "lag", THR_COUNT, 10, 20, "lag" },
        { NULL, THR_COUNT, 0, 0, NULL },
};
static struct threshold life_thr[] = { { &life_defs[0], 10, 20 } };
static struct alert_timing life_thr_timing[] = { { 60000, 30000 } };
static struct config life_cfg = { .environment = (char *)"prod" };
static struct source_cfg life_src = {
        .cfg = &life_cfg, .name = (char *)"db", .kind = (char *)"fake",
        .thresholds = life_thr, .n_thresholds = 1,
        .timing = { 0, 0 }, .thr_timing = life_thr_timing,
};

#define WALL0 1700000000000LL

static struct alert life_alert(enum severity sev, const char *metric, const char *subject,
                               double value)
{
        struct alert a = mk(sev, "db", metric, subject, value);

        a.src = &life_src;
        return a;
}

/* One frame: the given alerts (n of them) at mono t (wall WALL0 + t). */
static void frame(struct alert_tracker *t, const struct alert *v, size_t n, int64_t at)
{
        struct alert_list l;

        alert_list_init(&l);
        for (size_t i = 0; i < n; i++)
                alert_list_add(&l, &v[i]);
        alerttrack_update(t, &l, at, WALL0 + at);
        alert_list_done(&l);
}

static size_t drain(struct alert_tracker *t, struct alert_transition *out, size_t max)
{
        return alerttrack_drain(t, out, max);
}

static const struct alert_track *find(const struct alert_tracker *t, const char *metric)
{
        for (size_t i = 0; i < t->n; i++)
                if (strcmp(t->v[i].a.metric, metric) == 0)
                        return &t->v[i];
        return NULL;
}

/* `for: 1m`: pending until exactly 60 s after first seen, then one record. */
static void test_for(void **state)
{
        struct alert_tracker t;
        struct alert_transition r[8];
        struct alert a = life_alert(SEV_WARN, "lag", "s1", 15);

        (void)state;
        alerttrack_init(&t);
        alerttrack_record(&t, true);
        frame(&t, &a, 1, 1000);
        assert_int_equal(t.n, 1);
        assert_int_equal(t.v[0].state, ALERT_PENDING);
        assert_int_equal(t.v[0].for_ms, 60000);
        assert_int_equal(t.v[0].keep_ms, 30000);
        assert_int_equal(alerttrack_active(&t), 1);     /* the console lists it */
        frame(&t, &a, 1, 60999);
        assert_int_equal(t.v[0].state, ALERT_PENDING);  /* not before */
        assert_int_equal(drain(&t, r, 8), 0);
        frame(&t, &a, 1, 61000);
        assert_int_equal(t.v[0].state, ALERT_FIRING);   /* exactly at for */
        assert_int_equal(t.v[0].since_mono, 1000);
        assert_int_equal(t.v[0].fired_mono, 61000);
        assert_int_equal(t.v[0].fired_wall, WALL0 + 61000);
        assert_int_equal(drain(&t, r, 8), 1);
        assert_int_equal(r[0].seq, 1);
        assert_int_equal(r[0].kind, ALERT_TR_FIRED);
        assert_int_equal(r[0].state, ALERT_FIRING);
        assert_int_equal(r[0].sev, SEV_WARN);
        assert_int_equal(r[0].at_mono, 61000);
        assert_int_equal(r[0].starts_at_wall, WALL0 + 61000);
        assert_int_equal(r[0].ends_at_wall, 0);
        assert_string_equal(r[0].environment, "prod");
        assert_string_equal(r[0].fingerprint, t.v[0].fingerprint);
        assert_string_equal(r[0].a.subject, "s1");
        frame(&t, &a, 1, 120000);
        assert_int_equal(drain(&t, r, 8), 0);           /* fired once */

        /* A pending alert that clears is dropped: never said, never resolved. */
        a = life_alert(SEV_WARN, "lag", "s2", 15);
        frame(&t, &a, 1, 200000);                       /* s1 clear: keep_firing_for runs */
        assert_int_equal(drain(&t, r, 8), 0);
        assert_int_equal(t.n, 2);
        frame(&t, NULL, 0, 210000);
        assert_int_equal(t.n, 1);                       /* s2 gone, silently */
        assert_string_equal(t.v[0].a.subject, "s1");
        assert_int_equal(drain(&t, r, 8), 0);
        frame(&t, NULL, 0, 229999);
        assert_int_equal(t.v[0].state, ALERT_FIRING);
        frame(&t, NULL, 0, 230000);                     /* clear for exactly 30 s */
        assert_int_equal(t.v[0].state, ALERT_RESOLVED);
        assert_int_equal(t.v[0].resolved_mono, 230000);
        assert_int_equal(drain(&t, r, 8), 1);
        assert_int_equal(r[0].seq, 2);
        assert_int_equal(r[0].kind, ALERT_TR_RESOLVED);
        assert_int_equal(r[0].state, ALERT_RESOLVED);
        assert_int_equal(r[0].starts_at_wall, WALL0 + 61000);
        assert_int_equal(r[0].ends_at_wall, WALL0 + 230000);
        assert_int_equal(alerttrack_active(&t), 0);
        alerttrack_done(&t);
}

/* Flapping inside keep_firing_for changes nothing; a return after
 * resolving is a new episode with its own `for`. */
static void test_keep_firing_for(void **state)
{
        struct alert_tracker t;
        struct alert_transition r[8];
        struct alert a = life_alert(SEV_WARN, "lag", "s1", 15);

        (void)state;
        alerttrack_init(&t);
        alerttrack_record(&t, true);
        frame(&t, &a, 1, 0 + 1);
        frame(&t, &a, 1, 60001);
        assert_int_equal(drain(&t, r, 8), 1);
        for (int64_t at = 70001; at <= 310001; at += 20000)  /* held 20 s, clear 20 s */
                frame(&t, ((at / 20000) % 2) ? &a : NULL, ((at / 20000) % 2) ? 1 : 0, at);
        assert_int_equal(t.v[0].state, ALERT_FIRING);
        assert_int_equal(t.v[0].fired_mono, 60001);
        assert_int_equal(drain(&t, r, 8), 0);
        /* The last frame above (at 310001) held it; clear from 320000. */
        frame(&t, NULL, 0, 320000);
        frame(&t, NULL, 0, 349999);
        assert_int_equal(drain(&t, r, 8), 0);
        frame(&t, NULL, 0, 350000);
        assert_int_equal(drain(&t, r, 8), 1);
        assert_int_equal(r[0].kind, ALERT_TR_RESOLVED);
        assert_int_equal(r[0].ends_at_wall, WALL0 + 350000);
        /* Back: pending again (a new episode), fires 60 s later. */
        frame(&t, &a, 1, 360000);
        assert_int_equal(t.n, 2);
        assert_int_equal(t.v[0].state, ALERT_PENDING);
        assert_int_equal(t.v[0].since_mono, 360000);
        assert_int_equal(t.v[1].state, ALERT_RESOLVED);
        frame(&t, &a, 1, 420000);
        assert_int_equal(drain(&t, r, 8), 1);
        assert_int_equal(r[0].kind, ALERT_TR_FIRED);
        assert_int_equal(r[0].starts_at_wall, WALL0 + 420000);
        assert_string_equal(r[0].fingerprint, t.v[1].fingerprint);  /* same alert, same id */
        alerttrack_done(&t);
}

/* A source that is down makes its alerts unknown, never resolved; when it
 * is back and the condition still holds, the episode continues. */
static void test_unknown(void **state)
{
        struct alert_tracker t;
        struct alert_transition r[8];
        struct alert lag = life_alert(SEV_WARN, "lag", "s1", 15);
        struct alert pend = life_alert(SEV_WARN, "lag", "s2", 15);
        struct alert down = life_alert(SEV_CRIT, HEALTH_METRIC_STATUS, "", NAN);
        struct alert both[2];
        const struct alert_track *tr;

        (void)state;
        alerttrack_init(&t);
        alerttrack_record(&t, true);
        frame(&t, &lag, 1, 0 + 1);
        frame(&t, &lag, 1, 60001);                      /* s1 fires */
        both[0] = lag;
        both[1] = pend;
        frame(&t, both, 2, 70000);                      /* s2 pending */
        assert_int_equal(drain(&t, r, 8), 1);

        /* Down (the status crit alert, timing of the source: for 0). */
        frame(&t, &down, 1, 80000);
        assert_int_equal(drain(&t, r, 8), 2);
        assert_int_equal(r[0].kind, ALERT_TR_FIRED);    /* the status alert: ordered as listed */
        assert_string_equal(r[0].a.metric, "status");
        assert_int_equal(r[0].sev, SEV_CRIT);
        assert_int_equal(r[1].kind, ALERT_TR_UNKNOWN);
        assert_string_equal(r[1].a.subject, "s1");
        assert_int_equal(r[1].state, ALERT_UNKNOWN);
        assert_int_equal(r[1].starts_at_wall, WALL0 + 60001);
        assert_true(health_alert_down(&down));
        assert_false(health_alert_down(&lag));
        /* Down for an hour: nothing resolves, nothing more is said. */
        for (int64_t at = 90000; at <= 3690000; at += 60000)
                frame(&t, &down, 1, at);
        assert_int_equal(drain(&t, r, 8), 0);
        tr = find(&t, "lag");
        assert_non_null(tr);
        assert_int_equal(alerttrack_active(&t), 3);
        for (size_t i = 0; i < t.n; i++)
                if (strcmp(t.v[i].a.metric, "lag") == 0)
                        assert_int_equal(t.v[i].state, ALERT_UNKNOWN);

        /* Back, s1 still holds, s2 is clear: s1 continues (known, no new
         * fired), s2 (never fired) is dropped, the status alert resolves. */
        frame(&t, &lag, 1, 3700000);
        assert_int_equal(drain(&t, r, 8), 2);
        assert_int_equal(r[0].kind, ALERT_TR_KNOWN);
        assert_string_equal(r[0].a.subject, "s1");
        assert_int_equal(r[0].state, ALERT_FIRING);
        assert_int_equal(r[0].starts_at_wall, WALL0 + 60001);
        assert_int_equal(r[1].kind, ALERT_TR_RESOLVED);
        assert_string_equal(r[1].a.metric, "status");
        tr = find(&t, "lag");
        assert_int_equal(tr->state, ALERT_FIRING);
        assert_int_equal(tr->since_mono, 1);
        assert_int_equal(tr->fired_mono, 60001);
        assert_int_equal(alerttrack_active(&t), 1);

        /* Down again, then back clear: keep_firing_for counts from the
         * first frame it is seen clear, not from the outage. */
        frame(&t, &down, 1, 3800000);
        frame(&t, NULL, 0, 3900000);
        /* Records come in the tracker's order (crit first): status fired,
         * s1 unknown; then status resolved, s1 known. */
        assert_int_equal(drain(&t, r, 8), 4);
        assert_int_equal(r[0].kind, ALERT_TR_FIRED);
        assert_int_equal(r[1].kind, ALERT_TR_UNKNOWN);
        assert_int_equal(r[2].kind, ALERT_TR_RESOLVED);
        assert_int_equal(r[3].kind, ALERT_TR_KNOWN);
        assert_int_equal(r[3].at_mono, 3900000);
        frame(&t, NULL, 0, 3929999);
        assert_int_equal(drain(&t, r, 8), 0);
        frame(&t, NULL, 0, 3930000);
        assert_int_equal(drain(&t, r, 8), 1);
        assert_int_equal(r[0].kind, ALERT_TR_RESOLVED);
        assert_string_equal(r[0].a.subject, "s1");
        alerttrack_done(&t);
}

/* Severity changes of a firing alert are one record each; pending ones
 * say nothing. */
static void test_severity(void **state)
{
        struct alert_tracker t;
        struct alert_transition r[8];
        struct alert a = life_alert(SEV_WARN, "lag", "s1", 15);

        (void)state;
        alerttrack_init(&t);
        alerttrack_record(&t, true);
        frame(&t, &a, 1, 1);
        a.sev = SEV_CRIT;                               /* escalates while pending */
        frame(&t, &a, 1, 30000);
        frame(&t, &a, 1, 60001);
        assert_int_equal(drain(&t, r, 8), 1);
        assert_int_equal(r[0].kind, ALERT_TR_FIRED);
        assert_int_equal(r[0].sev, SEV_CRIT);
        a.sev = SEV_WARN;
        frame(&t, &a, 1, 70000);
        frame(&t, &a, 1, 80000);
        a.sev = SEV_CRIT;
        a.value = 25;
        frame(&t, &a, 1, 90000);
        frame(&t, &a, 1, 100000);
        assert_int_equal(drain(&t, r, 8), 2);
        assert_int_equal(r[0].kind, ALERT_TR_SEVERITY);
        assert_int_equal(r[0].sev, SEV_WARN);
        assert_int_equal(r[0].prev_sev, SEV_CRIT);
        assert_int_equal(r[0].at_mono, 70000);
        assert_int_equal(r[1].kind, ALERT_TR_SEVERITY);
        assert_int_equal(r[1].sev, SEV_CRIT);
        assert_int_equal(r[1].prev_sev, SEV_WARN);
        assert_true(r[1].a.value == 25);
        assert_int_equal(t.v[0].peak, SEV_CRIT);
        alerttrack_done(&t);
}

/* The fingerprint is FNV-1a 64 of env NUL source NUL metric NUL subject
 * NUL, as documented (values computed independently). */
static void test_fingerprint(void **state)
{
        struct alert_tracker t;
        char fp[ALERT_FP_LEN];
        struct alert a = mk(SEV_CRIT, "db", "status", "", NAN);

        (void)state;
        alerttrack_fingerprint("prod", "orders-db", "slot_lag_bytes", "debezium", fp);
        assert_string_equal(fp, "62528259e6d1ad1e");
        alerttrack_fingerprint("", "db", "status", "", fp);
        assert_string_equal(fp, "cc1aa214557b2d15");
        alerttrack_fingerprint("", "d", "bstatus", "", fp);     /* the NULs separate */
        assert_string_not_equal(fp, "cc1aa214557b2d15");
        alerttrack_init(&t);
        frame(&t, &a, 1, 5);                    /* built by hand: no source, env "" */
        assert_string_equal(t.v[0].fingerprint, "cc1aa214557b2d15");
        assert_int_equal(t.v[0].state, ALERT_FIRING);   /* for 0: fires at once */
        assert_int_equal(t.q_n, 0);             /* not recording: nothing queued */
        alerttrack_done(&t);
        assert_string_equal(alert_state_name(ALERT_UNKNOWN), "unknown");
        assert_string_equal(alert_state_name(ALERT_PENDING), "pending");
        assert_string_equal(alert_tr_kind_name(ALERT_TR_SEVERITY), "severity");
}

/* Nobody drains: the queue keeps the newest ALERTTRACK_QUEUE_MAX. */
static void test_queue_bound(void **state)
{
        struct alert_tracker t;
        struct alert_transition r[4];
        struct alert a = mk(SEV_WARN, "db", "x", "", 1);
        size_t n = 0;

        (void)state;
        alerttrack_init(&t);
        alerttrack_record(&t, true);
        /* for 0, keep 0: every on/off pair is a fired and a resolved. */
        for (int64_t at = 1; n < ALERTTRACK_QUEUE_MAX + 10; at += 2, n += 2) {
                frame(&t, &a, 1, at);
                frame(&t, NULL, 0, at + 1);
        }
        assert_int_equal(t.q_n, ALERTTRACK_QUEUE_MAX);
        assert_int_equal(t.dropped, 10);
        assert_int_equal(drain(&t, r, 4), 4);
        assert_int_equal(r[0].seq, 11);
        assert_int_equal(r[3].seq, 14);
        alerttrack_done(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_episodes),
                cmocka_unit_test(test_trend),
                cmocka_unit_test(test_for),
                cmocka_unit_test(test_keep_firing_for),
                cmocka_unit_test(test_unknown),
                cmocka_unit_test(test_severity),
                cmocka_unit_test(test_fingerprint),
                cmocka_unit_test(test_queue_bound),
                };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
