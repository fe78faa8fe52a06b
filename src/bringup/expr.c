/*
 * expr: tokenizer, recursive-descent parser to an AST, and an evaluator
 * over cJSON. See expr.h for the language.
 *
 * Values during evaluation are cJSON items that are either borrowed from
 * the document (paths) or owned (results of operators, literals copied),
 * tracked by struct val. Nothing here is global.
 */
#include "bringup/expr.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* --- tokens -------------------------------------------------------------- */

enum tok {
        T_EOF, T_NUM, T_STR, T_IDENT, T_DOT, T_LBRACK, T_RBRACK, T_LPAREN, T_RPAREN,
        T_COMMA, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_PLUS, T_MINUS, T_STAR, T_SLASH,
        T_AND, T_OR, T_NOT, T_IN, T_TRUE, T_FALSE, T_NULL,
};

/* --- AST ----------------------------------------------------------------- */

enum node_type {
        N_LIT,          /* lit */
        N_LIST,         /* kids: items */
        N_ROOT,         /* the document */
        N_CUR,          /* the current element */
        N_GET,          /* kids[0].name */
        N_INDEX,        /* kids[0][kids[1]] */
        N_NEG,          /* -kids[0] */
        N_NOT,          /* not kids[0] */
        N_BIN,          /* kids[0] op kids[1] */
        N_CALL,         /* fn(kids...) */
};

/* How tall the AST may grow (evaluation recurses this deep). */
#define EXPR_MAX_HEIGHT 256

enum fn { F_LEN, F_ALL, F_ANY, F_COUNT, F_MAX, F_MIN, F_SUM };

static const struct {
        const char *name;
        int min_args, max_args;
} expr_fns[] = {
        [F_LEN] = { "len", 1, 1 },
        [F_ALL] = { "all", 2, 2 },
        [F_ANY] = { "any", 2, 2 },
        [F_COUNT] = { "count", 2, 2 },
        [F_MAX] = { "max", 1, 2 },
        [F_MIN] = { "min", 1, 2 },
        [F_SUM] = { "sum", 1, 2 },
};

struct node {
        enum node_type type;
        enum tok       op;              /* N_BIN */
        enum fn        fn;              /* N_CALL */
        int            start, end;      /* byte offsets into the source */
        int            op_col;          /* 1-based column of the operator / name */
        cJSON         *lit;             /* N_LIT, owned */
        char          *name;            /* N_GET, owned */
        struct node  **kids;            /* owned */
        int            n;
        int            depth;           /* height of the subtree (1 = leaf) */
};

struct expr {
        char        *src;               /* owned */
        struct node *root;              /* owned */
};

static void node_free(struct node *n)
{
        if (!n)
                return;
        for (int i = 0; i < n->n; i++)
                node_free(n->kids[i]);
        free(n->kids);
        free(n->name);
        cJSON_Delete(n->lit);
        free(n);
}

static struct node *node_new(enum node_type t, int start)
{
        struct node *n = xcalloc(1, sizeof *n);

        n->type = t;
        n->start = start;
        n->end = start;
        n->op_col = start + 1;
        n->depth = 1;
        return n;
}

static void node_add(struct node *p, struct node *k)
{
        p->kids = xrealloc(p->kids, (size_t)(p->n + 1) * sizeof *p->kids);
        p->kids[p->n++] = k;
        if (k->depth + 1 > p->depth)
                p->depth = k->depth + 1;
}

/* --- the parser ------------------------------------------------------------ */

struct parser {
        const char *s;
        int         pos;                /* next unread byte */
        enum tok    tok;                /* current token */
        int         tstart, tend;       /* its span */
        char       *text;               /* T_STR / T_IDENT value, owned */
        double      num;                /* T_NUM */
        int         depth;
        struct err *err;
        bool        failed;
};

static void perr(struct parser *p, int col, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void perr(struct parser *p, int col, const char *fmt, ...)
{
        char msg[200];
        va_list ap;

        if (p->failed)
                return;
        p->failed = true;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        err_set(p->err, EINVAL, "col %d: %s", col, msg);
}

static bool is_ident_start(int c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident(int c)
{
        return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(int c)
{
        return c >= '0' && c <= '9';
}

/* Reads a quoted string starting at p->pos (the quote). */
static void lex_string(struct parser *p)
{
        char q = p->s[p->pos];
        size_t cap = 16, n = 0;
        char *b = xmalloc(cap);
        int i = p->pos + 1;

        for (;;) {
                char c = p->s[i];

                if (c == '\0') {
                        free(b);
                        perr(p, p->tstart + 1, "unterminated string");
                        p->tok = T_EOF;
                        return;
                }
                if (c == q) {
                        i++;
                        break;
                }
                if (c == '\\') {
                        char e = p->s[i + 1];

                        switch (e) {
                        case '\\': case '"': case '\'':
                                c = e;
                                break;
                        case 'n':
                                c = '\n';
                                break;
                        case 't':
                                c = '\t';
                                break;
                        default:
                                free(b);
                                if (e == '\0' )
                                        perr(p, p->tstart + 1, "unterminated string");
                                else if ((unsigned char)e < 0x20 || (unsigned char)e >= 0x7f)
                                        perr(p, i + 1, "unknown escape in string");
                                else
                                        perr(p, i + 1, "unknown escape '\\%c' in string", e);
                                p->tok = T_EOF;
                                return;
                        }
                        i += 2;
                } else {
                        i++;
                }
                if (n + 1 >= cap) {
                        cap *= 2;
                        b = xrealloc(b, cap);
                }
                b[n++] = c;
        }
        b[n] = '\0';
        p->text = b;
        p->tok = T_STR;
        p->pos = i;
}

static void lex_number(struct parser *p)
{
        int i = p->pos;
        char buf[64];
        char *end;

        while (is_digit(p->s[i]))
                i++;
        if (p->s[i] == '.' && is_digit(p->s[i + 1])) {
                i++;
                while (is_digit(p->s[i]))
                        i++;
        }
        if ((p->s[i] == 'e' || p->s[i] == 'E') &&
            (is_digit(p->s[i + 1]) ||
             ((p->s[i + 1] == '+' || p->s[i + 1] == '-') && is_digit(p->s[i + 2])))) {
                i += 2;
                while (is_digit(p->s[i]))
                        i++;
        }
        if (is_ident_start(p->s[i])) {
                perr(p, i + 1, "unexpected character '%c' after a number", p->s[i]);
                p->tok = T_EOF;
                return;
        }
        if (i - p->pos >= (int)sizeof buf) {
                perr(p, p->pos + 1, "number too long");
                p->tok = T_EOF;
                return;
        }
        memcpy(buf, p->s + p->pos, (size_t)(i - p->pos));
        buf[i - p->pos] = '\0';
        p->num = strtod(buf, &end);
        if (isinf(p->num)) {
                perr(p, p->pos + 1, "number out of range");
                p->tok = T_EOF;
                return;
        }
        p->tok = T_NUM;
        p->pos = i;
}

static const struct {
        const char *word;
        enum tok    tok;
} expr_keywords[] = {
        { "and", T_AND }, { "or", T_OR }, { "not", T_NOT }, { "in", T_IN },
        { "true", T_TRUE }, { "false", T_FALSE }, { "null", T_NULL },
};

static void lex(struct parser *p)
{
        const char *s = p->s;
        char c;

        free(p->text);
        p->text = NULL;
        while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')
                p->pos++;
        p->tstart = p->pos;
        c = s[p->pos];
        if (p->failed || c == '\0') {
                p->tok = T_EOF;
                p->tend = p->pos;
                return;
        }
        if (is_digit(c)) {
                lex_number(p);
        } else if (c == '"' || c == '\'') {
                lex_string(p);
        } else if (is_ident_start(c)) {
                int i = p->pos;

                while (is_ident(s[i]))
                        i++;
                p->text = xstrndup(s + p->pos, (size_t)(i - p->pos));
                p->tok = T_IDENT;
                for (size_t k = 0; k < LO_ARRAY_LEN(expr_keywords); k++)
                        if (strcmp(p->text, expr_keywords[k].word) == 0)
                                p->tok = expr_keywords[k].tok;
                p->pos = i;
        } else {
                char d = s[p->pos + 1];

                p->pos++;
                switch (c) {
                case '.': p->tok = T_DOT; break;
                case '[': p->tok = T_LBRACK; break;
                case ']': p->tok = T_RBRACK; break;
                case '(': p->tok = T_LPAREN; break;
                case ')': p->tok = T_RPAREN; break;
                case ',': p->tok = T_COMMA; break;
                case '+': p->tok = T_PLUS; break;
                case '-': p->tok = T_MINUS; break;
                case '*': p->tok = T_STAR; break;
                case '/': p->tok = T_SLASH; break;
                case '<':
                        p->tok = d == '=' ? T_LE : T_LT;
                        p->pos += d == '=';
                        break;
                case '>':
                        p->tok = d == '=' ? T_GE : T_GT;
                        p->pos += d == '=';
                        break;
                case '=':
                        if (d == '=') {
                                p->tok = T_EQ;
                                p->pos++;
                                break;
                        }
                        perr(p, p->tstart + 1, "unexpected '=' (use '==' to compare)");
                        p->tok = T_EOF;
                        break;
                case '!':
                        if (d == '=') {
                                p->tok = T_NE;
                                p->pos++;
                                break;
                        }
                        perr(p, p->tstart + 1, "unexpected '!' (use 'not' or '!=')");
                        p->tok = T_EOF;
                        break;
                default:
                        if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
                                perr(p, p->tstart + 1, "unexpected character (byte 0x%02x)",
                                     (unsigned char)c);
                        else
                                perr(p, p->tstart + 1, "unexpected character '%c'", c);
                        p->tok = T_EOF;
                        break;
                }
        }
        p->tend = p->pos;
}

/* The current token for a message: "end of input", "')'", "'foo'". */
static const char *tok_desc(const struct parser *p, char *buf, size_t n)
{
        int len = p->tend - p->tstart;

        if (p->tok == T_EOF)
                return "end of input";
        if (p->tok == T_STR)
                return "a string";
        if (p->tok == T_NUM)
                return "a number";
        if (len > 32)
                len = 32;
        snprintf(buf, n, "'%.*s'", len, p->s + p->tstart);
        return buf;
}

static bool expect(struct parser *p, enum tok t, const char *what)
{
        char d[48];

        if (p->tok == t) {
                lex(p);
                return true;
        }
        perr(p, p->tstart + 1, "expected %s, found %s", what, tok_desc(p, d, sizeof d));
        return false;
}

static struct node *parse_expr(struct parser *p);

/* Left-deep chains (a+b+c..., a.b.c...) grow the tree without nesting the
 * parser; bound the tree itself so that evaluation and freeing recurse a
 * bounded number of levels. Frees n and returns NULL when too deep. */
static struct node *bound(struct parser *p, struct node *n)
{
        if (n && n->depth > EXPR_MAX_HEIGHT) {
                perr(p, n->op_col, "expression too long (more than %d levels of operators)",
                     EXPR_MAX_HEIGHT);
                node_free(n);
                return NULL;
        }
        return n;
}

/* Postfix: .name and [expr] after a primary. */
static struct node *parse_postfix(struct parser *p, struct node *base)
{
        while (!p->failed && (p->tok == T_DOT || p->tok == T_LBRACK)) {
                struct node *n;

                if (p->tok == T_DOT) {
                        int dot = p->tstart;

                        lex(p);
                        if (p->tok != T_IDENT) {
                                char d[48];

                                perr(p, p->tstart + 1, "expected a name after '.', found %s",
                                     tok_desc(p, d, sizeof d));
                                break;
                        }
                        n = node_new(N_GET, base->start);
                        n->op_col = dot + 1;
                        n->name = xstrdup(p->text);
                        node_add(n, base);
                        n->end = p->tend;
                        lex(p);
                } else {
                        int br = p->tstart;
                        struct node *idx;

                        lex(p);
                        idx = parse_expr(p);
                        n = node_new(N_INDEX, base->start);
                        n->op_col = br + 1;
                        node_add(n, base);
                        if (idx)
                                node_add(n, idx);
                        n->end = p->tend;
                        if (!idx || !expect(p, T_RBRACK, "']'")) {
                                node_free(n);
                                return NULL;
                        }
                }
                base = bound(p, n);
                if (!base)
                        return NULL;
        }
        if (p->failed) {
                node_free(base);
                return NULL;
        }
        return base;
}

/* After the '.' that starts a relative path: a name, '[', or nothing
 * (the element itself). */
static struct node *parse_relative(struct parser *p)
{
        struct node *cur = node_new(N_CUR, p->tstart);
        int dot = p->tstart;

        cur->end = p->tend;
        lex(p);
        if (p->tok == T_IDENT && p->tstart == dot + 1) {
                struct node *n = node_new(N_GET, dot);

                n->op_col = dot + 1;
                n->name = xstrdup(p->text);
                node_add(n, cur);
                n->end = p->tend;
                lex(p);
                return parse_postfix(p, n);
        }
        if (p->tok == T_LBRACK && p->tstart == dot + 1)
                return parse_postfix(p, cur);
        return cur;
}

static struct node *parse_call(struct parser *p, const char *name, int start)
{
        struct node *n = node_new(N_CALL, start);
        size_t f;
        int argc;

        for (f = 0; f < LO_ARRAY_LEN(expr_fns); f++)
                if (strcmp(expr_fns[f].name, name) == 0)
                        break;
        if (f == LO_ARRAY_LEN(expr_fns)) {
                perr(p, start + 1, "unknown function '%.32s' (functions: len, all, any, count, "
                     "max, min, sum)", name);
                node_free(n);
                return NULL;
        }
        n->fn = (enum fn)f;
        lex(p);         /* '(' */
        if (p->tok != T_RPAREN) {
                for (;;) {
                        struct node *a = parse_expr(p);

                        if (!a) {
                                node_free(n);
                                return NULL;
                        }
                        node_add(n, a);
                        if (p->tok != T_COMMA)
                                break;
                        lex(p);
                }
        }
        n->end = p->tend;
        if (!expect(p, T_RPAREN, "',' or ')'")) {
                node_free(n);
                return NULL;
        }
        argc = n->n;
        if (argc < expr_fns[f].min_args || argc > expr_fns[f].max_args) {
                if (expr_fns[f].min_args == expr_fns[f].max_args)
                        perr(p, start + 1, "%s() takes %d argument%s, got %d", name,
                             expr_fns[f].min_args, expr_fns[f].min_args == 1 ? "" : "s", argc);
                else
                        perr(p, start + 1, "%s() takes %d or %d arguments, got %d", name,
                             expr_fns[f].min_args, expr_fns[f].max_args, argc);
                node_free(n);
                return NULL;
        }
        return n;
}

static struct node *parse_primary(struct parser *p)
{
        struct node *n = NULL;
        char d[48];
        int start = p->tstart;

        switch (p->tok) {
        case T_NUM:
                n = node_new(N_LIT, start);
                n->lit = cJSON_CreateNumber(p->num);
                n->end = p->tend;
                lex(p);
                break;
        case T_STR:
                n = node_new(N_LIT, start);
                n->lit = cJSON_CreateString(p->text);
                n->end = p->tend;
                lex(p);
                break;
        case T_TRUE:
        case T_FALSE:
                n = node_new(N_LIT, start);
                n->lit = cJSON_CreateBool(p->tok == T_TRUE);
                n->end = p->tend;
                lex(p);
                break;
        case T_NULL:
                n = node_new(N_LIT, start);
                n->lit = cJSON_CreateNull();
                n->end = p->tend;
                lex(p);
                break;
        case T_LPAREN: {
                int close_end;

                lex(p);
                n = parse_expr(p);
                if (!n)
                        return NULL;
                close_end = p->tend;
                if (!expect(p, T_RPAREN, "')'")) {
                        node_free(n);
                        return NULL;
                }
                n->start = start;
                n->end = close_end;
                break;
        }
        case T_LBRACK:
                n = node_new(N_LIST, start);
                lex(p);
                if (p->tok != T_RBRACK) {
                        for (;;) {
                                struct node *a = parse_expr(p);

                                if (!a) {
                                        node_free(n);
                                        return NULL;
                                }
                                node_add(n, a);
                                if (p->tok != T_COMMA)
                                        break;
                                lex(p);
                        }
                }
                n->end = p->tend;
                if (!expect(p, T_RBRACK, "',' or ']'")) {
                        node_free(n);
                        return NULL;
                }
                break;
        case T_DOT:
                return parse_relative(p);
        case T_IDENT: {
                char *name = xstrdup(p->text);

                lex(p);
                if (p->tok == T_LPAREN) {
                        n = parse_call(p, name, start);
                } else {
                        struct node *r = node_new(N_ROOT, start);

                        n = node_new(N_GET, start);
                        n->name = name;
                        name = NULL;
                        node_add(n, r);
                        n->end = start + (int)strlen(n->name);
                }
                free(name);
                break;
        }
        default:
                perr(p, p->tstart + 1, "expected an expression, found %s",
                     tok_desc(p, d, sizeof d));
                return NULL;
        }
        if (!n)
                return NULL;
        return parse_postfix(p, n);
}

static bool enter(struct parser *p)
{
        if (++p->depth > EXPR_MAX_DEPTH) {
                perr(p, p->tstart + 1, "expression nested too deeply (more than %d levels)",
                     EXPR_MAX_DEPTH);
                return false;
        }
        return true;
}

static struct node *parse_unary(struct parser *p)
{
        struct node *n, *k;
        int start = p->tstart;

        if (p->tok != T_MINUS)
                return parse_primary(p);
        if (!enter(p))
                return NULL;
        lex(p);
        k = parse_unary(p);
        p->depth--;
        if (!k)
                return NULL;
        n = node_new(N_NEG, start);
        node_add(n, k);
        n->end = k->end;
        return bound(p, n);
}

static struct node *bin(enum tok op, int col, struct node *l, struct node *r)
{
        struct node *n = node_new(N_BIN, l->start);

        n->op = op;
        n->op_col = col;
        node_add(n, l);
        node_add(n, r);
        n->end = r->end;
        return n;
}

static struct node *parse_mul(struct parser *p)
{
        struct node *l = parse_unary(p);

        while (l && (p->tok == T_STAR || p->tok == T_SLASH)) {
                enum tok op = p->tok;
                int col = p->tstart + 1;
                struct node *r;

                lex(p);
                r = parse_unary(p);
                if (!r) {
                        node_free(l);
                        return NULL;
                }
                l = bound(p, bin(op, col, l, r));
        }
        return l;
}

static struct node *parse_add(struct parser *p)
{
        struct node *l = parse_mul(p);

        while (l && (p->tok == T_PLUS || p->tok == T_MINUS)) {
                enum tok op = p->tok;
                int col = p->tstart + 1;
                struct node *r;

                lex(p);
                r = parse_mul(p);
                if (!r) {
                        node_free(l);
                        return NULL;
                }
                l = bound(p, bin(op, col, l, r));
        }
        return l;
}

static bool is_cmp(enum tok t)
{
        return t == T_EQ || t == T_NE || t == T_LT || t == T_LE || t == T_GT || t == T_GE ||
               t == T_IN;
}

/* Comparisons do not chain: `a < b < c` is an error. */
static struct node *parse_cmp(struct parser *p)
{
        struct node *l = parse_add(p), *r;
        enum tok op;
        int col;

        if (!l || !is_cmp(p->tok))
                return l;
        op = p->tok;
        col = p->tstart + 1;
        lex(p);
        r = parse_add(p);
        if (!r) {
                node_free(l);
                return NULL;
        }
        l = bin(op, col, l, r);
        if (is_cmp(p->tok)) {
                perr(p, p->tstart + 1, "comparisons do not chain; use 'and'");
                node_free(l);
                return NULL;
        }
        return l;
}

static struct node *parse_not(struct parser *p)
{
        struct node *n, *k;
        int start = p->tstart;

        if (p->tok != T_NOT)
                return parse_cmp(p);
        if (!enter(p))
                return NULL;
        lex(p);
        k = parse_not(p);
        p->depth--;
        if (!k)
                return NULL;
        n = node_new(N_NOT, start);
        node_add(n, k);
        n->end = k->end;
        return bound(p, n);
}

static struct node *parse_and(struct parser *p)
{
        struct node *l = parse_not(p);

        while (l && p->tok == T_AND) {
                int col = p->tstart + 1;
                struct node *r;

                lex(p);
                r = parse_not(p);
                if (!r) {
                        node_free(l);
                        return NULL;
                }
                l = bound(p, bin(T_AND, col, l, r));
        }
        return l;
}

static struct node *parse_expr(struct parser *p)
{
        struct node *l;

        if (!enter(p))
                return NULL;
        l = parse_and(p);
        while (l && p->tok == T_OR) {
                int col = p->tstart + 1;
                struct node *r;

                lex(p);
                r = parse_and(p);
                if (!r) {
                        node_free(l);
                        l = NULL;
                        break;
                }
                l = bound(p, bin(T_OR, col, l, r));
        }
        p->depth--;
        if (p->failed) {
                node_free(l);
                return NULL;
        }
        return bound(p, l);
}

struct expr *expr_parse(const char *src, struct err *err)
{
        struct parser p = { .s = src ? src : "", .err = err };
        struct node *root;
        struct expr *e;
        char d[48];

        lex(&p);
        if (p.tok == T_EOF && !p.failed) {
                perr(&p, 1, "empty expression");
                return NULL;
        }
        root = parse_expr(&p);
        if (root && p.tok != T_EOF) {
                perr(&p, p.tstart + 1, "unexpected %s after the expression",
                     tok_desc(&p, d, sizeof d));
                node_free(root);
                root = NULL;
        }
        free(p.text);
        if (!root)
                return NULL;
        e = xcalloc(1, sizeof *e);
        e->src = xstrdup(p.s);
        e->root = root;
        return e;
}

void expr_free(struct expr *e)
{
        if (!e)
                return;
        node_free(e->root);
        free(e->src);
        free(e);
}

const char *expr_text(const struct expr *e)
{
        return e ? e->src : "";
}

/* --- evaluation ------------------------------------------------------------ */

struct val {
        cJSON *j;       /* NULL = null */
        bool   own;
};

struct ectx {
        const cJSON *root;
        const cJSON *cur;
        struct err  *err;
        bool         failed;
};

static void eerr(struct ectx *x, int col, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void eerr(struct ectx *x, int col, const char *fmt, ...)
{
        char msg[200];
        va_list ap;

        if (x->failed)
                return;
        x->failed = true;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        err_set(x->err, EINVAL, "col %d: %s", col, msg);
}

static void val_free(struct val *v)
{
        if (v->own)
                cJSON_Delete(v->j);
        v->j = NULL;
        v->own = false;
}

static struct val v_borrow(const cJSON *j)
{
        struct val v = { (cJSON *)j, false };

        if (j && cJSON_IsNull(j))
                v.j = NULL;
        return v;
}

static struct val v_own(cJSON *j)
{
        struct val v = { j, true };

        return v;
}

static struct val v_null(void)
{
        struct val v = { NULL, false };

        return v;
}

static struct val v_bool(bool b)
{
        return v_own(cJSON_CreateBool(b));
}

static const char *type_name(const cJSON *j)
{
        if (!j || cJSON_IsNull(j))
                return "null";
        if (cJSON_IsBool(j))
                return "boolean";
        if (cJSON_IsNumber(j))
                return "number";
        if (cJSON_IsString(j))
                return "string";
        if (cJSON_IsArray(j))
                return "list";
        if (cJSON_IsObject(j))
                return "object";
        return "invalid";
}

static struct val eval(struct ectx *x, const struct node *n);

/* A number result, or an error when it overflowed. */
static struct val v_num(struct ectx *x, int col, double d)
{
        if (isnan(d) || isinf(d)) {
                eerr(x, col, "number out of range");
                return v_null();
        }
        return v_own(cJSON_CreateNumber(d));
}

/* Condition value: true, false, or null (= false); other types are errors. */
static int cond(struct ectx *x, const struct node *n, const char *what)
{
        struct val v = eval(x, n);
        int r;

        if (x->failed)
                return -1;
        if (!v.j)
                r = 0;
        else if (cJSON_IsBool(v.j))
                r = cJSON_IsTrue(v.j);
        else {
                eerr(x, n->start + 1, "%s needs a boolean, got %s", what, type_name(v.j));
                r = -1;
        }
        val_free(&v);
        return r;
}

static bool json_equal(const cJSON *a, const cJSON *b)
{
        bool an = !a || cJSON_IsNull(a), bn = !b || cJSON_IsNull(b);

        if (an || bn)
                return an && bn;
        if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
                return a->valuedouble == b->valuedouble;
        return cJSON_Compare(a, b, true);
}

static const char *op_text(enum tok t)
{
        switch (t) {
        case T_EQ: return "==";
        case T_NE: return "!=";
        case T_LT: return "<";
        case T_LE: return "<=";
        case T_GT: return ">";
        case T_GE: return ">=";
        case T_PLUS: return "+";
        case T_MINUS: return "-";
        case T_STAR: return "*";
        case T_SLASH: return "/";
        case T_IN: return "in";
        case T_AND: return "and";
        case T_OR: return "or";
        default: return "?";
        }
}

static struct val eval_in(struct ectx *x, const struct node *n, const cJSON *l, const cJSON *r)
{
        const cJSON *it;

        if (!r)
                return v_bool(false);
        if (cJSON_IsArray(r)) {
                cJSON_ArrayForEach(it, r)
                        if (json_equal(l, it))
                                return v_bool(true);
                return v_bool(false);
        }
        if (cJSON_IsObject(r) || cJSON_IsString(r)) {
                if (!l)
                        return v_bool(false);
                if (!cJSON_IsString(l)) {
                        eerr(x, n->op_col, "'in' %s needs a string on the left, got %s",
                             type_name(r), type_name(l));
                        return v_null();
                }
                if (cJSON_IsObject(r))
                        return v_bool(cJSON_GetObjectItemCaseSensitive(r, l->valuestring) != NULL);
                return v_bool(strstr(r->valuestring, l->valuestring) != NULL);
        }
        eerr(x, n->op_col, "'in' needs a list, object or string on the right, got %s",
             type_name(r));
        return v_null();
}

static struct val eval_bin(struct ectx *x, const struct node *n)
{
        struct val l, r, res = v_null();
        const cJSON *a, *b;
        int c;

        if (n->op == T_AND || n->op == T_OR) {
                c = cond(x, n->kids[0], n->op == T_AND ? "'and'" : "'or'");
                if (c < 0)
                        return v_null();
                if ((n->op == T_AND && !c) || (n->op == T_OR && c))
                        return v_bool(c);
                c = cond(x, n->kids[1], n->op == T_AND ? "'and'" : "'or'");
                if (c < 0)
                        return v_null();
                return v_bool(c);
        }
        l = eval(x, n->kids[0]);
        if (x->failed)
                return v_null();
        r = eval(x, n->kids[1]);
        if (x->failed) {
                val_free(&l);
                return v_null();
        }
        a = l.j;
        b = r.j;
        switch (n->op) {
        case T_EQ:
                res = v_bool(json_equal(a, b));
                break;
        case T_NE:
                res = v_bool(!json_equal(a, b));
                break;
        case T_LT: case T_LE: case T_GT: case T_GE:
                if (!a || !b) {
                        res = v_bool(false);
                        break;
                }
                if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
                        double d = a->valuedouble - b->valuedouble;

                        c = a->valuedouble < b->valuedouble ? -1 : (d > 0 ? 1 : 0);
                } else if (cJSON_IsString(a) && cJSON_IsString(b)) {
                        c = strcmp(a->valuestring, b->valuestring);
                } else {
                        eerr(x, n->op_col, "'%s' cannot compare %s with %s", op_text(n->op),
                             type_name(a), type_name(b));
                        break;
                }
                res = v_bool(n->op == T_LT ? c < 0 : n->op == T_LE ? c <= 0 :
                             n->op == T_GT ? c > 0 : c >= 0);
                break;
        case T_IN:
                res = eval_in(x, n, a, b);
                break;
        case T_PLUS: case T_MINUS: case T_STAR: case T_SLASH:
                if (!a || !b)
                        break;          /* null in, null out */
                if (n->op == T_PLUS && cJSON_IsString(a) && cJSON_IsString(b)) {
                        char *s = xasprintf("%s%s", a->valuestring, b->valuestring);

                        res = v_own(cJSON_CreateString(s));
                        free(s);
                        break;
                }
                if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b)) {
                        eerr(x, n->op_col, "'%s' needs two numbers%s, got %s and %s",
                             op_text(n->op), n->op == T_PLUS ? " or two strings" : "",
                             type_name(a), type_name(b));
                        break;
                }
                if (n->op == T_SLASH && b->valuedouble == 0) {
                        eerr(x, n->op_col, "division by zero");
                        break;
                }
                res = v_num(x, n->op_col,
                            n->op == T_PLUS ? a->valuedouble + b->valuedouble :
                            n->op == T_MINUS ? a->valuedouble - b->valuedouble :
                            n->op == T_STAR ? a->valuedouble * b->valuedouble :
                            a->valuedouble / b->valuedouble);
                break;
        default:
                break;
        }
        val_free(&l);
        val_free(&r);
        return res;
}

static size_t utf8_len(const char *s)
{
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char)*s & 0xC0) != 0x80)
                        n++;
        return n;
}

/* Evaluates kid with the current element set to el. */
static struct val eval_with(struct ectx *x, const struct node *kid, const cJSON *el)
{
        const cJSON *saved = x->cur;
        struct val v;

        x->cur = el;
        v = eval(x, kid);
        x->cur = saved;
        return v;
}

static struct val eval_call(struct ectx *x, const struct node *n)
{
        struct val lv = eval(x, n->kids[0]), res = v_null();
        const cJSON *l = lv.j, *it;
        const char *name = expr_fns[n->fn].name;

        if (x->failed)
                return v_null();
        if (n->fn == F_LEN) {
                if (!l)
                        res = v_null();
                else if (cJSON_IsString(l))
                        res = v_own(cJSON_CreateNumber((double)utf8_len(l->valuestring)));
                else if (cJSON_IsArray(l) || cJSON_IsObject(l))
                        res = v_own(cJSON_CreateNumber(cJSON_GetArraySize(l)));
                else
                        eerr(x, n->op_col, "len() needs a string, list or object, got %s",
                             type_name(l));
                val_free(&lv);
                return res;
        }
        if (!l) {
                val_free(&lv);
                return v_null();
        }
        if (!cJSON_IsArray(l)) {
                eerr(x, n->op_col, "%s() needs a list, got %s", name, type_name(l));
                val_free(&lv);
                return v_null();
        }
        if (n->fn == F_ALL || n->fn == F_ANY || n->fn == F_COUNT) {
                int count = 0;
                bool all = true, any = false;

                cJSON_ArrayForEach(it, l) {
                        struct val pv = eval_with(x, n->kids[1], it);
                        bool t;

                        if (x->failed)
                                break;
                        if (pv.j && !cJSON_IsBool(pv.j)) {
                                eerr(x, n->kids[1]->start + 1,
                                     "%s() needs a boolean predicate, got %s", name,
                                     type_name(pv.j));
                                val_free(&pv);
                                break;
                        }
                        t = pv.j && cJSON_IsTrue(pv.j);
                        val_free(&pv);
                        count += t;
                        all = all && t;
                        any = any || t;
                }
                if (!x->failed)
                        res = n->fn == F_COUNT ? v_own(cJSON_CreateNumber(count))
                                               : v_bool(n->fn == F_ALL ? all : any);
        } else {
                double acc = n->fn == F_SUM ? 0 : NAN;

                cJSON_ArrayForEach(it, l) {
                        struct val ev = n->n > 1 ? eval_with(x, n->kids[1], it) : v_borrow(it);
                        double d;

                        if (x->failed)
                                break;
                        if (!ev.j)
                                continue;       /* nulls are skipped */
                        if (!cJSON_IsNumber(ev.j)) {
                                eerr(x, (n->n > 1 ? n->kids[1] : n->kids[0])->start + 1,
                                     "%s() needs numbers, got %s", name, type_name(ev.j));
                                val_free(&ev);
                                break;
                        }
                        d = ev.j->valuedouble;
                        val_free(&ev);
                        if (n->fn == F_SUM)
                                acc += d;
                        else if (isnan(acc) || (n->fn == F_MAX ? d > acc : d < acc))
                                acc = d;
                }
                if (!x->failed && !isnan(acc))
                        res = v_num(x, n->op_col, acc);
        }
        val_free(&lv);
        return res;
}

static struct val eval_index(struct ectx *x, const struct node *n)
{
        struct val base = eval(x, n->kids[0]), idx, res = v_null();

        if (x->failed)
                return v_null();
        idx = eval(x, n->kids[1]);
        if (x->failed) {
                val_free(&base);
                return v_null();
        }
        if (idx.j && cJSON_IsString(idx.j)) {
                if (base.j && cJSON_IsObject(base.j))
                        res = v_borrow(cJSON_GetObjectItemCaseSensitive(base.j,
                                                                        idx.j->valuestring));
        } else if (idx.j && cJSON_IsNumber(idx.j)) {
                double d = idx.j->valuedouble;

                if (d != floor(d) || fabs(d) > 1e9) {
                        eerr(x, n->kids[1]->start + 1, "index must be a whole number");
                } else if (base.j && cJSON_IsArray(base.j)) {
                        int size = cJSON_GetArraySize(base.j), i = (int)d;

                        if (i < 0)
                                i += size;
                        if (i >= 0 && i < size)
                                res = v_borrow(cJSON_GetArrayItem(base.j, i));
                }
        } else if (idx.j) {
                eerr(x, n->kids[1]->start + 1, "index must be a number or a string, got %s",
                     type_name(idx.j));
        }
        /* res borrows from base: keep base alive by copying when owned. */
        if (base.own && res.j) {
                res.j = cJSON_Duplicate(res.j, true);
                res.own = true;
        }
        val_free(&base);
        val_free(&idx);
        return res;
}

static struct val eval(struct ectx *x, const struct node *n)
{
        struct val v = v_null();

        if (x->failed)
                return v;
        switch (n->type) {
        case N_LIT:
                return v_borrow(n->lit);
        case N_ROOT:
                return v_borrow(x->root);
        case N_CUR:
                return v_borrow(x->cur);
        case N_LIST: {
                cJSON *a = cJSON_CreateArray();

                for (int i = 0; i < n->n; i++) {
                        struct val it = eval(x, n->kids[i]);

                        if (x->failed) {
                                cJSON_Delete(a);
                                return v_null();
                        }
                        cJSON_AddItemToArray(a, it.j ? (it.own ? it.j : cJSON_Duplicate(it.j, true))
                                                     : cJSON_CreateNull());
                }
                return v_own(a);
        }
        case N_GET: {
                struct val base = eval(x, n->kids[0]);

                if (base.j && cJSON_IsObject(base.j))
                        v = v_borrow(cJSON_GetObjectItemCaseSensitive(base.j, n->name));
                if (base.own && v.j) {
                        v.j = cJSON_Duplicate(v.j, true);
                        v.own = true;
                }
                val_free(&base);
                return v;
        }
        case N_INDEX:
                return eval_index(x, n);
        case N_NEG: {
                struct val k = eval(x, n->kids[0]);

                if (k.j && cJSON_IsNumber(k.j))
                        v = v_num(x, n->op_col, -k.j->valuedouble);
                else if (k.j)
                        eerr(x, n->op_col, "'-' needs a number, got %s", type_name(k.j));
                val_free(&k);
                return v;
        }
        case N_NOT: {
                int c = cond(x, n->kids[0], "'not'");

                return c < 0 ? v_null() : v_bool(!c);
        }
        case N_BIN:
                return eval_bin(x, n);
        case N_CALL:
                return eval_call(x, n);
        }
        return v;
}

struct cJSON *expr_eval(const struct expr *e, const struct cJSON *doc, struct err *err)
{
        struct ectx x = { .root = doc, .cur = doc, .err = err };
        struct val v;

        if (!e) {
                err_set(err, EINVAL, "no expression");
                return NULL;
        }
        v = eval(&x, e->root);
        if (x.failed) {
                val_free(&v);
                return NULL;
        }
        if (!v.j)
                return cJSON_CreateNull();
        return v.own ? v.j : cJSON_Duplicate(v.j, true);
}

bool expr_true(const struct cJSON *v)
{
        return v && cJSON_IsTrue(v);
}

char *expr_value_text(const struct cJSON *v)
{
        char *s, *r;

        if (!v)
                return xstrdup("null");
        s = cJSON_PrintUnformatted(v);
        if (!s)
                return xstrdup("null");
        r = xstrdup(s);
        cJSON_free(s);
        return r;
}

/* Appends "<text of n> = <value>" (or "... = error: msg") to *out. */
static void explain_part(const struct expr *e, const struct node *n, const cJSON *doc,
                         char **out)
{
        struct ectx x;
        struct err err;
        struct val v;
        char *val, *s;

        err_clear(&err);
        x = (struct ectx){ .root = doc, .cur = doc, .err = &err };
        v = eval(&x, n);
        val = x.failed ? xasprintf("error: %s", err.msg) : expr_value_text(v.j);
        val_free(&v);
        s = xasprintf("%s%s%.*s = %s", *out ? *out : "", *out ? ", " : "", n->end - n->start,
                      e->src + n->start, val);
        free(val);
        free(*out);
        *out = s;
}

static void explain(const struct expr *e, const struct node *n, const cJSON *doc, char **out)
{
        if (n->type == N_BIN && n->op == T_AND) {
                explain(e, n->kids[0], doc, out);
                explain(e, n->kids[1], doc, out);
                return;
        }
        if (n->type == N_BIN && is_cmp(n->op))
                n = n->kids[0];
        explain_part(e, n, doc, out);
}

char *expr_explain(const struct expr *e, const struct cJSON *doc)
{
        char *out = NULL;

        if (!e)
                return xstrdup("");
        explain(e, e->root, doc, &out);
        return out ? out : xstrdup("");
}
