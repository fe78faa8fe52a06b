/*
 * expr_internal.h: the tokens and the AST, shared by the parser (expr.c)
 * and the evaluator (expr_eval.c). Nobody else includes it.
 */
#ifndef LO_SRC_EXPR_INTERNAL_H
#define LO_SRC_EXPR_INTERNAL_H

#include <stdbool.h>

#include <cjson/cJSON.h>

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

/* The functions, and their names and arities (in expr.c). */
enum fn { F_LEN, F_ALL, F_ANY, F_COUNT, F_MAX, F_MIN, F_SUM };
#define EXPR_N_FNS (F_SUM + 1)

struct expr_fn_def {
        const char *name;
        int min_args, max_args;
};

extern const struct expr_fn_def expr_fns[EXPR_N_FNS];    /* by enum fn */

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

/* True for the comparison operators (== != < <= > >= in). */
bool expr_is_cmp(enum tok t);

#endif
