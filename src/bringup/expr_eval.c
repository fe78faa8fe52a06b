/*
 * expr_eval: the evaluator over cJSON and expr_explain (see expr.h).
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

#include "bringup/expr_internal.h"
#include "core/util.h"

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

/* A raw node is JSON text printed ahead of time (the reconcile status keeps
 * each of its buckets as one, to save memory): the language reads it as the
 * value the text holds, an owned copy parsed on each access. */
static struct val v_borrow(const cJSON *j)
{
        struct val v = { (cJSON *)j, false };

        if (j && cJSON_IsRaw(j)) {
                v.j = j->valuestring ? cJSON_Parse(j->valuestring) : NULL;
                v.own = v.j != NULL;
        }
        if (v.j && cJSON_IsNull(v.j)) {
                if (v.own)
                        cJSON_Delete(v.j);
                v.j = NULL;
                v.own = false;
        }
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
                cJSON_ArrayForEach(it, r) {
                        struct val e = v_borrow(it);
                        bool eq = json_equal(l, e.j);

                        val_free(&e);
                        if (eq)
                                return v_bool(true);
                }
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
        if (base.own && res.j && !res.own) {
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
                if (base.own && v.j && !v.own) {
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
        if (n->type == N_BIN && expr_is_cmp(n->op))
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
