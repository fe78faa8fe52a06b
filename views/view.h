/*
 * view: the pane interface, the pane registry, and the generic table pane
 * most panes are made of.
 *
 * A pane is a `const struct view_ops` in views/<name>.c plus one line in
 * views/registry.c. Most panes are declarative: a `struct column` table and
 * a pure rows() function that turns the snapshots in a `struct view_data`
 * into cell strings, each with a theme role, plus a row severity. Lines
 * above the table (preamble) and the Enter detail page are pure too: they
 * produce `struct tlines`. The TUI shell (src/tui*.c) owns the curses
 * screen and draws all of that with table_draw()/tlines_draw(); a pane
 * needs its own draw() only for something a table cannot show. What most
 * panes draw alike (the source status line, the Alerts block of a detail
 * page, sparkline cells and charts, sub-view tables) is in views/common.h.
 *
 * Threads: everything here runs on the UI thread, except that the pure
 * functions (rows, preamble, detail, table_*, text_*, sparkline_*, tlines_*,
 * view_fmt_*) touch no curses and no globals and may run anywhere, e.g. in
 * unit tests. The snapshots in a view_data are borrowed for the call.
 */
#ifndef LO_VIEWS_VIEW_H
#define LO_VIEWS_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/alerttrack.h"
#include "core/health.h"
#include "core/snapshot.h"
#include "core/theme.h"

struct _win_st;                 /* curses WINDOW, kept out of pure users */
struct ring;
struct view_runbooks;

/* --- glyphs: UTF-8 or the ASCII fallback -------------------------------- */

struct glyphs {
        const char *spark[8];   /* lowest to highest */
        const char *up, *down, *flat;   /* trends */
        const char *ellipsis;   /* marks clipped text */
        const char *vbar;       /* separator in the header */
        const char *hbar;       /* horizontal rules */
        const char *bullet;     /* before the overall state */
};

const struct glyphs *view_glyphs(bool ascii);

/* --- what a pane sees --------------------------------------------------- */

struct view_data {
        const struct source_cfg *srcs;          /* the configured sources */
        const struct snapshot *const *snaps;    /* one per source, same order; NULL = none yet */
        size_t n;
        const struct alert_list *alerts;        /* health_eval over snaps; may be NULL */
        const struct alert_tracker *track;      /* alert episodes (since, trend); may be NULL */
        int64_t now_mono;                       /* for ages and staleness */
        bool ascii;                             /* use the ASCII glyphs */
        int width;                              /* pane width in cells (chart sizes) */
        unsigned flags;                         /* the pane's toggles (struct view.flags) */
        struct view_runbooks *runbooks;         /* the Runbooks pane's state (its draw
                                                   hook refreshes it); may be NULL */
};

/* --- tables ------------------------------------------------------------- */

enum col_align { COL_LEFT = 0, COL_RIGHT };

/* One column; a table is an array ending with { NULL }. */
struct column {
        const char    *title;
        int            width;   /* > 0: fixed cells; < 0: flexible, weight -width */
        int            min;     /* flexible columns: never narrower than this */
        enum col_align align;
};

#define TABLE_MAX_COLS 16
#define TABLE_CELL_MAX 192
#define TABLE_ID_MAX   160

struct table_cell {
        char            text[TABLE_CELL_MAX];   /* UTF-8, may be clipped when drawn */
        enum theme_role role;                   /* ROLE_DEFAULT: plain */
};

struct table_row {
        struct table_cell cell[TABLE_MAX_COLS];
        enum severity     sev;                  /* worst state of the row */
        bool              stale;                /* its data is stale */
        char              id[TABLE_ID_MAX];     /* stable identity: selection, detail */
};

struct table_rows {
        struct table_row *v;    /* owned */
        size_t n, cap;
};

void table_rows_init(struct table_rows *r);
void table_rows_done(struct table_rows *r);
void table_rows_clear(struct table_rows *r);
/* Appends a blank row (every cell "" with ROLE_DEFAULT, sev OK). The
 * pointer is valid until the next add. */
struct table_row *table_rows_add(struct table_rows *r);
void table_cell_set(struct table_row *row, int col, enum theme_role role, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* Keeps the rows where some cell contains `needle`, ignoring ASCII case.
 * NULL or "" keeps all. Returns the number kept. */
size_t table_filter(struct table_rows *r, const char *needle);
/* Index of the row with this id, or -1. */
int table_find(const struct table_rows *r, const char *id);
/* Number of columns in a NULL-title-terminated table. */
int table_ncols(const struct column *cols);
/* Column widths for `total` cells (one space between columns): fixed
 * columns get their width, flexible ones share what is left by weight, no
 * less than their min. Columns that do not fit at all get 0. Returns the
 * number of columns. */
int table_layout(const struct column *cols, int total, int *widths);
/* Keeps `sel` inside [0, n) and `top` such that sel is visible in h rows. */
void table_scroll(size_t n, int h, size_t *sel, size_t *top);

/* --- text --------------------------------------------------------------- */

/* Display width in cells: one per UTF-8 code point of what we print (the
 * screen form, see text_fit). */
int text_width(const char *s);
/* Writes s into out clipped or padded to exactly w cells, aligned; clipped
 * text ends with `ellipsis`. Newlines, tabs and CR become spaces; other
 * control characters are shown escaped (termsafe: ESC as \x1b). Cells and
 * tlines segments are stored in that form already. */
void text_fit(const char *s, int w, enum col_align al, const char *ellipsis, char *out,
              size_t n);

/* Sparkline of v[0..n) (oldest first), `width` cells, newest at the right,
 * padded with spaces on the left. The scale runs from min(0, min v) to
 * max v, so a flat non-zero series sits high and zeros sit at the bottom;
 * NAN samples print as spaces. */
void sparkline_values(const double *v, size_t n, int width, bool ascii, char *out, size_t outn);
void sparkline_ring(const struct ring *r, int width, bool ascii, char *out, size_t outn);
/* A `height`-row chart of the same scale; lines[0] is the top row. Each
 * line needs width * 4 + 1 bytes. */
void sparkline_chart(const double *v, size_t n, int width, int height, bool ascii, char **lines,
                 size_t linesz);

/* --- lines of styled segments (preambles, detail pages) ----------------- */

#define TLINE_SEGS 10
#define TSEG_MAX   256

struct tseg {
        enum theme_role role;
        char text[TSEG_MAX];
};

struct tline {
        struct tseg seg[TLINE_SEGS];
        int n;
};

struct tlines {
        struct tline *v;        /* owned */
        size_t n, cap;
};

void tlines_init(struct tlines *l);
void tlines_done(struct tlines *l);
/* Starts a new line with one segment ("" for an empty line). */
void tlines_add(struct tlines *l, enum theme_role role, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Appends a segment to the last line (starts one if there is none); extra
 * segments past TLINE_SEGS are dropped. */
void tlines_seg(struct tlines *l, enum theme_role role, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* "  key               value" with the value in `role`. */
void tlines_kv(struct tlines *l, const char *key, enum theme_role role, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* The whole line as plain text (for tests and find-in-page). */
void tline_text(const struct tline *t, char *buf, size_t n);

/* --- formatting shared by panes ----------------------------------------- */

/* "3s", "stale 42s" (role stale), "never" (role unknown). */
void view_fmt_age(const struct snapshot *s, int64_t now_mono, char *buf, size_t n,
                  enum theme_role *role);
/* A metric in its threshold unit: bytes "1.2 GiB", ms "3m04s", count "12",
 * rate "1.50/s"; NAN prints "-". */
void view_fmt_metric(enum thr_unit u, double v, char *buf, size_t n);
/* Worst alert severity for `source` (and `subject` unless NULL); SEV_OK
 * when none. */
enum severity view_alert_sev(const struct alert_list *l, const char *source,
                             const char *subject);
/* Severity of `v` against the source's threshold `metric` (OK when the
 * threshold is unknown, disabled or not reached). */
enum severity view_threshold_sev(const struct source_cfg *src, const char *metric, double v);
enum theme_role view_sev_role(enum severity s);
enum theme_role view_status_role(enum coll_status s);
enum severity view_worst(enum severity a, enum severity b);

/* --- panes -------------------------------------------------------------- */

struct view;

struct rect {
        int y, x, h, w;
};

/* Results of a pane's key hook (bitmask). */
#define VIEW_IGNORED 0
#define VIEW_HANDLED 1
#define VIEW_REDRAW  2

/* A pane key, for the help page and the footer. */
struct view_key {
        int         key;        /* what ops->key receives */
        const char *label;      /* "i" */
        const char *help;       /* help page: "toggle: only slots without a consumer" */
        const char *hint;       /* footer: "inactive"; NULL = help page only */
};

struct view_ops {
        const char *name;               /* ":name" and --view NAME */
        const char *title;              /* tab title */
        const char *collector;          /* kind it shows ("postgres"), NULL = all */
        const struct column *columns;
        /* Pure: fills rows for the table, in display order. */
        void (*rows)(const struct view_data *d, struct table_rows *out);
        /* Pure, optional: lines above the table. */
        void (*preamble)(const struct view_data *d, struct tlines *out);
        /* Pure, optional: the page Enter opens on row `id`. */
        void (*detail)(const struct view_data *d, const char *id, struct tlines *out);
        const char *detail_help;        /* "slot detail" (footer and help) */
        /* Optional custom drawing; NULL = preamble + table (or detail). */
        void (*draw)(struct view *v, struct _win_st *win, const struct rect *r,
                     const struct view_data *d);
        /* Optional pane keys, tried before the global keys. Returns VIEW_*. */
        int  (*key)(struct view *v, int ch);
        const struct view_key *keys;    /* for help; ends with { 0 } */
        const char *empty;              /* shown when there are no rows */
};

/* A pane's UI state; owned by the TUI, one per registry entry. */
struct view {
        const struct view_ops *ops;
        size_t  sel, top;               /* selected and first visible row */
        char    sel_id[TABLE_ID_MAX];   /* keeps the selection when rows move */
        bool    detail;                 /* the detail page is open */
        char    detail_id[TABLE_ID_MAX];
        int     detail_top;             /* first visible detail line */
        char    filter[128];            /* "/" filter; "" = none */
        unsigned flags;                 /* pane toggles, passed in view_data.flags */
        struct table_rows rows;         /* rows as last drawn (after the filter) */
        size_t  total;                  /* rows before the filter */
        int     rows_y, rows_h;         /* where the rows were drawn (mouse, paging) */
        int     detail_h;               /* detail lines visible last draw */
        size_t  detail_n;               /* detail lines last draw */
};

/* NULL-terminated registry (views/registry.c), in tab order. */
extern const struct view_ops *const view_registry[];
const struct view_ops *view_find(const char *name);

/* The generic pane: preamble + table, or the detail page when open.
 * Updates v (selection, scroll, rows). UI thread; draws on `win`. */
void view_draw_generic(struct view *v, struct _win_st *win, const struct rect *r,
                       const struct view_data *d);
void table_draw(struct view *v, struct _win_st *win, const struct rect *r,
                const struct view_data *d);
/* Draws lines [top, top + r->h) of l. */
void tlines_draw(struct _win_st *win, const struct rect *r, const struct tlines *l, int top,
                 bool ascii);

#endif
