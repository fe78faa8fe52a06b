/*
 * Connect pane: every connector of every `kafka_connect` source, and (`s`)
 * a sub-view of every `schema_registry` source's subjects.
 *
 * Connectors: source, name, type, state (ok RUNNING, warn PAUSED/STOPPED/
 * UNASSIGNED/RESTARTING, crit FAILED), tasks running/total, FAILED tasks
 * (crit: a RUNNING connector with a FAILED task is the classic silent
 * outage), worker, and for Debezium PostgreSQL connectors the slot with its
 * lag. The lag is joined here, at draw time, from the snapshot of the
 * postgres source named by the Connect source's `postgres` key: collectors
 * never read each other's snapshots, the pane has them all. Rows are worst
 * first. Enter opens the connector page: its fields, the linked slot next
 * to the task states ("slot lag <-> connector task state"), the connector
 * trace and every task with its whole trace, scrollable.
 *
 * Subjects (s): source, subject, versions, latest version, schema id, type
 * and compatibility (the subject's own, or the global one marked
 * "(global)" when it inherits). Above: the global level and, when the
 * request cap left details for later polls, a note saying so.
 *
 * rows(), preamble() and detail() are pure (see view.h); draw() only picks
 * the column table of the current sub-view.
 */
#include "views/view.h"
#include "views/common.h"
#include "views/connect.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/kafka_connect.h"
#include "collectors/postgres.h"
#include "collectors/schema_registry.h"
#include "core/util.h"

static const struct column view_connect_columns[] = {
        [CONV_SOURCE] = { "SOURCE",    -1,  8, COL_LEFT },
        [CONV_NAME]   = { "CONNECTOR", -3, 14, COL_LEFT },
        [CONV_TYPE]   = { "TYPE",       6,  0, COL_LEFT },
        [CONV_STATE]  = { "STATE",     10,  0, COL_LEFT },
        [CONV_TASKS]  = { "TASKS",      6,  0, COL_RIGHT },
        [CONV_FAILED] = { "FAILED",     6,  0, COL_RIGHT },
        [CONV_WORKER] = { "WORKER",    -1, 12, COL_LEFT },
        [CONV_SLOT]   = { "SLOT / LAG", -2, 16, COL_LEFT },
        [CONV__COUNT] = { NULL, 0, 0, COL_LEFT },
};

static const struct column view_connect_sr_columns[] = {
        [SRV_SOURCE]   = { "SOURCE",   -1,  8, COL_LEFT },
        [SRV_SUBJECT]  = { "SUBJECT",  -4, 16, COL_LEFT },
        [SRV_VERSIONS] = { "VERSIONS",  8,  0, COL_RIGHT },
        [SRV_LATEST]   = { "LATEST",    6,  0, COL_RIGHT },
        [SRV_ID]       = { "ID",        8,  0, COL_RIGHT },
        [SRV_TYPE]     = { "TYPE",      8,  0, COL_LEFT },
        [SRV_COMPAT]   = { "COMPATIBILITY", -2, 18, COL_LEFT },
        [SRV__COUNT]   = { NULL, 0, 0, COL_LEFT },
};

static const struct kc_data *view_connect_kc(const struct snapshot *s)
{
        return s ? (const struct kc_data *)s->data : NULL;
}

static const struct sr_data *view_connect_sr(const struct snapshot *s)
{
        return s ? (const struct sr_data *)s->data : NULL;
}

static enum severity view_connect_state_sev(const struct source_cfg *src, const char *state)
{
        if (!state)
                return SEV_OK;
        if (strcmp(state, "FAILED") == 0)
                return SEV_CRIT;
        if (strcmp(state, "RUNNING") == 0)
                return SEV_OK;
        return view_threshold_sev(src, "connector_not_running", 1);
}

static enum theme_role view_connect_state_role(const char *state)
{
        if (!state)
                return ROLE_UNKNOWN;
        if (strcmp(state, "RUNNING") == 0)
                return ROLE_OK;
        if (strcmp(state, "FAILED") == 0)
                return ROLE_CRIT;
        return ROLE_WARN;
}

static enum severity view_connect_conn_sev(const struct source_cfg *src,
                                           const struct kc_connector *c)
{
        enum severity s = view_connect_state_sev(src, c->state);
        int unassigned = 0;

        if (c->failed_tasks > 0)
                s = view_worst(s, view_threshold_sev(src, "failed_tasks", c->failed_tasks));
        for (size_t i = 0; i < c->n_tasks; i++)
                unassigned += c->tasks[i].state && strcmp(c->tasks[i].state, "UNASSIGNED") == 0;
        if (unassigned)
                s = view_worst(s, view_threshold_sev(src, "unassigned_tasks", unassigned));
        return s;
}

/* The linked slot: the postgres source (and its snapshot) named by the
 * Connect source, and the slot of the connector in it. */
struct view_connect_link {
        const struct source_cfg *pg_src;        /* NULL when none configured/found */
        const struct snapshot   *pg_snap;
        const struct pg_slot    *slot;          /* NULL when not in the snapshot */
};

static void view_connect_link(const struct view_data *d, const struct kc_data *kd,
                              const struct kc_connector *c, struct view_connect_link *l)
{
        const struct pg_data *pd;

        memset(l, 0, sizeof *l);
        if (!c->debezium_pg || !kd->postgres_source)
                return;
        l->pg_src = common_source(d, "postgres", kd->postgres_source, &l->pg_snap);
        pd = l->pg_snap ? (const struct pg_data *)l->pg_snap->data : NULL;
        for (size_t i = 0; pd && c->slot && i < pd->n_slots; i++)
                if (pd->slots[i].name && strcmp(pd->slots[i].name, c->slot) == 0)
                        l->slot = &pd->slots[i];
}

/* ---- rows ---------------------------------------------------------------- */

static void view_connect_slot_cell(const struct view_data *d, const struct kc_data *kd,
                                   const struct kc_connector *c, struct table_row *row,
                                   enum severity *sev)
{
        struct view_connect_link l;
        char b[32];

        if (!c->debezium_pg) {
                table_cell_set(row, CONV_SLOT, ROLE_DIM, "-");
                return;
        }
        view_connect_link(d, kd, c, &l);
        if (!kd->postgres_source) {
                table_cell_set(row, CONV_SLOT, ROLE_DEFAULT, "%s", c->slot);
        } else if (!l.pg_snap || !l.pg_snap->data) {
                table_cell_set(row, CONV_SLOT, ROLE_DIM, "%s: no data from %s", c->slot,
                               kd->postgres_source);
        } else if (!l.slot) {
                table_cell_set(row, CONV_SLOT, ROLE_WARN, "%s: not in %s", c->slot,
                               kd->postgres_source);
        } else if (!l.slot->has_lag) {
                table_cell_set(row, CONV_SLOT, ROLE_DIM, "%s -", c->slot);
        } else {
                enum severity ls = view_threshold_sev(l.pg_src, "slot_lag_bytes",
                                                      (double)l.slot->lag_bytes);

                fmt_bytes((double)l.slot->lag_bytes, b, sizeof b);
                table_cell_set(row, CONV_SLOT, ls == SEV_OK ? ROLE_DEFAULT : view_sev_role(ls),
                               "%s %s", c->slot, b);
                *sev = view_worst(*sev, ls);
        }
}

static int view_connect_row_cmp(const void *pa, const void *pb)
{
        const struct table_row *a = pa, *b = pb;

        if (a->sev != b->sev)
                return a->sev == SEV_UNKNOWN ? 1 : b->sev == SEV_UNKNOWN ? -1
                                                 : (int)b->sev - (int)a->sev;
        return strcmp(a->id, b->id);
}

static void view_connect_connector_rows(const struct view_data *d, struct table_rows *out)
{
        size_t first = out->n;

        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const struct snapshot *s = d->snaps[i];
                const struct kc_data *kd = view_connect_kc(s);

                if (!common_is_kind(src, "kafka_connect") || !kd)
                        continue;
                for (size_t j = 0; j < kd->n_conns; j++) {
                        const struct kc_connector *c = &kd->conns[j];
                        struct table_row *row = table_rows_add(out);
                        enum severity sev = view_connect_conn_sev(src, c);

                        common_row_id(row, src->name, c->name);
                        table_cell_set(row, CONV_SOURCE, ROLE_DEFAULT, "%s", src->name);
                        table_cell_set(row, CONV_NAME, ROLE_DEFAULT, "%s", c->name);
                        table_cell_set(row, CONV_TYPE, c->type ? ROLE_DEFAULT : ROLE_DIM, "%s",
                                       c->type ? c->type : "-");
                        table_cell_set(row, CONV_STATE, view_connect_state_role(c->state), "%s",
                                       c->state ? c->state : c->error ? "error" : "?");
                        table_cell_set(row, CONV_TASKS, ROLE_DEFAULT, "%d/%zu", c->running_tasks,
                                       c->n_tasks);
                        table_cell_set(row, CONV_FAILED, c->failed_tasks ? ROLE_CRIT : ROLE_DIM,
                                       "%d", c->failed_tasks);
                        table_cell_set(row, CONV_WORKER, ROLE_DEFAULT, "%s",
                                       c->worker ? c->worker : "-");
                        view_connect_slot_cell(d, kd, c, row, &sev);
                        row->sev = view_worst(sev, view_alert_sev(d->alerts, src->name, c->name));
                        row->stale = snapshot_is_stale(s, d->now_mono) != 0;
                }
        }
        if (out->n - first > 1)
                qsort(out->v + first, out->n - first, sizeof *out->v, view_connect_row_cmp);
}

static void view_connect_subject_rows(const struct view_data *d, struct table_rows *out)
{
        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const struct snapshot *s = d->snaps[i];
                const struct sr_data *sd = view_connect_sr(s);

                if (!common_is_kind(src, "schema_registry") || !sd)
                        continue;
                for (size_t j = 0; j < sd->n_subjects; j++) {
                        const struct sr_subject *sj = &sd->subjects[j];
                        struct table_row *row = table_rows_add(out);

                        common_row_id(row, src->name, sj->name);
                        table_cell_set(row, SRV_SOURCE, ROLE_DEFAULT, "%s", src->name);
                        table_cell_set(row, SRV_SUBJECT, ROLE_DEFAULT, "%s", sj->name);
                        if (!sj->known) {
                                table_cell_set(row, SRV_VERSIONS, ROLE_DIM, "-");
                                table_cell_set(row, SRV_COMPAT, ROLE_DIM, "not read yet");
                        } else {
                                table_cell_set(row, SRV_VERSIONS, ROLE_DEFAULT, "%lld",
                                               (long long)sj->versions);
                                table_cell_set(row, SRV_LATEST, ROLE_DEFAULT, "%lld",
                                               (long long)sj->latest_version);
                                table_cell_set(row, SRV_ID, ROLE_DEFAULT, "%lld",
                                               (long long)sj->latest_id);
                                table_cell_set(row, SRV_TYPE, ROLE_DEFAULT, "%s",
                                               sj->type ? sj->type : "-");
                                if (sj->compatibility)
                                        table_cell_set(row, SRV_COMPAT, ROLE_DEFAULT, "%s",
                                                       sj->compatibility);
                                else if (sj->inherited)
                                        table_cell_set(row, SRV_COMPAT, ROLE_DIM, "%s (global)",
                                                       sd->compatibility ? sd->compatibility
                                                                         : "?");
                                else
                                        table_cell_set(row, SRV_COMPAT, ROLE_DIM, "?");
                        }
                        row->stale = snapshot_is_stale(s, d->now_mono) != 0;
                }
        }
}

void view_connect_rows(const struct view_data *d, struct table_rows *out)
{
        if (d->flags & VIEW_CONNECT_F_SR)
                view_connect_subject_rows(d, out);
        else
                view_connect_connector_rows(d, out);
}

/* ---- preamble ------------------------------------------------------------ */

static void view_connect_head(const struct view_data *d, const struct source_cfg *src,
                              const struct snapshot *s, struct tlines *out)
{
        tlines_add(out, ROLE_TITLE, "%s", src->name);
        common_age_seg(out, s, d->now_mono, COMMON_AGE_LABEL);
        if (s && s->status == COLL_DOWN)
                tlines_seg(out, ROLE_CRIT, "  down: %s", s->error);
        else if (s && s->status == COLL_DEGRADED)
                tlines_seg(out, ROLE_WARN, "  degraded: %s", s->error);
}

void view_connect_preamble(const struct view_data *d, struct tlines *out)
{
        bool sr = d->flags & VIEW_CONNECT_F_SR;
        size_t n = 0;

        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const struct snapshot *s = d->snaps[i];

                if (!sr && common_is_kind(src, "kafka_connect")) {
                        const struct kc_data *kd = view_connect_kc(s);
                        char sum[160];

                        n++;
                        view_connect_head(d, src, s, out);
                        if (!kd)
                                continue;
                        tlines_seg(out, ROLE_DEFAULT, "  Connect %s",
                                   kd->version ? kd->version : "?");
                        coll_kafka_connect_ops.summary(kd, sum, sizeof sum);
                        tlines_seg(out, ROLE_DEFAULT, "  %s", sum);
                        if (kd->postgres_source)
                                tlines_seg(out, ROLE_DIM, "  slots from %s", kd->postgres_source);
                        if (!kd->expanded)
                                tlines_seg(out, ROLE_DIM, "  (pre-2.3: per-connector requests)");
                } else if (sr && common_is_kind(src, "schema_registry")) {
                        const struct sr_data *sd = view_connect_sr(s);

                        n++;
                        view_connect_head(d, src, s, out);
                        if (!sd)
                                continue;
                        tlines_seg(out, ROLE_DEFAULT, "  global %s  %zu subjects",
                                   sd->compatibility ? sd->compatibility : "?", sd->n_subjects);
                        if (sd->note[0])
                                tlines_add(out, ROLE_WARN, "  %s", sd->note);
                }
        }
        if (!n)
                tlines_add(out, ROLE_DIM, sr ? "no schema_registry sources configured"
                                             : "no kafka_connect sources configured");
        tlines_add(out, ROLE_PROMPT, sr ? "Schema Registry subjects (s: connectors)"
                                        : "connectors (s: Schema Registry subjects)");
}

/* ---- detail -------------------------------------------------------------- */

/* One trace line per tline, tabs as four spaces, long lines wrapped to the
 * pane width (on UTF-8 boundaries). */
static void view_connect_trace(struct tlines *out, const char *trace, int width,
                               enum theme_role role)
{
        const char *p = trace;
        int w = width - 6;

        if (w < 20)
                w = 20;
        if (w > TSEG_MAX / 2)
                w = TSEG_MAX / 2;
        while (*p) {
                const char *eol = strchr(p, '\n');
                size_t len = eol ? (size_t)(eol - p) : strlen(p);
                char line[TSEG_MAX];
                size_t o = 0, i = 0;

                do {
                        int cells = 0;

                        o = 0;
                        while (i < len && cells < w && o + 5 < sizeof line) {
                                unsigned char ch = (unsigned char)p[i];

                                if (ch == '\t') {
                                        memcpy(line + o, "    ", 4);
                                        o += 4;
                                        cells += 4;
                                        i++;
                                        continue;
                                }
                                line[o++] = ch < 0x20 ? ' ' : (char)ch;
                                i++;
                                while (i < len && ((unsigned char)p[i] & 0xC0) == 0x80 &&
                                       o + 1 < sizeof line)
                                        line[o++] = p[i++];
                                cells++;
                        }
                        line[o] = '\0';
                        tlines_add(out, role, "    %s", line);
                } while (i < len);
                p = eol ? eol + 1 : p + len;
        }
}

static void view_connect_detail_slot(const struct view_data *d, const struct kc_data *kd,
                                     const struct kc_connector *c, struct tlines *out)
{
        struct view_connect_link l;
        char b[32], r[32];

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Debezium slot  <->  tasks");
        tlines_kv(out, "slot", ROLE_DEFAULT, "%s", c->slot);
        tlines_kv(out, "publication", ROLE_DEFAULT, "%s", c->publication);
        tlines_kv(out, "topic prefix", c->topic_prefix ? ROLE_DEFAULT : ROLE_DIM, "%s",
                  c->topic_prefix ? c->topic_prefix : "-");
        view_connect_link(d, kd, c, &l);
        if (!kd->postgres_source) {
                tlines_add(out, ROLE_DIM, "  set `postgres:` on this source to see the slot's lag");
        } else if (!l.pg_snap || !l.pg_snap->data) {
                tlines_add(out, ROLE_WARN, "  no data from postgres source %s%s%s",
                           kd->postgres_source, l.pg_snap && l.pg_snap->error[0] ? ": " : "",
                           l.pg_snap && l.pg_snap->error[0] ? l.pg_snap->error : "");
        } else if (!l.slot) {
                tlines_add(out, ROLE_WARN, "  slot %s is not on %s (dropped? another "
                           "database?)", c->slot, kd->postgres_source);
        } else {
                enum severity ls = l.slot->has_lag
                        ? view_threshold_sev(l.pg_src, "slot_lag_bytes", (double)l.slot->lag_bytes)
                        : SEV_OK;

                if (l.slot->has_lag)
                        fmt_bytes((double)l.slot->lag_bytes, b, sizeof b);
                else
                        str_copy(b, "-", sizeof b);
                if (l.slot->has_retained)
                        fmt_bytes((double)l.slot->retained_bytes, r, sizeof r);
                else
                        str_copy(r, "-", sizeof r);
                tlines_add(out, ROLE_DEFAULT, "  slot %s on %s", c->slot, kd->postgres_source);
                tlines_seg(out, view_sev_role(ls), "  lag %s", b);
                tlines_seg(out, ROLE_DEFAULT, "  retained %s", r);
                tlines_seg(out, l.slot->active ? ROLE_OK : ROLE_WARN, "  %s",
                           l.slot->active ? "active" : "INACTIVE (no consumer)");
                if (l.slot->wal_status)
                        tlines_seg(out, ROLE_DIM, "  wal %s", l.slot->wal_status);
        }
        for (size_t i = 0; i < c->n_tasks; i++)
                tlines_kv(out, "", view_connect_state_role(c->tasks[i].state), "task %d %s",
                          c->tasks[i].id, c->tasks[i].state ? c->tasks[i].state : "?");
}

static void view_connect_detail_connector(const struct view_data *d, const struct source_cfg *src,
                                          const struct kc_data *kd, const char *name,
                                          struct tlines *out)
{
        const struct kc_connector *c = kafka_connect_find(kd, name);

        tlines_add(out, ROLE_TITLE, "Connector %s", name);
        tlines_seg(out, ROLE_DIM, "  on %s", src->name);
        if (!c) {
                tlines_add(out, ROLE_WARN, "  not in the latest data (deleted?)");
                return;
        }
        tlines_kv(out, "state", view_connect_state_role(c->state), "%s", c->state ? c->state : "?");
        if (c->state && strcmp(c->state, "RUNNING") == 0 && c->failed_tasks)
                tlines_seg(out, ROLE_CRIT, "  but %d task(s) FAILED: Connect never restarts "
                           "tasks by itself", c->failed_tasks);
        tlines_kv(out, "type", ROLE_DEFAULT, "%s", c->type ? c->type : "-");
        tlines_kv(out, "class", ROLE_DEFAULT, "%s", c->klass ? c->klass : "-");
        tlines_kv(out, "worker", ROLE_DEFAULT, "%s", c->worker ? c->worker : "-");
        tlines_kv(out, "tasks", ROLE_DEFAULT, "%d running of %zu, %d failed", c->running_tasks,
                  c->n_tasks, c->failed_tasks);
        if (c->error)
                tlines_kv(out, "error", ROLE_WARN, "%s", c->error);
        if (c->debezium_pg)
                view_connect_detail_slot(d, kd, c, out);
        if (c->trace) {
                tlines_add(out, ROLE_DEFAULT, "%s", "");
                tlines_add(out, ROLE_TITLE, "Connector trace");
                view_connect_trace(out, c->trace, d->width, ROLE_CRIT);
        }
        for (size_t i = 0; i < c->n_tasks; i++) {
                const struct kc_task *t = &c->tasks[i];

                tlines_add(out, ROLE_DEFAULT, "%s", "");
                tlines_add(out, ROLE_TITLE, "Task %d", t->id);
                tlines_seg(out, view_connect_state_role(t->state), "  %s",
                           t->state ? t->state : "?");
                tlines_seg(out, ROLE_DIM, "  on %s", t->worker ? t->worker : "?");
                if (t->trace)
                        view_connect_trace(out, t->trace, d->width, ROLE_DEFAULT);
                else
                        tlines_add(out, ROLE_DIM, "    no trace");
        }
        common_alerts(out, d, src->name, c->name);
}

static void view_connect_detail_subject(const struct source_cfg *src, const struct sr_data *sd,
                                        const char *name, struct tlines *out)
{
        const struct sr_subject *sj = NULL;
        char at[40];

        for (size_t i = 0; i < sd->n_subjects && !sj; i++)
                if (strcmp(sd->subjects[i].name, name) == 0)
                        sj = &sd->subjects[i];
        tlines_add(out, ROLE_TITLE, "Subject %s", name);
        tlines_seg(out, ROLE_DIM, "  on %s", src->name);
        if (!sj) {
                tlines_add(out, ROLE_WARN, "  not in the latest data (deleted?)");
                return;
        }
        if (!sj->known) {
                tlines_add(out, ROLE_DIM, "  not read yet (request cap; later polls read it)");
                return;
        }
        tlines_kv(out, "versions", ROLE_DEFAULT, "%lld", (long long)sj->versions);
        tlines_kv(out, "latest version", ROLE_DEFAULT, "%lld", (long long)sj->latest_version);
        tlines_kv(out, "latest schema id", ROLE_DEFAULT, "%lld", (long long)sj->latest_id);
        tlines_kv(out, "type", ROLE_DEFAULT, "%s", sj->type ? sj->type : "-");
        if (sj->compatibility)
                tlines_kv(out, "compatibility", ROLE_DEFAULT, "%s (subject level)",
                          sj->compatibility);
        else
                tlines_kv(out, "compatibility", ROLE_DEFAULT, "%s (inherits global)",
                          sd->compatibility ? sd->compatibility : "?");
        fmt_rfc3339(sj->read_at, at, sizeof at);
        tlines_kv(out, "read at", ROLE_DIM, "%s", at);
}

void view_connect_detail(const struct view_data *d, const char *id, struct tlines *out)
{
        const char *tab = strchr(id, '\t');
        char sname[96];

        if (!tab) {
                tlines_add(out, ROLE_WARN, "no such row");
                return;
        }
        snprintf(sname, sizeof sname, "%.*s", (int)(tab - id), id);
        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const struct snapshot *s = d->snaps[i];

                if (strcmp(src->name, sname) != 0)
                        continue;
                if (common_is_kind(src, "kafka_connect") && view_connect_kc(s)) {
                        view_connect_detail_connector(d, src, view_connect_kc(s), tab + 1, out);
                        return;
                }
                if (common_is_kind(src, "schema_registry") && view_connect_sr(s)) {
                        view_connect_detail_subject(src, view_connect_sr(s), tab + 1, out);
                        return;
                }
                tlines_add(out, ROLE_TITLE, "%s", tab + 1);
                tlines_add(out, ROLE_WARN, "  no data from %s%s%s", sname,
                           s && s->error[0] ? ": " : "", s && s->error[0] ? s->error : "");
                return;
        }
        tlines_add(out, ROLE_WARN, "no such source %s", sname);
}

/* ---- keys and drawing ---------------------------------------------------- */

static int view_connect_key(struct view *v, int ch)
{
        if (ch != 's')
                return VIEW_IGNORED;
        v->flags ^= VIEW_CONNECT_F_SR;
        common_table_reset(v);
        return VIEW_HANDLED | VIEW_REDRAW;
}

/* The generic pane with the column table of the current sub-view. UI
 * thread. */
static void view_connect_draw(struct view *v, struct _win_st *win, const struct rect *r,
                              const struct view_data *d)
{
        if (d->flags & VIEW_CONNECT_F_SR)
                common_draw_columns(v, win, r, d, view_connect_sr_columns,
                                    "no Schema Registry subjects");
        else
                common_draw_columns(v, win, r, d, v->ops->columns, NULL);
}

static const struct view_key view_connect_keys[] = {
        { 's', "s", "toggle: connectors / Schema Registry subjects", "subjects" },
        /* Actions of kafka_connect (collectors/kafka_connect.c), run by the
         * TUI on the selected connector; declared here for footer and help. */
        { 'R', "R", "restart the selected connector and its FAILED tasks (plan, then y)",
          "restart" },
        { 'P', "P", "pause the selected connector (plan, then y)", "pause" },
        { 'U', "U", "resume the selected connector (plan, then y)", "resume" },
        { 0, NULL, NULL, NULL },
};

const struct view_ops view_connect_ops = {
        .name = "connect",
        .title = "Connect",
        .collector = NULL,      /* connectors, subjects and the linked postgres slots */
        .columns = view_connect_columns,
        .rows = view_connect_rows,
        .preamble = view_connect_preamble,
        .detail = view_connect_detail,
        .detail_help = "connector / subject detail",
        .draw = view_connect_draw,
        .key = view_connect_key,
        .keys = view_connect_keys,
        .empty = "no Kafka Connect connectors",
};
