/*
 * table_draw: the curses half of the generic table pane. It asks the pane
 * for rows (pure), applies the "/" filter, keeps the selection on the same
 * row id as rows move, and draws column titles, rows (plain text of stale
 * rows dimmed; long left-aligned text spills into empty cells on its
 * right), preamble lines with a rule under them, and detail pages, all with
 * theme roles. UI thread only.
 */
#include "views/view.h"
#include "views/common.h"

#include <curses.h>
#include <string.h>

#include "core/theme.h"

/* Room for a clipped cell: every cell may be a 3-byte glyph. */
#define DRAW_BUF (TABLE_CELL_MAX * 4)

static void draw_text(WINDOW *win, int y, int x, int w, const char *s, enum col_align al,
                      int attr, bool ascii)
{
        char buf[DRAW_BUF];

        if (w <= 0)
                return;
        text_fit(s, w, al, view_glyphs(ascii)->ellipsis, buf, sizeof buf);
        wattrset(win, attr);
        mvwaddstr(win, y, x, buf);
}

static void draw_fill(WINDOW *win, int y, int x, int w, int attr)
{
        wattrset(win, attr);
        for (int i = 0; i < w; i++)
                mvwaddch(win, y, x + i, ' ');
}

void tlines_draw(WINDOW *win, const struct rect *r, const struct tlines *l, int top, bool ascii)
{
        for (int i = 0; i < r->h; i++) {
                size_t li = (size_t)top + (size_t)i;
                int x = r->x;

                if (top < 0 || li >= l->n)
                        break;
                for (int s = 0; s < l->v[li].n; s++) {
                        const struct tseg *sg = &l->v[li].seg[s];
                        int left = r->x + r->w - x, w = text_width(sg->text);

                        if (left <= 0)
                                break;
                        if (w > left)
                                w = left;
                        draw_text(win, r->y + i, x, w, sg->text, COL_LEFT,
                                  theme_attr(sg->role), ascii);
                        x += w;
                }
        }
        wattrset(win, A_NORMAL);
}

/* Recomputes v->rows and puts the selection back on the row it was on. */
static void table_refresh_rows(struct view *v, const struct view_data *d)
{
        int idx;

        table_rows_clear(&v->rows);
        v->ops->rows(d, &v->rows);
        v->total = v->rows.n;
        table_filter(&v->rows, v->filter);
        idx = table_find(&v->rows, v->sel_id);
        if (idx >= 0)
                v->sel = (size_t)idx;
        else if (v->rows.n && v->sel >= v->rows.n)
                v->sel = v->rows.n - 1;
        if (v->rows.n)
                memcpy(v->sel_id, v->rows.v[v->sel].id, sizeof v->sel_id);
        else
                v->sel_id[0] = '\0';
}

void table_draw(struct view *v, WINDOW *win, const struct rect *r, const struct view_data *d)
{
        const struct column *cols = v->ops->columns;
        int widths[TABLE_MAX_COLS], n, x;
        int body = r->h - 1;

        table_refresh_rows(v, d);
        v->rows_y = r->y + 1;
        v->rows_h = body > 0 ? body : 0;
        if (r->h <= 0 || r->w <= 2)
                return;
        n = table_layout(cols, r->w - 1, widths);

        /* Column titles. */
        draw_fill(win, r->y, r->x, r->w, theme_attr(ROLE_COLUMN));
        x = r->x + 1;
        for (int c = 0; c < n; c++) {
                draw_text(win, r->y, x, widths[c], cols[c].title, cols[c].align,
                          theme_attr(ROLE_COLUMN), d->ascii);
                x += widths[c] + 1;
        }
        if (body <= 0)
                return;

        if (v->rows.n == 0) {
                char msg[256];
                if (v->filter[0] && v->total)
                        snprintf(msg, sizeof msg, "no rows match /%s (Esc clears the filter)",
                                 v->filter);
                else
                        snprintf(msg, sizeof msg, "%s", v->ops->empty ? v->ops->empty : "no data");
                draw_text(win, r->y + 1, r->x + 1, r->w - 1, msg, COL_LEFT,
                          theme_attr(ROLE_DIM), d->ascii);
                return;
        }
        table_scroll(v->rows.n, body, &v->sel, &v->top);
        for (int i = 0; i < body; i++) {
                size_t ri = v->top + (size_t)i;
                const struct table_row *row;
                bool sel;

                if (ri >= v->rows.n)
                        break;
                row = &v->rows.v[ri];
                sel = ri == v->sel;
                if (sel)
                        draw_fill(win, r->y + 1 + i, r->x, r->w, theme_attr(ROLE_SELECTED));
                x = r->x + 1;
                for (int c = 0; c < n; c++) {
                        enum theme_role role = row->cell[c].role;
                        int attr, w = widths[c], next = c + 1;

                        /* Stale rows: plain text dims; states keep their colour. */
                        if (row->stale && role == ROLE_DEFAULT)
                                role = ROLE_DIM;
                        attr = theme_attr(sel ? ROLE_SELECTED : role);
                        /* Left-aligned text that does not fit spills into empty
                         * cells to its right, as in a spreadsheet. */
                        if (cols[c].align == COL_LEFT) {
                                int tw = text_width(row->cell[c].text);
                                while (tw > w && next < n && !row->cell[next].text[0] &&
                                       widths[next] > 0) {
                                        w += 1 + widths[next];
                                        next++;
                                }
                        }
                        draw_text(win, r->y + 1 + i, x, w, row->cell[c].text, cols[c].align,
                                  attr, d->ascii);
                        x += w + 1;
                        c = next - 1;
                }
        }
        wattrset(win, A_NORMAL);
}

static void view_draw_detail(struct view *v, WINDOW *win, const struct rect *r,
                             const struct view_data *d)
{
        struct tlines l;

        tlines_init(&l);
        v->ops->detail(d, v->detail_id, &l);
        common_detail_scroll(v, l.n, r->h);
        tlines_draw(win, r, &l, v->detail_top, d->ascii);
        tlines_done(&l);
}

void view_draw_generic(struct view *v, WINDOW *win, const struct rect *r,
                       const struct view_data *d)
{
        struct rect t = *r;

        if (v->detail && v->ops->detail) {
                view_draw_detail(v, win, r, d);
                return;
        }
        if (v->ops->preamble) {
                struct tlines l;
                struct rect pr = *r;
                int used;

                tlines_init(&l);
                v->ops->preamble(d, &l);
                /* The preamble never takes more than half the pane. */
                used = (int)l.n < r->h / 2 ? (int)l.n : r->h / 2;
                pr.h = used;
                pr.x = r->x + 1;
                pr.w = r->w - 1;
                tlines_draw(win, &pr, &l, 0, d->ascii);
                tlines_done(&l);
                if (used > 0 && used < r->h) {
                        /* A rule between the lines and the table. */
                        const char *hb = view_glyphs(d->ascii)->hbar;
                        wattrset(win, theme_attr(ROLE_BORDER));
                        wmove(win, r->y + used, r->x + 1);
                        for (int i = 1; i < r->w - 1; i++)
                                waddstr(win, hb);
                        used++;
                }
                t.y += used;
                t.h -= used;
        }
        table_draw(v, win, &t, d);
}
