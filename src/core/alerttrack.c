/*
 * alerttrack: episode tracking for alerts. See alerttrack.h. Pure data
 * structure code; the caller supplies the clocks, so tests drive time.
 */
#include "core/alerttrack.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void alerttrack_init(struct alert_tracker *t)
{
        memset(t, 0, sizeof *t);
}

void alerttrack_done(struct alert_tracker *t)
{
        free(t->v);
        memset(t, 0, sizeof *t);
}

static bool alerttrack_same(const struct alert *a, const struct alert *b)
{
        return strcmp(a->source, b->source) == 0 && strcmp(a->metric, b->metric) == 0 &&
               strcmp(a->subject, b->subject) == 0;
}

static int alerttrack_cmp(const void *pa, const void *pb)
{
        const struct alert_track *a = pa, *b = pb;
        bool ra = a->resolved_mono != 0, rb = b->resolved_mono != 0;

        if (ra != rb)
                return ra ? 1 : -1;
        if (ra)         /* resolved: newest first */
                return a->resolved_mono < b->resolved_mono ? 1 :
                       a->resolved_mono > b->resolved_mono ? -1 : 0;
        if (a->a.sev != b->a.sev)
                return a->a.sev == SEV_CRIT ? -1 : b->a.sev == SEV_CRIT ? 1 : 0;
        if (a->since_mono != b->since_mono)
                return a->since_mono < b->since_mono ? -1 : 1;
        return strcmp(a->a.source, b->a.source);
}

void alerttrack_update(struct alert_tracker *t, const struct alert_list *now,
                       int64_t now_mono, int64_t now_wall)
{
        bool *seen = xcalloc(t->n + 1, sizeof *seen);
        size_t old_n = t->n, w = 0;

        for (size_t i = 0; now && i < now->n; i++) {
                const struct alert *a = &now->v[i];
                struct alert_track *tr = NULL;

                for (size_t j = 0; j < old_n; j++) {
                        if (!seen[j] && t->v[j].resolved_mono == 0 &&
                            alerttrack_same(&t->v[j].a, a)) {
                                tr = &t->v[j];
                                seen[j] = true;
                                break;
                        }
                }
                if (!tr) {
                        if (t->n == t->cap) {
                                t->cap = t->cap ? 2 * t->cap : 16;
                                t->v = xrealloc(t->v, t->cap * sizeof *t->v);
                        }
                        tr = &t->v[t->n++];
                        memset(tr, 0, sizeof *tr);
                        ring_init(&tr->values);
                        tr->since_mono = now_mono;
                        tr->since_wall = now_wall;
                        tr->peak = a->sev;
                }
                tr->a = *a;
                if (a->sev == SEV_CRIT)
                        tr->peak = SEV_CRIT;
                /* Frames come at every key press; sample at most every
                 * ALERTTRACK_SAMPLE_MS so the ring spans minutes. */
                if (!isnan(a->value) &&
                    (tr->values.n == 0 ||
                     now_mono - ring_time(&tr->values, tr->values.n - 1) >= ALERTTRACK_SAMPLE_MS))
                        ring_push(&tr->values, now_mono, a->value);
        }
        for (size_t j = 0; j < old_n; j++) {
                if (!seen[j] && t->v[j].resolved_mono == 0) {
                        t->v[j].resolved_mono = now_mono;
                        t->v[j].resolved_wall = now_wall;
                }
        }
        free(seen);
        for (size_t j = 0; j < t->n; j++) {
                if (t->v[j].resolved_mono &&
                    now_mono - t->v[j].resolved_mono > ALERTTRACK_KEEP_MS)
                        continue;
                if (w != j)
                        t->v[w] = t->v[j];
                w++;
        }
        t->n = w;
        if (t->n > 1)
                qsort(t->v, t->n, sizeof *t->v, alerttrack_cmp);
}

enum alert_trend alerttrack_trend(const struct alert_track *a, int64_t window_ms)
{
        double rate, last;

        if (a->values.n < 3)
                return TREND_UNKNOWN;
        rate = ring_rate(&a->values, window_ms);
        last = ring_last(&a->values);
        /* Under 1% of the value per minute counts as steady. */
        if (fabs(rate) * 60.0 < fabs(last) * 0.01 || rate == 0)
                return TREND_STEADY;
        return rate > 0 ? TREND_WORSE : TREND_BETTER;
}

const char *alerttrack_trend_name(enum alert_trend tr)
{
        switch (tr) {
        case TREND_WORSE:
                return "worse";
        case TREND_BETTER:
                return "better";
        case TREND_STEADY:
                return "steady";
        case TREND_UNKNOWN:
        default:
                return "";
        }
}

size_t alerttrack_active(const struct alert_tracker *t)
{
        size_t n = 0;

        for (size_t i = 0; i < t->n; i++)
                if (!t->v[i].resolved_mono)
                        n++;
        return n;
}
