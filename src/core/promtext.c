/*
 * promtext: the Prometheus text exposition writer (promtext.h says what it
 * guarantees). Families are kept in an array in declaration order, each
 * with its samples already formatted as lines in its own buffer; finish
 * sorts an index by name and concatenates. Lookups by name are linear: a
 * render declares a few dozen families, and every hook declares before it
 * adds, so the last family is checked first.
 */
#include "core/promtext.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define PROMTEXT_MAX_PAIRS 8

struct promtext_family {
        char *name;
        char *help;
        enum promtext_type type;
        char *lines;            /* formatted samples, "name{...} v\n" each */
        size_t len, cap;
};

struct promtext {
        struct promtext_family *fams;
        size_t n_fams, cap_fams;
        size_t last;            /* index of the family found last (lookup hint) */
        size_t errors;
        char first_error[200];
};

struct promtext *promtext_new(void)
{
        return xcalloc(1, sizeof(struct promtext));
}

void promtext_free(struct promtext *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_fams; i++) {
                free(p->fams[i].name);
                free(p->fams[i].help);
                free(p->fams[i].lines);
        }
        free(p->fams);
        free(p);
}

static void promtext_error(struct promtext *p, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void promtext_error(struct promtext *p, const char *fmt, ...)
{
        va_list ap;

        if (p->errors++ == 0) {
                va_start(ap, fmt);
                vsnprintf(p->first_error, sizeof p->first_error, fmt, ap);
                va_end(ap);
        }
}

size_t promtext_errors(const struct promtext *p)
{
        return p->errors;
}

const char *promtext_first_error(const struct promtext *p)
{
        return p->first_error;
}

/* ---- names, values, escaping -------------------------------------------- */

static bool promtext_alpha(int c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool promtext_digit(int c)
{
        return c >= '0' && c <= '9';
}

bool promtext_metric_name_ok(const char *s)
{
        if (!s || !(promtext_alpha(s[0]) || s[0] == ':'))
                return false;
        for (const char *c = s + 1; *c; c++)
                if (!promtext_alpha(*c) && !promtext_digit(*c) && *c != ':')
                        return false;
        return true;
}

bool promtext_label_name_ok(const char *s)
{
        if (!s || !promtext_alpha(s[0]) || (s[0] == '_' && s[1] == '_'))
                return false;
        for (const char *c = s + 1; *c; c++)
                if (!promtext_alpha(*c) && !promtext_digit(*c))
                        return false;
        return true;
}

static bool promtext_ends_total(const char *s)
{
        size_t n = strlen(s);

        return n >= 6 && strcmp(s + n - 6, "_total") == 0;
}

void promtext_fmt_value(double v, char *buf, size_t n)
{
        if (isnan(v)) {
                snprintf(buf, n, "NaN");
                return;
        }
        if (isinf(v)) {
                snprintf(buf, n, v > 0 ? "+Inf" : "-Inf");
                return;
        }
        /* The shortest of %.15g..%.17g that reads back as v: "0.1", not
         * "0.10000000000000001"; integers come out as integers. */
        for (int prec = 15; prec <= 17; prec++) {
                snprintf(buf, n, "%.*g", prec, v);
                if (strtod(buf, NULL) == v)
                        return;
        }
}

static void promtext_put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
        if (*len + n + 1 > *cap) {
                size_t c = *cap ? *cap : 256;

                while (*len + n + 1 > c)
                        c *= 2;
                *buf = xrealloc(*buf, c);
                *cap = c;
        }
        memcpy(*buf + *len, s, n);
        *len += n;
        (*buf)[*len] = '\0';
}

static void promtext_puts(char **buf, size_t *len, size_t *cap, const char *s)
{
        promtext_put(buf, len, cap, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid:
 * overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t promtext_utf8_len(const unsigned char *s)
{
        unsigned char c = s[0];

        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                return (s[1] & 0xC0) == 0x80 ? 2 : 0;
        if (c >= 0xE0 && c <= 0xEF) {
                unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;

                return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
        }
        if (c >= 0xF0 && c <= 0xF4) {
                unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;

                return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 &&
                       (s[3] & 0xC0) == 0x80 ? 4 : 0;
        }
        return 0;
}

void promtext_escape_value(const char *v, char **buf, size_t *len, size_t *cap)
{
        const unsigned char *s = (const unsigned char *)(v ? v : "");

        while (*s) {
                size_t n = promtext_utf8_len(s);

                if (n == 0) {
                        promtext_puts(buf, len, cap, "\xEF\xBF\xBD");  /* U+FFFD */
                        s++;
                } else if (*s == '\\') {
                        promtext_puts(buf, len, cap, "\\\\");
                        s++;
                } else if (*s == '"') {
                        promtext_puts(buf, len, cap, "\\\"");
                        s++;
                } else if (*s == '\n') {
                        promtext_puts(buf, len, cap, "\\n");
                        s++;
                } else {
                        promtext_put(buf, len, cap, (const char *)s, n);
                        s += n;
                }
        }
}

/* HELP text: backslash and newline escaped (the format's rule for HELP),
 * invalid UTF-8 replaced as in label values. */
static void promtext_escape_help(const char *v, char **buf, size_t *len, size_t *cap)
{
        const unsigned char *s = (const unsigned char *)(v ? v : "");

        while (*s) {
                size_t n = promtext_utf8_len(s);

                if (n == 0) {
                        promtext_puts(buf, len, cap, "\xEF\xBF\xBD");
                        s++;
                } else if (*s == '\\') {
                        promtext_puts(buf, len, cap, "\\\\");
                        s++;
                } else if (*s == '\n') {
                        promtext_puts(buf, len, cap, "\\n");
                        s++;
                } else {
                        promtext_put(buf, len, cap, (const char *)s, n);
                        s += n;
                }
        }
}

/* ---- families and samples ------------------------------------------------ */

static struct promtext_family *promtext_find(struct promtext *p, const char *name)
{
        if (p->last < p->n_fams && strcmp(p->fams[p->last].name, name) == 0)
                return &p->fams[p->last];
        for (size_t i = 0; i < p->n_fams; i++)
                if (strcmp(p->fams[i].name, name) == 0) {
                        p->last = i;
                        return &p->fams[i];
                }
        return NULL;
}

void promtext_declare(struct promtext *p, const char *name, enum promtext_type type,
                      const char *help)
{
        struct promtext_family *f;

        if (!promtext_metric_name_ok(name)) {
                promtext_error(p, "invalid metric name \"%.60s\"", name ? name : "(null)");
                return;
        }
        if ((type == PROMTEXT_COUNTER) != promtext_ends_total(name)) {
                promtext_error(p, "%.60s: a counter's name ends in _total, a gauge's does not",
                               name);
                return;
        }
        f = promtext_find(p, name);
        if (f) {
                if (f->type != type)
                        promtext_error(p, "%.60s declared again with another type", name);
                return;
        }
        if (p->n_fams == p->cap_fams) {
                p->cap_fams = p->cap_fams ? p->cap_fams * 2 : 32;
                p->fams = xrealloc(p->fams, p->cap_fams * sizeof *p->fams);
        }
        f = &p->fams[p->n_fams];
        memset(f, 0, sizeof *f);
        f->name = xstrdup(name);
        f->help = xstrdup(help ? help : "");
        f->type = type;
        p->last = p->n_fams++;
}

void promtext_sample(struct promtext *p, const char *name, const char *const *labels,
                     size_t n_pairs, double v)
{
        struct promtext_family *f;
        char num[40];

        if (isnan(v) || isinf(v))
                return;
        f = name ? promtext_find(p, name) : NULL;
        if (!f) {
                promtext_error(p, "sample of undeclared metric \"%.60s\"", name ? name : "(null)");
                return;
        }
        for (size_t i = 0; i < n_pairs; i++)
                if (!promtext_label_name_ok(labels[2 * i])) {
                        promtext_error(p, "%.60s: invalid label name \"%.40s\"", name,
                                       labels[2 * i] ? labels[2 * i] : "(null)");
                        return;
                }
        promtext_puts(&f->lines, &f->len, &f->cap, f->name);
        for (size_t i = 0; i < n_pairs; i++) {
                promtext_puts(&f->lines, &f->len, &f->cap, i ? "," : "{");
                promtext_puts(&f->lines, &f->len, &f->cap, labels[2 * i]);
                promtext_puts(&f->lines, &f->len, &f->cap, "=\"");
                promtext_escape_value(labels[2 * i + 1], &f->lines, &f->len, &f->cap);
                promtext_puts(&f->lines, &f->len, &f->cap, "\"");
        }
        if (n_pairs)
                promtext_puts(&f->lines, &f->len, &f->cap, "}");
        promtext_fmt_value(v, num, sizeof num);
        promtext_puts(&f->lines, &f->len, &f->cap, " ");
        promtext_puts(&f->lines, &f->len, &f->cap, num);
        promtext_puts(&f->lines, &f->len, &f->cap, "\n");
}

void promtext_add(struct promtext *p, const char *name, double v, ...)
{
        const char *pairs[2 * PROMTEXT_MAX_PAIRS];
        size_t n = 0;
        const char *k;
        va_list ap;

        va_start(ap, v);
        while ((k = va_arg(ap, const char *)) != NULL) {
                if (n == 2 * PROMTEXT_MAX_PAIRS) {
                        va_end(ap);
                        promtext_error(p, "%.60s: more than %d labels", name,
                                       PROMTEXT_MAX_PAIRS);
                        return;
                }
                pairs[n++] = k;
                pairs[n++] = va_arg(ap, const char *);
        }
        va_end(ap);
        promtext_sample(p, name, pairs, n / 2, v);
}

static int promtext_cmp(const void *a, const void *b)
{
        const struct promtext_family *const *x = a, *const *y = b;

        return strcmp((*x)->name, (*y)->name);
}

char *promtext_finish(struct promtext *p, size_t *len)
{
        struct promtext_family **idx = xcalloc(p->n_fams ? p->n_fams : 1, sizeof *idx);
        char *out = NULL;
        size_t n = 0, cap = 0;

        for (size_t i = 0; i < p->n_fams; i++)
                idx[i] = &p->fams[i];
        qsort(idx, p->n_fams, sizeof *idx, promtext_cmp);
        promtext_put(&out, &n, &cap, "", 0);
        for (size_t i = 0; i < p->n_fams; i++) {
                const struct promtext_family *f = idx[i];

                if (f->len == 0)
                        continue;
                promtext_puts(&out, &n, &cap, "# HELP ");
                promtext_puts(&out, &n, &cap, f->name);
                if (f->help[0])
                        promtext_puts(&out, &n, &cap, " ");
                promtext_escape_help(f->help, &out, &n, &cap);
                promtext_puts(&out, &n, &cap, "\n# TYPE ");
                promtext_puts(&out, &n, &cap, f->name);
                promtext_puts(&out, &n, &cap,
                              f->type == PROMTEXT_COUNTER ? " counter\n" : " gauge\n");
                promtext_put(&out, &n, &cap, f->lines, f->len);
        }
        free(idx);
        if (len)
                *len = n;
        return out;
}
