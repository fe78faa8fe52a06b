/*
 * config: lambdaops.yaml → struct config (see config.h for the contract).
 *
 * Design. Loading runs in two passes on the main thread, before any other
 * thread exists. Pass one drives libyaml's event parser and builds a small
 * private tree (struct ynode) in which every node keeps its start mark, so
 * that any later message can say FILE:LINE:COL (1-based). Everything YAML can
 * express but we do not want is refused while the tree is built: anchors and
 * aliases, tags, several documents, NUL characters, keys that are not plain
 * strings, duplicate keys in one mapping and nesting deeper than
 * CFG_MAX_DEPTH (config_yaml.c). Pass two walks the tree against tables: the
 * fixed top-level and per-source keys here, and each kind's `cfg_key` and
 * `threshold_def` tables and its own top-level keys (config_keys) from its
 * collector_ops, so a new collector kind needs no code in this file. The first problem found stops the load; unknown names get a
 * "did you mean" from the same candidate lists that are printed otherwise.
 *
 * Secrets never pass through here: *_env / *_file keys are stored as the
 * variable name or path, and config_secret_resolve() reads them when a
 * collector connects. Values of string keys are never echoed in messages
 * (a DSN may hold a password); only names, durations, sizes and booleans are.
 *
 * The result is owned by the caller and immutable afterwards; any thread may
 * read it. No state is kept between calls.
 */
#include "core/config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "core/collector.h"
#include "core/fsfile.h"
#include "core/util.h"
#include "core/config_internal.h"

#define MAX_CANDS       64              /* names offered by "did you mean" */

/* Bounds of the common durations, in ms. */
#define REFRESH_MIN     100
#define REFRESH_MAX     (3600 * 1000)
#define INTERVAL_MIN    100
#define INTERVAL_MAX    (24 * 3600 * 1000)
#define TIMEOUT_MIN     1
#define TIMEOUT_MAX     (10 * 60 * 1000)
#define LIFE_MAX        (7LL * 24 * 3600 * 1000)        /* for, keep_firing_for */
#define LIFE_UNSET      (-1)

/* --- names and suggestions ------------------------------------------------ */

struct cands {
        const char *v[MAX_CANDS];
        size_t n;
};

static void config_cands_add(struct cands *c, const char *s)
{
        if (c->n < MAX_CANDS)
                c->v[c->n++] = s;
}

/* The candidate closest to `in`, or NULL when none is close: an edit
 * distance of at most 2 (or a third of the candidate's length), smaller than
 * both lengths; failing that, one being a prefix of the other. */
static const char *config_cands_closest(const struct cands *c, const char *in)
{
        const char *best = NULL;
        int best_score = 1000;
        size_t li = strlen(in);

        for (size_t i = 0; i < c->n; i++) {
                size_t lc = strlen(c->v[i]);
                int d = str_edit_distance(in, c->v[i]);
                int lim = (int)lc / 3 > 2 ? (int)lc / 3 : 2;
                int score = 1000;

                if (d <= lim && (size_t)d < li && (size_t)d < lc)
                        score = d;
                else if (li >= 3 && lc >= 3 && strncmp(in, c->v[i], li < lc ? li : lc) == 0)
                        score = 100;
                if (score < best_score) {
                        best_score = score;
                        best = c->v[i];
                }
        }
        return best;
}

static const char *config_cands_list(const struct cands *c, char *buf, size_t n)
{
        size_t o = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < c->n && o < n; i++) {
                int w = snprintf(buf + o, n - o, "%s%s", i ? ", " : "", c->v[i]);
                if (w < 0)
                        break;
                o += (size_t)w;
        }
        return buf;
}

/* `(did you mean "x"?)` when one is close, else `(LABEL: a, b, c)`. */
static const char *config_suggest(const struct cands *c, const char *in, const char *label,
                                  char *buf, size_t n)
{
        const char *m = config_cands_closest(c, in);
        char list[192];

        if (m)
                snprintf(buf, n, "(did you mean \"%s\"?)", m);
        else
                snprintf(buf, n, "(%s: %s)", label, config_cands_list(c, list, sizeof list));
        return buf;
}

static void config_kinds_cands(struct cands *c)
{
        c->n = 0;
        for (size_t i = 0; collector_registry[i]; i++)
                config_cands_add(c, collector_registry[i]->name);
}

/* --- typed values ------------------------------------------------------------ */

/* A non-null scalar, or an error "KEY: expected WHAT, got ...". */
static int config_want_scalar(struct pctx *p, const char *key, const struct ynode *v,
                              const char *what)
{
        if (v->type != YN_SCALAR)
                return perr(p, v, "%s: expected %s, got %s", key, what, config_ynode_what(v));
        if (config_ynode_null(v))
                return perr(p, v, "%s: missing value", key);
        return 0;
}

/* A non-empty string, copied. */
static int config_get_str(struct pctx *p, const char *key, const struct ynode *v, char **out)
{
        if (config_want_scalar(p, key, v, "a string") < 0)
                return -1;
        if (v->len == 0)
                return perr(p, v, "%s: must not be empty", key);
        free(*out);
        *out = xstrdup(v->str);
        return 0;
}

static int config_get_bool(struct pctx *p, const char *key, const struct ynode *v, bool *out)
{
        char b[64];

        if (config_want_scalar(p, key, v, "true or false") < 0)
                return -1;
        if (v->plain && strcmp(v->str, "true") == 0)
                *out = true;
        else if (v->plain && strcmp(v->str, "false") == 0)
                *out = false;
        else if (!v->plain && (strcmp(v->str, "true") == 0 || strcmp(v->str, "false") == 0))
                return perr(p, v, "%s: expected true or false without quotes", key);
        else
                return perr(p, v, "%s: expected true or false, got \"%s\"", key,
                            config_show(v->str, b, sizeof b));
        return 0;
}

static int config_get_int(struct pctx *p, const char *key, const struct ynode *v, int64_t *out)
{
        const char *c;
        char *end;
        char b[64];
        long long n;

        if (config_want_scalar(p, key, v, "an integer") < 0)
                return -1;
        c = v->str[0] == '-' ? v->str + 1 : v->str;
        if (*c < '0' || *c > '9' || strspn(c, "0123456789") != strlen(c))
                return perr(p, v, "%s: expected an integer, got \"%s\"", key,
                            config_show(v->str, b, sizeof b));
        errno = 0;
        n = strtoll(v->str, &end, 10);
        if (errno == ERANGE)
                return perr(p, v, "%s: integer \"%s\" is too large", key,
                            config_show(v->str, b, sizeof b));
        *out = n;
        return 0;
}

static int config_get_quantity(struct pctx *p, const char *key, const struct ynode *v, bool is_size,
                               int64_t *out)
{
        struct err e;

        if (config_want_scalar(p, key, v, is_size ? "a size" : "a duration") < 0)
                return -1;
        if (config_parse_quantity(v->str, is_size, out, &e) < 0)
                return perr(p, v, "%s: %s", key, e.msg);
        return 0;
}

/* A bound as it would be written in the file: "100ms", "10m", "1d". */
static void config_fmt_bound(int64_t ms, char *buf, size_t n)
{
        for (size_t i = LO_ARRAY_LEN(config_dur_units) - 1; i-- > 0;)
                if (ms % config_dur_units[i].mult == 0) {
                        snprintf(buf, n, "%lld%s", (long long)(ms / config_dur_units[i].mult),
                                 config_dur_units[i].name);
                        return;
                }
}

static int config_get_duration_in(struct pctx *p, const char *key, const struct ynode *v,
                                  int64_t lo, int64_t hi, int64_t *out)
{
        char a[32], b[32], s[64];

        if (config_get_quantity(p, key, v, false, out) < 0)
                return -1;
        if (*out < lo || *out > hi) {
                config_fmt_bound(lo, a, sizeof a);
                config_fmt_bound(hi, b, sizeof b);
                return perr(p, v, "%s: must be between %s and %s (got \"%s\")", key, a, b,
                            config_show(v->str, s, sizeof s));
        }
        return 0;
}

static int config_get_strlist(struct pctx *p, const char *key, const struct ynode *v,
                              struct cfg_strlist *out)
{
        if (v->type != YN_SEQ) {
                if (config_ynode_null(v))
                        return perr(p, v, "%s: missing value", key);
                return perr(p, v, "%s: expected a list, got %s", key, config_ynode_what(v));
        }
        for (size_t i = 0; i < out->n; i++)
                free(out->v[i]);
        free(out->v);
        out->v = xcalloc(v->n ? v->n : 1, sizeof *out->v);
        out->n = 0;
        for (size_t i = 0; i < v->n; i++) {
                char k[96];

                snprintf(k, sizeof k, "%s[%zu]", key, i);
                if (config_get_str(p, k, v->kids[i], &out->v[out->n]) < 0)
                        return -1;
                out->n++;
        }
        return 0;
}

/* --- thresholds ---------------------------------------------------------------- */

static void config_fmt_thr(const struct threshold_def *d, double v, char *buf, size_t n)
{
        if (isnan(v))
                snprintf(buf, n, "off");
        else if (d->unit == THR_BYTES)
                fmt_bytes(v, buf, n);
        else if (d->unit == THR_MS)
                fmt_duration_ms((int64_t)v, buf, n);
        else
                snprintf(buf, n, "%g", v);
}

/* One warn or crit value: off/null, or a number in the def's unit. */
static int config_thr_value(struct pctx *p, const struct threshold_def *d, const char *which,
                            const struct ynode *v, double *out)
{
        char key[96], b[64];
        int64_t q;

        snprintf(key, sizeof key, "%s.%s", d->name, which);
        if (config_ynode_off(v)) {
                *out = NAN;
                return 0;
        }
        switch (d->unit) {
        case THR_BYTES:
        case THR_MS:
                if (config_get_quantity(p, key, v, d->unit == THR_BYTES, &q) < 0)
                        return -1;
                *out = (double)q;
                return 0;
        case THR_COUNT:
        case THR_RATE:
        default:
                if (config_want_scalar(p, key, v, "a number") < 0)
                        return -1;
                if (config_parse_number(v->str, out) < 0)
                        return perr(p, v, "%s: expected a non-negative number, got \"%s\"", key,
                                    config_show(v->str, b, sizeof b));
                return 0;
        }
}

/* `for` and `keep_firing_for`: a duration from 0 to 7 days. */
static int config_get_life(struct pctx *p, const char *key, const struct ynode *v, int64_t *out)
{
        char s[64];

        if (config_get_quantity(p, key, v, false, out) < 0)
                return -1;
        if (*out > LIFE_MAX)
                return perr(p, v, "%s: must be at most 7d (got \"%s\")", key,
                            config_show(v->str, s, sizeof s));
        return 0;
}

static int config_thr_parse(struct pctx *p, const struct source_cfg *src, const struct ynode *m)
{
        const struct threshold_def *defs = src->ops->thresholds;
        struct cands tc = { .n = 0 },
                     wc = { .v = { "warn", "crit", "for", "keep_firing_for" }, .n = 4 };
        char b[64], s[192];

        if (config_ynode_null(m))
                return 0;
        if (m->type != YN_MAP)
                return perr(p, m, "thresholds: expected a mapping of metric: "
                            "{warn: X, crit: Y}, got %s", config_ynode_what(m));
        for (size_t i = 0; defs && defs[i].name; i++)
                config_cands_add(&tc, defs[i].name);
        for (size_t i = 0; i < m->n; i += 2) {
                const struct ynode *k = m->kids[i], *v = m->kids[i + 1];
                const struct threshold_def *d = NULL;
                struct threshold *t = NULL;
                bool def_warn = true, def_crit = true;
                char x[32], y[32];

                for (size_t j = 0; j < src->n_thresholds; j++)
                        if (strcmp(src->thresholds[j].def->name, k->str) == 0)
                                t = &src->thresholds[j];
                if (!t)
                        return perr(p, k, "unknown threshold \"%s\" for kind %s %s",
                                    config_show(k->str, b, sizeof b), src->ops->name,
                                    config_suggest(&tc, k->str, "known", s, sizeof s));
                d = t->def;
                if (config_ynode_off(v)) {
                        t->warn = t->crit = NAN;
                        continue;
                }
                if (v->type != YN_MAP)
                        return perr(p, v, "%s: expected {warn: X, crit: Y, for: D, "
                                    "keep_firing_for: D} or off, got %s", d->name,
                                    v->type == YN_SCALAR ? "a single value" : config_ynode_what(v));
                for (size_t j = 0; j < v->n; j += 2) {
                        const struct ynode *wk = v->kids[j], *wv = v->kids[j + 1];

                        if (strcmp(wk->str, "warn") == 0) {
                                if (config_thr_value(p, d, "warn", wv, &t->warn) < 0)
                                        return -1;
                                def_warn = false;
                        } else if (strcmp(wk->str, "crit") == 0) {
                                if (config_thr_value(p, d, "crit", wv, &t->crit) < 0)
                                        return -1;
                                def_crit = false;
                        } else if (strcmp(wk->str, "for") == 0 ||
                                   strcmp(wk->str, "keep_firing_for") == 0) {
                                char key[96];

                                snprintf(key, sizeof key, "%s.%s", d->name, wk->str);

                                struct alert_timing *tt = &src->thr_timing[t - src->thresholds];

                                if (config_get_life(p, key, wv, wk->str[0] == 'f' ? &tt->for_ms :
                                                    &tt->keep_firing_for_ms) < 0)
                                        return -1;
                        } else {
                                return perr(p, wk, "%s: unknown key \"%s\" %s", d->name,
                                            config_show(wk->str, b, sizeof b),
                                            config_suggest(&wc, wk->str, "valid keys", s,
                                                           sizeof s));
                        }
                }
                if (!isnan(t->warn) && !isnan(t->crit) && t->warn > t->crit) {
                        config_fmt_thr(d, t->warn, x, sizeof x);
                        config_fmt_thr(d, t->crit, y, sizeof y);
                        return perr(p, v, "%s: warn (%s%s) is above crit (%s%s)", d->name, x,
                                    def_warn ? ", the default" : "", y,
                                    def_crit ? ", the default" : "");
                }
        }
        return 0;
}

/* --- sources ---------------------------------------------------------------------- */

static const char *const common_keys[] = { "name", "kind", "interval", "timeout", "thresholds",
                                           "for", "keep_firing_for" };

static const struct ynode *config_map_get(const struct ynode *m, const char *key,
                                          const struct ynode **k)
{
        for (size_t i = 0; i < m->n; i += 2)
                if (strcmp(m->kids[i]->str, key) == 0) {
                        if (k)
                                *k = m->kids[i];
                        return m->kids[i + 1];
                }
        return NULL;
}

static bool config_name_ok(const char *s)
{
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
                        return false;
        return true;
}

static bool config_env_name_ok(const char *s)
{
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
                return false;
        for (s++; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '_'))
                        return false;
        return true;
}

static bool config_ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int config_map_value(struct pctx *p, const struct cfg_key *keys, const struct cfg_key *ck,
                            const char *label, const struct ynode *v, void *base);
static int config_maplist_value(struct pctx *p, const struct cfg_key *keys,
                                const struct cfg_key *ck, const char *label,
                                const struct ynode *v, void *base);

/* A key of the source's own mapping (not "speed.query", not "queries[]"). */
static bool config_key_top(const char *name)
{
        return !strpbrk(name, ".[");
}

/* A mapping of names to scalars, kept as text. */
static int config_get_strmap(struct pctx *p, const char *key, const struct ynode *v,
                             struct cfg_strmap *out)
{
        if (v->type != YN_MAP) {
                if (config_ynode_null(v))
                        return perr(p, v, "%s: missing value", key);
                return perr(p, v, "%s: expected a mapping, got %s", key, config_ynode_what(v));
        }
        for (size_t i = 0; i < out->n; i++) {
                free(out->keys[i]);
                free(out->vals[i]);
        }
        free(out->keys);
        free(out->vals);
        out->keys = xcalloc(v->n / 2 + 1, sizeof *out->keys);
        out->vals = xcalloc(v->n / 2 + 1, sizeof *out->vals);
        out->n = 0;
        for (size_t i = 0; i < v->n; i += 2) {
                char k[96], b[64];

                snprintf(k, sizeof k, "%s.%s", key, config_show(v->kids[i]->str, b, sizeof b));
                if (config_get_str(p, k, v->kids[i + 1], &out->vals[out->n]) < 0)
                        return -1;
                out->keys[out->n++] = xstrdup(v->kids[i]->str);
        }
        return 0;
}

/* One kind key into `base`: the kind cfg struct, or an element of a
 * CFG_MAPLIST. `keys` is the whole table (for the sub-keys of a CFG_MAP or
 * CFG_MAPLIST); `label` names the key in messages ("speed.query",
 * "queries[2].expr"). */
static int config_kind_value(struct pctx *p, const struct cfg_key *keys, const struct cfg_key *ck,
                             const char *label, const struct ynode *v, void *base_)
{
        char *base = base_;

        switch (ck->type) {
        case CFG_STR:
        case CFG_UNIQUE:
                return config_get_str(p, label, v, (char **)(void *)(base + ck->off));
        case CFG_PATH: {
                struct stat st;

                if (config_get_str(p, label, v, (char **)(void *)(base + ck->off)) < 0)
                        return -1;
                /* A missing file is the library's to report when it opens
                 * it (it may be mounted later), and so is a directory
                 * (some take a CA directory); a FIFO, a socket or a device
                 * would block that collector's thread, so it is refused. */
                if (stat(v->str, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
                        char b[64];

                        return perr(p, v, "%s: %s is %s; only a regular file is read", label,
                                    config_show(v->str, b, sizeof b),
                                    S_ISFIFO(st.st_mode) ? "a FIFO" :
                                    S_ISSOCK(st.st_mode) ? "a socket" : "a device");
                }
                return 0;
        }
        case CFG_SECRET_REF:
                if (config_get_str(p, label, v, (char **)(void *)(base + ck->off)) < 0)
                        return -1;
                /* Never echo the value: people do paste the password here. */
                if (config_ends_with(ck->name, "_env") && !config_env_name_ok(v->str))
                        return perr(p, v, "%s: expected the name of an environment variable "
                                    "(letters, digits and _), not the secret itself", label);
                return 0;
        case CFG_DURATION:
                return config_get_quantity(p, label, v, false, (int64_t *)(void *)(base + ck->off));
        case CFG_SIZE:
                return config_get_quantity(p, label, v, true, (int64_t *)(void *)(base + ck->off));
        case CFG_BOOL:
                return config_get_bool(p, label, v, (bool *)(void *)(base + ck->off));
        case CFG_INT:
                return config_get_int(p, label, v, (int64_t *)(void *)(base + ck->off));
        case CFG_STRLIST:
                return config_get_strlist(p, label, v,
                                          (struct cfg_strlist *)(void *)(base + ck->off));
        case CFG_MAP:
                return config_map_value(p, keys, ck, label, v, base);
        case CFG_MAPLIST:
                return config_maplist_value(p, keys, ck, label, v, base);
        case CFG_STRMAP:
                return config_get_strmap(p, label, v,
                                         (struct cfg_strmap *)(void *)(base + ck->off));
        case CFG_SOURCE: {
                struct cfg_source_ref *r = (void *)(base + ck->off);

                if (strstr(ck->name, "[]"))
                        break;  /* only the kind struct's references are resolved */
                if (config_get_str(p, label, v, &r->name) < 0)
                        return -1;
                r->line = v->line;
                r->col = v->col;
                return 0;
        }
        case CFG_ELEM:
                break;
        }
        return perr(p, v, "%s: unsupported key type", label);
}

/* The entry "<parent>.<name>" of the table, or NULL. */
static const struct cfg_key *config_sub_key(const struct cfg_key *keys, const char *parent,
                                            const char *name)
{
        size_t pl = strlen(parent);

        for (size_t i = 0; keys[i].name; i++)
                if (strncmp(keys[i].name, parent, pl) == 0 && keys[i].name[pl] == '.' &&
                    strcmp(keys[i].name + pl + 1, name) == 0)
                        return &keys[i];
        return NULL;
}

/* The direct sub-keys of `parent` ("speed.source" for "speed"), as names
 * after the dot, for "did you mean". */
static void config_sub_cands(const struct cfg_key *keys, const char *parent, struct cands *c)
{
        size_t pl = strlen(parent);

        c->n = 0;
        for (size_t i = 0; keys[i].name; i++)
                if (strncmp(keys[i].name, parent, pl) == 0 && keys[i].name[pl] == '.' &&
                    !strchr(keys[i].name + pl + 1, '.'))
                        config_cands_add(c, keys[i].name + pl + 1);
}

/* A mapping checked against the table's "<parent>.*" entries, values into
 * `base`. Shared by CFG_MAP (parent "speed") and the elements of a
 * CFG_MAPLIST (parent "queries[]"); `label` names the mapping in messages. */
static int config_sub_map(struct pctx *p, const struct cfg_key *keys, const char *parent,
                          const char *label, const struct ynode *v, void *base)
{
        struct cands sc = { .n = 0 };
        char b[64], s[224];

        if (v->type != YN_MAP)
                return perr(p, v, "%s: expected a mapping, got %s", label, config_ynode_what(v));
        config_sub_cands(keys, parent, &sc);
        for (size_t i = 0; i < v->n; i += 2) {
                const struct ynode *k = v->kids[i];
                const struct cfg_key *sk = config_sub_key(keys, parent, k->str);
                char sl[160];

                if (!sk)
                        return perr(p, k, "%s: unknown key \"%s\" %s", label,
                                    config_show(k->str, b, sizeof b),
                                    config_suggest(&sc, k->str, "valid keys", s, sizeof s));
                snprintf(sl, sizeof sl, "%s.%s", label, k->str);
                if (config_kind_value(p, keys, sk, sl, v->kids[i + 1], base) < 0)
                        return -1;
        }
        for (size_t i = 0; i < sc.n; i++) {
                const struct cfg_key *sk = config_sub_key(keys, parent, sc.v[i]);

                if (sk->required && !config_map_get(v, sc.v[i], NULL))
                        return perr(p, v, "%s: missing required key \"%s\"", label, sc.v[i]);
        }
        return 0;
}

/* A CFG_MAP key: a mapping checked against the table's "<key>.*" entries. */
static int config_map_value(struct pctx *p, const struct cfg_key *keys, const struct cfg_key *ck,
                            const char *label, const struct ynode *v, void *base)
{
        if (config_ynode_null(v))
                return perr(p, v, "%s: missing value", label);
        return config_sub_map(p, keys, ck->name, label, v, base);
}

/* The element size of the CFG_MAPLIST `list`: its "<list>[]" entry. */
static size_t config_elem_size(const struct cfg_key *keys, const char *list)
{
        size_t l = strlen(list);

        for (size_t i = 0; keys[i].name; i++)
                if (keys[i].type == CFG_ELEM && strncmp(keys[i].name, list, l) == 0 &&
                    strcmp(keys[i].name + l, "[]") == 0)
                        return keys[i].off;
        return 0;
}

/* A CFG_MAPLIST key: a list of mappings, each checked against the table's
 * "<key>[].*" entries into one element; CFG_UNIQUE values must differ. */
static int config_maplist_value(struct pctx *p, const struct cfg_key *keys,
                                const struct cfg_key *ck, const char *label,
                                const struct ynode *v, void *base)
{
        struct cfg_maplist *l = (void *)((char *)base + ck->off);
        size_t sz = config_elem_size(keys, ck->name);
        char parent[128], b[64];

        if (!sz || strlen(ck->name) + 3 > sizeof parent)
                return perr(p, v, "%s: unsupported key type", label);
        if (v->type != YN_SEQ) {
                if (config_ynode_null(v))
                        return perr(p, v, "%s: missing value", label);
                return perr(p, v, "%s: expected a list of mappings, got %s", label,
                            config_ynode_what(v));
        }
        snprintf(parent, sizeof parent, "%s[]", ck->name);
        /* Zeroed and counted at once, so config_free() cleans up any failure. */
        l->v = xcalloc(v->n ? v->n : 1, sz);
        l->n = v->n;
        for (size_t i = 0; i < v->n; i++) {
                char *el = (char *)l->v + i * sz, el_label[160];

                snprintf(el_label, sizeof el_label, "%s[%zu]", label, i);
                if (config_sub_map(p, keys, parent, el_label, v->kids[i], el) < 0)
                        return -1;
                for (size_t k = 0; keys[k].name; k++) {
                        const struct ynode *u, *first;
                        const char *mine, *sub;

                        if (keys[k].type != CFG_UNIQUE ||
                            strncmp(keys[k].name, parent, strlen(parent)) != 0 ||
                            keys[k].name[strlen(parent)] != '.' ||
                            strchr(keys[k].name + strlen(parent) + 1, '.'))
                                continue;
                        sub = keys[k].name + strlen(parent) + 1;
                        mine = *(char **)(void *)(el + keys[k].off);
                        for (size_t j = 0; mine && j < i; j++) {
                                const char *other = *(char **)(void *)((char *)l->v + j * sz +
                                                                       keys[k].off);

                                if (!other || strcmp(mine, other) != 0)
                                        continue;
                                u = config_map_get(v->kids[i], sub, NULL);
                                first = config_map_get(v->kids[j], sub, NULL);
                                return perr(p, u, "%s.%s: duplicate \"%s\" (first defined at "
                                            "line %d)", el_label, sub,
                                            config_show(mine, b, sizeof b), first->line);
                        }
                }
        }
        return 0;
}

static bool config_has_source_refs(const struct cfg_key *keys)
{
        for (size_t i = 0; keys && keys[i].name; i++)
                if (keys[i].type == CFG_SOURCE)
                        return true;
        return false;
}

/* "X_env" and "X_file" both set → error at whichever comes later. */
static int config_secret_pairs(struct pctx *p, const struct cfg_key *keys, const struct ynode *m)
{
        for (size_t i = 0; keys[i].name; i++) {
                const struct ynode *ke = NULL, *kf = NULL, *later;
                char stem[64], fname[80];
                size_t sl;

                if (keys[i].type != CFG_SECRET_REF || !config_ends_with(keys[i].name, "_env"))
                        continue;
                sl = strlen(keys[i].name) - 4;
                if (sl >= sizeof stem)
                        continue;
                memcpy(stem, keys[i].name, sl);
                stem[sl] = '\0';
                snprintf(fname, sizeof fname, "%s_file", stem);
                if (!config_map_get(m, keys[i].name, &ke) || !config_map_get(m, fname, &kf))
                        continue;
                later = ke->line > kf->line || (ke->line == kf->line && ke->col > kf->col)
                        ? ke : kf;
                return perr(p, later, "%s and %s are exclusive", keys[i].name, fname);
        }
        return 0;
}

/* The kind's own cross-key checks, reported at the source's start. */
static int config_source_validate(struct pctx *p, const struct source_cfg *src)
{
        struct err e;
        char b[64];

        if (!src->ops->validate)
                return 0;
        err_clear(&e);
        if (src->ops->validate(src, &e) < 0)
                return config_perr_at(p, src->line, src->col, "source \"%s\": %s",
                                      config_show(src->name, b, sizeof b),
                                      e.msg[0] ? e.msg : "invalid");
        return 0;
}

static int config_source_parse(struct pctx *p, struct config *c, const struct ynode *m)
{
        struct source_cfg *src = &c->sources[c->n_sources++];
        const struct ynode *nv, *kv;
        const struct cfg_key *keys;
        struct cands kc = { .n = 0 };
        char b[64], s[224];
        size_t nthr = 0;

        src->cfg = c;
        src->line = m->line;
        src->col = m->col;
        if (m->type != YN_MAP)
                return perr(p, m, "each source must be a mapping (name, kind, ...), got %s",
                            config_ynode_what(m));

        /* name and kind first: every later message depends on them. */
        nv = config_map_get(m, "name", NULL);
        if (!nv)
                return perr(p, m, "source is missing required key \"name\"");
        if (config_want_scalar(p, "name", nv, "a string") < 0)
                return -1;
        if (nv->len == 0)
                return perr(p, nv, "name: must not be empty");
        if (!config_name_ok(nv->str))
                return perr(p, nv, "name: invalid source name \"%s\" "
                            "(use letters, digits, '.', '_' and '-')",
                            config_show(nv->str, b, sizeof b));
        for (size_t i = 0; i + 1 < c->n_sources; i++)
                if (strcmp(c->sources[i].name, nv->str) == 0)
                        return perr(p, nv, "duplicate source name \"%s\" "
                                    "(first defined at line %d)", config_show(nv->str, b, sizeof b),
                                    c->sources[i].line);
        src->name = xstrdup(nv->str);

        config_kinds_cands(&kc);
        kv = config_map_get(m, "kind", NULL);
        if (!kv)
                return perr(p, m, "source \"%s\" is missing required key \"kind\" "
                            "(known kinds: %s)", config_show(src->name, b, sizeof b),
                            config_cands_list(&kc, s, sizeof s));
        if (config_want_scalar(p, "kind", kv, "a string") < 0)
                return -1;
        src->ops = collector_find(kv->str);
        if (!src->ops) {
                const char *m2 = config_cands_closest(&kc, kv->str);
                char l[160];

                config_cands_list(&kc, l, sizeof l);
                if (m2)
                        return perr(p, kv, "unknown kind \"%s\" (did you mean \"%s\"?); "
                                    "known kinds: %s", config_show(kv->str, b, sizeof b), m2, l);
                return perr(p, kv, "unknown kind \"%s\"; known kinds: %s",
                            config_show(kv->str, b, sizeof b), l);
        }
        src->kind = xstrdup(src->ops->name);

        /* Defaults. */
        keys = src->ops->keys;
        src->interval_ms = src->ops->default_interval_ms;
        src->timeout_ms = src->ops->default_timeout_ms;
        while (src->ops->thresholds && src->ops->thresholds[nthr].name)
                nthr++;
        src->thresholds = xcalloc(nthr ? nthr : 1, sizeof *src->thresholds);
        src->n_thresholds = nthr;
        for (size_t i = 0; i < nthr; i++) {
                src->thresholds[i].def = &src->ops->thresholds[i];
                src->thresholds[i].warn = src->ops->thresholds[i].warn;
                src->thresholds[i].crit = src->ops->thresholds[i].crit;
        }
        src->thr_timing = xcalloc(nthr ? nthr : 1, sizeof *src->thr_timing);
        for (size_t i = 0; i < nthr; i++)
                src->thr_timing[i].for_ms = src->thr_timing[i].keep_firing_for_ms = LIFE_UNSET;
        src->kind_cfg = xcalloc(1, src->ops->cfg_size ? src->ops->cfg_size : 1);

        kc.n = 0;
        for (size_t i = 0; i < LO_ARRAY_LEN(common_keys); i++)
                config_cands_add(&kc, common_keys[i]);
        for (size_t i = 0; keys && keys[i].name; i++)
                if (config_key_top(keys[i].name))
                        config_cands_add(&kc, keys[i].name);

        for (size_t i = 0; i < m->n; i += 2) {
                const struct ynode *k = m->kids[i], *v = m->kids[i + 1];
                const struct cfg_key *ck = NULL;

                if (strcmp(k->str, "name") == 0 || strcmp(k->str, "kind") == 0)
                        continue;
                if (strcmp(k->str, "interval") == 0) {
                        if (config_get_duration_in(p, "interval", v, INTERVAL_MIN, INTERVAL_MAX,
                                                   &src->interval_ms) < 0)
                                return -1;
                        continue;
                }
                if (strcmp(k->str, "timeout") == 0) {
                        if (config_get_duration_in(p, "timeout", v, TIMEOUT_MIN, TIMEOUT_MAX,
                                                   &src->timeout_ms) < 0)
                                return -1;
                        continue;
                }
                if (strcmp(k->str, "thresholds") == 0) {
                        if (config_thr_parse(p, src, v) < 0)
                                return -1;
                        continue;
                }
                if (strcmp(k->str, "for") == 0 || strcmp(k->str, "keep_firing_for") == 0) {
                        if (config_get_life(p, k->str, v, k->str[0] == 'f' ?
                                            &src->timing.for_ms :
                                            &src->timing.keep_firing_for_ms) < 0)
                                return -1;
                        continue;
                }
                for (size_t j = 0; keys && keys[j].name; j++)
                        if (strcmp(keys[j].name, k->str) == 0 && config_key_top(keys[j].name))
                                ck = &keys[j];
                if (!ck)
                        return perr(p, k, "unknown key \"%s\" for kind %s %s",
                                    config_show(k->str, b, sizeof b), src->kind,
                                    config_suggest(&kc, k->str, "valid keys", s, sizeof s));
                if (config_kind_value(p, keys, ck, ck->name, v, src->kind_cfg) < 0)
                        return -1;
        }

        /* A threshold without its own for/keep_firing_for takes the
         * source's, wherever in the mapping the source's keys were written. */
        for (size_t j = 0; j < src->n_thresholds; j++) {
                if (src->thr_timing[j].for_ms == LIFE_UNSET)
                        src->thr_timing[j].for_ms = src->timing.for_ms;
                if (src->thr_timing[j].keep_firing_for_ms == LIFE_UNSET)
                        src->thr_timing[j].keep_firing_for_ms = src->timing.keep_firing_for_ms;
        }
        for (size_t j = 0; keys && keys[j].name; j++)
                if (keys[j].required && config_key_top(keys[j].name) &&
                    !config_map_get(m, keys[j].name, NULL))
                        return perr(p, m, "source \"%s\" is missing required key \"%s\" (kind %s)",
                                    config_show(src->name, b, sizeof b), keys[j].name, src->kind);
        if (keys && config_secret_pairs(p, keys, m) < 0)
                return -1;
        /* With references to other sources, validate() waits until every
         * source is loaded (config_source_validate from config_build). */
        if (!config_has_source_refs(keys))
                return config_source_validate(p, src);
        return 0;
}

/* Resolves the source's CFG_SOURCE keys against every loaded source. */
static int config_source_resolve(struct pctx *p, struct config *c, struct source_cfg *src)
{
        const struct cfg_key *keys = src->ops->keys;
        struct cands nc = { .n = 0 };
        char b[64], s[224];

        for (size_t i = 0; i < c->n_sources; i++)
                config_cands_add(&nc, c->sources[i].name);
        for (size_t i = 0; keys && keys[i].name; i++) {
                struct cfg_source_ref *r;

                if (keys[i].type != CFG_SOURCE || strstr(keys[i].name, "[]"))
                        continue;
                r = (void *)((char *)src->kind_cfg + keys[i].off);
                if (!r->name)
                        continue;
                r->src = config_source(c, r->name);
                if (!r->src)
                        return config_perr_at(p, r->line, r->col, "%s: no source named \"%s\" %s",
                                              keys[i].name, config_show(r->name, b, sizeof b),
                                              config_suggest(&nc, r->name, "sources", s, sizeof s));
                if (r->src == src)
                        return config_perr_at(p, r->line, r->col,
                                              "%s: source \"%s\" cannot refer to itself",
                                              keys[i].name, config_show(r->name, b, sizeof b));
        }
        return 0;
}

/* --- top level ------------------------------------------------------------------------ */

/* The core's top-level keys; the kinds' own (collector_ops.config_keys)
 * come between the two parts in "did you mean". */
static const char *const top_keys_head[] = { "environment", "refresh", "theme", "read_only",
                                             "audit_log", "listen" };
static const char *const top_keys_tail[] = { "actions", "danger_contexts", "runbooks",
                                             "sources" };

/* The top-level `actions:` list, parsed with the kind-key machinery into
 * struct config (docs/actions.md, user-defined actions). */
static const struct cfg_key top_action_keys[] = {
        { "actions", CFG_MAPLIST, offsetof(struct config, actions), false, "user actions" },
        { "actions[]", CFG_ELEM, sizeof(struct cfg_action), false, NULL },
        { "actions[].name", CFG_UNIQUE, offsetof(struct cfg_action, name), true,
          "the action's name (the `act` word)" },
        { "actions[].title", CFG_STR, offsetof(struct cfg_action, title), false,
          "what the dialog says" },
        { "actions[].scope", CFG_STR, offsetof(struct cfg_action, scope), true,
          "what the action applies to: a scope of the action plug-in" },
        { "actions[].key", CFG_STR, offsetof(struct cfg_action, key), false,
          "one character: the TUI key" },
        { "actions[].argv", CFG_STRLIST, offsetof(struct cfg_action, argv), true,
          "the program and its arguments, ${...} substituted per word" },
        { "actions[].confirm", CFG_BOOL, offsetof(struct cfg_action, confirm), false,
          "ask before running (default true)" },
        { "actions[].dangerous", CFG_BOOL, offsetof(struct cfg_action, dangerous), false,
          "require the context name typed (default false)" },
        { "actions[].mutating", CFG_BOOL, offsetof(struct cfg_action, mutating), false,
          "changes something: refused in read-only mode (default true)" },
        { NULL, 0, 0, false, NULL },
};

/* `actions:`: the list, the defaults of the booleans, then each entry's
 * own checks (scope, key, ${...} variables) and the action table. */
static int config_top_actions(struct pctx *p, struct config *c, const struct ynode *v)
{
        const struct action_kind *k = collector_user_actions();
        struct err e;

        if (config_ynode_null(v))
                return 0;
        if (config_kind_value(p, top_action_keys, &top_action_keys[0], "actions", v, c) < 0)
                return -1;
        for (size_t i = 0; i < c->actions.n; i++) {
                struct cfg_action *a = (struct cfg_action *)c->actions.v + i;
                const struct ynode *el = v->kids[i], *at = NULL;
                const char *bad = NULL;

                a->line = el->line;
                a->col = el->col;
                if (!config_map_get(el, "confirm", NULL))
                        a->confirm = true;
                if (!config_map_get(el, "mutating", NULL))
                        a->mutating = true;
                err_clear(&e);
                if (k && k->user_check && k->user_check(a, &bad, &e) < 0) {
                        size_t w;

                        if (bad)
                                at = config_map_get(el, bad, NULL);
                        /* "argv[2]: ..." points at that word. */
                        if (at && at->type == YN_SEQ && sscanf(e.msg, "argv[%zu]", &w) == 1 &&
                            w < at->n)
                                at = at->kids[w];
                        return perr(p, at ? at : el, "actions[%zu].%s", i, e.msg);
                }
        }
        c->user_actions = k ? k->user_defs(c) : NULL;
        return 0;
}

/* One zeroed struct per registered kind with top-level keys, and those
 * keys offered as candidates. */
static void config_kind_tops_new(struct config *c, struct cands *tc)
{
        const struct collector_ops *ops;

        for (size_t i = 0; (ops = collector_nth(i)) != NULL; i++)
                if (ops->config_keys)
                        c->n_kind_tops++;
        c->kind_tops = xcalloc(c->n_kind_tops ? c->n_kind_tops : 1, sizeof *c->kind_tops);
        c->n_kind_tops = 0;
        for (size_t i = 0; (ops = collector_nth(i)) != NULL; i++) {
                if (!ops->config_keys)
                        continue;
                c->kind_tops[c->n_kind_tops].ops = ops;
                c->kind_tops[c->n_kind_tops++].cfg =
                        xcalloc(1, ops->config_size ? ops->config_size : 1);
                for (size_t j = 0; ops->config_keys[j].name; j++)
                        if (config_key_top(ops->config_keys[j].name))
                                config_cands_add(tc, ops->config_keys[j].name);
        }
}

/* A top-level key some kind owns: parsed into its struct. 1 when it was
 * one (0 parsed, -1 on error in *rc), 0 when no kind owns it. */
static int config_kind_key(struct pctx *p, struct config *c, const struct ynode *k,
                           const struct ynode *v, int *rc)
{
        for (size_t i = 0; i < c->n_kind_tops; i++) {
                const struct cfg_key *keys = c->kind_tops[i].ops->config_keys;

                for (size_t j = 0; keys[j].name; j++)
                        if (config_key_top(keys[j].name) && strcmp(keys[j].name, k->str) == 0) {
                                *rc = config_kind_value(p, keys, &keys[j], keys[j].name, v,
                                                        c->kind_tops[i].cfg);
                                return 1;
                        }
        }
        return 0;
}

static int config_build(struct pctx *p, struct config *c, const struct ynode *root)
{
        struct cands tc = { .n = 0 };
        char b[64], s[192];
        int rc;

        if (root->type != YN_MAP)
                return perr(p, root, "top level must be a mapping (environment, refresh, theme, "
                            "read_only, sources), got %s", config_ynode_what(root));
        for (size_t i = 0; i < LO_ARRAY_LEN(top_keys_head); i++)
                config_cands_add(&tc, top_keys_head[i]);
        config_kind_tops_new(c, &tc);
        for (size_t i = 0; i < LO_ARRAY_LEN(top_keys_tail); i++)
                config_cands_add(&tc, top_keys_tail[i]);
        for (size_t i = 0; i < root->n; i += 2) {
                const struct ynode *k = root->kids[i], *v = root->kids[i + 1];

                if (config_kind_key(p, c, k, v, &rc)) {
                        if (rc < 0)
                                return -1;
                } else if (strcmp(k->str, "environment") == 0) {
                        if (config_get_str(p, "environment", v, &c->environment) < 0)
                                return -1;
                } else if (strcmp(k->str, "refresh") == 0) {
                        if (config_get_duration_in(p, "refresh", v, REFRESH_MIN, REFRESH_MAX,
                                                   &c->refresh_ms) < 0)
                                return -1;
                } else if (strcmp(k->str, "theme") == 0) {
                        if (config_get_str(p, "theme", v, &c->theme) < 0)
                                return -1;
                } else if (strcmp(k->str, "read_only") == 0) {
                        if (config_get_bool(p, "read_only", v, &c->read_only) < 0)
                                return -1;
                } else if (strcmp(k->str, "audit_log") == 0) {
                        if (config_get_str(p, "audit_log", v, &c->audit_log) < 0)
                                return -1;
                } else if (strcmp(k->str, "listen") == 0) {
                        char norm[320];
                        struct err e;

                        if (config_want_scalar(p, "listen", v, "HOST:PORT") < 0)
                                return -1;
                        if (config_parse_listen(v->str, norm, sizeof norm, &e) < 0)
                                return perr(p, v, "listen: %s", e.msg);
                        free(c->listen);
                        c->listen = xstrdup(norm);
                } else if (strcmp(k->str, "actions") == 0) {
                        if (config_top_actions(p, c, v) < 0)
                                return -1;
                } else if (strcmp(k->str, "danger_contexts") == 0) {
                        if (!config_ynode_null(v) &&
                            config_get_strlist(p, "danger_contexts", v, &c->danger_contexts) < 0)
                                return -1;
                } else if (strcmp(k->str, "runbooks") == 0) {
                        if (!config_ynode_null(v) &&
                            config_get_strlist(p, "runbooks", v, &c->runbooks) < 0)
                                return -1;
                } else if (strcmp(k->str, "sources") == 0) {
                        if (config_ynode_null(v))
                                continue;       /* "sources:" alone is an empty list */
                        if (v->type != YN_SEQ)
                                return perr(p, v, "sources: expected a list, got %s",
                                            config_ynode_what(v));
                        c->sources = xcalloc(v->n ? v->n : 1, sizeof *c->sources);
                        for (size_t j = 0; j < v->n; j++)
                                if (config_source_parse(p, c, v->kids[j]) < 0)
                                        return -1;
                        /* Second pass: references between sources. */
                        for (size_t j = 0; j < c->n_sources; j++) {
                                struct source_cfg *src = &c->sources[j];

                                if (!config_has_source_refs(src->ops->keys))
                                        continue;
                                if (config_source_resolve(p, c, src) < 0 ||
                                    config_source_validate(p, src) < 0)
                                        return -1;
                        }
                } else {
                        return perr(p, k, "unknown key \"%s\" %s", config_show(k->str, b, sizeof b),
                                    config_suggest(&tc, k->str, "valid keys", s, sizeof s));
                }
        }
        return 0;
}

struct config *config_load_string(const char *yaml, size_t len, const char *name, struct err *err)
{
        struct pctx p = { .file = name ? name : "<string>", .err = err };
        struct config *c;
        struct ynode *root;

        err_clear(err);
        root = config_tree_build(&p, yaml ? yaml : "", yaml ? len : 0);
        if (!root)
                return NULL;
        c = xcalloc(1, sizeof *c);
        c->path = xstrdup(p.file);
        c->environment = xstrdup("default");
        c->theme = xstrdup("default");
        c->refresh_ms = 1000;
        c->read_only = false;
        if (config_build(&p, c, root) < 0) {
                config_free(c);
                c = NULL;
        }
        config_ynode_free(root);
        return c;
}

struct config *config_load_file(const char *path, struct err *err)
{
        struct config *c;
        struct err fe;
        char *buf;
        size_t n = 0;

        err_clear(err);
        /* fsfile: a FIFO (`-c <(...)` included), a device or a directory is
         * refused rather than read, so loading cannot block. */
        buf = fsfile_read(path, CFG_MAX_BYTES, "config file", &n, &fe);
        if (!buf) {
                if (fe.code == EISDIR || fe.code == EINVAL || fe.code == EFBIG)
                        err_set(err, fe.code, "%s", fe.msg);
                else
                        err_set(err, fe.code, "cannot open config file %s: %s", path,
                                strerror(fe.code));
                return NULL;
        }
        c = config_load_string(buf, n, path, err);
        free(buf);
        return c;
}

/* True when the entry `name` lives in `scope`: "" for the kind struct
 * ("url", "speed.query"), "queries[]" for an element of that list
 * ("queries[].expr", "queries[].labels.x", not "queries[].b[].c"). */
static bool config_in_scope(const char *name, const char *scope)
{
        const char *last = NULL;

        for (const char *at = strstr(name, "[]."); at; at = strstr(at + 1, "[]."))
                last = at;
        if (!last)
                return !*scope;
        return strlen(scope) == (size_t)(last + 2 - name) &&
               strncmp(name, scope, (size_t)(last + 2 - name)) == 0;
}

/* Frees what the entries of `scope` own inside `base` (see config_in_scope). */
static void config_fields_free(const struct cfg_key *keys, const char *scope, char *base)
{
        for (size_t j = 0; keys[j].name; j++) {
                const struct cfg_key *ck = &keys[j];

                if (!config_in_scope(ck->name, scope))
                        continue;
                if (ck->type == CFG_STR || ck->type == CFG_SECRET_REF || ck->type == CFG_UNIQUE ||
                    ck->type == CFG_PATH) {
                        free(*(char **)(void *)(base + ck->off));
                } else if (ck->type == CFG_STRLIST) {
                        struct cfg_strlist *l = (void *)(base + ck->off);

                        for (size_t k = 0; k < l->n; k++)
                                free(l->v[k]);
                        free(l->v);
                } else if (ck->type == CFG_STRMAP) {
                        struct cfg_strmap *l = (void *)(base + ck->off);

                        for (size_t k = 0; k < l->n; k++) {
                                free(l->keys[k]);
                                free(l->vals[k]);
                        }
                        free(l->keys);
                        free(l->vals);
                } else if (ck->type == CFG_SOURCE && !*scope) {
                        free(((struct cfg_source_ref *)(void *)(base + ck->off))->name);
                } else if (ck->type == CFG_MAPLIST) {
                        struct cfg_maplist *l = (void *)(base + ck->off);
                        size_t sz = config_elem_size(keys, ck->name);
                        char *sub = xasprintf("%s[]", ck->name);

                        for (size_t k = 0; k < l->n; k++)
                                config_fields_free(keys, sub, (char *)l->v + k * sz);
                        free(sub);
                        free(l->v);
                }
        }
}

void config_free(struct config *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_sources; i++) {
                struct source_cfg *s = &c->sources[i];

                if (s->kind_cfg && s->ops && s->ops->keys)
                        config_fields_free(s->ops->keys, "", s->kind_cfg);
                free(s->kind_cfg);
                free(s->thresholds);
                free(s->thr_timing);
                free(s->name);
                free(s->kind);
        }
        free(c->sources);
        free(c->path);
        free(c->environment);
        free(c->theme);
        free(c->audit_log);
        free(c->listen);
        for (size_t i = 0; i < c->n_kind_tops; i++) {
                config_fields_free(c->kind_tops[i].ops->config_keys, "", c->kind_tops[i].cfg);
                free(c->kind_tops[i].cfg);
        }
        free(c->kind_tops);
        config_fields_free(top_action_keys, "", (char *)c);
        for (size_t i = 0; i < c->danger_contexts.n; i++)
                free(c->danger_contexts.v[i]);
        free(c->danger_contexts.v);
        for (size_t i = 0; i < c->runbooks.n; i++)
                free(c->runbooks.v[i]);
        free(c->runbooks.v);
        free((void *)c->user_actions);
        free(c);
}

const void *config_kind_cfg(const struct config *c, const struct collector_ops *ops)
{
        for (size_t i = 0; c && i < c->n_kind_tops; i++)
                if (c->kind_tops[i].ops == ops)
                        return c->kind_tops[i].cfg;
        return NULL;
}

const struct source_cfg *config_source(const struct config *c, const char *name)
{
        for (size_t i = 0; c && name && i < c->n_sources; i++)
                if (strcmp(c->sources[i].name, name) == 0)
                        return &c->sources[i];
        return NULL;
}

const struct threshold *config_threshold(const struct source_cfg *s, const char *metric)
{
        for (size_t i = 0; s && metric && i < s->n_thresholds; i++)
                if (strcmp(s->thresholds[i].def->name, metric) == 0)
                        return &s->thresholds[i];
        return NULL;
}

void config_alert_timing(const struct source_cfg *s, const char *metric, int64_t *for_ms,
                         int64_t *keep_firing_for_ms)
{
        const struct threshold *t = config_threshold(s, metric);
        struct alert_timing z = { 0, 0 };
        const struct alert_timing *tt = !s ? &z : t && s->thr_timing ?
                                        &s->thr_timing[t - s->thresholds] : &s->timing;

        *for_ms = tt->for_ms;
        *keep_firing_for_ms = tt->keep_firing_for_ms;
        /* A hand-built threshold or source may hold anything; never negative. */
        if (*for_ms < 0)
                *for_ms = 0;
        if (*keep_firing_for_ms < 0)
                *keep_firing_for_ms = 0;
}

static bool config_listen_host_ok(const char *h, size_t n, bool v6)
{
        if (n == 0 || n > 253)
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = h[i];

                if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                    (ch >= 'A' && ch <= 'F') || ch == '.')
                        continue;
                if (v6 ? ch == ':' : (ch == '-' || (ch >= 'a' && ch <= 'z') ||
                                      (ch >= 'A' && ch <= 'Z')))
                        continue;
                return false;
        }
        return true;
}

int config_parse_listen(const char *s, char *out, size_t n, struct err *err)
{
        const char *colon, *port, *host = "127.0.0.1";
        const char *why = NULL;
        size_t hlen = strlen(host);
        bool v6 = false;
        char *end;
        long pn = 0;

        if (!s || !*s) {
                err_set(err, EINVAL, "expected HOST:PORT or PORT, got an empty value");
                return -1;
        }
        if (s[0] == '[') {
                const char *rb = strchr(s, ']');

                if (!rb || rb[1] != ':') {
                        err_set(err, EINVAL, "expected [IPV6]:PORT");
                        return -1;
                }
                host = s + 1;
                hlen = (size_t)(rb - host);
                port = rb + 2;
                v6 = true;
        } else if ((colon = strrchr(s, ':')) != NULL) {
                if (strchr(s, ':') != colon) {
                        err_set(err, EINVAL, "an IPv6 address goes in brackets: [::1]:9464");
                        return -1;
                }
                if (colon != s) {
                        host = s;
                        hlen = (size_t)(colon - s);
                }
                port = colon + 1;
        } else {
                port = s;
        }
        if (!config_listen_host_ok(host, hlen, v6)) {
                err_set(err, EINVAL, "\"%.*s\" is not an IP address or host name",
                        (int)(hlen > 64 ? 64 : hlen), host);
                return -1;
        }
        if (*port < '0' || *port > '9' || strspn(port, "0123456789") != strlen(port) ||
            strlen(port) > 5)
                why = "x";
        if (!why) {
                errno = 0;
                pn = strtol(port, &end, 10);
                if (errno || pn < 0 || pn > 65535)
                        why = "x";
        }
        if (why) {
                err_set(err, EINVAL, "the port must be a number from 0 to 65535 (0: any free port)");
                return -1;
        }
        snprintf(out, n, "%s%.*s%s:%ld", v6 ? "[" : "", (int)hlen, host, v6 ? "]" : "", pn);
        return 0;
}
