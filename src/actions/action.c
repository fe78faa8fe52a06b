/*
 * action: plans, results, the audit log, the synchronous phases and the
 * worker thread the TUI runs them on. See action.h for the model.
 *
 * The worker. action_job_start() copies what it needs (strings, the plan),
 * starts one thread, and that thread runs one phase with a deadline of the
 * source's timeout and a stop pipe (action_job_free cancels through it).
 * The thread owns its HTTP client (the kind's action code creates one per
 * phase); it publishes `done` with a release store and writes one byte to
 * the app's wake pipe, so the UI loop wakes like on a snapshot publish and
 * collects the result with action_job_done() -- it never waits.
 *
 * The audit log is opened per line (O_APPEND makes each write() land at
 * the end even with several lambdaops processes), written with one write()
 * so lines never interleave, and fsync'd before we report the outcome.
 */
/* pipe2 with O_CLOEXEC, atomically (collector threads may be forking). */
#define _GNU_SOURCE
#include "actions/action.h"

#include <errno.h>
#include <fnmatch.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/fsdir.h"
#include "clients/http.h"
#include "core/redact.h"
#include "core/termsafe.h"
#include "core/jsonout.h"
#include "core/subproc.h"
#include "core/util.h"

static const char *const action_outcomes[] = {
        [ACT_OK] = "ok", [ACT_FAILED] = "failed", [ACT_REFUSED] = "refused",
        [ACT_CANCELLED] = "cancelled",
};

const char *action_outcome_name(enum action_outcome o)
{
        return (unsigned)o < LO_ARRAY_LEN(action_outcomes) ? action_outcomes[o] : "unknown";
}

/* --- plans and results ---------------------------------------------------- */

void action_plan_init(struct action_plan *p)
{
        memset(p, 0, sizeof *p);
}

void action_plan_done(struct action_plan *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++) {
                free(p->reqs[i].method);
                free(p->reqs[i].url);
                free(p->reqs[i].path);
                free(p->reqs[i].body);
        }
        free(p->reqs);
        for (size_t i = 0; i < p->n_cmds; i++) {
                for (size_t k = 0; k < p->cmds[i].argc; k++)
                        free(p->cmds[i].argv[k]);
                free(p->cmds[i].argv);
        }
        free(p->cmds);
        free(p->context);
        free(p->note);
        for (size_t i = 0; i < p->n_preview; i++)
                free(p->preview[i]);
        free(p->preview);
        if (p->priv && p->priv_free)
                p->priv_free(p->priv);
        memset(p, 0, sizeof *p);
}

/* The path + query of an URL ("/connectors/x/restart?a=b"). */
static const char *action_url_path(const char *url)
{
        const char *h = strstr(url, "://");
        const char *s;

        if (!h)
                return url;
        s = strchr(h + 3, '/');
        return s ? s : "/";
}

void action_plan_add(struct action_plan *p, const char *method, const char *url,
                     const char *body)
{
        struct action_http *r;

        p->reqs = xrealloc(p->reqs, (p->n + 1) * sizeof *p->reqs);
        r = &p->reqs[p->n++];
        r->method = xstrdup(method);
        r->url = http_url_mask(url);
        r->path = xstrdup(action_url_path(r->url));
        r->body = xstrdup(body);
}

void action_plan_preview(struct action_plan *p, const char *fmt, ...)
{
        va_list ap;
        char buf[512];

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        p->preview = xrealloc(p->preview, (p->n_preview + 1) * sizeof *p->preview);
        p->preview[p->n_preview++] = xstrdup(buf);
}

void action_plan_add_argv(struct action_plan *p, char *const argv[], int64_t timeout_ms)
{
        struct action_cmd *c;
        size_t n = 0;

        while (argv[n])
                n++;
        p->cmds = xrealloc(p->cmds, (p->n_cmds + 1) * sizeof *p->cmds);
        c = &p->cmds[p->n_cmds++];
        c->argc = n;
        c->argv = xmalloc((n + 1) * sizeof *c->argv);
        for (size_t i = 0; i < n; i++)
                c->argv[i] = xstrdup(argv[i]);
        c->argv[n] = NULL;
        c->timeout_ms = timeout_ms > 0 ? timeout_ms : ACTION_CMD_TIMEOUT_MS;
}

void action_plan_set_context(struct action_plan *p, const char *context)
{
        free(p->context);
        p->context = context ? xstrdup(context) : NULL;
}

void action_plan_copy_cmds(struct action_plan *dst, const struct action_plan *src)
{
        for (size_t i = 0; i < src->n_cmds; i++)
                action_plan_add_argv(dst, src->cmds[i].argv, src->cmds[i].timeout_ms);
        if (src->context)
                action_plan_set_context(dst, src->context);
}

static bool action_word_plain(const char *w)
{
        if (!*w)
                return false;
        for (; *w; w++)
                if (!((*w >= 'A' && *w <= 'Z') || (*w >= 'a' && *w <= 'z') ||
                      (*w >= '0' && *w <= '9') || strchr("_./:=@%+,-", *w)))
                        return false;
        return true;
}

char *action_argv_text(char *const argv[])
{
        size_t cap = 1, len = 0;
        char *s;

        for (size_t i = 0; argv[i]; i++) {
                cap += 3;
                for (const char *c = argv[i]; *c; c++)
                        cap += *c == '\'' ? 4 : 1;
        }
        s = xmalloc(cap);
        for (size_t i = 0; argv[i]; i++) {
                if (i)
                        s[len++] = ' ';
                if (action_word_plain(argv[i])) {
                        size_t l = strlen(argv[i]);
                        memcpy(s + len, argv[i], l);
                        len += l;
                        continue;
                }
                s[len++] = '\'';
                for (const char *c = argv[i]; *c; c++) {
                        if (*c == '\'') {
                                memcpy(s + len, "'\\''", 4);
                                len += 4;
                        } else {
                                s[len++] = *c;
                        }
                }
                s[len++] = '\'';
        }
        s[len] = '\0';
        return s;
}

/* Appends to an owned string. */
static void action_cat(char **s, const char *sep, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void action_cat(char **s, const char *sep, const char *fmt, ...)
{
        va_list ap;
        char *add, *n;
        int len;

        va_start(ap, fmt);
        len = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        add = xmalloc((size_t)len + 1);
        va_start(ap, fmt);
        vsnprintf(add, (size_t)len + 1, fmt, ap);
        va_end(ap);
        n = *s ? xasprintf("%s%s%s", *s, sep, add) : add;
        if (*s) {
                free(*s);
                free(add);
        }
        *s = n;
}

char *action_plan_text(const struct action_plan *p)
{
        char *s = NULL;

        for (size_t i = 0; i < p->n; i++) {
                action_cat(&s, "\n", "%s %s", p->reqs[i].method, p->reqs[i].url);
                if (p->reqs[i].body)
                        action_cat(&s, "\n", "  body: %s", p->reqs[i].body);
        }
        for (size_t i = 0; i < p->n_cmds; i++) {
                char *a = action_argv_text(p->cmds[i].argv);
                action_cat(&s, "\n", "$ %s", a);
                free(a);
        }
        if (p->context)
                action_cat(&s, "\n", "context: %s", p->context);
        if (p->note)
                action_cat(&s, "\n", "%s", p->note);
        for (size_t i = 0; i < p->n_preview; i++)
                action_cat(&s, "\n", "%s", p->preview[i]);
        return s ? s : xstrdup("(no request)");
}

char *action_plan_summary(const struct action_plan *p)
{
        char *s = NULL;

        for (size_t i = 0; i < p->n; i++)
                action_cat(&s, "; ", "%s %s", p->reqs[i].method, p->reqs[i].path);
        for (size_t i = 0; i < p->n_cmds; i++) {
                char *a = action_argv_text(p->cmds[i].argv);
                action_cat(&s, "; ", "%s", a);
                free(a);
        }
        return s;
}

/* "kubectl exited with status 1: Error from server (NotFound): ..." -- the
 * last non-empty line of the output says why. */
static void action_cmd_failed(struct err *e, const char *prog, int code, const char *out)
{
        const char *end = out ? out + strlen(out) : NULL, *start;

        while (end && end > out && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
                end--;
        if (!end || end == out) {
                err_set(e, 0, "%s exited with status %d", prog, code);
                return;
        }
        start = end;
        while (start > out && start[-1] != '\n')
                start--;
        err_set(e, 0, "%s exited with status %d: %.*s", prog, code,
                (int)(end - start > 160 ? 160 : end - start), start);
}

void action_run_cmds(const struct action_ctx *x, const struct action_plan *plan,
                     struct action_result *r)
{
        r->outcome = ACT_OK;
        r->status = 0;
        for (size_t i = 0; i < plan->n_cmds; i++) {
                const struct action_cmd *c = &plan->cmds[i];
                struct subproc_result sr;
                char *a = action_argv_text(c->argv);
                struct err e;
                int rc;

                err_clear(&e);
                action_result_out(r, "$ %s", a);
                if (r->requests) {
                        char *n = xasprintf("%s; %s", r->requests, a);
                        free(r->requests);
                        r->requests = n;
                } else {
                        r->requests = xstrdup(a);
                }
                rc = subproc_run(c->argv, 0, c->timeout_ms, x->cc ? x->cc->stop_fd : -1,
                                 &sr, &e);
                if (rc != 0) {
                        r->outcome = ACT_FAILED;
                        r->status = 127;
                        err_set(&r->err, 0, "%s: %s", c->argv[0], e.msg);
                } else {
                        if (sr.len)
                                action_result_out(r, "%s%s", sr.out,
                                                  sr.truncated ? "\n[output truncated]" : "");
                        if (sr.timed_out || sr.exit_code != 0) {
                                r->outcome = ACT_FAILED;
                                r->status = sr.exit_code;
                                if (sr.timed_out)
                                        err_set(&r->err, 0, "%s: timed out after %lld ms",
                                                c->argv[0], (long long)c->timeout_ms);
                                else
                                        action_cmd_failed(&r->err, c->argv[0], sr.exit_code,
                                                          sr.out);
                        }
                }
                subproc_result_done(&sr);
                free(a);
                if (r->outcome != ACT_OK)
                        return;
        }
}

void action_result_init(struct action_result *r)
{
        memset(r, 0, sizeof *r);
        r->outcome = ACT_FAILED;
}

void action_result_done(struct action_result *r)
{
        if (!r)
                return;
        free(r->output);
        free(r->requests);
        memset(r, 0, sizeof *r);
}

void action_result_out(struct action_result *r, const char *fmt, ...)
{
        va_list ap;
        char buf[1024];

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        action_cat(&r->output, "\n", "%s", buf);
}

void action_result_sent(struct action_result *r, const char *method, const char *path)
{
        action_cat(&r->requests, "; ", "%s %s", method, path);
}

/* --- lookup and policy ---------------------------------------------------- */

const struct action_def *action_find(const struct collector_ops *ops, const char *name)
{
        if (!ops || !ops->actions || !name)
                return NULL;
        for (const struct action_def *d = ops->actions; d->name; d++)
                if (strcmp(d->name, name) == 0)
                        return d;
        return NULL;
}

const struct action_def *action_for_key(const struct collector_ops *ops, int key)
{
        if (!ops || !ops->actions)
                return NULL;
        for (const struct action_def *d = ops->actions; d->name; d++)
                if (d->key == key)
                        return d;
        return NULL;
}

const struct action_kind *action_kind_find(const char *kind)
{
        const struct collector_ops *ops = kind ? collector_find(kind) : NULL;

        return ops ? ops->action_kind : NULL;
}

bool action_user_applies(const struct action_def *d, const char *kind)
{
        const struct action_kind *k = action_kind_find(kind);

        return k && k->user_applies && k->user_applies(d, kind);
}

const char *action_source_context(const struct source_cfg *src)
{
        const struct action_kind *k = action_kind_find(src ? src->kind : NULL);

        return k && k->context_cfg ? k->context_cfg(src) : NULL;
}

bool action_context_dangerous(const struct config *cfg, const char *context)
{
        if (!cfg || !context || !*context)
                return false;
        for (size_t i = 0; i < cfg->danger_contexts.n; i++)
                if (fnmatch(cfg->danger_contexts.v[i], context, 0) == 0)
                        return true;
        return false;
}

/* User-defined actions apply where their kind's plug-in says. */
static bool action_user_kind(const struct source_cfg *src, const struct action_def *d)
{
        if (!src || !src->kind)
                return false;
        return action_user_applies(d, src->kind);
}

void action_each(const struct config *cfg, const struct source_cfg *src,
                 void (*fn)(const struct action_def *d, void *user), void *user)
{
        if (src && src->ops && src->ops->actions)
                for (const struct action_def *d = src->ops->actions; d->name; d++)
                        fn(d, user);
        if (cfg && cfg->user_actions)
                for (const struct action_def *d = cfg->user_actions; d->name; d++)
                        if (action_user_kind(src, d))
                                fn(d, user);
}

struct action_find_ctx {
        const char *name;
        int key;
        const char *target;
        const struct action_def *first, *best;
};

static void action_find_one(const struct action_def *d, void *user)
{
        struct action_find_ctx *f = user;

        if (f->name) {
                if (!f->first && strcmp(d->name, f->name) == 0)
                        f->first = d;
                return;
        }
        if (d->key != f->key)
                return;
        if (!f->first)
                f->first = d;
        if (!f->best && f->target && action_target_ok(d, f->target, NULL))
                f->best = d;
}

const struct action_def *action_lookup(const struct config *cfg, const struct source_cfg *src,
                                       const char *name)
{
        struct action_find_ctx f = { .name = name };

        if (!name)
                return NULL;
        action_each(cfg, src, action_find_one, &f);
        return f.first;
}

const struct action_def *action_lookup_key(const struct config *cfg,
                                           const struct source_cfg *src, int key,
                                           const char *target)
{
        struct action_find_ctx f = { .key = key, .target = target };

        if (!key)
                return NULL;
        action_each(cfg, src, action_find_one, &f);
        return f.best ? f.best : f.first;
}

/* Every action plug-in checks the actions it knows (and passes the rest). */
bool action_target_ok(const struct action_def *d, const char *target, struct err *err)
{
        for (size_t i = 0; collector_registry[i]; i++) {
                const struct action_kind *k = collector_registry[i]->action_kind;

                if (k && k->target_ok && !k->target_ok(d, target, err))
                        return false;
        }
        return true;
}

bool action_allowed(const struct action_def *d, bool read_only, struct err *err)
{
        if (read_only && (d->flags & ACTION_F_MUTATING)) {
                err_set(err, EPERM, "read-only: actions are disabled");
                return false;
        }
        return true;
}

/* --- the audit log ------------------------------------------------------ */

char *action_audit_path(const struct config *cfg)
{
        const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

        if (cfg && cfg->audit_log && *cfg->audit_log) {
                if (strncmp(cfg->audit_log, "~/", 2) == 0 && home && *home)
                        return xasprintf("%s%s", home, cfg->audit_log + 1);
                return xstrdup(cfg->audit_log);
        }
        if (x && *x == '/')
                return xasprintf("%s/lambdaops/audit.jsonl", x);
        if (!home || !*home) {
                const struct passwd *pw = getpwuid(getuid());
                home = pw && pw->pw_dir ? pw->pw_dir : "/tmp";
        }
        return xasprintf("%s/.local/state/lambdaops/audit.jsonl", home);
}

static void action_user(char *buf, size_t n)
{
        struct passwd pw, *res = NULL;
        char tmp[1024];

        if (getpwuid_r(getuid(), &pw, tmp, sizeof tmp, &res) == 0 && res && res->pw_name)
                str_copy(buf, res->pw_name, n);
        else
                snprintf(buf, n, "uid:%u", (unsigned)getuid());
}

/* Adds text with credentials by shape masked (NULL or "" = null). */
static void action_audit_text(cJSON *o, const char *key, const char *v)
{
        char *r = redact_dup(v, NULL);

        json_add_text(o, key, r);
        free(r);
}

static cJSON *action_audit_string(const char *v)
{
        char *r = redact_dup(v, NULL);
        cJSON *j = cJSON_CreateString(r ? r : "");

        free(r);
        return j;
}

/* The command line words, escaped and bounded (see action.h). */
static void action_audit_args(cJSON *o, char *const *args, size_t n)
{
        char buf[ACTION_AUDIT_ARG_BYTES + 8];
        cJSON *all;

        if (!args) {
                cJSON_AddNullToObject(o, "args");
                return;
        }
        all = cJSON_AddArrayToObject(o, "args");
        for (size_t i = 0; i < n && i < ACTION_AUDIT_ARGS_MAX; i++) {
                size_t need = termsafe_copy(args[i], TERMSAFE_LINE, buf,
                                            ACTION_AUDIT_ARG_BYTES + 1);

                if (need > ACTION_AUDIT_ARG_BYTES)
                        str_copy(buf + strlen(buf), "...", 4);
                cJSON_AddItemToArray(all, action_audit_string(buf));
        }
        if (n > ACTION_AUDIT_ARGS_MAX) {
                snprintf(buf, sizeof buf, "... (%zu more)", n - ACTION_AUDIT_ARGS_MAX);
                cJSON_AddItemToArray(all, cJSON_CreateString(buf));
        }
}

char *action_audit_line(const struct action_audit *a, int64_t wall_ms)
{
        cJSON *o = cJSON_CreateObject();
        char t[40], user[128], host[256];
        char *s;

        fmt_rfc3339(wall_ms, t, sizeof t);
        action_user(user, sizeof user);
        if (gethostname(host, sizeof host) != 0)
                str_copy(host, "unknown", sizeof host);
        host[sizeof host - 1] = '\0';
        cJSON_AddStringToObject(o, "time", t);
        cJSON_AddStringToObject(o, "user", user);
        cJSON_AddStringToObject(o, "host", host);
        json_add_text(o, "environment", a->environment);
        json_add_text(o, "via", a->via);
        json_add_text(o, "source", a->source);
        json_add_text(o, "kind", a->kind);
        json_add_text(o, "action", a->action);
        json_add_text(o, "target", a->target);
        json_add_text(o, "context", a->context);
        action_audit_text(o, "request", a->request);
        if (a->cmds && a->n_cmds) {
                cJSON *all = cJSON_AddArrayToObject(o, "argv");
                for (size_t i = 0; i < a->n_cmds; i++) {
                        cJSON *one = cJSON_CreateArray();
                        for (size_t k = 0; k < a->cmds[i].argc; k++)
                                cJSON_AddItemToArray(one,
                                                     action_audit_string(a->cmds[i].argv[k]));
                        cJSON_AddItemToArray(all, one);
                }
        } else {
                cJSON_AddNullToObject(o, "argv");
        }
        cJSON_AddBoolToObject(o, "dry_run", a->dry_run);
        cJSON_AddStringToObject(o, "outcome", action_outcome_name(a->outcome));
        if (a->status)
                cJSON_AddNumberToObject(o, "status", (double)a->status);
        else
                cJSON_AddNullToObject(o, "status");
        if (a->duration_ms >= 0)
                cJSON_AddNumberToObject(o, "duration_ms", (double)a->duration_ms);
        else
                cJSON_AddNullToObject(o, "duration_ms");
        action_audit_text(o, "error", a->error);
        json_add_text(o, "reason", a->reason);
        action_audit_args(o, a->args, a->n_args);
        if (a->run)
                json_add_text(o, "run", a->run);
        s = json_print_safe(o);        /* C1 escaped too: people `tail` this file */
        cJSON_Delete(o);
        return s;
}

/* mkdir -p of path's parent directory, new levels 0700. */
static int action_mkdirs(const char *path, struct err *err)
{
        char *d;

        if (fsdir_make_parents(path, 0700, &d) != 0) {
                err_set(err, errno, "audit log: cannot create %s: %s", d, strerror(errno));
                free(d);
                return -1;
        }
        return 0;
}

int action_audit(const char *path, const struct action_audit *a, struct err *err)
{
        char *line = action_audit_line(a, clock_wall_ms()), *buf;
        size_t len;
        ssize_t w;
        int fd, rc = 0;

        buf = xasprintf("%s\n", line);
        free(line);
        len = strlen(buf);
        if (action_mkdirs(path, err) != 0) {
                free(buf);
                return -1;
        }
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
                err_set(err, errno, "audit log %s: %s (set audit_log: in the config)", path,
                        strerror(errno));
                free(buf);
                return -1;
        }
        do
                w = write(fd, buf, len);
        while (w < 0 && errno == EINTR);
        if (w != (ssize_t)len) {
                err_set(err, w < 0 ? errno : EIO, "audit log %s: short write: %s", path,
                        w < 0 ? strerror(errno) : "disk full?");
                rc = -1;
        } else if (fsync(fd) != 0) {
                err_set(err, errno, "audit log %s: fsync: %s", path, strerror(errno));
                rc = -1;
        }
        close(fd);
        free(buf);
        return rc;
}

/* --- the phases ------------------------------------------------------------ */

static void action_ctx_make(const struct source_cfg *src, int stop_fd, struct coll_ctx *cc)
{
        memset(cc, 0, sizeof *cc);
        cc->stop_fd = stop_fd;
        cc->now_mono = clock_mono_ms();
        cc->timeout_ms = src->timeout_ms > 0 ? src->timeout_ms : 10000;
        cc->deadline_mono = cc->now_mono + cc->timeout_ms;
}

static int action_prepare_fd(const struct action_def *d, const struct source_cfg *src,
                             const char *target, const char *arg, bool dry_run, int stop_fd,
                             struct action_plan *plan, struct err *err)
{
        struct coll_ctx cc;
        struct action_ctx x = { .src = src, .def = d, .target = target, .arg = arg, .cc = &cc,
                                .dry_run = dry_run };

        action_ctx_make(src, stop_fd, &cc);
        action_plan_init(plan);
        if (d->prepare(&x, plan, err) != 0) {
                action_plan_done(plan);
                return -1;
        }
        return 0;
}

static void action_run_fd(const struct action_def *d, const struct source_cfg *src,
                          const char *target, const char *arg, const struct action_plan *plan,
                          int stop_fd, struct action_result *res)
{
        struct coll_ctx cc;
        struct action_ctx x = { .src = src, .def = d, .target = target, .arg = arg,
                                .cc = &cc };

        action_ctx_make(src, stop_fd, &cc);
        action_result_init(res);
        d->run(&x, plan, res);
}

int action_prepare(const struct action_def *d, const struct source_cfg *src,
                   const char *target, const char *arg, bool dry_run,
                   struct action_plan *plan, struct err *err)
{
        return action_prepare_fd(d, src, target, arg, dry_run, -1, plan, err);
}

void action_run(const struct action_def *d, const struct source_cfg *src, const char *target,
                const char *arg, const struct action_plan *plan, struct action_result *res)
{
        action_run_fd(d, src, target, arg, plan, -1, res);
}

/* --- the worker thread ------------------------------------------------------ */

struct action_job {
        const struct action_def *def;
        const struct source_cfg *src;
        char  *target, *arg;
        enum action_phase phase;
        int    wake_fd;
        int    stop[2];
        pthread_t th;
        atomic_bool done;
        int64_t t0, t1;
        /* Results, written by the worker before `done`. */
        int    rc;
        struct err err;
        struct action_plan plan;        /* PREPARE: out; RUN: in */
        struct action_result res;
};

static void *action_job_main(void *arg)
{
        struct action_job *j = arg;
        char b = 1;

        if (j->phase == ACT_PHASE_PREPARE) {
                j->rc = action_prepare_fd(j->def, j->src, j->target, j->arg, false, j->stop[0],
                                          &j->plan, &j->err);
        } else {
                action_run_fd(j->def, j->src, j->target, j->arg, &j->plan, j->stop[0],
                              &j->res);
                j->rc = j->res.outcome == ACT_OK ? 0 : -1;
        }
        j->t1 = clock_mono_ms();
        atomic_store_explicit(&j->done, true, memory_order_release);
        if (j->wake_fd >= 0 && write(j->wake_fd, &b, 1) < 0) {
                /* A full pipe already means "wake up". */
        }
        return NULL;
}

struct action_job *action_job_start(const struct action_def *d, const struct source_cfg *src,
                                    const char *target, const char *arg,
                                    enum action_phase phase, struct action_plan *plan,
                                    int wake_fd)
{
        struct action_job *j = xcalloc(1, sizeof *j);

        j->def = d;
        j->src = src;
        j->target = xstrdup(target);
        j->arg = xstrdup(arg);
        j->phase = phase;
        j->wake_fd = wake_fd;
        j->t0 = clock_mono_ms();
        atomic_init(&j->done, false);
        action_plan_init(&j->plan);
        action_result_init(&j->res);
        if (phase == ACT_PHASE_RUN && plan) {
                j->plan = *plan;
                action_plan_init(plan);
        }
        if (pipe2(j->stop, O_CLOEXEC) != 0) {
                j->stop[0] = j->stop[1] = -1;
        }
        if (pthread_create(&j->th, NULL, action_job_main, j) != 0) {
                if (phase == ACT_PHASE_RUN && plan) {
                        *plan = j->plan;
                        action_plan_init(&j->plan);
                }
                if (j->stop[0] >= 0) {
                        close(j->stop[0]);
                        close(j->stop[1]);
                }
                action_plan_done(&j->plan);
                free(j->target);
                free(j->arg);
                free(j);
                return NULL;
        }
        return j;
}

bool action_job_done(struct action_job *j)
{
        return atomic_load_explicit(&j->done, memory_order_acquire);
}

int action_job_prepare_rc(struct action_job *j, struct action_plan *plan, struct err *err)
{
        if (plan) {
                *plan = j->plan;
                action_plan_init(&j->plan);
        }
        if (err)
                *err = j->err;
        return j->rc;
}

void action_job_result(struct action_job *j, struct action_result *res)
{
        *res = j->res;
        action_result_init(&j->res);
}

int64_t action_job_duration_ms(const struct action_job *j)
{
        return j->t1 - j->t0;
}

void action_job_free(struct action_job *j)
{
        char b = 1;

        if (!j)
                return;
        if (!action_job_done(j) && j->stop[1] >= 0 && write(j->stop[1], &b, 1) < 0) {
                /* Then the deadline ends it. */
        }
        pthread_join(j->th, NULL);
        if (j->stop[0] >= 0) {
                close(j->stop[0]);
                close(j->stop[1]);
        }
        action_plan_done(&j->plan);
        action_result_done(&j->res);
        free(j->target);
        free(j->arg);
        free(j);
}
