/*
 * Spark pane: SparkApplications of every source of kind "spark".
 *
 * Above the table, a line per source: applications, running (streaming),
 * failed, scheduled, and the age of the data (or the error when it is
 * down), then any notes (an informer that could not sync).
 *
 * The table has one row per application: state in its colour (FAILED,
 * SUBMISSION_FAILED, FAILING crit; PENDING_RERUN, UNKNOWN, INVALIDATING
 * warn; RUNNING, COMPLETED, SUCCEEDING ok; SUBMITTED and new plain),
 * submission attempts, driver pod, executors running/failed, input and
 * processed records/s with sparklines, batch duration, scheduling delay,
 * age and the error (clipped). Failing applications sort first. `s`
 * switches to the ScheduledSparkApplications. Enter opens the application's
 * page: the error message in full, executors, failed jobs and stages from
 * the driver, and a chart of the streaming rates.
 *
 * rows(), preamble() and detail() are pure (see view.h).
 */
#include "views/view.h"
#include "views/common.h"
#include "views/spark.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ring.h"
#include "collectors/spark/spark.h"
#include "core/util.h"

#define SPV_SPARK_W 8
#define SPV_CHART_H 4

static const struct column view_spark_columns[] = {
        [SPV_NS]     = { "NAMESPACE",   -1,  8, COL_LEFT },
        [SPV_NAME]   = { "APPLICATION", -2, 14, COL_LEFT },
        [SPV_STATE]  = { "STATE",       17,  0, COL_LEFT },
        [SPV_ATT]    = { "ATT",          3,  0, COL_RIGHT },
        [SPV_DRIVER] = { "DRIVER",      -2, 10, COL_LEFT },
        [SPV_EXEC]   = { "EXEC R/F",     8,  0, COL_RIGHT },
        [SPV_IN]     = { "IN/S",         7,  0, COL_RIGHT },
        [SPV_IN_H]   = { "",             SPV_SPARK_W, 0, COL_LEFT },
        [SPV_PROC]   = { "PROC/S",       7,  0, COL_RIGHT },
        [SPV_PROC_H] = { "",             SPV_SPARK_W, 0, COL_LEFT },
        [SPV_BATCH]  = { "BATCH",        7,  0, COL_RIGHT },
        [SPV_DELAY]  = { "SCHED DLY",    9,  0, COL_RIGHT },
        [SPV_AGE]    = { "AGE",          6,  0, COL_RIGHT },
        [SPV_ERROR]  = { "ERROR",       -5, 16, COL_LEFT },
        [SPV__COUNT] = { NULL, 0, 0, COL_LEFT },
};

static const struct column view_spark_sched_columns[] = {
        [SPS_NS]       = { "NAMESPACE",    -1,  8, COL_LEFT },
        [SPS_NAME]     = { "SCHEDULED APP", -3, 14, COL_LEFT },
        [SPS_SCHEDULE] = { "SCHEDULE",     -2, 10, COL_LEFT },
        [SPS_STATE]    = { "STATE",        16,  0, COL_LEFT },
        [SPS_SUSPEND]  = { "SUSPEND",       7,  0, COL_LEFT },
        [SPS_LAST]     = { "LAST RUN",     10,  0, COL_RIGHT },
        [SPS_NEXT]     = { "NEXT RUN",     10,  0, COL_RIGHT },
        [SPS_LASTNAME] = { "LAST RUN NAME", -3, 12, COL_LEFT },
        [SPS_REASON]   = { "REASON",       -2, 10, COL_LEFT },
        [SPS__COUNT]   = { NULL, 0, 0, COL_LEFT },
};

static const struct spark_data *view_spark_data(const struct snapshot *s)
{
        return s ? (const struct spark_data *)s->data : NULL;
}

/* 12.3, 4.5k, 1.2M; NAN "-" */
static void view_spark_rate(double v, char *buf, size_t n)
{
        if (isnan(v))
                str_copy(buf, "-", n);
        else if (v < 1000)
                snprintf(buf, n, "%.1f", v);
        else if (v < 1e6)
                snprintf(buf, n, "%.1fk", v / 1e3);
        else
                snprintf(buf, n, "%.1fM", v / 1e6);
}

static void view_spark_ms(double v, char *buf, size_t n)
{
        if (isnan(v))
                str_copy(buf, "-", n);
        else if (v < 1000)
                snprintf(buf, n, "%.0fms", v);
        else if (v < 60000)
                snprintf(buf, n, "%.1fs", v / 1000);
        else
                fmt_duration_ms((int64_t)llround(v), buf, n);
}

static void view_spark_age(int64_t now, int64_t t, char *buf, size_t n)
{
        if (t < 0 || now < 0)
                str_copy(buf, "-", n);
        else
                fmt_duration_ms(now > t ? now - t : 0, buf, n);
}

/* First line of s (errors can be long stack traces). */
static void view_spark_first_line(const char *s, char *buf, size_t n)
{
        size_t k = strcspn(s, "\r\n");

        snprintf(buf, n, "%.*s", (int)(k < n - 1 ? k : n - 1), s);
}

/* ---- rows ---------------------------------------------------------------- */

static void view_spark_app_row(const struct view_data *d, const struct source_cfg *src,
                               const struct snapshot *s, const struct spark_data *sd,
                               const struct spark_app *a, struct table_row *row)
{
        const struct spark_rest *r = &a->rest;
        enum severity sev = spark_state_sev(a->state);
        int xf = a->exec_by_state[SPARK_EX_FAILED];
        char buf[TABLE_CELL_MAX], subj[128];

        spark_row_id(src->name, a->namespace_, a->name, row->id, sizeof row->id);
        snprintf(subj, sizeof subj, "%.63s/%.63s", a->namespace_, a->name);
        table_cell_set(row, SPV_NS, ROLE_DIM, "%s", a->namespace_);
        table_cell_set(row, SPV_NAME, ROLE_DEFAULT, "%s", a->name);
        table_cell_set(row, SPV_STATE, spark_state_role(a->state), "%s",
                       a->state == SPARK_ST_NEW ? "(new)" : a->state_text);
        table_cell_set(row, SPV_ATT, a->submission_attempts > 1 ? ROLE_WARN : ROLE_DEFAULT,
                       "%d", a->submission_attempts);
        table_cell_set(row, SPV_DRIVER, a->driver_pod ? ROLE_DEFAULT : ROLE_DIM, "%s",
                       a->driver_pod ? a->driver_pod : "-");
        table_cell_set(row, SPV_EXEC, xf ? ROLE_WARN : ROLE_DEFAULT, "%d/%d",
                       a->exec_by_state[SPARK_EX_RUNNING], xf);
        if (r->have_streaming) {
                bool behind = a->behind_ms > 0 &&
                              view_threshold_sev(src, "streaming_behind_ms",
                                                 (double)a->behind_ms) != SEV_OK;
                enum severity ds = view_threshold_sev(src, "scheduling_delay_ms",
                                                      r->streaming.sched_delay_ms);

                view_spark_rate(r->streaming.input_rate, buf, sizeof buf);
                table_cell_set(row, SPV_IN, ROLE_DEFAULT, "%s", buf);
                view_spark_rate(r->streaming.processing_rate, buf, sizeof buf);
                table_cell_set(row, SPV_PROC, behind ? ROLE_WARN : ROLE_DEFAULT, "%s", buf);
                view_spark_ms(r->streaming.batch_ms, buf, sizeof buf);
                table_cell_set(row, SPV_BATCH, ROLE_DEFAULT, "%s", buf);
                view_spark_ms(r->streaming.sched_delay_ms, buf, sizeof buf);
                table_cell_set(row, SPV_DELAY, isnan(r->streaming.sched_delay_ms) ? ROLE_DIM
                               : view_sev_role(ds), "%s", buf);
                if (ds != SEV_UNKNOWN)
                        sev = view_worst(sev, ds);
        } else {
                const char *q = r->asked && r->error ? "?" : "-";

                table_cell_set(row, SPV_IN, ROLE_DIM, "%s", q);
                table_cell_set(row, SPV_PROC, ROLE_DIM, "%s", q);
                table_cell_set(row, SPV_BATCH, ROLE_DIM, "%s", q);
                table_cell_set(row, SPV_DELAY, ROLE_DIM, "%s", q);
        }
        common_spark_cell(row, SPV_IN_H, &a->in_hist, SPV_SPARK_W, d->ascii);
        common_spark_cell(row, SPV_PROC_H, &a->proc_hist, SPV_SPARK_W, d->ascii);
        view_spark_age(sd->now, a->created_ms, buf, sizeof buf);
        table_cell_set(row, SPV_AGE, ROLE_DEFAULT, "%s", buf);
        if (a->error) {
                view_spark_first_line(a->error, buf, sizeof buf);
                table_cell_set(row, SPV_ERROR, spark_state_sev(a->state) == SEV_CRIT
                               ? ROLE_CRIT : ROLE_WARN, "%s", buf);
        } else if (r->error) {
                table_cell_set(row, SPV_ERROR, ROLE_WARN, "driver UI: %s", r->error);
        }
        row->sev = view_worst(sev, view_alert_sev(d->alerts, src->name, subj));
        row->stale = snapshot_is_stale(s, d->now_mono) != 0;
}

static void view_spark_sched_row(const struct view_data *d, const struct source_cfg *src,
                                 const struct snapshot *s, const struct spark_data *sd,
                                 const struct spark_sched *c, struct table_row *row)
{
        char buf[64], subj[128];
        bool failed = c->schedule_state && strcmp(c->schedule_state, "FailedValidation") == 0;

        snprintf(row->id, sizeof row->id, "%.63s\tscheduled:%.63s/%s", src->name, c->namespace_,
                 c->name);
        snprintf(subj, sizeof subj, "%.63s/%.63s", c->namespace_, c->name);
        table_cell_set(row, SPS_NS, ROLE_DIM, "%s", c->namespace_);
        table_cell_set(row, SPS_NAME, c->suspend ? ROLE_DIM : ROLE_DEFAULT, "%s", c->name);
        table_cell_set(row, SPS_SCHEDULE, ROLE_DEFAULT, "%s", c->schedule ? c->schedule : "-");
        table_cell_set(row, SPS_STATE, failed ? ROLE_CRIT : c->schedule_state &&
                       strcmp(c->schedule_state, "Scheduled") == 0 ? ROLE_OK : ROLE_DEFAULT,
                       "%s", c->schedule_state && *c->schedule_state ? c->schedule_state
                                                                     : "(new)");
        table_cell_set(row, SPS_SUSPEND, c->suspend ? ROLE_WARN : ROLE_DIM, "%s",
                       c->suspend ? "yes" : "no");
        if (c->last_run_ms >= 0) {
                view_spark_age(sd->now, c->last_run_ms, buf, sizeof buf);
                table_cell_set(row, SPS_LAST, ROLE_DEFAULT, "%s ago", buf);
        } else {
                table_cell_set(row, SPS_LAST, ROLE_DIM, "-");
        }
        if (c->next_run_ms >= 0 && c->next_run_ms >= sd->now) {
                view_spark_age(c->next_run_ms, sd->now, buf, sizeof buf);
                table_cell_set(row, SPS_NEXT, ROLE_DEFAULT, "in %s", buf);
        } else if (c->next_run_ms >= 0) {
                view_spark_age(sd->now, c->next_run_ms, buf, sizeof buf);
                table_cell_set(row, SPS_NEXT, ROLE_WARN, "%s ago", buf);
        } else {
                table_cell_set(row, SPS_NEXT, ROLE_DIM, "-");
        }
        table_cell_set(row, SPS_LASTNAME, ROLE_DEFAULT, "%s",
                       c->last_run_name && *c->last_run_name ? c->last_run_name : "-");
        table_cell_set(row, SPS_REASON, failed ? ROLE_CRIT : ROLE_DIM, "%s",
                       c->reason ? c->reason : "");
        row->sev = view_worst(failed ? SEV_CRIT : SEV_OK,
                              view_alert_sev(d->alerts, src->name, subj));
        row->stale = snapshot_is_stale(s, d->now_mono) != 0;
}

void view_spark_rows(const struct view_data *d, struct table_rows *out)
{
        bool sched = d->flags & VIEW_SPARK_F_SCHEDULED;

        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const struct snapshot *s = d->snaps[i];
                const struct spark_data *sd = view_spark_data(s);

                if (!common_is_kind(src, "spark") || !sd)
                        continue;
                if (sched) {
                        for (size_t j = 0; j < sd->n_scheds; j++)
                                view_spark_sched_row(d, src, s, sd, &sd->scheds[j],
                                                     table_rows_add(out));
                        continue;
                }
                /* failing and warning states first, then the rest; both in
                 * the collector's namespace/name order */
                for (int pass = 0; pass < 2; pass++)
                        for (size_t j = 0; j < sd->n_apps; j++) {
                                const struct spark_app *a = &sd->apps[j];
                                bool bad = spark_state_sev(a->state) != SEV_OK;

                                if (bad == (pass == 0))
                                        view_spark_app_row(d, src, s, sd, a, table_rows_add(out));
                        }
        }
}

/* ---- preamble ------------------------------------------------------------ */

static void view_spark_source_line(const struct view_data *d, const struct source_cfg *src,
                                   const struct snapshot *s, struct tlines *out)
{
        const struct spark_data *sd = view_spark_data(s);
        size_t running = 0, failed = 0, streaming = 0, behind = 0;

        if (!common_source_head(out, d, src, s, sd, COMMON_AGE_BARE))
                return;
        for (size_t i = 0; i < sd->n_apps; i++) {
                const struct spark_app *a = &sd->apps[i];

                running += a->state == SPARK_ST_RUNNING;
                failed += spark_state_sev(a->state) == SEV_CRIT;
                streaming += a->rest.have_streaming;
                behind += a->behind_ms > 0 &&
                          view_threshold_sev(src, "streaming_behind_ms",
                                             (double)a->behind_ms) != SEV_OK;
        }
        tlines_seg(out, ROLE_DEFAULT, "  %zu applications", sd->n_apps);
        tlines_seg(out, running ? ROLE_OK : ROLE_DIM, "  %zu running", running);
        tlines_seg(out, ROLE_DIM, " (%zu streaming)", streaming);
        tlines_seg(out, failed ? ROLE_CRIT : ROLE_OK, "  %zu failed", failed);
        tlines_seg(out, behind ? ROLE_WARN : ROLE_DIM, "  %zu behind", behind);
        tlines_seg(out, ROLE_DEFAULT, "  %zu scheduled", sd->n_scheds);
        common_age_seg(out, s, d->now_mono, COMMON_AGE_PREFIX);
        common_degraded(out, s);
        for (size_t i = 0; i < sd->n_notes; i++)
                tlines_add(out, ROLE_WARN, "  note: %s", sd->notes[i]);
}

void view_spark_preamble(const struct view_data *d, struct tlines *out)
{
        size_t n = 0;

        for (size_t i = 0; i < d->n; i++) {
                if (!common_is_kind(&d->srcs[i], "spark"))
                        continue;
                n++;
                view_spark_source_line(d, &d->srcs[i], d->snaps[i], out);
        }
        if (!n)
                tlines_add(out, ROLE_DIM, "no spark sources configured");
        else
                tlines_add(out, ROLE_DIM, "showing %s (s switches)",
                           d->flags & VIEW_SPARK_F_SCHEDULED ? "ScheduledSparkApplications"
                                                             : "SparkApplications");
}

/* ---- detail -------------------------------------------------------------- */

/* Long text, line by line, in pieces that fit a segment. */
static void view_spark_text(struct tlines *out, enum theme_role role, const char *s)
{
        const size_t piece = 120;

        while (*s) {
                size_t k = strcspn(s, "\r\n");
                const char *e = s + k;

                do {
                        size_t m = (size_t)(e - s) < piece ? (size_t)(e - s) : piece;

                        tlines_add(out, role, "    %.*s", (int)m, s);
                        s += m;
                } while (s < e);
                while (*s == '\r' || *s == '\n')
                        s++;
        }
}

static void view_spark_chart(const struct view_data *d, struct tlines *out, const char *title,
                             const struct ring *r)
{
        double v[RING_CAP];
        size_t n = ring_values(r, v, RING_CAP);
        int w = d->width > 16 ? d->width - 8 : 60;
        char last[32];

        if (w > RING_CAP)
                w = RING_CAP;
        view_spark_rate(ring_last(r), last, sizeof last);
        tlines_add(out, ROLE_DEFAULT, "  %s (now %s/s, %zu polls)", title, last, n);
        if (n)
                common_chart(out, v, n, w, SPV_CHART_H, d->ascii, "    ");
}

static void view_spark_detail_rest(const struct view_data *d, const struct spark_app *a,
                                   struct tlines *out)
{
        const struct spark_rest *r = &a->rest;
        const struct spark_streaming *st = &r->streaming;
        char b1[32], b2[32];

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Driver");
        if (!r->asked) {
                tlines_add(out, ROLE_DIM, "  not RUNNING: the driver's REST API is read for "
                           "running applications only");
                return;
        }
        if (r->error) {
                tlines_add(out, ROLE_WARN, "  unreadable: %s", r->error);
                return;
        }
        if (r->exec_active >= 0)
                tlines_kv(out, "executors", ROLE_DEFAULT, "%d active, %d dead; tasks %d active, "
                          "%d failed, %d completed", r->exec_active, r->exec_dead,
                          r->tasks_active, r->tasks_failed, r->tasks_completed);
        for (size_t i = 0; i < r->n_execs; i++) {
                const struct spark_exec *e = &r->execs[i];

                tlines_add(out, e->active ? ROLE_DEFAULT : ROLE_DIM, "    %-8s %-24s %-6s "
                           "tasks %d active, %d failed, %d done", e->id, e->host ? e->host : "-",
                           e->active ? "active" : "dead", e->active_tasks, e->failed_tasks,
                           e->completed_tasks);
        }
        if (r->failed_jobs >= 0)
                tlines_kv(out, "failed jobs", r->failed_jobs ? ROLE_WARN : ROLE_OK, "%d",
                          r->failed_jobs);
        else
                tlines_kv(out, "failed jobs", ROLE_DIM, "unknown");
        for (size_t i = 0; i < r->n_jobs; i++) {
                fmt_rfc3339_or_dash(r->jobs[i].completed_ms, b1, sizeof b1);
                tlines_add(out, ROLE_WARN, "    job %lld", (long long)r->jobs[i].id);
                tlines_seg(out, ROLE_DEFAULT, "  %s  %d failed tasks  %.160s", b1,
                           r->jobs[i].failed_tasks, r->jobs[i].name ? r->jobs[i].name : "");
        }
        if (r->failed_stages >= 0)
                tlines_kv(out, "failed stages", r->failed_stages ? ROLE_WARN : ROLE_OK, "%d",
                          r->failed_stages);
        else
                tlines_kv(out, "failed stages", ROLE_DIM, "unknown");
        for (size_t i = 0; i < r->n_stages; i++) {
                const struct spark_stage *sg = &r->stages[i];

                fmt_rfc3339_or_dash(sg->completed_ms, b1, sizeof b1);
                tlines_add(out, ROLE_WARN, "    stage %lld.%lld", (long long)sg->id,
                           (long long)sg->attempt);
                tlines_seg(out, ROLE_DEFAULT, "  %s  %.160s", b1, sg->name ? sg->name : "");
                if (sg->failure)
                        view_spark_text(out, ROLE_DIM, sg->failure);
        }

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Streaming");
        if (!r->have_streaming) {
                tlines_add(out, ROLE_DIM, "  none (no Structured Streaming gauges in "
                           "/metrics/json, no DStream statistics)");
                return;
        }
        tlines_kv(out, "kind", ROLE_DEFAULT, "%s", st->kind == SPARK_STREAM_DSTREAM
                  ? "DStream (/streaming/statistics)"
                  : "Structured Streaming (/metrics/json gauges)");
        if (st->queries)
                tlines_kv(out, "queries", ROLE_DEFAULT, "%d", st->queries);
        view_spark_rate(st->input_rate, b1, sizeof b1);
        view_spark_rate(st->processing_rate, b2, sizeof b2);
        tlines_kv(out, "input", ROLE_DEFAULT, "%s records/s", b1);
        tlines_kv(out, "processed", a->behind_ms > 0 ? ROLE_WARN : ROLE_DEFAULT,
                  "%s records/s", b2);
        view_spark_ms(st->batch_ms, b1, sizeof b1);
        tlines_kv(out, "batch duration", ROLE_DEFAULT, "%s", b1);
        view_spark_ms(st->sched_delay_ms, b1, sizeof b1);
        tlines_kv(out, "scheduling delay", ROLE_DEFAULT, "%s", b1);
        if (!isnan(st->proc_time_ms)) {
                view_spark_ms(st->proc_time_ms, b1, sizeof b1);
                tlines_kv(out, "processing time", ROLE_DEFAULT, "%s per batch", b1);
        }
        if (a->behind_ms > 0) {
                fmt_duration_ms(a->behind_ms, b1, sizeof b1);
                tlines_kv(out, "behind input for", ROLE_WARN, "%s", b1);
        }
        view_spark_chart(d, out, "input records/s", &a->in_hist);
        view_spark_chart(d, out, "processed records/s", &a->proc_hist);
}

static void view_spark_detail_app(const struct view_data *d, const struct source_cfg *src,
                                  const struct spark_data *sd, const struct spark_app *a,
                                  struct tlines *out)
{
        char b1[64], b2[64], subj[128];

        snprintf(subj, sizeof subj, "%.63s/%.63s", a->namespace_, a->name);
        tlines_add(out, ROLE_TITLE, "SparkApplication %s", subj);
        tlines_seg(out, ROLE_DIM, "  (%s)", src->name);
        tlines_kv(out, "state", spark_state_role(a->state), "%s",
                  a->state == SPARK_ST_NEW ? "(new: not submitted yet)" : a->state_text);
        tlines_kv(out, "type", ROLE_DEFAULT, "%s", a->type ? a->type : "-");
        tlines_kv(out, "spark app id", ROLE_DEFAULT, "%s", a->app_id ? a->app_id : "-");
        tlines_kv(out, "attempts", a->submission_attempts > 1 ? ROLE_WARN : ROLE_DEFAULT,
                  "%d submission, %d execution", a->submission_attempts,
                  a->execution_attempts);
        tlines_kv(out, "driver pod", ROLE_DEFAULT, "%s", a->driver_pod ? a->driver_pod : "-");
        if (a->ui_service && a->ui_port > 0)
                tlines_kv(out, "driver UI", ROLE_DEFAULT, "service %s:%d", a->ui_service,
                          a->ui_port);
        tlines_kv(out, "executors", a->exec_by_state[SPARK_EX_FAILED] ? ROLE_WARN : ROLE_DEFAULT,
                  "%d running, %d pending, %d completed, %d failed, %d unknown",
                  a->exec_by_state[SPARK_EX_RUNNING], a->exec_by_state[SPARK_EX_PENDING],
                  a->exec_by_state[SPARK_EX_COMPLETED], a->exec_by_state[SPARK_EX_FAILED],
                  a->exec_by_state[SPARK_EX_UNKNOWN]);
        fmt_rfc3339_or_dash(a->submitted_ms, b1, sizeof b1);
        tlines_kv(out, "last submitted", ROLE_DEFAULT, "%s", b1);
        fmt_rfc3339_or_dash(a->terminated_ms, b1, sizeof b1);
        tlines_kv(out, "terminated", ROLE_DEFAULT, "%s", b1);
        view_spark_age(sd->now, a->created_ms, b2, sizeof b2);
        tlines_kv(out, "age", ROLE_DEFAULT, "%s", b2);
        if (a->error) {
                tlines_add(out, ROLE_DEFAULT, "%s", "");
                tlines_add(out, ROLE_TITLE, "Error message");
                view_spark_text(out, spark_state_sev(a->state) == SEV_CRIT ? ROLE_CRIT : ROLE_WARN,
                                a->error);
        }
        view_spark_detail_rest(d, a, out);
        common_alerts(out, d, src->name, subj);
}

static void view_spark_detail_sched(const struct view_data *d, const struct source_cfg *src,
                                    const struct spark_data *sd, const struct spark_sched *c,
                                    struct tlines *out)
{
        char b1[64], subj[128];
        const struct spark_app *last = c->last_run_name
                                       ? spark_find(sd, c->namespace_, c->last_run_name) : NULL;

        snprintf(subj, sizeof subj, "%.63s/%.63s", c->namespace_, c->name);
        tlines_add(out, ROLE_TITLE, "ScheduledSparkApplication %s", subj);
        tlines_seg(out, ROLE_DIM, "  (%s)", src->name);
        tlines_kv(out, "schedule", ROLE_DEFAULT, "%s", c->schedule ? c->schedule : "-");
        tlines_kv(out, "suspend", c->suspend ? ROLE_WARN : ROLE_DEFAULT, "%s",
                  c->suspend ? "yes" : "no");
        tlines_kv(out, "schedule state", c->schedule_state &&
                  strcmp(c->schedule_state, "FailedValidation") == 0 ? ROLE_CRIT : ROLE_DEFAULT,
                  "%s", c->schedule_state && *c->schedule_state ? c->schedule_state : "(new)");
        if (c->reason)
                tlines_kv(out, "reason", ROLE_DEFAULT, "%s", c->reason);
        fmt_rfc3339_or_dash(c->last_run_ms, b1, sizeof b1);
        tlines_kv(out, "last run", ROLE_DEFAULT, "%s", b1);
        fmt_rfc3339_or_dash(c->next_run_ms, b1, sizeof b1);
        tlines_kv(out, "next run", ROLE_DEFAULT, "%s", b1);
        tlines_kv(out, "last run name", ROLE_DEFAULT, "%s",
                  c->last_run_name ? c->last_run_name : "-");
        if (last)
                tlines_kv(out, "last run state", spark_state_role(last->state), "%s",
                          last->state == SPARK_ST_NEW ? "(new)" : last->state_text);
        common_alerts(out, d, src->name, subj);
}

void view_spark_detail(const struct view_data *d, const char *id, struct tlines *out)
{
        const char *tab = strchr(id, '\t'), *key, *slash;
        char sname[64], ns[64];
        bool sched;

        if (!tab) {
                tlines_add(out, ROLE_DIM, "no such application");
                return;
        }
        snprintf(sname, sizeof sname, "%.*s", (int)(tab - id), id);
        key = tab + 1;
        sched = strncmp(key, "scheduled:", 10) == 0;
        if (sched)
                key += 10;
        slash = strchr(key, '/');
        if (!slash) {
                tlines_add(out, ROLE_DIM, "no such application");
                return;
        }
        snprintf(ns, sizeof ns, "%.*s", (int)(slash - key), key);
        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const struct spark_data *sd = view_spark_data(d->snaps[i]);

                if (!common_is_kind(src, "spark") || strcmp(src->name, sname) != 0)
                        continue;
                for (size_t j = 0; sd && sched && j < sd->n_scheds; j++)
                        if (strcmp(sd->scheds[j].namespace_, ns) == 0 &&
                            strcmp(sd->scheds[j].name, slash + 1) == 0) {
                                view_spark_detail_sched(d, src, sd, &sd->scheds[j], out);
                                return;
                        }
                for (size_t j = 0; sd && !sched && j < sd->n_apps; j++)
                        if (strcmp(sd->apps[j].namespace_, ns) == 0 &&
                            strcmp(sd->apps[j].name, slash + 1) == 0) {
                                view_spark_detail_app(d, src, sd, &sd->apps[j], out);
                                return;
                        }
        }
        tlines_add(out, ROLE_DIM, "%s is not in the latest data of %s", key, sname);
}

/* ---- keys and drawing ---------------------------------------------------- */

static int view_spark_key(struct view *v, int ch)
{
        if (ch != 's')
                return VIEW_IGNORED;
        v->flags ^= VIEW_SPARK_F_SCHEDULED;
        common_table_reset(v);
        return VIEW_HANDLED | VIEW_REDRAW;
}

/* The generic pane with the column table of the current sub-view. UI
 * thread. */
static void view_spark_draw(struct view *v, struct _win_st *win, const struct rect *r,
                            const struct view_data *d)
{
        if (d->flags & VIEW_SPARK_F_SCHEDULED)
                common_draw_columns(v, win, r, d, view_spark_sched_columns,
                                    "no ScheduledSparkApplications");
        else
                common_draw_columns(v, win, r, d, v->ops->columns, NULL);
}

static const struct view_key view_spark_keys[] = {
        { 's', "s", "toggle: SparkApplications / ScheduledSparkApplications", "scheduled" },
        { 0, NULL, NULL, NULL },
};

const struct view_ops view_spark_ops = {
        .name = "spark",
        .title = "Spark",
        .collector = "spark",
        .columns = view_spark_columns,
        .rows = view_spark_rows,
        .preamble = view_spark_preamble,
        .detail = view_spark_detail,
        .detail_help = "application detail",
        .draw = view_spark_draw,
        .key = view_spark_key,
        .keys = view_spark_keys,
        .empty = "no SparkApplications",
};
