/*
 * runbook: the model (runbook.h) apart from the file loader
 * (runbook_load.c): loading the config's runbook set, the checks against
 * the config, alert matching, inputs and ${name} substitution.
 */
#include "runbook/runbook.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "actions/action.h"
#include "bringup/expr.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/util.h"
#include "runbook/runbook_internal.h"

/* How many runbook files one config may load. */
#define RB_SET_MAX_FILES 1000

const char *runbook_step_kind_name(enum runbook_step_kind k)
{
        switch (k) {
        case RB_STEP_CHECK:  return "check";
        case RB_STEP_WAIT:   return "wait";
        case RB_STEP_ACTION: return "action";
        case RB_STEP_RUN:    return "run";
        case RB_STEP_MANUAL: return "manual";
        case RB_STEP_CHOOSE: return "choose";
        }
        return "?";
}

static const char *const input_type_names[] = {
        [RB_IN_STRING] = "string", [RB_IN_INTEGER] = "integer", [RB_IN_DURATION] = "duration",
        [RB_IN_ENUM] = "enum", [RB_IN_SOURCE] = "source", [RB_IN_TARGET] = "target",
};

static const char *const target_names[] = {
        [RB_T_NONE] = "none", [RB_T_SLOT] = "slot", [RB_T_GROUP] = "group",
        [RB_T_CONNECTOR] = "connector", [RB_T_POD] = "pod", [RB_T_APPLICATION] = "application",
        [RB_T_DAG] = "dag", [RB_T_BUCKET] = "bucket",
};

const char *runbook_input_type_name(enum runbook_input_type t)
{
        return (size_t)t < LO_ARRAY_LEN(input_type_names) ? input_type_names[t] : "?";
}

const char *runbook_target_name(enum runbook_target t)
{
        return (size_t)t < LO_ARRAY_LEN(target_names) ? target_names[t] : "?";
}

int rb_input_type_parse(const char *s, enum runbook_input_type *t)
{
        for (size_t i = 0; i < LO_ARRAY_LEN(input_type_names); i++)
                if (!strcmp(s, input_type_names[i])) {
                        *t = (enum runbook_input_type)i;
                        return 0;
                }
        return -1;
}

int rb_target_parse(const char *s, enum runbook_target *t)
{
        for (size_t i = RB_T_SLOT; i < LO_ARRAY_LEN(target_names); i++)
                if (!strcmp(s, target_names[i])) {
                        *t = (enum runbook_target)i;
                        return 0;
                }
        return -1;
}

const struct runbook_input *rb_input_find(const struct runbook *rb, const char *name)
{
        for (size_t i = 0; rb && i < rb->n_inputs; i++)
                if (rb->inputs[i].name && !strcmp(rb->inputs[i].name, name))
                        return &rb->inputs[i];
        return NULL;
}

int rb_parse_int(const char *s, int64_t *out, struct err *err)
{
        const char *p = s;
        int64_t v = 0;
        bool neg = false;

        if (*p == '-') {
                neg = true;
                p++;
        }
        if (!*p) {
                err_set(err, EINVAL, "\"%.40s\" is not an integer", s);
                return -1;
        }
        for (; *p; p++) {
                int d = *p - '0';

                if (d < 0 || d > 9) {
                        err_set(err, EINVAL, "\"%.40s\" is not an integer", s);
                        return -1;
                }
                if (v > (INT64_MAX - d) / 10) {
                        err_set(err, ERANGE, "\"%.40s\" is too large", s);
                        return -1;
                }
                v = v * 10 + d;
        }
        *out = neg ? -v : v;
        return 0;
}

static bool has_control(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

int rb_input_valid(const struct runbook_input *in, const char *value, const struct config *cfg,
                   struct err *err)
{
        int64_t v;

        if (!value || !*value) {
                err_set(err, EINVAL, "empty value");
                return -1;
        }
        /* Values reach argv words, requests and the terminal. */
        if (has_control(value)) {
                err_set(err, EINVAL, "a control character in the value");
                return -1;
        }
        switch (in->type) {
        case RB_IN_STRING:
                return 0;
        case RB_IN_INTEGER:
                if (rb_parse_int(value, &v, err) != 0)
                        return -1;
                if (in->has_min && v < in->min) {
                        err_set(err, ERANGE, "%s is less than the minimum %lld", value,
                                (long long)in->min);
                        return -1;
                }
                if (in->has_max && v > in->max) {
                        err_set(err, ERANGE, "%s is more than the maximum %lld", value,
                                (long long)in->max);
                        return -1;
                }
                return 0;
        case RB_IN_DURATION:
                return config_parse_duration(value, &v, err);
        case RB_IN_ENUM:
                for (size_t i = 0; i < in->n_values; i++)
                        if (!strcmp(in->values[i], value))
                                return 0;
                {
                        char list[200] = "";

                        for (size_t i = 0; i < in->n_values; i++) {
                                size_t l = strlen(list);

                                snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "",
                                         in->values[i]);
                        }
                        err_set(err, EINVAL, "\"%.40s\" is not one of %s", value, list);
                }
                return -1;
        case RB_IN_SOURCE: {
                const struct source_cfg *src;

                if (!cfg)
                        return 0;
                src = config_source(cfg, value);
                if (!src) {
                        err_set(err, ENOENT, "no source \"%.40s\" in %s", value, cfg->path);
                        return -1;
                }
                if (in->kind && strcmp(src->kind, in->kind) != 0) {
                        err_set(err, EINVAL, "source \"%.40s\" is a %s source, not %s", value,
                                src->kind, in->kind);
                        return -1;
                }
                return 0;
        }
        case RB_IN_TARGET:
                /* A target becomes an argv word of kubectl and the like: a
                 * leading '-' would read as an option there. */
                if (value[0] == '-') {
                        err_set(err, EINVAL, "\"%.40s\" starts with '-' (a %s name never does)",
                                value, runbook_target_name(in->target));
                        return -1;
                }
                return 0;
        }
        return 0;
}

/* --- the set ----------------------------------------------------------------- */

static bool yaml_name(const char *p)
{
        size_t n = strlen(p);

        return (n > 5 && !strcmp(p + n - 5, ".yaml")) || (n > 4 && !strcmp(p + n - 4, ".yml"));
}

static bool is_glob(const char *s)
{
        return strpbrk(s, "*?[") != NULL;
}

/* The files to load, each once: two entries (a directory and a glob in
 * it, or two spellings of one path) naming one file load it once. */
struct pathlist {
        char  **v;              /* as found: what messages show */
        char  **real;           /* realpath: what makes two the same */
        size_t  n, cap;
};

static void pathlist_add(struct pathlist *l, const char *p)
{
        char *real = realpath(p, NULL);

        if (!real)
                real = xstrdup(p);
        for (size_t i = 0; i < l->n; i++)
                if (!strcmp(l->real[i], real)) {
                        free(real);
                        return;
                }
        if (l->n == l->cap) {
                l->cap = l->cap ? 2 * l->cap : 16;
                l->v = xrealloc(l->v, l->cap * sizeof *l->v);
                l->real = xrealloc(l->real, l->cap * sizeof *l->real);
        }
        l->real[l->n] = real;
        l->v[l->n++] = xstrdup(p);
}

static void pathlist_done(struct pathlist *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i]);
                free(l->real[i]);
        }
        free(l->v);
        free(l->real);
}

static int path_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the .yaml and .yml files of a directory (not recursive). */
static void add_dir(struct pathlist *l, const char *dir)
{
        static const char *const pats[] = { "*.yaml", "*.yml" };

        for (size_t i = 0; i < LO_ARRAY_LEN(pats); i++) {
                char *pat = xasprintf("%s/%s", dir, pats[i]);
                glob_t g;

                if (glob(pat, 0, NULL, &g) == 0) {
                        for (size_t j = 0; j < g.gl_pathc; j++) {
                                struct stat st;

                                if (stat(g.gl_pathv[j], &st) == 0 && S_ISREG(st.st_mode))
                                        pathlist_add(l, g.gl_pathv[j]);
                        }
                }
                globfree(&g);
                free(pat);
        }
}

/* The files of one `runbooks:` entry. -1 with err for a plain path that
 * does not exist. */
static int add_entry(struct pathlist *l, const struct config *cfg, const char *entry,
                     struct err *err)
{
        char *full, *dir = NULL;
        struct stat st;
        int rc = 0;

        if (entry[0] == '/') {
                full = xstrdup(entry);
        } else {
                const char *slash = cfg->path ? strrchr(cfg->path, '/') : NULL;

                /* A config in the current directory: paths as written. */
                dir = slash ? xstrndup(cfg->path, (size_t)(slash - cfg->path)) : NULL;
                full = !dir ? xstrdup(entry) : xasprintf("%s/%s", dir[0] ? dir : "", entry);
        }
        if (is_glob(entry)) {
                glob_t g;

                if (glob(full, 0, NULL, &g) == 0) {
                        for (size_t j = 0; j < g.gl_pathc; j++) {
                                if (stat(g.gl_pathv[j], &st) != 0)
                                        continue;
                                if (S_ISDIR(st.st_mode))
                                        add_dir(l, g.gl_pathv[j]);
                                else if (S_ISREG(st.st_mode) && yaml_name(g.gl_pathv[j]))
                                        pathlist_add(l, g.gl_pathv[j]);
                        }
                }
                globfree(&g);
        } else if (stat(full, &st) != 0) {
                err_set(err, errno, "%s: runbooks: %s: %s (a directory, a file or a glob, "
                        "relative to the config file)", cfg->path, full, strerror(errno));
                rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
                add_dir(l, full);
        } else {
                pathlist_add(l, full);
        }
        free(full);
        free(dir);
        return rc;
}

int runbook_set_load(struct runbook_set *set, const struct config *cfg, struct err *err)
{
        struct pathlist files = { 0 };
        int rc = 0;

        memset(set, 0, sizeof *set);
        err_clear(err);
        for (size_t i = 0; cfg && i < cfg->runbooks.n && rc == 0; i++)
                rc = add_entry(&files, cfg, cfg->runbooks.v[i], err);
        if (rc == 0 && files.n > RB_SET_MAX_FILES) {
                err_set(err, E2BIG, "%s: runbooks: more than %d files", cfg->path,
                        RB_SET_MAX_FILES);
                rc = -1;
        }
        if (rc == 0) {
                if (files.n > 1)        /* qsort(NULL, 0, ...) is undefined */
                        qsort(files.v, files.n, sizeof *files.v, path_cmp);
                set->v = xcalloc(files.n ? files.n : 1, sizeof *set->v);
        }
        for (size_t i = 0; rc == 0 && i < files.n; i++) {
                struct runbook *rb = runbook_load_file(files.v[i], err);
                const struct runbook *other;

                if (!rb) {
                        rc = -1;
                        break;
                }
                other = runbook_set_find(set, rb->id);
                if (other) {
                        err_set(err, EEXIST, "%s: id \"%s\" is already the id of %s", rb->path,
                                rb->id, other->path);
                        runbook_free(rb);
                        rc = -1;
                        break;
                }
                set->v[set->n++] = rb;
                /* Kept sorted by id, for lookups and for the lists. */
                for (size_t j = set->n - 1; j > 0 && strcmp(set->v[j - 1]->id, set->v[j]->id) > 0;
                     j--) {
                        struct runbook *t = set->v[j];

                        set->v[j] = set->v[j - 1];
                        set->v[j - 1] = t;
                }
        }
        pathlist_done(&files);
        if (rc != 0)
                runbook_set_done(set);
        return rc;
}

void runbook_set_done(struct runbook_set *set)
{
        for (size_t i = 0; set && i < set->n; i++)
                runbook_free(set->v[i]);
        if (set) {
                free(set->v);
                set->v = NULL;
                set->n = 0;
        }
}

const struct runbook *runbook_set_find(const struct runbook_set *set, const char *id)
{
        for (size_t i = 0; set && id && i < set->n; i++)
                if (!strcmp(set->v[i]->id, id))
                        return set->v[i];
        return NULL;
}

/* --- checks against the config ----------------------------------------------- */

/* The input a word is exactly "${name}" of, or NULL. */
static const struct runbook_input *whole_input(const struct runbook *rb, const char *w)
{
        size_t n = strlen(w);
        char name[64];

        if (n < 4 || w[0] != '$' || w[1] != '{' || w[n - 1] != '}' || n - 3 >= sizeof name ||
            memchr(w + 2, '}', n - 3) || memchr(w + 2, '$', n - 3))
                return NULL;
        memcpy(name, w + 2, n - 3);
        name[n - 3] = '\0';
        return rb_input_find(rb, name);
}

/* A step's or condition's source: a literal must exist; "${input}" of a
 * type source input is checked when the run binds it. */
static int check_source(const struct runbook *rb, const struct config *cfg, const char *s,
                        int line, int col, const char *where, const struct source_cfg **out,
                        const char **kind, struct err *err)
{
        const struct runbook_input *in;

        *out = NULL;
        *kind = NULL;
        if (!strchr(s, '$')) {
                *out = config_source(cfg, s);
                if (!*out) {
                        err_set(err, ENOENT, "%s:%d:%d: %s: no source \"%s\" in %s", rb->path,
                                line, col, where, s, cfg->path);
                        return -1;
                }
                *kind = (*out)->kind;
                return 0;
        }
        in = whole_input(rb, s);
        if (in && in->type == RB_IN_SOURCE)
                *kind = in->kind;
        return 0;
}

/* Whether sources of `kind` offer the action `name` (their kind's table
 * or the config's user-defined actions). */
static bool kind_has_action(const struct config *cfg, const char *kind, const char *name)
{
        for (size_t i = 0; i < cfg->n_sources; i++)
                if (!strcmp(cfg->sources[i].kind, kind))
                        return action_lookup(cfg, &cfg->sources[i], name) != NULL;
        {
                const struct collector_ops *ops = collector_find(kind);

                if (ops && action_find(ops, name))
                        return true;
        }
        for (const struct action_def *d = cfg->user_actions; d && d->name; d++)
                if (!strcmp(d->name, name) && action_user_applies(d, kind))
                        return true;
        return false;
}

int runbook_check_config(const struct runbook *rb, const struct config *cfg, struct err *err)
{
        const struct source_cfg *src;
        const char *kind;

        err_clear(err);
        for (size_t i = 0; i < rb->n_inputs; i++) {
                const struct runbook_input *in = &rb->inputs[i];
                struct err e;

                if (in->type != RB_IN_SOURCE)
                        continue;
                if (in->kind && !collector_find(in->kind)) {
                        err_set(err, EINVAL, "%s:%d:%d: input %s: no source kind \"%s\"",
                                rb->path, in->line, in->col, in->name, in->kind);
                        return -1;
                }
                err_clear(&e);
                if (in->def && rb_input_valid(in, in->def, cfg, &e) != 0) {
                        err_set(err, EINVAL, "%s:%d:%d: input %s: default: %s", rb->path,
                                in->line, in->col, in->name, e.msg);
                        return -1;
                }
        }
        for (size_t i = 0; i < rb->n_when; i++) {
                const struct runbook_when *w = &rb->when[i];

                if (w->kind && !strpbrk(w->kind, "*?[") && !collector_find(w->kind)) {
                        err_set(err, EINVAL, "%s:%d:%d: when[%zu]: no source kind \"%s\"",
                                rb->path, w->line, w->col, i, w->kind);
                        return -1;
                }
        }
        for (size_t i = 0; i < rb->n_steps; i++) {
                const struct runbook_step *s = &rb->steps[i];
                char where[96];

                snprintf(where, sizeof where, "step %s", s->id);
                if (s->kind == RB_STEP_CHECK || s->kind == RB_STEP_WAIT) {
                        if (check_source(rb, cfg, s->cond.source, s->cond.line, s->cond.col,
                                         where, &src, &kind, err) != 0)
                                return -1;
                } else if (s->kind == RB_STEP_ACTION) {
                        if (check_source(rb, cfg, s->act_source, s->line, s->col, where, &src,
                                         &kind, err) != 0)
                                return -1;
                        if (src ? !action_lookup(cfg, src, s->act_action)
                                : kind && !kind_has_action(cfg, kind, s->act_action)) {
                                err_set(err, ENOENT, "%s:%d:%d: %s: no action \"%s\" for %s "
                                        "sources (docs/actions.md lists them)", rb->path,
                                        s->line, s->col, where, s->act_action, kind);
                                return -1;
                        }
                        /* A literal target the action cannot take fails now, not
                         * in the middle of a run. */
                        if (src && !strchr(s->act_target, '$')) {
                                const struct action_def *d = action_lookup(cfg, src,
                                                                           s->act_action);
                                struct err e;

                                err_clear(&e);
                                if (!action_target_ok(d, s->act_target, &e)) {
                                        err_set(err, EINVAL, "%s:%d:%d: %s: %s", rb->path,
                                                s->line, s->col, where, e.msg);
                                        return -1;
                                }
                        }
                }
        }
        for (size_t i = 0; i < rb->n_verify; i++) {
                char where[32];

                snprintf(where, sizeof where, "verify[%zu]", i);
                if (check_source(rb, cfg, rb->verify[i].source, rb->verify[i].line,
                                 rb->verify[i].col, where, &src, &kind, err) != 0)
                        return -1;
        }
        return 0;
}

/* --- alerts -------------------------------------------------------------------- */

static bool field_matches(const char *pat, const char *value)
{
        return !pat || fnmatch(pat, value ? value : "", 0) == 0;
}

bool runbook_matches_alert(const struct runbook *rb, const struct alert *a, const char *kind)
{
        for (size_t i = 0; rb && a && i < rb->n_when; i++) {
                const struct runbook_when *w = &rb->when[i];

                if (w->expr)
                        continue;
                if (!field_matches(w->kind, kind) || !field_matches(w->source, a->source) ||
                    !field_matches(w->metric, a->metric) ||
                    !field_matches(w->subject, a->subject))
                        continue;
                /* warning answers critical too: it is the same problem, worse. */
                if (w->severity == SEV_CRIT && a->sev != SEV_CRIT)
                        continue;
                if (w->severity == SEV_WARN && a->sev != SEV_WARN && a->sev != SEV_CRIT)
                        continue;
                return true;
        }
        return false;
}

bool runbook_matches_status(const struct runbook *rb, const char *source, const char *kind,
                            const struct cJSON *status)
{
        for (size_t i = 0; rb && source && i < rb->n_when; i++) {
                const struct runbook_when *w = &rb->when[i];
                struct err e;
                cJSON *v;
                bool t;

                if (!w->expr || !field_matches(w->kind, kind) || !field_matches(w->source, source))
                        continue;
                err_clear(&e);
                v = expr_eval(w->expr, status, &e);
                t = v && expr_true(v);
                cJSON_Delete(v);
                if (t)
                        return true;
        }
        return false;
}

/* --- inputs ---------------------------------------------------------------------- */

void runbook_inputs_done(struct runbook_inputs *in)
{
        if (!in)
                return;
        for (size_t i = 0; i < in->n; i++) {
                free(in->names[i]);
                free(in->values[i]);
        }
        free(in->names);
        free(in->values);
        memset(in, 0, sizeof *in);
}

static const char *inputs_get(const struct runbook_inputs *in, const char *name)
{
        for (size_t i = 0; in && i < in->n; i++)
                if (!strcmp(in->names[i], name))
                        return in->values[i];
        return NULL;
}

static void inputs_put(struct runbook_inputs *in, const char *name, const char *value)
{
        for (size_t i = 0; i < in->n; i++)
                if (!strcmp(in->names[i], name)) {
                        free(in->values[i]);
                        in->values[i] = xstrdup(value);
                        return;
                }
        in->names = xrealloc(in->names, (in->n + 1) * sizeof *in->names);
        in->values = xrealloc(in->values, (in->n + 1) * sizeof *in->values);
        in->names[in->n] = xstrdup(name);
        in->values[in->n++] = xstrdup(value);
}

int runbook_inputs_set(const struct runbook *rb, struct runbook_inputs *in, const char *kv,
                       struct err *err)
{
        const char *eq = strchr(kv, '=');
        char name[64];
        size_t len;

        if (!eq || eq == kv) {
                err_set(err, EINVAL, "--input \"%.60s\": expected NAME=VALUE", kv);
                return -1;
        }
        len = (size_t)(eq - kv);
        if (len >= sizeof name) {
                err_set(err, EINVAL, "--input: the name is too long");
                return -1;
        }
        memcpy(name, kv, len);
        name[len] = '\0';
        if (!rb_input_find(rb, name)) {
                char list[200] = "";

                for (size_t i = 0; i < rb->n_inputs; i++) {
                        size_t l = strlen(list);

                        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "",
                                 rb->inputs[i].name);
                }
                if (rb->n_inputs)
                        err_set(err, ENOENT, "runbook %s has no input \"%s\" (its inputs: %s)",
                                rb->id, name, list);
                else
                        err_set(err, ENOENT, "runbook %s has no input \"%s\" (it has none)",
                                rb->id, name);
                return -1;
        }
        inputs_put(in, name, eq + 1);
        return 0;
}

void runbook_inputs_prefill(const struct runbook *rb, struct runbook_inputs *in,
                            const struct alert *a)
{
        for (size_t i = 0; i < rb->n_inputs; i++) {
                const struct runbook_input *d = &rb->inputs[i];
                const char *v = NULL;

                if (inputs_get(in, d->name))
                        continue;
                if (a && d->from_alert == RB_FROM_SOURCE)
                        v = a->source;
                else if (a && d->from_alert == RB_FROM_SUBJECT)
                        v = a->subject;
                else if (a && d->from_alert == RB_FROM_METRIC)
                        v = a->metric;
                if (!v || !*v)
                        v = d->def;
                if (v)
                        inputs_put(in, d->name, v);
        }
}

int runbook_inputs_check(const struct runbook *rb, const struct runbook_inputs *in,
                         const struct config *cfg, struct err *err)
{
        for (size_t i = 0; i < rb->n_inputs; i++) {
                const struct runbook_input *d = &rb->inputs[i];
                const char *v = inputs_get(in, d->name);
                struct err e;

                if (!v) {
                        err_set(err, EINVAL, "input %s is not set; give --input %s=VALUE (a %s)",
                                d->name, d->name, runbook_input_type_name(d->type));
                        return -1;
                }
                err_clear(&e);
                if (rb_input_valid(d, v, cfg, &e) != 0) {
                        err_set(err, EINVAL, "input %s: %s", d->name, e.msg);
                        return -1;
                }
        }
        return 0;
}

struct cJSON *runbook_inputs_json(const struct runbook *rb, const struct runbook_inputs *in)
{
        cJSON *o = cJSON_CreateObject();

        for (size_t i = 0; i < rb->n_inputs; i++) {
                const struct runbook_input *d = &rb->inputs[i];
                const char *v = inputs_get(in, d->name);
                int64_t n;
                struct err e;

                if (!v)
                        continue;
                err_clear(&e);
                if (d->type == RB_IN_INTEGER && rb_parse_int(v, &n, &e) == 0)
                        cJSON_AddNumberToObject(o, d->name, (double)n);
                else if (d->type == RB_IN_DURATION && config_parse_duration(v, &n, &e) == 0)
                        cJSON_AddNumberToObject(o, d->name, (double)n);
                else
                        cJSON_AddStringToObject(o, d->name, v);
        }
        return o;
}

char *runbook_subst(const struct runbook_inputs *in, const char *s, struct err *err)
{
        size_t cap = strlen(s) + 1, n = 0;
        char *out = xmalloc(cap);

        for (const char *q = s; *q; q++) {
                const char *val = NULL, *end;
                char name[64];
                size_t len;

                if (q[0] == '$' && q[1] == '$') {
                        val = "$";
                        q++;
                } else if (q[0] == '$' && q[1] == '{') {
                        end = strchr(q + 2, '}');
                        len = end ? (size_t)(end - q - 2) : 0;
                        if (!end || len == 0 || len >= sizeof name) {
                                err_set(err, EINVAL, "bad ${...} in \"%.60s\"", s);
                                free(out);
                                return NULL;
                        }
                        memcpy(name, q + 2, len);
                        name[len] = '\0';
                        val = inputs_get(in, name);
                        if (!val) {
                                err_set(err, ENOENT, "input %s is not set", name);
                                free(out);
                                return NULL;
                        }
                        q = end;
                }
                len = val ? strlen(val) : 1;
                if (n + len + 1 > cap) {
                        cap = 2 * (n + len + 1);
                        out = xrealloc(out, cap);
                }
                if (val)
                        memcpy(out + n, val, len);
                else
                        out[n] = *q;
                n += len;
        }
        out[n] = '\0';
        return out;
}
