/*
 * Kafka pane: brokers, the KRaft quorum, topics and consumer groups of every
 * source of kind "kafka".
 *
 * The first line per source always says the same thing whatever the table
 * shows: cluster id, brokers up, the quorum leader and epoch (or "quorum
 * unavailable: <reason>") and the worst group with its status, lag and lag
 * in seconds, then the age of the data or the error. `v` cycles the table
 * between three sub-views:
 *
 *   - Groups (the default): state, status coloured by its severity (ok,
 *     warn, err with the worst partition's stop/stall/rewind), lag coloured
 *     by group_lag, lag in seconds by group_lag_seconds ("> 5m00s" when the
 *     position is older than the history, "-" unknown), the trend (catching
 *     up with an ETA, or falling behind by messages/s), partitions and a
 *     lag sparkline. `s` sorts by lag, lag seconds or status.
 *   - Brokers + quorum: one row per node id, joining the broker (host:port,
 *     rack, up, round trip, partitions led) with its quorum role (leader,
 *     voter, observer), log end offset, lag behind the leader
 *     (quorum_follower_lag) and last fetch / caught-up ages. Above the
 *     table: the quorum's high watermark and its epoch changes.
 *
 * Quorum fallback: when a source's DescribeQuorum fails and its config
 * names a `quorum_prometheus` source whose latest snapshot has a KRaft
 * quorum with a leader (from the raft metrics), the header line and the
 * brokers + quorum sub-view show that quorum instead, marked "from
 * Prometheus <source>" (no last fetch / caught-up ages: the metrics have
 * none). The kafka collector never reads it; only this pane joins the two.
 *   - Topics: partitions, replication factor, under-replicated and offline
 *     partitions (their thresholds), ISR shrinks, messages/s with history.
 *
 * Enter on a group lists its partitions (topic, partition, committed, high
 * watermark, lag, lag seconds, status, lag sparkline); on a topic its
 * partitions; on a node its broker and quorum fields.
 *
 * Scale: a table row is a few KiB and the generic table helper builds every
 * row each frame, so the table only ever holds groups, topics and nodes
 * (tens to hundreds). The per-partition lists, which reach 10,000 lines,
 * live on the detail pages, and our draw() formats only the lines on
 * screen (view_kafka_detail_window); bench/bench_view_kafka.c times both.
 *
 * rows(), preamble() and detail() are pure (see view.h). Unknown values
 * print "-", never 0.
 */
#include "collectors/kafka/kafka.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/prometheus.h"
#include "core/ring.h"
#include "core/util.h"
#include "views/view.h"
#include "views/common.h"
#include "views/kafka.h"

#define KV_SPARK_W 12

static const struct column view_kafka_group_columns[] = {
        [KVG_SOURCE]  = { "SOURCE",      -1,  8, COL_LEFT },
        [KVG_GROUP]   = { "GROUP",       -3, 16, COL_LEFT },
        [KVG_STATE]   = { "STATE",       11,  0, COL_LEFT },
        [KVG_STATUS]  = { "STATUS",      11,  0, COL_LEFT },
        [KVG_LAG]     = { "LAG",         10,  0, COL_RIGHT },
        [KVG_SECONDS] = { "LAG TIME",     9,  0, COL_RIGHT },
        [KVG_TREND]   = { "TREND",       14,  0, COL_LEFT },
        [KVG_PARTS]   = { "PARTS",        6,  0, COL_RIGHT },
        [KVG_HIST]    = { "LAG HISTORY", KV_SPARK_W, 0, COL_LEFT },
        [KVG__COUNT]  = { NULL, 0, 0, COL_LEFT },
};

static const struct column view_kafka_broker_columns[] = {
        [KVB_SOURCE] = { "SOURCE",     -1,  8, COL_LEFT },
        [KVB_ID]     = { "ID",          5,  0, COL_RIGHT },
        [KVB_ADDR]   = { "HOST:PORT",  -2, 14, COL_LEFT },
        [KVB_RACK]   = { "RACK",        6,  0, COL_LEFT },
        [KVB_UP]     = { "UP",          7,  0, COL_LEFT },
        [KVB_RTT]    = { "RTT",         7,  0, COL_RIGHT },
        [KVB_LEADS]  = { "LEADS",       6,  0, COL_RIGHT },
        [KVB_QUORUM] = { "QUORUM",      8,  0, COL_LEFT },
        [KVB_LEO]    = { "LOG END",    10,  0, COL_RIGHT },
        [KVB_QLAG]   = { "Q LAG",       7,  0, COL_RIGHT },
        [KVB_FETCH]  = { "FETCH",       7,  0, COL_RIGHT },
        [KVB_CAUGHT] = { "CAUGHT UP",   9,  0, COL_RIGHT },
        [KVB__COUNT] = { NULL, 0, 0, COL_LEFT },
};

static const struct column view_kafka_topic_columns[] = {
        [KVT_SOURCE]  = { "SOURCE",      -1,  8, COL_LEFT },
        [KVT_TOPIC]   = { "TOPIC",       -3, 16, COL_LEFT },
        [KVT_PARTS]   = { "PARTS",        6,  0, COL_RIGHT },
        [KVT_RF]      = { "RF",           3,  0, COL_RIGHT },
        [KVT_UNDER]   = { "UNDER-REPL",  10,  0, COL_RIGHT },
        [KVT_OFFLINE] = { "OFFLINE",      7,  0, COL_RIGHT },
        [KVT_SHRINK]  = { "ISR SHRINK",  10,  0, COL_RIGHT },
        [KVT_RATE]    = { "MSG/S",        9,  0, COL_RIGHT },
        [KVT_HIST]    = { "RATE HISTORY", KV_SPARK_W, 0, COL_LEFT },
        [KVT__COUNT]  = { NULL, 0, 0, COL_LEFT },
};

static const char *const view_kafka_show_names[] = { "groups", "brokers + quorum", "topics" };
static const char *const view_kafka_sort_names[] = { "lag", "lag seconds", "status" };

const struct column *view_kafka_columns(unsigned flags)
{
        switch (flags & VIEW_KAFKA_SHOW_MASK) {
        case VIEW_KAFKA_SHOW_BROKERS:
                return view_kafka_broker_columns;
        case VIEW_KAFKA_SHOW_TOPICS:
                return view_kafka_topic_columns;
        default:
                return view_kafka_group_columns;
        }
}

static const struct kafka_data *view_kafka_data(const struct snapshot *s)
{
        return s ? (const struct kafka_data *)s->data : NULL;
}

/* ---- formatting ---------------------------------------------------------- */

/* Lag in seconds: "3m04s", "> 5m00s" (only a lower bound), "-". */
static void view_kafka_fmt_lag_s(double s, double at_least, char *buf, size_t n)
{
        char t[32];

        if (isfinite(s) && s == 0) {
                str_copy(buf, "0s", n);
        } else if (isfinite(s)) {
                fmt_duration_ms((int64_t)(s * 1000.0), buf, n);
        } else if (isfinite(at_least)) {
                fmt_duration_ms((int64_t)(at_least * 1000.0), t, sizeof t);
                snprintf(buf, n, "> %s", t);
        } else {
                str_copy(buf, "-", n);
        }
}

/* messages/s: "0", "0.50", "12.5", "340", "12.3k", "1.2M"; "-" NAN. */
static void view_kafka_fmt_rate(double v, char *buf, size_t n)
{
        if (!isfinite(v))
                snprintf(buf, n, "-");
        else if (v == 0)
                snprintf(buf, n, "0");
        else if (v < 10)
                snprintf(buf, n, "%.2f", v);
        else if (v < 100)
                snprintf(buf, n, "%.1f", v);
        else if (v < 10000)
                snprintf(buf, n, "%.0f", v);
        else if (v < 1e6)
                snprintf(buf, n, "%.1fk", v / 1e3);
        else
                snprintf(buf, n, "%.1fM", v / 1e6);
}

static enum theme_role view_kafka_status_role(enum lag_status s)
{
        switch (s) {
        case LAG_OK:
                return ROLE_OK;
        case LAG_WARN:
                return ROLE_WARN;
        case LAG_ERR:
        case LAG_STOP:
        case LAG_STALL:
        case LAG_REWIND:
                return ROLE_CRIT;
        default:
                return ROLE_UNKNOWN;
        }
}

static enum severity view_kafka_status_sev(enum lag_status s)
{
        enum theme_role r = view_kafka_status_role(s);

        return r == ROLE_CRIT ? SEV_CRIT : r == ROLE_WARN ? SEV_WARN : SEV_OK;
}

/* A group's status as shown: "err (stall)" names the worst partition. */
static void view_kafka_fmt_group_status(const struct kafka_group *g, char *buf, size_t n)
{
        if (g->status == LAG_ERR && g->worst > LAG_ERR)
                snprintf(buf, n, "err (%s)", lag_status_name(g->worst));
        else
                str_copy(buf, lag_status_name(g->status), n);
}

/* The rank `s` sorts status by: the worst partition status when the group
 * is err, else the group status. */
static int view_kafka_group_rank(const struct kafka_group *g)
{
        return g->status == LAG_ERR ? (int)g->worst : (int)g->status;
}

/* "↓ ETA 3m04s", "↑ +12.5/s", "→ steady"; "-" with fewer than two samples. */
static void view_kafka_fmt_trend(const struct kafka_group *g, bool ascii, char *buf, size_t n)
{
        const struct glyphs *gl = view_glyphs(ascii);
        char t[32];

        if (g->lag_hist.n < 2 || !isfinite(g->trend.rate)) {
                str_copy(buf, "-", n);
                return;
        }
        switch (g->trend.dir) {
        case LAG_DIR_CATCHING_UP:
                if (isfinite(g->trend.eta_s)) {
                        fmt_duration_ms((int64_t)(g->trend.eta_s * 1000.0), t, sizeof t);
                        snprintf(buf, n, "%s ETA %s", gl->down, t);
                } else {
                        snprintf(buf, n, "%s catching up", gl->down);
                }
                break;
        case LAG_DIR_FALLING_BEHIND:
                view_kafka_fmt_rate(g->trend.behind_rate, t, sizeof t);
                snprintf(buf, n, "%s +%s/s", gl->up, t);
                break;
        default:
                snprintf(buf, n, "%s steady", gl->flat);
                break;
        }
}

static void view_kafka_spark_i64(const int64_t *v, size_t n, bool ascii, char *buf, size_t bn)
{
        double x[KAFKA_SPARK_N];

        if (n > KAFKA_SPARK_N)
                n = KAFKA_SPARK_N;
        for (size_t i = 0; i < n; i++)
                x[i] = v[i] >= 0 ? (double)v[i] : NAN;
        sparkline_values(x, n, KV_SPARK_W, ascii, buf, bn);
}

static void view_kafka_row_id(struct table_row *row, const char *src, const char *kind,
                              const char *key)
{
        snprintf(row->id, sizeof row->id, "%.63s\t%.6s\t%.80s", src, kind, key);
}

/* ---- groups -------------------------------------------------------------- */

struct view_kafka_gref {
        const struct source_cfg *src;
        const struct snapshot *s;
        const struct kafka_group *g;
        size_t order;                   /* source, then the collector's order */
};

static int view_kafka_cmp_i64_desc(int64_t a, int64_t b)
{
        /* Unknown (< 0) last. */
        if ((a < 0) != (b < 0))
                return a < 0 ? 1 : -1;
        return a > b ? -1 : a < b ? 1 : 0;
}

static int view_kafka_cmp_seconds(const struct kafka_group *a, const struct kafka_group *b)
{
        /* Known seconds first, largest first; then lower bounds; then unknown. */
        int ka = isfinite(a->lag_seconds) ? 2 : isfinite(a->lag_seconds_min) ? 1 : 0;
        int kb = isfinite(b->lag_seconds) ? 2 : isfinite(b->lag_seconds_min) ? 1 : 0;
        double va = ka == 2 ? a->lag_seconds : a->lag_seconds_min;
        double vb = kb == 2 ? b->lag_seconds : b->lag_seconds_min;

        if (ka != kb)
                return ka > kb ? -1 : 1;
        if (ka && va != vb)
                return va > vb ? -1 : 1;
        return 0;
}

static int view_kafka_cmp_lag(const void *pa, const void *pb)
{
        const struct view_kafka_gref *a = pa, *b = pb;
        int c = view_kafka_cmp_i64_desc(a->g->lag, b->g->lag);

        if (!c)
                c = a->order < b->order ? -1 : a->order > b->order;
        return c;
}

static int view_kafka_cmp_sec(const void *pa, const void *pb)
{
        const struct view_kafka_gref *a = pa, *b = pb;
        int c = view_kafka_cmp_seconds(a->g, b->g);

        return c ? c : view_kafka_cmp_lag(pa, pb);
}

static int view_kafka_cmp_status(const void *pa, const void *pb)
{
        const struct view_kafka_gref *a = pa, *b = pb;
        int ra = view_kafka_group_rank(a->g), rb = view_kafka_group_rank(b->g);

        if (ra != rb)
                return ra > rb ? -1 : 1;
        return view_kafka_cmp_lag(pa, pb);
}

static void view_kafka_group_row(const struct view_data *d, const struct view_kafka_gref *r,
                                 struct table_row *row)
{
        const struct kafka_group *g = r->g;
        char buf[TABLE_CELL_MAX];
        enum severity sl = SEV_OK, ss = SEV_OK, st = view_kafka_status_sev(g->status);

        view_kafka_row_id(row, r->src->name, "group", g->name);
        table_cell_set(row, KVG_SOURCE, ROLE_DEFAULT, "%s", r->src->name);
        table_cell_set(row, KVG_GROUP, ROLE_DEFAULT, "%s", g->name);
        table_cell_set(row, KVG_STATE, g->state ? ROLE_DEFAULT : ROLE_DIM, "%s",
                       g->state ? g->state : "-");
        view_kafka_fmt_group_status(g, buf, sizeof buf);
        table_cell_set(row, KVG_STATUS, view_kafka_status_role(g->status), "%s", buf);
        if (g->lag >= 0)
                sl = view_threshold_sev(r->src, "group_lag", (double)g->lag);
        fmt_count_or_dash(g->lag, buf, sizeof buf);
        if (g->lag >= 0 && g->n_unknown)
                strncat(buf, "+?", sizeof buf - strlen(buf) - 1);
        table_cell_set(row, KVG_LAG, g->lag < 0 ? ROLE_DIM : view_sev_role(sl), "%s", buf);
        if (isfinite(g->lag_seconds))
                ss = view_threshold_sev(r->src, "group_lag_seconds", g->lag_seconds);
        else if (isfinite(g->lag_seconds_min))
                ss = view_threshold_sev(r->src, "group_lag_seconds", g->lag_seconds_min);
        view_kafka_fmt_lag_s(g->lag_seconds, g->lag_seconds_min, buf, sizeof buf);
        table_cell_set(row, KVG_SECONDS, buf[0] == '-' ? ROLE_DIM : view_sev_role(ss), "%s",
                       buf);
        view_kafka_fmt_trend(g, d->ascii, buf, sizeof buf);
        table_cell_set(row, KVG_TREND,
                       g->trend.dir == LAG_DIR_FALLING_BEHIND && buf[0] != '-' ? ROLE_WARN
                       : buf[0] == '-' ? ROLE_DIM : ROLE_DEFAULT, "%s", buf);
        table_cell_set(row, KVG_PARTS, ROLE_DEFAULT, "%zu", g->n_parts);
        common_spark_cell(row, KVG_HIST, &g->lag_hist, KV_SPARK_W, d->ascii);
        row->sev = view_worst(view_worst(sl, ss), st);
        row->sev = view_worst(row->sev, view_alert_sev(d->alerts, r->src->name, g->name));
        row->stale = snapshot_is_stale(r->s, d->now_mono) != 0;
}

static void view_kafka_group_rows(const struct view_data *d, struct table_rows *out)
{
        struct view_kafka_gref *v = NULL;
        size_t n = 0, cap = 0;
        unsigned sort = d->flags & VIEW_KAFKA_SORT_MASK;

        for (size_t i = 0; i < d->n; i++) {
                const struct kafka_data *kd = view_kafka_data(d->snaps[i]);

                if (!common_is_kind(&d->srcs[i], "kafka") || !kd)
                        continue;
                for (size_t j = 0; j < kd->n_groups; j++) {
                        if (n == cap) {
                                cap = cap ? 2 * cap : 32;
                                v = xrealloc(v, cap * sizeof *v);
                        }
                        v[n] = (struct view_kafka_gref){ &d->srcs[i], d->snaps[i], &kd->groups[j],
                                                         n };
                        n++;
                }
        }
        if (n)
                qsort(v, n, sizeof *v, sort == VIEW_KAFKA_SORT_SECONDS ? view_kafka_cmp_sec
                                       : sort == VIEW_KAFKA_SORT_STATUS ? view_kafka_cmp_status
                                       : view_kafka_cmp_lag);
        for (size_t i = 0; i < n; i++)
                view_kafka_group_row(d, &v[i], table_rows_add(out));
        free(v);
}

/* ---- brokers + quorum ---------------------------------------------------- */

static void view_kafka_from_prom(const struct prom_member *m, size_t n, struct kafka_replica **out,
                                 size_t *nout)
{
        *out = xcalloc(n ? n : 1, sizeof **out);
        *nout = 0;
        for (size_t i = 0; i < n; i++) {
                if (m[i].id < 0 || m[i].id > INT32_MAX)
                        continue;       /* no node id label: not joinable */
                (*out)[*nout] = (struct kafka_replica){
                        .id = (int32_t)m[i].id,
                        .log_end_offset = m[i].log_end_offset,
                        .lag = m[i].lag,
                        .last_fetch_age_ms = -1,
                        .last_caught_up_age_ms = -1,
                };
                (*nout)++;
        }
}

/* The quorum a kafka source shows: its own, or, when DescribeQuorum failed
 * and it names a quorum_prometheus source whose latest snapshot has a
 * quorum with a leader, that one converted into *tmp (free it with
 * kafka_quorum_done; always safe) with *from set to the prometheus source's
 * name (else NULL). */
static const struct kafka_quorum *view_kafka_quorum(const struct view_data *d,
                                                    const struct source_cfg *src,
                                                    const struct kafka_data *kd,
                                                    struct kafka_quorum *tmp, const char **from)
{
        const struct kafka_cfg *c = src->kind_cfg;

        memset(tmp, 0, sizeof *tmp);
        *from = NULL;
        if (kd->quorum.available || !c || !c->quorum_prometheus.name)
                return &kd->quorum;
        for (size_t i = 0; i < d->n; i++) {
                const struct prom_data *pd;
                const struct prom_quorum *pq;

                if (!d->srcs[i].name || strcmp(d->srcs[i].name, c->quorum_prometheus.name) != 0)
                        continue;
                if (!d->srcs[i].kind || strcmp(d->srcs[i].kind, "prometheus") != 0 ||
                    !d->snaps || !d->snaps[i] || !d->snaps[i]->data)
                        break;
                pd = d->snaps[i]->data;
                pq = &pd->quorum;
                if (!pd->quorum_asked || !pq->available || pq->leader_id < 0 ||
                    pq->leader_id > INT32_MAX)
                        break;
                tmp->available = true;
                tmp->leader_id = (int32_t)pq->leader_id;
                tmp->leader_epoch = pq->leader_epoch >= 0 && pq->leader_epoch <= INT32_MAX
                                    ? (int32_t)pq->leader_epoch : -1;
                tmp->high_watermark = pq->high_watermark;
                view_kafka_from_prom(pq->voters, pq->n_voters, &tmp->voters, &tmp->n_voters);
                view_kafka_from_prom(pq->observers, pq->n_observers, &tmp->observers,
                                     &tmp->n_observers);
                *from = d->srcs[i].name;
                return tmp;
        }
        return &kd->quorum;
}

static const struct kafka_replica *view_kafka_replica(const struct kafka_quorum *q, int32_t id,
                                                      bool *voter)
{
        for (size_t i = 0; i < q->n_voters; i++)
                if (q->voters[i].id == id) {
                        *voter = true;
                        return &q->voters[i];
                }
        for (size_t i = 0; i < q->n_observers; i++)
                if (q->observers[i].id == id) {
                        *voter = false;
                        return &q->observers[i];
                }
        return NULL;
}

static const struct kafka_broker *view_kafka_broker(const struct kafka_data *kd, int32_t id)
{
        for (size_t i = 0; i < kd->n_brokers; i++)
                if (kd->brokers[i].id == id)
                        return &kd->brokers[i];
        return NULL;
}

static int view_kafka_cmp_id(const void *a, const void *b)
{
        int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

        return x < y ? -1 : x > y;
}

/* Every node id: brokers, voters and observers, ascending, no duplicates.
 * Returns the count; *out is owned. */
static size_t view_kafka_node_ids(const struct kafka_data *kd, const struct kafka_quorum *q,
                                  int32_t **out)
{
        size_t n = 0, max = kd->n_brokers + q->n_voters + q->n_observers, k = 0;
        int32_t *v = xmalloc((max ? max : 1) * sizeof *v);

        for (size_t i = 0; i < kd->n_brokers; i++)
                v[n++] = kd->brokers[i].id;
        for (size_t i = 0; i < q->n_voters; i++)
                v[n++] = q->voters[i].id;
        for (size_t i = 0; i < q->n_observers; i++)
                v[n++] = q->observers[i].id;
        qsort(v, n, sizeof *v, view_kafka_cmp_id);
        for (size_t i = 0; i < n; i++)
                if (!k || v[k - 1] != v[i])
                        v[k++] = v[i];
        *out = v;
        return k;
}

static enum theme_role view_kafka_up_role(const struct kafka_broker *b)
{
        if (!b->in_metadata || b->up == 0)
                return ROLE_CRIT;
        return b->up > 0 ? ROLE_OK : ROLE_UNKNOWN;
}

static void view_kafka_node_row(const struct view_data *d, const struct source_cfg *src,
                                const struct snapshot *s, const struct kafka_data *kd,
                                const struct kafka_quorum *q, int32_t id, struct table_row *row)
{
        const struct kafka_broker *b = view_kafka_broker(kd, id);
        bool voter = false;
        const struct kafka_replica *rp = view_kafka_replica(q, id, &voter);
        char buf[64];
        enum severity sev = SEV_OK;

        snprintf(buf, sizeof buf, "%d", (int)id);
        view_kafka_row_id(row, src->name, "node", buf);
        table_cell_set(row, KVB_SOURCE, ROLE_DEFAULT, "%s", src->name);
        table_cell_set(row, KVB_ID, ROLE_DEFAULT, "%d", (int)id);
        if (b) {
                table_cell_set(row, KVB_ADDR, ROLE_DEFAULT, "%s:%d", b->host ? b->host : "?",
                               b->port);
                table_cell_set(row, KVB_RACK, b->rack ? ROLE_DEFAULT : ROLE_DIM, "%s",
                               b->rack ? b->rack : "-");
                table_cell_set(row, KVB_UP, view_kafka_up_role(b), "%s",
                               b->in_metadata ? kafka_broker_up_name(b->up) : "left");
                if (view_kafka_up_role(b) == ROLE_CRIT)
                        sev = SEV_CRIT;
                if (isfinite(b->rtt_ms))
                        table_cell_set(row, KVB_RTT, ROLE_DEFAULT, "%.1fms", b->rtt_ms);
                else
                        table_cell_set(row, KVB_RTT, ROLE_DIM, "-");
                table_cell_set(row, KVB_LEADS, ROLE_DEFAULT, "%d", b->leader_for);
        } else {
                /* A controller that is not a broker. */
                table_cell_set(row, KVB_ADDR, ROLE_DIM, "(controller)");
                table_cell_set(row, KVB_RACK, ROLE_DIM, "-");
                table_cell_set(row, KVB_UP, ROLE_DIM, "-");
                table_cell_set(row, KVB_RTT, ROLE_DIM, "-");
                table_cell_set(row, KVB_LEADS, ROLE_DIM, "-");
        }
        if (rp) {
                bool leader = q->leader_id == id;
                enum severity ls = SEV_OK;

                table_cell_set(row, KVB_QUORUM, leader ? ROLE_OK : ROLE_DEFAULT, "%s",
                               leader ? "leader" : voter ? "voter" : "observer");
                fmt_count_or_dash(rp->log_end_offset, buf, sizeof buf);
                table_cell_set(row, KVB_LEO, rp->log_end_offset < 0 ? ROLE_DIM : ROLE_DEFAULT,
                               "%s", buf);
                if (rp->lag >= 0 && !leader)
                        ls = view_threshold_sev(src, "quorum_follower_lag", (double)rp->lag);
                fmt_count_or_dash(rp->lag, buf, sizeof buf);
                table_cell_set(row, KVB_QLAG, rp->lag < 0 ? ROLE_DIM : view_sev_role(ls), "%s",
                               buf);
                sev = view_worst(sev, ls);
                fmt_duration_or_dash(rp->last_fetch_age_ms, buf, sizeof buf);
                table_cell_set(row, KVB_FETCH, buf[0] == '-' ? ROLE_DIM : ROLE_DEFAULT, "%s", buf);
                fmt_duration_or_dash(rp->last_caught_up_age_ms, buf, sizeof buf);
                table_cell_set(row, KVB_CAUGHT, buf[0] == '-' ? ROLE_DIM : ROLE_DEFAULT, "%s",
                               buf);
        } else {
                for (int c = KVB_QUORUM; c <= KVB_CAUGHT; c++)
                        table_cell_set(row, c, ROLE_DIM, "-");
        }
        row->sev = sev;
        row->stale = snapshot_is_stale(s, d->now_mono) != 0;
}

static void view_kafka_node_rows(const struct view_data *d, struct table_rows *out)
{
        for (size_t i = 0; i < d->n; i++) {
                const struct kafka_data *kd = view_kafka_data(d->snaps[i]);
                const struct kafka_quorum *q;
                struct kafka_quorum tmp;
                const char *from;
                int32_t *ids;
                size_t n;

                if (!common_is_kind(&d->srcs[i], "kafka") || !kd)
                        continue;
                q = view_kafka_quorum(d, &d->srcs[i], kd, &tmp, &from);
                n = view_kafka_node_ids(kd, q, &ids);
                for (size_t j = 0; j < n; j++)
                        view_kafka_node_row(d, &d->srcs[i], d->snaps[i], kd, q, ids[j],
                                            table_rows_add(out));
                free(ids);
                kafka_quorum_done(&tmp);
        }
}

/* ---- topics -------------------------------------------------------------- */

static void view_kafka_topic_row(const struct view_data *d, const struct source_cfg *src,
                                 const struct snapshot *s, const struct kafka_topic *t,
                                 struct table_row *row)
{
        enum severity su = view_threshold_sev(src, "under_replicated", t->under_replicated);
        enum severity so = view_threshold_sev(src, "offline", t->offline);
        double x[KAFKA_SPARK_N];
        char buf[TABLE_CELL_MAX];

        view_kafka_row_id(row, src->name, "topic", t->name);
        table_cell_set(row, KVT_SOURCE, ROLE_DEFAULT, "%s", src->name);
        table_cell_set(row, KVT_TOPIC, ROLE_DEFAULT, "%s", t->name);
        table_cell_set(row, KVT_PARTS, ROLE_DEFAULT, "%d", t->partitions);
        table_cell_set(row, KVT_RF, ROLE_DEFAULT, "%d", t->replication_factor);
        table_cell_set(row, KVT_UNDER, t->under_replicated ? view_sev_role(su) : ROLE_DEFAULT,
                       "%d", t->under_replicated);
        table_cell_set(row, KVT_OFFLINE, t->offline ? view_sev_role(so) : ROLE_DEFAULT, "%d",
                       t->offline);
        table_cell_set(row, KVT_SHRINK, t->isr_shrinks ? ROLE_WARN : ROLE_DEFAULT, "%d",
                       t->isr_shrinks);
        view_kafka_fmt_rate(t->messages_per_sec, buf, sizeof buf);
        if (t->hwm_unknown && isfinite(t->messages_per_sec))
                strncat(buf, "+?", sizeof buf - strlen(buf) - 1);
        table_cell_set(row, KVT_RATE, isfinite(t->messages_per_sec) ? ROLE_DEFAULT : ROLE_DIM,
                       "%s", buf);
        for (size_t i = 0; i < t->n_rate_hist && i < KAFKA_SPARK_N; i++)
                x[i] = t->rate_hist[i];
        sparkline_values(x, t->n_rate_hist < KAFKA_SPARK_N ? t->n_rate_hist : KAFKA_SPARK_N,
                   KV_SPARK_W, d->ascii, buf, sizeof buf);
        table_cell_set(row, KVT_HIST, ROLE_SPARK, "%s", buf);
        row->sev = view_worst(su, so);
        row->sev = view_worst(row->sev, view_alert_sev(d->alerts, src->name, t->name));
        row->stale = snapshot_is_stale(s, d->now_mono) != 0;
}

static void view_kafka_topic_rows(const struct view_data *d, struct table_rows *out)
{
        for (size_t i = 0; i < d->n; i++) {
                const struct kafka_data *kd = view_kafka_data(d->snaps[i]);

                if (!common_is_kind(&d->srcs[i], "kafka") || !kd)
                        continue;
                for (size_t j = 0; j < kd->n_topics; j++)
                        view_kafka_topic_row(d, &d->srcs[i], d->snaps[i], &kd->topics[j],
                                             table_rows_add(out));
        }
}

void view_kafka_rows(const struct view_data *d, struct table_rows *out)
{
        switch (d->flags & VIEW_KAFKA_SHOW_MASK) {
        case VIEW_KAFKA_SHOW_BROKERS:
                view_kafka_node_rows(d, out);
                break;
        case VIEW_KAFKA_SHOW_TOPICS:
                view_kafka_topic_rows(d, out);
                break;
        default:
                view_kafka_group_rows(d, out);
                break;
        }
}

/* ---- preamble ------------------------------------------------------------ */

/* The worst group: highest status rank, then largest lag; NULL if none. */
static const struct kafka_group *view_kafka_worst_group(const struct kafka_data *kd)
{
        const struct kafka_group *w = NULL;

        for (size_t i = 0; i < kd->n_groups; i++) {
                const struct kafka_group *g = &kd->groups[i];
                int r = view_kafka_group_rank(g), wr = w ? view_kafka_group_rank(w) : -1;

                if (!w || r > wr || (r == wr && view_kafka_cmp_i64_desc(g->lag, w->lag) < 0))
                        w = g;
        }
        return w;
}

static void view_kafka_quorum_seg(struct tlines *out, const struct kafka_quorum *q)
{
        if (!q->available) {
                tlines_seg(out, ROLE_WARN, "  quorum unavailable: %s",
                           q->reason[0] ? q->reason : "unknown");
                return;
        }
        tlines_seg(out, ROLE_DIM, "  quorum");
        if (q->leader_id >= 0)
                tlines_seg(out, ROLE_OK, " leader %d", (int)q->leader_id);
        else
                tlines_seg(out, ROLE_CRIT, " no leader");
        if (q->leader_epoch >= 0)
                tlines_seg(out, ROLE_DEFAULT, " epoch %d", (int)q->leader_epoch);
        else
                tlines_seg(out, ROLE_DIM, " epoch -");
}

static void view_kafka_source_line(const struct view_data *d, const struct source_cfg *src,
                                   const struct snapshot *s, struct tlines *out)
{
        const struct kafka_data *kd = view_kafka_data(s);
        const struct kafka_group *w;
        const struct kafka_quorum *q;
        struct kafka_quorum tmp;
        const char *from;
        enum theme_role role;
        char buf[64], b2[64];

        tlines_add(out, ROLE_TITLE, "%s", src->name);
        if (!kd) {
                view_fmt_age(s, d->now_mono, buf, sizeof buf, &role);
                if (s && s->error[0])
                        tlines_seg(out, ROLE_CRIT, "  %s", s->error);
                else
                        tlines_seg(out, role == ROLE_DEFAULT ? ROLE_DIM : role, "  no data yet");
                return;
        }
        tlines_seg(out, kd->brokers_up < (int)kd->n_brokers ? ROLE_CRIT : ROLE_DEFAULT,
                   "  brokers %d/%zu up", kd->brokers_up, kd->n_brokers);
        /* Short things first, so a narrow terminal clips only the reason
         * (the brokers sub-view and the notes repeat it in full). */
        q = view_kafka_quorum(d, src, kd, &tmp, &from);
        if (q->available)
                view_kafka_quorum_seg(out, q);
        if (from)
                tlines_seg(out, ROLE_DIM, " (from Prometheus %s)", from);
        kafka_quorum_done(&tmp);
        w = view_kafka_worst_group(kd);
        if (w) {
                view_kafka_fmt_group_status(w, buf, sizeof buf);
                tlines_seg(out, ROLE_DIM, "  worst group ");
                tlines_seg(out, view_kafka_status_role(w->status), "%s %s", w->name, buf);
                fmt_count_or_dash(w->lag, buf, sizeof buf);
                view_kafka_fmt_lag_s(w->lag_seconds, w->lag_seconds_min, b2, sizeof b2);
                tlines_seg(out, ROLE_DEFAULT, " lag %s (%s)", buf, b2);
        } else {
                tlines_seg(out, ROLE_DIM, "  no groups");
        }
        view_fmt_age(s, d->now_mono, buf, sizeof buf, &role);
        tlines_seg(out, role == ROLE_DEFAULT ? ROLE_DIM : role, "  %s%s",
                   role == ROLE_STALE ? "" : "age ", buf);
        if (!kd->quorum.available && !from)
                view_kafka_quorum_seg(out, &kd->quorum);
        if (s->error[0])
                tlines_seg(out, ROLE_WARN, "  %s", s->error);
        if (kd->cluster_id)
                tlines_seg(out, ROLE_DIM, "  %s", kd->cluster_id);
}

/* Quorum block of the brokers sub-view. */
static void view_kafka_quorum_lines(const struct view_data *d, const struct source_cfg *src,
                                    const struct kafka_data *kd, struct tlines *out)
{
        struct kafka_quorum tmp;
        const char *from;
        const struct kafka_quorum *q = view_kafka_quorum(d, src, kd, &tmp, &from);
        char buf[64];

        if (from) {
                /* No epoch history here: the metrics give only the current
                 * epoch, and the header line has it. */
                fmt_count_or_dash(q->high_watermark, buf, sizeof buf);
                tlines_add(out, ROLE_DIM, "  %s: quorum from Prometheus %s: high watermark ",
                           src->name, from);
                tlines_seg(out, ROLE_DEFAULT, "%s", buf);
                tlines_seg(out, ROLE_DIM, "  voters %zu  observers %zu", q->n_voters,
                           q->n_observers);
                tlines_add(out, ROLE_WARN, "  DescribeQuorum unavailable: %s",
                           kd->quorum.reason[0] ? kd->quorum.reason : "unknown");
                kafka_quorum_done(&tmp);
                return;
        }
        if (!q->available) {
                tlines_add(out, ROLE_WARN, "  %s: quorum unavailable: %s", src->name,
                           q->reason[0] ? q->reason : "unknown");
                return;
        }
        fmt_count_or_dash(q->high_watermark, buf, sizeof buf);
        tlines_add(out, ROLE_DIM, "  %s: quorum high watermark ", src->name);
        tlines_seg(out, ROLE_DEFAULT, "%s", buf);
        tlines_seg(out, ROLE_DIM, "  voters %zu  observers %zu", q->n_voters, q->n_observers);
        tlines_add(out, ROLE_DIM, "  epoch changes:");
        if (!q->n_history)
                tlines_seg(out, ROLE_DIM, " none seen");
        for (size_t i = 0; i < q->n_history && i < KAFKA_EPOCH_HIST; i++) {
                const struct kafka_epoch_change *e = &q->history[i];

                fmt_rfc3339(e->at, buf, sizeof buf);
                /* Only the time of day: the date rarely matters here. */
                tlines_seg(out, ROLE_DEFAULT, " %.8s leader %d epoch %d%s",
                           strlen(buf) >= 19 ? buf + 11 : buf, (int)e->leader_id, (int)e->epoch,
                           i + 1 < q->n_history ? "," : "");
        }
}

void view_kafka_preamble(const struct view_data *d, struct tlines *out)
{
        unsigned show = d->flags & VIEW_KAFKA_SHOW_MASK, sort = (d->flags & VIEW_KAFKA_SORT_MASK) >> 2;
        size_t n = 0;

        for (size_t i = 0; i < d->n; i++) {
                const struct kafka_data *kd;

                if (!common_is_kind(&d->srcs[i], "kafka"))
                        continue;
                n++;
                view_kafka_source_line(d, &d->srcs[i], d->snaps[i], out);
                kd = view_kafka_data(d->snaps[i]);
                if (!kd)
                        continue;
                if (show == VIEW_KAFKA_SHOW_BROKERS)
                        view_kafka_quorum_lines(d, &d->srcs[i], kd, out);
                for (size_t j = 0; j < kd->n_notes; j++)
                        tlines_add(out, ROLE_DIM, "  note: %s", kd->notes[j]);
        }
        if (!n) {
                tlines_add(out, ROLE_DIM, "no kafka sources configured");
                return;
        }
        if (show >= LO_ARRAY_LEN(view_kafka_show_names))
                show = 0;
        if (sort >= LO_ARRAY_LEN(view_kafka_sort_names))
                sort = 0;
        if (show == VIEW_KAFKA_SHOW_GROUPS)
                tlines_add(out, ROLE_PROMPT, "groups by %s (v: brokers + quorum, topics; "
                           "s: sort by lag, lag seconds, status)", view_kafka_sort_names[sort]);
        else
                tlines_add(out, ROLE_PROMPT, "%s (v cycles: groups, brokers + quorum, topics)",
                           view_kafka_show_names[show]);
}

/* ---- detail -------------------------------------------------------------- */

/* Lines of a detail page, keeping only [from, from + count). */
struct view_kafka_page {
        struct tlines *out;
        size_t from, count, at;         /* at: index of the next line */
};

static bool view_kafka_page_want(const struct view_kafka_page *p)
{
        return p->at >= p->from && p->at - p->from < p->count;
}

/* Moves the lines of `l` (built in full: headers are short) into the page. */
static void view_kafka_page_take(struct view_kafka_page *p, const struct tlines *l)
{
        for (size_t i = 0; i < l->n; i++, p->at++) {
                if (!view_kafka_page_want(p))
                        continue;
                tlines_add(p->out, ROLE_DEFAULT, "%s", "");
                p->out->v[p->out->n - 1] = l->v[i];
        }
}

/* A row key (clipped to 80 bytes in row ids) names `name`. */
static bool view_kafka_key_is(const char *name, const char *key)
{
        size_t nl = strlen(name), kl = strlen(key);

        return nl <= 80 ? nl == kl && strcmp(name, key) == 0
                        : kl == 80 && strncmp(name, key, 80) == 0;
}

static void view_kafka_part_line(const struct view_data *d, const struct kafka_group_part *gp,
                                 struct tlines *out)
{
        char c[32], h[32], l[32], s[48], sp[TABLE_CELL_MAX];

        fmt_count_or_dash(gp->committed, c, sizeof c);
        fmt_count_or_dash(gp->high_watermark, h, sizeof h);
        fmt_count_or_dash(gp->lag, l, sizeof l);
        view_kafka_fmt_lag_s(gp->lag_seconds, gp->lag_seconds_min, s, sizeof s);
        view_kafka_spark_i64(gp->lag_hist, gp->n_hist, d->ascii, sp, sizeof sp);
        tlines_add(out, ROLE_DEFAULT, "  %-24.24s %5d %12s %12s %10s %9s ", gp->topic,
                   (int)gp->partition, c, h, l, s);
        tlines_seg(out, view_kafka_status_role(gp->status), "%-7s ", lag_status_name(gp->status));
        tlines_seg(out, ROLE_SPARK, "%s", sp);
}

static void view_kafka_detail_group(const struct view_data *d, const struct source_cfg *src,
                                    const struct kafka_data *kd, const char *key,
                                    struct view_kafka_page *p)
{
        const struct kafka_group *g = NULL;
        struct tlines h;
        char buf[64], sp[40 * 4 + 1];
        double x[RING_CAP];
        size_t nx;

        for (size_t i = 0; i < kd->n_groups && !g; i++)
                if (view_kafka_key_is(kd->groups[i].name, key))
                        g = &kd->groups[i];
        tlines_init(&h);
        tlines_add(&h, ROLE_TITLE, "Group %s", key);
        tlines_seg(&h, ROLE_DIM, "  on %s", src->name);
        if (!g) {
                tlines_add(&h, ROLE_WARN, "  this group is not in the latest data");
                view_kafka_page_take(p, &h);
                tlines_done(&h);
                return;
        }
        tlines_kv(&h, "state", g->state ? ROLE_DEFAULT : ROLE_DIM, "%s",
                  g->state ? g->state : "-");
        if (g->members >= 0)
                tlines_kv(&h, "members", ROLE_DEFAULT, "%d", g->members);
        else
                tlines_kv(&h, "members", ROLE_DIM, "-");
        view_kafka_fmt_group_status(g, buf, sizeof buf);
        tlines_kv(&h, "status", view_kafka_status_role(g->status), "%s", buf);
        fmt_count_or_dash(g->lag, buf, sizeof buf);
        tlines_kv(&h, "lag", g->lag < 0 ? ROLE_DIM : ROLE_DEFAULT, "%s", buf);
        if (g->n_unknown)
                tlines_seg(&h, ROLE_WARN, "  (%zu partitions unknown)", g->n_unknown);
        view_kafka_fmt_lag_s(g->lag_seconds, g->lag_seconds_min, buf, sizeof buf);
        tlines_kv(&h, "lag seconds", buf[0] == '-' ? ROLE_DIM : ROLE_DEFAULT, "%s", buf);
        view_kafka_fmt_trend(g, d->ascii, buf, sizeof buf);
        tlines_kv(&h, "trend", ROLE_DEFAULT, "%s", buf);
        nx = ring_values(&g->lag_hist, x, RING_CAP);
        sparkline_values(x, nx, 40, d->ascii, sp, sizeof sp);
        tlines_kv(&h, "lag history", ROLE_SPARK, "%s", sp);
        tlines_kv(&h, "source", ROLE_DIM, "%s", g->configured ? "configured" : "discovered");
        tlines_add(&h, ROLE_DEFAULT, "%s", "");
        tlines_add(&h, ROLE_TITLE, "  %-24s %5s %12s %12s %10s %9s %-7s %s", "TOPIC", "PART",
                   "COMMITTED", "HIGH WM", "LAG", "LAG TIME", "STATUS", "LAG HISTORY");
        view_kafka_page_take(p, &h);
        tlines_done(&h);
        /* One line per partition, formatted only when on the page. */
        if (p->at < p->from && p->from - p->at >= g->n_parts) {
                p->at += g->n_parts;
        } else {
                for (size_t i = 0; i < g->n_parts; i++, p->at++)
                        if (view_kafka_page_want(p))
                                view_kafka_part_line(d, &g->parts[i], p->out);
        }
        if (!g->n_parts) {
                if (view_kafka_page_want(p))
                        tlines_add(p->out, ROLE_DIM, "  no committed offsets");
                p->at++;
        }
}

static void view_kafka_detail_topic(const struct source_cfg *src, const struct kafka_data *kd,
                                    const char *key, struct view_kafka_page *p)
{
        const struct kafka_topic *t = NULL;
        struct tlines h;
        char buf[64];

        for (size_t i = 0; i < kd->n_topics && !t; i++)
                if (view_kafka_key_is(kd->topics[i].name, key))
                        t = &kd->topics[i];
        tlines_init(&h);
        tlines_add(&h, ROLE_TITLE, "Topic %s", key);
        tlines_seg(&h, ROLE_DIM, "  on %s", src->name);
        if (!t) {
                tlines_add(&h, ROLE_WARN, "  this topic is not in the latest data");
                view_kafka_page_take(p, &h);
                tlines_done(&h);
                return;
        }
        tlines_kv(&h, "partitions", ROLE_DEFAULT, "%d", t->partitions);
        tlines_kv(&h, "replication factor", ROLE_DEFAULT, "%d", t->replication_factor);
        tlines_kv(&h, "under-replicated", t->under_replicated ? ROLE_WARN : ROLE_OK, "%d",
                  t->under_replicated);
        tlines_kv(&h, "offline", t->offline ? ROLE_CRIT : ROLE_OK, "%d", t->offline);
        view_kafka_fmt_rate(t->messages_per_sec, buf, sizeof buf);
        tlines_kv(&h, "messages/s", ROLE_DEFAULT, "%s", buf);
        tlines_add(&h, ROLE_DEFAULT, "%s", "");
        tlines_add(&h, ROLE_TITLE, "  %5s %6s %8s %4s %12s", "PART", "LEADER", "REPLICAS", "ISR",
                   "HIGH WM");
        view_kafka_page_take(p, &h);
        tlines_done(&h);
        for (int i = 0; i < t->partitions; i++, p->at++) {
                const struct kafka_partition *pt = &t->parts[i];
                char l[16];

                if (!view_kafka_page_want(p))
                        continue;
                fmt_count_or_dash(pt->high_watermark, buf, sizeof buf);
                if (pt->leader >= 0)
                        snprintf(l, sizeof l, "%d", (int)pt->leader);
                else
                        str_copy(l, "none", sizeof l);
                tlines_add(p->out, pt->leader < 0 ? ROLE_CRIT : ROLE_DEFAULT, "  %5d %6s",
                           (int)pt->id, l);
                tlines_seg(p->out, ROLE_DEFAULT, " %8d", pt->replicas);
                tlines_seg(p->out, pt->isr < pt->replicas ? ROLE_WARN : ROLE_DEFAULT, " %4d",
                           pt->isr);
                tlines_seg(p->out, ROLE_DEFAULT, " %12s", buf);
                if (pt->isr_shrunk)
                        tlines_seg(p->out, ROLE_WARN, "  ISR shrank");
        }
}

static void view_kafka_detail_node(const struct source_cfg *src, const struct kafka_data *kd,
                                   const char *key, struct view_kafka_page *p)
{
        int32_t id = (int32_t)strtol(key, NULL, 10);
        const struct kafka_broker *b = view_kafka_broker(kd, id);
        bool voter = false;
        const struct kafka_replica *rp = view_kafka_replica(&kd->quorum, id, &voter);
        struct tlines h;
        char buf[64];

        tlines_init(&h);
        tlines_add(&h, ROLE_TITLE, "Node %s", key);
        tlines_seg(&h, ROLE_DIM, "  on %s", src->name);
        if (b) {
                tlines_kv(&h, "address", ROLE_DEFAULT, "%s:%d", b->host ? b->host : "?", b->port);
                tlines_kv(&h, "rack", b->rack ? ROLE_DEFAULT : ROLE_DIM, "%s",
                          b->rack ? b->rack : "-");
                tlines_kv(&h, "up", view_kafka_up_role(b), "%s%s", kafka_broker_up_name(b->up),
                          b->in_metadata ? "" : " (no longer in the metadata)");
                if (isfinite(b->rtt_ms))
                        tlines_kv(&h, "round trip", ROLE_DEFAULT, "%.1fms", b->rtt_ms);
                else
                        tlines_kv(&h, "round trip", ROLE_DIM, "-");
                tlines_kv(&h, "partitions led", ROLE_DEFAULT, "%d", b->leader_for);
        } else {
                tlines_kv(&h, "broker", ROLE_DIM, "not a broker (controller only)");
        }
        if (rp) {
                tlines_kv(&h, "quorum role", ROLE_DEFAULT, "%s",
                          kd->quorum.leader_id == id ? "leader" : voter ? "voter" : "observer");
                fmt_count_or_dash(rp->log_end_offset, buf, sizeof buf);
                tlines_kv(&h, "log end offset", ROLE_DEFAULT, "%s", buf);
                fmt_count_or_dash(rp->lag, buf, sizeof buf);
                tlines_kv(&h, "lag", ROLE_DEFAULT, "%s", buf);
                fmt_duration_or_dash(rp->last_fetch_age_ms, buf, sizeof buf);
                tlines_kv(&h, "last fetch", ROLE_DEFAULT, "%s ago", buf);
                fmt_duration_or_dash(rp->last_caught_up_age_ms, buf, sizeof buf);
                tlines_kv(&h, "last caught up", ROLE_DEFAULT, "%s ago", buf);
        } else if (!kd->quorum.available) {
                tlines_kv(&h, "quorum", ROLE_WARN, "unavailable: %s", kd->quorum.reason);
        } else {
                tlines_kv(&h, "quorum", ROLE_DIM, "not a voter or observer");
        }
        view_kafka_page_take(p, &h);
        tlines_done(&h);
}

size_t view_kafka_detail_window(const struct view_data *d, const char *id, size_t from,
                                size_t count, struct tlines *out)
{
        struct view_kafka_page p = { out, from, count, 0 };
        const struct source_cfg *src = NULL;
        const struct snapshot *s = NULL;
        const struct kafka_data *kd;
        char sname[96], kind[16];
        const char *key;
        struct tlines h;

        tlines_init(&h);
        if (!common_split_id(id, sname, sizeof sname, kind, sizeof kind, &key)) {
                tlines_add(&h, ROLE_WARN, "no such row");
                view_kafka_page_take(&p, &h);
                tlines_done(&h);
                return p.at;
        }
        src = common_source(d, "kafka", sname, &s);
        kd = view_kafka_data(s);
        if (!src || !kd) {
                tlines_add(&h, ROLE_TITLE, "%s", key);
                tlines_seg(&h, ROLE_DIM, "  on %s", sname);
                tlines_add(&h, ROLE_WARN, "  no data from this source%s%s",
                           s && s->error[0] ? ": " : "", s && s->error[0] ? s->error : "");
                view_kafka_page_take(&p, &h);
                tlines_done(&h);
                return p.at;
        }
        tlines_done(&h);
        if (strcmp(kind, "group") == 0)
                view_kafka_detail_group(d, src, kd, key, &p);
        else if (strcmp(kind, "topic") == 0)
                view_kafka_detail_topic(src, kd, key, &p);
        else
                view_kafka_detail_node(src, kd, key, &p);
        return p.at;
}

void view_kafka_detail(const struct view_data *d, const char *id, struct tlines *out)
{
        view_kafka_detail_window(d, id, 0, SIZE_MAX, out);
}

/* ---- drawing and keys ---------------------------------------------------- */

/* The table with the sub-view's columns, or the detail page formatting only
 * the lines on screen. UI thread. */
static void view_kafka_draw(struct view *v, struct _win_st *win, const struct rect *r,
                            const struct view_data *d)
{
        if (v->detail) {
                struct tlines l;
                size_t total;

                tlines_init(&l);
                total = view_kafka_detail_window(d, v->detail_id, 0, 0, &l);
                common_detail_scroll(v, total, r->h);
                view_kafka_detail_window(d, v->detail_id, (size_t)v->detail_top,
                                         r->h > 0 ? (size_t)r->h : 0, &l);
                tlines_draw(win, r, &l, 0, d->ascii);
                tlines_done(&l);
                return;
        }
        common_draw_columns(v, win, r, d, view_kafka_columns(d->flags), NULL);
}

static int view_kafka_key(struct view *v, int ch)
{
        if (ch == 'v') {
                common_flags_cycle(&v->flags, VIEW_KAFKA_SHOW_MASK, 0,
                                   LO_ARRAY_LEN(view_kafka_show_names));
                common_table_reset(v);
                return VIEW_HANDLED | VIEW_REDRAW;
        }
        if (ch == 's' && (v->flags & VIEW_KAFKA_SHOW_MASK) == VIEW_KAFKA_SHOW_GROUPS) {
                common_flags_cycle(&v->flags, VIEW_KAFKA_SORT_MASK, 2,
                                   LO_ARRAY_LEN(view_kafka_sort_names));
                return VIEW_HANDLED | VIEW_REDRAW;
        }
        return VIEW_IGNORED;
}

static const struct view_key view_kafka_keys[] = {
        { 'v', "v", "cycle the table: groups, brokers + quorum, topics", "view" },
        { 's', "s", "groups: cycle the sort: lag, lag seconds, status", "sort" },
        { 0, NULL, NULL, NULL },
};

const struct view_ops view_kafka_ops = {
        .name = "kafka",
        .title = "Kafka",
        .collector = "kafka",
        .columns = view_kafka_group_columns,
        .rows = view_kafka_rows,
        .preamble = view_kafka_preamble,
        .detail = view_kafka_detail,
        .detail_help = "partitions",
        .draw = view_kafka_draw,
        .key = view_kafka_key,
        .keys = view_kafka_keys,
        .empty = "no rows (no kafka data yet, or nothing matches)",
};
