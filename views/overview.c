/*
 * Overview pane: one row per configured source, whatever its kind --
 * status, the kind's key metric and its sparkline, the age of the data
 * (marked stale past 2x the interval), how long the poll took, the kind's
 * one-line summary and the last error. Enter opens a page with everything
 * the snapshot carries, the source's thresholds and alerts, and a larger
 * history chart. rows() and detail() are pure; see view.h.
 */
#include "views/view.h"
#include "views/common.h"
#include "views/overview.h"
#include "views/alerts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/collector.h"
#include "core/ring.h"
#include "core/util.h"

#define OV_SPARK_W 12

static const struct column view_overview_columns[] = {
        [OV_SOURCE]  = { "SOURCE",     -1, 10, COL_LEFT },
        [OV_KIND]    = { "KIND",        8,  0, COL_LEFT },
        [OV_STATUS]  = { "STATUS",      8,  0, COL_LEFT },
        [OV_METRIC]  = { "KEY METRIC", 10,  0, COL_RIGHT },
        [OV_TREND]   = { "TREND",      OV_SPARK_W, 0, COL_LEFT },
        [OV_AGE]     = { "AGE",         9,  0, COL_RIGHT },
        [OV_POLL]    = { "POLL",        5,  0, COL_RIGHT },
        [OV_SUMMARY] = { "SUMMARY",    -2, 12, COL_LEFT },
        [OV_ERROR]   = { "LAST ERROR", -3, 12, COL_LEFT },
        [OV__COUNT]  = { NULL, 0, 0, COL_LEFT },
};

void view_overview_rows(const struct view_data *d, struct table_rows *out)
{
        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const struct snapshot *s = d->snaps[i];
                const struct collector_ops *ops = src->ops;
                struct table_row *row = table_rows_add(out);
                enum coll_status st = s ? s->status : COLL_UNKNOWN;
                enum theme_role age_role;
                char buf[TABLE_CELL_MAX];

                str_copy(row->id, src->name, sizeof row->id);
                table_cell_set(row, OV_SOURCE, ROLE_DEFAULT, "%s", src->name);
                table_cell_set(row, OV_KIND, ROLE_DIM, "%s", src->kind ? src->kind : "?");
                table_cell_set(row, OV_STATUS, view_status_role(st), "%s", coll_status_name(st));

                view_fmt_metric(ops ? ops->key_metric_unit : THR_COUNT,
                                s ? s->key_value : NAN, buf, sizeof buf);
                table_cell_set(row, OV_METRIC, ROLE_DEFAULT, "%s", buf);
                if (s)
                        common_spark_cell(row, OV_TREND, &s->key_hist, OV_SPARK_W, d->ascii);
                else
                        table_cell_set(row, OV_TREND, ROLE_SPARK, "%s", "");

                view_fmt_age(s, d->now_mono, buf, sizeof buf, &age_role);
                table_cell_set(row, OV_AGE, age_role, "%s", buf);
                row->stale = age_role == ROLE_STALE;

                if (s && s->collected_at)
                        fmt_duration_ms(s->poll_ms, buf, sizeof buf);
                else
                        str_copy(buf, "-", sizeof buf);
                table_cell_set(row, OV_POLL, ROLE_DIM, "%s", buf);

                buf[0] = '\0';
                if (s && s->data && ops && ops->summary)
                        ops->summary(s->data, buf, sizeof buf);
                table_cell_set(row, OV_SUMMARY, ROLE_DEFAULT, "%s", buf);

                if (s && s->error[0])
                        table_cell_set(row, OV_ERROR,
                                       st == COLL_DOWN ? ROLE_CRIT : ROLE_WARN,
                                       "%s", s->error);
                else if (!s)
                        table_cell_set(row, OV_ERROR, ROLE_DIM, "waiting for the first poll");

                row->sev = view_alert_sev(d->alerts, src->name, NULL);
                if (st == COLL_UNKNOWN)
                        row->sev = view_worst(row->sev, SEV_UNKNOWN);
                else if (st == COLL_DOWN)
                        row->sev = SEV_CRIT;
        }
}

static void view_overview_chart(struct tlines *l, const struct ring *r, int width, bool ascii)
{
        double v[RING_CAP];
        size_t n = ring_values(r, v, RING_CAP);

        if (!n) {
                tlines_add(l, ROLE_DIM, "  no samples yet");
                return;
        }
        common_chart(l, v, n, common_chart_width(width, n), 6, ascii, "  ");
}

void view_overview_detail(const struct view_data *d, const char *id, struct tlines *out)
{
        const struct source_cfg *src = NULL;
        const struct snapshot *s = NULL;
        const struct collector_ops *ops;
        enum coll_status st;
        enum theme_role role;
        char buf[256], t[64];

        src = common_source(d, NULL, id, &s);
        if (!src) {
                tlines_add(out, ROLE_WARN, "source %s is no longer configured", id);
                return;
        }
        ops = src->ops;
        st = s ? s->status : COLL_UNKNOWN;
        tlines_add(out, ROLE_TITLE, "%s", src->name);
        tlines_seg(out, ROLE_DIM, "  %s (%s)", ops && ops->title ? ops->title : "",
                   src->kind ? src->kind : "?");

        tlines_kv(out, "status", view_status_role(st), "%s", coll_status_name(st));
        if (s && s->error[0])
                tlines_kv(out, "error", view_status_role(st), "%s", s->error);
        if (s && s->collected_at) {
                fmt_rfc3339(s->collected_at, t, sizeof t);
                view_fmt_age(s, d->now_mono, buf, sizeof buf, &role);
                tlines_kv(out, "collected at", ROLE_DEFAULT, "%s", t);
                tlines_seg(out, role, "  (%s)", buf);
                if (s->last_ok_at) {
                        fmt_rfc3339(s->last_ok_at, t, sizeof t);
                        tlines_kv(out, "last ok at", ROLE_DEFAULT, "%s", t);
                } else {
                        tlines_kv(out, "last ok at", ROLE_DIM, "never");
                }
                fmt_duration_ms(s->poll_ms, buf, sizeof buf);
                tlines_kv(out, "poll took", ROLE_DEFAULT, "%s", buf);
                tlines_kv(out, "polls", ROLE_DEFAULT, "%llu, %d failed in a row",
                          (unsigned long long)s->seq, s->failures);
                fmt_duration_ms(s->next_poll_ms, buf, sizeof buf);
                tlines_kv(out, "next poll in", ROLE_DEFAULT, "%s", buf);
        } else {
                tlines_kv(out, "collected at", ROLE_UNKNOWN, "never (waiting for the first poll)");
        }
        fmt_duration_ms(src->interval_ms, buf, sizeof buf);
        fmt_duration_ms(src->timeout_ms, t, sizeof t);
        tlines_kv(out, "interval / timeout", ROLE_DEFAULT, "%s / %s", buf, t);
        if (ops && ops->key_metric_name) {
                view_fmt_metric(ops->key_metric_unit, s ? s->key_value : NAN, buf, sizeof buf);
                tlines_kv(out, ops->key_metric_name, ROLE_DEFAULT, "%s", buf);
        }
        if (s && s->data && ops && ops->summary) {
                buf[0] = '\0';
                ops->summary(s->data, buf, sizeof buf);
                tlines_kv(out, "summary", ROLE_DEFAULT, "%s", buf);
        }

        if (src->n_thresholds) {
                tlines_add(out, ROLE_DEFAULT, "%s", "");
                tlines_add(out, ROLE_TITLE, "Thresholds");
                for (size_t i = 0; i < src->n_thresholds; i++) {
                        const struct threshold *th = &src->thresholds[i];
                        char w[32], c[32];
                        view_fmt_metric(th->def->unit, th->warn, w, sizeof w);
                        view_fmt_metric(th->def->unit, th->crit, c, sizeof c);
                        tlines_kv(out, th->def->name, ROLE_DEFAULT, "warn %s", w);
                        tlines_seg(out, ROLE_DEFAULT, "  crit %s", c);
                }
        }

        common_alerts(out, d, src->name, NULL);

        if (s) {
                tlines_add(out, ROLE_DEFAULT, "%s", "");
                tlines_add(out, ROLE_TITLE, "%s history",
                           ops && ops->key_metric_name ? ops->key_metric_name : "key metric");
                tlines_seg(out, ROLE_DIM, "  (%zu samples)", s->key_hist.n);
                view_overview_chart(out, &s->key_hist, d->width - 4, d->ascii);
        }
}

/* Above the source table: the worst active alerts, with since and trend. */
static void view_overview_preamble(const struct view_data *d, struct tlines *out)
{
        view_alerts_brief(d, 5, out);
        tlines_add(out, ROLE_DEFAULT, "%s", "");
}

/* `b` is a global key (src/tui/tui.c): listed here for the footer. On a
 * source's row it opens the runbooks answering the source's worst alert. */
static const struct view_key view_overview_keys[] = {
        { 'b', "b", "the runbooks that answer the selected source's worst alert (Runbooks "
          "pane)", "runbooks" },
        { 0 },
};

const struct view_ops view_overview_ops = {
        .name = "overview",
        .title = "Overview",
        .collector = NULL,
        .columns = view_overview_columns,
        .rows = view_overview_rows,
        .preamble = view_overview_preamble,
        .detail = view_overview_detail,
        .detail_help = "source detail",
        .keys = view_overview_keys,
        .empty = "no sources configured (add some under sources: in the config)",
};
