/*
 * yamldoc: one YAML document in libyaml's tree, and typed getters with
 * FILE:LINE:COL messages (yamldoc.h).
 */
#include "core/yamldoc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int ydoc_err(struct ydoc *y, const yaml_node_t *n, const char *fmt, ...)
{
        char msg[300];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (n)
                err_set(y->err, EINVAL, "%s:%d:%d: %s", y->file, (int)n->start_mark.line + 1,
                        (int)n->start_mark.column + 1, msg);
        else
                err_set(y->err, EINVAL, "%s: %s", y->file, msg);
        return -1;
}

/* libyaml's syntax error as "FILE:LINE:COL: YAML: problem context". */
static int ydoc_syntax_err(struct ydoc *y, const yaml_parser_t *ps)
{
        const yaml_mark_t *m = ps->problem_mark.line || ps->problem_mark.column
                               ? &ps->problem_mark : &ps->context_mark;

        err_set(y->err, EINVAL, "%s:%d:%d: YAML: %s%s%s", y->file, (int)m->line + 1,
                (int)m->column + 1, ps->problem ? ps->problem : "syntax error",
                ps->context ? " " : "", ps->context ? ps->context : "");
        return -1;
}

/* Before the tree is built: refuses anchors and aliases (these files are
 * read by people, every part written out where it applies; an alias may
 * also point at the node that holds it, which a tree walk would follow
 * for ever) and nesting deeper than max_depth. A syntax error is left to
 * the loader, which reports it. */
static int ydoc_prescan(struct ydoc *y, const char *what, int max_depth)
{
        yaml_parser_t ps;
        yaml_event_t ev;
        int depth = 0, rc = 0;

        if (!yaml_parser_initialize(&ps))
                return 0;
        yaml_parser_set_input_string(&ps, (const unsigned char *)y->text, y->len);
        while (rc == 0 && yaml_parser_parse(&ps, &ev)) {
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
                        err_set(y->err, EINVAL, "%s:%d:%d: anchors and aliases are not "
                                "supported in %ss", y->file, line, col, what);
                        rc = -1;
                } else if (ev.type == YAML_SEQUENCE_START_EVENT ||
                           ev.type == YAML_MAPPING_START_EVENT) {
                        if (++depth > max_depth) {
                                err_set(y->err, EINVAL, "%s:%d:%d: nested deeper than %d "
                                        "levels", y->file, line, col, max_depth);
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
        yaml_parser_delete(&ps);
        return rc;
}

int ydoc_load(struct ydoc *y, const char *text, size_t len, const char *file, const char *what,
              int max_depth, struct err *err)
{
        yaml_parser_t ps;
        yaml_document_t more;
        int rc = 0;

        y->loaded = false;
        y->file = file ? file : "<string>";
        y->text = text ? text : "";
        y->len = text ? len : 0;
        y->err = err;
        if (ydoc_prescan(y, what, max_depth) != 0)
                return -1;
        if (!yaml_parser_initialize(&ps)) {
                err_set(err, ENOMEM, "%s: cannot start the YAML parser", y->file);
                return -1;
        }
        yaml_parser_set_input_string(&ps, (const unsigned char *)y->text, y->len);
        if (!yaml_parser_load(&ps, &y->doc)) {
                ydoc_syntax_err(y, &ps);
                yaml_parser_delete(&ps);
                return -1;
        }
        /* One document per file: a second one is a mistake, never ignored
         * (an empty one, a trailing "---", holds nothing to ignore). */
        if (!yaml_parser_load(&ps, &more)) {
                rc = ydoc_syntax_err(y, &ps);
        } else {
                const yaml_node_t *r = yaml_document_get_root_node(&more);

                if (r && !(ydoc_plain(r) && r->data.scalar.length == 0))
                        rc = ydoc_err(y, r, "a second YAML document; one %s per file", what);
                yaml_document_delete(&more);
        }
        yaml_parser_delete(&ps);
        if (rc != 0) {
                yaml_document_delete(&y->doc);
                return -1;
        }
        y->loaded = true;
        return 0;
}

void ydoc_done(struct ydoc *y)
{
        if (y->loaded)
                yaml_document_delete(&y->doc);
        y->loaded = false;
}

yaml_node_t *ydoc_root(struct ydoc *y)
{
        return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

yaml_node_t *ydoc_node(struct ydoc *y, int id)
{
        return yaml_document_get_node(&y->doc, id);
}

const char *ydoc_scalar(const yaml_node_t *n)
{
        return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

bool ydoc_plain(const yaml_node_t *n)
{
        return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

const char *ydoc_what(const yaml_node_t *n)
{
        if (!n)
                return "nothing";
        if (n->type == YAML_MAPPING_NODE)
                return "a mapping";
        if (n->type == YAML_SEQUENCE_NODE)
                return "a list";
        return "a scalar";
}

size_t ydoc_seq_len(const yaml_node_t *n)
{
        return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *ydoc_seq_item(struct ydoc *y, const yaml_node_t *n, size_t i)
{
        return ydoc_node(y, n->data.sequence.items.start[i]);
}

int ydoc_str(struct ydoc *y, const yaml_node_t *n, const char *key, bool empty_ok, char **out)
{
        const char *s = ydoc_scalar(n);

        if (!s || (ydoc_plain(n) && (!strcmp(s, "~") || !strcmp(s, "null") || !*s)) ||
            (!empty_ok && !*s))
                return ydoc_err(y, n, "%s: expected a %sstring, got %s", key,
                                empty_ok ? "" : "non-empty ", s ? "nothing" : ydoc_what(n));
        if (strlen(s) != n->data.scalar.length)
                return ydoc_err(y, n, "%s: NUL byte in string", key);
        if (y->max_text && n->data.scalar.length > y->max_text)
                return ydoc_err(y, n, "%s: longer than %zu bytes", key, y->max_text);
        free(*out);
        *out = xstrdup(s);
        return 0;
}

int ydoc_bool(struct ydoc *y, const yaml_node_t *n, const char *key, bool *out)
{
        const char *s = ydoc_scalar(n);

        if (s && ydoc_plain(n) && !strcmp(s, "true"))
                *out = true;
        else if (s && ydoc_plain(n) && !strcmp(s, "false"))
                *out = false;
        else
                return ydoc_err(y, n, "%s: expected true or false", key);
        return 0;
}

int ydoc_duration(struct ydoc *y, const yaml_node_t *n, const char *key, int64_t *ms)
{
        const char *s = ydoc_scalar(n);
        struct err e;

        err_clear(&e);
        if (!s)
                return ydoc_err(y, n, "%s: expected a duration such as 30s or 5m, got %s", key,
                                ydoc_what(n));
        if (config_parse_duration(s, ms, &e) != 0)
                return ydoc_err(y, n, "%s: %s", key, e.msg);
        if (*ms <= 0)
                return ydoc_err(y, n, "%s: must be more than 0", key);
        return 0;
}

/* An unknown key's message, with the nearest known key when one is close. */
static int ydoc_unknown_key(struct ydoc *y, const yaml_node_t *k, const char *where,
                            const char *const *known, const char *hint)
{
        const char *s = ydoc_scalar(k), *best = NULL;
        int bd = 3;

        for (size_t i = 0; s && known[i]; i++) {
                int d = str_edit_distance(s, known[i]);

                if (d < bd) {
                        bd = d;
                        best = known[i];
                }
        }
        if (best)
                return ydoc_err(y, k, "%s: unknown key \"%.40s\" (did you mean \"%s\"?)", where,
                                s ? s : "?", best);
        return ydoc_err(y, k, "%s: unknown key \"%.40s\"%s%s", where, s ? s : "?",
                        hint ? " " : "", hint ? hint : "");
}

int ydoc_check_map(struct ydoc *y, const yaml_node_t *m, const char *where,
                   const char *const *known, const char *hint)
{
        if (!m || m->type != YAML_MAPPING_NODE)
                return ydoc_err(y, m, "%s: expected a mapping, got %s", where, ydoc_what(m));
        for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top;
             a++) {
                const yaml_node_t *k = ydoc_node(y, a->key);
                const char *s = ydoc_scalar(k);
                size_t i;

                if (!s)
                        return ydoc_err(y, k, "%s: keys must be strings", where);
                for (i = 0; known[i]; i++)
                        if (!strcmp(known[i], s))
                                break;
                if (!known[i])
                        return ydoc_unknown_key(y, k, where, known, hint);
                for (yaml_node_pair_t *b = m->data.mapping.pairs.start; b < a; b++) {
                        const char *o = ydoc_scalar(ydoc_node(y, b->key));

                        if (o && !strcmp(o, s))
                                return ydoc_err(y, k, "%s: duplicate key \"%s\"", where, s);
                }
        }
        return 0;
}

yaml_node_t *ydoc_map_get(struct ydoc *y, const yaml_node_t *m, const char *key)
{
        for (yaml_node_pair_t *a = m->data.mapping.pairs.start; a < m->data.mapping.pairs.top;
             a++) {
                const char *s = ydoc_scalar(ydoc_node(y, a->key));

                if (s && !strcmp(s, key))
                        return ydoc_node(y, a->value);
        }
        return NULL;
}

int ydoc_check_seq(struct ydoc *y, const yaml_node_t *n, const char *key, size_t max)
{
        if (!n || n->type != YAML_SEQUENCE_NODE)
                return ydoc_err(y, n, "%s: expected a list, got %s", key, ydoc_what(n));
        if (ydoc_seq_len(n) > max)
                return ydoc_err(y, n, "%s: more than %zu entries", key, max);
        return 0;
}
