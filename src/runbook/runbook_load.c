/*
 * runbook_load: the runbook file loader (runbook.h). libyaml's document
 * API keeps every node's start mark, so every message carries
 * FILE:LINE:COL. The model is checked whole here (kinds, ids, references,
 * expressions, inputs, ${name} words); what needs the config is
 * runbook_check_config's (runbook.c).
 */
#include "runbook/runbook.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "bringup/expr.h"
#include "core/config.h"
#include "core/fsfile.h"
#include "core/util.h"
#include "runbook/runbook_internal.h"

/* How much of each part one runbook may hold: a file that needs more is
 * not a runbook an operator can follow, and the limits keep a hostile
 * file's cost bounded. */
#define RB_MAX_STEPS   200
#define RB_MAX_INPUTS  32
#define RB_MAX_WHEN    32
#define RB_MAX_VERIFY  32
#define RB_MAX_CHOICES 16
#define RB_MAX_ARGV    128
#define RB_MAX_VALUES  64
#define RB_MAX_TEXT    16384    /* bytes of one string (a description) */
#define RB_MAX_RETRIES 10
#define RB_MAX_DEPTH   16       /* a runbook needs 6 levels (steps, choose) */

struct rload {
        const char      *text;          /* the input, for the source span of a scalar */
        size_t           len;
        yaml_document_t *doc;
        const char      *file;
        struct err      *err;
        struct runbook  *rb;
};

static int lerr(struct rload *l, const yaml_node_t *n, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Sets "FILE:LINE:COL: message"; returns -1. */
static int lerr(struct rload *l, const yaml_node_t *n, const char *fmt, ...)
{
        char msg[300];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (n)
                err_set(l->err, EINVAL, "%s:%d:%d: %s", l->file, (int)n->start_mark.line + 1,
                        (int)n->start_mark.column + 1, msg);
        else
                err_set(l->err, EINVAL, "%s: %s", l->file, msg);
        return -1;
}

static yaml_node_t *node(struct rload *l, int id)
{
        return yaml_document_get_node(l->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
        return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool scalar_plain(const yaml_node_t *n)
{
        return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static const char *node_what(const yaml_node_t *n)
{
        if (!n)
                return "nothing";
        if (n->type == YAML_MAPPING_NODE)
                return "a mapping";
        if (n->type == YAML_SEQUENCE_NODE)
                return "a list";
        return "a scalar";
}

static size_t seq_len(const yaml_node_t *n)
{
        return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

/* A string value: any scalar but a plain null or an empty one. */
static int get_str(struct rload *l, const yaml_node_t *n, const char *key, char **out)
{
        const char *s = scalar(n);

        if (!s || (scalar_plain(n) && (!strcmp(s, "~") || !strcmp(s, "null"))) || !*s)
                return lerr(l, n, "%s: expected a non-empty string, got %s", key,
                            s ? "nothing" : node_what(n));
        if (strlen(s) != n->data.scalar.length)
                return lerr(l, n, "%s: NUL byte in string", key);
        if (n->data.scalar.length > RB_MAX_TEXT)
                return lerr(l, n, "%s: longer than %d bytes", key, RB_MAX_TEXT);
        free(*out);
        *out = xstrdup(s);
        return 0;
}

static int get_bool(struct rload *l, const yaml_node_t *n, const char *key, bool *out)
{
        const char *s = scalar(n);

        if (s && scalar_plain(n) && !strcmp(s, "true"))
                *out = true;
        else if (s && scalar_plain(n) && !strcmp(s, "false"))
                *out = false;
        else
                return lerr(l, n, "%s: expected true or false", key);
        return 0;
}

static int get_duration(struct rload *l, const yaml_node_t *n, const char *key, int64_t *ms)
{
        const char *s = scalar(n);
        struct err e;

        err_clear(&e);
        if (!s)
                return lerr(l, n, "%s: expected a duration such as 30s or 5m, got %s", key,
                            node_what(n));
        if (config_parse_duration(s, ms, &e) != 0)
                return lerr(l, n, "%s: %s", key, e.msg);
        if (*ms <= 0)
                return lerr(l, n, "%s: must be more than 0", key);
        return 0;
}

static int get_int(struct rload *l, const yaml_node_t *n, const char *key, int64_t *out)
{
        const char *s = scalar(n);
        struct err e;

        err_clear(&e);
        if (!s)
                return lerr(l, n, "%s: expected an integer, got %s", key, node_what(n));
        if (!scalar_plain(n) || rb_parse_int(s, out, &e) != 0)
                return lerr(l, n, "%s: expected an integer, got \"%.30s\"", key, s);
        return 0;
}

/* Unknown key message with a suggestion from `known` (NULL-terminated),
 * else `hint` when given. */
static int unknown_key(struct rload *l, const yaml_node_t *k, const char *where,
                       const char *const *known, const char *hint)
{
        const char *s = scalar(k), *best = NULL;
        int bd = 3;

        for (size_t i = 0; s && known[i]; i++) {
                int d = str_edit_distance(s, known[i]);

                if (d < bd) {
                        bd = d;
                        best = known[i];
                }
        }
        if (best)
                return lerr(l, k, "%s: unknown key \"%.40s\" (did you mean \"%s\"?)", where,
                            s ? s : "?", best);
        return lerr(l, k, "%s: unknown key \"%.40s\"%s%s", where, s ? s : "?",
                    hint ? " " : "", hint ? hint : "");
}

/* Checks that m is a mapping of known scalar keys without duplicates. */
static int check_map(struct rload *l, const yaml_node_t *m, const char *where,
                     const char *const *known, const char *hint)
{
        if (!m || m->type != YAML_MAPPING_NODE)
                return lerr(l, m, "%s: expected a mapping, got %s", where, node_what(m));
        for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top;
             a++) {
                const yaml_node_t *k = node(l, a->key);
                const char *s = scalar(k);
                size_t i;

                if (!s)
                        return lerr(l, k, "%s: keys must be strings", where);
                for (i = 0; known[i]; i++)
                        if (!strcmp(known[i], s))
                                break;
                if (!known[i])
                        return unknown_key(l, k, where, known, hint);
                for (yaml_node_pair_t *b = m->data.mapping.pairs.start; b < a; b++) {
                        const char *o = scalar(node(l, b->key));

                        if (o && !strcmp(o, s))
                                return lerr(l, k, "%s: duplicate key \"%s\"", where, s);
                }
        }
        return 0;
}

static yaml_node_t *map_get(struct rload *l, const yaml_node_t *m, const char *key)
{
        for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top;
             a++) {
                const char *s = scalar(node(l, a->key));

                if (s && !strcmp(s, key))
                        return node(l, a->value);
        }
        return NULL;
}

/* A list node of at most max items (an empty list is allowed). */
static int check_seq(struct rload *l, const yaml_node_t *n, const char *key, size_t max)
{
        if (!n || n->type != YAML_SEQUENCE_NODE)
                return lerr(l, n, "%s: expected a list, got %s", key, node_what(n));
        if (seq_len(n) > max)
                return lerr(l, n, "%s: more than %zu entries", key, max);
        return 0;
}

/* The file column of byte column `col` (1-based) of scalar n's value, when
 * the value is written on one line as it is (plain, or quoted without an
 * escape); else 0. */
static int value_col(const struct rload *l, const yaml_node_t *n, int col)
{
        size_t a = n->start_mark.index, z = n->end_mark.index, vl = n->data.scalar.length;
        const char *v = (const char *)n->data.scalar.value;
        int q;

        if (n->start_mark.line != n->end_mark.line || z > l->len || a > z)
                return 0;
        switch (n->data.scalar.style) {
        case YAML_PLAIN_SCALAR_STYLE:
                q = 0;
                break;
        case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
                q = 1;
                break;
        default:
                return 0;
        }
        if (z - a != vl + 2 * (size_t)q || memcmp(l->text + a + q, v, vl) != 0)
                return 0;
        return (int)n->start_mark.column + 1 + q + col - 1;
}

static int get_expr(struct rload *l, const yaml_node_t *n, const char *key, struct expr **out)
{
        char *text = NULL;
        struct err e;
        int c = 0, fc;

        if (get_str(l, n, key, &text) != 0)
                return -1;
        err_clear(&e);
        *out = expr_parse(text, &e);
        free(text);
        if (*out)
                return 0;
        /* Point at the offending character when the file shows the text
         * as it is; the message keeps the expression's own column. */
        if (sscanf(e.msg, "col %d:", &c) == 1 && c > 0 && (fc = value_col(l, n, c)) > 0) {
                err_set(l->err, EINVAL, "%s:%d:%d: %s: %s", l->file,
                        (int)n->start_mark.line + 1, fc, key, e.msg);
                return -1;
        }
        return lerr(l, n, "%s: %s", key, e.msg);
}

static const yaml_node_t *loc(const yaml_node_t *n, int *line, int *col)
{
        *line = (int)n->start_mark.line + 1;
        *col = (int)n->start_mark.column + 1;
        return n;
}

/* Every ${name} in s names an input of the runbook. */
static int check_vars(struct rload *l, const yaml_node_t *n, const char *where, const char *s)
{
        for (const char *q = s; *q; q++) {
                const char *end;
                char name[64];
                size_t len;

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
                        return lerr(l, n, "%s: unterminated ${ in \"%.60s\" (write $$ for a "
                                    "literal $)", where, s);
                len = (size_t)(end - q - 2);
                if (len == 0 || len >= sizeof name)
                        return lerr(l, n, "%s: bad input name in \"%.60s\"", where, s);
                memcpy(name, q + 2, len);
                name[len] = '\0';
                if (!rb_input_find(l->rb, name)) {
                        if (l->rb->n_inputs == 0)
                                return lerr(l, n, "%s: unknown input ${%s} (the runbook has "
                                            "no inputs)", where, name);
                        return lerr(l, n, "%s: unknown input ${%s}", where, name);
                }
                q = end;
        }
        return 0;
}

/* A string that may hold ${input}s. */
static int get_word(struct rload *l, const yaml_node_t *n, const char *key, char **out)
{
        if (get_str(l, n, key, out) != 0)
                return -1;
        return check_vars(l, n, key, *out);
}

/* --- when ------------------------------------------------------------------ */

static const char *const when_keys[] = { "kind", "source", "metric", "subject", "severity",
                                         "expr", NULL };

static int load_when(struct rload *l, const yaml_node_t *n, size_t i, struct runbook_when *w)
{
        char where[48];
        yaml_node_t *v;

        snprintf(where, sizeof where, "when[%zu]", i);
        if (check_map(l, n, where, when_keys, NULL) != 0)
                return -1;
        loc(n, &w->line, &w->col);
        if (n->data.mapping.pairs.top == n->data.mapping.pairs.start)
                return lerr(l, n, "%s: empty; give kind, source, metric, subject, severity "
                            "or expr", where);
        if ((v = map_get(l, n, "kind")) && get_str(l, v, "kind", &w->kind) != 0)
                return -1;
        if ((v = map_get(l, n, "source")) && get_str(l, v, "source", &w->source) != 0)
                return -1;
        if ((v = map_get(l, n, "metric")) && get_str(l, v, "metric", &w->metric) != 0)
                return -1;
        if ((v = map_get(l, n, "subject")) && get_str(l, v, "subject", &w->subject) != 0)
                return -1;
        if ((v = map_get(l, n, "severity"))) {
                const char *s = scalar(v);

                if (s && !strcmp(s, "warning"))
                        w->severity = SEV_WARN;
                else if (s && !strcmp(s, "critical"))
                        w->severity = SEV_CRIT;
                else
                        return lerr(l, v, "severity: expected warning or critical");
        }
        if ((v = map_get(l, n, "expr"))) {
                if (get_expr(l, v, "expr", &w->expr) != 0)
                        return -1;
                /* An expression reads a source's status, not an alert. */
                if (w->metric || w->subject || w->severity != SEV_OK)
                        return lerr(l, n, "%s: an expr entry matches a source's status, not an "
                                    "alert: drop metric, subject and severity (or make them "
                                    "another entry)", where);
                if (!w->source && !w->kind)
                        return lerr(l, n, "%s: an expr entry needs the source (or kind) whose "
                                    "status it reads", where);
        }
        return 0;
}

/* --- inputs ---------------------------------------------------------------- */

static const char *const input_keys[] = { "name", "type", "kind", "target", "values", "default",
                                          "min", "max", "from_alert", NULL };

static bool valid_input_name(const char *s)
{
        if (!((*s >= 'a' && *s <= 'z') || *s == '_') || strlen(s) > 40)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
                        return false;
        return true;
}

static int load_input(struct rload *l, const yaml_node_t *n, size_t i, struct runbook_input *in)
{
        char where[96];
        yaml_node_t *v, *d;
        const char *s;
        struct err e;

        snprintf(where, sizeof where, "inputs[%zu]", i);
        if (check_map(l, n, where, input_keys, NULL) != 0)
                return -1;
        loc(n, &in->line, &in->col);
        if (!(v = map_get(l, n, "name")))
                return lerr(l, n, "%s: missing \"name\"", where);
        if (get_str(l, v, "name", &in->name) != 0)
                return -1;
        if (!valid_input_name(in->name))
                return lerr(l, v, "name: \"%.40s\" is not a valid input name (lowercase letters, "
                            "digits and _, not starting with a digit)", in->name);
        for (size_t j = 0; j < i; j++)
                if (!strcmp(l->rb->inputs[j].name, in->name))
                        return lerr(l, v, "name: input \"%s\" is already defined at line %d",
                                    in->name, l->rb->inputs[j].line);
        snprintf(where, sizeof where, "input %s", in->name);
        if (!(v = map_get(l, n, "type")))
                return lerr(l, n, "%s: missing \"type\" (string, integer, duration, enum, source "
                            "or target)", where);
        s = scalar(v);
        if (!s || rb_input_type_parse(s, &in->type) != 0)
                return lerr(l, v, "%s: type: expected string, integer, duration, enum, source or "
                            "target", where);
        if ((v = map_get(l, n, "kind"))) {
                if (in->type != RB_IN_SOURCE)
                        return lerr(l, v, "%s: kind: only for type source", where);
                if (get_str(l, v, "kind", &in->kind) != 0)
                        return -1;
        }
        v = map_get(l, n, "target");
        if (in->type == RB_IN_TARGET) {
                if (!v)
                        return lerr(l, n, "%s: missing \"target\" (slot, group, connector, pod, "
                                    "application, dag or bucket)", where);
                s = scalar(v);
                if (!s || rb_target_parse(s, &in->target) != 0)
                        return lerr(l, v, "%s: target: expected slot, group, connector, pod, "
                                    "application, dag or bucket", where);
        } else if (v) {
                return lerr(l, v, "%s: target: only for type target", where);
        }
        v = map_get(l, n, "values");
        if (in->type == RB_IN_ENUM) {
                if (!v)
                        return lerr(l, n, "%s: missing \"values\" (the list of choices)", where);
                if (check_seq(l, v, "values", RB_MAX_VALUES) != 0)
                        return -1;
                if (!seq_len(v))
                        return lerr(l, v, "%s: values: expected at least one value", where);
                in->values = xcalloc(seq_len(v) + 1, sizeof *in->values);
                for (size_t j = 0; j < seq_len(v); j++) {
                        yaml_node_t *w = node(l, v->data.sequence.items.start[j]);

                        in->n_values++;
                        if (get_str(l, w, "values", &in->values[j]) != 0)
                                return -1;
                        for (size_t k = 0; k < j; k++)
                                if (!strcmp(in->values[k], in->values[j]))
                                        return lerr(l, w, "%s: values: \"%.40s\" is listed twice",
                                                    where, in->values[j]);
                }
        } else if (v) {
                return lerr(l, v, "%s: values: only for type enum", where);
        }
        if ((v = map_get(l, n, "min"))) {
                if (in->type != RB_IN_INTEGER)
                        return lerr(l, v, "%s: min: only for type integer", where);
                if (get_int(l, v, "min", &in->min) != 0)
                        return -1;
                in->has_min = true;
        }
        if ((v = map_get(l, n, "max"))) {
                if (in->type != RB_IN_INTEGER)
                        return lerr(l, v, "%s: max: only for type integer", where);
                if (get_int(l, v, "max", &in->max) != 0)
                        return -1;
                in->has_max = true;
                if (in->has_min && in->max < in->min)
                        return lerr(l, v, "%s: max: less than min", where);
        }
        if ((v = map_get(l, n, "from_alert"))) {
                s = scalar(v);
                if (s && !strcmp(s, "source"))
                        in->from_alert = RB_FROM_SOURCE;
                else if (s && !strcmp(s, "subject"))
                        in->from_alert = RB_FROM_SUBJECT;
                else if (s && !strcmp(s, "metric"))
                        in->from_alert = RB_FROM_METRIC;
                else
                        return lerr(l, v, "%s: from_alert: expected source, subject or metric",
                                    where);
        }
        if ((d = map_get(l, n, "default"))) {
                if (get_str(l, d, "default", &in->def) != 0)
                        return -1;
                err_clear(&e);
                /* No config here: a source default is checked against it by
                 * runbook_check_config. */
                if (rb_input_valid(in, in->def, NULL, &e) != 0)
                        return lerr(l, d, "%s: default: %s", where, e.msg);
        }
        return 0;
}

/* --- steps ----------------------------------------------------------------- */

static const char *const step_keys[] = { "id", "title", "check", "wait", "action", "run",
                                         "manual", "choose", "timeout", "retries", "on_fail",
                                         "mutating", "dangerous", "next", NULL };
static const char *const kind_keys[] = { "check", "wait", "action", "run", "manual", "choose",
                                         NULL };
static const char *const check_keys[] = { "source", "expr", NULL };
static const char *const wait_keys[] = { "source", "expr", "for", NULL };
static const char *const verify_keys[] = { "source", "expr", "for", "timeout", NULL };
static const char *const action_keys[] = { "source", "action", "target", "arg", NULL };
static const char *const choice_keys[] = { "label", "goto", NULL };

static bool valid_id(const char *s)
{
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')) || strlen(s) > 63)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
                        return false;
        return true;
}

/* A check, wait or verify condition. */
static int load_cond(struct rload *l, const yaml_node_t *n, const char *where,
                     const char *const *keys, struct runbook_cond *c)
{
        yaml_node_t *v;

        if (check_map(l, n, where, keys, NULL) != 0)
                return -1;
        loc(n, &c->line, &c->col);
        if (!(v = map_get(l, n, "source")))
                return lerr(l, n, "%s: missing \"source\" (whose status the expression reads)",
                            where);
        if (get_word(l, v, "source", &c->source) != 0)
                return -1;
        if (!(v = map_get(l, n, "expr")))
                return lerr(l, n, "%s: missing \"expr\"", where);
        if (get_expr(l, v, "expr", &c->expr) != 0)
                return -1;
        if ((v = map_get(l, n, "for")) && get_duration(l, v, "for", &c->for_ms) != 0)
                return -1;
        if ((v = map_get(l, n, "timeout")) && get_duration(l, v, "timeout", &c->timeout_ms) != 0)
                return -1;
        return 0;
}

static int load_action(struct rload *l, const yaml_node_t *n, struct runbook_step *s)
{
        yaml_node_t *v;

        if (check_map(l, n, "action", action_keys, NULL) != 0)
                return -1;
        if (!(v = map_get(l, n, "source")))
                return lerr(l, n, "action: missing \"source\"");
        if (get_word(l, v, "action.source", &s->act_source) != 0)
                return -1;
        if (!(v = map_get(l, n, "action")))
                return lerr(l, n, "action: missing \"action\" (the action's name, as in "
                            "`lambdaops act`)");
        if (get_str(l, v, "action.action", &s->act_action) != 0)
                return -1;
        if (strchr(s->act_action, '$'))
                return lerr(l, v, "action.action: the action is a fixed name, not an input");
        if (!(v = map_get(l, n, "target")))
                return lerr(l, n, "action: missing \"target\"");
        if (get_word(l, v, "action.target", &s->act_target) != 0)
                return -1;
        if ((v = map_get(l, n, "arg")) && get_word(l, v, "action.arg", &s->act_arg) != 0)
                return -1;
        return 0;
}

static int load_run(struct rload *l, const yaml_node_t *n, struct runbook_step *s)
{
        if (!n || n->type != YAML_SEQUENCE_NODE || !seq_len(n))
                return lerr(l, n, "run: expected a non-empty list of words, e.g. [kubectl, get, "
                            "pods] (never a shell line)");
        if (seq_len(n) > RB_MAX_ARGV)
                return lerr(l, n, "run: more than %d words", RB_MAX_ARGV);
        s->argv = xcalloc(seq_len(n) + 1, sizeof *s->argv);
        for (size_t i = 0; i < seq_len(n); i++) {
                yaml_node_t *w = node(l, n->data.sequence.items.start[i]);

                if (!scalar(w))
                        return lerr(l, w, "run: every word must be a string, got %s",
                                    node_what(w));
                s->n_argv++;    /* counted first: runbook_free frees a word set before a failure */
                if (get_word(l, w, "run", &s->argv[i]) != 0)
                        return -1;
        }
        if (s->n_argv == 1 && strchr(s->argv[0], ' '))
                return lerr(l, n, "run: \"%.60s\" is one word; write the argv as a list",
                            s->argv[0]);
        return 0;
}

static int load_choose(struct rload *l, const yaml_node_t *n, struct runbook_step *s)
{
        if (check_seq(l, n, "choose", RB_MAX_CHOICES) != 0)
                return -1;
        if (seq_len(n) < 2)
                return lerr(l, n, "choose: expected at least two choices");
        s->choices = xcalloc(seq_len(n), sizeof *s->choices);
        for (size_t i = 0; i < seq_len(n); i++) {
                yaml_node_t *c = node(l, n->data.sequence.items.start[i]), *v;
                char where[32];

                snprintf(where, sizeof where, "choose[%zu]", i);
                s->n_choices++;
                if (check_map(l, c, where, choice_keys, NULL) != 0)
                        return -1;
                if (!(v = map_get(l, c, "label")))
                        return lerr(l, c, "%s: missing \"label\"", where);
                if (get_word(l, v, "label", &s->choices[i].label) != 0)
                        return -1;
                if (!(v = map_get(l, c, "goto")))
                        return lerr(l, c, "%s: missing \"goto\" (a step id)", where);
                if (get_str(l, v, "goto", &s->choices[i].go) != 0)
                        return -1;
        }
        return 0;
}

static int load_step(struct rload *l, const yaml_node_t *n, size_t i, struct runbook_step *s)
{
        char where[96];
        const yaml_node_t *kind = NULL;
        yaml_node_t *v;

        snprintf(where, sizeof where, "steps[%zu]", i);
        s->timeout_ms = RUNBOOK_STEP_TIMEOUT_MS;
        if (check_map(l, n, where, step_keys,
                      "(a step is one of check, wait, action, run, manual, choose)") != 0)
                return -1;
        loc(n, &s->line, &s->col);
        if (!(v = map_get(l, n, "id")))
                return lerr(l, n, "%s: missing \"id\"", where);
        if (get_str(l, v, "id", &s->id) != 0)
                return -1;
        if (!valid_id(s->id))
                return lerr(l, v, "id: \"%.40s\" is not a valid step id (lowercase letters, "
                            "digits and -)", s->id);
        if (!strcmp(s->id, "verify"))
                return lerr(l, v, "id: \"verify\" is reserved (next: verify goes to the "
                            "verify block); name the step otherwise");
        for (size_t j = 0; j < i; j++)
                if (!strcmp(l->rb->steps[j].id, s->id))
                        return lerr(l, v, "id: step \"%s\" is already defined at line %d", s->id,
                                    l->rb->steps[j].line);
        snprintf(where, sizeof where, "step %s", s->id);
        /* In file order, so a second kind is the one the message points at. */
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                const yaml_node_t *k = node(l, p->key);

                for (size_t j = 0; kind_keys[j]; j++) {
                        if (strcmp(scalar(k), kind_keys[j]) != 0)
                                continue;
                        if (kind)
                                return lerr(l, k, "%s: has both \"%s\" and \"%s\"; a step "
                                            "does one thing", where, scalar(kind), scalar(k));
                        kind = k;
                        s->kind = (enum runbook_step_kind)j;
                }
        }
        if (!kind)
                return lerr(l, n, "%s: expected one of check, wait, action, run, manual, choose",
                            where);
        v = map_get(l, n, scalar(kind));
        switch (s->kind) {
        case RB_STEP_CHECK:
                if (load_cond(l, v, "check", check_keys, &s->cond) != 0)
                        return -1;
                break;
        case RB_STEP_WAIT:
                if (load_cond(l, v, "wait", wait_keys, &s->cond) != 0)
                        return -1;
                break;
        case RB_STEP_ACTION:
                if (load_action(l, v, s) != 0)
                        return -1;
                break;
        case RB_STEP_RUN:
                if (load_run(l, v, s) != 0)
                        return -1;
                break;
        case RB_STEP_MANUAL:
                if (get_word(l, v, "manual", &s->manual) != 0)
                        return -1;
                break;
        case RB_STEP_CHOOSE:
                if (load_choose(l, v, s) != 0)
                        return -1;
                break;
        }
        s->mutating = s->kind == RB_STEP_ACTION || s->kind == RB_STEP_RUN;
        if ((v = map_get(l, n, "title")) && get_str(l, v, "title", &s->title) != 0)
                return -1;
        if ((v = map_get(l, n, "timeout")) && get_duration(l, v, "timeout", &s->timeout_ms) != 0)
                return -1;
        if ((v = map_get(l, n, "retries"))) {
                int64_t r;

                if (get_int(l, v, "retries", &r) != 0)
                        return -1;
                if (r < 0 || r > RB_MAX_RETRIES)
                        return lerr(l, v, "retries: expected 0 to %d", RB_MAX_RETRIES);
                s->retries = (int)r;
        }
        if ((v = map_get(l, n, "mutating"))) {
                if (s->kind != RB_STEP_ACTION && s->kind != RB_STEP_RUN)
                        return lerr(l, v, "mutating: only for action and run steps");
                if (get_bool(l, v, "mutating", &s->mutating) != 0)
                        return -1;
        }
        if ((v = map_get(l, n, "dangerous"))) {
                if (s->kind != RB_STEP_ACTION && s->kind != RB_STEP_RUN)
                        return lerr(l, v, "dangerous: only for action and run steps");
                if (get_bool(l, v, "dangerous", &s->dangerous) != 0)
                        return -1;
                /* Only a change is confirmed: a typed word on a step that is
                 * never confirmed would be a promise the engine cannot keep. */
                if (s->dangerous && !s->mutating)
                        return lerr(l, v, "dangerous: a dangerous step changes something; "
                                    "drop mutating: false");
        }
        if ((v = map_get(l, n, "next"))) {
                /* A choose step's branches are its own jumps. */
                if (s->kind == RB_STEP_CHOOSE)
                        return lerr(l, v, "next: not for choose steps (each choice has its "
                                    "goto)");
                if (get_str(l, v, "next", &s->next) != 0)
                        return -1;
                s->has_next = true;
        }
        if ((v = map_get(l, n, "on_fail"))) {
                const char *f = scalar(v);

                if (!f || !*f)
                        return lerr(l, v, "on_fail: expected stop, continue or a step id");
                if (!strcmp(f, "stop")) {
                        s->on_fail = RB_FAIL_STOP;
                } else if (!strcmp(f, "continue")) {
                        s->on_fail = RB_FAIL_CONTINUE;
                } else {
                        s->on_fail = RB_FAIL_GOTO;
                        if (get_str(l, v, "on_fail", &s->on_fail_goto) != 0)
                                return -1;
                }
        }
        return 0;
}

/* Index of the step called id, or -1. */
static long step_index(const struct runbook *rb, const char *id)
{
        for (size_t i = 0; i < rb->n_steps; i++)
                if (!strcmp(rb->steps[i].id, id))
                        return (long)i;
        return -1;
}

/* Resolves on_fail and goto step ids, after every step is loaded. The
 * nodes are looked up again for the message's position. */
static int resolve_refs(struct rload *l, const yaml_node_t *steps)
{
        for (size_t i = 0; i < l->rb->n_steps; i++) {
                struct runbook_step *s = &l->rb->steps[i];
                yaml_node_t *n = node(l, steps->data.sequence.items.start[i]);
                long at;

                if (s->on_fail == RB_FAIL_GOTO) {
                        at = step_index(l->rb, s->on_fail_goto);
                        if (at < 0)
                                return lerr(l, map_get(l, n, "on_fail"), "step %s: on_fail: no "
                                            "step \"%.40s\" (expected stop, continue or a step "
                                            "id)", s->id, s->on_fail_goto);
                        s->on_fail_index = (size_t)at;
                }
                if (s->has_next) {
                        if (!strcmp(s->next, "verify"))
                                at = (long)l->rb->n_steps;
                        else if ((at = step_index(l->rb, s->next)) < 0)
                                return lerr(l, map_get(l, n, "next"), "step %s: next: no step "
                                            "\"%.40s\" (expected a step id or verify)", s->id,
                                            s->next);
                        s->next_index = (size_t)at;
                }
                for (size_t c = 0; c < s->n_choices; c++) {
                        yaml_node_t *ch = node(l, map_get(l, n, "choose")->data.sequence.items
                                                  .start[c]);

                        at = step_index(l->rb, s->choices[c].go);
                        if (at < 0)
                                return lerr(l, map_get(l, ch, "goto"), "step %s: goto: no step "
                                            "\"%.40s\"", s->id, s->choices[c].go);
                        s->choices[c].go_index = (size_t)at;
                }
        }
        return 0;
}

/* --- the runbook ----------------------------------------------------------- */

static const char *const top_keys[] = { "id", "title", "description", "when", "inputs", "steps",
                                        "verify", NULL };

static int load_root(struct rload *l, const yaml_node_t *root)
{
        struct runbook *rb = l->rb;
        yaml_node_t *v, *steps;

        if (!root)
                return lerr(l, NULL, "empty file; a runbook needs id, title and steps");
        if (check_map(l, root, "runbook", top_keys, NULL) != 0)
                return -1;
        if (!(v = map_get(l, root, "id")))
                return lerr(l, root, "missing \"id\"");
        if (get_str(l, v, "id", &rb->id) != 0)
                return -1;
        if (!valid_id(rb->id))
                return lerr(l, v, "id: \"%.40s\" is not a valid runbook id (lowercase letters, "
                            "digits and -)", rb->id);
        if (!(v = map_get(l, root, "title")))
                return lerr(l, root, "missing \"title\"");
        if (get_str(l, v, "title", &rb->title) != 0)
                return -1;
        if ((v = map_get(l, root, "description")) &&
            get_str(l, v, "description", &rb->description) != 0)
                return -1;
        /* Inputs first: every ${name} below is checked against them. */
        if ((v = map_get(l, root, "inputs"))) {
                if (check_seq(l, v, "inputs", RB_MAX_INPUTS) != 0)
                        return -1;
                rb->inputs = xcalloc(seq_len(v) + 1, sizeof *rb->inputs);
                for (size_t i = 0; i < seq_len(v); i++) {
                        rb->n_inputs++;
                        if (load_input(l, node(l, v->data.sequence.items.start[i]), i,
                                       &rb->inputs[i]) != 0)
                                return -1;
                }
        }
        if ((v = map_get(l, root, "when"))) {
                if (check_seq(l, v, "when", RB_MAX_WHEN) != 0)
                        return -1;
                rb->when = xcalloc(seq_len(v) + 1, sizeof *rb->when);
                for (size_t i = 0; i < seq_len(v); i++) {
                        rb->n_when++;
                        if (load_when(l, node(l, v->data.sequence.items.start[i]), i,
                                      &rb->when[i]) != 0)
                                return -1;
                }
        }
        if (!(steps = map_get(l, root, "steps")))
                return lerr(l, root, "missing \"steps\"");
        if (check_seq(l, steps, "steps", RB_MAX_STEPS) != 0)
                return -1;
        if (!seq_len(steps))
                return lerr(l, steps, "steps: expected at least one step");
        rb->steps = xcalloc(seq_len(steps), sizeof *rb->steps);
        for (size_t i = 0; i < seq_len(steps); i++) {
                rb->n_steps++;
                if (load_step(l, node(l, steps->data.sequence.items.start[i]), i,
                              &rb->steps[i]) != 0)
                        return -1;
        }
        if (resolve_refs(l, steps) != 0)
                return -1;
        if ((v = map_get(l, root, "verify"))) {
                if (check_seq(l, v, "verify", RB_MAX_VERIFY) != 0)
                        return -1;
                rb->verify = xcalloc(seq_len(v) + 1, sizeof *rb->verify);
                for (size_t i = 0; i < seq_len(v); i++) {
                        char where[32];

                        snprintf(where, sizeof where, "verify[%zu]", i);
                        rb->verify[i].timeout_ms = RUNBOOK_STEP_TIMEOUT_MS;
                        rb->n_verify++;
                        if (load_cond(l, node(l, v->data.sequence.items.start[i]), where,
                                      verify_keys, &rb->verify[i]) != 0)
                                return -1;
                }
        }
        return 0;
}

/* Before the document is built: refuses anchors and aliases (a runbook
 * is read by people: every step written out where it runs; an alias may
 * also point at the node that holds it) and nesting no runbook needs. A
 * YAML syntax error is left to the loader, which reports it. 0 or -1. */
static int prescan(const char *yaml, size_t len, const char *file, struct err *err)
{
        yaml_parser_t parser;
        yaml_event_t ev;
        int depth = 0, rc = 0;

        if (!yaml_parser_initialize(&parser))
                return 0;
        yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
        while (rc == 0 && yaml_parser_parse(&parser, &ev)) {
                int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
                const yaml_char_t *anchor = NULL;
                bool end = ev.type == YAML_STREAM_END_EVENT;

                if (ev.type == YAML_SCALAR_EVENT)
                        anchor = ev.data.scalar.anchor;
                else if (ev.type == YAML_SEQUENCE_START_EVENT)
                        anchor = ev.data.sequence_start.anchor;
                else if (ev.type == YAML_MAPPING_START_EVENT)
                        anchor = ev.data.mapping_start.anchor;
                if (ev.type == YAML_ALIAS_EVENT || anchor) {
                        err_set(err, EINVAL, "%s:%d:%d: anchors and aliases are not supported "
                                "in runbooks", file, line, col);
                        rc = -1;
                } else if (ev.type == YAML_SEQUENCE_START_EVENT ||
                           ev.type == YAML_MAPPING_START_EVENT) {
                        if (++depth > RB_MAX_DEPTH) {
                                err_set(err, EINVAL, "%s:%d:%d: nested deeper than %d levels",
                                        file, line, col, RB_MAX_DEPTH);
                                rc = -1;
                        }
                } else if (ev.type == YAML_SEQUENCE_END_EVENT ||
                           ev.type == YAML_MAPPING_END_EVENT) {
                        depth--;
                }
                yaml_event_delete(&ev);
                if (end)
                        break;
        }
        yaml_parser_delete(&parser);
        return rc;
}

struct runbook *runbook_load_string(const char *yaml, size_t len, const char *path,
                                    struct err *err)
{
        struct rload l = { .file = path ? path : "<string>", .err = err, .text = yaml ? yaml : "",
                           .len = yaml ? len : 0 };
        yaml_parser_t parser;
        yaml_document_t doc;
        int rc;

        err_clear(err);
        if (len > RUNBOOK_FILE_MAX) {
                err_set(err, EFBIG, "%s: larger than %d bytes", l.file, RUNBOOK_FILE_MAX);
                return NULL;
        }
        if (prescan(yaml ? yaml : "", yaml ? len : 0, l.file, err) != 0)
                return NULL;
        if (!yaml_parser_initialize(&parser)) {
                err_set(err, ENOMEM, "%s: cannot start the YAML parser", l.file);
                return NULL;
        }
        yaml_parser_set_input_string(&parser, (const unsigned char *)(yaml ? yaml : ""),
                                     yaml ? len : 0);
        if (!yaml_parser_load(&parser, &doc)) {
                err_set(err, EINVAL, "%s:%d:%d: %s", l.file, (int)parser.problem_mark.line + 1,
                        (int)parser.problem_mark.column + 1,
                        parser.problem ? parser.problem : "invalid YAML");
                yaml_parser_delete(&parser);
                return NULL;
        }
        l.doc = &doc;
        l.rb = xcalloc(1, sizeof *l.rb);
        l.rb->path = xstrdup(l.file);
        rc = load_root(&l, yaml_document_get_root_node(&doc));
        /* One runbook per file: a second document is a mistake. */
        if (rc == 0) {
                yaml_document_t more;

                if (!yaml_parser_load(&parser, &more)) {
                        rc = -1;
                        err_set(err, EINVAL, "%s:%d:%d: %s", l.file,
                                (int)parser.problem_mark.line + 1,
                                (int)parser.problem_mark.column + 1,
                                parser.problem ? parser.problem : "invalid YAML");
                } else {
                        if (yaml_document_get_root_node(&more))
                                rc = lerr(&l, yaml_document_get_root_node(&more),
                                          "a second YAML document; one runbook per file");
                        yaml_document_delete(&more);
                }
        }
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        if (rc != 0) {
                runbook_free(l.rb);
                return NULL;
        }
        return l.rb;
}

struct runbook *runbook_load_file(const char *path, struct err *err)
{
        struct runbook *rb;
        size_t len = 0;
        char *text;

        err_clear(err);
        text = fsfile_read(path, RUNBOOK_FILE_MAX, "runbook file", &len, err);
        if (!text)
                return NULL;
        rb = runbook_load_string(text, len, path, err);
        free(text);
        return rb;
}

static void cond_done(struct runbook_cond *c)
{
        free(c->source);
        expr_free(c->expr);
}

void runbook_free(struct runbook *rb)
{
        if (!rb)
                return;
        for (size_t i = 0; i < rb->n_when; i++) {
                free(rb->when[i].kind);
                free(rb->when[i].source);
                free(rb->when[i].metric);
                free(rb->when[i].subject);
                expr_free(rb->when[i].expr);
        }
        free(rb->when);
        for (size_t i = 0; i < rb->n_inputs; i++) {
                struct runbook_input *in = &rb->inputs[i];

                free(in->name);
                free(in->kind);
                for (size_t j = 0; j < in->n_values; j++)
                        free(in->values[j]);
                free(in->values);
                free(in->def);
        }
        free(rb->inputs);
        for (size_t i = 0; i < rb->n_steps; i++) {
                struct runbook_step *s = &rb->steps[i];

                free(s->id);
                free(s->title);
                cond_done(&s->cond);
                free(s->act_source);
                free(s->act_action);
                free(s->act_target);
                free(s->act_arg);
                for (size_t j = 0; j < s->n_argv; j++)
                        free(s->argv[j]);
                free(s->argv);
                free(s->manual);
                for (size_t j = 0; j < s->n_choices; j++) {
                        free(s->choices[j].label);
                        free(s->choices[j].go);
                }
                free(s->choices);
                free(s->on_fail_goto);
                free(s->next);
        }
        free(rb->steps);
        for (size_t i = 0; i < rb->n_verify; i++)
                cond_done(&rb->verify[i]);
        free(rb->verify);
        free(rb->path);
        free(rb->id);
        free(rb->title);
        free(rb->description);
        free(rb);
}
