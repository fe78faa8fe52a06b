/*
 * common: the pieces most panes draw the same way, written once: the
 * per-source status line of a preamble ("waiting for the first poll",
 * "down: error", the age of the data), the Alerts block of a detail page,
 * sparkline cells and history charts, and the detail page's scroll clamp.
 *
 * Everything here is pure (no curses, no globals) like the rows(),
 * preamble() and detail() functions that call it, except the sub-view and
 * key helpers and common_detail_scroll(), which work on a pane's UI state
 * on the UI thread.
 */
#ifndef LO_VIEWS_COMMON_H
#define LO_VIEWS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "views/view.h"

/* True when the source is polled by the collector named `kind`
 * ("postgres", "kafka", ...). */
bool common_is_kind(const struct source_cfg *src, const char *kind);

/* The configured source named `name`, of collector `kind` unless NULL, and
 * in *snap (unless snap is NULL) its snapshot; NULL and *snap NULL when
 * there is none. */
const struct source_cfg *common_source(const struct view_data *d, const char *kind,
                                       const char *name, const struct snapshot **snap);

/* --- the status of a source ----------------------------------------------- */

/* How the age of a snapshot reads in a status line. */
enum common_age {
        COMMON_AGE_LABEL,       /* "  age 3s", "  stale 42s" */
        COMMON_AGE_PREFIX,      /* "  age 3s", "  age stale 42s" */
        COMMON_AGE_BARE,        /* "  3s", "  stale 42s" */
};

/* Appends the age of `s` to the last line, dim unless stale or never. */
void common_age_seg(struct tlines *out, const struct snapshot *s, int64_t now_mono,
                    enum common_age style);
/* Appends "  waiting for the first poll" to the last line when there is no
 * snapshot yet (NULL or COLL_UNKNOWN) and returns true; else false. */
bool common_waiting(struct tlines *out, const struct snapshot *s);
/* Starts a source's line with its name and, when there is nothing to show
 * (no poll yet, down, or !have_data), ends it with "waiting for the first
 * poll" or "STATUS: error" and the age in `down_age` style and returns
 * false. Returns true when the caller goes on with the data. */
bool common_source_head(struct tlines *out, const struct view_data *d,
                        const struct source_cfg *src, const struct snapshot *s, bool have_data,
                        enum common_age down_age);
/* "  degraded: error" on a new line when the source is degraded with an
 * error. */
void common_degraded(struct tlines *out, const struct snapshot *s);

/* --- the Alerts block of detail pages ------------------------------------- */

typedef bool common_alert_match(const struct alert *a, const void *arg);

/* A blank line, "Alerts", then one "  SEV   message" line per alert that
 * `match` accepts, or "  none". */
void common_alerts_if(struct tlines *out, const struct view_data *d,
                      common_alert_match *match, const void *arg);
/* The same for the alerts of `source` about `subject` (NULL: any subject). */
void common_alerts(struct tlines *out, const struct view_data *d, const char *source,
                   const char *subject);

/* --- rows ----------------------------------------------------------------- */

/* The id of a row "SOURCE\tKEY", both clipped to what an id holds. */
void common_row_id(struct table_row *row, const char *source, const char *key);

/* Splits a row id "SOURCE\tKIND\tKEY": the source and the kind into the
 * buffers (clipped), *key to KEY. False when a tab is missing. */
bool common_split_id(const char *id, char *src, size_t ns, char *kind, size_t nk,
                     const char **key);

/* --- sparklines ----------------------------------------------------------- */

/* Cell `col` of a row: the sparkline of ring `r`, `width` cells (at most
 * TABLE_CELL_MAX / 4 - 1), in ROLE_SPARK. */
void common_spark_cell(struct table_row *row, int col, const struct ring *r, int width,
                       bool ascii);
/* A chart width for n samples in `width` cells: no wider than the
 * samples, no narrower than 8. */
int common_chart_width(int width, size_t n);
/* `height` lines of the chart of v[0..n) (see sparkline_chart), `width` cells
 * each, in ROLE_SPARK after `indent`. */
void common_chart(struct tlines *out, const double *v, size_t n, int width, int height,
                  bool ascii, const char *indent);

/* --- sub-views and keys (UI thread) --------------------------------------- */

/* The generic pane (view_draw_generic) with `columns`, and `empty` unless
 * NULL, in place of the pane's own: how a pane draws its current sub-view. */
void common_draw_columns(struct view *v, struct _win_st *win, const struct rect *r,
                         const struct view_data *d, const struct column *columns,
                         const char *empty);
/* Moves the field `mask` of *flags (its lowest bit at `shift`) to the next
 * of n values, after n - 1 back to 0; a value out of range counts as 0. */
void common_flags_cycle(unsigned *flags, unsigned mask, unsigned shift, unsigned n);
/* The table lists something else: back to its first row, no selection. */
void common_table_reset(struct view *v);

/* --- detail pages --------------------------------------------------------- */

/* The first line to show of a page of `total` lines, `h` at a time, when
 * `top` was asked for: no further down than the last page, no higher than
 * the first line. */
int common_clamp_top(int top, size_t total, int h);
/* Keeps v->detail_top within a page of `total` lines shown `h` at a time
 * and records both in v (detail_n, detail_h). UI thread. */
void common_detail_scroll(struct view *v, size_t total, int h);

#endif
