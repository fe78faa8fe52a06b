/*
 * metrics_render: the /metrics document (metrics.h). The per-source
 * families are written here for every kind alike; each kind adds its own
 * through collector_ops.metrics when its snapshot has data. A source that
 * was never polled has lambdaops_source_status{status="unknown"} 1 and no
 * other sample: an unknown value is no sample, never a 0 that Prometheus
 * would take for a measurement.
 */
#include "export/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/promtext.h"
#include "core/report.h"

static const enum coll_status metrics_statuses[] = {
        COLL_UNKNOWN, COLL_OK, COLL_DEGRADED, COLL_DOWN,
};

static void metrics_declare_common(struct promtext *p)
{
        promtext_declare(p, "lambdaops_build_info", PROMTEXT_GAUGE,
                         "Always 1; the version label says which lambdaops serves these metrics.");
        promtext_declare(p, "lambdaops_source_up", PROMTEXT_GAUGE,
                         "1 when the last poll of the source answered (ok or degraded), 0 when "
                         "it was down; absent before the first poll.");
        promtext_declare(p, "lambdaops_source_status", PROMTEXT_GAUGE,
                         "1 for the source's current collector status, 0 for the others "
                         "(unknown: not polled yet).");
        promtext_declare(p, "lambdaops_source_poll_duration_seconds", PROMTEXT_GAUGE,
                         "How long the last poll of the source took.");
        promtext_declare(p, "lambdaops_source_last_poll_age_seconds", PROMTEXT_GAUGE,
                         "Seconds since the last poll of the source finished, at scrape time.");
        promtext_declare(p, "lambdaops_source_last_success_timestamp_seconds", PROMTEXT_GAUGE,
                         "Unix time of the last poll that answered (ok or degraded).");
        promtext_declare(p, "lambdaops_source_consecutive_failures", PROMTEXT_GAUGE,
                         "Polls of the source that failed in a row (0 after one that answered).");
        promtext_declare(p, "lambdaops_source_polls_total", PROMTEXT_COUNTER,
                         "Polls of the source since lambdaops started.");
        promtext_declare(p, "lambdaops_alert", PROMTEXT_GAUGE,
                         "1 for every alert the health rules raise now (metric: the threshold "
                         "or rule; subject: the slot, group, table... or empty).");
        promtext_declare(p, "lambdaops_metrics_invalid_samples", PROMTEXT_GAUGE,
                         "Samples this render dropped because a name or label was invalid (a "
                         "bug to report; 0 normally).");
}

static void metrics_source(struct promtext *p, const struct snapshot *s,
                           const struct source_cfg *src, int64_t now_mono)
{
        enum coll_status st = s ? s->status : COLL_UNKNOWN;
        const char *name = src->name, *kind = src->kind;

        for (size_t i = 0; i < LO_ARRAY_LEN(metrics_statuses); i++)
                promtext_add(p, "lambdaops_source_status", metrics_statuses[i] == st ? 1 : 0,
                             "source", name, "kind", kind,
                             "status", coll_status_name(metrics_statuses[i]), NULL);
        if (!s || s->collected_at <= 0)
                return;
        promtext_add(p, "lambdaops_source_up", st == COLL_OK || st == COLL_DEGRADED ? 1 : 0,
                     "source", name, "kind", kind, NULL);
        promtext_add(p, "lambdaops_source_poll_duration_seconds", (double)s->poll_ms / 1000.0,
                     "source", name, "kind", kind, NULL);
        promtext_add(p, "lambdaops_source_last_poll_age_seconds",
                     (double)snapshot_age_ms(s, now_mono) / 1000.0, "source", name, "kind", kind,
                     NULL);
        if (s->last_ok_at > 0)
                promtext_add(p, "lambdaops_source_last_success_timestamp_seconds",
                             (double)s->last_ok_at / 1000.0, "source", name, "kind", kind, NULL);
        promtext_add(p, "lambdaops_source_consecutive_failures", (double)s->failures,
                     "source", name, "kind", kind, NULL);
        promtext_add(p, "lambdaops_source_polls_total", (double)s->seq, "source", name,
                     "kind", kind, NULL);
        if (s->data && src->ops && src->ops->metrics)
                src->ops->metrics(s, src, p);
}

/* Alerts ordered by their labels, so that the same alert set always gives
 * the same text and two alerts with the same labels (which would be a
 * duplicate series, refused by Prometheus) give one sample. */
static int metrics_alert_cmp(const void *a, const void *b)
{
        const struct alert *const *x = a, *const *y = b;
        int c = strcmp((*x)->source, (*y)->source);

        if (!c)
                c = strcmp((*x)->metric, (*y)->metric);
        if (!c)
                c = strcmp((*x)->subject, (*y)->subject);
        if (!c)
                c = (int)(*x)->sev - (int)(*y)->sev;
        return c;
}

static void metrics_alerts(struct promtext *p, const struct alert_list *l,
                           const struct metrics_opts *opts)
{
        const struct alert **v = xcalloc(l->n ? l->n : 1, sizeof *v);

        for (size_t i = 0; i < l->n; i++)
                v[i] = &l->v[i];
        qsort(v, l->n, sizeof *v, metrics_alert_cmp);
        for (size_t i = 0; i < l->n; i++) {
                const char *state = NULL;

                if (i > 0 && metrics_alert_cmp(&v[i - 1], &v[i]) == 0)
                        continue;
                if (opts && opts->alert_state)
                        state = opts->alert_state(opts->arg, v[i]);
                if (state)
                        promtext_add(p, "lambdaops_alert", 1, "source", v[i]->source,
                                     "metric", v[i]->metric, "subject", v[i]->subject,
                                     "severity", severity_name(v[i]->sev), "state", state, NULL);
                else
                        promtext_add(p, "lambdaops_alert", 1, "source", v[i]->source,
                                     "metric", v[i]->metric, "subject", v[i]->subject,
                                     "severity", severity_name(v[i]->sev), NULL);
        }
        free(v);
}

char *metrics_render(const struct snapshot *const *snaps, const struct source_cfg *srcs,
                     size_t n, int64_t now_mono, const struct metrics_opts *opts,
                     size_t *len)
{
        struct promtext *p = promtext_new();
        struct alert_list own;
        char *text;

        metrics_declare_common(p);
        promtext_add(p, "lambdaops_build_info", 1, "version", LO_VERSION, NULL);
        for (size_t i = 0; i < n; i++)
                metrics_source(p, snaps[i], &srcs[i], now_mono);
        if (opts && opts->alerts) {
                metrics_alerts(p, opts->alerts, opts);
        } else {
                alert_list_init(&own);
                report_eval(snaps, n, &own);
                metrics_alerts(p, &own, opts);
                alert_list_done(&own);
        }
        promtext_add(p, "lambdaops_metrics_invalid_samples", (double)promtext_errors(p), NULL);
        text = promtext_finish(p, len);
        promtext_free(p);
        return text;
}
