/*
 * Metrics pane: the Prometheus panels, for every source of kind
 * "prometheus".
 *
 * One row per configured query and series: its value in its unit, a
 * sparkline of its history (backfilled from query_range at start-up, so
 * it is full at once), coloured by the query's warn/crit limits; a query
 * that failed shows its error (e.g. "bad_data: ... parse error ...") in
 * the row while the others go on. Above the table, a line per source and,
 * when the raft metrics are there, the KRaft quorum block: leader, epoch,
 * high watermark, and each voter/observer with its log end offset and lag.
 *
 * rows() and preamble() are pure (see view.h).
 */
#include "views/view.h"
#include "views/common.h"
#include "views/metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/prometheus.h"
#include "core/ring.h"
#include "core/util.h"

#define MV_SPARK_W 16

static const struct column view_metrics_columns[] = {
        [MV_SOURCE] = { "SOURCE",   -1,  8, COL_LEFT },
        [MV_NAME]   = { "SERIES",   -4, 20, COL_LEFT },
        [MV_VALUE]  = { "VALUE",    12,  0, COL_RIGHT },
        [MV_UNIT]   = { "UNIT",      6,  0, COL_LEFT },
        [MV_HIST]   = { "HISTORY",  MV_SPARK_W, 0, COL_LEFT },
        [MV_STATE]  = { "STATE",    -3, 12, COL_LEFT },
        [MV__COUNT] = { NULL, 0, 0, COL_LEFT },
};

/* Latencies keep their precision below a minute ("1.5s", "0.25ms"), where
 * whole seconds would hide a p99 of 1.9 s; longer ones as elsewhere. */
static void view_metrics_fmt_ms(double ms, char *buf, size_t n)
{
        if (fabs(ms) < 1000.0 && ms != floor(ms))
                snprintf(buf, n, "%.3gms", ms);
        else if (fabs(ms) >= 1000.0 && fabs(ms) < 60000.0)
                snprintf(buf, n, "%.3gs", ms / 1000.0);
        else
                view_fmt_metric(THR_MS, ms, buf, n);
}

static void view_metrics_fmt(const char *unit, double v, char *buf, size_t n)
{
        if (isnan(v))
                str_copy(buf, "-", n);
        else if (isinf(v))
                str_copy(buf, v > 0 ? "+Inf" : "-Inf", n);
        else if (strcmp(unit, "bytes") == 0)
                fmt_bytes(v, buf, n);
        else if (strcmp(unit, "ms") == 0 || strcmp(unit, "s") == 0)
                view_metrics_fmt_ms(unit[0] == 's' ? v * 1000.0 : v, buf, n);
        else if (strcmp(unit, "rate") == 0)
                snprintf(buf, n, "%.2f/s", v);
        else if (v == floor(v) && fabs(v) < 1e15)
                snprintf(buf, n, "%.0f", v);
        else
                snprintf(buf, n, "%.3g", v);
}

static enum severity view_metrics_sev(const struct prom_series *s)
{
        if (s->error)
                return SEV_WARN;
        if (!isfinite(s->value))
                return SEV_OK;
        if (!isnan(s->crit) && s->value >= s->crit)
                return SEV_CRIT;
        if (!isnan(s->warn) && s->value >= s->warn)
                return SEV_WARN;
        return SEV_OK;
}

void view_metrics_rows(const struct view_data *d, struct table_rows *out)
{
        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const struct snapshot *s = d->snaps[i];
                const struct prom_data *pd = s ? s->data : NULL;

                if (!common_is_kind(src, "prometheus") || !pd)
                        continue;
                for (size_t j = 0; j < pd->n_series; j++) {
                        const struct prom_series *ps = &pd->series[j];
                        struct table_row *row = table_rows_add(out);
                        enum severity sev = view_metrics_sev(ps);
                        char buf[64];

                        common_row_id(row, src->name, ps->name);
                        table_cell_set(row, MV_SOURCE, ROLE_DEFAULT, "%s", src->name);
                        table_cell_set(row, MV_NAME, ROLE_DEFAULT, "%s", ps->name);
                        view_metrics_fmt(ps->unit, ps->value, buf, sizeof buf);
                        table_cell_set(row, MV_VALUE, view_sev_role(sev), "%s", buf);
                        table_cell_set(row, MV_UNIT, ROLE_DIM, "%s", ps->unit);
                        common_spark_cell(row, MV_HIST, &ps->hist, MV_SPARK_W, d->ascii);
                        if (ps->error)
                                table_cell_set(row, MV_STATE, ROLE_CRIT, "%s", ps->error);
                        else
                                table_cell_set(row, MV_STATE, view_sev_role(sev), "%s",
                                               severity_name(sev));
                        row->sev = view_worst(sev, view_alert_sev(d->alerts, src->name,
                                                                  ps->name));
                        row->stale = snapshot_is_stale(s, d->now_mono) != 0;
                }
        }
}

static void view_metrics_members(struct tlines *out, const char *what, const struct prom_member *m,
                                 size_t n)
{
        for (size_t i = 0; i < n; i++) {
                char id[24], leo[32], lag[32];

                snprintf(id, sizeof id, m[i].id >= 0 ? "%lld" : "?", (long long)m[i].id);
                snprintf(leo, sizeof leo, m[i].log_end_offset >= 0 ? "%lld" : "-",
                         (long long)m[i].log_end_offset);
                snprintf(lag, sizeof lag, m[i].lag >= 0 ? "%lld" : "-", (long long)m[i].lag);
                tlines_add(out, ROLE_DEFAULT, "    %-8s id %-4s %-10s leo %-10s lag %-8s %s",
                           what, id, m[i].state ? m[i].state : "?", leo, lag, m[i].instance);
        }
}

void view_metrics_preamble(const struct view_data *d, struct tlines *out)
{
        size_t n = 0;

        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const struct snapshot *s = d->snaps[i];
                const struct prom_data *pd = s ? s->data : NULL;
                const struct prom_quorum *q;

                if (!common_is_kind(src, "prometheus"))
                        continue;
                n++;
                tlines_add(out, ROLE_TITLE, "%s", src->name);
                if (common_waiting(out, s))
                        continue;
                tlines_seg(out, view_status_role(s->status), "  %s", coll_status_name(s->status));
                if (s->error[0])
                        tlines_seg(out, view_status_role(s->status), ": %s", s->error);
                common_age_seg(out, s, d->now_mono, COMMON_AGE_PREFIX);
                if (!pd || !pd->quorum_asked)
                        continue;
                q = &pd->quorum;
                if (!q->available) {
                        tlines_add(out, ROLE_DIM, "  KRaft quorum: n/a (%s)", q->reason);
                        continue;
                }
                tlines_add(out, ROLE_DEFAULT, "  KRaft quorum (raft metrics): leader %lld  epoch "
                           "%lld  high watermark %lld", (long long)q->leader_id,
                           (long long)q->leader_epoch, (long long)q->high_watermark);
                view_metrics_members(out, "voter", q->voters, q->n_voters);
                view_metrics_members(out, "observer", q->observers, q->n_observers);
        }
        if (!n)
                tlines_add(out, ROLE_DIM, "no prometheus sources configured");
}

const struct view_ops view_metrics_ops = {
        .name = "metrics",
        .title = "Metrics",
        .collector = "prometheus",
        .columns = view_metrics_columns,
        .rows = view_metrics_rows,
        .preamble = view_metrics_preamble,
        .empty = "no Prometheus queries configured (queries: in the source)",
};
