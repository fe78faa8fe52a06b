/*
 * table: the pure half of the generic table pane -- row containers,
 * filtering, column layout, scrolling, text fitting, sparklines, styled
 * line lists and the value formatting every pane shares. No curses and no
 * state here, so the panes' rows()/detail() output is testable as strings
 * (tests/test_view_*.c). The curses half is views/table_draw.c.
 */
#include "views/view.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/ring.h"
#include "core/termsafe.h"
#include "core/util.h"

/* --- glyphs ------------------------------------------------------------- */

static const struct glyphs view_glyphs_utf8 = {
        .spark = { "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587",
                   "\u2588" },
        .up = "\u2191", .down = "\u2193", .flat = "\u2192",
        .ellipsis = "\u2026", .vbar = "\u2502", .hbar = "\u2500", .bullet = "\u25cf",
};

static const struct glyphs view_glyphs_ascii = {
        .spark = { " ", ".", ":", "-", "=", "+", "*", "#" },
        .up = "^", .down = "v", .flat = "=",
        .ellipsis = "~", .vbar = "|", .hbar = "-", .bullet = "*",
};

const struct glyphs *view_glyphs(bool ascii)
{
        return ascii ? &view_glyphs_ascii : &view_glyphs_utf8;
}

/* --- rows --------------------------------------------------------------- */

void table_rows_init(struct table_rows *r)
{
        r->v = NULL;
        r->n = r->cap = 0;
}

void table_rows_done(struct table_rows *r)
{
        free(r->v);
        table_rows_init(r);
}

void table_rows_clear(struct table_rows *r)
{
        r->n = 0;
}

struct table_row *table_rows_add(struct table_rows *r)
{
        struct table_row *row;

        if (r->n == r->cap) {
                r->cap = r->cap ? 2 * r->cap : 16;
                r->v = xrealloc(r->v, r->cap * sizeof *r->v);
        }
        row = &r->v[r->n++];
        memset(row, 0, sizeof *row);
        for (int i = 0; i < TABLE_MAX_COLS; i++)
                row->cell[i].role = ROLE_DEFAULT;
        row->sev = SEV_OK;
        return row;
}

/* --- text safe for the screen ------------------------------------------- */

/* The screen form of s (NULL is ""): newlines, tabs and carriage returns
 * (error messages span lines) become spaces and every other control
 * character is shown escaped by termsafe (ESC as \x1b, C1 as \u009b), so
 * a connector name or a config value cannot drive the terminal. Applying
 * it again changes nothing. Returns NULL when s is already safe. */
static char *text_safe_dup(const char *s)
{
        char *tmp, *out;

        if (!s || !termsafe_needed(s, TERMSAFE_LINE))
                return NULL;
        tmp = xstrdup(s);
        for (char *c = tmp; *c; c++)
                if (*c == '\n' || *c == '\t' || *c == '\r')
                        *c = ' ';
        out = termsafe_dup(tmp, TERMSAFE_LINE);
        free(tmp);
        return out;
}

/* Stores the screen form of s in buf (n bytes); an escape is never cut. */
static void text_safe_copy(const char *s, char *buf, size_t n)
{
        char *safe = text_safe_dup(s);

        if (safe)
                termsafe_copy(safe, TERMSAFE_LINE, buf, n);
        else if (s != buf)
                str_copy(buf, s ? s : "", n);
        free(safe);
}

/* Cells and line segments hold the screen form from the start, so that
 * widths, the "/" filter and the pager's search all see what is drawn. */
void table_cell_set(struct table_row *row, int col, enum theme_role role, const char *fmt, ...)
{
        char raw[TABLE_CELL_MAX];
        va_list ap;

        if (col < 0 || col >= TABLE_MAX_COLS)
                return;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        text_safe_copy(raw, row->cell[col].text, sizeof row->cell[col].text);
        row->cell[col].role = role;
}

static bool text_contains_ci(const char *hay, const char *needle)
{
        size_t nl = strlen(needle);

        for (; *hay; hay++) {
                size_t i = 0;
                while (i < nl && hay[i] &&
                       tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
                        i++;
                if (i == nl)
                        return true;
        }
        return nl == 0;
}

size_t table_filter(struct table_rows *r, const char *needle)
{
        size_t kept = 0;

        if (!needle || !*needle)
                return r->n;
        for (size_t i = 0; i < r->n; i++) {
                bool hit = false;
                for (int c = 0; c < TABLE_MAX_COLS && !hit; c++)
                        hit = text_contains_ci(r->v[i].cell[c].text, needle);
                if (hit) {
                        if (kept != i)
                                r->v[kept] = r->v[i];
                        kept++;
                }
        }
        r->n = kept;
        return kept;
}

int table_find(const struct table_rows *r, const char *id)
{
        if (!id || !*id)
                return -1;
        for (size_t i = 0; i < r->n; i++)
                if (strcmp(r->v[i].id, id) == 0)
                        return (int)i;
        return -1;
}

int table_ncols(const struct column *cols)
{
        int n = 0;

        while (cols[n].title && n < TABLE_MAX_COLS)
                n++;
        return n;
}

int table_layout(const struct column *cols, int total, int *widths)
{
        int n = table_ncols(cols), need = 0, weights = 0, pos = 0;

        for (int i = 0; i < n; i++) {
                if (cols[i].width > 0) {
                        widths[i] = cols[i].width;
                } else {
                        widths[i] = cols[i].min > 0 ? cols[i].min : 1;
                        weights += -cols[i].width;
                }
                need += widths[i] + (i ? 1 : 0);
        }
        if (need <= total && weights > 0) {
                int extra = total - need, given = 0, last = -1;
                for (int i = 0; i < n; i++) {
                        if (cols[i].width < 0) {
                                int add = extra * -cols[i].width / weights;
                                widths[i] += add;
                                given += add;
                                last = i;
                        }
                }
                if (last >= 0)
                        widths[last] += extra - given;
        }
        /* Clip what does not fit, from the right. */
        for (int i = 0; i < n; i++) {
                if (pos >= total)
                        widths[i] = 0;
                else if (pos + widths[i] > total)
                        widths[i] = total - pos;
                pos += widths[i] + 1;
        }
        return n;
}

void table_scroll(size_t n, int h, size_t *sel, size_t *top)
{
        size_t hh = h > 0 ? (size_t)h : 1;

        if (n == 0) {
                *sel = *top = 0;
                return;
        }
        if (*sel >= n)
                *sel = n - 1;
        if (*sel < *top)
                *top = *sel;
        if (*sel >= *top + hh)
                *top = *sel - hh + 1;
        if (*top + hh > n)
                *top = n > hh ? n - hh : 0;
}

/* --- text --------------------------------------------------------------- */

/* Counts the screen form: an escaped ESC takes four cells. */
int text_width(const char *s)
{
        char *safe = text_safe_dup(s);
        const char *p = safe ? safe : s;
        int w = 0;

        for (; p && *p; p++)
                if (((unsigned char)*p & 0xC0) != 0x80)
                        w++;
        free(safe);
        return w;
}

/* Byte length of the first `cells` code points of s. */
static size_t text_prefix(const char *s, int cells)
{
        size_t i = 0;

        while (s[i] && cells > 0) {
                i++;
                while (((unsigned char)s[i] & 0xC0) == 0x80)
                        i++;
                cells--;
        }
        return i;
}

void text_fit(const char *s, int w, enum col_align al, const char *ellipsis, char *out,
              size_t n)
{
        char clean[1024];
        size_t len, o = 0;
        int tw, pad;

        if (n == 0)
                return;
        out[0] = '\0';
        if (w <= 0)
                return;
        text_safe_copy(s, clean, sizeof clean);
        if (!ellipsis)
                ellipsis = "";
        tw = text_width(clean);
        if (tw > w) {
                int ew = text_width(ellipsis);
                if (ew >= w) {
                        len = text_prefix(clean, w);
                        clean[len] = '\0';
                } else {
                        len = text_prefix(clean, w - ew);
                        clean[len] = '\0';
                        strncat(clean, ellipsis, sizeof clean - strlen(clean) - 1);
                }
                tw = w;
        }
        pad = w - tw;
        if (al == COL_RIGHT)
                for (; pad > 0 && o + 1 < n; pad--)
                        out[o++] = ' ';
        len = strlen(clean);
        if (o + len >= n)
                len = n - o - 1;
        memcpy(out + o, clean, len);
        o += len;
        for (; pad > 0 && o + 1 < n; pad--)
                out[o++] = ' ';
        out[o] = '\0';
}

/* --- sparklines --------------------------------------------------------- */

static void spark_scale(const double *v, size_t n, double *lo, double *hi)
{
        bool any = false;

        *lo = 0;
        *hi = 0;
        for (size_t i = 0; i < n; i++) {
                if (!isfinite(v[i]))
                        continue;
                if (!any || v[i] > *hi)
                        *hi = v[i];
                if (v[i] < *lo)
                        *lo = v[i];
                any = true;
        }
        if (*hi < *lo)
                *hi = *lo;
}

static void spark_put(char *out, size_t outn, size_t *o, const char *g)
{
        size_t l = strlen(g);

        if (*o + l < outn) {
                memcpy(out + *o, g, l);
                *o += l;
        }
}

void sparkline_values(const double *v, size_t n, int width, bool ascii, char *out, size_t outn)
{
        const struct glyphs *g = view_glyphs(ascii);
        size_t o = 0, first;
        double lo, hi;

        if (outn == 0)
                return;
        if (width < 0)
                width = 0;
        first = n > (size_t)width ? n - (size_t)width : 0;
        spark_scale(v + first, n - first, &lo, &hi);
        for (size_t i = n - first; i < (size_t)width; i++)
                spark_put(out, outn, &o, " ");
        for (size_t i = first; i < n; i++) {
                int lvl = 0;
                if (!isfinite(v[i])) {
                        spark_put(out, outn, &o, " ");
                        continue;
                }
                if (hi > lo)
                        lvl = (int)lround((v[i] - lo) / (hi - lo) * 7.0);
                if (lvl < 0)
                        lvl = 0;
                if (lvl > 7)
                        lvl = 7;
                spark_put(out, outn, &o, g->spark[lvl]);
        }
        out[o] = '\0';
}

void sparkline_ring(const struct ring *r, int width, bool ascii, char *out, size_t outn)
{
        double v[RING_CAP];
        size_t n = ring_values(r, v, RING_CAP);

        sparkline_values(v, n, width, ascii, out, outn);
}

void sparkline_chart(const double *v, size_t n, int width, int height, bool ascii, char **lines,
                 size_t linesz)
{
        const struct glyphs *g = view_glyphs(ascii);
        size_t first;
        double lo, hi;

        if (width < 0)
                width = 0;
        first = n > (size_t)width ? n - (size_t)width : 0;
        spark_scale(v + first, n - first, &lo, &hi);
        for (int row = 0; row < height; row++) {
                int base = (height - 1 - row) * 8;
                size_t o = 0;

                if (linesz == 0)
                        continue;
                for (size_t i = n - first; i < (size_t)width; i++)
                        spark_put(lines[row], linesz, &o, " ");
                for (size_t i = first; i < n; i++) {
                        int units = 0, cell;
                        if (isfinite(v[i]) && hi > lo)
                                units = (int)lround((v[i] - lo) / (hi - lo) * height * 8);
                        cell = units - base;
                        if (cell > 8)
                                cell = 8;
                        spark_put(lines[row], linesz, &o, cell <= 0 ? " " : g->spark[cell - 1]);
                }
                lines[row][o] = '\0';
        }
}

/* --- styled lines ------------------------------------------------------- */

void tlines_init(struct tlines *l)
{
        l->v = NULL;
        l->n = l->cap = 0;
}

void tlines_done(struct tlines *l)
{
        free(l->v);
        tlines_init(l);
}

static struct tline *tlines_new(struct tlines *l)
{
        if (l->n == l->cap) {
                l->cap = l->cap ? 2 * l->cap : 32;
                l->v = xrealloc(l->v, l->cap * sizeof *l->v);
        }
        l->v[l->n].n = 0;
        return &l->v[l->n++];
}

static void tlines_vseg(struct tline *t, enum theme_role role, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

static void tlines_vseg(struct tline *t, enum theme_role role, const char *fmt, va_list ap)
{
        char raw[TSEG_MAX];

        if (t->n >= TLINE_SEGS)
                return;
        t->seg[t->n].role = role;
        vsnprintf(raw, sizeof raw, fmt, ap);
        text_safe_copy(raw, t->seg[t->n].text, sizeof t->seg[t->n].text);
        t->n++;
}

void tlines_add(struct tlines *l, enum theme_role role, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        tlines_vseg(tlines_new(l), role, fmt, ap);
        va_end(ap);
}

void tlines_seg(struct tlines *l, enum theme_role role, const char *fmt, ...)
{
        va_list ap;
        struct tline *t = l->n ? &l->v[l->n - 1] : tlines_new(l);

        va_start(ap, fmt);
        tlines_vseg(t, role, fmt, ap);
        va_end(ap);
}

void tlines_kv(struct tlines *l, const char *key, enum theme_role role, const char *fmt, ...)
{
        va_list ap;
        struct tline *t = tlines_new(l);

        t->seg[0].role = ROLE_DIM;
        snprintf(t->seg[0].text, sizeof t->seg[0].text, "  %-20s ", key);
        t->n = 1;
        va_start(ap, fmt);
        tlines_vseg(t, role, fmt, ap);
        va_end(ap);
}

void tline_text(const struct tline *t, char *buf, size_t n)
{
        if (n == 0)
                return;
        buf[0] = '\0';
        for (int i = 0; i < t->n; i++)
                strncat(buf, t->seg[i].text, n - strlen(buf) - 1);
}

/* --- formatting --------------------------------------------------------- */

void view_fmt_age(const struct snapshot *s, int64_t now_mono, char *buf, size_t n,
                  enum theme_role *role)
{
        int64_t age = snapshot_age_ms(s, now_mono);
        char d[32];
        enum theme_role r = ROLE_DEFAULT;

        if (age < 0) {
                snprintf(buf, n, "never");
                r = ROLE_UNKNOWN;
        } else {
                if (age < 1000)
                        snprintf(d, sizeof d, "0s");
                else
                        fmt_duration_ms(age, d, sizeof d);
                if (snapshot_is_stale(s, now_mono)) {
                        snprintf(buf, n, "stale %s", d);
                        r = ROLE_STALE;
                } else {
                        snprintf(buf, n, "%s", d);
                }
        }
        if (role)
                *role = r;
}

void view_fmt_metric(enum thr_unit u, double v, char *buf, size_t n)
{
        health_fmt_value(u, v, buf, n);
}

static int view_sev_rank(enum severity s)
{
        switch (s) {
        case SEV_OK:
                return 0;
        case SEV_WARN:
                return 1;
        case SEV_UNKNOWN:
                return 2;
        case SEV_CRIT:
        default:
                return 3;
        }
}

enum severity view_worst(enum severity a, enum severity b)
{
        return view_sev_rank(a) >= view_sev_rank(b) ? a : b;
}

enum severity view_alert_sev(const struct alert_list *l, const char *source,
                             const char *subject)
{
        enum severity worst = SEV_OK;

        for (size_t i = 0; l && i < l->n; i++) {
                const struct alert *a = &l->v[i];
                if (strcmp(a->source, source) != 0)
                        continue;
                if (subject && strcmp(a->subject, subject) != 0)
                        continue;
                worst = view_worst(worst, a->sev);
        }
        return worst;
}

enum severity view_threshold_sev(const struct source_cfg *src, const char *metric, double v)
{
        return health_threshold_sev(src, metric, v, NULL);
}

enum theme_role view_sev_role(enum severity s)
{
        switch (s) {
        case SEV_OK:
                return ROLE_OK;
        case SEV_WARN:
                return ROLE_WARN;
        case SEV_CRIT:
                return ROLE_CRIT;
        case SEV_UNKNOWN:
        default:
                return ROLE_UNKNOWN;
        }
}

enum theme_role view_status_role(enum coll_status s)
{
        switch (s) {
        case COLL_OK:
                return ROLE_OK;
        case COLL_DEGRADED:
                return ROLE_WARN;
        case COLL_DOWN:
                return ROLE_CRIT;
        case COLL_UNKNOWN:
        default:
                return ROLE_UNKNOWN;
        }
}
