/*
 * config: pass one of a load (see config.c): libyaml's event parser into a
 * private tree (struct ynode) whose nodes keep their start marks, refusing
 * what the config does not want (anchors, aliases, tags, several
 * documents, NUL characters, non-string and duplicate keys, deep nesting),
 * and the helpers every message uses.
 */
#include "core/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/config_internal.h"
#include "core/util.h"

/* --- YAML tree ------------------------------------------------------------ */

void config_ynode_free(struct ynode *y)
{
        if (!y)
                return;
        for (size_t i = 0; i < y->n; i++)
                config_ynode_free(y->kids[i]);
        free(y->kids);
        free(y->str);
        free(y);
}

static void config_ynode_add(struct ynode *parent, struct ynode *kid)
{
        if (parent->n == parent->cap) {
                parent->cap = parent->cap ? parent->cap * 2 : 8;
                parent->kids = xrealloc(parent->kids, parent->cap * sizeof *parent->kids);
        }
        parent->kids[parent->n++] = kid;
}

/* Copies user text for a message: at most SHOW_MAX bytes, cut on a UTF-8
 * boundary, control characters replaced, "..." when shortened. */
const char *config_show(const char *s, char *buf, size_t n)
{
        size_t len = strlen(s), i, o = 0;
        bool cut = len > SHOW_MAX;

        if (cut) {
                len = SHOW_MAX;
                while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
                        len--;
        }
        for (i = 0; i < len && o + 4 < n; i++) {
                unsigned char ch = (unsigned char)s[i];
                buf[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
        }
        if (cut && o + 4 <= n) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = '\0';
        return buf;
}

/* Sets err to "FILE:LINE:COL: message". Always returns -1. */
int config_perr_at(struct pctx *p, int line, int col, const char *fmt, ...)
{
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        err_set(p->err, 1, "%s:%d:%d: %s", p->file, line, col, msg);
        return -1;
}

bool config_ynode_null(const struct ynode *y)
{
        if (y->type != YN_SCALAR || !y->plain)
                return false;
        return y->len == 0 || strcmp(y->str, "~") == 0 || strcmp(y->str, "null") == 0 ||
               strcmp(y->str, "Null") == 0 || strcmp(y->str, "NULL") == 0;
}

/* `off` (unquoted) or null: a disabled threshold. */
bool config_ynode_off(const struct ynode *y)
{
        return config_ynode_null(y) || (y->type == YN_SCALAR && y->plain &&
                                        strcmp(y->str, "off") == 0);
}

const char *config_ynode_what(const struct ynode *y)
{
        switch (y->type) {
        case YN_MAP:
                return "a mapping";
        case YN_SEQ:
                return "a list";
        case YN_SCALAR:
        default:
                return config_ynode_null(y) ? "nothing" : "a scalar";
        }
}

/* The byte at character offset `index` of UTF-8 text (libyaml marks count
 * characters, after any byte-order mark), or 0 when out of range. */
static char config_char_at(const char *buf, size_t len, size_t index)
{
        size_t i = 0, n = 0;

        if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
                i = 3;
        for (; i < len; i++)
                if (((unsigned char)buf[i] & 0xC0) != 0x80 && n++ == index)
                        return buf[i];
        return 0;
}

static void config_syntax_error(struct pctx *p, const yaml_parser_t *ps, const char *buf,
                                size_t len)
{
        const char *problem = ps->problem ? ps->problem : "unknown problem";
        int line = 1, col = 1;

        switch (ps->error) {
        case YAML_MEMORY_ERROR:
                config_perr_at(p, 1, 1, "out of memory while parsing");
                return;
        case YAML_READER_ERROR:
                /* The reader reports a byte offset, not a mark. */
                for (size_t i = 0; i < ps->problem_offset && i < len; i++) {
                        unsigned char ch = (unsigned char)buf[i];
                        if (ch == '\n') {
                                line++;
                                col = 1;
                        } else if ((ch & 0xC0) != 0x80) {
                                col++;
                        }
                }
                if (ps->problem_value >= 0)
                        config_perr_at(p, line, col, "invalid input: %s (byte 0x%02x)", problem,
                                       (unsigned)ps->problem_value & 0xffu);
                else
                        config_perr_at(p, line, col, "invalid input: %s", problem);
                return;
        default:
                line = (int)ps->problem_mark.line + 1;
                col = (int)ps->problem_mark.column + 1;
                if (config_char_at(buf, len, ps->problem_mark.index) == '\t' &&
                    !strstr(problem, "tab"))
                        config_perr_at(p, line, col,
                                       "YAML syntax error: %s (tabs are not allowed for "
                                       "indentation)", problem);
                else if (ps->context)
                        config_perr_at(p, line, col, "YAML syntax error: %s (%s at %d:%d)", problem,
                                       ps->context, (int)ps->context_mark.line + 1,
                                       (int)ps->context_mark.column + 1);
                else
                        config_perr_at(p, line, col, "YAML syntax error: %s", problem);
                return;
        }
}

struct keyref {
        const struct ynode *key;
        size_t idx;
};

static int config_keyref_cmp(const void *a, const void *b)
{
        const struct keyref *x = a, *y = b;
        int c = strcmp(x->key->str, y->key->str);

        if (c)
                return c;
        return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Checks a finished mapping: keys are non-empty scalars and unique. Reports
 * the duplicate that comes first in the document. */
static int config_map_check(struct pctx *p, const struct ynode *m)
{
        struct keyref *refs;
        size_t nk = m->n / 2, i;
        const struct keyref *dup = NULL, *first = NULL;
        char b[64];

        for (i = 0; i < nk; i++) {
                const struct ynode *k = m->kids[2 * i];
                if (k->type != YN_SCALAR)
                        return perr(p, k, "keys must be strings, not %s", config_ynode_what(k));
                if (k->len == 0 || config_ynode_null(k))
                        return perr(p, k, "empty key");
        }
        if (nk < 2)
                return 0;
        refs = xmalloc(nk * sizeof *refs);
        for (i = 0; i < nk; i++)
                refs[i] = (struct keyref){ m->kids[2 * i], i };
        qsort(refs, nk, sizeof *refs, config_keyref_cmp);
        for (i = 1; i < nk; i++) {
                /* refs[i] is a second occurrence when it equals a group start. */
                if (strcmp(refs[i].key->str, refs[i - 1].key->str) != 0)
                        continue;
                if (i >= 2 && strcmp(refs[i - 1].key->str, refs[i - 2].key->str) == 0)
                        continue;
                if (!dup || refs[i].idx < dup->idx) {
                        dup = &refs[i];
                        first = &refs[i - 1];
                }
        }
        if (dup)
                perr(p, dup->key, "duplicate key \"%s\" (first at line %d, column %d)",
                     config_show(dup->key->str, b, sizeof b), first->key->line, first->key->col);
        free(refs);
        return dup ? -1 : 0;
}

/* Pass one: YAML text → tree. Returns the root, or NULL with p->err set. */
struct ynode *config_tree_build(struct pctx *p, const char *buf, size_t len)
{
        yaml_parser_t ps;
        yaml_event_t ev;
        struct ynode *root = NULL, *stack[CFG_MAX_DEPTH];
        int depth = 0, docs = 0;
        bool done = false, failed = false;

        if (len > CFG_MAX_BYTES) {
                config_perr_at(p, 1, 1, "configuration is larger than %d KiB",
                               CFG_MAX_BYTES / 1024);
                return NULL;
        }
        if (!yaml_parser_initialize(&ps)) {
                config_perr_at(p, 1, 1, "out of memory while parsing");
                return NULL;
        }
        yaml_parser_set_input_string(&ps, (const unsigned char *)buf, len);
        while (!done && !failed) {
                struct ynode *y = NULL;
                int line, col;

                if (!yaml_parser_parse(&ps, &ev)) {
                        config_syntax_error(p, &ps, buf, len);
                        failed = true;
                        break;
                }
                line = (int)ev.start_mark.line + 1;
                col = (int)ev.start_mark.column + 1;
                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (++docs > 1) {
                                config_perr_at(p, line, col,
                                               "multiple YAML documents are not supported");
                                failed = true;
                        }
                        break;
                case YAML_ALIAS_EVENT:
                        config_perr_at(p, line, col, "anchors and aliases are not supported");
                        failed = true;
                        break;
                case YAML_SCALAR_EVENT:
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT: {
                        const yaml_char_t *anchor, *tag;

                        if (ev.type == YAML_SCALAR_EVENT) {
                                anchor = ev.data.scalar.anchor;
                                tag = ev.data.scalar.tag;
                        } else if (ev.type == YAML_SEQUENCE_START_EVENT) {
                                anchor = ev.data.sequence_start.anchor;
                                tag = ev.data.sequence_start.tag;
                        } else {
                                anchor = ev.data.mapping_start.anchor;
                                tag = ev.data.mapping_start.tag;
                        }
                        if (anchor) {
                                config_perr_at(p, line, col,
                                               "anchors and aliases are not supported");
                                failed = true;
                                break;
                        }
                        if (tag) {
                                config_perr_at(p, line, col, "tags are not supported");
                                failed = true;
                                break;
                        }
                        if (ev.type == YAML_SCALAR_EVENT &&
                            memchr(ev.data.scalar.value, 0, ev.data.scalar.length)) {
                                config_perr_at(p, line, col, "NUL characters are not allowed");
                                failed = true;
                                break;
                        }
                        if (ev.type != YAML_SCALAR_EVENT && depth == CFG_MAX_DEPTH) {
                                config_perr_at(p, line, col,
                                               "nesting deeper than %d levels is not supported",
                                               CFG_MAX_DEPTH);
                                failed = true;
                                break;
                        }
                        y = xcalloc(1, sizeof *y);
                        y->line = line;
                        y->col = col;
                        if (ev.type == YAML_SCALAR_EVENT) {
                                y->type = YN_SCALAR;
                                y->len = ev.data.scalar.length;
                                y->str = xstrndup((const char *)ev.data.scalar.value, y->len);
                                y->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                        } else {
                                y->type = ev.type == YAML_MAPPING_START_EVENT ? YN_MAP : YN_SEQ;
                        }
                        /* Attach at once so that one free of root cleans up. */
                        if (depth > 0)
                                config_ynode_add(stack[depth - 1], y);
                        else if (!root)
                                root = y;
                        else
                                config_ynode_free(y);  /* unreachable: one document only */
                        if (y->type != YN_SCALAR)
                                stack[depth++] = y;
                        break;
                }
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        if (depth > 0) {
                                y = stack[--depth];
                                if (y->type == YN_MAP && config_map_check(p, y) < 0)
                                        failed = true;
                        }
                        break;
                default:
                        break;
                }
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&ps);
        if (failed) {
                config_ynode_free(root);
                return NULL;
        }
        if (!root || config_ynode_null(root)) {
                config_perr_at(p, 1, 1, "configuration is empty");
                config_ynode_free(root);
                return NULL;
        }
        return root;
}
