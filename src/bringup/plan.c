/*
 * plan: the plan file loader (libyaml's document API: every node keeps its
 * start mark, so every message carries FILE:LINE:COL), ${var} substitution,
 * `lambdaops plan`'s text, and the progress file. See plan.h.
 */
#include "bringup/plan.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "actions/action.h"
#include "core/config.h"
#include "core/fsdir.h"
#include "core/fsfile.h"
#include "bringup/expr.h"
#include "core/util.h"
#include "core/yamldoc.h"

/* Longest plan file we read. */
#define PLAN_MAX_BYTES (4 * 1024 * 1024)
/* Deepest nesting we read: a plan needs 6 levels (stages, steps, argv). */
#define PLAN_MAX_DEPTH 16

struct pload {
        struct ydoc      y;             /* the document, the file name, the error */
        struct plan     *p;
};

/* Checks every ${name} in s against the plan's vars (built-in deploy
 * included). */
static int check_vars(struct pload *l, const yaml_node_t *n, const char *where, const char *s)
{
        struct ydoc *y = &l->y;

        for (const char *q = s; *q; q++) {
                const char *end;

                if (q[0] != '$')
                        continue;
                if (q[1] == '$') {
                        q++;
                        continue;
                }
                if (q[1] != '{')
                        continue;
                end = strchr(q + 2, '}');
                if (!end)
                        return ydoc_err(y, n, "%s: unterminated ${ in \"%.60s\"", where, s);
                {
                        char name[64];
                        size_t len = (size_t)(end - q - 2);

                        if (len == 0 || len >= sizeof name)
                                return ydoc_err(y, n, "%s: bad variable name in \"%.60s\"", where,
                                                s);
                        memcpy(name, q + 2, len);
                        name[len] = '\0';
                        if (!plan_var(l->p, name))
                                return ydoc_err(y, n, "%s: unknown variable ${%s}", where, name);
                }
                q = end;
        }
        return 0;
}

static int get_argv(struct pload *l, const yaml_node_t *n, const char *where,
                    struct plan_argv *out)
{
        struct ydoc *y = &l->y;
        size_t cnt;

        if (!n || n->type != YAML_SEQUENCE_NODE || ydoc_seq_len(n) == 0)
                return ydoc_err(y, n, "%s: expected a non-empty list of words, e.g. "
                                "[kubectl, apply, -f, file.yaml] (never a shell line)", where);
        cnt = ydoc_seq_len(n);
        out->line = (int)n->start_mark.line + 1;
        out->col = (int)n->start_mark.column + 1;
        out->v = xcalloc(cnt + 1, sizeof *out->v);
        out->lines = xcalloc(cnt, sizeof *out->lines);
        out->cols = xcalloc(cnt, sizeof *out->cols);
        for (size_t i = 0; i < cnt; i++) {
                const yaml_node_t *w = ydoc_seq_item(y, n, i);

                if (!ydoc_scalar(w))
                        return ydoc_err(y, w, "%s: every word must be a string", where);
                if (ydoc_str(y, w, where, true, &out->v[i]) != 0)
                        return -1;
                out->n++;
                out->lines[i] = (int)w->start_mark.line + 1;
                out->cols[i] = (int)w->start_mark.column + 1;
                if (check_vars(l, w, where, out->v[i]) != 0)
                        return -1;
        }
        if (strchr(out->v[0], ' ') && out->n == 1)
                return ydoc_err(y, n, "%s: \"%.60s\" is one word; write the argv as a list", where,
                                out->v[0]);
        return 0;
}

static void argv_done(struct plan_argv *a)
{
        plan_argv_free(a->v);
        free(a->lines);
        free(a->cols);
        memset(a, 0, sizeof *a);
}

static const char *const step_keys[] = {
        "run", "timeout", "dangerous", "mutating", "skip_if_exit0", "env", NULL,
};

static int load_step(struct pload *l, const yaml_node_t *n, const char *where,
                     struct plan_step *s)
{
        struct ydoc *y = &l->y;
        yaml_node_t *v;

        s->mutating = true;
        s->timeout_ms = l->p->step_timeout_ms;
        if (ydoc_check_map(y, n, where, step_keys, NULL) != 0)
                return -1;
        s->line = (int)n->start_mark.line + 1;
        s->col = (int)n->start_mark.column + 1;
        v = ydoc_map_get(y, n, "run");
        if (!v)
                return ydoc_err(y, n, "%s: missing \"run\"", where);
        if (get_argv(l, v, where, &s->run) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "skip_if_exit0")) &&
            get_argv(l, v, where, &s->skip_if_exit0) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "timeout")) &&
            ydoc_duration(y, v, "timeout", &s->timeout_ms) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "dangerous")) &&
            ydoc_bool(y, v, "dangerous", &s->dangerous) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "mutating")) && ydoc_bool(y, v, "mutating", &s->mutating) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "env"))) {
                size_t cnt;

                if (v->type != YAML_MAPPING_NODE)
                        return ydoc_err(y, v, "env: expected a mapping of NAME: value");
                cnt = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
                s->env = xcalloc(cnt + 1, sizeof *s->env);
                for (size_t i = 0; i < cnt; i++) {
                        yaml_node_pair_t *pr = &v->data.mapping.pairs.start[i];
                        const yaml_node_t *k = ydoc_node(y, pr->key), *val = ydoc_node(y, pr->value);
                        const char *ks = ydoc_scalar(k), *vs = ydoc_scalar(val);
                        char *word[2] = { NULL, NULL }, **sub;
                        struct err e;

                        if (!ks || !*ks || strchr(ks, '=') || !vs)
                                return ydoc_err(y, k, "env: expected NAME: value with a name "
                                                "without '='");
                        if (check_vars(l, val, "env", vs) != 0)
                                return -1;
                        word[0] = xasprintf("%s=%s", ks, vs);
                        err_clear(&e);
                        sub = plan_subst(l->p, word, &e);
                        free(word[0]);
                        if (!sub)
                                return ydoc_err(y, val, "env: %s", e.msg);
                        s->env[s->n_env++] = sub[0];
                        free(sub);
                }
        }
        return 0;
}

static void step_done(struct plan_step *s)
{
        argv_done(&s->run);
        argv_done(&s->skip_if_exit0);
        for (size_t i = 0; i < s->n_env; i++)
                free(s->env[i]);
        free(s->env);
}

static const char *const gate_keys[] = { "name", "source", "expr", "timeout", "interval", NULL };

static int load_gate(struct pload *l, const yaml_node_t *n, const char *where,
                     struct plan_gate *g)
{
        struct ydoc *y = &l->y;
        yaml_node_t *v;
        char *text = NULL;
        struct err e;

        g->timeout_ms = l->p->gate_timeout_ms;
        g->interval_ms = PLAN_GATE_INTERVAL_MS;
        if (ydoc_check_map(y, n, where, gate_keys, NULL) != 0)
                return -1;
        g->line = (int)n->start_mark.line + 1;
        g->col = (int)n->start_mark.column + 1;
        if (!(v = ydoc_map_get(y, n, "name")))
                return ydoc_err(y, n, "%s: missing \"name\"", where);
        if (ydoc_str(y, v, "name", true, &g->name) != 0)
                return -1;
        if (!(v = ydoc_map_get(y, n, "source")))
                return ydoc_err(y, n, "%s: missing \"source\"", where);
        if (ydoc_str(y, v, "source", true, &g->source) != 0)
                return -1;
        if (!(v = ydoc_map_get(y, n, "expr")))
                return ydoc_err(y, n, "%s: missing \"expr\"", where);
        if (ydoc_str(y, v, "expr", true, &text) != 0)
                return -1;
        err_clear(&e);
        g->expr = expr_parse(text, &e);
        free(text);
        if (!g->expr)
                return ydoc_err(y, v, "expr: %s", e.msg);
        if ((v = ydoc_map_get(y, n, "timeout")) &&
            ydoc_duration(y, v, "timeout", &g->timeout_ms) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "interval")) &&
            ydoc_duration(y, v, "interval", &g->interval_ms) != 0)
                return -1;
        return 0;
}

/* Loads a list of steps into *out / *n. */
static int load_steps(struct pload *l, const yaml_node_t *n, const char *stage, const char *what,
                      struct plan_step **out, size_t *cnt)
{
        struct ydoc *y = &l->y;
        size_t total;

        if (n->type != YAML_SEQUENCE_NODE)
                return ydoc_err(y, n, "stage %s: %s: expected a list of steps", stage, what);
        total = ydoc_seq_len(n);
        *out = xcalloc(total ? total : 1, sizeof **out);
        for (size_t i = 0; i < total; i++) {
                char where[96];

                snprintf(where, sizeof where, "stage %s: %s[%zu]", stage, what, i);
                (*cnt)++;
                if (load_step(l, ydoc_seq_item(y, n, i), where, &(*out)[i]) != 0)
                        return -1;
        }
        return 0;
}

static bool valid_stage_name(const char *s)
{
        if (!*s || strlen(s) > 63)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
                        return false;
        return true;
}

static const char *const stage_keys[] = { "name", "title", "steps", "gates", "down", NULL };

static int load_stage(struct pload *l, const yaml_node_t *n, size_t idx, struct plan_stage *st)
{
        struct ydoc *y = &l->y;
        char where[64];
        yaml_node_t *v;

        snprintf(where, sizeof where, "stages[%zu]", idx);
        if (ydoc_check_map(y, n, where, stage_keys, NULL) != 0)
                return -1;
        st->line = (int)n->start_mark.line + 1;
        st->col = (int)n->start_mark.column + 1;
        if (!(v = ydoc_map_get(y, n, "name")))
                return ydoc_err(y, n, "%s: missing \"name\"", where);
        if (ydoc_str(y, v, "name", true, &st->name) != 0)
                return -1;
        if (!valid_stage_name(st->name))
                return ydoc_err(y, v, "stage name \"%.40s\": use lowercase letters, digits and '-'",
                                st->name);
        for (size_t i = 0; i < idx; i++)
                if (!strcmp(l->p->stages[i].name, st->name))
                        return ydoc_err(y, v, "duplicate stage name \"%s\" (first at line %d)",
                                        st->name, l->p->stages[i].line);
        if ((v = ydoc_map_get(y, n, "title")) && ydoc_str(y, v, "title", true, &st->title) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "steps")) &&
            load_steps(l, v, st->name, "steps", &st->steps, &st->n_steps) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "down")) &&
            load_steps(l, v, st->name, "down", &st->down, &st->n_down) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "gates"))) {
                size_t total;

                if (v->type != YAML_SEQUENCE_NODE)
                        return ydoc_err(y, v, "stage %s: gates: expected a list", st->name);
                total = ydoc_seq_len(v);
                st->gates = xcalloc(total ? total : 1, sizeof *st->gates);
                for (size_t i = 0; i < total; i++) {
                        char gw[96];

                        snprintf(gw, sizeof gw, "stage %s: gates[%zu]", st->name, i);
                        st->n_gates++;
                        if (load_gate(l, ydoc_seq_item(y, v, i), gw,
                                      &st->gates[i]) != 0)
                                return -1;
                }
        }
        if (!st->n_steps && !st->n_gates)
                return ydoc_err(y, n, "stage %s: has neither steps nor gates", st->name);
        return 0;
}

static const char *const top_keys[] = { "version", "config", "vars", "defaults", "stages", NULL };
static const char *const default_keys[] = { "step_timeout", "gate_timeout", NULL };

static int load_vars(struct pload *l, const yaml_node_t *v)
{
        struct ydoc *y = &l->y;
        struct plan *p = l->p;
        size_t cnt;

        if (v && v->type != YAML_MAPPING_NODE)
                return ydoc_err(y, v, "vars: expected a mapping of name: value");
        cnt = v ? (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start) : 0;
        p->var_names = xcalloc(cnt + 1, sizeof *p->var_names);
        p->var_vals = xcalloc(cnt + 1, sizeof *p->var_vals);
        for (size_t i = 0; i < cnt; i++) {
                yaml_node_pair_t *pr = &v->data.mapping.pairs.start[i];
                const yaml_node_t *k = ydoc_node(y, pr->key), *val = ydoc_node(y, pr->value);
                const char *ks = ydoc_scalar(k);

                if (!ks || !*ks || strspn(ks, "abcdefghijklmnopqrstuvwxyz"
                                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(ks))
                        return ydoc_err(y, k, "vars: a name is letters, digits, '_' and '-'");
                if (!strcmp(ks, "deploy"))
                        return ydoc_err(y, k, "vars: \"deploy\" is built in (the plan's directory)");
                for (size_t j = 0; j < p->n_vars; j++)
                        if (!strcmp(p->var_names[j], ks))
                                return ydoc_err(y, k, "vars: duplicate \"%s\"", ks);
                if (!ydoc_scalar(val))
                        return ydoc_err(y, val, "vars: %s: expected a string", ks);
                if (strchr(ydoc_scalar(val), '$'))
                        return ydoc_err(y, val, "vars: %s: values cannot refer to variables", ks);
                p->var_names[p->n_vars] = xstrdup(ks);
                p->var_vals[p->n_vars] = xstrdup(ydoc_scalar(val));
                p->n_vars++;
        }
        p->var_names[p->n_vars] = xstrdup("deploy");
        p->var_vals[p->n_vars] = xstrdup(p->dir);
        p->n_vars++;
        return 0;
}

static int load_top(struct pload *l, const yaml_node_t *root)
{
        struct ydoc *y = &l->y;
        struct plan *p = l->p;
        yaml_node_t *v, *d;
        size_t total;

        if (!root)
                return ydoc_err(y, NULL, "empty plan");
        if (ydoc_check_map(y, root, "plan", top_keys, NULL) != 0)
                return -1;
        v = ydoc_map_get(y, root, "version");
        if (!v)
                return ydoc_err(y, root, "missing \"version: 1\"");
        if (!ydoc_scalar(v) || strcmp(ydoc_scalar(v), "1") != 0)
                return ydoc_err(y, v, "version: only version 1 is known");
        if ((v = ydoc_map_get(y, root, "config"))) {
                char *c = NULL;

                if (ydoc_str(y, v, "config", true, &c) != 0)
                        return -1;
                p->config = c[0] == '/' ? c : xasprintf("%s/%s", p->dir, c);
                if (p->config != c)
                        free(c);
        }
        p->step_timeout_ms = PLAN_STEP_TIMEOUT_MS;
        p->gate_timeout_ms = PLAN_GATE_TIMEOUT_MS;
        if ((d = ydoc_map_get(y, root, "defaults"))) {
                if (ydoc_check_map(y, d, "defaults", default_keys, NULL) != 0)
                        return -1;
                if ((v = ydoc_map_get(y, d, "step_timeout")) &&
                    ydoc_duration(y, v, "step_timeout", &p->step_timeout_ms) != 0)
                        return -1;
                if ((v = ydoc_map_get(y, d, "gate_timeout")) &&
                    ydoc_duration(y, v, "gate_timeout", &p->gate_timeout_ms) != 0)
                        return -1;
        }
        if (load_vars(l, ydoc_map_get(y, root, "vars")) != 0)
                return -1;
        v = ydoc_map_get(y, root, "stages");
        if (!v)
                return ydoc_err(y, root, "missing \"stages\"");
        if (v->type != YAML_SEQUENCE_NODE ||
            ydoc_seq_len(v) == 0)
                return ydoc_err(y, v, "stages: expected a non-empty list of stages");
        total = ydoc_seq_len(v);
        p->stages = xcalloc(total, sizeof *p->stages);
        for (size_t i = 0; i < total; i++) {
                p->n_stages++;
                if (load_stage(l, ydoc_seq_item(y, v, i), i, &p->stages[i]) != 0)
                        return -1;
        }
        for (size_t i = 0; i < p->n_stages && !p->config; i++)
                if (p->stages[i].n_gates) {
                        const struct plan_gate *g = &p->stages[i].gates[0];

                        err_set(l->y.err, EINVAL, "%s:%d:%d: gate \"%s\": gates need \"config\" "
                                "(the lambdaops config whose sources they read)", l->y.file,
                                g->line, g->col, g->name);
                        return -1;
                }
        return 0;
}

char *plan_name_of(const char *path)
{
        const char *b = strrchr(path, '/');
        size_t n;

        b = b ? b + 1 : path;
        n = strlen(b);
        if (n > 5 && !strcmp(b + n - 5, ".yaml"))
                n -= 5;
        else if (n > 4 && !strcmp(b + n - 4, ".yml"))
                n -= 4;
        return n ? xstrndup(b, n) : xstrdup("plan");
}

/* The directory of path, absolute. */
static char *plan_dir_of(const char *path)
{
        const char *slash = strrchr(path, '/');
        char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
        char buf[PATH_MAX], *abs;

        if (!*dir) {
                free(dir);
                return xstrdup("/");
        }
        if (realpath(dir, buf)) {
                free(dir);
                return xstrdup(buf);
        }
        if (dir[0] == '/')
                return dir;
        abs = getcwd(buf, sizeof buf) ? xasprintf("%s/%s", buf, dir) : xstrdup(dir);
        free(dir);
        return abs;
}

struct plan *plan_load_string(const char *yaml, size_t len, const char *path, struct err *err)
{
        struct plan *p;
        struct pload l = { .p = NULL };
        int rc;

        if (ydoc_load(&l.y, yaml, len, path, "plan", PLAN_MAX_DEPTH, err) != 0)
                return NULL;
        p = xcalloc(1, sizeof *p);
        p->path = xstrdup(path);
        p->dir = plan_dir_of(path);
        p->name = plan_name_of(path);
        l.p = p;
        rc = load_top(&l, ydoc_root(&l.y));
        ydoc_done(&l.y);
        if (rc != 0) {
                plan_free(p);
                return NULL;
        }
        return p;
}

/* True when an fsfile error is about the file's kind or size (a FIFO, a
 * directory, too large) rather than the system's error opening it. */
static bool plan_file_refused(int code)
{
        return code == EISDIR || code == EINVAL || code == EFBIG;
}

struct plan *plan_load_file(const char *path, bool *missing, struct err *err)
{
        struct err fe;
        char *buf;
        size_t n = 0;
        struct plan *p;

        if (missing)
                *missing = false;
        buf = fsfile_read(path, PLAN_MAX_BYTES, "plan file", &n, &fe);
        if (!buf) {
                if (plan_file_refused(fe.code)) {
                        err_set(err, fe.code, "%s", fe.msg);
                } else {
                        if (missing)
                                *missing = true;
                        err_set(err, fe.code, "%s: %s", path, strerror(fe.code));
                }
                return NULL;
        }
        p = plan_load_string(buf, n, path, err);
        free(buf);
        return p;
}

void plan_free(struct plan *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_stages; i++) {
                struct plan_stage *s = &p->stages[i];

                free(s->name);
                free(s->title);
                for (size_t j = 0; j < s->n_steps; j++)
                        step_done(&s->steps[j]);
                free(s->steps);
                for (size_t j = 0; j < s->n_down; j++)
                        step_done(&s->down[j]);
                free(s->down);
                for (size_t j = 0; j < s->n_gates; j++) {
                        free(s->gates[j].name);
                        free(s->gates[j].source);
                        expr_free(s->gates[j].expr);
                }
                free(s->gates);
        }
        free(p->stages);
        for (size_t i = 0; i < p->n_vars; i++) {
                free(p->var_names[i]);
                free(p->var_vals[i]);
        }
        free(p->var_names);
        free(p->var_vals);
        free(p->path);
        free(p->dir);
        free(p->name);
        free(p->config);
        free(p);
}

int plan_stage_index(const struct plan *p, const char *name)
{
        for (size_t i = 0; name && i < p->n_stages; i++)
                if (!strcmp(p->stages[i].name, name))
                        return (int)i;
        return -1;
}

const char *plan_var(const struct plan *p, const char *name)
{
        for (size_t i = 0; i < p->n_vars; i++)
                if (!strcmp(p->var_names[i], name))
                        return p->var_vals[i];
        return NULL;
}

int plan_check_sources(const struct plan *p, const struct config *cfg, struct err *err)
{
        for (size_t i = 0; i < p->n_stages; i++)
                for (size_t j = 0; j < p->stages[i].n_gates; j++) {
                        const struct plan_gate *g = &p->stages[i].gates[j];

                        if (!config_source(cfg, g->source)) {
                                err_set(err, ENOENT, "%s:%d:%d: gate \"%s\": no source \"%s\" "
                                        "in %s", p->path, g->line, g->col, g->name, g->source,
                                        cfg->path);
                                return -1;
                        }
                }
        return 0;
}

void plan_argv_free(char **argv)
{
        if (!argv)
                return;
        for (char **a = argv; *a; a++)
                free(*a);
        free(argv);
}

/* One word with ${vars} replaced. Owned, or NULL with err. */
static char *subst_word(const struct plan *p, const char *w, struct err *err)
{
        size_t cap = strlen(w) + 1, n = 0;
        char *out = xmalloc(cap);

        for (const char *q = w; *q; q++) {
                const char *add = NULL;
                size_t alen = 0;
                char one[1];

                if (q[0] == '$' && q[1] == '$') {
                        one[0] = '$';
                        add = one;
                        alen = 1;
                        q++;
                } else if (q[0] == '$' && q[1] == '{') {
                        const char *end = strchr(q + 2, '}');
                        char name[64];
                        size_t len;

                        if (!end || (len = (size_t)(end - q - 2)) == 0 || len >= sizeof name) {
                                err_set(err, EINVAL, "bad ${...} in \"%.60s\"", w);
                                free(out);
                                return NULL;
                        }
                        memcpy(name, q + 2, len);
                        name[len] = '\0';
                        add = plan_var(p, name);
                        if (!add) {
                                err_set(err, ENOENT, "unknown variable ${%s}", name);
                                free(out);
                                return NULL;
                        }
                        alen = strlen(add);
                        q = end;
                } else {
                        one[0] = *q;
                        add = one;
                        alen = 1;
                }
                if (n + alen + 1 > cap) {
                        cap = (n + alen + 1) * 2;
                        out = xrealloc(out, cap);
                }
                memcpy(out + n, add, alen);
                n += alen;
        }
        out[n] = '\0';
        return out;
}

char **plan_subst(const struct plan *p, char *const argv[], struct err *err)
{
        size_t n = 0;
        char **out;

        while (argv[n])
                n++;
        out = xcalloc(n + 1, sizeof *out);
        for (size_t i = 0; i < n; i++) {
                out[i] = subst_word(p, argv[i], err);
                if (!out[i]) {
                        plan_argv_free(out);
                        return NULL;
                }
        }
        return out;
}

/* --- `lambdaops plan` -------------------------------------------------------- */

struct sbuf {
        char  *s;
        size_t n, cap;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (k < 0)
                return;
        if (b->n + (size_t)k + 1 > b->cap) {
                b->cap = (b->n + (size_t)k + 1) * 2;
                b->s = xrealloc(b->s, b->cap);
        }
        va_start(ap, fmt);
        vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        b->n += (size_t)k;
}

static void text_argv(struct sbuf *b, const struct plan *p, char *const argv[])
{
        struct err e;
        char **sub, *t;

        err_clear(&e);
        sub = plan_subst(p, argv, &e);
        if (!sub) {
                sb_add(b, "(%s)", e.msg);
                return;
        }
        t = action_argv_text(sub);
        sb_add(b, "%s", t);
        free(t);
        plan_argv_free(sub);
}

static void text_steps(struct sbuf *b, const struct plan *p, const struct plan_step *s, size_t n,
                       const char *label)
{
        char d[32];

        for (size_t i = 0; i < n; i++) {
                sb_add(b, "  %s %zu: ", label, i + 1);
                text_argv(b, p, s[i].run.v);
                fmt_duration_ms(s[i].timeout_ms, d, sizeof d);
                sb_add(b, "\n      timeout %s%s%s\n", d, s[i].dangerous ? ", dangerous" : "",
                       s[i].mutating ? "" : ", read-only");
                for (size_t k = 0; k < s[i].n_env; k++) {
                        const char *eq = strchr(s[i].env[k], '=');
                        sb_add(b, "      env %.*s\n", (int)(eq - s[i].env[k]), s[i].env[k]);
                }
                if (s[i].skip_if_exit0.n) {
                        sb_add(b, "      skipped when this exits 0: ");
                        text_argv(b, p, s[i].skip_if_exit0.v);
                        sb_add(b, "\n");
                }
        }
}

char *plan_text(const struct plan *p)
{
        struct sbuf b = { 0 };
        char d[32], iv[32];

        sb_add(&b, "plan %s: %zu stage%s\n", p->path, p->n_stages, p->n_stages == 1 ? "" : "s");
        sb_add(&b, "config %s\n", p->config ? p->config : "(none)");
        for (size_t i = 0; i < p->n_vars; i++)
                sb_add(&b, "var %s = %s\n", p->var_names[i], p->var_vals[i]);
        for (size_t i = 0; i < p->n_stages; i++) {
                const struct plan_stage *s = &p->stages[i];

                sb_add(&b, "\nstage %zu/%zu %s%s%s\n", i + 1, p->n_stages, s->name,
                       s->title ? ": " : "", s->title ? s->title : "");
                text_steps(&b, p, s->steps, s->n_steps, "step");
                for (size_t j = 0; j < s->n_gates; j++) {
                        const struct plan_gate *g = &s->gates[j];

                        fmt_duration_ms(g->timeout_ms, d, sizeof d);
                        fmt_duration_ms(g->interval_ms, iv, sizeof iv);
                        sb_add(&b, "  gate %s: %s: %s\n      timeout %s, every %s\n", g->name,
                               g->source, expr_text(g->expr), d, iv);
                }
                text_steps(&b, p, s->down, s->n_down, "down");
        }
        return b.s ? b.s : xstrdup("");
}

/* --- progress ------------------------------------------------------------------ */

static const char *const state_names[] = {
        [ST_PENDING] = "pending", [ST_RUNNING] = "running", [ST_WAITING] = "waiting",
        [ST_DONE] = "done", [ST_FAILED] = "failed", [ST_SKIPPED] = "skipped",
};

const char *stage_state_name(enum stage_state s)
{
        return (unsigned)s < LO_ARRAY_LEN(state_names) ? state_names[s] : "pending";
}

enum stage_state stage_state_parse(const char *s)
{
        for (size_t i = 0; s && i < LO_ARRAY_LEN(state_names); i++)
                if (!strcmp(state_names[i], s))
                        return (enum stage_state)i;
        return ST_PENDING;
}

static char *plan_state_dir(void)
{
        const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

        if (x && *x == '/')
                return xasprintf("%s/lambdaops/bringup", x);
        if (!home || !*home) {
                const struct passwd *pw = getpwuid(getuid());

                home = pw && pw->pw_dir ? pw->pw_dir : "/tmp";
        }
        return xasprintf("%s/.local/state/lambdaops/bringup", home);
}

char *plan_progress_path(const char *plan_name)
{
        char *d = plan_state_dir(), *r = xasprintf("%s/%s.json", d, plan_name);

        free(d);
        return r;
}

char *plan_log_path(const char *plan_name)
{
        char *d = plan_state_dir(), *r = xasprintf("%s/%s.log", d, plan_name);

        free(d);
        return r;
}

cJSON *plan_progress_read(const char *path, bool *missing, struct err *err)
{
        struct err fe;
        char *buf;
        size_t n = 0;
        cJSON *j;

        if (missing)
                *missing = false;
        buf = fsfile_read(path, PLAN_MAX_BYTES, "progress file", &n, &fe);
        if (!buf) {
                if (plan_file_refused(fe.code)) {
                        err_set(err, fe.code, "%s", fe.msg);
                } else {
                        if (missing)
                                *missing = fe.code == ENOENT;
                        err_set(err, fe.code, "%s: %s", path, strerror(fe.code));
                }
                return NULL;
        }
        j = cJSON_ParseWithLength(buf, n);
        free(buf);
        if (!j || !cJSON_IsObject(j)) {
                cJSON_Delete(j);
                err_set(err, EINVAL, "%s: not a progress file (invalid JSON)", path);
                return NULL;
        }
        return j;
}

/* mkdir -p with 0700 for the parents of path. */
static int plan_mkdirs_for(const char *path, struct err *err)
{
        char *d;

        if (fsdir_make_parents(path, 0700, &d) != 0) {
                err_set(err, errno, "mkdir %s: %s", d, strerror(errno));
                free(d);
                return -1;
        }
        return 0;
}

int plan_progress_write(const char *path, const cJSON *prog, struct err *err)
{
        char *text = cJSON_Print(prog), *tmp;
        size_t len;
        int fd, rc = -1;

        if (!text) {
                err_set(err, ENOMEM, "progress: cannot format JSON");
                return -1;
        }
        if (plan_mkdirs_for(path, err) != 0) {
                cJSON_free(text);
                return -1;
        }
        tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
                err_set(err, errno, "%s: %s", tmp, strerror(errno));
                goto out;
        }
        len = strlen(text);
        text[len] = '\0';
        for (size_t off = 0; off < len;) {
                ssize_t w = write(fd, text + off, len - off);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        err_set(err, errno, "%s: %s", tmp, strerror(errno));
                        close(fd);
                        unlink(tmp);
                        goto out;
                }
                off += (size_t)w;
        }
        if (write(fd, "\n", 1) != 1 || close(fd) != 0) {
                err_set(err, errno, "%s: %s", tmp, strerror(errno));
                unlink(tmp);
                goto out;
        }
        if (rename(tmp, path) != 0) {
                err_set(err, errno, "rename %s: %s", path, strerror(errno));
                unlink(tmp);
                goto out;
        }
        rc = 0;
out:
        free(tmp);
        cJSON_free(text);
        return rc;
}

cJSON *plan_progress_stage(const cJSON *prog, const char *name)
{
        const cJSON *stages = prog ? cJSON_GetObjectItemCaseSensitive(prog, "stages") : NULL;
        cJSON *s;

        cJSON_ArrayForEach(s, stages) {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "name");

                if (cJSON_IsString(n) && !strcmp(n->valuestring, name))
                        return s;
        }
        return NULL;
}

enum stage_state plan_progress_state(const cJSON *prog, const char *name)
{
        const cJSON *s = plan_progress_stage(prog, name);
        const cJSON *st = s ? cJSON_GetObjectItemCaseSensitive(s, "state") : NULL;

        return cJSON_IsString(st) ? stage_state_parse(st->valuestring) : ST_PENDING;
}

int plan_select(const struct plan *p, const cJSON *prog, const char *only, const char *from,
                size_t *first, size_t *last, struct err *err)
{
        int i;

        if (only && from) {
                err_set(err, EINVAL, "--only and --from exclude each other");
                return -1;
        }
        if (only || from) {
                i = plan_stage_index(p, only ? only : from);
                if (i < 0) {
                        err_set(err, ENOENT, "no stage \"%s\" in %s", only ? only : from,
                                p->path);
                        return -1;
                }
                *first = (size_t)i;
                *last = only ? (size_t)i : p->n_stages - 1;
                return 1;
        }
        for (size_t k = 0; k < p->n_stages; k++) {
                enum stage_state s = plan_progress_state(prog, p->stages[k].name);

                if (s != ST_DONE && s != ST_SKIPPED) {
                        *first = k;
                        *last = p->n_stages - 1;
                        return 1;
                }
        }
        return 0;
}
