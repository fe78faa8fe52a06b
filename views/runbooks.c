/*
 * Runbooks pane: the config's runbooks, suggested first, then the runs of
 * the ledger (see views/runbooks.h; runs started here: src/tui/tui_rbrun.c). Suggestions are computed
 * per frame only while the pane is drawn: alert matching is a few fnmatch
 * calls, and a status document is built only for sources when some
 * runbook has an expression entry. The ledger is a directory scan, so it is
 * read by the draw hook at most every VIEW_RB_REFRESH_MS, never per frame.
 */
#include "views/view.h"
#include "views/runbooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "bringup/expr.h"
#include "core/config.h"
#include "core/report.h"
#include "core/util.h"
#include "runbook/ledger.h"

static const struct column view_runbooks_columns[] = {
        [RB_COL_MARK]    = { "",           9, 0, COL_LEFT },
        [RB_COL_ID]      = { "ID",        -2, 14, COL_LEFT },
        [RB_COL_TITLE]   = { "TITLE",     -3, 12, COL_LEFT },
        [RB_COL_USER]    = { "USER",      10, 0, COL_LEFT },
        [RB_COL_STARTED] = { "STARTED",   20, 0, COL_LEFT },
        [RB_COL_RESULT]  = { "RESULT",    -1, 11, COL_LEFT },
        [RB_COL__COUNT]  = { NULL, 0, 0, COL_LEFT },
};

/* --- state (UI thread) ---------------------------------------------------- */

void view_runbooks_init(struct view_runbooks *st, const struct config *cfg)
{
        struct err err;

        memset(st, 0, sizeof *st);
        err_clear(&err);
        if (runbook_set_load(&st->set, cfg, &err) != 0) {
                str_copy(st->load_error, err.msg[0] ? err.msg : "the runbooks did not load",
                         sizeof st->load_error);
                memset(&st->set, 0, sizeof st->set);
        }
        if (cfg->path && strcmp(cfg->path, "<string>") != 0)
                st->config_path = cfg->path;
}

void view_runbooks_done(struct view_runbooks *st)
{
        runbook_set_done(&st->set);
        cJSON_Delete(st->runs);
        cJSON_Delete(st->records);
        memset(st, 0, sizeof *st);
}

void view_runbooks_set_alert(struct view_runbooks *st, const struct alert *a)
{
        st->alert = *a;
        st->has_alert = true;
}

void view_runbooks_refresh(struct view_runbooks *st, const char *detail_id, int64_t now_mono,
                           bool force)
{
        struct err err;

        if (force || !st->runs || now_mono - st->runs_mono >= VIEW_RB_REFRESH_MS) {
                cJSON *runs;

                err_clear(&err);
                runs = ledger_list(&err);
                st->runs_mono = now_mono;
                if (runs) {
                        cJSON_Delete(st->runs);
                        st->runs = runs;
                        st->runs_error[0] = '\0';
                } else {
                        str_copy(st->runs_error, err.msg, sizeof st->runs_error);
                }
        }
        if (detail_id && strncmp(detail_id, "run:", 4) == 0 &&
            (force || strcmp(st->run_id, detail_id + 4) != 0 ||
             now_mono - st->records_mono >= VIEW_RB_REFRESH_MS)) {
                cJSON_Delete(st->records);
                err_clear(&err);
                st->records_cut = 0;
                st->records = ledger_read(detail_id + 4, &st->records_cut, &err);
                str_copy(st->run_id, detail_id + 4, sizeof st->run_id);
                str_copy(st->records_error, st->records ? "" : err.msg,
                         sizeof st->records_error);
                st->records_mono = now_mono;
        }
}

/* --- matching (pure) ------------------------------------------------------ */

const char *view_runbooks_kind(const struct view_data *d, const char *source)
{
        for (size_t i = 0; i < d->n; i++)
                if (strcmp(d->srcs[i].name, source) == 0)
                        return d->srcs[i].kind ? d->srcs[i].kind : "";
        return "";
}

/* Status documents built on first need, one per source. */
struct rb_docs {
        cJSON **v;
        bool   *built;
        size_t  n;
};

static void rb_docs_init(struct rb_docs *c, const struct view_data *d)
{
        c->n = d->n;
        c->v = xcalloc(d->n ? d->n : 1, sizeof *c->v);
        c->built = xcalloc(d->n ? d->n : 1, sizeof *c->built);
}

static void rb_docs_done(struct rb_docs *c)
{
        for (size_t i = 0; i < c->n; i++)
                cJSON_Delete(c->v[i]);
        free(c->v);
        free(c->built);
}

static const cJSON *rb_doc(struct rb_docs *c, const struct view_data *d, size_t i)
{
        if (!c->built[i]) {
                c->built[i] = true;
                if (d->snaps && d->snaps[i])
                        c->v[i] = report_json_source(d->snaps[i], &d->srcs[i]);
        }
        return c->v[i];
}

static const struct alert *rb_alert_for(const struct view_data *d, const struct runbook *rb)
{
        const struct view_runbooks *st = d->runbooks;

        if (st && st->has_alert &&
            runbook_matches_alert(rb, &st->alert, view_runbooks_kind(d, st->alert.source)))
                return &st->alert;
        for (size_t i = 0; d->track && i < d->track->n; i++) {
                const struct alert *a = &d->track->v[i].a;

                if (d->track->v[i].resolved_mono)
                        continue;
                if (runbook_matches_alert(rb, a, view_runbooks_kind(d, a->source)))
                        return a;
        }
        return NULL;
}

const struct alert *view_runbooks_alert_for(const struct view_data *d, const struct runbook *rb)
{
        return rb_alert_for(d, rb);
}

static bool rb_has_expr(const struct runbook *rb)
{
        for (size_t j = 0; j < rb->n_when; j++)
                if (rb->when[j].expr)
                        return true;
        return false;
}

static bool rb_suggested(const struct view_data *d, const struct runbook *rb, struct rb_docs *c)
{
        /* Active alerts only: a cleared one suggests nothing. */
        for (size_t i = 0; d->track && i < d->track->n; i++) {
                const struct alert *a = &d->track->v[i].a;

                if (!d->track->v[i].resolved_mono &&
                    runbook_matches_alert(rb, a, view_runbooks_kind(d, a->source)))
                        return true;
        }
        if (!rb_has_expr(rb))
                return false;
        for (size_t i = 0; i < d->n; i++) {
                const cJSON *doc = rb_doc(c, d, i);

                if (doc && runbook_matches_status(rb, d->srcs[i].name,
                                                  d->srcs[i].kind ? d->srcs[i].kind : "", doc))
                        return true;
        }
        return false;
}

bool view_runbooks_suggested(const struct view_data *d, const struct runbook *rb)
{
        struct rb_docs c;
        bool r;

        rb_docs_init(&c, d);
        r = rb_suggested(d, rb, &c);
        rb_docs_done(&c);
        return r;
}

/* Only the runbooks answering the pane's alert, when it was opened so. */
static bool rb_filtered(const struct view_data *d)
{
        return d->runbooks && d->runbooks->has_alert && (d->flags & VIEW_RB_F_ALERT);
}

static bool rb_shown(const struct view_data *d, const struct runbook *rb)
{
        const struct view_runbooks *st = d->runbooks;

        return !rb_filtered(d) ||
               runbook_matches_alert(rb, &st->alert, view_runbooks_kind(d, st->alert.source));
}

/* --- the command line ----------------------------------------------------- */

static void rb_cat(char *buf, size_t n, const char *s)
{
        size_t l = strlen(buf);

        if (l + 1 < n)
                str_copy(buf + l, s, n - l);
}

/* Appends s, single-quoted when a shell would read it otherwise. */
static void rb_cat_word(char *buf, size_t n, const char *s)
{
        bool plain = *s != '\0';

        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || strchr("_./:@%+,=-", *p)))
                        plain = false;
        if (plain) {
                rb_cat(buf, n, s);
                return;
        }
        rb_cat(buf, n, "'");
        for (const char *p = s; *p; p++) {
                char one[2] = { *p, '\0' };

                rb_cat(buf, n, *p == '\'' ? "'\\''" : one);
        }
        rb_cat(buf, n, "'");
}

void view_runbooks_command(const struct runbook *rb, const struct alert *a,
                           const char *config_path, char *buf, size_t n)
{
        struct runbook_inputs in;

        memset(&in, 0, sizeof in);
        runbook_inputs_prefill(rb, &in, a);
        buf[0] = '\0';
        rb_cat(buf, n, "lambdaops runbook run ");
        rb_cat_word(buf, n, rb->id);
        for (size_t i = 0; i < rb->n_inputs; i++) {
                const char *name = rb->inputs[i].name, *v = NULL;
                char *kv;

                for (size_t j = 0; j < in.n; j++)
                        if (strcmp(in.names[j], name) == 0)
                                v = in.values[j];
                rb_cat(buf, n, " --input ");
                if (!v) {
                        rb_cat(buf, n, name);
                        rb_cat(buf, n, "=?");
                        continue;
                }
                kv = xasprintf("%s=%s", name, v);
                rb_cat_word(buf, n, kv);
                free(kv);
        }
        if (config_path) {
                rb_cat(buf, n, " --config ");
                rb_cat_word(buf, n, config_path);
        }
        runbook_inputs_done(&in);
}

/* --- rows ------------------------------------------------------------------ */

static const char *rb_jstr(const cJSON *o, const char *key)
{
        const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

        return s ? s : "";
}

static enum theme_role rb_result_role(const char *r)
{
        if (!strcmp(r, "ok"))
                return ROLE_OK;
        if (!strcmp(r, "failed") || !strcmp(r, "aborted"))
                return ROLE_CRIT;
        return ROLE_WARN;
}

void view_runbooks_rows(const struct view_data *d, struct table_rows *out)
{
        const struct view_runbooks *st = d->runbooks;
        struct rb_docs c;
        bool *sug;
        const cJSON *r;

        if (!st)
                return;
        rb_docs_init(&c, d);
        sug = xcalloc(st->set.n ? st->set.n : 1, sizeof *sug);
        for (size_t i = 0; i < st->set.n; i++)
                sug[i] = rb_shown(d, st->set.v[i]) && rb_suggested(d, st->set.v[i], &c);
        /* Suggested first, each group in id order (the set is sorted). */
        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < st->set.n; i++) {
                        const struct runbook *rb = st->set.v[i];
                        struct table_row *row;

                        if (sug[i] != (pass == 0) || !rb_shown(d, rb))
                                continue;
                        row = table_rows_add(out);
                        snprintf(row->id, sizeof row->id, "rb:%.150s", rb->id);
                        table_cell_set(row, RB_COL_MARK, sug[i] ? ROLE_WARN : ROLE_DIM, "%s",
                                       sug[i] ? "suggested" : "runbook");
                        table_cell_set(row, RB_COL_ID, ROLE_DEFAULT, "%s", rb->id);
                        table_cell_set(row, RB_COL_TITLE, ROLE_DEFAULT, "%s", rb->title);
                        row->sev = sug[i] ? SEV_WARN : SEV_OK;
                }
        }
        free(sug);
        rb_docs_done(&c);
        cJSON_ArrayForEach(r, st->runs) {
                const char *book = rb_jstr(r, "runbook"), *target = rb_jstr(r, "target");
                const char *res = rb_jstr(r, "result");
                const struct runbook *rb = runbook_set_find(&st->set, book);
                struct table_row *row;

                if (rb_filtered(d) && (!rb || !rb_shown(d, rb)))
                        continue;
                row = table_rows_add(out);
                snprintf(row->id, sizeof row->id, "run:%.150s", rb_jstr(r, "run"));
                table_cell_set(row, RB_COL_MARK, ROLE_DIM, "run");
                table_cell_set(row, RB_COL_ID, ROLE_DEFAULT, "%s", rb_jstr(r, "run"));
                if (*target)
                        table_cell_set(row, RB_COL_TITLE, ROLE_DEFAULT, "%s on %s", book, target);
                else
                        table_cell_set(row, RB_COL_TITLE, ROLE_DEFAULT, "%s", book);
                table_cell_set(row, RB_COL_USER, ROLE_DEFAULT, "%s", rb_jstr(r, "user"));
                table_cell_set(row, RB_COL_STARTED, ROLE_DEFAULT, "%s", rb_jstr(r, "started"));
                if (*res)
                        table_cell_set(row, RB_COL_RESULT, rb_result_role(res), "%s", res);
                else
                        table_cell_set(row, RB_COL_RESULT, ROLE_WARN, "in progress/interrupted");
        }
}

/* The runbook the command line is for: the selected row's, else the first
 * runbook shown; NULL when a run is selected or nothing is shown. */
static const struct runbook *rb_selected(const struct view_data *d)
{
        const struct view_runbooks *st = d->runbooks;
        struct table_rows rows;
        const struct runbook *rb = NULL;

        if (st->sel_id[0])
                return strncmp(st->sel_id, "rb:", 3) == 0 ?
                       runbook_set_find(&st->set, st->sel_id + 3) : NULL;
        table_rows_init(&rows);
        view_runbooks_rows(d, &rows);
        if (rows.n && strncmp(rows.v[0].id, "rb:", 3) == 0)
                rb = runbook_set_find(&st->set, rows.v[0].id + 3);
        table_rows_done(&rows);
        return rb;
}

void view_runbooks_preamble(const struct view_data *d, struct tlines *out)
{
        const struct view_runbooks *st = d->runbooks;
        const struct runbook *rb;
        char cmd[1024];

        if (!st)
                return;
        if (st->load_error[0])
                tlines_add(out, ROLE_ERROR, "runbooks did not load: %s", st->load_error);
        else if (!st->set.n)
                tlines_add(out, ROLE_DIM, "no runbooks: list their directories under the "
                           "config's `runbooks:` key");
        if (rb_filtered(d)) {
                tlines_add(out, ROLE_TITLE, "answering %s %s%s%s", st->alert.source,
                           st->alert.metric, st->alert.subject[0] ? " " : "", st->alert.subject);
                tlines_seg(out, ROLE_DIM, "  (a: all runbooks)");
        }
        if (st->runs_error[0])
                tlines_add(out, ROLE_ERROR, "runs: %s", st->runs_error);
        rb = rb_selected(d);
        if (rb) {
                view_runbooks_command(rb, rb_alert_for(d, rb), st->config_path, cmd, sizeof cmd);
                tlines_add(out, ROLE_DIM, "run: ");
                tlines_seg(out, ROLE_DEFAULT, "%s", cmd);
        }
        tlines_add(out, ROLE_DIM, "Enter or r on a runbook runs it here; Enter on an "
                   "unfinished run resumes it; or run the command above in a second terminal");
}

/* --- detail --------------------------------------------------------------- */

static void rb_dur(int64_t ms, char *buf, size_t n)
{
        if (ms > 0 && ms % 3600000 == 0)
                snprintf(buf, n, "%lldh", (long long)(ms / 3600000));
        else if (ms > 0 && ms % 60000 == 0)
                snprintf(buf, n, "%lldm", (long long)(ms / 60000));
        else if (ms > 0 && ms % 1000 == 0)
                snprintf(buf, n, "%llds", (long long)(ms / 1000));
        else
                snprintf(buf, n, "%lldms", (long long)ms);
}

/* Multi-line text, one tline per line. */
static void rb_text(struct tlines *out, const char *indent, const char *s)
{
        while (s && *s) {
                const char *nl = strchr(s, '\n');
                int len = nl ? (int)(nl - s) : (int)strlen(s);

                tlines_add(out, ROLE_DEFAULT, "%s%.*s", indent, len, s);
                s = nl ? nl + 1 : NULL;
        }
}

static void rb_detail_step(struct tlines *out, const struct runbook *rb, size_t i)
{
        const struct runbook_step *s = &rb->steps[i];
        char dur[32];

        tlines_add(out, ROLE_DEFAULT, "  %zu. %s", i + 1, s->id);
        tlines_seg(out, ROLE_DIM, "  %s", runbook_step_kind_name(s->kind));
        if (s->title)
                tlines_seg(out, ROLE_DEFAULT, "  %s", s->title);
        switch (s->kind) {
        case RB_STEP_CHECK:
        case RB_STEP_WAIT:
                tlines_add(out, ROLE_DIM, "       on %s: ", s->cond.source ? s->cond.source : "-");
                tlines_seg(out, ROLE_DEFAULT, "%s", expr_text(s->cond.expr));
                if (s->cond.for_ms) {
                        rb_dur(s->cond.for_ms, dur, sizeof dur);
                        tlines_seg(out, ROLE_DIM, " for %s", dur);
                }
                break;
        case RB_STEP_ACTION:
                tlines_add(out, ROLE_DEFAULT, "       %s %s %s%s%s", s->act_source,
                           s->act_action, s->act_target ? s->act_target : "",
                           s->act_arg ? " " : "", s->act_arg ? s->act_arg : "");
                break;
        case RB_STEP_RUN: {
                char line[TSEG_MAX] = "";

                for (size_t k = 0; k < s->n_argv; k++) {
                        if (k)
                                rb_cat(line, sizeof line, " ");
                        rb_cat_word(line, sizeof line, s->argv[k]);
                }
                tlines_add(out, ROLE_DEFAULT, "       %s", line);
                break;
        }
        case RB_STEP_MANUAL:
                rb_text(out, "       ", s->manual);
                break;
        case RB_STEP_CHOOSE:
                for (size_t k = 0; k < s->n_choices; k++)
                        tlines_add(out, ROLE_DEFAULT, "       - %s -> %s", s->choices[k].label,
                                   s->choices[k].go);
                break;
        }
        if (s->mutating)
                tlines_add(out, ROLE_WARN, "       changes something");
}

static void rb_detail_runbook(const struct view_data *d, const struct runbook *rb,
                              struct tlines *out)
{
        const struct view_runbooks *st = d->runbooks;
        const struct alert *a = rb_alert_for(d, rb);
        char cmd[1024];

        tlines_add(out, ROLE_TITLE, "%s", rb->title);
        tlines_kv(out, "id", ROLE_DEFAULT, "%s", rb->id);
        tlines_kv(out, "file", ROLE_DEFAULT, "%s", rb->path);
        tlines_kv(out, "suggested", view_runbooks_suggested(d, rb) ? ROLE_WARN : ROLE_DEFAULT,
                  "%s", view_runbooks_suggested(d, rb) ? "yes" : "no");
        if (a)
                tlines_kv(out, "for the alert", ROLE_DEFAULT, "%s: %s", a->source, a->message);
        if (rb->description) {
                tlines_add(out, ROLE_DEFAULT, "%s", "");
                rb_text(out, "  ", rb->description);
        }
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Run it");
        tlines_seg(out, ROLE_DIM, " here: Enter or r; or in a second terminal:");
        view_runbooks_command(rb, a, st->config_path, cmd, sizeof cmd);
        tlines_add(out, ROLE_DEFAULT, "  %s", cmd);
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Inputs");
        if (!rb->n_inputs)
                tlines_add(out, ROLE_DIM, "  none");
        for (size_t i = 0; i < rb->n_inputs; i++) {
                const struct runbook_input *in = &rb->inputs[i];

                tlines_add(out, ROLE_DEFAULT, "  %s: %s", in->name,
                           runbook_input_type_name(in->type));
                if (in->type == RB_IN_SOURCE && in->kind)
                        tlines_seg(out, ROLE_DEFAULT, " (%s)", in->kind);
                if (in->type == RB_IN_TARGET)
                        tlines_seg(out, ROLE_DEFAULT, " (%s)", runbook_target_name(in->target));
                if (in->def)
                        tlines_seg(out, ROLE_DIM, ", default %s", in->def);
                if (in->from_alert != RB_FROM_NONE)
                        tlines_seg(out, ROLE_DIM, ", from the alert's %s",
                                   in->from_alert == RB_FROM_SOURCE ? "source" :
                                   in->from_alert == RB_FROM_SUBJECT ? "subject" : "metric");
        }
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Steps");
        for (size_t i = 0; i < rb->n_steps; i++)
                rb_detail_step(out, rb, i);
        if (rb->n_verify) {
                tlines_add(out, ROLE_DEFAULT, "%s", "");
                tlines_add(out, ROLE_TITLE, "Verify");
                for (size_t i = 0; i < rb->n_verify; i++) {
                        char dur[32];

                        rb_dur(rb->verify[i].for_ms, dur, sizeof dur);
                        tlines_add(out, ROLE_DEFAULT, "  on %s: %s for %s",
                                   rb->verify[i].source ? rb->verify[i].source : "-",
                                   expr_text(rb->verify[i].expr), dur);
                }
        }
}

static void rb_detail_run(const struct view_runbooks *st, const char *run, struct tlines *out)
{
        const cJSON *r;
        bool ended = false;

        tlines_add(out, ROLE_TITLE, "run %s", run);
        if (!st->records || strcmp(st->run_id, run) != 0) {
                tlines_add(out, st->records_error[0] ? ROLE_ERROR : ROLE_DIM, "%s",
                           st->records_error[0] ? st->records_error : "reading the run...");
                return;
        }
        if (st->records_cut)
                tlines_add(out, ROLE_WARN, "%zu line%s of the ledger could not be read "
                           "(cut by a crash?)", st->records_cut, st->records_cut == 1 ? "" : "s");
        cJSON_ArrayForEach(r, st->records) {
                const char *ev = rb_jstr(r, "ev");

                if (!strcmp(ev, "start")) {
                        tlines_kv(out, "runbook", ROLE_DEFAULT, "%s", rb_jstr(r, "runbook"));
                        tlines_kv(out, "target", ROLE_DEFAULT, "%s", rb_jstr(r, "target"));
                        tlines_kv(out, "user", ROLE_DEFAULT, "%s", rb_jstr(r, "user"));
                        tlines_kv(out, "started", ROLE_DEFAULT, "%s", rb_jstr(r, "at"));
                        tlines_add(out, ROLE_DEFAULT, "%s", "");
                        tlines_add(out, ROLE_TITLE, "Steps");
                } else if (!strcmp(ev, "step")) {
                        const char *phase = rb_jstr(r, "phase"), *res = rb_jstr(r, "result");
                        const char *e = rb_jstr(r, "error");

                        if (strcmp(phase, "end") != 0)
                                continue;
                        tlines_add(out, ROLE_DEFAULT, "  %s", rb_jstr(r, "step"));
                        tlines_seg(out, ROLE_DIM, "  %s", rb_jstr(r, "kind"));
                        tlines_seg(out, rb_result_role(res), "  %s", res);
                        tlines_seg(out, ROLE_DIM, "  %s", rb_jstr(r, "at"));
                        if (*e)
                                tlines_add(out, ROLE_ERROR, "      %s", e);
                } else if (!strcmp(ev, "choice")) {
                        tlines_add(out, ROLE_DEFAULT, "  %s", rb_jstr(r, "step"));
                        tlines_seg(out, ROLE_DIM, "  chose: %s", rb_jstr(r, "label"));
                } else if (!strcmp(ev, "end")) {
                        const char *res = rb_jstr(r, "result");

                        ended = true;
                        tlines_add(out, ROLE_DEFAULT, "%s", "");
                        tlines_add(out, ROLE_DEFAULT, "result: ");
                        tlines_seg(out, rb_result_role(res), "%s", res);
                        tlines_seg(out, ROLE_DIM, "  at %s", rb_jstr(r, "at"));
                }
        }
        if (!ended) {
                tlines_add(out, ROLE_DEFAULT, "%s", "");
                tlines_add(out, ROLE_WARN, "in progress, or interrupted: ");
                tlines_seg(out, ROLE_DEFAULT, "Enter on its row resumes it here, or "
                           "lambdaops runbook resume %s", run);
        }
}

void view_runbooks_detail(const struct view_data *d, const char *id, struct tlines *out)
{
        const struct view_runbooks *st = d->runbooks;

        if (!st)
                return;
        if (strncmp(id, "rb:", 3) == 0) {
                const struct runbook *rb = runbook_set_find(&st->set, id + 3);

                if (rb)
                        rb_detail_runbook(d, rb, out);
                else
                        tlines_add(out, ROLE_DIM, "this runbook is gone");
        } else if (strncmp(id, "run:", 4) == 0) {
                rb_detail_run(st, id + 4, out);
        }
}

/* --- the pane ------------------------------------------------------------- */

static void view_runbooks_draw(struct view *v, struct _win_st *win, const struct rect *r,
                               const struct view_data *d)
{
        struct view_runbooks *st = d->runbooks;

        if (st) {
                str_copy(st->sel_id, v->sel_id, sizeof st->sel_id);
                view_runbooks_refresh(st, v->detail ? v->detail_id : NULL, d->now_mono, false);
        }
        view_draw_generic(v, win, r, d);
}

static int view_runbooks_key(struct view *v, int ch)
{
        if (ch == 'a' && (v->flags & VIEW_RB_F_ALERT)) {
                v->flags &= ~VIEW_RB_F_ALERT;
                return VIEW_HANDLED | VIEW_REDRAW;
        }
        return VIEW_IGNORED;
}

/* Enter and r are handled by the console (src/tui/tui_rbrun.c). */
static const struct view_key view_runbooks_keys[] = {
        { 'r', "r/Enter", "on a runbook: its input form, then the run view; Enter on an "
          "unfinished run: resume it here; on the console's own run: its run view", NULL },
        { 'd', "d", "the selected runbook's or run's page (description, inputs, steps, the "
          "command line; a run's records)", "page" },
        { 'a', "a", "after b from an alert: show all runbooks again", "all" },
        { 0 },
};

const struct view_ops view_runbooks_ops = {
        .name = "runbooks",
        .title = "Runbooks",
        .collector = NULL,
        .columns = view_runbooks_columns,
        .rows = view_runbooks_rows,
        .preamble = view_runbooks_preamble,
        .detail = view_runbooks_detail,
        .detail_help = "run",
        .draw = view_runbooks_draw,
        .key = view_runbooks_key,
        .keys = view_runbooks_keys,
        .empty = "no runbooks and no runs (list their directories under the config's "
                  "`runbooks:` key)",
};
