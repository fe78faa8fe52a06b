/*
 * Airflow pane: DAGs of every source of kind "airflow".
 *
 * Above the table, a line per source: Airflow version and API, DAG count,
 * how many last runs failed, failed runs in 24 h, running runs, overdue
 * DAGs and the age of the data (or the error when it is down), then any
 * notes (a DAG whose runs could not be read, the request budget).
 *
 * The table has one row per DAG: schedule, the last run's state in its
 * colour (failed crit, upstream_failed/up_for_retry warn, running/success
 * ok, queued dim; paused DAGs dim), how long ago it started, its duration
 * and a sparkline of the last runs' durations, failed runs in 24 h (by the
 * failed_runs_24h threshold), running/queued runs and lateness (by
 * overdue_s). Failing DAGs sort first. Enter opens the DAG's page: its
 * schedule and next run, the recent runs with states and durations, the
 * failed task instances of the last failed run, and the DAG's alerts.
 *
 * rows(), preamble() and detail() are pure (see view.h).
 */
#include "views/view.h"
#include "views/airflow.h"
#include "views/common.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/airflow/airflow.h"
#include "core/ring.h"
#include "core/util.h"

#define AFV_SPARK_W 10

static const struct column view_airflow_columns[] = {
        [AFV_SOURCE]  = { "SOURCE",    -1,  8, COL_LEFT },
        [AFV_DAG]     = { "DAG",       -4, 16, COL_LEFT },
        [AFV_SCHED]   = { "SCHEDULE",  -2, 10, COL_LEFT },
        [AFV_STATE]   = { "LAST RUN",  15,  0, COL_LEFT },
        [AFV_LAST]    = { "STARTED",    9,  0, COL_RIGHT },
        [AFV_DUR]     = { "DURATION",   9,  0, COL_RIGHT },
        [AFV_TREND]   = { "HISTORY",   AFV_SPARK_W, 0, COL_LEFT },
        [AFV_FAIL24]  = { "FAIL 24H",   8,  0, COL_RIGHT },
        [AFV_RUNNING] = { "RUN/Q",      6,  0, COL_RIGHT },
        [AFV_OVERDUE] = { "OVERDUE",    8,  0, COL_RIGHT },
        [AFV__COUNT]  = { NULL, 0, 0, COL_LEFT },
};

static const struct af_data *view_airflow_data(const struct snapshot *s)
{
        return s ? (const struct af_data *)s->data : NULL;
}

static void view_airflow_ago(int64_t now, int64_t t, char *buf, size_t n)
{
        char d[32];

        if (t < 0) {
                str_copy(buf, "-", n);
                return;
        }
        fmt_duration_ms(now > t ? now - t : 0, d, sizeof d);
        snprintf(buf, n, "%s ago", d);
}

static bool view_airflow_last_failed(const struct af_dag *g)
{
        return g->have_last && airflow_run_state_parse(g->last_run.state) == AF_RUN_FAILED;
}

/* ---- rows ---------------------------------------------------------------- */

static void view_airflow_row(const struct view_data *d, const struct source_cfg *src,
                             const struct snapshot *s, const struct af_data *ad,
                             const struct af_dag *g,
                             struct table_row *row)
{
        enum severity sev = SEV_OK, fs, os;
        char buf[64];

        common_row_id(row, src->name, g->dag_id);
        table_cell_set(row, AFV_SOURCE, ROLE_DEFAULT, "%s", src->name);
        table_cell_set(row, AFV_DAG, g->paused ? ROLE_DIM : ROLE_DEFAULT, "%s%s", g->dag_id,
                       g->paused ? " (paused)" : "");
        table_cell_set(row, AFV_SCHED, ROLE_DIM, "%s", g->schedule ? g->schedule : "-");
        if (g->have_last) {
                const char *st = g->last_run.state ? g->last_run.state : "none";

                table_cell_set(row, AFV_STATE, g->paused ? ROLE_DIM : airflow_state_role(st), "%s",
                               st);
                if (!g->paused)
                        sev = airflow_state_sev(st);
                view_airflow_ago(ad->now, g->last_run.start >= 0 ? g->last_run.start
                                                        : g->last_run.logical_date,
                                 buf, sizeof buf);
                table_cell_set(row, AFV_LAST, ROLE_DEFAULT, "%s", buf);
                fmt_seconds_or_dash(g->last_run.duration_s, buf, sizeof buf);
                table_cell_set(row, AFV_DUR, ROLE_DEFAULT, "%s", buf);
        } else {
                table_cell_set(row, AFV_STATE, ROLE_DIM, "%s", g->runs_read ? "no runs" : "?");
                table_cell_set(row, AFV_LAST, ROLE_DIM, "-");
                table_cell_set(row, AFV_DUR, ROLE_DIM, "-");
        }
        common_spark_cell(row, AFV_TREND, &g->dur_hist, AFV_SPARK_W, d->ascii);
        if (g->runs_read) {
                fs = g->paused ? SEV_OK : view_threshold_sev(src, "failed_runs_24h",
                                                             g->runs_24h[AF_RUN_FAILED]);
                table_cell_set(row, AFV_FAIL24, view_sev_role(fs), "%d",
                               g->runs_24h[AF_RUN_FAILED]);
                table_cell_set(row, AFV_RUNNING, g->running ? ROLE_OK : ROLE_DIM, "%d/%d",
                               g->running, g->queued);
                sev = view_worst(sev, fs);
        } else {
                table_cell_set(row, AFV_FAIL24, ROLE_DIM, "?");
                table_cell_set(row, AFV_RUNNING, ROLE_DIM, "?");
        }
        if (g->overdue_s > 0) {
                os = view_threshold_sev(src, "overdue_s", (double)g->overdue_s);
                fmt_duration_ms(g->overdue_s * 1000, buf, sizeof buf);
                table_cell_set(row, AFV_OVERDUE, view_sev_role(os), "%s", buf);
                sev = view_worst(sev, os);
        } else {
                table_cell_set(row, AFV_OVERDUE, ROLE_DIM, "%s", g->overdue_s == 0 ? "0" : "-");
        }
        row->sev = view_worst(sev, view_alert_sev(d->alerts, src->name, g->dag_id));
        row->stale = snapshot_is_stale(s, d->now_mono) != 0;
}

void view_airflow_rows(const struct view_data *d, struct table_rows *out)
{
        /* Two passes per source: DAGs whose last run failed, then the rest
         * (both by dag_id, as the collector sorts them). */
        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const struct snapshot *s = d->snaps[i];
                const struct af_data *ad = view_airflow_data(s);

                if (!common_is_kind(src, "airflow") || !ad)
                        continue;
                for (int pass = 0; pass < 2; pass++)
                        for (size_t j = 0; j < ad->n_dags; j++) {
                                const struct af_dag *g = &ad->dags[j];
                                bool bad = !g->paused && view_airflow_last_failed(g);

                                if (bad == (pass == 0))
                                        view_airflow_row(d, src, s, ad, g, table_rows_add(out));
                        }
        }
}

/* ---- preamble ------------------------------------------------------------ */

static void view_airflow_source_line(const struct view_data *d, const struct source_cfg *src,
                                     const struct snapshot *s, struct tlines *out)
{
        const struct af_data *ad = view_airflow_data(s);
        int failed = 0, f24 = 0, running = 0, overdue = 0, paused = 0;

        if (!common_source_head(out, d, src, s, ad, COMMON_AGE_BARE))
                return;
        for (size_t i = 0; i < ad->n_dags; i++) {
                const struct af_dag *g = &ad->dags[i];

                paused += g->paused;
                failed += !g->paused && view_airflow_last_failed(g);
                f24 += g->runs_24h[AF_RUN_FAILED];
                running += g->running;
                overdue += g->overdue_s > 0 &&
                           view_threshold_sev(src, "overdue_s", (double)g->overdue_s) != SEV_OK;
        }
        tlines_seg(out, ROLE_DEFAULT, "  Airflow %s (api %s)", ad->version ? ad->version : "?",
                   ad->api == AF_API_V2 ? "v2" : "v1");
        tlines_seg(out, ROLE_DEFAULT, "  %zu DAGs", ad->n_dags);
        if (paused)
                tlines_seg(out, ROLE_DIM, " (%d paused)", paused);
        tlines_seg(out, failed ? ROLE_CRIT : ROLE_OK, "  %d last run failed", failed);
        tlines_seg(out, f24 ? ROLE_WARN : ROLE_DIM, "  %d failed runs 24h", f24);
        tlines_seg(out, running ? ROLE_OK : ROLE_DIM, "  %d running", running);
        tlines_seg(out, overdue ? ROLE_WARN : ROLE_DIM, "  %d overdue", overdue);
        common_age_seg(out, s, d->now_mono, COMMON_AGE_PREFIX);
        for (size_t i = 0; i < ad->n_notes; i++)
                tlines_add(out, ROLE_WARN, "  note: %s", ad->notes[i]);
}

void view_airflow_preamble(const struct view_data *d, struct tlines *out)
{
        size_t n = 0;

        for (size_t i = 0; i < d->n; i++) {
                if (!common_is_kind(&d->srcs[i], "airflow"))
                        continue;
                n++;
                view_airflow_source_line(d, &d->srcs[i], d->snaps[i], out);
        }
        if (!n)
                tlines_add(out, ROLE_DIM, "no airflow sources configured");
}

/* ---- detail -------------------------------------------------------------- */

void view_airflow_detail(const struct view_data *d, const char *id, struct tlines *out)
{
        const char *tab = strchr(id, '\t');
        const struct af_data *ad = NULL;
        const struct source_cfg *src = NULL;
        const struct snapshot *s;
        const struct af_dag *g = NULL;
        char sname[64], buf[64], b2[64], b3[32];

        if (!tab) {
                tlines_add(out, ROLE_DIM, "no such DAG");
                return;
        }
        snprintf(sname, sizeof sname, "%.*s", (int)(tab - id), id);
        src = common_source(d, "airflow", sname, &s);
        ad = view_airflow_data(s);
        for (size_t j = 0; ad && j < ad->n_dags && !g; j++)
                if (strncmp(ad->dags[j].dag_id, tab + 1, 90) == 0 &&
                    strlen(tab + 1) == (strlen(ad->dags[j].dag_id) < 90
                                        ? strlen(ad->dags[j].dag_id) : 90))
                        g = &ad->dags[j];
        if (!g) {
                tlines_add(out, ROLE_DIM, "DAG %s is not in the latest data of %s", tab + 1,
                           sname);
                return;
        }
        tlines_add(out, ROLE_TITLE, "DAG %s", g->dag_id);
        tlines_seg(out, ROLE_DIM, "  (%s)", sname);
        tlines_kv(out, "paused", g->paused ? ROLE_WARN : ROLE_DEFAULT, "%s",
                  g->paused ? "yes" : "no");
        tlines_kv(out, "schedule", ROLE_DEFAULT, "%s", g->schedule ? g->schedule : "none");
        fmt_rfc3339_or_dash(g->next_due, buf, sizeof buf);
        tlines_kv(out, "next run due", ROLE_DEFAULT, "%s", buf);
        if (g->overdue_s > 0) {
                fmt_duration_ms(g->overdue_s * 1000, buf, sizeof buf);
                tlines_kv(out, "overdue", view_sev_role(view_threshold_sev(src, "overdue_s",
                                                                          (double)g->overdue_s)),
                          "%s", buf);
        }
        if (g->import_errors)
                tlines_kv(out, "import errors", ROLE_WARN, "yes");
        if (g->runs_read)
                tlines_kv(out, "runs in 24h", ROLE_DEFAULT, "%d success, %d failed, %d running, "
                          "%d queued", g->runs_24h[AF_RUN_SUCCESS], g->runs_24h[AF_RUN_FAILED],
                          g->runs_24h[AF_RUN_RUNNING], g->runs_24h[AF_RUN_QUEUED]);

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Recent runs");
        if (!g->runs_read)
                tlines_add(out, ROLE_DIM, "  not read this poll (see the notes)");
        else if (!g->n_recent)
                tlines_add(out, ROLE_DIM, "  none");
        else
                tlines_add(out, ROLE_DIM, "  %-16s %-24s %-20s %9s  %s", "STATE", "LOGICAL DATE",
                           "STARTED", "DURATION", "RUN ID");
        for (size_t i = 0; g->runs_read && i < g->n_recent; i++) {
                const struct af_run *r = &g->recent[i];

                fmt_rfc3339_or_dash(r->logical_date, buf, sizeof buf);
                fmt_rfc3339_or_dash(r->start, b2, sizeof b2);
                fmt_seconds_or_dash(r->duration_s, b3, sizeof b3);
                tlines_add(out, airflow_state_role(r->state), "  %-16s",
                           r->state ? r->state : "none");
                tlines_seg(out, ROLE_DEFAULT, " %-24.24s %-20.19s %9s  %s", buf, b2, b3,
                           r->run_id);
        }

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        if (!g->failed_run_id) {
                tlines_add(out, ROLE_TITLE, "Failed tasks");
                tlines_add(out, ROLE_DIM, "  no failed run among the runs read");
        } else {
                tlines_add(out, ROLE_TITLE, "Failed tasks of %s", g->failed_run_id);
                if (!g->tasks_read)
                        tlines_add(out, ROLE_DIM, "  not read (see the notes)");
                else if (!g->n_failed_tasks)
                        tlines_add(out, ROLE_DIM, "  none failed (cleared?)");
                for (size_t i = 0; g->tasks_read && i < g->n_failed_tasks; i++) {
                        const struct af_task *t = &g->failed_tasks[i];

                        fmt_seconds_or_dash(t->duration_s, b3, sizeof b3);
                        tlines_add(out, airflow_state_role(t->state), "  %-16s", t->state);
                        if (t->map_index >= 0)
                                tlines_seg(out, ROLE_DEFAULT, " %s[%d]  try %d  %s", t->task_id,
                                           t->map_index, t->try_number, b3);
                        else
                                tlines_seg(out, ROLE_DEFAULT, " %s  try %d  %s", t->task_id,
                                           t->try_number, b3);
                }
        }

        common_alerts(out, d, sname, g->dag_id);
}

/* Actions of airflow (collectors/airflow/airflow.c), run by the TUI on the selected
 * DAG; declared here for footer and help. */
static const struct view_key view_airflow_keys[] = {
        { 'T', "T", "trigger a run of the selected DAG (conf JSON first, then plan, then y)",
          "trigger" },
        { 'C', "C", "clear the failed tasks of the DAG's last failed run (Airflow's dry run "
          "shown, then y)", "clear" },
        { 'P', "P", "pause the selected DAG (plan, then y)", "pause" },
        { 'U', "U", "unpause the selected DAG (plan, then y)", "unpause" },
        { 0, NULL, NULL, NULL },
};

const struct view_ops view_airflow_ops = {
        .name = "airflow",
        .title = "Airflow",
        .collector = "airflow",
        .columns = view_airflow_columns,
        .rows = view_airflow_rows,
        .preamble = view_airflow_preamble,
        .detail = view_airflow_detail,
        .detail_help = "DAG runs and failed tasks",
        .keys = view_airflow_keys,
        .empty = "no Airflow DAGs (check `dags:` globs)",
};
