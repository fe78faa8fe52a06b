/*
 * runbook_load: the runbook file loader (runbook.h). libyaml's document
 * API keeps every node's start mark, so every message carries
 * FILE:LINE:COL. The model is checked whole here (kinds, ids, references,
 * expressions, inputs, ${name} words); what needs the config is
 * runbook_check_config's (runbook.c).
 */
#include "runbook/runbook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bringup/expr.h"
#include "core/config.h"
#include "core/fsfile.h"
#include "core/util.h"
#include "core/yamldoc.h"
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
        struct ydoc      y;             /* the document, the file name, the error */
        struct runbook  *rb;
};

static int get_int(struct rload *l, const yaml_node_t *n, const char *key, int64_t *out)
{
        struct ydoc *y = &l->y;
        const char *s = ydoc_scalar(n);
        struct err e;

        err_clear(&e);
        if (!s)
                return ydoc_err(y, n, "%s: expected an integer, got %s", key, ydoc_what(n));
        if (!ydoc_plain(n) || rb_parse_int(s, out, &e) != 0)
                return ydoc_err(y, n, "%s: expected an integer, got \"%.30s\"", key, s);
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

        if (n->start_mark.line != n->end_mark.line || z > l->y.len || a > z)
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
        if (z - a != vl + 2 * (size_t)q || memcmp(l->y.text + a + q, v, vl) != 0)
                return 0;
        return (int)n->start_mark.column + 1 + q + col - 1;
}

static int get_expr(struct rload *l, const yaml_node_t *n, const char *key, struct expr **out)
{
        struct ydoc *y = &l->y;
        char *text = NULL;
        struct err e;
        int c = 0, fc;

        if (ydoc_str(y, n, key, false, &text) != 0)
                return -1;
        err_clear(&e);
        *out = expr_parse(text, &e);
        free(text);
        if (*out)
                return 0;
        /* Point at the offending character when the file shows the text
         * as it is; the message keeps the expression's own column. */
        if (sscanf(e.msg, "col %d:", &c) == 1 && c > 0 && (fc = value_col(l, n, c)) > 0) {
                err_set(l->y.err, EINVAL, "%s:%d:%d: %s: %s", l->y.file,
                        (int)n->start_mark.line + 1, fc, key, e.msg);
                return -1;
        }
        return ydoc_err(y, n, "%s: %s", key, e.msg);
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
        struct ydoc *y = &l->y;

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
                        return ydoc_err(y, n, "%s: unterminated ${ in \"%.60s\" (write $$ for a "
                                        "literal $)", where, s);
                len = (size_t)(end - q - 2);
                if (len == 0 || len >= sizeof name)
                        return ydoc_err(y, n, "%s: bad input name in \"%.60s\"", where, s);
                memcpy(name, q + 2, len);
                name[len] = '\0';
                if (!rb_input_find(l->rb, name)) {
                        if (l->rb->n_inputs == 0)
                                return ydoc_err(y, n, "%s: unknown input ${%s} (the runbook has "
                                                "no inputs)", where, name);
                        return ydoc_err(y, n, "%s: unknown input ${%s}", where, name);
                }
                q = end;
        }
        return 0;
}

/* A string that may hold ${input}s. */
static int get_word(struct rload *l, const yaml_node_t *n, const char *key, char **out)
{
        struct ydoc *y = &l->y;

        if (ydoc_str(y, n, key, false, out) != 0)
                return -1;
        return check_vars(l, n, key, *out);
}

/* --- when ------------------------------------------------------------------ */

static const char *const when_keys[] = { "kind", "source", "metric", "subject", "severity",
                                         "expr", NULL };

static int load_when(struct rload *l, const yaml_node_t *n, size_t i, struct runbook_when *w)
{
        struct ydoc *y = &l->y;
        char where[48];
        yaml_node_t *v;

        snprintf(where, sizeof where, "when[%zu]", i);
        if (ydoc_check_map(y, n, where, when_keys, NULL) != 0)
                return -1;
        loc(n, &w->line, &w->col);
        if (n->data.mapping.pairs.top == n->data.mapping.pairs.start)
                return ydoc_err(y, n, "%s: empty; give kind, source, metric, subject, severity "
                                "or expr", where);
        if ((v = ydoc_map_get(y, n, "kind")) && ydoc_str(y, v, "kind", false, &w->kind) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "source")) && ydoc_str(y, v, "source", false, &w->source) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "metric")) && ydoc_str(y, v, "metric", false, &w->metric) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "subject")) &&
            ydoc_str(y, v, "subject", false, &w->subject) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "severity"))) {
                const char *s = ydoc_scalar(v);

                if (s && !strcmp(s, "warning"))
                        w->severity = SEV_WARN;
                else if (s && !strcmp(s, "critical"))
                        w->severity = SEV_CRIT;
                else
                        return ydoc_err(y, v, "severity: expected warning or critical");
        }
        if ((v = ydoc_map_get(y, n, "expr"))) {
                if (get_expr(l, v, "expr", &w->expr) != 0)
                        return -1;
                /* An expression reads a source's status, not an alert. */
                if (w->metric || w->subject || w->severity != SEV_OK)
                        return ydoc_err(y, n, "%s: an expr entry matches a source's status, not an "
                                        "alert: drop metric, subject and severity (or make them "
                                        "another entry)", where);
                if (!w->source && !w->kind)
                        return ydoc_err(y, n, "%s: an expr entry needs the source (or kind) whose "
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
        struct ydoc *y = &l->y;
        char where[96];
        yaml_node_t *v, *d;
        const char *s;
        struct err e;

        snprintf(where, sizeof where, "inputs[%zu]", i);
        if (ydoc_check_map(y, n, where, input_keys, NULL) != 0)
                return -1;
        loc(n, &in->line, &in->col);
        if (!(v = ydoc_map_get(y, n, "name")))
                return ydoc_err(y, n, "%s: missing \"name\"", where);
        if (ydoc_str(y, v, "name", false, &in->name) != 0)
                return -1;
        if (!valid_input_name(in->name))
                return ydoc_err(y, v, "name: \"%.40s\" is not a valid input name "
                                "(lowercase letters, "
                                "digits and _, not starting with a digit)", in->name);
        for (size_t j = 0; j < i; j++)
                if (!strcmp(l->rb->inputs[j].name, in->name))
                        return ydoc_err(y, v, "name: input \"%s\" is already defined at line %d",
                                        in->name, l->rb->inputs[j].line);
        snprintf(where, sizeof where, "input %s", in->name);
        if (!(v = ydoc_map_get(y, n, "type")))
                return ydoc_err(y, n, "%s: missing \"type\" (string, integer, duration, "
                                "enum, source "
                                "or target)", where);
        s = ydoc_scalar(v);
        if (!s || rb_input_type_parse(s, &in->type) != 0)
                return ydoc_err(y, v, "%s: type: expected string, integer, duration, "
                                "enum, source or "
                                "target", where);
        if ((v = ydoc_map_get(y, n, "kind"))) {
                if (in->type != RB_IN_SOURCE)
                        return ydoc_err(y, v, "%s: kind: only for type source", where);
                if (ydoc_str(y, v, "kind", false, &in->kind) != 0)
                        return -1;
        }
        v = ydoc_map_get(y, n, "target");
        if (in->type == RB_IN_TARGET) {
                if (!v)
                        return ydoc_err(y, n, "%s: missing \"target\" (slot, group, "
                                        "connector, pod, "
                                        "application, dag or bucket)", where);
                s = ydoc_scalar(v);
                if (!s || rb_target_parse(s, &in->target) != 0)
                        return ydoc_err(y, v, "%s: target: expected slot, group, connector, pod, "
                                        "application, dag or bucket", where);
        } else if (v) {
                return ydoc_err(y, v, "%s: target: only for type target", where);
        }
        v = ydoc_map_get(y, n, "values");
        if (in->type == RB_IN_ENUM) {
                if (!v)
                        return ydoc_err(y, n, "%s: missing \"values\" (the list of choices)",
                                        where);
                if (ydoc_check_seq(y, v, "values", RB_MAX_VALUES) != 0)
                        return -1;
                if (!ydoc_seq_len(v))
                        return ydoc_err(y, v, "%s: values: expected at least one value", where);
                in->values = xcalloc(ydoc_seq_len(v) + 1, sizeof *in->values);
                for (size_t j = 0; j < ydoc_seq_len(v); j++) {
                        yaml_node_t *w = ydoc_seq_item(y, v, j);

                        in->n_values++;
                        if (ydoc_str(y, w, "values", false, &in->values[j]) != 0)
                                return -1;
                        for (size_t k = 0; k < j; k++)
                                if (!strcmp(in->values[k], in->values[j]))
                                        return ydoc_err(y, w, "%s: values: \"%.40s\" is "
                                                        "listed twice",
                                                        where, in->values[j]);
                }
        } else if (v) {
                return ydoc_err(y, v, "%s: values: only for type enum", where);
        }
        if ((v = ydoc_map_get(y, n, "min"))) {
                if (in->type != RB_IN_INTEGER)
                        return ydoc_err(y, v, "%s: min: only for type integer", where);
                if (get_int(l, v, "min", &in->min) != 0)
                        return -1;
                in->has_min = true;
        }
        if ((v = ydoc_map_get(y, n, "max"))) {
                if (in->type != RB_IN_INTEGER)
                        return ydoc_err(y, v, "%s: max: only for type integer", where);
                if (get_int(l, v, "max", &in->max) != 0)
                        return -1;
                in->has_max = true;
                if (in->has_min && in->max < in->min)
                        return ydoc_err(y, v, "%s: max: less than min", where);
        }
        if ((v = ydoc_map_get(y, n, "from_alert"))) {
                s = ydoc_scalar(v);
                if (s && !strcmp(s, "source"))
                        in->from_alert = RB_FROM_SOURCE;
                else if (s && !strcmp(s, "subject"))
                        in->from_alert = RB_FROM_SUBJECT;
                else if (s && !strcmp(s, "metric"))
                        in->from_alert = RB_FROM_METRIC;
                else
                        return ydoc_err(y, v, "%s: from_alert: expected source, subject or metric",
                                        where);
        }
        if ((d = ydoc_map_get(y, n, "default"))) {
                if (ydoc_str(y, d, "default", false, &in->def) != 0)
                        return -1;
                err_clear(&e);
                /* No config here: a source default is checked against it by
                 * runbook_check_config. */
                if (rb_input_valid(in, in->def, NULL, &e) != 0)
                        return ydoc_err(y, d, "%s: default: %s", where, e.msg);
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
        struct ydoc *y = &l->y;
        yaml_node_t *v;

        if (ydoc_check_map(y, n, where, keys, NULL) != 0)
                return -1;
        loc(n, &c->line, &c->col);
        if (!(v = ydoc_map_get(y, n, "source")))
                return ydoc_err(y, n, "%s: missing \"source\" (whose status the expression reads)",
                                where);
        if (get_word(l, v, "source", &c->source) != 0)
                return -1;
        if (!(v = ydoc_map_get(y, n, "expr")))
                return ydoc_err(y, n, "%s: missing \"expr\"", where);
        if (get_expr(l, v, "expr", &c->expr) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "for")) && ydoc_duration(y, v, "for", &c->for_ms) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "timeout")) &&
            ydoc_duration(y, v, "timeout", &c->timeout_ms) != 0)
                return -1;
        return 0;
}

static int load_action(struct rload *l, const yaml_node_t *n, struct runbook_step *s)
{
        struct ydoc *y = &l->y;
        yaml_node_t *v;

        if (ydoc_check_map(y, n, "action", action_keys, NULL) != 0)
                return -1;
        if (!(v = ydoc_map_get(y, n, "source")))
                return ydoc_err(y, n, "action: missing \"source\"");
        if (get_word(l, v, "action.source", &s->act_source) != 0)
                return -1;
        if (!(v = ydoc_map_get(y, n, "action")))
                return ydoc_err(y, n, "action: missing \"action\" (the action's name, as in "
                                "`lambdaops act`)");
        if (ydoc_str(y, v, "action.action", false, &s->act_action) != 0)
                return -1;
        if (strchr(s->act_action, '$'))
                return ydoc_err(y, v, "action.action: the action is a fixed name, not an input");
        if (!(v = ydoc_map_get(y, n, "target")))
                return ydoc_err(y, n, "action: missing \"target\"");
        if (get_word(l, v, "action.target", &s->act_target) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "arg")) && get_word(l, v, "action.arg", &s->act_arg) != 0)
                return -1;
        return 0;
}

static int load_run(struct rload *l, const yaml_node_t *n, struct runbook_step *s)
{
        struct ydoc *y = &l->y;

        if (!n || n->type != YAML_SEQUENCE_NODE || !ydoc_seq_len(n))
                return ydoc_err(y, n, "run: expected a non-empty list of words, e.g. "
                                "[kubectl, get, "
                                "pods] (never a shell line)");
        if (ydoc_seq_len(n) > RB_MAX_ARGV)
                return ydoc_err(y, n, "run: more than %d words", RB_MAX_ARGV);
        s->argv = xcalloc(ydoc_seq_len(n) + 1, sizeof *s->argv);
        for (size_t i = 0; i < ydoc_seq_len(n); i++) {
                yaml_node_t *w = ydoc_seq_item(y, n, i);

                if (!ydoc_scalar(w))
                        return ydoc_err(y, w, "run: every word must be a string, got %s",
                                        ydoc_what(w));
                s->n_argv++;    /* counted first: runbook_free frees a word set before a failure */
                if (get_word(l, w, "run", &s->argv[i]) != 0)
                        return -1;
        }
        if (s->n_argv == 1 && strchr(s->argv[0], ' '))
                return ydoc_err(y, n, "run: \"%.60s\" is one word; write the argv as a list",
                                s->argv[0]);
        return 0;
}

static int load_choose(struct rload *l, const yaml_node_t *n, struct runbook_step *s)
{
        struct ydoc *y = &l->y;

        if (ydoc_check_seq(y, n, "choose", RB_MAX_CHOICES) != 0)
                return -1;
        if (ydoc_seq_len(n) < 2)
                return ydoc_err(y, n, "choose: expected at least two choices");
        s->choices = xcalloc(ydoc_seq_len(n), sizeof *s->choices);
        for (size_t i = 0; i < ydoc_seq_len(n); i++) {
                yaml_node_t *c = ydoc_seq_item(y, n, i), *v;
                char where[32];

                snprintf(where, sizeof where, "choose[%zu]", i);
                s->n_choices++;
                if (ydoc_check_map(y, c, where, choice_keys, NULL) != 0)
                        return -1;
                if (!(v = ydoc_map_get(y, c, "label")))
                        return ydoc_err(y, c, "%s: missing \"label\"", where);
                if (get_word(l, v, "label", &s->choices[i].label) != 0)
                        return -1;
                if (!(v = ydoc_map_get(y, c, "goto")))
                        return ydoc_err(y, c, "%s: missing \"goto\" (a step id)", where);
                if (ydoc_str(y, v, "goto", false, &s->choices[i].go) != 0)
                        return -1;
        }
        return 0;
}

static int load_step(struct rload *l, const yaml_node_t *n, size_t i, struct runbook_step *s)
{
        struct ydoc *y = &l->y;
        char where[96];
        const yaml_node_t *kind = NULL;
        yaml_node_t *v;

        snprintf(where, sizeof where, "steps[%zu]", i);
        s->timeout_ms = RUNBOOK_STEP_TIMEOUT_MS;
        if (ydoc_check_map(y, n, where, step_keys,
                           "(a step is one of check, wait, action, run, manual, choose)") != 0)
                           return -1;
        loc(n, &s->line, &s->col);
        if (!(v = ydoc_map_get(y, n, "id")))
                return ydoc_err(y, n, "%s: missing \"id\"", where);
        if (ydoc_str(y, v, "id", false, &s->id) != 0)
                return -1;
        if (!valid_id(s->id))
                return ydoc_err(y, v, "id: \"%.40s\" is not a valid step id (lowercase letters, "
                                "digits and -)", s->id);
        if (!strcmp(s->id, "verify"))
                return ydoc_err(y, v, "id: \"verify\" is reserved (next: verify goes to the "
                                "verify block); name the step otherwise");
        for (size_t j = 0; j < i; j++)
                if (!strcmp(l->rb->steps[j].id, s->id))
                        return ydoc_err(y, v, "id: step \"%s\" is already defined at line %d",
                                        s->id,
                                        l->rb->steps[j].line);
        snprintf(where, sizeof where, "step %s", s->id);
        /* In file order, so a second kind is the one the message points at. */
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
                const yaml_node_t *k = ydoc_node(y, p->key);

                for (size_t j = 0; kind_keys[j]; j++) {
                        if (strcmp(ydoc_scalar(k), kind_keys[j]) != 0)
                                continue;
                        if (kind)
                                return ydoc_err(y, k, "%s: has both \"%s\" and \"%s\"; a step "
                                                "does one thing", where, ydoc_scalar(kind),
                                                ydoc_scalar(k));
                        kind = k;
                        s->kind = (enum runbook_step_kind)j;
                }
        }
        if (!kind)
                return ydoc_err(y, n, "%s: expected one of check, wait, action, run, "
                                "manual, choose",
                                where);
        v = ydoc_map_get(y, n, ydoc_scalar(kind));
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
        if ((v = ydoc_map_get(y, n, "title")) && ydoc_str(y, v, "title", false, &s->title) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "timeout")) &&
            ydoc_duration(y, v, "timeout", &s->timeout_ms) != 0)
                return -1;
        if ((v = ydoc_map_get(y, n, "retries"))) {
                int64_t r;

                if (get_int(l, v, "retries", &r) != 0)
                        return -1;
                if (r < 0 || r > RB_MAX_RETRIES)
                        return ydoc_err(y, v, "retries: expected 0 to %d", RB_MAX_RETRIES);
                s->retries = (int)r;
        }
        if ((v = ydoc_map_get(y, n, "mutating"))) {
                if (s->kind != RB_STEP_ACTION && s->kind != RB_STEP_RUN)
                        return ydoc_err(y, v, "mutating: only for action and run steps");
                if (ydoc_bool(y, v, "mutating", &s->mutating) != 0)
                        return -1;
        }
        if ((v = ydoc_map_get(y, n, "dangerous"))) {
                if (s->kind != RB_STEP_ACTION && s->kind != RB_STEP_RUN)
                        return ydoc_err(y, v, "dangerous: only for action and run steps");
                if (ydoc_bool(y, v, "dangerous", &s->dangerous) != 0)
                        return -1;
                /* Only a change is confirmed: a typed word on a step that is
                 * never confirmed would be a promise the engine cannot keep. */
                if (s->dangerous && !s->mutating)
                        return ydoc_err(y, v, "dangerous: a dangerous step changes something; "
                                        "drop mutating: false");
        }
        if ((v = ydoc_map_get(y, n, "next"))) {
                /* A choose step's branches are its own jumps. */
                if (s->kind == RB_STEP_CHOOSE)
                        return ydoc_err(y, v, "next: not for choose steps (each choice has its "
                                        "goto)");
                if (ydoc_str(y, v, "next", false, &s->next) != 0)
                        return -1;
                s->has_next = true;
        }
        if ((v = ydoc_map_get(y, n, "on_fail"))) {
                const char *f = ydoc_scalar(v);

                if (!f || !*f)
                        return ydoc_err(y, v, "on_fail: expected stop, continue or a step id");
                if (!strcmp(f, "stop")) {
                        s->on_fail = RB_FAIL_STOP;
                } else if (!strcmp(f, "continue")) {
                        s->on_fail = RB_FAIL_CONTINUE;
                } else {
                        s->on_fail = RB_FAIL_GOTO;
                        if (ydoc_str(y, v, "on_fail", false, &s->on_fail_goto) != 0)
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
        struct ydoc *y = &l->y;

        for (size_t i = 0; i < l->rb->n_steps; i++) {
                struct runbook_step *s = &l->rb->steps[i];
                yaml_node_t *n = ydoc_seq_item(y, steps, i);
                long at;

                if (s->on_fail == RB_FAIL_GOTO) {
                        at = step_index(l->rb, s->on_fail_goto);
                        if (at < 0)
                                return ydoc_err(y, ydoc_map_get(y, n, "on_fail"),
                                                "step %s: on_fail: no "
                                                "step \"%.40s\" (expected stop, continue or a step "
                                                "id)", s->id, s->on_fail_goto);
                        s->on_fail_index = (size_t)at;
                }
                if (s->has_next) {
                        if (!strcmp(s->next, "verify"))
                                at = (long)l->rb->n_steps;
                        else if ((at = step_index(l->rb, s->next)) < 0)
                                return ydoc_err(y, ydoc_map_get(y, n, "next"),
                                                "step %s: next: no step "
                                                "\"%.40s\" (expected a step id or verify)", s->id,
                                                s->next);
                        s->next_index = (size_t)at;
                }
                for (size_t c = 0; c < s->n_choices; c++) {
                        yaml_node_t *ch = ydoc_seq_item(y, ydoc_map_get(y, n, "choose"), c);

                        at = step_index(l->rb, s->choices[c].go);
                        if (at < 0)
                                return ydoc_err(y, ydoc_map_get(y, ch, "goto"),
                                                "step %s: goto: no step "
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
        struct ydoc *y = &l->y;
        struct runbook *rb = l->rb;
        yaml_node_t *v, *steps;

        if (!root)
                return ydoc_err(y, NULL, "empty file; a runbook needs id, title and steps");
        if (ydoc_check_map(y, root, "runbook", top_keys, NULL) != 0)
                return -1;
        if (!(v = ydoc_map_get(y, root, "id")))
                return ydoc_err(y, root, "missing \"id\"");
        if (ydoc_str(y, v, "id", false, &rb->id) != 0)
                return -1;
        if (!valid_id(rb->id))
                return ydoc_err(y, v, "id: \"%.40s\" is not a valid runbook id (lowercase letters, "
                                "digits and -)", rb->id);
        if (!(v = ydoc_map_get(y, root, "title")))
                return ydoc_err(y, root, "missing \"title\"");
        if (ydoc_str(y, v, "title", false, &rb->title) != 0)
                return -1;
        if ((v = ydoc_map_get(y, root, "description")) &&
            ydoc_str(y, v, "description", false, &rb->description) != 0)
                return -1;
        /* Inputs first: every ${name} below is checked against them. */
        if ((v = ydoc_map_get(y, root, "inputs"))) {
                if (ydoc_check_seq(y, v, "inputs", RB_MAX_INPUTS) != 0)
                        return -1;
                rb->inputs = xcalloc(ydoc_seq_len(v) + 1, sizeof *rb->inputs);
                for (size_t i = 0; i < ydoc_seq_len(v); i++) {
                        rb->n_inputs++;
                        if (load_input(l, ydoc_seq_item(y, v, i), i,
                                       &rb->inputs[i]) != 0)
                                return -1;
                }
        }
        if ((v = ydoc_map_get(y, root, "when"))) {
                if (ydoc_check_seq(y, v, "when", RB_MAX_WHEN) != 0)
                        return -1;
                rb->when = xcalloc(ydoc_seq_len(v) + 1, sizeof *rb->when);
                for (size_t i = 0; i < ydoc_seq_len(v); i++) {
                        rb->n_when++;
                        if (load_when(l, ydoc_seq_item(y, v, i), i,
                                      &rb->when[i]) != 0)
                                return -1;
                }
        }
        if (!(steps = ydoc_map_get(y, root, "steps")))
                return ydoc_err(y, root, "missing \"steps\"");
        if (ydoc_check_seq(y, steps, "steps", RB_MAX_STEPS) != 0)
                return -1;
        if (!ydoc_seq_len(steps))
                return ydoc_err(y, steps, "steps: expected at least one step");
        rb->steps = xcalloc(ydoc_seq_len(steps), sizeof *rb->steps);
        for (size_t i = 0; i < ydoc_seq_len(steps); i++) {
                rb->n_steps++;
                if (load_step(l, ydoc_seq_item(y, steps, i), i,
                              &rb->steps[i]) != 0)
                        return -1;
        }
        if (resolve_refs(l, steps) != 0)
                return -1;
        if ((v = ydoc_map_get(y, root, "verify"))) {
                if (ydoc_check_seq(y, v, "verify", RB_MAX_VERIFY) != 0)
                        return -1;
                rb->verify = xcalloc(ydoc_seq_len(v) + 1, sizeof *rb->verify);
                for (size_t i = 0; i < ydoc_seq_len(v); i++) {
                        char where[32];

                        snprintf(where, sizeof where, "verify[%zu]", i);
                        rb->verify[i].timeout_ms = RUNBOOK_STEP_TIMEOUT_MS;
                        rb->n_verify++;
                        if (load_cond(l, ydoc_seq_item(y, v, i), where,
                                      verify_keys, &rb->verify[i]) != 0)
                                return -1;
                }
        }
        return 0;
}

struct runbook *runbook_load_string(const char *yaml, size_t len, const char *path,
                                    struct err *err)
{
        struct rload l = { .y.max_text = RB_MAX_TEXT };
        const char *file = path ? path : "<string>";
        int rc;

        err_clear(err);
        if (len > RUNBOOK_FILE_MAX) {
                err_set(err, EFBIG, "%s: larger than %d bytes", file, RUNBOOK_FILE_MAX);
                return NULL;
        }
        if (ydoc_load(&l.y, yaml, len, file, "runbook", RB_MAX_DEPTH, err) != 0)
                return NULL;
        l.rb = xcalloc(1, sizeof *l.rb);
        l.rb->path = xstrdup(file);
        rc = load_root(&l, ydoc_root(&l.y));
        ydoc_done(&l.y);
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
