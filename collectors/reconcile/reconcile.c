/*
 * Speed-vs-batch reconciliation (`kind: reconcile`).
 *
 * One source is one check. Each poll, on the check's own collector thread,
 * runs the speed query and then the batch query (src/clients/sql.c runners, with
 * the referenced sources' connection settings but connections of our own,
 * owned by this thread and reused across polls), both bounded by this
 * check's timeout. Rows stream into the engine below; a failing side makes
 * the check DOWN with "<side> query on <source>: <why>", and only this
 * check: other sources have their own threads.
 *
 * The engine is a hash join in bounded memory. Each row's key columns are
 * turned into canonical bytes (timestamps as their UTC instant, numbers as
 * trimmed decimal text so that 5 = 5.0 across stores, text as is, NULL as
 * its own tag) and looked up in an open-addressing table; an entry holds
 * the key bytes (in one arena) and the 2 x n_measures values, never the
 * rows, so memory is one entry per distinct key whatever the result sizes.
 * max_rows (default 1,000,000 per side) caps it; a result past the cap is
 * an error asking to narrow the query rather than an OOM.
 *
 * Classification at the poll's wall time `now`, per bucket:
 *   in_flight         its first timestamp key is younger than settle
 *                     (now - t < settle): not judged, whatever it holds;
 *   missing_in_speed  only the batch result has the key (settled);
 *   missing_in_batch  only the speed result has it (settled);
 *   match             every measure equal (NULL = NULL counts as equal);
 *   within            some differ, each inside its tolerance: absolute
 *                     |speed - batch| <= t, or percent |speed - batch| <=
 *                     |batch| x t / 100 (both inclusive; a floating-point
 *                     slack of 1e-12 of the operands absorbs summation
 *                     noise);
 *   mismatch          some measure outside its tolerance, or NULL on one
 *                     side only.
 * A key that appears twice on one side is never summed or picked from: it
 * is left out of the comparison and named in the check's message, which
 * makes the check DEGRADED (a warn alert). The worst bucket is the one
 * with the largest |delta %| among mismatches (NULL-vs-value and a zero
 * batch rank first), else among `within` buckets; ties go to the earlier
 * key. The mismatch count of each poll is kept in a ring for the pane.
 */
#include "collectors/reconcile/reconcile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core/config.h"
#include "core/health.h"
#include "core/jsonout.h"
#include "clients/sql.h"
#include "core/util.h"
#include "collectors/reconcile/reconcile_int.h"

static const struct cfg_key rec_keys[] = {
        { "speed",        CFG_MAP,     0, true,
          "the speed-layer side: {source: NAME, query: SQL}" },
        { "speed.source", CFG_SOURCE,  offsetof(struct reconcile_cfg, speed.source), true,
          "name of a postgres, clickhouse or snowflake source to query" },
        { "speed.query",  CFG_STR,     offsetof(struct reconcile_cfg, speed.query),  true,
          "SQL returning the key and measure columns, sent verbatim" },
        { "batch",        CFG_MAP,     0, true,
          "the batch-layer side: {source: NAME, query: SQL}" },
        { "batch.source", CFG_SOURCE,  offsetof(struct reconcile_cfg, batch.source), true,
          "name of a postgres, clickhouse or snowflake source to query" },
        { "batch.query",  CFG_STR,     offsetof(struct reconcile_cfg, batch.query),  true,
          "SQL returning the key and measure columns, sent verbatim" },
        { "key",          CFG_STRLIST, offsetof(struct reconcile_cfg, key),          true,
          "columns that identify a bucket (timestamps are compared in UTC)" },
        { "measures",     CFG_STRLIST, offsetof(struct reconcile_cfg, measures),     true,
          "numeric columns compared per bucket" },
        { "tolerance",    CFG_STRMAP,  offsetof(struct reconcile_cfg, tolerance),    false,
          "per measure: absolute (2.5) or percent of the batch value (0.5%); default 0" },
        { "settle",       CFG_DURATION, offsetof(struct reconcile_cfg, settle_ms),   false,
          "buckets whose timestamp key is younger than this are in flight (default 0)" },
        { "max_rows",     CFG_INT,     offsetof(struct reconcile_cfg, max_rows),     false,
          "rows read per side at most (default 1000000)" },
        { NULL, 0, 0, false, NULL },
};

static const struct threshold_def rec_thresholds[] = {
        { "mismatched", THR_COUNT, 1, NAN,
          "settled buckets whose measures differ beyond tolerance" },
        { "missing",    THR_COUNT, 1, NAN,
          "settled buckets present on one side only (missing_in_speed + missing_in_batch)" },
        { NULL, 0, 0, 0, NULL },
};

static const char *const rec_class_names[REC__CLASSES] = {
        "match", "within", "mismatch", "missing_in_speed", "missing_in_batch", "in_flight",
};

const char *coll_reconcile_class_name(enum reconcile_class c)
{
        return (unsigned)c < REC__CLASSES ? rec_class_names[c] : "?";
}

int coll_reconcile_tol_parse(const char *s, struct reconcile_tol *t, struct err *err)
{
        char num[64];
        size_t n = s ? strlen(s) : 0;
        bool pct = n > 0 && s[n - 1] == '%';
        double v;

        if (pct)
                n--;
        if (n == 0 || n >= sizeof num) {
                err_set(err, EINVAL, "tolerance \"%.40s\": expected a number such as 2.5, or a "
                        "percent such as 0.5%%", s ? s : "");
                return -1;
        }
        memcpy(num, s, n);
        num[n] = '\0';
        if (sql_parse_num(num, &v) < 0 || !isfinite(v) || v < 0 || num[0] == '+') {
                err_set(err, EINVAL, "tolerance \"%.40s\": expected a non-negative number such "
                        "as 2.5, or a percent such as 0.5%%", s);
                return -1;
        }
        t->kind = pct ? REC_TOL_PCT : REC_TOL_ABS;
        t->v = v;
        return 0;
}

/* ------------------------------------------------------------------------
 * The engine
 */

struct rec_ent {
        uint64_t hash;
        uint32_t key_off, key_len;
        int64_t  t_ms;
        uint32_t dup[2];                /* extra rows per side */
        uint8_t  seen;
};

struct rec_map {                        /* one side's columns */
        bool    begun;
        size_t *key_col;
        size_t *meas_col;
        enum sql_type *meas_type;
        enum reconcile_key_kind *kinds;
        enum sql_type *key_type;
        size_t  rows;
};

struct rec_ud {
        struct reconcile_engine *e;
        int side;
};

struct reconcile_engine {
        const struct reconcile_spec *spec;
        struct rec_map side[2];
        struct rec_ud ud[2];
        struct rec_ent *ents;
        size_t n, cap;
        uint32_t *table;                /* entry index + 1; 0 = empty */
        size_t tcap;                    /* power of two */
        char *arena;
        size_t alen, acap;
        double *vals;                   /* cap * 2 * n_measures */
        uint8_t *nulls;
        char *kbuf;                     /* scratch key */
        size_t kcap;
        int time_key;                   /* first TIME key, -1 none, -2 unknown */
        char dup_keys[REC_DUP_SHOW][128];
        size_t n_dup_keys;
};

static const char *const rec_side_name[2] = { "speed", "batch" };

struct reconcile_engine *coll_reconcile_engine_new(const struct reconcile_spec *spec)
{
        struct reconcile_engine *e = xcalloc(1, sizeof *e);

        e->spec = spec;
        e->time_key = -2;
        for (int s = 0; s < 2; s++) {
                e->ud[s].e = e;
                e->ud[s].side = s;
                e->side[s].key_col = xcalloc(spec->n_keys + 1, sizeof(size_t));
                e->side[s].key_type = xcalloc(spec->n_keys + 1, sizeof(enum sql_type));
                e->side[s].kinds = xcalloc(spec->n_keys + 1, sizeof(enum reconcile_key_kind));
                e->side[s].meas_col = xcalloc(spec->n_measures + 1, sizeof(size_t));
                e->side[s].meas_type = xcalloc(spec->n_measures + 1, sizeof(enum sql_type));
        }
        return e;
}

void coll_reconcile_engine_free(struct reconcile_engine *e)
{
        if (!e)
                return;
        for (int s = 0; s < 2; s++) {
                free(e->side[s].key_col);
                free(e->side[s].key_type);
                free(e->side[s].kinds);
                free(e->side[s].meas_col);
                free(e->side[s].meas_type);
        }
        free(e->ents);
        free(e->table);
        free(e->arena);
        free(e->vals);
        free(e->nulls);
        free(e->kbuf);
        free(e);
}

static const char *reconcile_kind_name(enum reconcile_key_kind k)
{
        switch (k) {
        case REC_KEY_TIME:   return "a timestamp";
        case REC_KEY_NUMBER: return "a number";
        case REC_KEY_BOOL:   return "a boolean";
        case REC_KEY_TEXT:
        default:             return "text";
        }
}

/* Index of the column named `name` (ASCII case ignored), or an error. */
static int reconcile_find_col(const struct sql_col *cols, size_t ncols, const char *name,
                              size_t *out,
                              struct err *err)
{
        size_t hits = 0;

        for (size_t i = 0; i < ncols; i++) {
                const char *a = cols[i].name, *b = name;

                while (*a && *b && tolower((unsigned char)*a) == tolower((unsigned char)*b))
                        a++, b++;
                if (!*a && !*b) {
                        *out = i;
                        hits++;
                }
        }
        if (hits == 1)
                return 0;
        if (hits > 1) {
                err_set(err, EINVAL, "the result has %zu columns named \"%s\": alias them apart",
                        hits, name);
                return -1;
        }
        {
                char list[160] = "";

                for (size_t i = 0; i < ncols; i++) {
                        size_t l = strlen(list);

                        snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", cols[i].name);
                }
                err_set(err, EINVAL, "the result has no column \"%s\" (it has: %s)", name,
                        ncols ? list : "no columns");
        }
        return -1;
}

static int reconcile_begin(void *ud, const struct sql_col *cols, size_t ncols, struct err *err)
{
        struct rec_ud *u = ud;
        struct reconcile_engine *e = u->e;
        const struct reconcile_spec *sp = e->spec;
        struct rec_map *m = &e->side[u->side], *o = &e->side[!u->side];

        for (size_t k = 0; k < sp->n_keys; k++) {
                enum sql_type t;

                if (reconcile_find_col(cols, ncols, sp->keys[k], &m->key_col[k], err) < 0)
                        return -1;
                t = cols[m->key_col[k]].type;
                m->key_type[k] = t;
                m->kinds[k] = t == SQL_T_TIME ? REC_KEY_TIME :
                              t == SQL_T_INT || t == SQL_T_NUM ? REC_KEY_NUMBER :
                              t == SQL_T_BOOL ? REC_KEY_BOOL : REC_KEY_TEXT;
                if (o->begun && o->kinds[k] != m->kinds[k]) {
                        err_set(err, EINVAL, "key \"%s\" is %s here (%s) but %s in the %s result: "
                                "cast one side so that both agree", sp->keys[k],
                                reconcile_kind_name(m->kinds[k]), cols[m->key_col[k]].db_type,
                                reconcile_kind_name(o->kinds[k]), rec_side_name[!u->side]);
                        return -1;
                }
        }
        for (size_t k = 0; k < sp->n_measures; k++) {
                enum sql_type t;

                if (reconcile_find_col(cols, ncols, sp->measures[k], &m->meas_col[k], err) < 0)
                        return -1;
                t = cols[m->meas_col[k]].type;
                if (t != SQL_T_INT && t != SQL_T_NUM && t != SQL_T_BOOL) {
                        err_set(err, EINVAL, "measure \"%s\" is %s (%s), not a number: cast it "
                                "to a numeric type", sp->measures[k],
                                t == SQL_T_TIME ? "a timestamp" : "text", cols[m->meas_col[k]].db_type);
                        return -1;
                }
                m->meas_type[k] = t;
        }
        if (e->time_key == -2) {
                e->time_key = -1;
                for (size_t k = 0; k < sp->n_keys && e->time_key < 0; k++)
                        if (m->kinds[k] == REC_KEY_TIME)
                                e->time_key = (int)k;
        }
        m->begun = true;
        return 0;
}

static uint64_t reconcile_hash(const char *p, size_t n)
{
        uint64_t h = 1469598103934665603ULL;

        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)p[i];
                h *= 1099511628211ULL;
        }
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        return h;
}

static void reconcile_kbuf_need(struct reconcile_engine *e, size_t need)
{
        if (need > e->kcap) {
                e->kcap = need * 2;
                e->kbuf = xrealloc(e->kbuf, e->kcap);
        }
}

/* Builds the canonical key of a row into e->kbuf; returns its length. */
static size_t reconcile_key_build(struct reconcile_engine *e, const struct rec_map *m,
                                  const struct sql_cell *cells, int64_t *t_ms)
{
        size_t o = 0;

        *t_ms = INT64_MIN;
        for (size_t k = 0; k < e->spec->n_keys; k++) {
                const struct sql_cell *c = &cells[m->key_col[k]];
                char num[512];
                size_t l;

                reconcile_kbuf_need(e, o + 32);
                if (c->null) {
                        e->kbuf[o++] = REC_TAG_NULL;
                        continue;
                }
                switch (m->kinds[k]) {
                case REC_KEY_TIME:
                        e->kbuf[o++] = REC_TAG_TIME;
                        reconcile_put_i64(e->kbuf + o, c->i);
                        o += 8;
                        if ((int)k == e->time_key)
                                *t_ms = c->i;
                        break;
                case REC_KEY_NUMBER:
                        reconcile_canon_num(c, m->key_type[k], num, sizeof num);
                        l = strlen(num);
                        reconcile_kbuf_need(e, o + 32 + l);
                        e->kbuf[o++] = REC_TAG_NUM;
                        reconcile_put_f64(e->kbuf + o, m->key_type[k] == SQL_T_INT ? (double)c->i
                                                                             : strtod(num, NULL));
                        o += 8;
                        o += reconcile_put_varint(e->kbuf + o, l);
                        memcpy(e->kbuf + o, num, l);
                        o += l;
                        break;
                case REC_KEY_BOOL:
                        e->kbuf[o++] = REC_TAG_BOOL;
                        e->kbuf[o++] = c->i ? 1 : 0;
                        break;
                case REC_KEY_TEXT:
                default:
                        l = c->text ? strlen(c->text) : 0;
                        reconcile_kbuf_need(e, o + 16 + l);
                        e->kbuf[o++] = REC_TAG_TEXT;
                        o += reconcile_put_varint(e->kbuf + o, l);
                        memcpy(e->kbuf + o, c->text ? c->text : "", l);
                        o += l;
                        break;
                }
        }
        return o;
}

static void reconcile_table_grow(struct reconcile_engine *e)
{
        size_t cap = e->tcap ? e->tcap * 2 : 1024;
        uint32_t *t = xcalloc(cap, sizeof *t);

        for (size_t i = 0; i < e->n; i++) {
                size_t s = (size_t)e->ents[i].hash & (cap - 1);

                while (t[s])
                        s = (s + 1) & (cap - 1);
                t[s] = (uint32_t)(i + 1);
        }
        free(e->table);
        e->table = t;
        e->tcap = cap;
}

/* The key text of the entry for messages, "bucket=2024-...". */
static void reconcile_key_label(const struct reconcile_engine *e, const char *key, size_t len,
                                char *buf, size_t n)
{
        size_t i = 0, o = 0;

        buf[0] = '\0';
        for (size_t k = 0; k < e->spec->n_keys && i < len && o + 1 < n; k++) {
                struct rec_comp c;
                char v[64];

                i += reconcile_comp_read(key + i, &c);
                switch (c.tag) {
                case REC_TAG_TIME:
                        reconcile_fmt_time(c.t, v, sizeof v);
                        break;
                case REC_TAG_NUM:
                case REC_TAG_TEXT:
                        snprintf(v, sizeof v, "%.*s", (int)(c.n > 40 ? 40 : c.n), c.s);
                        break;
                case REC_TAG_BOOL:
                        snprintf(v, sizeof v, "%s", c.b ? "true" : "false");
                        break;
                default:
                        snprintf(v, sizeof v, "NULL");
                        break;
                }
                o += (size_t)snprintf(buf + o, n - o, "%s%s=%s", k ? " " : "", e->spec->keys[k], v);
                if (o >= n)
                        o = n - 1;
        }
}

static int reconcile_row(void *ud, const struct sql_cell *cells, size_t ncols, struct err *err)
{
        struct rec_ud *u = ud;
        struct reconcile_engine *e = u->e;
        const struct reconcile_spec *sp = e->spec;
        struct rec_map *m = &e->side[u->side];
        size_t len, slot, nm = sp->n_measures;
        struct rec_ent *ent;
        uint64_t h;
        int64_t t;

        (void)ncols;
        if (sp->max_rows && m->rows >= sp->max_rows) {
                err_set(err, EFBIG, "more than %zu rows (max_rows): narrow the query's time "
                        "window or raise max_rows", sp->max_rows);
                return -1;
        }
        m->rows++;
        len = reconcile_key_build(e, m, cells, &t);
        h = reconcile_hash(e->kbuf, len);
        if (2 * (e->n + 1) > e->tcap)
                reconcile_table_grow(e);
        for (slot = (size_t)h & (e->tcap - 1); e->table[slot]; slot = (slot + 1) & (e->tcap - 1)) {
                ent = &e->ents[e->table[slot] - 1];
                if (ent->hash == h && ent->key_len == len &&
                    memcmp(e->arena + ent->key_off, e->kbuf, len) == 0)
                        break;
        }
        if (e->table[slot]) {
                ent = &e->ents[e->table[slot] - 1];
                if (ent->seen & (1u << u->side)) {
                        if (ent->dup[u->side]++ == 0 && e->n_dup_keys < REC_DUP_SHOW) {
                                char lab[100];

                                reconcile_key_label(e, e->arena + ent->key_off, ent->key_len, lab,
                                                    sizeof lab);
                                snprintf(e->dup_keys[e->n_dup_keys++], sizeof e->dup_keys[0],
                                         "%s: %s", rec_side_name[u->side], lab);
                        }
                        return 0;
                }
        } else {
                if (e->n == e->cap) {
                        e->cap = e->cap ? e->cap * 2 : 1024;
                        if (e->cap > UINT32_MAX / 2 / (nm ? 2 * nm : 1)) {
                                err_set(err, EFBIG, "too many distinct keys");
                                return -1;
                        }
                        e->ents = xrealloc(e->ents, e->cap * sizeof *e->ents);
                        e->vals = xrealloc(e->vals, e->cap * 2 * (nm ? nm : 1) * sizeof *e->vals);
                        e->nulls = xrealloc(e->nulls, e->cap * 2 * (nm ? nm : 1));
                }
                if (e->alen + len > UINT32_MAX) {
                        err_set(err, EFBIG, "keys too large");
                        return -1;
                }
                if (e->alen + len > e->acap) {
                        e->acap = (e->alen + len) * 2;
                        e->arena = xrealloc(e->arena, e->acap);
                }
                memcpy(e->arena + e->alen, e->kbuf, len);
                ent = &e->ents[e->n];
                memset(ent, 0, sizeof *ent);
                ent->hash = h;
                ent->key_off = (uint32_t)e->alen;
                ent->key_len = (uint32_t)len;
                ent->t_ms = t;
                e->alen += len;
                e->table[slot] = (uint32_t)(++e->n);
                memset(e->nulls + (e->n - 1) * 2 * nm, 1, 2 * nm);
        }
        ent->seen |= (uint8_t)(1u << u->side);
        for (size_t k = 0; k < nm; k++) {
                const struct sql_cell *c = &cells[m->meas_col[k]];
                size_t vi = (size_t)(ent - e->ents) * 2 * nm + (size_t)u->side * nm + k;

                e->nulls[vi] = c->null;
                e->vals[vi] = c->null ? 0 : m->meas_type[k] == SQL_T_NUM ? c->d : (double)c->i;
        }
        return 0;
}

struct sql_sink coll_reconcile_sink(struct reconcile_engine *e, enum reconcile_side side)
{
        return (struct sql_sink){ .begin = reconcile_begin, .row = reconcile_row,
                                  .ud = &e->ud[side] };
}

/* 0 equal, 1 within tolerance, 2 mismatch. */
static int reconcile_judge(const struct reconcile_tol *t, bool an, double a, bool bn, double b)
{
        double d, lim, slack;

        if (an || bn)
                return an && bn ? 0 : 2;
        if (a == b)
                return 0;
        d = fabs(a - b);
        if (isnan(d))
                return 2;
        lim = !t ? 0 : t->kind == REC_TOL_PCT ? fabs(b) * t->v / 100.0 : t->v;
        slack = REC_SLACK * fmax(fabs(a), fabs(b));
        return d <= lim + slack ? 1 : 2;
}

/* Sorts buckets by key: a bottom-up merge sort, because qsort has no
 * context argument and the key bytes live in the data. */
static void reconcile_sort(struct reconcile_bucket *v, size_t n, const char *keys)
{
        struct reconcile_bucket *tmp = xmalloc((n ? n : 1) * sizeof *tmp), *a = v, *b = tmp, *t;

        for (size_t w = 1; w < n; w *= 2) {
                for (size_t lo = 0; lo < n; lo += 2 * w) {
                        size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
                        size_t i = lo, j = mid, o = lo;

                        while (i < mid && j < hi) {
                                const struct reconcile_bucket *x = &a[i], *y = &a[j];

                                if (reconcile_key_cmp(keys + y->key_off, y->key_len,
                                                      keys + x->key_off,
                                                      x->key_len) < 0)
                                        b[o++] = a[j++];
                                else
                                        b[o++] = a[i++];
                        }
                        while (i < mid)
                                b[o++] = a[i++];
                        while (j < hi)
                                b[o++] = a[j++];
                }
                t = a;
                a = b;
                b = t;
        }
        if (a != v)
                memcpy(v, a, n * sizeof *v);
        free(tmp);
}

/* Orders candidates for "worst": higher is worse. */
struct rec_badness {
        int    cls;                     /* 2 mismatch, 1 within */
        bool   inf;                     /* NULL vs value, or a zero batch */
        double pct, abs;
};

static bool reconcile_worse(const struct rec_badness *a, const struct rec_badness *b)
{
        if (a->cls != b->cls)
                return a->cls > b->cls;
        if (a->inf != b->inf)
                return a->inf;
        if (a->pct != b->pct)
                return a->pct > b->pct;
        return a->abs > b->abs;
}

struct reconcile_data *coll_reconcile_finish(struct reconcile_engine *e, int64_t now_ms,
                                             struct err *err)
{
        const struct reconcile_spec *sp = e->spec;
        size_t nm = sp->n_measures, nb = 0;
        struct reconcile_data *d;
        struct rec_badness best = { 0 };

        for (int s = 0; s < 2; s++)
                if (!e->side[s].begun) {
                        err_set(err, EPROTO, "the %s query returned no result", rec_side_name[s]);
                        return NULL;
                }
        d = xcalloc(1, sizeof *d);
        d->n_keys = sp->n_keys;
        d->key_names = xcalloc(sp->n_keys + 1, sizeof *d->key_names);
        d->key_kinds = xcalloc(sp->n_keys + 1, sizeof *d->key_kinds);
        for (size_t k = 0; k < sp->n_keys; k++) {
                d->key_names[k] = xstrdup(sp->keys[k]);
                d->key_kinds[k] = e->side[0].kinds[k];
        }
        d->n_measures = nm;
        d->measures = xcalloc(nm + 1, sizeof *d->measures);
        for (size_t k = 0; k < nm; k++)
                d->measures[k] = xstrdup(sp->measures[k]);
        d->now_ms = now_ms;
        d->settle_ms = sp->settle_ms;
        d->rows[0] = e->side[0].rows;
        d->rows[1] = e->side[1].rows;
        memcpy(d->dup_keys, e->dup_keys, sizeof d->dup_keys);
        d->n_dup_keys = e->n_dup_keys;
        ring_init(&d->hist);

        /* Ownership of the arena and the values moves to the data. */
        d->keys = e->arena;
        d->vals = e->vals;
        d->nulls = e->nulls;
        e->arena = NULL;
        e->vals = NULL;
        e->nulls = NULL;
        d->buckets = xcalloc(e->n ? e->n : 1, sizeof *d->buckets);
        for (size_t i = 0; i < e->n; i++) {
                const struct rec_ent *en = &e->ents[i];
                struct reconcile_bucket *b;

                if (en->dup[0] || en->dup[1]) {
                        d->duplicated++;
                        continue;
                }
                b = &d->buckets[nb++];
                b->key_off = en->key_off;
                b->key_len = en->key_len;
                b->t_ms = en->t_ms;
                b->vi = (uint32_t)(i * 2 * nm);
                b->seen = en->seen;
                if (sp->settle_ms > 0 && en->t_ms != INT64_MIN && now_ms - en->t_ms < sp->settle_ms) {
                        b->cls = REC_IN_FLIGHT;
                        d->in_flight++;
                } else if (en->seen == 2) {
                        b->cls = REC_MISSING_IN_SPEED;
                        d->missing_in_speed++;
                } else if (en->seen == 1) {
                        b->cls = REC_MISSING_IN_BATCH;
                        d->missing_in_batch++;
                } else {
                        int worst = 0;

                        for (size_t m = 0; m < nm; m++) {
                                size_t vs = b->vi + m, vb = b->vi + nm + m;
                                int j = reconcile_judge(sp->tol ? &sp->tol[m] : NULL, d->nulls[vs],
                                                        d->vals[vs], d->nulls[vb], d->vals[vb]);

                                if (j > worst)
                                        worst = j;
                        }
                        b->cls = worst == 2 ? REC_MISMATCH : worst == 1 ? REC_WITHIN : REC_MATCH;
                        d->compared++;
                        if (worst == 2)
                                d->mismatched++;
                        else if (worst == 1)
                                d->within++;
                        else
                                d->matched++;
                }
        }
        d->n_buckets = nb;
        reconcile_sort(d->buckets, nb, d->keys);

        for (size_t i = 0; i < nb; i++) {
                const struct reconcile_bucket *b = &d->buckets[i];

                if (b->cls != REC_MISMATCH && b->cls != REC_WITHIN)
                        continue;
                for (size_t m = 0; m < nm; m++) {
                        size_t vs = b->vi + m, vb = b->vi + nm + m;
                        struct rec_badness x = { 0 };
                        int j = reconcile_judge(sp->tol ? &sp->tol[m] : NULL, d->nulls[vs],
                                                d->vals[vs],
                                                d->nulls[vb], d->vals[vb]);

                        if (j == 0)
                                continue;
                        x.cls = j;
                        if (d->nulls[vs] || d->nulls[vb] || d->vals[vb] == 0) {
                                x.inf = true;
                        } else {
                                x.abs = fabs(d->vals[vs] - d->vals[vb]);
                                x.pct = x.abs / fabs(d->vals[vb]);
                        }
                        if (!d->has_worst || reconcile_worse(&x, &best)) {
                                best = x;
                                d->has_worst = true;
                                d->worst_bucket = i;
                                d->worst_measure = m;
                        }
                }
        }
        return d;
}

void reconcile_data_free(struct reconcile_data *d)
{
        if (!d)
                return;
        for (size_t k = 0; k < d->n_keys; k++)
                free(d->key_names[k]);
        for (size_t k = 0; k < d->n_measures; k++)
                free(d->measures[k]);
        free(d->key_names);
        free(d->key_kinds);
        free(d->measures);
        free(d->buckets);
        free(d->keys);
        free(d->vals);
        free(d->nulls);
        free(d);
}

/* ------------------------------------------------------------------------
 * Readers (pure)
 */

void coll_reconcile_key_text(const struct reconcile_data *d, const struct reconcile_bucket *b,
                             char *buf, size_t n)
{
        const char *p = d->keys + b->key_off;
        size_t i = 0, o = 0;

        if (n)
                buf[0] = '\0';
        for (size_t k = 0; i < b->key_len && o + 1 < n; k++) {
                struct rec_comp c;
                char v[64];
                int w;

                i += reconcile_comp_read(p + i, &c);
                switch (c.tag) {
                case REC_TAG_TIME:
                        reconcile_fmt_time(c.t, v, sizeof v);
                        w = snprintf(buf + o, n - o, "%s%s", k ? " | " : "", v);
                        break;
                case REC_TAG_NUM:
                case REC_TAG_TEXT:
                        w = snprintf(buf + o, n - o, "%s%.*s", k ? " | " : "", (int)c.n, c.s);
                        break;
                case REC_TAG_BOOL:
                        w = snprintf(buf + o, n - o, "%s%s", k ? " | " : "", c.b ? "true" : "false");
                        break;
                default:
                        w = snprintf(buf + o, n - o, "%sNULL", k ? " | " : "");
                        break;
                }
                if (w < 0)
                        break;
                o += (size_t)w;
                if (o >= n)
                        o = n - 1;
        }
        /* Text keys may hold control characters; they are not for screens. */
        for (size_t j = 0; j < o; j++)
                if ((unsigned char)buf[j] < 0x20)
                        buf[j] = ' ';
}

bool coll_reconcile_value(const struct reconcile_data *d, const struct reconcile_bucket *b,
                          enum reconcile_side side, size_t m, double *v, bool *is_null)
{
        size_t vi = b->vi + (size_t)side * d->n_measures + m;

        if (is_null)
                *is_null = false;
        if (!(b->seen & (1u << side)) || m >= d->n_measures)
                return false;
        if (d->nulls[vi]) {
                if (is_null)
                        *is_null = true;
                return false;
        }
        *v = d->vals[vi];
        return true;
}

/* A double cut to `sig` significant digits, so that 1005.01 - 1000 prints
 * as 5.01 and not 5.0099999999999909. */
static double reconcile_clean(double x, int sig)
{
        char b[64];

        if (!isfinite(x) || x == 0)
                return x == 0 ? 0 : x;
        snprintf(b, sizeof b, "%.*g", sig, x);
        return strtod(b, NULL);
}

bool coll_reconcile_delta(const struct reconcile_data *d, const struct reconcile_bucket *b,
                          size_t m, double *delta, double *pct, bool *has_pct)
{
        double s, t;

        *has_pct = false;
        if (!coll_reconcile_value(d, b, REC_SPEED, m, &s, NULL) ||
            !coll_reconcile_value(d, b, REC_BATCH, m, &t, NULL))
                return false;
        *delta = reconcile_clean(s - t, 12);
        if (t != 0) {
                *pct = reconcile_clean(*delta / fabs(t) * 100.0, 10);
                *has_pct = true;
        }
        return true;
}

/* ------------------------------------------------------------------------
 * JSON (pure)
 */

static cJSON *reconcile_json_key(const struct reconcile_data *d, const struct reconcile_bucket *b)
{
        cJSON *o = cJSON_CreateObject();
        const char *p = d->keys + b->key_off;
        size_t i = 0;

        for (size_t k = 0; k < d->n_keys && i < b->key_len; k++) {
                struct rec_comp c;
                char v[600];

                i += reconcile_comp_read(p + i, &c);
                switch (c.tag) {
                case REC_TAG_TIME:
                        reconcile_fmt_time(c.t, v, sizeof v);
                        cJSON_AddStringToObject(o, d->key_names[k], v);
                        break;
                case REC_TAG_NUM:
                        /* The exact decimal text is a valid JSON number
                         * (NaN and infinities, which are not, go as text). */
                        snprintf(v, sizeof v, "%.*s", (int)c.n, c.s);
                        if (isfinite(c.d))
                                cJSON_AddRawToObject(o, d->key_names[k], v);
                        else
                                cJSON_AddStringToObject(o, d->key_names[k], v);
                        break;
                case REC_TAG_TEXT: {
                        char *s = xstrndup(c.s, c.n);

                        cJSON_AddStringToObject(o, d->key_names[k], s);
                        free(s);
                        break;
                }
                case REC_TAG_BOOL:
                        cJSON_AddBoolToObject(o, d->key_names[k], c.b);
                        break;
                default:
                        cJSON_AddNullToObject(o, d->key_names[k]);
                        break;
                }
        }
        return o;
}

static void reconcile_json_side(cJSON *o, const char *k, const struct reconcile_data *d,
                                const struct reconcile_bucket *b, enum reconcile_side side)
{
        cJSON *s;

        if (!(b->seen & (1u << side))) {
                cJSON_AddItemToObjectCS(o, k, cJSON_CreateNull());
                return;
        }
        s = cJSON_CreateObject();
        cJSON_AddItemToObjectCS(o, k, s);
        for (size_t m = 0; m < d->n_measures; m++) {
                double v = 0;
                bool have = coll_reconcile_value(d, b, side, m, &v, NULL);

                json_add_num(s, d->measures[m], have, v);
        }
}

static void reconcile_to_json(const void *data, struct cJSON *obj)
{
        const struct reconcile_data *d = data;
        cJSON *arr;

        cJSON_AddNumberToObject(obj, "compared", (double)d->compared);
        cJSON_AddNumberToObject(obj, "mismatched", (double)d->mismatched);
        cJSON_AddNumberToObject(obj, "missing_in_speed", (double)d->missing_in_speed);
        cJSON_AddNumberToObject(obj, "missing_in_batch", (double)d->missing_in_batch);
        cJSON_AddNumberToObject(obj, "in_flight", (double)d->in_flight);
        if (d->has_worst) {
                const struct reconcile_bucket *b = &d->buckets[d->worst_bucket];
                size_t m = d->worst_measure;
                cJSON *w = cJSON_AddObjectToObject(obj, "worst");
                double s = 0, t = 0, delta = 0, pct = 0;
                bool hs = coll_reconcile_value(d, b, REC_SPEED, m, &s, NULL);
                bool ht = coll_reconcile_value(d, b, REC_BATCH, m, &t, NULL);
                bool hp = false, hd = coll_reconcile_delta(d, b, m, &delta, &pct, &hp);

                cJSON_AddItemToObject(w, "key", reconcile_json_key(d, b));
                cJSON_AddStringToObject(w, "measure", d->measures[m]);
                json_add_num(w, "speed", hs, s);
                json_add_num(w, "batch", ht, t);
                json_add_num(w, "delta", hd, delta);
                json_add_num(w, "delta_pct", hp, pct);
        } else {
                cJSON_AddNullToObject(obj, "worst");
        }
        arr = cJSON_AddArrayToObject(obj, "buckets");
        for (size_t i = 0; i < d->n_buckets; i++) {
                const struct reconcile_bucket *b = &d->buckets[i];
                cJSON *o = cJSON_CreateObject();
                char *txt;

                cJSON_AddItemToObjectCS(o, "key", reconcile_json_key(d, b));
                reconcile_json_side(o, "speed", d, b, REC_SPEED);
                reconcile_json_side(o, "batch", d, b, REC_BATCH);
                cJSON_AddItemToObjectCS(o, "class",
                                        cJSON_CreateStringReference(coll_reconcile_class_name(b->cls)));
                /* A big check has hundreds of thousands of buckets: keep
                 * each as one printed (raw) node instead of a tree of ten,
                 * which prints the same and takes a fifth of the memory. */
                txt = cJSON_PrintUnformatted(o);
                cJSON_Delete(o);
                cJSON_AddItemToArray(arr, cJSON_CreateRaw(txt));
                cJSON_free(txt);
        }
}

/* ------------------------------------------------------------------------
 * collector_ops
 */

static int reconcile_validate(const struct source_cfg *src, struct err *err)
{
        const struct reconcile_cfg *c = src->kind_cfg;
        const struct reconcile_side_cfg *sides[2] = { &c->speed, &c->batch };
        struct reconcile_tol t;

        for (int s = 0; s < 2; s++) {
                const struct source_cfg *ref = sides[s]->source.src;

                if (ref && !sql_kind_queryable(ref->kind)) {
                        char kinds[96] = "";

                        for (size_t i = 0; sql_kinds[i]; i++) {
                                size_t l = strlen(kinds);

                                snprintf(kinds + l, sizeof kinds - l, "%s%s",
                                         i ? (sql_kinds[i + 1] ? ", " : " or ") : "", sql_kinds[i]);
                        }
                        err_set(err, EINVAL, "%s.source: \"%s\" is a %s source, which cannot run "
                                "queries (use a %s source)", rec_side_name[s], ref->name,
                                ref->kind, kinds);
                        return -1;
                }
        }
        if (c->key.n == 0) {
                err_set(err, EINVAL, "key: list at least one key column");
                return -1;
        }
        if (c->measures.n == 0) {
                err_set(err, EINVAL, "measures: list at least one measure column");
                return -1;
        }
        for (size_t i = 0; i < c->key.n + c->measures.n; i++)
                for (size_t j = i + 1; j < c->key.n + c->measures.n; j++) {
                        const char *a = i < c->key.n ? c->key.v[i] : c->measures.v[i - c->key.n];
                        const char *b = j < c->key.n ? c->key.v[j] : c->measures.v[j - c->key.n];

                        if (strcasecmp(a, b) == 0) {
                                err_set(err, EINVAL, "column \"%s\" is listed twice in key and "
                                        "measures", a);
                                return -1;
                        }
                }
        for (size_t i = 0; i < c->tolerance.n; i++) {
                bool found = false;

                for (size_t m = 0; m < c->measures.n; m++)
                        found = found || strcmp(c->measures.v[m], c->tolerance.keys[i]) == 0;
                if (!found) {
                        err_set(err, EINVAL, "tolerance: \"%s\" is not one of the measures",
                                c->tolerance.keys[i]);
                        return -1;
                }
                if (coll_reconcile_tol_parse(c->tolerance.vals[i], &t, err) < 0) {
                        char m[256];

                        str_copy(m, err->msg, sizeof m);
                        err_set(err, EINVAL, "tolerance.%s: %s", c->tolerance.keys[i], m);
                        return -1;
                }
        }
        if (c->max_rows < 0) {
                err_set(err, EINVAL, "max_rows must be positive");
                return -1;
        }
        return 0;
}

struct rec_state {
        const struct source_cfg *src;
        const struct reconcile_cfg *cfg;
        struct reconcile_spec spec;
        struct reconcile_tol *tol;
        struct sql_conn *conn[2];
        struct ring hist;
};

static void *reconcile_create(const struct source_cfg *src)
{
        struct rec_state *st = xcalloc(1, sizeof *st);
        const struct reconcile_cfg *c = src->kind_cfg;

        st->src = src;
        st->cfg = c;
        st->tol = xcalloc(c->measures.n + 1, sizeof *st->tol);
        for (size_t m = 0; m < c->measures.n; m++)
                for (size_t i = 0; i < c->tolerance.n; i++)
                        if (strcmp(c->tolerance.keys[i], c->measures.v[m]) == 0)
                                coll_reconcile_tol_parse(c->tolerance.vals[i], &st->tol[m], NULL);
        st->spec.keys = (const char *const *)c->key.v;
        st->spec.n_keys = c->key.n;
        st->spec.measures = (const char *const *)c->measures.v;
        st->spec.n_measures = c->measures.n;
        st->spec.tol = st->tol;
        st->spec.settle_ms = c->settle_ms;
        st->spec.max_rows = c->max_rows > 0 ? (size_t)c->max_rows : REC_MAX_ROWS_DEFAULT;
        st->conn[REC_SPEED] = sql_conn_new(c->speed.source.src, src->timeout_ms);
        st->conn[REC_BATCH] = sql_conn_new(c->batch.source.src, src->timeout_ms);
        ring_init(&st->hist);
        return st;
}

static void reconcile_destroy(void *state)
{
        struct rec_state *st = state;

        if (!st)
                return;
        sql_conn_free(st->conn[0]);
        sql_conn_free(st->conn[1]);
        free(st->tol);
        free(st);
}

static enum coll_status reconcile_poll(void *state, const struct coll_ctx *ctx, void **data,
                                       struct err *err)
{
        struct rec_state *st = state;
        const struct reconcile_side_cfg *sides[2] = { &st->cfg->speed, &st->cfg->batch };
        struct reconcile_engine *e = coll_reconcile_engine_new(&st->spec);
        struct reconcile_data *d;
        int64_t now = clock_wall_ms();
        struct err e2;

        *data = NULL;
        for (int s = 0; s < 2; s++) {
                struct sql_sink sink = coll_reconcile_sink(e, (enum reconcile_side)s);

                err_clear(&e2);
                if (!st->conn[s]) {
                        err_set(err, EINVAL, "%s source %s cannot run queries", rec_side_name[s],
                                sides[s]->source.name);
                        coll_reconcile_engine_free(e);
                        return COLL_DOWN;
                }
                if (sql_conn_run(st->conn[s], ctx, sides[s]->query, &sink, &e2) < 0) {
                        err_set(err, e2.code, "%s query on %s: %s", rec_side_name[s],
                                sides[s]->source.name, e2.msg);
                        coll_reconcile_engine_free(e);
                        return COLL_DOWN;
                }
        }
        d = coll_reconcile_finish(e, now, err);
        coll_reconcile_engine_free(e);
        if (!d)
                return COLL_DOWN;
        ring_push(&st->hist, ctx->now_mono, (double)d->mismatched);
        d->hist = st->hist;
        *data = d;
        if (d->duplicated) {
                char list[200] = "";

                for (size_t i = 0; i < d->n_dup_keys; i++) {
                        size_t l = strlen(list);

                        snprintf(list + l, sizeof list - l, "%s%s", i ? "; " : "", d->dup_keys[i]);
                }
                err_set(err, EEXIST, "%zu duplicated key%s not compared (%s%s): a query returns "
                        "more than one row per key", d->duplicated, d->duplicated == 1 ? "" : "s",
                        list, d->duplicated > d->n_dup_keys ? "; ..." : "");
                return COLL_DEGRADED;
        }
        return COLL_OK;
}

static void reconcile_data_free_op(void *data)
{
        reconcile_data_free(data);
}

static void reconcile_alerts(const struct source_cfg *src, const void *data, struct alert_list *out)
{
        const struct reconcile_data *d = data;

        health_check(out, src, "mismatched", "", (double)d->mismatched, "mismatched buckets");
        health_check(out, src, "missing", "", (double)(d->missing_in_speed + d->missing_in_batch),
                     "missing buckets");
}

static double reconcile_key_metric(const void *data)
{
        return (double)((const struct reconcile_data *)data)->mismatched;
}

static void reconcile_summary(const void *data, char *buf, size_t n)
{
        const struct reconcile_data *d = data;

        snprintf(buf, n, "%zu mismatched, %zu missing of %zu compared (%zu in flight)",
                 d->mismatched, d->missing_in_speed + d->missing_in_batch, d->compared,
                 d->in_flight);
}

const struct collector_ops coll_reconcile_ops = {
        .name = "reconcile",
        .title = "Reconciliation",
        .default_interval_ms = 5 * 60 * 1000,
        .default_timeout_ms = 60 * 1000,
        .keys = rec_keys,
        .cfg_size = sizeof(struct reconcile_cfg),
        .thresholds = rec_thresholds,
        .validate = reconcile_validate,
        .create = reconcile_create,
        .destroy = reconcile_destroy,
        .poll = reconcile_poll,
        .data_free = reconcile_data_free_op,
        .to_json = reconcile_to_json,
        .alerts = reconcile_alerts,
        .key_metric = reconcile_key_metric,
        .summary = reconcile_summary,
        .key_metric_name = "mismatched buckets",
        .key_metric_unit = THR_COUNT,
        .metrics = reconcile_metrics,
};
