/*
 * Reconcile pane: one row per reconciliation check (sources of kind
 * "reconcile") -- status, buckets compared, mismatched, missing on either
 * side, in flight, the worst bucket and a sparkline of the mismatch count
 * over polls, which shows whether the speed and batch layers converge.
 * Counts are coloured by the check's `mismatched` and `missing`
 * thresholds; a check that is down shows why in the WORST column.
 *
 * Enter opens the check's bucket table: key, class, and per measure
 * "speed / batch / delta (delta %)", coloured by class (mismatch crit,
 * missing warn, within plain, match ok), newest first, with the in-flight
 * buckets dimmed; then the duplicated keys, the alerts and a chart of the
 * mismatch history. rows(), preamble() and detail() are pure (view.h).
 */
#include "views/view.h"
#include "views/common.h"
#include "views/reconcile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/reconcile/reconcile.h"
#include "core/ring.h"
#include "core/util.h"

#define RECV_SPARK_W    12
#define RECV_MEASURES   6       /* measures shown per bucket line */
#define RECV_MEASURE_W  34      /* cells per measure column on the bucket page */

static const struct column view_reconcile_columns[] = {
        [RECV_CHECK]      = { "CHECK",      -1, 12, COL_LEFT },
        [RECV_STATUS]     = { "STATUS",      8,  0, COL_LEFT },
        [RECV_COMPARED]   = { "COMPARED",    8,  0, COL_RIGHT },
        [RECV_MISMATCHED] = { "MISMATCH",    8,  0, COL_RIGHT },
        [RECV_MISS_SPEED] = { "MISS SPEED", 10,  0, COL_RIGHT },
        [RECV_MISS_BATCH] = { "MISS BATCH", 10,  0, COL_RIGHT },
        [RECV_IN_FLIGHT]  = { "IN FLIGHT",   9,  0, COL_RIGHT },
        [RECV_WORST]      = { "WORST BUCKET", -3, 16, COL_LEFT },
        [RECV_HIST]       = { "HISTORY", RECV_SPARK_W, 0, COL_LEFT },
        [RECV__COUNT]     = { NULL, 0, 0, COL_LEFT },
};

static const struct reconcile_data *view_reconcile_data(const struct snapshot *s)
{
        return s ? (const struct reconcile_data *)s->data : NULL;
}

static enum theme_role view_reconcile_class_role(enum reconcile_class c)
{
        switch (c) {
        case REC_MATCH:            return ROLE_OK;
        case REC_MISMATCH:         return ROLE_CRIT;
        case REC_MISSING_IN_SPEED:
        case REC_MISSING_IN_BATCH: return ROLE_WARN;
        case REC_IN_FLIGHT:        return ROLE_DIM;
        case REC_WITHIN:
        default:                   return ROLE_DEFAULT;
        }
}

/* A measure value: integers without a fraction, else up to 10 digits. */
static void view_reconcile_fmt_num(double v, bool sign, char *buf, size_t n)
{
        if (v == floor(v) && fabs(v) < 1e15)
                snprintf(buf, n, sign ? "%+.0f" : "%.0f", v);
        else
                snprintf(buf, n, sign ? "%+.10g" : "%.10g", v);
}

/* "speed / batch / +delta (+0.50%)" for measure m of bucket b. */
static void view_reconcile_fmt_measure(const struct reconcile_data *rd,
                                       const struct reconcile_bucket *b,
                                       size_t m, char *buf, size_t n)
{
        char s[40], t[40], dl[40], pc[32] = "";
        double v, delta, pct;
        bool isnull, has_pct;

        if (coll_reconcile_value(rd, b, REC_SPEED, m, &v, &isnull))
                view_reconcile_fmt_num(v, false, s, sizeof s);
        else
                str_copy(s, isnull ? "NULL" : "-", sizeof s);
        if (coll_reconcile_value(rd, b, REC_BATCH, m, &v, &isnull))
                view_reconcile_fmt_num(v, false, t, sizeof t);
        else
                str_copy(t, isnull ? "NULL" : "-", sizeof t);
        if (coll_reconcile_delta(rd, b, m, &delta, &pct, &has_pct)) {
                if (delta == 0) {
                        str_copy(dl, "0", sizeof dl);
                } else {
                        view_reconcile_fmt_num(delta, true, dl, sizeof dl);
                        if (has_pct)
                                snprintf(pc, sizeof pc, " (%+.2f%%)", pct);
                }
        } else {
                str_copy(dl, "-", sizeof dl);
        }
        snprintf(buf, n, "%s / %s / %s%s", s, t, dl, pc);
}

/* "2024-05-01T10:00:00.000Z amount +5.01 (+0.50%)". */
static void view_reconcile_fmt_worst(const struct reconcile_data *rd, char *buf, size_t n)
{
        const struct reconcile_bucket *b;
        char key[96], dl[40], pc[32] = "";
        double delta, pct;
        bool has_pct;

        if (!rd->has_worst) {
                str_copy(buf, "-", n);
                return;
        }
        b = &rd->buckets[rd->worst_bucket];
        coll_reconcile_key_text(rd, b, key, sizeof key);
        if (coll_reconcile_delta(rd, b, rd->worst_measure, &delta, &pct, &has_pct)) {
                view_reconcile_fmt_num(delta, true, dl, sizeof dl);
                if (has_pct)
                        snprintf(pc, sizeof pc, " (%+.2f%%)", pct);
        } else {
                str_copy(dl, "NULL vs value", sizeof dl);
        }
        snprintf(buf, n, "%s %s %s%s", key, rd->measures[rd->worst_measure], dl, pc);
}

static void view_reconcile_row(const struct view_data *d, const struct source_cfg *src,
                               const struct snapshot *s, struct table_row *row)
{
        const struct reconcile_data *rd = view_reconcile_data(s);
        enum coll_status st = s ? s->status : COLL_UNKNOWN;
        enum severity ms = SEV_OK, xs = SEV_OK;
        char buf[TABLE_CELL_MAX];

        str_copy(row->id, src->name, sizeof row->id);
        table_cell_set(row, RECV_CHECK, ROLE_DEFAULT, "%s", src->name);
        table_cell_set(row, RECV_STATUS, view_status_role(st), "%s", coll_status_name(st));
        if (!rd) {
                for (int c = RECV_COMPARED; c <= RECV_IN_FLIGHT; c++)
                        table_cell_set(row, c, ROLE_DIM, "-");
                if (s && s->error[0])
                        table_cell_set(row, RECV_WORST, st == COLL_DOWN ? ROLE_CRIT : ROLE_WARN,
                                       "%s", s->error);
                else
                        table_cell_set(row, RECV_WORST, ROLE_DIM, "waiting for the first poll");
        } else {
                ms = view_threshold_sev(src, "mismatched", (double)rd->mismatched);
                xs = view_threshold_sev(src, "missing",
                                        (double)(rd->missing_in_speed + rd->missing_in_batch));
                table_cell_set(row, RECV_COMPARED, ROLE_DEFAULT, "%zu", rd->compared);
                table_cell_set(row, RECV_MISMATCHED, rd->mismatched ? view_sev_role(ms) : ROLE_OK,
                               "%zu", rd->mismatched);
                table_cell_set(row, RECV_MISS_SPEED,
                               rd->missing_in_speed ? view_sev_role(xs) : ROLE_DEFAULT, "%zu",
                               rd->missing_in_speed);
                table_cell_set(row, RECV_MISS_BATCH,
                               rd->missing_in_batch ? view_sev_role(xs) : ROLE_DEFAULT, "%zu",
                               rd->missing_in_batch);
                table_cell_set(row, RECV_IN_FLIGHT, ROLE_DIM, "%zu", rd->in_flight);
                view_reconcile_fmt_worst(rd, buf, sizeof buf);
                table_cell_set(row, RECV_WORST, rd->has_worst ? view_sev_role(ms) : ROLE_DIM,
                               "%s", buf);
                common_spark_cell(row, RECV_HIST, &rd->hist, RECV_SPARK_W, d->ascii);
        }
        row->sev = view_alert_sev(d->alerts, src->name, NULL);
        row->sev = view_worst(row->sev, ms);
        row->sev = view_worst(row->sev, xs);
        row->stale = snapshot_is_stale(s, d->now_mono) != 0;
}

void view_reconcile_rows(const struct view_data *d, struct table_rows *out)
{
        for (size_t i = 0; i < d->n; i++)
                if (common_is_kind(&d->srcs[i], "reconcile"))
                        view_reconcile_row(d, &d->srcs[i], d->snaps[i], table_rows_add(out));
}

void view_reconcile_preamble(const struct view_data *d, struct tlines *out)
{
        size_t n = 0;

        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const struct reconcile_cfg *c = src->kind_cfg;
                const struct snapshot *s = d->snaps[i];
                char b[32];

                if (!common_is_kind(src, "reconcile"))
                        continue;
                n++;
                tlines_add(out, ROLE_TITLE, "%s", src->name);
                tlines_seg(out, ROLE_DIM, "  speed ");
                tlines_seg(out, ROLE_DEFAULT, "%s", c->speed.source.name);
                tlines_seg(out, ROLE_DIM, " vs batch ");
                tlines_seg(out, ROLE_DEFAULT, "%s", c->batch.source.name);
                if (c->settle_ms > 0) {
                        fmt_duration_ms(c->settle_ms, b, sizeof b);
                        tlines_seg(out, ROLE_DIM, "  settle %s", b);
                }
                if (s && s->status == COLL_DEGRADED && s->error[0])
                        tlines_seg(out, ROLE_WARN, "  %s", s->error);
        }
        if (!n)
                tlines_add(out, ROLE_DIM, "no reconcile checks configured");
}

/* Bucket indexes in display order: newest first; past the cap, the
 * buckets that are not `match` first. Returns how many (<= cap). */
static size_t view_reconcile_order(const struct reconcile_data *rd, size_t *idx, size_t cap)
{
        size_t n = 0;

        if (rd->n_buckets <= cap) {
                for (size_t i = rd->n_buckets; i-- > 0;)
                        idx[n++] = i;
                return n;
        }
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = rd->n_buckets; i-- > 0 && n < cap;)
                        if ((rd->buckets[i].cls != REC_MATCH) == (pass == 0))
                                idx[n++] = i;
        return n;
}

static void view_reconcile_detail_chart(const struct reconcile_data *rd, int width, bool ascii,
                                        struct tlines *out)
{
        enum { H = 6 };
        double v[RING_CAP], hi = 0;
        size_t n = ring_values(&rd->hist, v, RING_CAP);

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Mismatched buckets per poll");
        if (!n) {
                tlines_seg(out, ROLE_DIM, "  (no samples yet)");
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (v[i] > hi)
                        hi = v[i];
        tlines_seg(out, ROLE_DIM, "  (%zu polls, max %.0f, now %.0f)", n, hi, v[n - 1]);
        common_chart(out, v, n, common_chart_width(width, n), H, ascii, "  ");
}

void view_reconcile_detail(const struct view_data *d, const char *id, struct tlines *out)
{
        const struct source_cfg *src = NULL;
        const struct snapshot *s = NULL;
        const struct reconcile_data *rd;
        const struct reconcile_cfg *c;
        size_t *idx, n, shown_bad = 0;
        char buf[64];

        src = common_source(d, "reconcile", id, &s);
        tlines_add(out, ROLE_TITLE, "Check %s", id);
        if (!src) {
                tlines_add(out, ROLE_WARN, "  no such check");
                return;
        }
        c = src->kind_cfg;
        tlines_seg(out, ROLE_DIM, "  speed %s vs batch %s", c->speed.source.name,
                   c->batch.source.name);
        common_age_seg(out, s, d->now_mono, COMMON_AGE_LABEL);
        rd = view_reconcile_data(s);
        if (s && s->error[0])
                tlines_add(out, s->status == COLL_DOWN ? ROLE_CRIT : ROLE_WARN, "  %s: %s",
                           coll_status_name(s->status), s->error);
        if (!rd) {
                if (!s)
                        tlines_add(out, ROLE_UNKNOWN, "  waiting for the first poll");
                return;
        }
        tlines_add(out, ROLE_DEFAULT, "  compared %zu: ", rd->compared);
        tlines_seg(out, ROLE_OK, "%zu match", rd->matched);
        tlines_seg(out, ROLE_DEFAULT, ", %zu within", rd->within);
        tlines_seg(out, rd->mismatched ? ROLE_CRIT : ROLE_DEFAULT, ", %zu mismatch",
                   rd->mismatched);
        tlines_seg(out, rd->missing_in_speed + rd->missing_in_batch ? ROLE_WARN : ROLE_DEFAULT,
                   "   missing in speed %zu, in batch %zu", rd->missing_in_speed,
                   rd->missing_in_batch);
        tlines_seg(out, ROLE_DIM, "   in flight %zu", rd->in_flight);
        fmt_duration_ms(rd->settle_ms, buf, sizeof buf);
        tlines_add(out, ROLE_DIM, "  rows read: speed %zu, batch %zu   settle %s", rd->rows[0],
                   rd->rows[1], rd->settle_ms ? buf : "none");
        for (size_t i = 0; i < rd->n_dup_keys; i++)
                tlines_add(out, ROLE_WARN, "  duplicated key, not compared: %s", rd->dup_keys[i]);
        if (rd->duplicated > rd->n_dup_keys)
                tlines_add(out, ROLE_WARN, "  ... %zu more duplicated keys",
                           rd->duplicated - rd->n_dup_keys);

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_COLUMN, "  %-26s %-16s", "KEY", "CLASS");
        for (size_t m = 0; m < rd->n_measures && m < RECV_MEASURES; m++) {
                char h[TSEG_MAX];

                snprintf(h, sizeof h, "%s: speed / batch / delta", rd->measures[m]);
                tlines_seg(out, ROLE_COLUMN, "  %-*s", RECV_MEASURE_W, h);
        }
        idx = xcalloc(RECV_DETAIL_MAX, sizeof *idx);
        n = view_reconcile_order(rd, idx, RECV_DETAIL_MAX);
        for (size_t i = 0; i < n; i++) {
                const struct reconcile_bucket *b = &rd->buckets[idx[i]];

                if (b->cls != REC_MATCH)
                        shown_bad++;
        }
        for (size_t i = 0; i < n; i++) {
                const struct reconcile_bucket *b = &rd->buckets[idx[i]];
                enum theme_role r = view_reconcile_class_role(b->cls);
                char key[128], mv[TSEG_MAX];

                coll_reconcile_key_text(rd, b, key, sizeof key);
                tlines_add(out, b->cls == REC_IN_FLIGHT ? ROLE_DIM : ROLE_DEFAULT, "  %-26s", key);
                tlines_seg(out, r, " %-16s", coll_reconcile_class_name(b->cls));
                for (size_t m = 0; m < rd->n_measures && m < RECV_MEASURES; m++) {
                        view_reconcile_fmt_measure(rd, b, m, mv, sizeof mv);
                        tlines_seg(out, b->cls == REC_MATCH ? ROLE_DEFAULT : r, "  %-*s",
                                   RECV_MEASURE_W, mv);
                }
        }
        free(idx);
        if (rd->n_buckets > n) {
                size_t bad = rd->n_buckets - rd->matched;

                tlines_add(out, bad > shown_bad ? ROLE_WARN : ROLE_DIM,
                           "  ... %zu more buckets not listed (%zu of them not match)",
                           rd->n_buckets - n, bad - shown_bad);
        }
        if (!rd->n_buckets)
                tlines_add(out, ROLE_DIM, "  no buckets: both queries returned no rows");

        common_alerts(out, d, src->name, NULL);
        view_reconcile_detail_chart(rd, d->width - 4, d->ascii, out);
}

const struct view_ops view_reconcile_ops = {
        .name = "reconcile",
        .title = "Reconcile",
        .collector = "reconcile",
        .columns = view_reconcile_columns,
        .rows = view_reconcile_rows,
        .preamble = view_reconcile_preamble,
        .detail = view_reconcile_detail,
        .detail_help = "bucket table",
        .empty = "no reconcile checks configured",
};
