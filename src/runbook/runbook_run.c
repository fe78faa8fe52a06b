/*
 * runbook_run: the engine (runbook_run.h). One loop over the steps; the
 * world is reached only through the driver (status, prompts, the clock),
 * the action machinery and subproc, and every step's start and end are in
 * the ledger (fsync) before the loop moves on.
 */
/* vasprintf */
#define _GNU_SOURCE
#include "runbook/runbook_run.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "bringup/expr.h"
#include "core/config.h"
#include "core/redact.h"
#include "core/subproc.h"
#include "core/util.h"

/* What one attempt of a step came to. */
enum rr_res { RR_OK, RR_FAILED, RR_CANCELLED, RR_REFUSED, RR_SKIPPED };

static const char *const rr_res_names[] = { "ok", "failed", "cancelled", "refused", "skipped" };

#define RR_SKIPPED_MSG "skipped by the operator"

struct rr {
        const struct runbook *rb;
        const struct runbook_inputs *in;
        const struct config *cfg;
        const struct runbook_driver *drv;
        const struct runbook_run_opts *o;
        struct ledger l;
        bool have_ledger;
        const char *run_id;             /* NULL in a dry run */
        char user[128];
        cJSON *inputs;                  /* runbook_inputs_json: what expressions see */
        char *audit_path;
        int rc_hint;                    /* a step's own exit code (77) */
};

static int64_t rr_now(const struct rr *r)
{
        return r->drv->now_ms ? r->drv->now_ms(r->drv->arg) : clock_mono_ms();
}

static void rr_show(const struct rr *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rr_show(const struct rr *r, const char *fmt, ...)
{
        va_list ap;
        char *s;

        if (!r->drv->show)
                return;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        if (s)
                r->drv->show(r->drv->arg, s);
        free(s);
}

/* Pauses ms through the driver; true when the operator aborted. */
static bool rr_pause(const struct rr *r, int64_t ms)
{
        return r->drv->wait ? r->drv->wait(r->drv->arg, ms) : false;
}

static void rr_user(char *buf, size_t n)
{
        const char *u = getenv("USER");

        str_copy(buf, u && *u ? u : "unknown", n);
}

/* Appends rec to the ledger (a real run) and hands it to the driver. */
static int rr_append(struct rr *r, cJSON *rec, struct err *err)
{
        if (r->have_ledger && ledger_append(&r->l, rec, err) != 0)
                return -1;
        if (r->drv->record)
                r->drv->record(r->drv->arg, rec);
        return 0;
}

/* A text for the ledger: redacted by shape, bounded to its last
 * RUNBOOK_TAIL_BYTES (cut at a line start when one is near, never inside a
 * UTF-8 sequence). Owned. */
static char *rr_tail(const char *s)
{
        size_t len = s ? strlen(s) : 0, from = 0;
        char *t;

        if (len > RUNBOOK_TAIL_BYTES) {
                const char *nl;

                from = len - RUNBOOK_TAIL_BYTES;
                while (from < len && ((unsigned char)s[from] & 0xc0) == 0x80)
                        from++;
                nl = memchr(s + from, '\n', len - from);
                if (nl && (size_t)(nl - s) < from + 256)
                        from = (size_t)(nl - s) + 1;
        }
        while (len > from && (s[len - 1] == '\n'))
                len--;
        t = xstrndup(s ? s + from : "", len - from);
        /* redact_patterns never grows the text past its buffer. */
        redact_patterns(t, len - from + 1);
        return t;
}

/* A program's or a server's output, without its trailing newlines. */
static void rr_show_output(const struct rr *r, const char *out)
{
        size_t n = strlen(out);

        while (n && out[n - 1] == '\n')
                n--;
        if (n)
                rr_show(r, "%.*s", (int)(n > INT32_MAX ? INT32_MAX : n), out);
}

static void rr_add_text(cJSON *o, const char *k, const char *v)
{
        char *t = rr_tail(v);

        cJSON_AddStringToObject(o, k, t);
        free(t);
}

/* --- targets, inputs ------------------------------------------------------ */

static const char *rr_input(const struct runbook_inputs *in, const char *name)
{
        for (size_t i = 0; in && i < in->n; i++)
                if (strcmp(in->names[i], name) == 0)
                        return in->values[i];
        return NULL;
}

char *runbook_run_target(const struct runbook *rb, const struct runbook_inputs *in)
{
        size_t len = 0;
        char *key = xstrdup("");

        for (size_t i = 0; i < rb->n_inputs; i++) {
                const struct runbook_input *p = &rb->inputs[i];
                const char *v;
                char *k;

                if (p->type != RB_IN_SOURCE && p->type != RB_IN_TARGET)
                        continue;
                v = rr_input(in, p->name);
                if (!v)
                        continue;
                k = xasprintf("%s%s%s", key, len ? "/" : "", v);
                free(key);
                key = k;
                len = strlen(key);
        }
        if (!len) {
                free(key);
                key = xstrdup("-");
        }
        return key;
}

int runbook_run_load(const char *run_id, char **runbook_id, struct runbook_inputs *in,
                     struct err *err)
{
        cJSON *recs = ledger_read(run_id, NULL, err), *r, *start = NULL, *ins, *it;
        const char *id;

        *runbook_id = NULL;
        if (!recs)
                return -1;
        cJSON_ArrayForEach(r, recs) {
                const cJSON *ev = cJSON_GetObjectItemCaseSensitive(r, "ev");

                if (cJSON_IsString(ev) && strcmp(ev->valuestring, "start") == 0) {
                        start = r;
                        break;
                }
        }
        id = start ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(start, "runbook"))
                   : NULL;
        if (!id) {
                err_set(err, ENOENT, "run %s: its ledger has no start record", run_id);
                cJSON_Delete(recs);
                return -1;
        }
        *runbook_id = xstrdup(id);
        ins = cJSON_GetObjectItemCaseSensitive(start, "inputs");
        cJSON_ArrayForEach(it, ins) {
                if (!cJSON_IsString(it) || !it->string)
                        continue;
                in->names = xrealloc(in->names, (in->n + 1) * sizeof *in->names);
                in->values = xrealloc(in->values, (in->n + 1) * sizeof *in->values);
                in->names[in->n] = xstrdup(it->string);
                in->values[in->n] = xstrdup(it->valuestring);
                in->n++;
        }
        cJSON_Delete(recs);
        return 0;
}

/* ${name} in s, or NULL with err (s NULL: NULL, no error). */
static char *rr_subst(const struct rr *r, const char *s, struct err *err)
{
        return s ? runbook_subst(r->in, s, err) : NULL;
}

/* Substitutes inputs inside every string (keys and values) of a JSON
 * template. Owned compact JSON; NULL with err->msg empty when tmpl is not
 * JSON (the caller substitutes it as a word), or with err set on an
 * unknown input. */
static bool rr_subst_json_walk(const struct rr *r, cJSON *j, struct err *err)
{
        for (cJSON *c = j; c; c = c->next) {
                if (c->string && strchr(c->string, '$')) {
                        char *k = rr_subst(r, c->string, err);

                        if (!k)
                                return false;
                        if (!(c->type & cJSON_StringIsConst))
                                free(c->string);
                        c->string = k;
                        c->type &= ~cJSON_StringIsConst;
                }
                if (cJSON_IsString(c) && strchr(c->valuestring, '$')) {
                        char *v = rr_subst(r, c->valuestring, err);

                        if (!v || !cJSON_SetValuestring(c, v)) {
                                free(v);
                                if (!err->msg[0])
                                        err_set(err, ENOMEM, "out of memory");
                                return false;
                        }
                        free(v);
                }
                if (c->child && !rr_subst_json_walk(r, c->child, err))
                        return false;
        }
        return true;
}

static char *rr_subst_json(const struct rr *r, const char *tmpl, struct err *err)
{
        cJSON *j = cJSON_Parse(tmpl);
        char *out = NULL;

        err_clear(err);
        if (!j)
                return NULL;
        if (rr_subst_json_walk(r, j, err))
                out = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        return out;
}

/* --- conditions ------------------------------------------------------------ */

/* Evaluates c now. 1 holds, 0 does not, -1 no answer (err: the source is
 * down, or the expression fails). *values gets the current values
 * (expr_explain) or NULL; *source the resolved source name. */
static int rr_cond(const struct rr *r, const struct runbook_cond *c, char **values,
                   char **source, struct err *err)
{
        cJSON *doc, *v;
        struct err e;
        int ok;

        *values = NULL;
        *source = rr_subst(r, c->source, err);
        if (!*source)
                return -1;
        err_clear(&e);
        doc = r->drv->status(r->drv->arg, *source, &e);
        if (!doc) {
                err_set(err, e.code ? e.code : EIO, "%s: %s", *source,
                        e.msg[0] ? e.msg : "no status");
                return -1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "inputs");
        cJSON_AddItemToObject(doc, "inputs", cJSON_Duplicate(r->inputs, true));
        v = expr_eval(c->expr, doc, &e);
        *values = expr_explain(c->expr, doc);
        if (!v) {
                err_set(err, EINVAL, "%s: %s", expr_text(c->expr), e.msg);
                ok = -1;
        } else {
                ok = expr_true(v) ? 1 : 0;
        }
        cJSON_Delete(v);
        cJSON_Delete(doc);
        return ok;
}

/* Polls c every RUNBOOK_POLL_MS until it has held for for_ms, or timeout_ms
 * passed. RR_OK, RR_FAILED (err: timed out, with the last values) or
 * RR_CANCELLED (the operator aborted the wait). */
static enum rr_res rr_poll(const struct rr *r, const char *what, const struct runbook_cond *c,
                           int64_t for_ms, int64_t timeout_ms, char **values, char **source,
                           struct err *err)
{
        int64_t t0 = rr_now(r), since = -1;
        char *shown = NULL;
        struct err e;

        for (;;) {
                int64_t now, left;
                int ok;

                free(*values);
                free(*source);
                err_clear(&e);
                ok = rr_cond(r, c, values, source, &e);
                now = rr_now(r);
                if (*values && (!shown || strcmp(shown, *values))) {
                        rr_show(r, "  %s: %s", what, *values);
                        free(shown);
                        shown = xstrdup(*values);
                } else if (ok < 0 && e.msg[0]) {
                        rr_show(r, "  %s: %s", what, e.msg);
                }
                if (ok == 1) {
                        if (since < 0)
                                since = now;
                        if (now - since >= for_ms) {
                                free(shown);
                                return RR_OK;
                        }
                } else {
                        since = -1;
                }
                left = t0 + timeout_ms - now;
                if (left <= 0) {
                        char d[32];

                        fmt_duration_ms(timeout_ms, d, sizeof d);
                        if (ok == 1)
                                err_set(err, ETIMEDOUT, "did not hold for its duration within "
                                        "%s (%s)", d, *values ? *values : "");
                        else
                                err_set(err, ETIMEDOUT, "timed out after %s (%s)", d,
                                        e.msg[0] ? e.msg : *values ? *values : "no answer");
                        free(shown);
                        return RR_FAILED;
                }
                if (ok == 1 && since + for_ms - now < left)
                        left = since + for_ms - now;
                if (rr_pause(r, left < RUNBOOK_POLL_MS ? left : RUNBOOK_POLL_MS)) {
                        err_set(err, EINTR, "aborted by the operator while waiting");
                        free(shown);
                        return RR_CANCELLED;
                }
        }
}

/* --- steps ------------------------------------------------------------------ */

/* An action step's source and action (no I/O). NULL with err. */
static const struct action_def *rr_action(const struct rr *r, const struct runbook_step *s,
                                          const struct source_cfg **src, char **src_name,
                                          char **target, char **arg, struct err *err)
{
        const struct action_def *d;

        *src = NULL;
        *target = *arg = NULL;
        *src_name = rr_subst(r, s->act_source, err);
        if (!*src_name)
                return NULL;
        *target = s->act_target ? rr_subst(r, s->act_target, err) : xstrdup("");
        if (!*target)
                return NULL;
        *src = r->cfg ? config_source(r->cfg, *src_name) : NULL;
        if (!*src) {
                err_set(err, ENOENT, "no source named '%s' (check the config's sources)",
                        *src_name);
                return NULL;
        }
        d = action_lookup(r->cfg, *src, s->act_action);
        if (!d) {
                err_set(err, ENOENT, "%s (%s) has no action '%s' (docs/actions.md)",
                        (*src)->name, (*src)->kind, s->act_action);
                return NULL;
        }
        if (!action_target_ok(d, *target, err))
                return NULL;
        if (s->act_arg) {
                /* A JSON argument (a trigger's conf) written as JSON in the
                 * runbook gets its inputs inside its strings only, so a value
                 * holding '"' cannot add keys; anything else is a word. */
                *arg = (d->flags & ACTION_F_CONF) ? rr_subst_json(r, s->act_arg, err) : NULL;
                if (!*arg && !err->msg[0])
                        *arg = rr_subst(r, s->act_arg, err);
                if (!*arg)
                        return NULL;
        }
        if ((d->flags & ACTION_F_ARG) && !(d->flags & ACTION_F_ARG_OPT) && (!*arg || !**arg)) {
                err_set(err, EINVAL, "%s needs an argument: %s", d->name,
                        d->arg_label ? d->arg_label : "arg");
                return NULL;
        }
        if (d->check_arg && *arg && **arg && d->check_arg(d, *arg, err) != 0)
                return NULL;
        return d;
}

/* Whether the step changes something: an action's own flag when it
 * resolves, else what the runbook says. */
static bool rr_mutating(const struct rr *r, const struct runbook_step *s)
{
        const struct source_cfg *src;
        const struct action_def *d;
        char *name, *target, *arg;
        struct err e;
        bool m = s->mutating;

        if (s->kind != RB_STEP_ACTION)
                return s->kind == RB_STEP_RUN ? s->mutating : false;
        err_clear(&e);
        d = rr_action(r, s, &src, &name, &target, &arg, &e);
        if (d)
                m = (d->flags & ACTION_F_MUTATING) != 0;
        free(name);
        free(target);
        free(arg);
        /* The step's `dangerous` only adds care: such a step is treated as
         * a change (read-only refuses it, a resume does not repeat it). */
        return m || s->dangerous;
}

static void rr_audit(const struct rr *r, const struct source_cfg *src,
                     const struct action_def *d, const char *src_name, const char *target,
                     const struct action_plan *plan, const char *request,
                     enum action_outcome out, long status, int64_t dur, const char *error,
                     const char *reason)
{
        struct action_audit au = {
                .environment = r->cfg ? r->cfg->environment : NULL, .source = src_name,
                .kind = src ? src->kind : NULL, .action = d ? d->name : NULL,
                .target = target, .via = r->o->via ? r->o->via : "cli",
                .context = plan && plan->context ? plan->context : action_source_context(src),
                .request = request, .cmds = plan ? plan->cmds : NULL,
                .n_cmds = plan ? plan->n_cmds : 0, .dry_run = false, .outcome = out,
                .status = status, .duration_ms = dur, .error = error, .reason = reason,
                .run = r->run_id,
        };
        struct err e;

        err_clear(&e);
        if (action_audit(r->audit_path, &au, &e) != 0)
                rr_show(r, "warning: %s", e.msg);
}

static enum rr_res rr_step_action(struct rr *r, const struct runbook_step *s, cJSON *rec,
                                  struct err *err)
{
        const struct source_cfg *src;
        const struct action_def *d;
        struct action_plan plan;
        struct action_result res;
        char *name, *target, *arg, *text = NULL, *summary = NULL, word[256];
        enum rr_res rc;
        int64_t t0 = clock_mono_ms();
        bool dangerous;

        d = rr_action(r, s, &src, &name, &target, &arg, err);
        if (!d) {
                rc = RR_FAILED;
                goto out_names;
        }
        if (!action_allowed(d, r->o->read_only, err) || (s->dangerous && r->o->read_only)) {
                char why[sizeof err->msg];

                if (!err->msg[0])
                        err_set(err, EPERM, "%s is marked dangerous in the runbook", d->name);
                str_copy(why, err->msg, sizeof why);
                err_set(err, EPERM, "refused: %s (--read-only or read_only: true)", why);
                rr_audit(r, src, d, name, target, NULL, NULL, ACT_REFUSED, ACT_EXIT_READONLY, -1,
                         err->msg, ACT_REASON_READ_ONLY);
                rc = RR_REFUSED;
                goto out_names;
        }
        if (action_prepare(d, src, target, arg, false, &plan, err) != 0) {
                rr_audit(r, src, d, name, target, NULL, NULL, ACT_FAILED, 0,
                         clock_mono_ms() - t0, err->msg, NULL);
                rc = RR_FAILED;
                goto out_names;
        }
        /* The step's timeout bounds each program of the plan. */
        for (size_t i = 0; i < plan.n_cmds; i++)
                if (plan.cmds[i].timeout_ms <= 0 || plan.cmds[i].timeout_ms > s->timeout_ms)
                        plan.cmds[i].timeout_ms = s->timeout_ms;
        text = action_plan_text(&plan);
        summary = action_plan_summary(&plan);
        rr_show(r, "%s on %s %s:\n%s", d->title, src->name, target, text);
        str_copy(word, plan.context ? plan.context : src->name, sizeof word);
        /* The step's `dangerous` can make an action more careful, never
         * less: the action's own flag still applies, and a step marked
         * dangerous is confirmed even when the action needs no confirmation. */
        dangerous = (d->flags & ACTION_F_DANGEROUS) || s->dangerous;
        if (!r->o->yes && (!(d->flags & ACTION_F_NOCONFIRM) || s->dangerous) && r->drv->confirm) {
                enum runbook_answer a = r->drv->confirm(r->drv->arg, text,
                                                        dangerous ? word : NULL);

                if (a != RB_ANS_YES) {
                        /* A skip is a decline too: the action is not run. */
                        err_set(err, ECANCELED, "%s",
                                a == RB_ANS_SKIP ? RR_SKIPPED_MSG : "not confirmed");
                        rr_audit(r, src, d, name, target, &plan, summary, ACT_CANCELLED, 0,
                                 clock_mono_ms() - t0, NULL, ACT_REASON_DECLINED);
                        rr_add_text(rec, "request", summary);
                        rc = a == RB_ANS_SKIP ? RR_SKIPPED : RR_CANCELLED;
                        goto out;
                }
        }
        t0 = clock_mono_ms();
        action_run(d, src, target, arg, &plan, &res);
        rr_add_text(rec, "request", res.requests ? res.requests : summary);
        if (res.output) {
                rr_show_output(r, res.output);
                rr_add_text(rec, "output_tail", res.output);
        }
        rr_audit(r, src, d, name, target, &plan, res.requests ? res.requests : summary,
                 res.outcome, res.status, clock_mono_ms() - t0,
                 res.outcome == ACT_OK ? NULL : res.err.msg, NULL);
        if (res.outcome == ACT_OK) {
                rc = RR_OK;
        } else {
                err_set(err, EIO, "%s failed: %s", d->name,
                        res.err.msg[0] ? res.err.msg : "unknown error");
                rc = RR_FAILED;
        }
        action_result_done(&res);
out:
        free(text);
        free(summary);
        action_plan_done(&plan);
out_names:
        free(name);
        free(target);
        free(arg);
        return rc;
}

/* argv with ${} substituted, or NULL with err. Owned, NULL-terminated. */
static char **rr_argv(const struct rr *r, const struct runbook_step *s, struct err *err)
{
        char **v = xcalloc(s->n_argv + 1, sizeof *v);

        for (size_t i = 0; i < s->n_argv; i++) {
                v[i] = rr_subst(r, s->argv[i], err);
                if (!v[i]) {
                        for (size_t k = 0; k < i; k++)
                                free(v[k]);
                        free(v);
                        return NULL;
                }
        }
        return v;
}

static void rr_argv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static cJSON *rr_argv_json(char *const *v)
{
        cJSON *a = cJSON_CreateArray();

        for (size_t i = 0; v[i]; i++) {
                char *t = xstrdup(v[i]);

                redact_patterns(t, strlen(t) + 1);
                cJSON_AddItemToArray(a, cJSON_CreateString(t));
                free(t);
        }
        return a;
}

static enum rr_res rr_step_run(struct rr *r, const struct runbook_step *s, cJSON *rec,
                               struct err *err)
{
        char **argv = rr_argv(r, s, err), *text;
        struct subproc_result sr;
        struct err e;
        enum rr_res rc;

        if (!argv)
                return RR_FAILED;
        cJSON_AddItemToObject(rec, "argv", rr_argv_json(argv));
        text = action_argv_text(argv);
        if (s->mutating && r->o->read_only) {
                err_set(err, EPERM, "refused: this step changes something and the run is "
                        "read-only (--read-only or read_only: true)");
                rc = RR_REFUSED;
                goto out;
        }
        rr_show(r, "$ %s", text);
        /* A dangerous run step has no context to type: the runbook's id
         * names what the operator is running (docs/runbooks.md). */
        if (s->mutating && !r->o->yes && r->drv->confirm) {
                enum runbook_answer a = r->drv->confirm(r->drv->arg, text,
                                                        s->dangerous ? r->rb->id : NULL);

                if (a != RB_ANS_YES) {
                        err_set(err, ECANCELED, "%s",
                                a == RB_ANS_SKIP ? RR_SKIPPED_MSG : "not confirmed");
                        rc = a == RB_ANS_SKIP ? RR_SKIPPED : RR_CANCELLED;
                        goto out;
                }
        }
        err_clear(&e);
        if (subproc_run(argv, 0, s->timeout_ms, -1, &sr, &e) != 0) {
                err_set(err, e.code ? e.code : EIO, "%s", e.msg);
                subproc_result_done(&sr);
                rc = RR_FAILED;
                goto out;
        }
        if (sr.out && sr.len) {
                rr_show_output(r, sr.out);
                rr_add_text(rec, "output_tail", sr.out);
        }
        if (sr.timed_out) {
                char d[32];

                fmt_duration_ms(s->timeout_ms, d, sizeof d);
                err_set(err, ETIMEDOUT, "%s: timed out after %s", argv[0], d);
                rc = RR_FAILED;
        } else if (sr.exit_code != 0) {
                err_set(err, EIO, "%s: exited with status %d", argv[0], sr.exit_code);
                rc = RR_FAILED;
        } else {
                rc = RR_OK;
        }
        subproc_result_done(&sr);
out:
        free(text);
        rr_argv_free(argv);
        return rc;
}

/* A choose step's labels with ${} substituted, or NULL with err. Owned,
 * NULL-terminated (rr_argv_free). */
static char **rr_labels(const struct rr *r, const struct runbook_step *s, struct err *err)
{
        char **v = xcalloc(s->n_choices + 1, sizeof *v);

        for (size_t c = 0; c < s->n_choices; c++) {
                v[c] = rr_subst(r, s->choices[c].label, err);
                if (!v[c]) {
                        rr_argv_free(v);
                        return NULL;
                }
        }
        return v;
}

/* Runs one attempt of step i. *next gets the step a choose goes to. */
static enum rr_res rr_step(struct rr *r, size_t i, cJSON *rec, size_t *next, struct err *err)
{
        const struct runbook_step *s = &r->rb->steps[i];
        char *values = NULL, *source = NULL, *text;
        enum rr_res rc = RR_FAILED;
        int ok;

        switch (s->kind) {
        case RB_STEP_CHECK:
                ok = rr_cond(r, &s->cond, &values, &source, err);
                if (values)
                        rr_show(r, "  %s", values);
                if (ok == 1) {
                        rc = RR_OK;
                } else if (ok == 0) {
                        err_set(err, EINVAL, "does not hold: %s", expr_text(s->cond.expr));
                        rc = RR_FAILED;
                }
                break;
        case RB_STEP_WAIT:
                rc = rr_poll(r, "waiting", &s->cond, s->cond.for_ms, s->timeout_ms, &values,
                             &source, err);
                break;
        case RB_STEP_ACTION:
                rc = rr_step_action(r, s, rec, err);
                break;
        case RB_STEP_RUN:
                rc = rr_step_run(r, s, rec, err);
                break;
        case RB_STEP_MANUAL:
                text = rr_subst(r, s->manual, err);
                if (!text)
                        break;
                switch (r->drv->manual ? r->drv->manual(r->drv->arg, text) : RB_ANS_ABORT) {
                case RB_ANS_YES:
                        rc = RR_OK;
                        break;
                case RB_ANS_SKIP:
                        err_set(err, ECANCELED, RR_SKIPPED_MSG);
                        rc = RR_SKIPPED;
                        break;
                default:
                        err_set(err, ECANCELED, "not confirmed as done");
                        rc = RR_CANCELLED;
                        break;
                }
                free(text);
                break;
        case RB_STEP_CHOOSE: {
                char **labels = rr_labels(r, s, err);
                int k;

                if (!labels)
                        break;
                k = r->drv->choose ? r->drv->choose(r->drv->arg, (const char *const *)labels,
                                                    s->n_choices) : -1;
                if (k < 0 || (size_t)k >= s->n_choices) {
                        rr_argv_free(labels);
                        err_set(err, ECANCELED, "no branch chosen");
                        rc = RR_CANCELLED;
                        break;
                }
                cJSON *c = cJSON_CreateObject();

                cJSON_AddStringToObject(c, "ev", "choice");
                cJSON_AddStringToObject(c, "step", s->id);
                cJSON_AddNumberToObject(c, "index", (double)i);
                rr_add_text(c, "label", labels[k]);
                cJSON_AddStringToObject(c, "goto", s->choices[k].go);
                cJSON_AddNumberToObject(c, "goto_index", (double)s->choices[k].go_index);
                ok = rr_append(r, c, err);
                cJSON_Delete(c);
                if (ok == 0)
                        rr_show(r, "  chose: %s", labels[k]);
                rr_argv_free(labels);
                if (ok != 0)
                        break;
                *next = s->choices[k].go_index;
                rc = RR_OK;
                break;
        }
        }
        if (values)
                cJSON_AddStringToObject(rec, "values", values);
        free(values);
        free(source);
        return rc;
}

static cJSON *rr_step_rec(const struct rr *r, size_t i, bool mutating, const char *phase)
{
        const struct runbook_step *s = &r->rb->steps[i];
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "ev", "step");
        cJSON_AddStringToObject(o, "step", s->id);
        cJSON_AddNumberToObject(o, "index", (double)i);
        cJSON_AddStringToObject(o, "kind", runbook_step_kind_name(s->kind));
        cJSON_AddBoolToObject(o, "mutating", mutating);
        cJSON_AddStringToObject(o, "phase", phase);
        return o;
}

/* --- dry run ---------------------------------------------------------------- */

static void rr_dry_cond(const struct rr *r, const struct runbook_cond *c)
{
        char *values = NULL, *source = NULL;
        struct err e;
        int ok;

        err_clear(&e);
        ok = rr_cond(r, c, &values, &source, &e);
        rr_show(r, "  %s: %s", source ? source : c->source, expr_text(c->expr));
        if (ok < 0)
                rr_show(r, "  now: %s%s%s", e.msg, values ? "; " : "", values ? values : "");
        else
                rr_show(r, "  now: %s (%s)", ok ? "true" : "false", values ? values : "");
        free(values);
        free(source);
}

static int rr_dry_run(struct rr *r)
{
        const struct runbook *rb = r->rb;
        int rc = 0;

        rr_show(r, "dry run: %s: %s (%zu step%s); nothing is changed", rb->id, rb->title,
                rb->n_steps, rb->n_steps == 1 ? "" : "s");
        for (size_t i = 0; i < rb->n_steps; i++) {
                const struct runbook_step *s = &rb->steps[i];
                bool mut = rr_mutating(r, s);
                struct err e;

                err_clear(&e);
                rr_show(r, "step %zu/%zu %s (%s%s)%s%s", i + 1, rb->n_steps, s->id,
                        runbook_step_kind_name(s->kind), mut ? ", mutating" : "",
                        s->title ? ": " : "", s->title ? s->title : "");
                if (mut && r->o->read_only)
                        rr_show(r, "  refused in read-only mode");
                switch (s->kind) {
                case RB_STEP_CHECK:
                case RB_STEP_WAIT:
                        rr_dry_cond(r, &s->cond);
                        break;
                case RB_STEP_ACTION: {
                        const struct source_cfg *src;
                        const struct action_def *d;
                        struct action_plan plan;
                        char *name, *target, *arg, *text;

                        d = rr_action(r, s, &src, &name, &target, &arg, &e);
                        /* prepare with dry_run sends no request that changes anything */
                        if (d && action_prepare(d, src, target, arg, true, &plan, &e) == 0) {
                                text = action_plan_text(&plan);
                                rr_show(r, "  %s on %s %s:\n%s", d->title, src->name, target,
                                        text);
                                free(text);
                                action_plan_done(&plan);
                        } else {
                                rr_show(r, "  error: %s", e.msg);
                                rc = 1;
                        }
                        free(name);
                        free(target);
                        free(arg);
                        break;
                }
                case RB_STEP_RUN: {
                        char **argv = rr_argv(r, s, &e), *text;

                        if (!argv) {
                                rr_show(r, "  error: %s", e.msg);
                                rc = 1;
                                break;
                        }
                        text = action_argv_text(argv);
                        rr_show(r, "  $ %s", text);
                        free(text);
                        rr_argv_free(argv);
                        break;
                }
                case RB_STEP_MANUAL: {
                        char *text = rr_subst(r, s->manual, &e);

                        rr_show(r, "  %s", text ? text : e.msg);
                        free(text);
                        break;
                }
                case RB_STEP_CHOOSE: {
                        char **labels = rr_labels(r, s, &e);

                        if (!labels) {
                                rr_show(r, "  error: %s", e.msg);
                                rc = 1;
                                break;
                        }
                        for (size_t c = 0; c < s->n_choices; c++)
                                rr_show(r, "  %zu. %s -> %s", c + 1, labels[c],
                                        s->choices[c].go);
                        rr_argv_free(labels);
                        break;
                }
                }
                if (s->has_next)
                        rr_show(r, "  then: %s", s->next);
        }
        for (size_t k = 0; k < rb->n_verify; k++) {
                rr_show(r, "verify %zu/%zu", k + 1, rb->n_verify);
                rr_dry_cond(r, &rb->verify[k]);
        }
        return rc;
}

/* --- the run ------------------------------------------------------------------ */

static bool rr_left(const struct rr *r)
{
        return r->drv->left && r->drv->left(r->drv->arg);
}

static int rr_end(struct rr *r, const char *result, struct err *err)
{
        cJSON *o;
        int rc;

        /* The operator left (the console quits): no end record, so the run
         * can be resumed where it stopped. */
        if (strcmp(result, "ok") != 0 && rr_left(r)) {
                rr_show(r, "left: the run stays resumable");
                return 0;
        }
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "ev", "end");
        cJSON_AddStringToObject(o, "result", result);
        rc = rr_append(r, o, err);
        cJSON_Delete(o);
        return rc;
}

/* The verify conditions, in order. 0 all held, 1 one failed, 2 aborted, 73
 * ledger. */
static int rr_verify(struct rr *r, struct err *err)
{
        for (size_t k = 0; k < r->rb->n_verify; k++) {
                const struct runbook_cond *c = &r->rb->verify[k];
                int64_t t0 = rr_now(r);
                char *values = NULL, *source = NULL;
                struct err e;
                enum rr_res res;
                cJSON *o;
                int rc;

                err_clear(&e);
                rr_show(r, "verify %zu/%zu: %s", k + 1, r->rb->n_verify, expr_text(c->expr));
                res = rr_poll(r, "verify", c, c->for_ms,
                              c->timeout_ms > 0 ? c->timeout_ms : RUNBOOK_STEP_TIMEOUT_MS,
                              &values, &source, &e);
                o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "ev", "verify");
                cJSON_AddNumberToObject(o, "index", (double)k);
                cJSON_AddStringToObject(o, "source", source ? source : c->source);
                cJSON_AddStringToObject(o, "expr", expr_text(c->expr));
                cJSON_AddStringToObject(o, "result", rr_res_names[res]);
                if (values)
                        cJSON_AddStringToObject(o, "values", values);
                if (res != RR_OK)
                        rr_add_text(o, "error", e.msg);
                cJSON_AddNumberToObject(o, "duration_ms", (double)(rr_now(r) - t0));
                rc = rr_append(r, o, err);
                cJSON_Delete(o);
                free(values);
                free(source);
                if (rc != 0)
                        return 73;
                if (res != RR_OK) {
                        err_set(err, e.code, "verify %zu (%s): %s", k + 1, expr_text(c->expr),
                                e.msg);
                        return res == RR_CANCELLED ? 2 : 1;
                }
                rr_show(r, "  verify %zu: ok", k + 1);
        }
        return 0;
}

/* Runs the steps from `from` (done_mut: steps a resumed run must not
 * repeat without asking, or NULL; interrupted: the index of a step whose
 * start has no end, or -1). Returns the exit code. */
static int rr_steps(struct rr *r, size_t from, const bool *done_mut, long interrupted,
                    struct err *err)
{
        const struct runbook *rb = r->rb;
        size_t i = from, runs = 0;

        while (i < rb->n_steps) {
                const struct runbook_step *s = &rb->steps[i];
                bool mut = rr_mutating(r, s);
                /* Where a success goes: `next:` when given. A choose step
                 * has none (the loader refuses it): its choice sets next. */
                size_t ok_next = s->has_next ? s->next_index : i + 1;
                size_t next = ok_next;

                if (++runs > RUNBOOK_MAX_STEP_RUNS) {
                        err_set(err, ELOOP, "more than %d steps run: the gotos of %s loop",
                                RUNBOOK_MAX_STEP_RUNS, rb->id);
                        rr_end(r, "failed", NULL);
                        return 1;
                }
                /* wait(0): has the operator aborted meanwhile (the console's
                 * abort key while a step that does not ask was running)? */
                if (rr_pause(r, 0)) {
                        err_set(err, EINTR, "aborted by the operator before step %s", s->id);
                        rr_end(r, "aborted", NULL);
                        return 2;
                }
                rr_show(r, "step %zu/%zu %s (%s)%s%s", i + 1, rb->n_steps, s->id,
                        runbook_step_kind_name(s->kind), s->title ? ": " : "",
                        s->title ? s->title : "");
                if (mut && ((done_mut && done_mut[i]) || (long)i == interrupted)) {
                        /* After a resume: a change that happened (or may have)
                         * is never made again without the operator saying so,
                         * --yes or not. */
                        const char *why = done_mut && done_mut[i]
                                ? "completed before the run was resumed"
                                : "was interrupted: its change may or may not have happened";
                        char *q = xasprintf("Step %s %s. Run it again?", s->id, why);
                        enum runbook_answer a;
                        cJSON *o;

                        rr_show(r, "%s", q);
                        a = r->drv->confirm ? r->drv->confirm(r->drv->arg, q, NULL) : RB_ANS_NO;

                        free(q);
                        interrupted = -1;
                        if (a == RB_ANS_ABORT) {
                                /* No end record: the run stays resumable. */
                                err_set(err, ECANCELED, "step %s %s; resume the run on a "
                                        "terminal to decide whether it runs again", s->id, why);
                                return 2;
                        }
                        if (a == RB_ANS_NO || a == RB_ANS_SKIP) {
                                o = rr_step_rec(r, i, mut, "end");
                                cJSON_AddStringToObject(o, "result", "skipped");
                                cJSON_AddNumberToObject(o, "attempt", 0);
                                cJSON_AddStringToObject(o, "error", why);
                                cJSON_AddStringToObject(o, "user", r->user);
                                cJSON_AddNumberToObject(o, "duration_ms", 0);
                                cJSON_AddNumberToObject(o, "next", (double)next);
                                rr_show(r, "  skipped: it %s", why);
                                if (rr_append(r, o, err) != 0) {
                                        cJSON_Delete(o);
                                        return 73;
                                }
                                cJSON_Delete(o);
                                i = next;
                                continue;
                        }
                }
                for (int attempt = 1;; attempt++) {
                        cJSON *st = rr_step_rec(r, i, mut, "start"), *en;
                        enum rr_res res;
                        struct err e;
                        int64_t t0;
                        bool retry = false, stop = false;

                        cJSON_AddNumberToObject(st, "attempt", attempt);
                        cJSON_AddStringToObject(st, "user", r->user);
                        if (rr_append(r, st, err) != 0) {
                                cJSON_Delete(st);
                                return 73;
                        }
                        cJSON_Delete(st);
                        en = rr_step_rec(r, i, mut, "end");
                        err_clear(&e);
                        t0 = rr_now(r);
                        next = ok_next;
                        {
                                cJSON *body = cJSON_CreateObject(), *it;

                                res = rr_step(r, i, body, &next, &e);
                                cJSON_AddStringToObject(en, "result", rr_res_names[res]);
                                cJSON_AddNumberToObject(en, "attempt", attempt);
                                while ((it = body->child)) {
                                        cJSON_DetachItemViaPointer(body, it);
                                        cJSON_AddItemToObject(en, it->string, it);
                                }
                                cJSON_Delete(body);
                        }
                        if (res != RR_OK)
                                rr_add_text(en, "error", e.msg[0] ? e.msg : "failed");
                        cJSON_AddStringToObject(en, "user", r->user);
                        cJSON_AddNumberToObject(en, "duration_ms", (double)(rr_now(r) - t0));
                        if (res == RR_SKIPPED) {
                                next = ok_next;
                        } else if (res == RR_FAILED && attempt <= s->retries) {
                                retry = true;
                                next = i;
                        } else if (res == RR_FAILED && s->on_fail == RB_FAIL_CONTINUE) {
                                next = i + 1;
                        } else if (res == RR_FAILED && s->on_fail == RB_FAIL_GOTO) {
                                next = s->on_fail_index;
                        } else if (res != RR_OK) {
                                stop = true;
                        }
                        if (!stop)
                                cJSON_AddNumberToObject(en, "next", (double)next);
                        if (rr_append(r, en, err) != 0) {
                                cJSON_Delete(en);
                                return 73;
                        }
                        cJSON_Delete(en);
                        if (res == RR_OK) {
                                rr_show(r, "  ok");
                                break;
                        }
                        rr_show(r, "  %s: %s", rr_res_names[res], e.msg);
                        if (res == RR_SKIPPED)
                                break;
                        if (stop && res == RR_FAILED && r->drv->failed && !rr_left(r)) {
                                /* The console asks: retry, skip, or stop. */
                                enum runbook_answer a = r->drv->failed(r->drv->arg, s->id,
                                                                       e.msg);

                                if (a == RB_ANS_YES) {
                                        rr_show(r, "  retrying (attempt %d), as the operator "
                                                "asked", attempt + 1);
                                        continue;
                                }
                                if (a == RB_ANS_SKIP) {
                                        cJSON *o = rr_step_rec(r, i, mut, "end");
                                        char *why = xasprintf(RR_SKIPPED_MSG " after it "
                                                              "failed: %s", e.msg);

                                        cJSON_AddStringToObject(o, "result", "skipped");
                                        cJSON_AddNumberToObject(o, "attempt", attempt);
                                        rr_add_text(o, "error", why);
                                        cJSON_AddStringToObject(o, "user", r->user);
                                        cJSON_AddNumberToObject(o, "duration_ms", 0);
                                        cJSON_AddNumberToObject(o, "next", (double)ok_next);
                                        free(why);
                                        rr_show(r, "  skipped");
                                        if (rr_append(r, o, err) != 0) {
                                                cJSON_Delete(o);
                                                return 73;
                                        }
                                        cJSON_Delete(o);
                                        next = ok_next;
                                        break;
                                }
                        }
                        if (stop) {
                                *err = e;
                                if (res == RR_CANCELLED) {
                                        rr_end(r, "aborted", NULL);
                                        return 2;
                                }
                                if (res == RR_REFUSED) {
                                        err_set(err, e.code, "step %s: %s", s->id, e.msg);
                                        rr_end(r, "refused", NULL);
                                        return 77;
                                }
                                err_set(err, e.code, "step %s failed: %s", s->id, e.msg);
                                rr_end(r, "failed", NULL);
                                return 1;
                        }
                        if (!retry)
                                break;
                        rr_show(r, "  retrying (attempt %d of %d)", attempt + 1,
                                s->retries + 1);
                        if (rr_pause(r, RUNBOOK_RETRY_MS)) {
                                err_set(err, EINTR, "aborted by the operator before a retry "
                                        "of %s", s->id);
                                rr_end(r, "aborted", NULL);
                                return 2;
                        }
                }
                i = next;
        }
        return 0;
}

/* Opens the ledger of opts->resume and finds where to go on. */
static int rr_resume(struct rr *r, size_t *from, bool **done_mut, long *interrupted,
                     struct err *err)
{
        cJSON *recs = ledger_read(r->o->resume, NULL, err), *o;
        long pt;
        int rc;

        if (!recs)
                return 66;
        /* Indices are positions in the runbook: one edited since the run
         * started could make a done step look undone. */
        cJSON_ArrayForEach(o, recs) {
                const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "ev");
                const cJSON *ix = cJSON_GetObjectItemCaseSensitive(o, "index");
                const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
                                                                                       "step"));

                if (!cJSON_IsString(ev) || strcmp(ev->valuestring, "step") != 0)
                        continue;
                if (!cJSON_IsNumber(ix) || ix->valuedouble < 0 ||
                    ix->valuedouble >= (double)r->rb->n_steps || !id ||
                    strcmp(r->rb->steps[(size_t)ix->valuedouble].id, id) != 0) {
                        err_set(err, EINVAL, "run %s: its steps do not match runbook %s as it "
                                "is now (%s): the runbook changed since the run started; "
                                "start a new run", r->o->resume, r->rb->id,
                                r->rb->path ? r->rb->path : "");
                        cJSON_Delete(recs);
                        return 66;
                }
        }
        *done_mut = xcalloc(r->rb->n_steps + 1, sizeof **done_mut);
        pt = ledger_resume_point(recs, r->rb->n_steps, *done_mut);
        *interrupted = pt >= 0 && ledger_step_interrupted(recs) ? pt : -1;
        cJSON_Delete(recs);
        if (pt < 0) {
                err_set(err, EALREADY, "run %s has ended: nothing to resume (see `lambdaops "
                        "runbook log %s`)", r->o->resume, r->o->resume);
                return 66;
        }
        if (ledger_open(&r->l, r->o->resume, err) != 0)
                return 73;
        r->have_ledger = true;
        *from = (size_t)pt;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "ev", "resume");
        cJSON_AddNumberToObject(o, "from", (double)pt);
        cJSON_AddStringToObject(o, "user", r->user);
        rc = rr_append(r, o, err);
        cJSON_Delete(o);
        return rc != 0 ? 73 : 0;
}

static int rr_begin(struct rr *r, const char *id, struct err *err)
{
        char *target = runbook_run_target(r->rb, r->in);
        cJSON *o, *ins;
        int rc;

        if (ledger_create(&r->l, id, r->rb->id, target, err) != 0) {
                free(target);
                return 73;
        }
        r->have_ledger = true;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "ev", "start");
        cJSON_AddStringToObject(o, "run", id);
        cJSON_AddStringToObject(o, "runbook", r->rb->id);
        cJSON_AddStringToObject(o, "file", r->rb->path ? r->rb->path : "");
        cJSON_AddStringToObject(o, "user", r->user);
        ins = cJSON_AddObjectToObject(o, "inputs");
        /* The texts as given, in the runbook's order: resume binds them again. */
        for (size_t i = 0; i < r->rb->n_inputs; i++) {
                const char *v = rr_input(r->in, r->rb->inputs[i].name);

                if (v)
                        cJSON_AddStringToObject(ins, r->rb->inputs[i].name, v);
        }
        cJSON_AddStringToObject(o, "target", target);
        rc = rr_append(r, o, err);
        cJSON_Delete(o);
        free(target);
        return rc != 0 ? 73 : 0;
}

int runbook_run(const struct runbook *rb, const struct runbook_inputs *in,
                const struct config *cfg, const struct runbook_driver *drv,
                const struct runbook_run_opts *opts, char **run_id, struct err *err)
{
        struct rr r;
        bool *done_mut = NULL;
        size_t from = 0;
        long interrupted = -1;
        char *id = NULL;
        int rc;

        if (run_id)
                *run_id = NULL;
        /* Nothing happens, not even a dry run, while an input is unbound. */
        if (runbook_inputs_check(rb, in, cfg, err) != 0)
                return 64;
        memset(&r, 0, sizeof r);
        r.rb = rb;
        r.in = in;
        r.cfg = cfg;
        r.drv = drv;
        r.o = opts;
        r.l.fd = r.l.lock_fd = -1;
        rr_user(r.user, sizeof r.user);
        r.inputs = runbook_inputs_json(rb, in);
        if (opts->dry_run) {
                rc = rr_dry_run(&r);
                cJSON_Delete(r.inputs);
                return rc;
        }
        r.audit_path = action_audit_path(cfg);
        if (opts->resume) {
                id = xstrdup(opts->resume);
                r.run_id = id;
                rc = rr_resume(&r, &from, &done_mut, &interrupted, err);
        } else {
                id = ledger_new_id(rb->id);
                r.run_id = id;
                rc = rr_begin(&r, id, err);
        }
        if (rc != 0)
                goto out;
        if (run_id)
                *run_id = xstrdup(id);
        rr_show(&r, "run %s of %s", id, rb->id);
        rc = rr_steps(&r, from, done_mut, interrupted, err);
        if (rc == 0) {
                rc = rr_verify(&r, err);
                if (rc == 0 || rc == 1 || rc == 2)
                        rr_end(&r, rc == 0 ? "ok" : rc == 1 ? "failed" : "aborted", NULL);
        }
        if ((rc == 1 || rc == 2) && rr_left(&r)) {
                err_set(err, ECANCELED, "left: run %s stays resumable (lambdaops runbook "
                        "resume %s)", id, id);
                rc = 2;
        }
out:
        if (r.have_ledger)
                ledger_close(&r.l);
        free(done_mut);
        free(id);
        free(r.audit_path);
        cJSON_Delete(r.inputs);
        return rc;
}
