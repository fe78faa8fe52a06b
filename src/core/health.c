/*
 * health: threshold checks and the overall state. Pure; see health.h.
 */
#include "core/health.h"

#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/snapshot.h"
#include "core/util.h"

const char *severity_name(enum severity s)
{
        switch (s) {
        case SEV_OK:
                return "ok";
        case SEV_WARN:
                return "warn";
        case SEV_CRIT:
                return "crit";
        case SEV_UNKNOWN:
        default:
                return "unknown";
        }
}

int severity_exit_code(enum severity s)
{
        switch (s) {
        case SEV_OK:
                return 0;
        case SEV_WARN:
                return 1;
        case SEV_CRIT:
                return 2;
        case SEV_UNKNOWN:
        default:
                return 3;
        }
}

void alert_list_init(struct alert_list *l)
{
        memset(l, 0, sizeof *l);
}

void alert_list_done(struct alert_list *l)
{
        free(l->v);
        memset(l, 0, sizeof *l);
}

void alert_list_add(struct alert_list *l, const struct alert *a)
{
        if (l->n == l->cap) {
                l->cap = l->cap ? 2 * l->cap : 8;
                l->v = xrealloc(l->v, l->cap * sizeof *l->v);
        }
        l->v[l->n++] = *a;
}

void health_fmt_value(enum thr_unit u, double v, char *buf, size_t n)
{
        if (isnan(v)) {
                snprintf(buf, n, "-");
                return;
        }
        switch (u) {
        case THR_BYTES:
                fmt_bytes(v, buf, n);
                break;
        case THR_MS:
                fmt_duration_ms((int64_t)v, buf, n);
                break;
        case THR_RATE:
                snprintf(buf, n, "%.2f/s", v);
                break;
        case THR_COUNT:
        default:
                snprintf(buf, n, "%.0f", v);
                break;
        }
}

static void health_fill(struct alert *a, enum severity sev, const struct source_cfg *src,
                        const char *metric, const char *subject, double value, double thr)
{
        memset(a, 0, sizeof *a);
        a->sev = sev;
        str_copy(a->source, src ? src->name : "", sizeof a->source);
        str_copy(a->metric, metric, sizeof a->metric);
        str_copy(a->subject, subject, sizeof a->subject);
        a->value = value;
        a->threshold = thr;
        a->src = src;
}

enum severity health_level(double value, double warn, double crit, double *limit)
{
        double dummy;

        if (!limit)
                limit = &dummy;
        *limit = NAN;
        if (isnan(value))
                return SEV_OK;
        if (!isnan(crit) && value >= crit) {
                *limit = crit;
                return SEV_CRIT;
        }
        if (!isnan(warn) && value >= warn) {
                *limit = warn;
                return SEV_WARN;
        }
        return SEV_OK;
}

enum severity health_threshold_sev(const struct source_cfg *src, const char *metric,
                                   double value, double *limit)
{
        const struct threshold *t = config_threshold(src, metric);

        if (!t) {
                if (limit)
                        *limit = NAN;
                return SEV_OK;
        }
        return health_level(value, t->warn, t->crit, limit);
}

void health_note(char ***notes, size_t *n_notes, size_t max, size_t len, const char *fmt, ...)
{
        char *buf;
        va_list ap;

        if (max && *n_notes >= max)
                return;
        buf = xmalloc(len);
        va_start(ap, fmt);
        vsnprintf(buf, len, fmt, ap);
        va_end(ap);
        *notes = xrealloc(*notes, (*n_notes + 1) * sizeof **notes);
        (*notes)[(*n_notes)++] = xstrdup(buf);
        free(buf);
}

enum severity health_check(struct alert_list *l, const struct source_cfg *src,
                           const char *metric, const char *subject,
                           double value, const char *what)
{
        const struct threshold *t = config_threshold(src, metric);
        struct alert a;
        enum severity sev;
        double limit;
        char vb[32], lb[32];

        sev = health_threshold_sev(src, metric, value, &limit);
        if (sev == SEV_OK)
                return SEV_OK;
        health_fill(&a, sev, src, metric, subject, value, limit);
        health_fmt_value(t->def->unit, value, vb, sizeof vb);
        health_fmt_value(t->def->unit, limit, lb, sizeof lb);
        if (what)
                snprintf(a.message, sizeof a.message, "%s %s >= %s %s", what, vb,
                         severity_name(sev), lb);
        else
                snprintf(a.message, sizeof a.message, "%s%s%s %s >= %s %s",
                         subject && *subject ? subject : "", subject && *subject ? " " : "",
                         metric, vb, severity_name(sev), lb);
        alert_list_add(l, &a);
        return sev;
}

void health_add(struct alert_list *l, enum severity sev, const struct source_cfg *src,
                const char *metric, const char *subject, double value,
                double threshold, const char *fmt, ...)
{
        struct alert a;
        va_list ap;

        health_fill(&a, sev, src, metric, subject, value, threshold);
        va_start(ap, fmt);
        vsnprintf(a.message, sizeof a.message, fmt, ap);
        va_end(ap);
        alert_list_add(l, &a);
}

void health_eval(const struct snapshot *s, struct alert_list *out)
{
        if (!s)
                return;
        switch (s->status) {
        case COLL_DOWN:
                health_add(out, SEV_CRIT, s->src, HEALTH_METRIC_STATUS, "", NAN, NAN,
                           "%s is down: %s", s->src->name, s->error);
                return;
        case COLL_DEGRADED:
                health_add(out, SEV_WARN, s->src, HEALTH_METRIC_STATUS, "", NAN, NAN,
                           "%s is degraded: %s", s->src->name, s->error);
                break;
        case COLL_UNKNOWN:
        case COLL_OK:
        default:
                break;
        }
        if (s->data && s->src->ops && s->src->ops->alerts)
                s->src->ops->alerts(s->src, s->data, out);
}

bool health_alert_down(const struct alert *a)
{
        return a->sev == SEV_CRIT && strcmp(a->metric, HEALTH_METRIC_STATUS) == 0;
}

enum severity health_overall(const struct snapshot *const *snaps, size_t n,
                             const struct alert_list *alerts)
{
        enum severity worst = SEV_OK;
        bool unknown = false;

        for (size_t i = 0; i < alerts->n; i++)
                if (alerts->v[i].sev == SEV_CRIT)
                        return SEV_CRIT;
                else if (alerts->v[i].sev == SEV_WARN)
                        worst = SEV_WARN;
        for (size_t i = 0; i < n; i++)
                if (!snaps[i] || snaps[i]->status == COLL_UNKNOWN)
                        unknown = true;
        if (unknown)
                return SEV_UNKNOWN;
        return worst;
}
