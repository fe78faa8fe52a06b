/*
 * Alerts pane: every active alert across all sources with how long it has
 * been firing, its worst severity this episode, its value and whether it is
 * getting worse; then alerts that cleared in the last ten minutes, dimmed.
 * The Overview shows the worst few through view_alerts_brief(). Episodes
 * come from the UI's alert tracker (src/core/alerttrack.h); rows() and detail()
 * are pure.
 */
#include "views/view.h"
#include "views/alerts.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/util.h"

#define AL_TREND_WINDOW_MS (5 * 60 * 1000)

static const struct column view_alerts_columns[] = {
        [AL_SEV]     = { "SEV",       5, 0, COL_LEFT },
        [AL_SINCE]   = { "SINCE",    10, 0, COL_RIGHT },
        [AL_SOURCE]  = { "SOURCE",   -1, 8, COL_LEFT },
        [AL_SUBJECT] = { "SUBJECT",  -1, 8, COL_LEFT },
        [AL_METRIC]  = { "METRIC",   16, 0, COL_LEFT },
        [AL_VALUE]   = { "VALUE",    10, 0, COL_RIGHT },
        [AL_TREND]   = { "TREND",     8, 0, COL_LEFT },
        [AL_MESSAGE] = { "MESSAGE",  -3, 16, COL_LEFT },
        [AL__COUNT]  = { NULL, 0, 0, COL_LEFT },
};

static enum thr_unit view_alerts_unit(const struct view_data *d, const struct alert *a)
{
        for (size_t i = 0; i < d->n; i++) {
                if (strcmp(d->srcs[i].name, a->source) == 0) {
                        const struct threshold *t = config_threshold(&d->srcs[i], a->metric);
                        return t ? t->def->unit : THR_COUNT;
                }
        }
        return THR_COUNT;
}

void view_alerts_id(const struct alert *a, char *buf, size_t n)
{
        /* Bounded pieces so the id always fits TABLE_ID_MAX. */
        snprintf(buf, n, "%.60s/%.40s/%.55s", a->source, a->metric, a->subject);
}

static const char *view_alerts_trend_glyph(const struct view_data *d, enum alert_trend tr)
{
        const struct glyphs *g = view_glyphs(d->ascii);

        switch (tr) {
        case TREND_WORSE:
                return g->up;
        case TREND_BETTER:
                return g->down;
        case TREND_STEADY:
                return g->flat;
        case TREND_UNKNOWN:
        default:
                return "";
        }
}

void view_alerts_rows(const struct view_data *d, struct table_rows *out)
{
        for (size_t i = 0; d->track && i < d->track->n; i++) {
                const struct alert_track *tr = &d->track->v[i];
                const struct alert *a = &tr->a;
                struct table_row *row = table_rows_add(out);
                bool resolved = tr->resolved_mono != 0;
                enum theme_role role = resolved ? ROLE_DIM : view_sev_role(a->sev);
                enum alert_trend trend = alerttrack_trend(tr, AL_TREND_WINDOW_MS);
                char buf[64];

                view_alerts_id(a, row->id, sizeof row->id);
                if (resolved) {
                        fmt_duration_ms(d->now_mono - tr->resolved_mono, buf, sizeof buf);
                        table_cell_set(row, AL_SEV, ROLE_DIM, "ok");
                        table_cell_set(row, AL_SINCE, ROLE_DIM, "-%s", buf);
                } else {
                        fmt_duration_ms(d->now_mono - tr->since_mono, buf, sizeof buf);
                        table_cell_set(row, AL_SEV, role, "%s", severity_name(a->sev));
                        table_cell_set(row, AL_SINCE, ROLE_DEFAULT, "%s", buf);
                        row->sev = a->sev;
                }
                table_cell_set(row, AL_SOURCE, resolved ? ROLE_DIM : ROLE_DEFAULT, "%s", a->source);
                table_cell_set(row, AL_SUBJECT, resolved ? ROLE_DIM : ROLE_DEFAULT, "%s",
                               a->subject);
                table_cell_set(row, AL_METRIC, ROLE_DIM, "%s", a->metric);
                view_fmt_metric(view_alerts_unit(d, a), a->value, buf, sizeof buf);
                table_cell_set(row, AL_VALUE, resolved ? ROLE_DIM : ROLE_DEFAULT, "%s",
                               isnan(a->value) ? "" : buf);
                if (resolved)
                        table_cell_set(row, AL_TREND, ROLE_DIM, "resolved");
                else
                        table_cell_set(row, AL_TREND,
                                       trend == TREND_WORSE ? ROLE_WARN : ROLE_DEFAULT, "%s %s",
                                       view_alerts_trend_glyph(d, trend),
                                       alerttrack_trend_name(trend));
                table_cell_set(row, AL_MESSAGE, resolved ? ROLE_DIM : ROLE_DEFAULT, "%s",
                               a->message);
        }
}

void view_alerts_detail(const struct view_data *d, const char *id, struct tlines *out)
{
        const struct alert_track *tr = NULL;
        char buf[64], t[64], tid[TABLE_ID_MAX];

        for (size_t i = 0; d->track && i < d->track->n; i++) {
                view_alerts_id(&d->track->v[i].a, tid, sizeof tid);
                if (strcmp(tid, id) == 0) {
                        tr = &d->track->v[i];
                        break;
                }
        }
        if (!tr) {
                tlines_add(out, ROLE_DIM, "this alert is gone (cleared more than 10 minutes ago)");
                return;
        }
        tlines_add(out, view_sev_role(tr->a.sev), "%s", severity_name(tr->a.sev));
        tlines_seg(out, ROLE_TITLE, "  %s", tr->a.message);
        tlines_kv(out, "source", ROLE_DEFAULT, "%s", tr->a.source);
        tlines_kv(out, "subject", ROLE_DEFAULT, "%s", tr->a.subject[0] ? tr->a.subject : "-");
        tlines_kv(out, "metric", ROLE_DEFAULT, "%s", tr->a.metric);
        fmt_rfc3339(tr->since_wall, t, sizeof t);
        fmt_duration_ms(d->now_mono - tr->since_mono, buf, sizeof buf);
        tlines_kv(out, "firing since", ROLE_DEFAULT, "%s", t);
        tlines_seg(out, ROLE_DIM, "  (%s)", buf);
        tlines_kv(out, "worst this episode", view_sev_role(tr->peak), "%s",
                  severity_name(tr->peak));
        if (tr->resolved_mono) {
                fmt_rfc3339(tr->resolved_wall, t, sizeof t);
                tlines_kv(out, "resolved at", ROLE_OK, "%s", t);
        }
        if (!isnan(tr->a.value)) {
                enum thr_unit u = view_alerts_unit(d, &tr->a);
                view_fmt_metric(u, tr->a.value, buf, sizeof buf);
                tlines_kv(out, "value", ROLE_DEFAULT, "%s", buf);
                view_fmt_metric(u, tr->a.threshold, buf, sizeof buf);
                tlines_kv(out, "threshold crossed", ROLE_DEFAULT, "%s", buf);
                tlines_kv(out, "trend (5 min)", ROLE_DEFAULT, "%s",
                          alerttrack_trend_name(alerttrack_trend(tr, AL_TREND_WINDOW_MS)));
                sparkline_ring(&tr->values, 40, d->ascii, buf, sizeof buf);
                tlines_kv(out, "history", ROLE_SPARK, "%s", buf);
        }
}

void view_alerts_brief(const struct view_data *d, size_t max, struct tlines *out)
{
        size_t active = d->track ? alerttrack_active(d->track) : 0, shown = 0;
        char buf[32];

        if (!active) {
                tlines_add(out, ROLE_OK, "No active alerts.");
                return;
        }
        tlines_add(out, ROLE_TITLE, "%zu active alert%s", active, active == 1 ? "" : "s");
        tlines_seg(out, ROLE_DIM, "%s", active > max ? "  (worst first; all on the Alerts pane)" :
                                        "  (worst first)");
        for (size_t i = 0; i < d->track->n && shown < max; i++) {
                const struct alert_track *tr = &d->track->v[i];
                enum alert_trend trend;

                if (tr->resolved_mono)
                        continue;
                trend = alerttrack_trend(tr, AL_TREND_WINDOW_MS);
                fmt_duration_ms(d->now_mono - tr->since_mono, buf, sizeof buf);
                tlines_add(out, view_sev_role(tr->a.sev), " %-4s", severity_name(tr->a.sev));
                tlines_seg(out, ROLE_DIM, " for %-7s", buf);
                tlines_seg(out, ROLE_DEFAULT, " %s: %s", tr->a.source, tr->a.message);
                if (trend == TREND_WORSE || trend == TREND_BETTER)
                        tlines_seg(out, trend == TREND_WORSE ? ROLE_WARN : ROLE_OK, " %s %s",
                                   view_alerts_trend_glyph(d, trend),
                                   alerttrack_trend_name(trend));
                shown++;
        }
}

/* `b` is a global key (src/tui/tui.c): listed here for the footer. */
static const struct view_key view_alerts_keys[] = {
        { 'b', "b", "the runbooks that answer the selected alert (Runbooks pane)", "runbooks" },
        { 0 },
};

const struct view_ops view_alerts_ops = {
        .name = "alerts",
        .title = "Alerts",
        .collector = NULL,
        .columns = view_alerts_columns,
        .rows = view_alerts_rows,
        .detail = view_alerts_detail,
        .detail_help = "alert detail",
        .keys = view_alerts_keys,
        .empty = "no alerts: every threshold is within bounds",
};
