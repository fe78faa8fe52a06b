/*
 * expr: tokenizer and recursive-descent parser to an AST (see expr.h for
 * the language; the AST is in expr_internal.h, the evaluator and
 * expr_explain in expr_eval.c). Nothing here is global.
 */
#include "bringup/expr.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bringup/expr_internal.h"
#include "core/util.h"

/* How tall the AST may grow (evaluation recurses this deep). */
#define EXPR_MAX_HEIGHT 256


const struct expr_fn_def expr_fns[EXPR_N_FNS] = {
        [F_LEN] = { "len", 1, 1 },
        [F_ALL] = { "all", 2, 2 },
        [F_ANY] = { "any", 2, 2 },
        [F_COUNT] = { "count", 2, 2 },
        [F_MAX] = { "max", 1, 2 },
        [F_MIN] = { "min", 1, 2 },
        [F_SUM] = { "sum", 1, 2 },
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

/* The items of a call or a list up to `close` ("a, b, c)"), added to n as
 * its kids; n ends at `close`. False on a syntax error (reported). */
static bool parse_items(struct parser *p, struct node *n, enum tok close, const char *what)
{
        if (p->tok != close) {
                for (;;) {
                        struct node *a = parse_expr(p);

                        if (!a)
                                return false;
                        node_add(n, a);
                        if (p->tok != T_COMMA)
                                break;
                        lex(p);
                }
        }
        n->end = p->tend;
        return expect(p, close, what);
}

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
        if (!parse_items(p, n, T_RPAREN, "',' or ')'")) {
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
                if (!parse_items(p, n, T_RBRACK, "',' or ']'")) {
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

/* The rest of a left-associative chain `l (op r)*` whose operators are a
 * or b and whose operands `next` parses. NULL (l freed) on an error. */
static struct node *parse_chain(struct parser *p, struct node *l,
                                struct node *(*next)(struct parser *p), enum tok a, enum tok b)
{
        while (l && (p->tok == a || p->tok == b)) {
                enum tok op = p->tok;
                int col = p->tstart + 1;
                struct node *r;

                lex(p);
                r = next(p);
                if (!r) {
                        node_free(l);
                        return NULL;
                }
                l = bound(p, bin(op, col, l, r));
        }
        return l;
}

static struct node *parse_mul(struct parser *p)
{
        return parse_chain(p, parse_unary(p), parse_unary, T_STAR, T_SLASH);
}

static struct node *parse_add(struct parser *p)
{
        return parse_chain(p, parse_mul(p), parse_mul, T_PLUS, T_MINUS);
}

bool expr_is_cmp(enum tok t)
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

        if (!l || !expr_is_cmp(p->tok))
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
        if (expr_is_cmp(p->tok)) {
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
        return parse_chain(p, parse_not(p), parse_not, T_AND, T_AND);
}

static struct node *parse_expr(struct parser *p)
{
        struct node *l;

        if (!enter(p))
                return NULL;
        l = parse_chain(p, parse_and(p), parse_and, T_OR, T_OR);
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
