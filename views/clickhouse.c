/*
 * ClickHouse pane: the speed layer's serving store, for every source of
 * kind "clickhouse".
 *
 * Above the table, a block per source: version, uptime, memory in use with
 * its sparkline and the age of the data (or the error when it is down);
 * query latency p50/p95/p99 and counts for the 1, 5 and 15 minute windows,
 * p95 and p99 coloured by the latency_p95_ms / latency_p99_ms thresholds;
 * sparklines of the 1-minute p50/p95/p99 history; queries/s, failed/s
 * (coloured by failed_per_sec) and ingest rows/s and bytes/s, each with its
 * history; merges in progress and the parts limit (parts_to_delay_insert).
 * A source without query_log says so instead of the latency block.
 *
 * The table lists, per source, MergeTree tables (active parts, the most
 * parts in one partition against the limit, coloured by the
 * max_parts_per_partition threshold and crit at parts_to_delay_insert),
 * replicated tables (read-only, queue, delay), merges in progress and the
 * slowest recent queries (masked, shortened text). `s` cycles which of
 * these the table shows. Enter opens a page for the row: a table's parts,
 * merges and alerts; a replica's queue and alerts; a merge's progress; a
 * slow query's whole (shortened) text wrapped to the pane, with its
 * duration, user and time.
 *
 * rows(), preamble() and detail() are pure (see view.h).
 */
#include "views/view.h"
#include "views/clickhouse.h"
#include "views/common.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/clickhouse/clickhouse.h"
#include "core/ring.h"
#include "core/util.h"

#define CHV_SPARK_W 12

static const struct column view_clickhouse_columns[] = {
        [CHV_SOURCE] = { "SOURCE",   -1,  8, COL_LEFT },
        [CHV_KIND]   = { "KIND",      7,  0, COL_LEFT },
        [CHV_NAME]   = { "NAME",     -4, 20, COL_LEFT },
        [CHV_PARTS]  = { "PARTS",     6,  0, COL_RIGHT },
        [CHV_MAX]    = { "MAX/PART", 10,  0, COL_RIGHT },
        [CHV_ROWS]   = { "ROWS",      8,  0, COL_RIGHT },
        [CHV_SIZE]   = { "SIZE",     10,  0, COL_RIGHT },
        [CHV_STATE]  = { "STATE",    -2, 16, COL_LEFT },
        [CHV__COUNT] = { NULL, 0, 0, COL_LEFT },
};

static const char *const view_clickhouse_show_names[] = {
        "all", "tables", "replicas", "merges", "slow queries",
};

static const struct ch_data *view_clickhouse_data(const struct snapshot *s)
{
        return s ? (const struct ch_data *)s->data : NULL;
}

/* "850us"-free latency: "0ms", "4.5ms", "12ms", "1.25s"; "-" for NAN. */
static void view_clickhouse_fmt_ms(double ms, char *buf, size_t n)
{
        if (!isfinite(ms))
                snprintf(buf, n, "-");
        else if (ms < 10 && ms != floor(ms))
                snprintf(buf, n, "%.1fms", ms);
        else if (ms < 1000)
                snprintf(buf, n, "%.0fms", ms);
        else if (ms < 60000)
                snprintf(buf, n, "%.2fs", ms / 1000.0);
        else
                fmt_duration_ms((int64_t)ms, buf, n);
}

/* "3.2", "0", "0.05", "1.2k", "3.4M"; "-" for NAN. */
static void view_clickhouse_fmt_num(double v, char *buf, size_t n)
{
        if (!isfinite(v))
                snprintf(buf, n, "-");
        else if (v == 0)
                snprintf(buf, n, "0");
        else if (v < 0.1)
                snprintf(buf, n, "%.2f", v);
        else if (v < 10)
                snprintf(buf, n, "%.1f", v);
        else if (v < 10000)
                snprintf(buf, n, "%.0f", v);
        else if (v < 1e6)
                snprintf(buf, n, "%.1fk", v / 1e3);
        else if (v < 1e9)
                snprintf(buf, n, "%.1fM", v / 1e6);
        else
                snprintf(buf, n, "%.1fG", v / 1e9);
}

/* Severity of a table's fullest partition: the threshold, and crit at the
 * server's parts_to_delay_insert. */
static enum severity view_clickhouse_parts_sev(const struct source_cfg *src,
                                               const struct ch_data *cd,
                                               const struct ch_table *t)
{
        if (cd->parts_to_delay_insert > 0 &&
            t->max_parts_per_partition >= cd->parts_to_delay_insert)
                return SEV_CRIT;
        return view_threshold_sev(src, "max_parts_per_partition",
                                  (double)t->max_parts_per_partition);
}

static enum severity view_clickhouse_replica_sev(const struct source_cfg *src,
                                                 const struct ch_replica *r)
{
        enum severity s = SEV_OK;

        if (r->is_readonly || r->is_session_expired)
                return SEV_CRIT;
        if (r->queue_size >= 0)
                s = view_worst(s, view_threshold_sev(src, "replica_queue", (double)r->queue_size));
        if (r->absolute_delay_s >= 0)
                s = view_worst(s, view_threshold_sev(src, "replica_delay_s",
                                                     (double)r->absolute_delay_s));
        return s;
}

/* A short stable key for a slow query: its time and a hash of its text. */
static void view_clickhouse_slow_key(const struct ch_slow_query *q, char *buf, size_t n)
{
        uint32_t h = 2166136261u;

        for (const char *p = q->query ? q->query : ""; *p; p++)
                h = (h ^ (unsigned char)*p) * 16777619u;
        snprintf(buf, n, "%lld-%08x", (long long)q->at, h);
}

/* A row key (clipped to 80 bytes in row ids) names `name`. */
static bool view_clickhouse_key_is(const char *name, const char *key)
{
        size_t nl = strlen(name), kl = strlen(key);

        return nl <= 80 ? nl == kl && strcmp(name, key) == 0
                        : kl == 80 && strncmp(name, key, 80) == 0;
}

/* ---- rows ---------------------------------------------------------------- */

static void view_clickhouse_row_id(struct table_row *row, const char *src, const char *kind,
                                   const char *key)
{
        /* Source names are short; keys are clipped to what fits. */
        snprintf(row->id, sizeof row->id, "%.63s\t%.7s\t%.80s", src, kind, key);
}

static void view_clickhouse_table_row(const struct view_data *d, const struct source_cfg *src,
                                      const struct snapshot *s, const struct ch_data *cd,
                                      const struct ch_table *t, struct table_row *row)
{
        char name[TABLE_CELL_MAX], buf[64];
        enum severity sev = view_clickhouse_parts_sev(src, cd, t);

        snprintf(name, sizeof name, "%s.%s", t->database, t->table);
        view_clickhouse_row_id(row, src->name, "table", name);
        table_cell_set(row, CHV_SOURCE, ROLE_DEFAULT, "%s", src->name);
        table_cell_set(row, CHV_KIND, ROLE_DIM, "table");
        table_cell_set(row, CHV_NAME, ROLE_DEFAULT, "%s", name);
        table_cell_set(row, CHV_PARTS, ROLE_DEFAULT, "%lld", (long long)t->active_parts);
        table_cell_set(row, CHV_MAX, view_sev_role(sev), "%lld/%lld",
                       (long long)t->max_parts_per_partition, (long long)cd->parts_to_delay_insert);
        if (t->rows >= 0 && t->rows < 10000)
                snprintf(buf, sizeof buf, "%lld", (long long)t->rows);
        else
                view_clickhouse_fmt_num(t->rows >= 0 ? (double)t->rows : NAN, buf, sizeof buf);
        table_cell_set(row, CHV_ROWS, ROLE_DEFAULT, "%s", buf);
        fmt_bytes_or_dash(t->bytes >= 0 ? (double)t->bytes : NAN, buf, sizeof buf);
        table_cell_set(row, CHV_SIZE, ROLE_DEFAULT, "%s", buf);
        if (sev == SEV_CRIT && t->max_parts_per_partition >= cd->parts_to_delay_insert)
                table_cell_set(row, CHV_STATE, ROLE_CRIT, "inserts delayed");
        else if (t->merges > 0)
                table_cell_set(row, CHV_STATE, ROLE_DEFAULT, "%d merging", t->merges);
        else
                table_cell_set(row, CHV_STATE, ROLE_DIM, "-");
        row->sev = view_worst(sev, view_alert_sev(d->alerts, src->name, name));
        row->stale = snapshot_is_stale(s, d->now_mono) != 0;
}

static void view_clickhouse_replica_row(const struct view_data *d, const struct source_cfg *src,
                                        const struct snapshot *s, const struct ch_replica *r,
                                        struct table_row *row)
{
        char name[TABLE_CELL_MAX], q[32], dl[32];
        enum severity sev = view_clickhouse_replica_sev(src, r);

        snprintf(name, sizeof name, "%s.%s", r->database, r->table);
        view_clickhouse_row_id(row, src->name, "replica", name);
        table_cell_set(row, CHV_SOURCE, ROLE_DEFAULT, "%s", src->name);
        table_cell_set(row, CHV_KIND, ROLE_DIM, "replica");
        table_cell_set(row, CHV_NAME, ROLE_DEFAULT, "%s", name);
        if (r->queue_size >= 0)
                snprintf(q, sizeof q, "%lld", (long long)r->queue_size);
        else
                str_copy(q, "-", sizeof q);
        if (r->absolute_delay_s >= 0)
                fmt_duration_ms(r->absolute_delay_s * 1000, dl, sizeof dl);
        else
                str_copy(dl, "-", sizeof dl);
        if (r->is_readonly)
                table_cell_set(row, CHV_STATE, ROLE_CRIT, "read-only, queue %s, delay %s", q, dl);
        else if (r->is_session_expired)
                table_cell_set(row, CHV_STATE, ROLE_CRIT, "session expired, queue %s", q);
        else
                table_cell_set(row, CHV_STATE, view_sev_role(sev), "queue %s, delay %s", q, dl);
        row->sev = view_worst(sev, view_alert_sev(d->alerts, src->name, name));
        row->stale = snapshot_is_stale(s, d->now_mono) != 0;
}

static void view_clickhouse_merge_row(const struct view_data *d, const struct source_cfg *src,
                                      const struct snapshot *s, const struct ch_merge *m,
                                      struct table_row *row)
{
        char name[TABLE_CELL_MAX], buf[64], el[32];

        snprintf(name, sizeof name, "%s.%s", m->database, m->table);
        view_clickhouse_row_id(row, src->name, "merge", m->result_part ? m->result_part : name);
        table_cell_set(row, CHV_SOURCE, ROLE_DEFAULT, "%s", src->name);
        table_cell_set(row, CHV_KIND, ROLE_DIM, "merge");
        table_cell_set(row, CHV_NAME, ROLE_DEFAULT, "%s -> %s", name,
                       m->result_part ? m->result_part : "?");
        if (m->num_parts >= 0)
                table_cell_set(row, CHV_PARTS, ROLE_DEFAULT, "%lld", (long long)m->num_parts);
        if (m->bytes >= 0) {
                fmt_bytes((double)m->bytes, buf, sizeof buf);
                table_cell_set(row, CHV_SIZE, ROLE_DEFAULT, "%s", buf);
        }
        if (isfinite(m->elapsed_s))
                fmt_duration_ms((int64_t)(m->elapsed_s * 1000), el, sizeof el);
        else
                str_copy(el, "-", sizeof el);
        if (isfinite(m->progress))
                table_cell_set(row, CHV_STATE, ROLE_DEFAULT, "%.0f%% after %s",
                               m->progress * 100.0, el);
        else
                table_cell_set(row, CHV_STATE, ROLE_DEFAULT, "running %s", el);
        row->stale = snapshot_is_stale(s, d->now_mono) != 0;
}

static void view_clickhouse_slow_row(const struct view_data *d, const struct source_cfg *src,
                                     const struct snapshot *s, const struct ch_data *cd,
                                     const struct ch_slow_query *q, struct table_row *row)
{
        char key[48], dur[32], ago[32];
        int64_t age_ms = cd->window_end > 0 && q->at > 0 ? cd->window_end * 1000 - q->at : -1;
        enum severity sev = view_threshold_sev(src, "latency_p99_ms", (double)q->duration_ms);

        view_clickhouse_slow_key(q, key, sizeof key);
        view_clickhouse_row_id(row, src->name, "slow", key);
        table_cell_set(row, CHV_SOURCE, ROLE_DEFAULT, "%s", src->name);
        table_cell_set(row, CHV_KIND, ROLE_DIM, "slow");
        table_cell_set(row, CHV_NAME, ROLE_DEFAULT, "%s", q->query ? q->query : "");
        view_clickhouse_fmt_ms((double)q->duration_ms, dur, sizeof dur);
        if (age_ms >= 0) {
                fmt_duration_ms(age_ms < 1000 ? 0 : age_ms, ago, sizeof ago);
                table_cell_set(row, CHV_STATE, sev == SEV_OK ? ROLE_DEFAULT : view_sev_role(sev),
                               "%s, %s ago%s%s", dur, age_ms < 1000 ? "0s" : ago,
                               q->user ? ", " : "", q->user ? q->user : "");
        } else {
                table_cell_set(row, CHV_STATE, sev == SEV_OK ? ROLE_DEFAULT : view_sev_role(sev),
                               "%s%s%s", dur, q->user ? ", " : "", q->user ? q->user : "");
        }
        row->stale = snapshot_is_stale(s, d->now_mono) != 0;
}

void view_clickhouse_rows(const struct view_data *d, struct table_rows *out)
{
        unsigned show = d->flags & VIEW_CH_SHOW_MASK;

        /* Sections in order: tables, replicas, merges, slow queries; sources
         * in config order within each. */
        for (unsigned kind = VIEW_CH_SHOW_TABLES; kind <= VIEW_CH_SHOW_SLOW; kind++) {
                if (show && show != kind)
                        continue;
                for (size_t i = 0; i < d->n; i++) {
                        const struct source_cfg *src = &d->srcs[i];
                        const struct snapshot *s = d->snaps[i];
                        const struct ch_data *cd = view_clickhouse_data(s);

                        if (!common_is_kind(src, "clickhouse") || !cd)
                                continue;
                        if (kind == VIEW_CH_SHOW_TABLES)
                                for (size_t j = 0; j < cd->n_tables; j++)
                                        view_clickhouse_table_row(d, src, s, cd, &cd->tables[j],
                                                                  table_rows_add(out));
                        else if (kind == VIEW_CH_SHOW_REPLICAS)
                                for (size_t j = 0; j < cd->n_replicas; j++)
                                        view_clickhouse_replica_row(d, src, s, &cd->replicas[j],
                                                                    table_rows_add(out));
                        else if (kind == VIEW_CH_SHOW_MERGES)
                                for (size_t j = 0; j < cd->n_merge_list; j++)
                                        view_clickhouse_merge_row(d, src, s, &cd->merge_list[j],
                                                                  table_rows_add(out));
                        else
                                for (size_t j = 0; j < cd->n_slow; j++)
                                        view_clickhouse_slow_row(d, src, s, cd, &cd->slow[j],
                                                                 table_rows_add(out));
                }
        }
}

/* ---- preamble ------------------------------------------------------------ */

static void view_clickhouse_lat_line(struct tlines *out, const struct source_cfg *src,
                                     const char *name,
                                     const struct ch_latency *l)
{
        char a[32], b[32], c[32];

        view_clickhouse_fmt_ms(l->count > 0 ? l->p50 : NAN, a, sizeof a);
        view_clickhouse_fmt_ms(l->count > 0 ? l->p95 : NAN, b, sizeof b);
        view_clickhouse_fmt_ms(l->count > 0 ? l->p99 : NAN, c, sizeof c);
        tlines_add(out, ROLE_DIM, "  %8s", name);
        tlines_seg(out, l->count > 0 ? ROLE_DEFAULT : ROLE_DIM, " %9s", a);
        tlines_seg(out, l->count > 0 ? view_sev_role(view_threshold_sev(src, "latency_p95_ms",
                                                                         l->p95)) : ROLE_DIM,
                   " %9s", b);
        tlines_seg(out, l->count > 0 ? view_sev_role(view_threshold_sev(src, "latency_p99_ms",
                                                                         l->p99)) : ROLE_DIM,
                   " %9s", c);
        tlines_seg(out, ROLE_DEFAULT, " %9lld", (long long)(l->count > 0 ? l->count : 0));
}

static void view_clickhouse_spark_seg(struct tlines *out, const struct ring *r, bool ascii)
{
        char buf[CHV_SPARK_W * 4 + 1];

        sparkline_ring(r, CHV_SPARK_W, ascii, buf, sizeof buf);
        tlines_seg(out, ROLE_SPARK, " %s", buf);
}

static void view_clickhouse_source_block(const struct view_data *d, const struct source_cfg *src,
                                         const struct snapshot *s, struct tlines *out)
{
        const struct ch_data *cd = view_clickhouse_data(s);
        char buf[64], b2[64];
        enum severity sev;

        if (!common_source_head(out, d, src, s, cd, COMMON_AGE_LABEL))
                return;
        common_age_seg(out, s, d->now_mono, COMMON_AGE_LABEL);
        tlines_seg(out, ROLE_DEFAULT, "  ClickHouse %s", cd->version ? cd->version : "?");
        if (cd->uptime_s >= 0) {
                fmt_duration_ms(cd->uptime_s * 1000, buf, sizeof buf);
                tlines_seg(out, ROLE_DIM, "  up %s", buf);
        }
        if (cd->memory_bytes >= 0) {
                fmt_bytes((double)cd->memory_bytes, buf, sizeof buf);
                tlines_seg(out, ROLE_DEFAULT, "  memory %s", buf);
                view_clickhouse_spark_seg(out, &cd->mem_hist, d->ascii);
        }
        common_degraded(out, s);

        if (cd->query_log) {
                tlines_add(out, ROLE_DIM, "  %8s %9s %9s %9s %9s", "latency", "p50", "p95",
                           "p99", "queries");
                view_clickhouse_lat_line(out, src, "1m", &cd->lat[CH_W1M]);
                view_clickhouse_lat_line(out, src, "5m", &cd->lat[CH_W5M]);
                view_clickhouse_lat_line(out, src, "15m", &cd->lat[CH_W15M]);
                tlines_add(out, ROLE_DIM, "  1m history  p50");
                view_clickhouse_spark_seg(out, &cd->p50_hist, d->ascii);
                tlines_seg(out, ROLE_DIM, "  p95");
                view_clickhouse_spark_seg(out, &cd->p95_hist, d->ascii);
                tlines_seg(out, ROLE_DIM, "  p99");
                view_clickhouse_spark_seg(out, &cd->p99_hist, d->ascii);
        } else {
                tlines_add(out, ROLE_WARN, "  query_log: false -- latency unknown (set "
                           "log_queries=1 and a <query_log> section); rates from system.events");
        }

        view_clickhouse_fmt_num(cd->queries_per_sec, buf, sizeof buf);
        tlines_add(out, ROLE_DEFAULT, "  %s q/s", buf);
        view_clickhouse_spark_seg(out, &cd->qps_hist, d->ascii);
        sev = view_threshold_sev(src, "failed_per_sec", cd->failed_per_sec);
        view_clickhouse_fmt_num(cd->failed_per_sec, buf, sizeof buf);
        tlines_seg(out, isfinite(cd->failed_per_sec) ? view_sev_role(sev) : ROLE_DIM,
                   "  %s failed/s", buf);
        view_clickhouse_spark_seg(out, &cd->failed_hist, d->ascii);
        view_clickhouse_fmt_num(cd->inserted_rows_per_sec, buf, sizeof buf);
        fmt_bytes_or_dash(cd->inserted_bytes_per_sec, b2, sizeof b2);
        tlines_seg(out, ROLE_DEFAULT, "  ingest %s rows/s %s/s", buf, b2);
        view_clickhouse_spark_seg(out, &cd->rows_hist, d->ascii);
        if (cd->merges >= 0)
                tlines_seg(out, ROLE_DEFAULT, "  merges %d", cd->merges);
        else
                tlines_seg(out, ROLE_DIM, "  merges -");
        tlines_seg(out, ROLE_DIM, "  parts limit %lld", (long long)cd->parts_to_delay_insert);
}

void view_clickhouse_preamble(const struct view_data *d, struct tlines *out)
{
        size_t n = 0;
        unsigned show = d->flags & VIEW_CH_SHOW_MASK;

        for (size_t i = 0; i < d->n; i++) {
                if (!common_is_kind(&d->srcs[i], "clickhouse"))
                        continue;
                n++;
                view_clickhouse_source_block(d, &d->srcs[i], d->snaps[i], out);
        }
        if (!n)
                tlines_add(out, ROLE_DIM, "no clickhouse sources configured");
        else if (show && show < LO_ARRAY_LEN(view_clickhouse_show_names))
                tlines_add(out, ROLE_PROMPT, "showing %s only (s cycles: all, tables, replicas, "
                           "merges, slow queries)", view_clickhouse_show_names[show]);
}

/* ---- detail ------------------------------------------------------------- */

/* Wraps text to lines of at most w cells (UTF-8 aware, breaking at spaces
 * where possible). */
static void view_clickhouse_wrap(struct tlines *out, const char *text, int w, enum theme_role role)
{
        const char *p = text;

        if (w < 20)
                w = 20;
        if (w > TSEG_MAX / 4 - 4)
                w = TSEG_MAX / 4 - 4;
        while (*p) {
                const char *q = p, *brk = NULL;
                int cells = 0;

                while (*q && cells < w) {
                        if (*q == ' ')
                                brk = q;
                        q++;
                        while (((unsigned char)*q & 0xC0) == 0x80)
                                q++;
                        cells++;
                }
                if (*q && brk && brk > p)
                        q = brk;
                tlines_add(out, role, "    %.*s", (int)(q - p), p);
                p = q;
                while (*p == ' ')
                        p++;
        }
}

static void view_clickhouse_detail_table(const struct view_data *d, const struct source_cfg *src,
                                         const struct ch_data *cd, const char *key,
                                         struct tlines *out)
{
        const struct ch_table *t = NULL;
        char name[TABLE_CELL_MAX], buf[64];
        enum severity sev;
        size_t nm = 0;

        for (size_t i = 0; i < cd->n_tables && !t; i++) {
                snprintf(name, sizeof name, "%s.%s", cd->tables[i].database, cd->tables[i].table);
                if (view_clickhouse_key_is(name, key))
                        t = &cd->tables[i];
        }
        tlines_add(out, ROLE_TITLE, "Table %s", key);
        tlines_seg(out, ROLE_DIM, "  on %s", src->name);
        if (!t) {
                tlines_add(out, ROLE_WARN, "  this table is not in the latest data (dropped, or "
                           "no active parts?)");
                return;
        }
        tlines_kv(out, "active parts", ROLE_DEFAULT, "%lld", (long long)t->active_parts);
        sev = view_clickhouse_parts_sev(src, cd, t);
        tlines_kv(out, "max parts/partition", view_sev_role(sev), "%lld",
                  (long long)t->max_parts_per_partition);
        tlines_seg(out, ROLE_DIM, "  in partition %s", t->max_partition ? t->max_partition : "?");
        tlines_kv(out, "parts_to_delay_insert", ROLE_DEFAULT, "%lld",
                  (long long)cd->parts_to_delay_insert);
        tlines_seg(out, ROLE_DIM, "  (INSERTs slow down at this many parts in one partition)");
        if (t->rows >= 0)
                tlines_kv(out, "rows", ROLE_DEFAULT, "%lld", (long long)t->rows);
        if (t->bytes >= 0) {
                fmt_bytes((double)t->bytes, buf, sizeof buf);
                tlines_kv(out, "on disk", ROLE_DEFAULT, "%s", buf);
        }
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Merges in progress");
        for (size_t i = 0; i < cd->n_merge_list; i++) {
                const struct ch_merge *m = &cd->merge_list[i];
                char el[32];

                if (strcmp(m->database, t->database) != 0 || strcmp(m->table, t->table) != 0)
                        continue;
                fmt_duration_ms(isfinite(m->elapsed_s) ? (int64_t)(m->elapsed_s * 1000) : 0, el,
                                sizeof el);
                tlines_add(out, ROLE_DEFAULT, "  %s", m->result_part ? m->result_part : "?");
                tlines_seg(out, ROLE_DIM, "  %lld parts, %.0f%% after %s", (long long)m->num_parts,
                           isfinite(m->progress) ? m->progress * 100 : 0.0, el);
                nm++;
        }
        if (!nm)
                tlines_add(out, ROLE_DIM, "  none");
        common_alerts(out, d, src->name, key);
}

static void view_clickhouse_detail_replica(const struct view_data *d, const struct source_cfg *src,
                                           const struct ch_data *cd, const char *key,
                                           struct tlines *out)
{
        const struct ch_replica *r = NULL;
        char name[TABLE_CELL_MAX], buf[32];

        for (size_t i = 0; i < cd->n_replicas && !r; i++) {
                snprintf(name, sizeof name, "%s.%s", cd->replicas[i].database,
                         cd->replicas[i].table);
                if (view_clickhouse_key_is(name, key))
                        r = &cd->replicas[i];
        }
        tlines_add(out, ROLE_TITLE, "Replicated table %s", key);
        tlines_seg(out, ROLE_DIM, "  on %s", src->name);
        if (!r) {
                tlines_add(out, ROLE_WARN, "  this replica is not in the latest data");
                return;
        }
        tlines_kv(out, "read-only", r->is_readonly ? ROLE_CRIT : ROLE_OK, "%s",
                  r->is_readonly ? "yes (no ZooKeeper/Keeper session: INSERTs fail)" : "no");
        tlines_kv(out, "session expired", r->is_session_expired ? ROLE_CRIT : ROLE_OK, "%s",
                  r->is_session_expired ? "yes" : "no");
        tlines_kv(out, "queue size", view_sev_role(view_threshold_sev(src, "replica_queue",
                                                                      (double)r->queue_size)),
                  "%lld", (long long)r->queue_size);
        tlines_kv(out, "inserts / merges", ROLE_DEFAULT, "%lld / %lld in the queue",
                  (long long)r->inserts_in_queue, (long long)r->merges_in_queue);
        if (r->absolute_delay_s >= 0) {
                fmt_duration_ms(r->absolute_delay_s * 1000, buf, sizeof buf);
                tlines_kv(out, "absolute delay", view_sev_role(view_threshold_sev(
                                  src, "replica_delay_s", (double)r->absolute_delay_s)),
                          "%s", buf);
        } else {
                tlines_kv(out, "absolute delay", ROLE_DIM, "- (not reported by this version)");
        }
        common_alerts(out, d, src->name, key);
}

static void view_clickhouse_detail_merge(const struct source_cfg *src, const struct ch_data *cd,
                                         const char *key, struct tlines *out)
{
        const struct ch_merge *m = NULL;
        char buf[32];

        for (size_t i = 0; i < cd->n_merge_list && !m; i++)
                if (cd->merge_list[i].result_part &&
                    view_clickhouse_key_is(cd->merge_list[i].result_part, key))
                        m = &cd->merge_list[i];
        tlines_add(out, ROLE_TITLE, "Merge into %s", key);
        tlines_seg(out, ROLE_DIM, "  on %s", src->name);
        if (!m) {
                tlines_add(out, ROLE_DIM, "  finished (no longer in system.merges)");
                return;
        }
        tlines_kv(out, "table", ROLE_DEFAULT, "%s.%s", m->database, m->table);
        tlines_kv(out, "source parts", ROLE_DEFAULT, "%lld", (long long)m->num_parts);
        tlines_kv(out, "progress", ROLE_DEFAULT, "%.1f%%",
                  isfinite(m->progress) ? m->progress * 100 : 0.0);
        fmt_duration_ms(isfinite(m->elapsed_s) ? (int64_t)(m->elapsed_s * 1000) : 0, buf,
                        sizeof buf);
        tlines_kv(out, "elapsed", ROLE_DEFAULT, "%s", buf);
        if (m->bytes >= 0) {
                fmt_bytes((double)m->bytes, buf, sizeof buf);
                tlines_kv(out, "compressed size", ROLE_DEFAULT, "%s", buf);
        }
}

static void view_clickhouse_detail_slow(const struct view_data *d, const struct source_cfg *src,
                                        const struct ch_data *cd, const char *key,
                                        struct tlines *out)
{
        const struct ch_slow_query *q = NULL;
        char k[48], buf[40];

        for (size_t i = 0; i < cd->n_slow && !q; i++) {
                view_clickhouse_slow_key(&cd->slow[i], k, sizeof k);
                if (strcmp(k, key) == 0)
                        q = &cd->slow[i];
        }
        tlines_add(out, ROLE_TITLE, "Slow query");
        tlines_seg(out, ROLE_DIM, "  on %s", src->name);
        if (!q) {
                tlines_add(out, ROLE_DIM, "  no longer among the slowest of the last 15 minutes");
                return;
        }
        view_clickhouse_fmt_ms((double)q->duration_ms, buf, sizeof buf);
        tlines_kv(out, "duration", view_sev_role(view_threshold_sev(src, "latency_p99_ms",
                                                                    (double)q->duration_ms)),
                  "%s", buf);
        if (q->at > 0) {
                fmt_rfc3339(q->at, buf, sizeof buf);
                tlines_kv(out, "finished", ROLE_DEFAULT, "%s", buf);
        }
        tlines_kv(out, "user", ROLE_DEFAULT, "%s", q->user ? q->user : "-");
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Query");
        tlines_seg(out, ROLE_DIM, "  (whitespace collapsed, secrets masked, shortened)");
        view_clickhouse_wrap(out, q->query ? q->query : "", d->width - 6, ROLE_DEFAULT);
}

void view_clickhouse_detail(const struct view_data *d, const char *id, struct tlines *out)
{
        const struct source_cfg *src = NULL;
        const struct snapshot *s = NULL;
        const struct ch_data *cd;
        char sname[96], kind[16];
        const char *key;

        if (!common_split_id(id, sname, sizeof sname, kind, sizeof kind, &key)) {
                tlines_add(out, ROLE_WARN, "no such row");
                return;
        }
        src = common_source(d, NULL, sname, &s);
        cd = view_clickhouse_data(s);
        if (!src || !cd) {
                tlines_add(out, ROLE_TITLE, "%s", key);
                tlines_seg(out, ROLE_DIM, "  on %s", sname);
                tlines_add(out, ROLE_WARN, "  no data from this source%s%s",
                           s && s->error[0] ? ": " : "", s && s->error[0] ? s->error : "");
                return;
        }
        if (strcmp(kind, "table") == 0)
                view_clickhouse_detail_table(d, src, cd, key, out);
        else if (strcmp(kind, "replica") == 0)
                view_clickhouse_detail_replica(d, src, cd, key, out);
        else if (strcmp(kind, "merge") == 0)
                view_clickhouse_detail_merge(src, cd, key, out);
        else
                view_clickhouse_detail_slow(d, src, cd, key, out);
}

static int view_clickhouse_key(struct view *v, int ch)
{
        if (ch != 's')
                return VIEW_IGNORED;
        common_flags_cycle(&v->flags, VIEW_CH_SHOW_MASK, 0,
                           LO_ARRAY_LEN(view_clickhouse_show_names));
        return VIEW_HANDLED | VIEW_REDRAW;
}

static const struct view_key view_clickhouse_keys[] = {
        { 's', "s", "cycle what the table shows: all, tables, replicas, merges, slow queries",
          "show" },
        { 0, NULL, NULL, NULL },
};

const struct view_ops view_clickhouse_ops = {
        .name = "clickhouse",
        .title = "ClickHouse",
        .collector = "clickhouse",
        .columns = view_clickhouse_columns,
        .rows = view_clickhouse_rows,
        .preamble = view_clickhouse_preamble,
        .detail = view_clickhouse_detail,
        .detail_help = "row detail",
        .key = view_clickhouse_key,
        .keys = view_clickhouse_keys,
        .empty = "no ClickHouse tables, replicas, merges or slow queries",
};
