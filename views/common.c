/*
 * common: status lines, the Alerts block, sparklines and charts shared by
 * the panes (see common.h).
 */
#include "views/common.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/collector.h"
#include "core/ring.h"
#include "core/util.h"

bool common_is_kind(const struct source_cfg *src, const char *kind)
{
        return src->ops && src->ops->name && strcmp(src->ops->name, kind) == 0;
}

const struct source_cfg *common_source(const struct view_data *d, const char *kind,
                                       const char *name, const struct snapshot **snap)
{
        if (snap)
                *snap = NULL;
        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];

                if (strcmp(src->name, name) != 0 || (kind && !common_is_kind(src, kind)))
                        continue;
                if (snap)
                        *snap = d->snaps[i];
                return src;
        }
        return NULL;
}

/* ---- the status of a source ---------------------------------------------- */

void common_age_seg(struct tlines *out, const struct snapshot *s, int64_t now_mono,
                    enum common_age style)
{
        enum theme_role role;
        char buf[64];

        view_fmt_age(s, now_mono, buf, sizeof buf, &role);
        tlines_seg(out, role == ROLE_DEFAULT ? ROLE_DIM : role, "  %s%s",
                   style == COMMON_AGE_PREFIX ||
                   (style == COMMON_AGE_LABEL && role != ROLE_STALE) ? "age " : "", buf);
}

bool common_waiting(struct tlines *out, const struct snapshot *s)
{
        if (s && s->status != COLL_UNKNOWN)
                return false;
        tlines_seg(out, ROLE_UNKNOWN, "  waiting for the first poll");
        return true;
}

bool common_source_head(struct tlines *out, const struct view_data *d,
                        const struct source_cfg *src, const struct snapshot *s, bool have_data,
                        enum common_age down_age)
{
        tlines_add(out, ROLE_TITLE, "%s", src->name);
        if (common_waiting(out, s))
                return false;
        if (s->status == COLL_DOWN || !have_data) {
                tlines_seg(out, view_status_role(s->status), "  %s: %s",
                           coll_status_name(s->status), s->error[0] ? s->error : "no data");
                common_age_seg(out, s, d->now_mono, down_age);
                return false;
        }
        return true;
}

void common_degraded(struct tlines *out, const struct snapshot *s)
{
        if (s->status == COLL_DEGRADED && s->error[0])
                tlines_add(out, ROLE_WARN, "  degraded: %s", s->error);
}

/* ---- the Alerts block ---------------------------------------------------- */

void common_alerts_if(struct tlines *out, const struct view_data *d,
                      common_alert_match *match, const void *arg)
{
        size_t na = 0;

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Alerts");
        for (size_t i = 0; d->alerts && i < d->alerts->n; i++) {
                const struct alert *a = &d->alerts->v[i];

                if (!match(a, arg))
                        continue;
                tlines_add(out, view_sev_role(a->sev), "  %-5s", severity_name(a->sev));
                tlines_seg(out, ROLE_DEFAULT, " %s", a->message);
                na++;
        }
        if (!na)
                tlines_add(out, ROLE_DIM, "  none");
}

struct common_about {
        const char *source, *subject;
};

static bool common_alert_about(const struct alert *a, const void *arg)
{
        const struct common_about *ab = arg;

        return strcmp(a->source, ab->source) == 0 &&
               (!ab->subject || strcmp(a->subject, ab->subject) == 0);
}

void common_alerts(struct tlines *out, const struct view_data *d, const char *source,
                   const char *subject)
{
        const struct common_about ab = { source, subject };

        common_alerts_if(out, d, common_alert_about, &ab);
}

/* ---- rows ---------------------------------------------------------------- */

void common_row_id(struct table_row *row, const char *source, const char *key)
{
        snprintf(row->id, sizeof row->id, "%.63s\t%.90s", source, key);
}

bool common_split_id(const char *id, char *src, size_t ns, char *kind, size_t nk,
                     const char **key)
{
        const char *t1 = strchr(id, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;

        if (!t1 || !t2)
                return false;
        snprintf(src, ns, "%.*s", (int)(t1 - id), id);
        snprintf(kind, nk, "%.*s", (int)(t2 - t1 - 1), t1 + 1);
        *key = t2 + 1;
        return true;
}

/* ---- sparklines ---------------------------------------------------------- */

void common_spark_cell(struct table_row *row, int col, const struct ring *r, int width,
                       bool ascii)
{
        char buf[TABLE_CELL_MAX];

        assert(width >= 0 && (size_t)width * 4 + 1 <= sizeof buf);
        sparkline_ring(r, width, ascii, buf, sizeof buf);
        table_cell_set(row, col, ROLE_SPARK, "%s", buf);
}

int common_chart_width(int width, size_t n)
{
        if (width > (int)n)
                width = (int)n;
        if (width < 8)
                width = 8;
        return width;
}

void common_chart(struct tlines *out, const double *v, size_t n, int width, int height,
                  bool ascii, const char *indent)
{
        size_t lsz = (size_t)(width > 0 ? width : 0) * 4 + 1;
        char **lines = xcalloc((size_t)height, sizeof *lines);

        for (int i = 0; i < height; i++)
                lines[i] = xmalloc(lsz);
        sparkline_chart(v, n, width, height, ascii, lines, lsz);
        for (int i = 0; i < height; i++) {
                tlines_add(out, ROLE_SPARK, "%s%s", indent, lines[i]);
                free(lines[i]);
        }
        free(lines);
}

/* ---- sub-views and keys -------------------------------------------------- */

void common_draw_columns(struct view *v, struct _win_st *win, const struct rect *r,
                         const struct view_data *d, const struct column *columns,
                         const char *empty)
{
        const struct view_ops *saved = v->ops;
        struct view_ops tmp = *saved;

        tmp.draw = NULL;
        tmp.columns = columns;
        if (empty)
                tmp.empty = empty;
        v->ops = &tmp;
        view_draw_generic(v, win, r, d);
        v->ops = saved;
}

void common_flags_cycle(unsigned *flags, unsigned mask, unsigned shift, unsigned n)
{
        unsigned x = (*flags & mask) >> shift;

        if (x >= n)
                x = 0;
        x = (x + 1) % n;
        *flags = (*flags & ~mask) | (x << shift);
}

void common_table_reset(struct view *v)
{
        v->sel = v->top = 0;
        v->sel_id[0] = '\0';
}

/* ---- detail pages -------------------------------------------------------- */

int common_clamp_top(int top, size_t total, int h)
{
        int maxtop = (int)total - h;

        if (maxtop < 0)
                maxtop = 0;
        if (top > maxtop)
                top = maxtop;
        return top < 0 ? 0 : top;
}

void common_detail_scroll(struct view *v, size_t total, int h)
{
        v->detail_top = common_clamp_top(v->detail_top, total, h);
        v->detail_n = total;
        v->detail_h = h;
}
