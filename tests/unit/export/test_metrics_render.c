/*
 * test_metrics_render: the whole /metrics document from hand-made
 * snapshots of a fake kind with a metrics hook, at a fixed monotonic time,
 * compared as exact text: a source polled ok (its kind's families, an
 * alert), one down (up 0, a crit alert, no kind families: no data), one
 * never polled (status unknown 1 and nothing else, never a 0), a source
 * name that needs escaping, two identical alerts written once, and the
 * lifecycle extension point (opts->alerts and alert_state adding a state
 * label). Then promtool check metrics on the document.
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
#include "core/promtext.h"
#include "core/snapshot.h"
#include "core/util.h"
#include "export/metrics.h"
#include "tu_promtool.h"

#define NOW_MONO 500000LL

struct fake_data {
        double lag;
};

static void fake_alerts(const struct source_cfg *src, const void *data, struct alert_list *out)
{
        const struct fake_data *d = data;

        health_check(out, src, "lag_bytes", "slot \"a\"", d->lag, NULL);
        /* The same alert again: one series, not a duplicate. */
        health_check(out, src, "lag_bytes", "slot \"a\"", d->lag, NULL);
}

static void fake_metrics(const struct snapshot *s, const struct source_cfg *src,
                         struct promtext *p)
{
        const struct fake_data *d = s->data;

        promtext_declare(p, "lambdaops_fake_lag_bytes", PROMTEXT_GAUGE, "Lag.");
        promtext_add(p, "lambdaops_fake_lag_bytes", d->lag, "source", src->name, NULL);
}

static const struct threshold_def fake_defs[] = {
        { "lag_bytes", THR_BYTES, 1024, 4096, "lag" },
        { NULL, 0, 0, 0, NULL },
};

static struct threshold fake_thr[] = { { &fake_defs[0], 1024, 4096 } };

static const struct collector_ops fake_ops = {
        .name = "fake",
        .thresholds = fake_defs,
        .alerts = fake_alerts,
        .metrics = fake_metrics,
};

static struct source_cfg srcs[3] = {
        { .name = "db \"one\"", .kind = "fake", .ops = &fake_ops, .interval_ms = 1000,
          .timeout_ms = 1000, .thresholds = fake_thr, .n_thresholds = 1 },
        { .name = "db2", .kind = "fake", .ops = &fake_ops, .interval_ms = 1000,
          .timeout_ms = 1000, .thresholds = fake_thr, .n_thresholds = 1 },
        { .name = "db3", .kind = "fake", .ops = &fake_ops, .interval_ms = 1000,
          .timeout_ms = 1000, .thresholds = fake_thr, .n_thresholds = 1 },
};

static struct fake_data data1 = { 5000 };

static void snaps_make(struct snapshot *s)
{
        memset(s, 0, 2 * sizeof *s);
        s[0].src = &srcs[0];
        s[0].status = COLL_OK;
        s[0].collected_at = 1700000000000LL;
        s[0].collected_mono = NOW_MONO - 2500;
        s[0].last_ok_at = 1700000000000LL;
        s[0].poll_ms = 12;
        s[0].seq = 7;
        s[0].data = &data1;
        s[1].src = &srcs[1];
        s[1].status = COLL_DOWN;
        snprintf(s[1].error, sizeof s[1].error, "connection refused");
        s[1].collected_at = 1700000001000LL;
        s[1].collected_mono = NOW_MONO - 500;
        s[1].last_ok_at = 0;
        s[1].poll_ms = 3001;
        s[1].seq = 3;
        s[1].failures = 3;
}

static void test_render(void **state)
{
        struct snapshot s[2];
        const struct snapshot *snaps[3] = { &s[0], &s[1], NULL };
        char out[4096], *text, *v;
        size_t len = 0;
        int rc;

        (void)state;
        snaps_make(s);
        text = metrics_render(snaps, srcs, 3, NOW_MONO, NULL, &len);
        assert_int_equal(len, strlen(text));
        /* The fixture says VERSION where the build's version is. */
        v = strstr(text, "lambdaops_build_info{version=\"" LO_VERSION "\"} 1\n");
        assert_non_null(v);
        v += strlen("lambdaops_build_info{version=\"");
        *v = '\0';
        v = xasprintf("%sVERSION%s", text, v + strlen(LO_VERSION));
        free(text);
        text = v;
        tu_metrics_expect(text, "tests/fixtures/metrics/render.prom");
        rc = tu_promtool_available() ? tu_promtool_check(text, out, sizeof out) : 0;
        if (rc != 0)
                fail_msg("promtool: %s", out);
        free(text);
}

static const char *state_of(void *arg, const struct alert *a)
{
        (void)arg;
        return strcmp(a->source, "db2") == 0 ? "firing" : NULL;
}

/* The lifecycle extension point: the caller's own alert list, and a state
 * label where alert_state gives one. */
static void test_render_alert_states(void **state)
{
        struct snapshot s[2];
        const struct snapshot *snaps[3] = { &s[0], &s[1], NULL };
        struct alert_list al;
        struct alert a = { .sev = SEV_WARN, .value = 1, .threshold = NAN };
        struct metrics_opts o = { .alerts = &al, .alert_state = state_of };
        char *text;

        (void)state;
        snaps_make(s);
        alert_list_init(&al);
        snprintf(a.source, sizeof a.source, "db2");
        snprintf(a.metric, sizeof a.metric, "status");
        alert_list_add(&al, &a);
        snprintf(a.source, sizeof a.source, "db3");
        alert_list_add(&al, &a);
        text = metrics_render(snaps, srcs, 3, NOW_MONO, &o, NULL);
        assert_non_null(strstr(text,
                "# TYPE lambdaops_alert gauge\n"
                "lambdaops_alert{source=\"db2\",metric=\"status\",subject=\"\",severity=\"warn\","
                "state=\"firing\"} 1\n"
                "lambdaops_alert{source=\"db3\",metric=\"status\",subject=\"\","
                "severity=\"warn\"} 1\n"
                "# HELP lambdaops_build_info"));
        alert_list_done(&al);
        free(text);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_render),
                cmocka_unit_test(test_render_alert_states),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
