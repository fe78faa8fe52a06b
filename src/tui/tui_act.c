/*
 * tui_act: the action dialog of the console, its phases on the worker and
 * the result page (the loop and the other keys are in tui.c).
 */
#include "tui/tui.h"

#include <curses.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/termsafe.h"
#include "core/util.h"

/* --- actions: the dialog, its phases on the worker, the result page ---- */

/*
 * The action keys of a pane are the keys of the action table of the kind of
 * the selected row's source (row ids are "source\ttarget"), so any pane
 * whose rows name a source of a kind with actions gets them; panes only
 * declare the keys for the footer and help. The dialog steps are in
 * struct tui_act. Both phases run on an action_job worker that writes to
 * the wake pipe; the loop polls the job (tui_act_poll) and never waits.
 * The audit line is written here, on the UI thread: a local append and
 * fsync, never the network.
 */

/* The source and target of the selected row (or of the open detail page). */
const struct source_cfg *tui_act_row(struct tui *t, char *target, size_t n)
{
        struct view *v = tui_view(t);
        char name[TABLE_ID_MAX];
        const char *id, *tab;

        if (v->detail) {
                id = v->detail_id;
        } else {
                if (!v->rows.n || v->sel >= v->rows.n)
                        return NULL;
                id = v->rows.v[v->sel].id;
        }
        tab = strchr(id, '\t');
        if (!tab || !tab[1])
                return NULL;
        snprintf(name, sizeof name, "%.*s", (int)(tab - id), id);
        str_copy(target, tab + 1, n);
        return config_source(t->a->cfg, name);
}

static void tui_act_audit(struct tui *t, enum action_outcome o, const char *request,
                          long status, int64_t dur, const char *error)
{
        const struct tui_act *x = &t->act;
        char *path = action_audit_path(t->a->cfg);
        struct action_audit au = {
                .environment = t->a->cfg->environment, .source = x->src->name,
                .kind = x->src->kind, .action = x->def->name, .target = x->target,
                .via = "tui", .request = request, .dry_run = false, .outcome = o,
                .status = status, .duration_ms = dur, .error = error,
                .context = x->shown.context ? x->shown.context
                                            : action_source_context(x->src),
                .cmds = x->shown.cmds,
                .n_cmds = x->shown.n_cmds,
                .reason = o == ACT_CANCELLED ? ACT_REASON_DECLINED
                        : o != ACT_REFUSED ? NULL
                        : status == ACT_EXIT_READONLY ? ACT_REASON_READ_ONLY
                        : ACT_REASON_TARGET,
        };
        struct err e;

        err_clear(&e);
        if (action_audit(path, &au, &e) != 0)
                tui_flash(t, ROLE_ERROR, "%s", e.msg);
        free(path);
}

/* Ends the dialog (a job still running is stopped through its stop pipe). */
void tui_act_close(struct tui *t)
{
        struct tui_act *x = &t->act;

        action_job_free(x->job);
        action_plan_done(&x->plan);
        action_plan_done(&x->shown);
        free(x->text);
        free(x->summary);
        memset(x, 0, sizeof *x);
        action_plan_init(&x->plan);
        action_plan_init(&x->shown);
        if (t->mode == TUI_ACTION)
                t->mode = TUI_NORMAL;
}

/* Adds `out` to the page, one line per '\n' (a CR before it dropped), long
 * lines split. A server's output is escaped (termsafe) before it is split,
 * so that no line loses text to the escapes. */
static void tui_pager_text(struct tlines *l, enum theme_role role, const char *out)
{
        char *raw = xstrdup(out ? out : ""), *w = raw, *safe, *s;

        for (const char *r = raw; *r; r++)
                if (!(r[0] == '\r' && r[1] == '\n'))
                        *w++ = *r;
        *w = '\0';
        safe = termsafe_dup(raw, TERMSAFE_LINES);
        free(raw);
        s = safe;
        while (*s) {
                size_t len = strcspn(s, "\n");
                const char *p = s;

                do {
                        size_t chunk = len > 200 ? 200 : len;
                        /* Never split a UTF-8 sequence. */
                        while (chunk < len && ((unsigned char)p[chunk] & 0xC0) == 0x80)
                                chunk--;
                        tlines_add(l, role, "  %.*s", (int)chunk, p);
                        p += chunk;
                        len -= chunk;
                } while (len);
                s = *p ? (char *)p + 1 : (char *)p;
        }
        free(safe);
}

/* Closes the dialog and opens the result page. */
static void tui_act_page(struct tui *t, enum action_outcome o, long status, int64_t dur,
                         const char *sent, const char *output, const char *error)
{
        struct tui_act *x = &t->act;

        tlines_done(&t->pager);
        tlines_init(&t->pager);
        snprintf(t->pager_title, sizeof t->pager_title, "%s: %s %s", x->def->title,
                 x->src->name, x->target);
        tlines_add(&t->pager, ROLE_TITLE, "%s", t->pager_title);
        tlines_seg(&t->pager, ROLE_DIM, "  (Esc closes, / searches)");
        if (x->shown.context)
                tlines_kv(&t->pager, "context",
                          action_context_dangerous(t->a->cfg, x->shown.context)
                                  ? ROLE_CRIT : ROLE_DEFAULT, "%s", x->shown.context);
        tlines_add(&t->pager, ROLE_DEFAULT, "%s", "");
        tlines_kv(&t->pager, "outcome", o == ACT_OK ? ROLE_OK : ROLE_ERROR, "%s",
                  action_outcome_name(o));
        if (status)
                tlines_kv(&t->pager, "status", ROLE_DEFAULT, "%ld", status);
        tlines_kv(&t->pager, "took", ROLE_DEFAULT, "%lld ms", (long long)dur);
        if (sent && *sent)
                tlines_kv(&t->pager, "sent", ROLE_DEFAULT, "%s", sent);
        if (error && *error)
                tlines_kv(&t->pager, "error", ROLE_ERROR, "%s", error);
        if (output && *output) {
                tlines_add(&t->pager, ROLE_DEFAULT, "%s", "");
                tlines_add(&t->pager, ROLE_TITLE, x->shown.n_cmds ? "Output" : "Response");
                tui_pager_text(&t->pager, ROLE_DEFAULT, output);
        }
        /* Logs open at their end, where the newest lines are. */
        t->pager_top = (x->def->flags & ACTION_F_TAIL) ? 1 << 20 : 0;
        t->pager_edit = false;
        t->pager_match = -1;
        tui_flash(t, o == ACT_OK ? ROLE_INFO : ROLE_ERROR, "%s %s %s: %s", x->def->name,
                  x->src->name, x->target, action_outcome_name(o));
        tui_act_close(t);
        t->mode = TUI_PAGER;
}

static void tui_act_prepare(struct tui *t)
{
        struct tui_act *x = &t->act;

        x->job = action_job_start(x->def, x->src, x->target, x->conf[0] ? x->conf : NULL,
                                  ACT_PHASE_PREPARE, NULL, t->a->wake_pipe[1]);
        if (!x->job) {
                tui_act_audit(t, ACT_FAILED, NULL, 0, -1, "cannot start a thread");
                tui_flash(t, ROLE_ERROR, "%s: cannot start a thread", x->def->name);
                tui_act_close(t);
                return;
        }
        x->step = TUI_ACT_PREPARE;
}

static void tui_act_run(struct tui *t)
{
        struct tui_act *x = &t->act;

        x->job = action_job_start(x->def, x->src, x->target, x->conf[0] ? x->conf : NULL,
                                  ACT_PHASE_RUN, &x->plan, t->a->wake_pipe[1]);
        if (!x->job) {
                tui_act_audit(t, ACT_FAILED, x->summary, 0, -1, "cannot start a thread");
                tui_flash(t, ROLE_ERROR, "%s: cannot start a thread", x->def->name);
                tui_act_close(t);
                return;
        }
        x->step = TUI_ACT_RUN;
}

static void tui_act_cancel(struct tui *t)
{
        struct tui_act *x = &t->act;

        tui_act_audit(t, ACT_CANCELLED, x->summary, 0, clock_mono_ms() - x->t0, NULL);
        tui_flash(t, ROLE_INFO, "%s %s %s: cancelled", x->def->name, x->src->name, x->target);
        tui_act_close(t);
}

/* Collects a finished phase. Returns true when the screen changed. UI
 * thread; never waits. */
bool tui_act_poll(struct tui *t)
{
        struct tui_act *x = &t->act;
        struct action_result res;
        struct err e;
        int64_t dur;

        if (!x->job || !action_job_done(x->job))
                return false;
        if (x->step == TUI_ACT_PREPARE) {
                int rc;

                err_clear(&e);
                rc = action_job_prepare_rc(x->job, &x->plan, &e);
                action_job_free(x->job);
                x->job = NULL;
                if (rc != 0) {
                        dur = clock_mono_ms() - x->t0;
                        tui_act_audit(t, ACT_FAILED, NULL, 0, dur, e.msg);
                        tui_act_page(t, ACT_FAILED, 0, dur, NULL, NULL, e.msg);
                        return true;
                }
                x->text = action_plan_text(&x->plan);
                x->summary = action_plan_summary(&x->plan);
                action_plan_copy_cmds(&x->shown, &x->plan);
                str_copy(x->word, x->plan.context ? x->plan.context : x->src->name,
                         sizeof x->word);
                if (x->def->flags & ACTION_F_NOCONFIRM)
                        tui_act_run(t);         /* logs: nothing to confirm */
                else
                        x->step = TUI_ACT_CONFIRM;
                return true;
        }
        action_job_result(x->job, &res);
        dur = action_job_duration_ms(x->job);
        action_job_free(x->job);
        x->job = NULL;
        tui_act_audit(t, res.outcome, res.requests ? res.requests : x->summary, res.status,
                      dur, res.outcome == ACT_OK ? NULL : res.err.msg);
        tui_act_page(t, res.outcome, res.status, dur, res.requests, res.output,
                     res.outcome == ACT_OK ? NULL : res.err.msg);
        action_result_done(&res);
        return true;
}

/* An action key in the table or detail page. False when the selected row's
 * kind has no action on this key (the global keys get it then). */
bool tui_act_key(struct tui *t, int ch)
{
        struct tui_act *x = &t->act;
        char target[sizeof x->target];
        const struct source_cfg *src = tui_act_row(t, target, sizeof target);
        const struct action_def *d = src ? action_lookup_key(t->a->cfg, src, ch, target)
                                         : NULL;
        struct err e;

        if (!d)
                return false;
        tui_act_close(t);
        x->def = d;
        x->src = src;
        str_copy(x->target, target, sizeof x->target);
        x->t0 = clock_mono_ms();
        err_clear(&e);
        if (!action_target_ok(d, target, &e)) {
                tui_flash(t, ROLE_ERROR, "%s", e.msg);
                tui_act_audit(t, ACT_REFUSED, NULL, ACT_EXIT_NOINPUT, -1, e.msg);
                tui_act_close(t);
                return true;
        }
        err_clear(&e);
        if (!action_allowed(d, t->a->read_only, &e)) {
                tui_flash(t, ROLE_ERROR, "%s", e.msg);
                tui_act_audit(t, ACT_REFUSED, NULL, ACT_EXIT_READONLY, -1, e.msg);
                tui_act_close(t);
                return true;
        }
        t->mode = TUI_ACTION;
        /* An optional argument of an unconfirmed action (the container of
         * `logs`) is not asked for: the key opens the logs at once. */
        if ((d->flags & (ACTION_F_CONF | ACTION_F_ARG)) &&
            (d->flags & (ACTION_F_ARG_OPT | ACTION_F_NOCONFIRM)) !=
                    (ACTION_F_ARG_OPT | ACTION_F_NOCONFIRM))
                x->step = TUI_ACT_CONF;
        else
                tui_act_prepare(t);
        return true;
}

/* Line editing of the dialog's input fields. Returns true when it used ch. */
static bool tui_act_edit(char *buf, size_t n, int ch)
{
        size_t len = strlen(buf);

        if (tui_is_backspace(ch)) {
                if (len)
                        buf[len - 1] = '\0';
        } else if (ch == 21) {                  /* ^U */
                buf[0] = '\0';
        } else if (ch >= 32 && ch < 127 && len + 1 < n) {
                buf[len] = (char)ch;
                buf[len + 1] = '\0';
        } else {
                return false;
        }
        return true;
}

/* The conf line: empty, or a JSON object (checked before anything is sent). */
static bool tui_act_conf_ok(struct tui_act *x)
{
        cJSON *j;
        bool ok;

        if (x->def->flags & ACTION_F_ARG) {
                struct err e;

                err_clear(&e);
                if (!x->conf[0] && !(x->def->flags & ACTION_F_ARG_OPT)) {
                        snprintf(x->msg, sizeof x->msg, "%s: required (Esc cancels)",
                                 x->def->arg_label ? x->def->arg_label : "argument");
                        return false;
                }
                if (x->conf[0] && x->def->check_arg && x->def->check_arg(x->def, x->conf,
                                                                         &e) != 0) {
                        str_copy(x->msg, e.msg, sizeof x->msg);
                        return false;
                }
                return true;
        }
        if (!x->conf[0])
                return true;
        j = cJSON_Parse(x->conf);
        ok = j && cJSON_IsObject(j);
        if (!j)
                snprintf(x->msg, sizeof x->msg, "invalid JSON: %.200s", x->conf);
        else if (!ok)
                snprintf(x->msg, sizeof x->msg, "conf must be a JSON object: {\"key\": value}");
        cJSON_Delete(j);
        return ok;
}

void tui_on_act_key(struct tui *t, int ch)
{
        struct tui_act *x = &t->act;

        switch (x->step) {
        case TUI_ACT_CONF:
                if (ch == TUI_KEY_ESC) {
                        tui_act_cancel(t);
                } else if (tui_is_enter(ch)) {
                        x->msg[0] = '\0';
                        if (tui_act_conf_ok(x))
                                tui_act_prepare(t);
                } else if (tui_act_edit(x->conf, sizeof x->conf, ch)) {
                        x->msg[0] = '\0';
                }
                return;
        case TUI_ACT_PREPARE:
                if (ch == TUI_KEY_ESC || ch == 'n' || ch == 'N')
                        tui_act_cancel(t);      /* stops the prepare through its pipe */
                return;
        case TUI_ACT_CONFIRM:
                if (ch == TUI_KEY_ESC) {
                        tui_act_cancel(t);
                } else if (x->def->flags & ACTION_F_DANGEROUS) {
                        if (tui_is_enter(ch)) {
                                if (strcmp(x->typed, x->word) == 0) {
                                        tui_act_run(t);
                                } else {
                                        snprintf(x->msg, sizeof x->msg,
                                                 "type %s exactly to run it (Esc cancels)",
                                                 x->word);
                                        x->typed[0] = '\0';
                                }
                        } else if (tui_act_edit(x->typed, sizeof x->typed, ch)) {
                                x->msg[0] = '\0';
                        }
                } else if (ch == 'y' || ch == 'Y') {
                        tui_act_run(t);
                } else if (ch == 'n' || ch == 'N') {
                        tui_act_cancel(t);
                }
                return;
        case TUI_ACT_RUN:
        default:
                if (ch == TUI_KEY_ESC)
                        tui_flash(t, ROLE_INFO, "%s is running; its result opens when done",
                                  x->def->name);
                return;
        }
}
