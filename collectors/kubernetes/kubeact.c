/*
 * kubeact: kubectl/helm actions and user-defined actions (see kubeact.h).
 *
 * A plan is built word by word in a struct kubeact_argv; no string is ever
 * split or joined into a command line (action_argv_text quotes words for
 * display only). The kubectl prefix is the same for every kubectl step:
 *
 *   KUBECTL [--kubeconfig FILE] --context CTX [--cache-dir DIR] [-n NS] ...
 *
 * Object names go in as KIND/NAME words ("pod/x"), which kubectl never
 * reads as an option whatever NAME holds; helm gets the release name after
 * its options, and names starting with '-' are refused.
 */
#define _GNU_SOURCE
#include "collectors/kubernetes/kubeact.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "core/collector.h"
#include "core/config.h"
#include "clients/kube/kube.h"
#include "collectors/kubernetes/kubernetes.h"
#include "core/subproc.h"
#include "core/util.h"

#define KUBEACT_LOG_TIMEOUT_MS 30000
#define KUBEACT_GET_TIMEOUT_MS 20000

/* --- argv building ------------------------------------------------------ */

struct kubeact_argv {
        char  **v;      /* owned words, NULL-terminated */
        size_t  n, cap;
};

static void kubeact_argv_add(struct kubeact_argv *a, const char *w)
{
        if (a->n + 2 > a->cap) {
                a->cap = a->cap ? a->cap * 2 : 16;
                a->v = xrealloc(a->v, a->cap * sizeof *a->v);
        }
        a->v[a->n++] = xstrdup(w);
        a->v[a->n] = NULL;
}

static void kubeact_argv_addf(struct kubeact_argv *a, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void kubeact_argv_addf(struct kubeact_argv *a, const char *fmt, ...)
{
        va_list ap;
        char *s;
        int len;

        va_start(ap, fmt);
        len = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        s = xmalloc((size_t)len + 1);
        va_start(ap, fmt);
        vsnprintf(s, (size_t)len + 1, fmt, ap);
        va_end(ap);
        kubeact_argv_add(a, s);
        free(s);
}

static void kubeact_argv_free(struct kubeact_argv *a)
{
        for (size_t i = 0; i < a->n; i++)
                free(a->v[i]);
        free(a->v);
        memset(a, 0, sizeof *a);
}

/* Adds the words as one plan step and empties a. */
static void kubeact_argv_plan(struct kubeact_argv *a, struct action_plan *p, int64_t timeout_ms)
{
        action_plan_add_argv(p, a->v, timeout_ms);
        kubeact_argv_free(a);
}

/* --- targets and scopes ------------------------------------------------- */

static bool kubeact_is_ours(const struct action_def *d);

int kubeact_target_parse(const char *scope, const char *target, struct kubeact_target *t,
                         struct err *err)
{
        const char *s1, *s2;

        memset(t, 0, sizeof *t);
        if (!target || !*target) {
                err_set(err, EINVAL, "no target");
                return -1;
        }
        s1 = strchr(target, '/');
        s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        if (scope && strcmp(scope, "sparkapplication") == 0) {
                if (strncmp(target, "scheduled:", 10) == 0) {
                        err_set(err, EINVAL, "not a SparkApplication (a "
                                "ScheduledSparkApplication): %.100s", target + 10);
                        return -1;
                }
                if (!s1 || s2 || s1 == target || !s1[1]) {
                        err_set(err, EINVAL, "target \"%.100s\": expected NAMESPACE/NAME",
                                target);
                        return -1;
                }
                snprintf(t->ns, sizeof t->ns, "%.*s", (int)(s1 - target), target);
                str_copy(t->kind, "sparkapplication", sizeof t->kind);
                str_copy(t->name, s1 + 1, sizeof t->name);
        } else if (s1 && !s2 && strncmp(target, "node/", 5) == 0 && target[5]) {
                str_copy(t->kind, "node", sizeof t->kind);
                str_copy(t->name, target + 5, sizeof t->name);
        } else if (s1 && s2 && s1 != target && s2 > s1 + 1 && s2[1] &&
                   (size_t)(s2 - s1 - 1) < sizeof t->kind) {
                snprintf(t->ns, sizeof t->ns, "%.*s", (int)(s1 - target), target);
                snprintf(t->kind, sizeof t->kind, "%.*s", (int)(s2 - s1 - 1), s1 + 1);
                str_copy(t->name, s2 + 1, sizeof t->name);
        } else {
                err_set(err, EINVAL, "target \"%.100s\": expected NAMESPACE/KIND/NAME or "
                        "node/NAME", target);
                return -1;
        }
        if (t->name[0] == '-' || t->ns[0] == '-') {
                err_set(err, EINVAL, "target \"%.100s\": a name may not start with '-'",
                        target);
                return -1;
        }
        return 0;
}

/* True when `kind` is one of the comma-separated words of scope. */
static bool kubeact_scope_has(const char *scope, const char *kind)
{
        size_t kl = strlen(kind);

        for (const char *p = scope; p && *p; ) {
                size_t l = strcspn(p, ",");

                if (l == kl && strncmp(p, kind, kl) == 0)
                        return true;
                p += l;
                while (*p == ',' || *p == ' ')
                        p++;
        }
        return false;
}

bool kubeact_target_ok(const struct action_def *d, const char *target, struct err *err)
{
        struct kubeact_target t;

        if (!d || !kubeact_is_ours(d))
                return true;
        if (kubeact_target_parse(d->scope, target, &t, err) != 0)
                return false;
        if (!kubeact_scope_has(d->scope, t.kind)) {
                char sc[96];

                str_copy(sc, d->scope, sizeof sc);
                for (char *c = sc; *c; c++)
                        if (*c == ',')
                                *c = '/';
                err_set(err, EINVAL, "%s applies to %s (this is a %s)", d->name, sc, t.kind);
                return false;
        }
        return true;
}

/* --- connection ----------------------------------------------------------- */

/* The kind cfg field `name` of type `type`, or NULL. */
static void *kubeact_field(const struct source_cfg *src, const char *name, enum cfg_type type)
{
        if (!src || !src->ops || !src->ops->keys || !src->kind_cfg)
                return NULL;
        for (const struct cfg_key *k = src->ops->keys; k->name; k++)
                if (k->type == type && strcmp(k->name, name) == 0)
                        return (char *)src->kind_cfg + k->off;
        return NULL;
}

/* The kubernetes source behind src (itself, or a spark source's
 * `kubernetes:` reference). */
static const struct source_cfg *kubeact_kube_source(const struct source_cfg *src)
{
        const struct cfg_source_ref *r = kubeact_field(src, "kubernetes", CFG_SOURCE);

        if (r && r->src)
                return r->src;
        return src;
}

static const char *kubeact_str(const struct source_cfg *src, const char *name)
{
        char **p = kubeact_field(src, name, CFG_STR);

        return p && *p && **p ? *p : NULL;
}

const char *kubeact_source_context_cfg(const struct source_cfg *src)
{
        if (!src || !src->kind || (strcmp(src->kind, "kubernetes") != 0 &&
                                   strcmp(src->kind, "spark") != 0))
                return NULL;
        return kubeact_str(kubeact_kube_source(src), "context");
}

int kubeact_source_conn(const struct source_cfg *src, char **kubeconfig, char **context,
                        struct err *err)
{
        const struct source_cfg *k = kubeact_kube_source(src);
        const char *kcfg = kubeact_str(k, "kubeconfig"), *ctx = kubeact_str(k, "context");
        struct kube_opts o = { .kubeconfig = kcfg, .context = ctx };
        struct kube_config *kc;

        *kubeconfig = xstrdup(kcfg);
        *context = NULL;
        if (ctx) {
                *context = xstrdup(ctx);
                return 0;
        }
        /* No context configured: the kubeconfig's current-context, named
         * explicitly so the command cannot follow a later `use-context`. */
        kc = kube_config_load(&o, err);
        if (!kc) {
                free(*kubeconfig);
                *kubeconfig = NULL;
                if (err && !err->msg[0])
                        err_set(err, EINVAL, "cannot resolve the Kubernetes context");
                return -1;
        }
        *context = xstrdup(kc->context);
        kube_config_free(kc);
        if (!*context || !**context) {
                free(*context);
                free(*kubeconfig);
                *context = *kubeconfig = NULL;
                err_set(err, EINVAL, "the kubeconfig has no current-context: set `context:` "
                        "on source %s", k ? k->name : "?");
                return -1;
        }
        return 0;
}

bool kubeact_context_dangerous(const struct config *cfg, const char *context)
{
        return action_context_dangerous(cfg, context);
}

/* --- what every kubectl/helm action shares --------------------------------- */

struct kubeact_env {
        const struct kubernetes_top_cfg *top;   /* the top-level keys, or NULL */
        char *kubeconfig;       /* owned or NULL */
        char *context;          /* owned */
        struct kubeact_target t;
};

static void kubeact_env_done(struct kubeact_env *e)
{
        free(e->kubeconfig);
        free(e->context);
        memset(e, 0, sizeof *e);
}

static const char *kubeact_env_kubectl(const struct kubeact_env *e)
{
        return e->top && e->top->kubectl && *e->top->kubectl ? e->top->kubectl : "kubectl";
}

static const char *kubeact_env_helm(const struct kubeact_env *e)
{
        return e->top && e->top->helm && *e->top->helm ? e->top->helm : "helm";
}

/* Parses the target, checks the scope and the argument, resolves the
 * connection, and sets the plan's context. */
static int kubeact_env_make(const struct action_ctx *x, struct action_plan *p,
                            struct kubeact_env *e, struct err *err)
{
        const struct action_def *d = x->def;

        memset(e, 0, sizeof *e);
        e->top = config_kind_cfg(x->src ? x->src->cfg : NULL, &coll_kubernetes_ops);
        if (!d) {
                err_set(err, EINVAL, "no action");
                return -1;
        }
        if (!kubeact_target_ok(d, x->target, err))
                return -1;
        kubeact_target_parse(d->scope, x->target, &e->t, NULL);
        if ((d->flags & ACTION_F_ARG) && !(d->flags & ACTION_F_ARG_OPT) &&
            (!x->arg || !*x->arg)) {
                err_set(err, EINVAL, "%s needs an argument: %s", d->name,
                        d->arg_label ? d->arg_label : "ARG");
                return -1;
        }
        if (x->arg && *x->arg && !(d->flags & ACTION_F_ARG)) {
                err_set(err, EINVAL, "%s takes no argument", d->name);
                return -1;
        }
        if (d->check_arg && x->arg && *x->arg && d->check_arg(d, x->arg, err) != 0)
                return -1;
        if (kubeact_source_conn(x->src, &e->kubeconfig, &e->context, err) != 0)
                return -1;
        action_plan_set_context(p, e->context);
        return 0;
}

/* KUBECTL [--kubeconfig F] --context C [--cache-dir D] [-n NS] */
static void kubeact_kubectl_prefix(const struct kubeact_env *e, struct kubeact_argv *a, bool ns)
{
        kubeact_argv_add(a, kubeact_env_kubectl(e));
        if (e->kubeconfig) {
                kubeact_argv_add(a, "--kubeconfig");
                kubeact_argv_add(a, e->kubeconfig);
        }
        kubeact_argv_add(a, "--context");
        kubeact_argv_add(a, e->context);
        if (e->top && e->top->kubectl_cache_dir && *e->top->kubectl_cache_dir) {
                kubeact_argv_add(a, "--cache-dir");
                kubeact_argv_add(a, e->top->kubectl_cache_dir);
        }
        if (ns && e->t.ns[0]) {
                kubeact_argv_add(a, "-n");
                kubeact_argv_add(a, e->t.ns);
        }
}

/* ... -n NS --kube-context C [--kubeconfig F] */
static void kubeact_helm_suffix(const struct kubeact_env *e, struct kubeact_argv *a)
{
        kubeact_argv_add(a, "-n");
        kubeact_argv_add(a, e->t.ns);
        kubeact_argv_add(a, "--kube-context");
        kubeact_argv_add(a, e->context);
        if (e->kubeconfig) {
                kubeact_argv_add(a, "--kubeconfig");
                kubeact_argv_add(a, e->kubeconfig);
        }
}

/* --- the built-in actions ---------------------------------------------------- */

int kubeact_check_replicas(const struct action_def *d, const char *arg, struct err *err)
{
        char *end;
        long v;

        (void)d;
        if (!arg || !*arg) {
                err_set(err, EINVAL, "replicas: expected a number 0..1000000");
                return -1;
        }
        for (const char *c = arg; *c; c++)
                if (*c < '0' || *c > '9') {
                        err_set(err, EINVAL, "replicas: \"%.40s\" is not a non-negative "
                                "integer", arg);
                        return -1;
                }
        errno = 0;
        v = strtol(arg, &end, 10);
        if (errno || *end || v > 1000000 || strlen(arg) > 7) {
                err_set(err, EINVAL, "replicas: %.40s is out of range 0..1000000", arg);
                return -1;
        }
        return 0;
}

static int kubeact_check_revision(const struct action_def *d, const char *arg, struct err *err)
{
        (void)d;
        if (!arg || !*arg)
                return 0;
        for (const char *c = arg; *c; c++)
                if (*c < '0' || *c > '9' || strlen(arg) > 9) {
                        err_set(err, EINVAL, "revision: \"%.40s\" is not a revision number "
                                "(empty: the previous one)", arg);
                        return -1;
                }
        if (strtol(arg, NULL, 10) < 1) {
                err_set(err, EINVAL, "revision: must be 1 or more");
                return -1;
        }
        return 0;
}

static int kubeact_check_chart(const struct action_def *d, const char *arg, struct err *err)
{
        (void)d;
        if (arg && arg[0] == '-') {
                err_set(err, EINVAL, "chart: \"%.40s\" looks like an option", arg);
                return -1;
        }
        return 0;
}

static int kubeact_check_container(const struct action_def *d, const char *arg,
                                   struct err *err)
{
        (void)d;
        if (arg && arg[0] == '-') {
                err_set(err, EINVAL, "container: \"%.40s\" looks like an option", arg);
                return -1;
        }
        return 0;
}

static int kubeact_prep_restart(const struct action_ctx *x, struct action_plan *p, struct err *err)
{
        struct kubeact_env e;
        struct kubeact_argv a = { 0 };

        if (kubeact_env_make(x, p, &e, err) != 0)
                return -1;
        kubeact_kubectl_prefix(&e, &a, true);
        kubeact_argv_add(&a, "rollout");
        kubeact_argv_add(&a, "restart");
        kubeact_argv_addf(&a, "%s/%s", e.t.kind, e.t.name);
        kubeact_argv_plan(&a, p, 0);
        kubeact_env_done(&e);
        return 0;
}

static int kubeact_prep_scale(const struct action_ctx *x, struct action_plan *p, struct err *err)
{
        struct kubeact_env e;
        struct kubeact_argv a = { 0 };

        if (kubeact_env_make(x, p, &e, err) != 0)
                return -1;
        kubeact_kubectl_prefix(&e, &a, true);
        kubeact_argv_add(&a, "scale");
        kubeact_argv_addf(&a, "%s/%s", e.t.kind, e.t.name);
        kubeact_argv_addf(&a, "--replicas=%s", x->arg);
        kubeact_argv_plan(&a, p, 0);
        kubeact_env_done(&e);
        return 0;
}

static int kubeact_prep_delete(const struct action_ctx *x, struct action_plan *p, struct err *err)
{
        struct kubeact_env e;
        struct kubeact_argv a = { 0 };

        if (kubeact_env_make(x, p, &e, err) != 0)
                return -1;
        kubeact_kubectl_prefix(&e, &a, true);
        kubeact_argv_add(&a, "delete");
        kubeact_argv_addf(&a, "pod/%s", e.t.name);
        kubeact_argv_add(&a, "--wait=false");
        kubeact_argv_plan(&a, p, 0);
        kubeact_env_done(&e);
        return 0;
}

static void kubeact_logs_argv(const struct kubeact_env *e, struct kubeact_argv *a, const char *pod,
                              bool previous, const char *container)
{
        kubeact_kubectl_prefix(e, a, true);
        kubeact_argv_add(a, "logs");
        kubeact_argv_addf(a, "pod/%s", pod);
        kubeact_argv_addf(a, "--tail=%d", KUBEACT_LOG_TAIL);
        if (previous)
                kubeact_argv_add(a, "--previous");
        if (container && *container) {
                kubeact_argv_add(a, "-c");
                kubeact_argv_add(a, container);
        }
}

static int kubeact_prep_logs_any(const struct action_ctx *x, struct action_plan *p, bool previous,
                                 struct err *err)
{
        struct kubeact_env e;
        struct kubeact_argv a = { 0 };

        if (kubeact_env_make(x, p, &e, err) != 0)
                return -1;
        kubeact_logs_argv(&e, &a, e.t.name, previous, x->arg);
        kubeact_argv_plan(&a, p, KUBEACT_LOG_TIMEOUT_MS);
        kubeact_env_done(&e);
        return 0;
}

static int kubeact_prep_logs(const struct action_ctx *x, struct action_plan *p, struct err *err)
{
        return kubeact_prep_logs_any(x, p, false, err);
}

static int kubeact_prep_logs_prev(const struct action_ctx *x, struct action_plan *p,
                                  struct err *err)
{
        return kubeact_prep_logs_any(x, p, true, err);
}

static int kubeact_prep_rollback(const struct action_ctx *x, struct action_plan *p, struct err *err)
{
        struct kubeact_env e;
        struct kubeact_argv a = { 0 };

        if (kubeact_env_make(x, p, &e, err) != 0)
                return -1;
        kubeact_argv_add(&a, kubeact_env_helm(&e));
        kubeact_argv_add(&a, "rollback");
        kubeact_argv_add(&a, e.t.name);
        if (x->arg && *x->arg)
                kubeact_argv_add(&a, x->arg);
        kubeact_helm_suffix(&e, &a);
        kubeact_argv_add(&a, "--wait");
        kubeact_argv_plan(&a, p, 0);
        kubeact_env_done(&e);
        return 0;
}

static int kubeact_prep_upgrade(const struct action_ctx *x, struct action_plan *p, struct err *err)
{
        struct kubeact_env e;
        struct kubeact_argv a = { 0 };

        if (kubeact_env_make(x, p, &e, err) != 0)
                return -1;
        kubeact_argv_add(&a, kubeact_env_helm(&e));
        kubeact_argv_add(&a, "upgrade");
        kubeact_argv_add(&a, e.t.name);
        kubeact_argv_add(&a, x->arg);
        kubeact_argv_add(&a, "--reuse-values");
        kubeact_helm_suffix(&e, &a);
        kubeact_argv_plan(&a, p, 0);
        kubeact_env_done(&e);
        return 0;
}

/* --- spark ------------------------------------------------------------------------ */

/* `kubectl get sparkapplication/NAME -o json`, parsed. NULL with err. */
static cJSON *kubeact_spark_get(const struct action_ctx *x, const struct kubeact_env *e,
                                struct err *err)
{
        struct kubeact_argv a = { 0 };
        struct subproc_result r;
        int64_t left = KUBEACT_GET_TIMEOUT_MS;
        cJSON *j = NULL;

        if (x->cc && x->cc->deadline_mono) {
                left = x->cc->deadline_mono - clock_mono_ms();
                if (left < 1000)
                        left = 1000;
        }
        kubeact_kubectl_prefix(e, &a, true);
        kubeact_argv_add(&a, "get");
        kubeact_argv_addf(&a, "sparkapplication/%s", e->t.name);
        kubeact_argv_add(&a, "-o");
        kubeact_argv_add(&a, "json");
        /* stderr apart: a kubectl warning must not break the JSON. */
        if (subproc_run_env(a.v, NULL, true, 0, left, x->cc ? x->cc->stop_fd : -1, &r,
                            err) != 0) {
                kubeact_argv_free(&a);
                return NULL;
        }
        kubeact_argv_free(&a);
        if (r.timed_out || r.exit_code != 0) {
                const char *m = r.err_out && r.err_len ? r.err_out : r.out ? r.out : "";
                size_t l = strcspn(m, "\n");

                err_set(err, EIO, "kubectl get sparkapplication/%s: %s%.*s", e->t.name,
                        r.timed_out ? "timed out " : "", (int)(l > 180 ? 180 : l), m);
        } else if (!(j = cJSON_Parse(r.out)) || !cJSON_IsObject(j)) {
                cJSON_Delete(j);
                j = NULL;
                err_set(err, EIO, "kubectl get sparkapplication/%s: not a JSON object",
                        e->t.name);
        }
        subproc_result_done(&r);
        return j;
}

/* The private copy of the SparkApplication that `kubectl create -f` reads;
 * removed with the plan. */
struct spark_file {
        char *dir, *path;
};

static void kubeact_spark_file_free(void *p)
{
        struct spark_file *f = p;

        if (f->path)
                unlink(f->path);
        if (f->dir)
                rmdir(f->dir);
        free(f->path);
        free(f->dir);
        free(f);
}

/* The object without what the server owns: status and the metadata a
 * create must not carry. */
static void kubeact_spark_clean(cJSON *obj)
{
        static const char *const meta[] = { "resourceVersion", "uid", "creationTimestamp",
                                            "managedFields", "generation", "selfLink",
                                            "deletionTimestamp",
                                            "deletionGracePeriodSeconds" };
        cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");

        cJSON_DeleteItemFromObjectCaseSensitive(obj, "status");
        for (size_t i = 0; m && i < LO_ARRAY_LEN(meta); i++)
                cJSON_DeleteItemFromObjectCaseSensitive(m, meta[i]);
}

static int kubeact_spark_write(const cJSON *obj, struct spark_file **out, struct err *err)
{
        const char *tmp = getenv("TMPDIR");
        struct spark_file *f = xcalloc(1, sizeof *f);
        char *txt = cJSON_Print(obj);
        size_t len = strlen(txt), off = 0;
        int fd;

        f->dir = xasprintf("%s/lambdaops-resubmit-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
        if (!mkdtemp(f->dir)) {         /* mode 0700 */
                err_set(err, errno, "cannot create a private temp dir: %s", strerror(errno));
                free(f->dir);
                f->dir = NULL;
                goto fail;
        }
        f->path = xasprintf("%s/sparkapplication.json", f->dir);
        fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                err_set(err, errno, "%s: %s", f->path, strerror(errno));
                free(f->path);
                f->path = NULL;
                goto fail;
        }
        while (off < len) {
                ssize_t w = write(fd, txt + off, len - off);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        err_set(err, errno, "%s: %s", f->path, strerror(errno));
                        close(fd);
                        goto fail;
                }
                off += (size_t)w;
        }
        close(fd);
        free(txt);
        *out = f;
        return 0;
fail:
        free(txt);
        kubeact_spark_file_free(f);
        return -1;
}

static int kubeact_prep_resubmit(const struct action_ctx *x, struct action_plan *p, struct err *err)
{
        struct kubeact_env e;
        struct kubeact_argv a = { 0 };
        struct spark_file *f = NULL;
        const char *path;
        char *dry = NULL;

        if (kubeact_env_make(x, p, &e, err) != 0)
                return -1;
        if (x->dry_run) {
                /* Nothing runs in a dry run, the read included. */
                dry = xasprintf("<private temp dir>/sparkapplication.json");
                path = dry;
                p->note = xasprintf("the SparkApplication is read with `kubectl get -o json`, "
                                    "stripped of status, resourceVersion, uid, "
                                    "creationTimestamp and managedFields, and written to a "
                                    "private file when run for real");
        } else {
                cJSON *obj = kubeact_spark_get(x, &e, err);

                if (!obj) {
                        kubeact_env_done(&e);
                        return -1;
                }
                kubeact_spark_clean(obj);
                if (kubeact_spark_write(obj, &f, err) != 0) {
                        cJSON_Delete(obj);
                        kubeact_env_done(&e);
                        return -1;
                }
                cJSON_Delete(obj);
                p->priv = f;
                p->priv_free = kubeact_spark_file_free;
                path = f->path;
                p->note = xasprintf("the object (without status and server metadata) was "
                                    "saved to %s", path);
        }
        kubeact_kubectl_prefix(&e, &a, true);
        kubeact_argv_add(&a, "delete");
        kubeact_argv_addf(&a, "sparkapplication/%s", e.t.name);
        kubeact_argv_add(&a, "--wait=true");
        kubeact_argv_plan(&a, p, 0);
        kubeact_kubectl_prefix(&e, &a, true);
        kubeact_argv_add(&a, "create");
        kubeact_argv_add(&a, "-f");
        kubeact_argv_add(&a, path);
        kubeact_argv_plan(&a, p, 0);
        free(dry);
        kubeact_env_done(&e);
        return 0;
}

static int kubeact_prep_driver_logs(const struct action_ctx *x, struct action_plan *p,
                                    struct err *err)
{
        struct kubeact_env e;
        struct kubeact_argv a = { 0 };
        char pod[254];

        if (kubeact_env_make(x, p, &e, err) != 0)
                return -1;
        /* The operator names the driver NAME-driver unless the spec says
         * otherwise; the application's status says which pod it is. */
        snprintf(pod, sizeof pod, "%.240s-driver", e.t.name);
        if (!x->dry_run) {
                cJSON *obj = kubeact_spark_get(x, &e, err);
                const cJSON *st, *di, *pn;

                if (!obj) {
                        kubeact_env_done(&e);
                        return -1;
                }
                st = cJSON_GetObjectItemCaseSensitive(obj, "status");
                di = st ? cJSON_GetObjectItemCaseSensitive(st, "driverInfo") : NULL;
                pn = di ? cJSON_GetObjectItemCaseSensitive(di, "podName") : NULL;
                if (cJSON_IsString(pn) && pn->valuestring[0] && pn->valuestring[0] != '-')
                        str_copy(pod, pn->valuestring, sizeof pod);
                cJSON_Delete(obj);
        }
        kubeact_logs_argv(&e, &a, pod, false, NULL);
        kubeact_argv_plan(&a, p, KUBEACT_LOG_TIMEOUT_MS);
        kubeact_env_done(&e);
        return 0;
}

const struct action_def kube_actions[] = {
        { .name = "restart", .title = "rollout restart", .scope = "statefulset,deployment",
          .key = 'R', .flags = ACTION_F_MUTATING, .prepare = kubeact_prep_restart,
          .run = action_run_cmds },
        { .name = "scale", .title = "scale", .scope = "statefulset,deployment", .key = 'S',
          .flags = ACTION_F_MUTATING | ACTION_F_ARG, .arg_label = "replicas",
          .check_arg = kubeact_check_replicas, .prepare = kubeact_prep_scale,
          .run = action_run_cmds },
        { .name = "delete", .title = "delete pod", .scope = "pod", .key = 'D',
          .flags = ACTION_F_MUTATING | ACTION_F_DANGEROUS, .prepare = kubeact_prep_delete,
          .run = action_run_cmds },
        { .name = "logs", .title = "pod logs", .scope = "pod", .key = 'l',
          .flags = ACTION_F_ARG | ACTION_F_ARG_OPT | ACTION_F_NOCONFIRM | ACTION_F_TAIL,
          .arg_label = "container (empty: the default one)",
          .check_arg = kubeact_check_container, .prepare = kubeact_prep_logs,
          .run = action_run_cmds },
        { .name = "logs-previous", .title = "logs of the previous container", .scope = "pod",
          .key = 'L',
          .flags = ACTION_F_ARG | ACTION_F_ARG_OPT | ACTION_F_NOCONFIRM | ACTION_F_TAIL,
          .arg_label = "container (empty: the default one)",
          .check_arg = kubeact_check_container, .prepare = kubeact_prep_logs_prev,
          .run = action_run_cmds },
        { .name = "rollback", .title = "helm rollback", .scope = "release", .key = 'B',
          .flags = ACTION_F_MUTATING | ACTION_F_DANGEROUS | ACTION_F_ARG | ACTION_F_ARG_OPT,
          .arg_label = "revision (empty: the previous one)",
          .check_arg = kubeact_check_revision, .prepare = kubeact_prep_rollback,
          .run = action_run_cmds },
        { .name = "upgrade", .title = "helm upgrade --reuse-values", .scope = "release",
          .key = 'U', .flags = ACTION_F_MUTATING | ACTION_F_DANGEROUS | ACTION_F_ARG,
          .arg_label = "chart", .check_arg = kubeact_check_chart, .prepare = kubeact_prep_upgrade,
          .run = action_run_cmds },
        { .name = NULL },
};

const struct action_def spark_actions[] = {
        { .name = "resubmit", .title = "delete and resubmit", .scope = "sparkapplication",
          .key = 'R', .flags = ACTION_F_MUTATING | ACTION_F_DANGEROUS,
          .prepare = kubeact_prep_resubmit, .run = action_run_cmds },
        { .name = "driver-logs", .title = "driver logs", .scope = "sparkapplication",
          .key = 'l', .flags = ACTION_F_NOCONFIRM | ACTION_F_TAIL,
          .prepare = kubeact_prep_driver_logs, .run = action_run_cmds },
        { .name = NULL },
};

/* --- user-defined actions ------------------------------------------------------- */

static const char *const kubeact_vars_names[] = { "namespace", "name", "kind", "context",
                                                  "kubeconfig", "source", "arg" };
static const char *const kubeact_scopes[] = { "pod", "statefulset", "deployment", "release",
                                              "sparkapplication", "node" };

static const char *kubeact_vars_get(const struct kubeact_vars *v, size_t i)
{
        const char *s = NULL;

        switch (i) {
        case 0: s = v->namespace_; break;
        case 1: s = v->name; break;
        case 2: s = v->kind; break;
        case 3: s = v->context; break;
        case 4: s = v->kubeconfig; break;
        case 5: s = v->source; break;
        case 6: s = v->arg; break;
        default: break;
        }
        return s ? s : "";
}

char *kubeact_subst(const char *word, const struct kubeact_vars *vars, struct err *err)
{
        size_t cap = strlen(word) + 1, len = 0;
        char *out = xmalloc(cap);

        for (const char *p = word; *p; ) {
                const char *val = NULL, *end;
                size_t vl, nl, i;

                if (p[0] != '$' || p[1] != '{') {
                        if (len + 2 > cap)
                                out = xrealloc(out, cap *= 2);
                        out[len++] = *p++;
                        continue;
                }
                end = strchr(p + 2, '}');
                if (!end) {
                        err_set(err, EINVAL, "\"%.60s\": unterminated ${", word);
                        free(out);
                        return NULL;
                }
                nl = (size_t)(end - p - 2);
                for (i = 0; i < LO_ARRAY_LEN(kubeact_vars_names); i++)
                        if (strlen(kubeact_vars_names[i]) == nl &&
                            strncmp(kubeact_vars_names[i], p + 2, nl) == 0)
                                break;
                if (i == LO_ARRAY_LEN(kubeact_vars_names)) {
                        err_set(err, EINVAL, "unknown variable ${%.*s} (known: ${namespace}, "
                                "${name}, ${kind}, ${context}, ${kubeconfig}, ${source}, "
                                "${arg})", (int)(nl > 40 ? 40 : nl), p + 2);
                        free(out);
                        return NULL;
                }
                val = vars ? kubeact_vars_get(vars, i) : "";
                vl = strlen(val);
                while (len + vl + 1 > cap)
                        out = xrealloc(out, cap *= 2);
                memcpy(out + len, val, vl);
                len += vl;
                p = end + 1;
        }
        out[len] = '\0';
        return out;
}

static bool kubeact_name_ok(const char *s)
{
        if (!s || !*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
                        return false;
        return true;
}

/* The variable a template word begins with ("arg" for "${arg}x"), or NULL
 * when the word begins with literal text. */
static const char *kubeact_word_var(const char *word, char *buf, size_t n)
{
        const char *end;

        if (word[0] != '$' || word[1] != '{' || !(end = strchr(word + 2, '}')))
                return NULL;
        snprintf(buf, n, "%.*s", (int)(end - word - 2), word + 2);
        return buf;
}

/*
 * Option injection. A program reads any word that begins with '-' as an
 * option until a "--" word, so a substituted value that begins with '-'
 * and lands at the start of a word before the template's own "--" would
 * become an option (`${arg}` = "--kubeconfig=/x"). Such a word is refused
 * before anything runs, naming the value and the fix. A template word that
 * begins with literal text ("--selector=${arg}", "pod/${name}") cannot be
 * turned into an option, and after a literal "--" every word is an operand.
 */
static int kubeact_word_inject(const struct cfg_action *ca, size_t i, const char *word,
                               bool after_dashes, struct err *err)
{
        char var[48];
        const char *v;

        if (after_dashes || word[0] != '-' || ca->argv.v[i][0] == '-')
                return 0;
        v = kubeact_word_var(ca->argv.v[i], var, sizeof var);
        if (!v)
                v = "...";
        if (strcmp(v, "arg") == 0)
                err_set(err, EINVAL, "argument \"%.60s\" begins with '-' and %s would read "
                        "it as an option: refused; put \"--\" before ${arg} in the argv of "
                        "action %s to pass it as an operand", word, ca->argv.v[0], ca->name);
        else
                err_set(err, EINVAL, "${%s} is \"%.60s\", which begins with '-', and %s "
                        "would read it as an option: refused; put \"--\" before it in the "
                        "argv of action %s", v, word, ca->argv.v[0], ca->name);
        return -1;
}

/* check_arg of user-defined actions: the argument is refused when it
 * begins with '-' and the template places ${arg} at the start of a word
 * before a literal "--" (see kubeact_word_inject). */
static int kubeact_check_user_arg(const struct action_def *d, const char *arg, struct err *err)
{
        const struct cfg_action *ca = d ? d->data : NULL;

        if (!ca || !arg || arg[0] != '-')
                return 0;
        for (size_t i = 1; i < ca->argv.n; i++) {
                if (strcmp(ca->argv.v[i], "--") == 0)
                        break;
                if (strncmp(ca->argv.v[i], "${arg}", 6) == 0)
                        return kubeact_word_inject(ca, i, arg, false, err);
        }
        return 0;
}

static bool kubeact_uses_arg(const struct cfg_action *a)
{
        for (size_t i = 0; i < a->argv.n; i++)
                if (strstr(a->argv.v[i], "${arg}"))
                        return true;
        return false;
}

int kubeact_user_check(const struct cfg_action *a, const char **key, struct err *err)
{
        const struct action_def *tables[] = { kube_actions, spark_actions };
        size_t i;

        *key = "name";
        if (!kubeact_name_ok(a->name)) {
                err_set(err, EINVAL, "name: \"%.40s\": use letters, digits, '-' and '_'",
                        a->name ? a->name : "");
                return -1;
        }
        *key = "scope";
        for (i = 0; i < LO_ARRAY_LEN(kubeact_scopes); i++)
                if (a->scope && strcmp(a->scope, kubeact_scopes[i]) == 0)
                        break;
        if (i == LO_ARRAY_LEN(kubeact_scopes)) {
                err_set(err, EINVAL, "scope: \"%.40s\" is not one of pod, statefulset, "
                        "deployment, release, sparkapplication, node",
                        a->scope ? a->scope : "");
                return -1;
        }
        for (size_t t = 0; t < LO_ARRAY_LEN(tables); t++)
                for (const struct action_def *d = tables[t]; d->name; d++) {
                        bool same_kind = (t == 1) == (strcmp(a->scope, "sparkapplication") == 0);

                        if (!same_kind)
                                continue;
                        if (strcmp(d->name, a->name) == 0) {
                                *key = "name";
                                err_set(err, EINVAL, "name: \"%s\" is a built-in action",
                                        a->name);
                                return -1;
                        }
                        if (a->key && strlen(a->key) == 1 && d->key == a->key[0] &&
                            kubeact_scope_has(d->scope, a->scope)) {
                                *key = "key";
                                err_set(err, EINVAL, "key: '%s' is the built-in action %s "
                                        "on a %s", a->key, d->name, a->scope);
                                return -1;
                        }
                }
        *key = "key";
        if (a->key && (strlen(a->key) != 1 || a->key[0] <= ' ' || a->key[0] > '~')) {
                err_set(err, EINVAL, "key: \"%.20s\" must be one printable character", a->key);
                return -1;
        }
        if (a->key && strchr("q?123456789:/jkgGhr", a->key[0])) {
                err_set(err, EINVAL, "key: '%s' is a global key", a->key);
                return -1;
        }
        *key = "argv";
        if (!a->argv.n || !a->argv.v[0][0]) {
                err_set(err, EINVAL, "argv: must name a program");
                return -1;
        }
        for (i = 0; i < a->argv.n; i++) {
                struct err e;
                char *w;

                err_clear(&e);
                w = kubeact_subst(a->argv.v[i], NULL, &e);
                if (!w) {
                        err_set(err, EINVAL, "argv[%zu]: %s", i, e.msg);
                        return -1;
                }
                free(w);
        }
        if (strstr(a->argv.v[0], "${")) {
                err_set(err, EINVAL, "argv[0]: the program must be written out, not a "
                        "variable");
                return -1;
        }
        *key = NULL;
        return 0;
}

static int kubeact_prep_user(const struct action_ctx *x, struct action_plan *p, struct err *err)
{
        const struct cfg_action *ca = x->def ? x->def->data : NULL;
        struct kubeact_env e;
        struct kubeact_argv a = { 0 };
        struct kubeact_vars v;
        const char *kcfg_default;
        char *home_cfg = NULL;
        bool dashes = false;    /* past a literal "--" of the template */

        if (!ca) {
                err_set(err, EINVAL, "not a user-defined action");
                return -1;
        }
        if (kubeact_env_make(x, p, &e, err) != 0)
                return -1;
        kcfg_default = e.kubeconfig;
        if (!kcfg_default) {
                const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");

                if (env && *env)
                        kcfg_default = env;
                else
                        kcfg_default = home_cfg = xasprintf("%s/.kube/config",
                                                            home ? home : "");
        }
        v = (struct kubeact_vars){ .namespace_ = e.t.ns, .name = e.t.name, .kind = e.t.kind,
                                   .context = e.context, .kubeconfig = kcfg_default,
                                   .source = x->src ? x->src->name : "",
                                   .arg = x->arg ? x->arg : "" };
        for (size_t i = 0; i < ca->argv.n; i++) {
                char *w;

                if (i > 0 && strcmp(ca->argv.v[i], "--") == 0)
                        dashes = true;

                /* The configured binaries stand in for the bare names. */
                if (i == 0 && strcmp(ca->argv.v[0], "kubectl") == 0) {
                        kubeact_argv_add(&a, kubeact_env_kubectl(&e));
                        continue;
                }
                if (i == 0 && strcmp(ca->argv.v[0], "helm") == 0) {
                        kubeact_argv_add(&a, kubeact_env_helm(&e));
                        continue;
                }
                w = kubeact_subst(ca->argv.v[i], &v, err);
                if (w && i > 0 && kubeact_word_inject(ca, i, w, dashes, err) != 0) {
                        free(w);
                        w = NULL;
                }
                if (!w) {
                        kubeact_argv_free(&a);
                        free(home_cfg);
                        kubeact_env_done(&e);
                        return -1;
                }
                kubeact_argv_add(&a, w);
                free(w);
        }
        kubeact_argv_plan(&a, p, 0);
        free(home_cfg);
        kubeact_env_done(&e);
        return 0;
}

const struct action_def *kubeact_user_defs(const struct config *cfg)
{
        const struct cfg_action *ca = cfg->actions.v;
        struct action_def *d;

        if (!cfg->actions.n)
                return NULL;
        d = xcalloc(cfg->actions.n + 1, sizeof *d);
        for (size_t i = 0; i < cfg->actions.n; i++) {
                const struct cfg_action *a = &ca[i];

                d[i].name = a->name;
                d[i].title = a->title ? a->title : a->name;
                d[i].scope = a->scope;
                d[i].key = a->key ? (unsigned char)a->key[0] : 0;
                d[i].flags = (a->mutating ? ACTION_F_MUTATING : 0) |
                             (a->dangerous ? ACTION_F_DANGEROUS : 0) |
                             (a->confirm ? 0 : ACTION_F_NOCONFIRM) |
                             (kubeact_uses_arg(a) ? ACTION_F_ARG : 0);
                d[i].arg_label = "${arg}";
                d[i].check_arg = kubeact_check_user_arg;
                d[i].data = a;
                d[i].prepare = kubeact_prep_user;
                d[i].run = action_run_cmds;
        }
        return d;
}

bool kubeact_user_applies(const struct action_def *d, const char *src_kind)
{
        bool spark;

        if (!d || !d->data || d->prepare != kubeact_prep_user || !src_kind)
                return false;
        spark = strcmp(d->scope, "sparkapplication") == 0;
        return spark ? strcmp(src_kind, "spark") == 0 : strcmp(src_kind, "kubernetes") == 0;
}

static bool kubeact_is_ours(const struct action_def *d)
{
        if (d->prepare == kubeact_prep_user)
                return true;
        for (const struct action_def *k = kube_actions; k->name; k++)
                if (k == d)
                        return true;
        for (const struct action_def *k = spark_actions; k->name; k++)
                if (k == d)
                        return true;
        return false;
}

/* --- the plug-ins (collector_ops.action_kind) ------------------------------ */

/* The context of the source's connection (kubeconfig's current-context when
 * none is configured). */
static int kubeact_context_read(const struct source_cfg *src, char **context, struct err *err)
{
        char *kubeconfig = NULL;
        int rc = kubeact_source_conn(src, &kubeconfig, context, err);

        free(kubeconfig);
        return rc;
}

const struct action_kind kubeact_kube_kind = {
        .user_check = kubeact_user_check,
        .user_defs = kubeact_user_defs,
        .user_applies = kubeact_user_applies,
        .target_ok = kubeact_target_ok,
        .context_cfg = kubeact_source_context_cfg,
        .context_read = kubeact_context_read,
};

const struct action_kind kubeact_spark_kind = {
        .user_applies = kubeact_user_applies,
        .target_ok = kubeact_target_ok,
        .context_cfg = kubeact_source_context_cfg,
};
