/*
 * CDC pane: logical replication slots of every PostgreSQL source (ops name
 * "postgres"), the source of the Debezium change stream.
 *
 * Above the table, one line per source: server version, wal_level (warn
 * colour unless "logical"), WAL bytes/s, slot and sender usage and the age
 * of the data -- or the error when the source is down. The table lists
 * every slot of every source sorted by lag, largest first, with lag and
 * retained WAL coloured by the source's thresholds, the lag trend, the
 * wal_status / safe_wal_size projection and a lag sparkline. Enter opens a
 * slot page: every slot field, its WAL sender (pg_stat_replication joined
 * by slot name), the publications, the slot's alerts and a larger chart.
 *
 * rows(), preamble() and detail() are pure (see view.h); `i` toggles
 * "inactive slots only".
 */
#include "views/view.h"
#include "views/cdc.h"
#include "views/common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/kafka_connect.h"
#include "collectors/postgres.h"
#include "core/ring.h"
#include "core/util.h"

#define CDC_SPARK_W 12

static const struct column view_cdc_columns[] = {
        [CDC_SOURCE]   = { "SOURCE",      -1,  9, COL_LEFT },
        [CDC_SLOT]     = { "SLOT",        -2, 15, COL_LEFT },
        [CDC_PLUGIN]   = { "PLUGIN",       9,  0, COL_LEFT },
        [CDC_ACTIVE]   = { "ACTIVE",       6,  0, COL_LEFT },
        [CDC_LAG]      = { "LAG",         10,  0, COL_RIGHT },
        [CDC_TREND]    = { "LAG TREND",   13,  0, COL_RIGHT },
        [CDC_RETAINED] = { "RETAINED",    10,  0, COL_RIGHT },
        [CDC_WAL]      = { "WAL",         10,  0, COL_LEFT },
        [CDC_SAFE]     = { "SAFE / ETA",  14,  0, COL_LEFT },
        [CDC_HIST]     = { "LAG HISTORY", CDC_SPARK_W, 0, COL_LEFT },
        [CDC__COUNT]   = { NULL, 0, 0, COL_LEFT },
};

/* The pg data of a source's snapshot, or NULL. */
static const struct pg_data *view_cdc_data(const struct snapshot *s)
{
        return s ? (const struct pg_data *)s->data : NULL;
}

static enum severity view_cdc_wal_status_sev(const char *ws)
{
        if (!ws)
                return SEV_OK;
        if (strcmp(ws, "extended") == 0)
                return SEV_WARN;
        if (strcmp(ws, "unreserved") == 0 || strcmp(ws, "lost") == 0)
                return SEV_CRIT;
        return SEV_OK;
}

/* "↑ 1.2 KiB/s" (growing), "↓ 512 B/s", "→ 0 B/s"; "-" without a rate. */
static void view_cdc_fmt_rate(double rate, bool ascii, char *buf, size_t n)
{
        const struct glyphs *g = view_glyphs(ascii);
        char b[32];

        if (!isfinite(rate)) {
                snprintf(buf, n, "-");
                return;
        }
        if (fabs(rate) < 0.5) {
                snprintf(buf, n, "%s 0 B/s", g->flat);
                return;
        }
        fmt_bytes(fabs(rate), b, sizeof b);
        snprintf(buf, n, "%s %s/s", rate > 0 ? g->up : g->down, b);
}

struct view_cdc_item {
        const struct source_cfg *src;
        const struct snapshot   *snap;
        const struct pg_slot    *slot;
};

static int view_cdc_item_cmp(const void *pa, const void *pb)
{
        const struct view_cdc_item *a = pa, *b = pb;
        int c;

        if (a->slot->has_lag != b->slot->has_lag)
                return a->slot->has_lag ? -1 : 1;
        if (a->slot->has_lag && a->slot->lag_bytes != b->slot->lag_bytes)
                return a->slot->lag_bytes > b->slot->lag_bytes ? -1 : 1;
        c = strcmp(a->src->name, b->src->name);
        if (c)
                return c;
        return strcmp(a->slot->name ? a->slot->name : "", b->slot->name ? b->slot->name : "");
}

static void view_cdc_row(const struct view_data *d, const struct view_cdc_item *it,
                         struct table_row *row)
{
        const struct pg_slot *sl = it->slot;
        const char *name = sl->name ? sl->name : "?";
        enum severity lag_sev = SEV_OK, ret_sev = SEV_OK, ws_sev, act_sev = SEV_OK;
        char buf[TABLE_CELL_MAX], b2[32];

        snprintf(row->id, sizeof row->id, "%s\t%s", it->src->name, name);
        table_cell_set(row, CDC_SOURCE, ROLE_DEFAULT, "%s", it->src->name);
        table_cell_set(row, CDC_SLOT, ROLE_DEFAULT, "%s", name);
        table_cell_set(row, CDC_PLUGIN, sl->plugin ? ROLE_DEFAULT : ROLE_DIM, "%s",
                       sl->plugin ? sl->plugin : "-");
        if (sl->active) {
                table_cell_set(row, CDC_ACTIVE, ROLE_OK, "yes");
        } else {
                act_sev = view_threshold_sev(it->src, "slot_inactive_ms",
                                             (double)sl->inactive_for_ms);
                table_cell_set(row, CDC_ACTIVE, act_sev == SEV_OK ? ROLE_WARN
                                                                  : view_sev_role(act_sev), "no");
        }

        if (sl->has_lag) {
                lag_sev = view_threshold_sev(it->src, "slot_lag_bytes", (double)sl->lag_bytes);
                fmt_bytes((double)sl->lag_bytes, buf, sizeof buf);
                table_cell_set(row, CDC_LAG, view_sev_role(lag_sev), "%s", buf);
        } else {
                table_cell_set(row, CDC_LAG, ROLE_DIM, "-");
        }
        view_cdc_fmt_rate(sl->has_lag ? sl->lag_rate : NAN, d->ascii, buf, sizeof buf);
        table_cell_set(row, CDC_TREND, isfinite(sl->lag_rate) && sl->lag_rate >= 0.5 ? ROLE_DEFAULT
                                                                                   : ROLE_DIM,
                       "%s", buf);
        if (sl->has_retained) {
                ret_sev = view_threshold_sev(it->src, "retained_bytes",
                                             (double)sl->retained_bytes);
                fmt_bytes((double)sl->retained_bytes, buf, sizeof buf);
                table_cell_set(row, CDC_RETAINED, view_sev_role(ret_sev), "%s", buf);
        } else {
                table_cell_set(row, CDC_RETAINED, ROLE_DIM, "-");
        }
        ws_sev = view_cdc_wal_status_sev(sl->wal_status);
        table_cell_set(row, CDC_WAL, sl->wal_status ? view_sev_role(ws_sev) : ROLE_DIM, "%s",
                       sl->wal_status ? sl->wal_status : "-");

        if (sl->has_safe_wal_size) {
                fmt_bytes((double)sl->safe_wal_size, buf, sizeof buf);
                if (sl->eta_lost_s >= 0) {
                        fmt_duration_ms((int64_t)(sl->eta_lost_s * 1000), b2, sizeof b2);
                        table_cell_set(row, CDC_SAFE, ROLE_WARN, "%s / %s", buf, b2);
                } else {
                        table_cell_set(row, CDC_SAFE, ROLE_DEFAULT, "%s", buf);
                }
        } else if (sl->wal_status && strcmp(sl->wal_status, "lost") != 0) {
                table_cell_set(row, CDC_SAFE, ROLE_DIM, "unlimited");
        } else {
                table_cell_set(row, CDC_SAFE, ROLE_DIM, "-");
        }
        common_spark_cell(row, CDC_HIST, &sl->lag_hist, CDC_SPARK_W, d->ascii);

        row->sev = view_alert_sev(d->alerts, it->src->name, name);
        row->sev = view_worst(row->sev, lag_sev);
        row->sev = view_worst(row->sev, ret_sev);
        row->sev = view_worst(row->sev, ws_sev);
        row->sev = view_worst(row->sev, act_sev);
        row->stale = snapshot_is_stale(it->snap, d->now_mono) != 0;
}

void view_cdc_rows(const struct view_data *d, struct table_rows *out)
{
        struct view_cdc_item *items = NULL;
        size_t n = 0, cap = 0;

        for (size_t i = 0; i < d->n; i++) {
                const struct pg_data *pd;

                if (!common_is_kind(&d->srcs[i], "postgres") || !(pd = view_cdc_data(d->snaps[i])))
                        continue;
                for (size_t j = 0; j < pd->n_slots; j++) {
                        if ((d->flags & VIEW_CDC_F_INACTIVE) && pd->slots[j].active)
                                continue;
                        if (n == cap) {
                                cap = cap ? 2 * cap : 16;
                                items = xrealloc(items, cap * sizeof *items);
                        }
                        items[n].src = &d->srcs[i];
                        items[n].snap = d->snaps[i];
                        items[n].slot = &pd->slots[j];
                        n++;
                }
        }
        if (n > 1)
                qsort(items, n, sizeof *items, view_cdc_item_cmp);
        for (size_t i = 0; i < n; i++)
                view_cdc_row(d, &items[i], table_rows_add(out));
        free(items);
}

void view_cdc_preamble(const struct view_data *d, struct tlines *out)
{
        size_t npg = 0;

        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const struct snapshot *s = d->snaps[i];
                const struct pg_data *pd = view_cdc_data(s);
                char buf[64];

                if (!common_is_kind(src, "postgres"))
                        continue;
                npg++;
                if (!common_source_head(out, d, src, s, pd, COMMON_AGE_LABEL))
                        continue;
                common_age_seg(out, s, d->now_mono, COMMON_AGE_LABEL);
                /* "15.18 (Debian ...)" -> "15.18"; the detail page has it all. */
                tlines_seg(out, ROLE_DEFAULT, "  PostgreSQL %.*s",
                           pd->server_version ? (int)strcspn(pd->server_version, " ") : 1,
                           pd->server_version ? pd->server_version : "?");
                if (pd->in_recovery)
                        tlines_seg(out, ROLE_WARN, " (standby)");
                tlines_seg(out, ROLE_DIM, "  wal_level ");
                tlines_seg(out, pd->wal_level && strcmp(pd->wal_level, "logical") == 0
                                ? ROLE_OK : ROLE_WARN, "%s", pd->wal_level ? pd->wal_level : "?");
                if (isfinite(pd->wal_bytes_per_sec)) {
                        fmt_bytes(pd->wal_bytes_per_sec, buf, sizeof buf);
                        tlines_seg(out, ROLE_DEFAULT, "  WAL %s/s", buf);
                } else {
                        tlines_seg(out, ROLE_DIM, "  WAL -/s");
                }
                tlines_seg(out, ROLE_DEFAULT, "  slots %zu/%d  senders %zu/%d", pd->n_slots,
                           pd->max_replication_slots, pd->n_senders, pd->max_wal_senders);
                common_degraded(out, s);
        }
        if (!npg)
                tlines_add(out, ROLE_DIM, "no postgres sources configured");
        else if (d->flags & VIEW_CDC_F_INACTIVE)
                tlines_add(out, ROLE_PROMPT, "showing inactive slots only (i shows all)");
}

static const char *view_cdc_lsn(const char *lsn)
{
        return lsn[0] ? lsn : "-";
}

/* The WAL sender streaming `slot` (pg_stat_replication joined on the slot's
 * active_pid by the collector), or NULL. */
static const struct pg_sender *view_cdc_sender(const struct pg_data *pd, const char *slot)
{
        for (size_t i = 0; i < pd->n_senders; i++)
                if (pd->senders[i].slot_name && strcmp(pd->senders[i].slot_name, slot) == 0)
                        return &pd->senders[i];
        return NULL;
}

/* The subject the collector gives a sender's alerts: its application name,
 * else "pid N". */
static void view_cdc_sender_subject(const struct pg_sender *se, char *buf, size_t n)
{
        if (se->application_name && *se->application_name)
                str_copy(buf, se->application_name, n);
        else
                snprintf(buf, n, "pid %d", se->pid);
}

static void view_cdc_detail_sender(const struct view_data *d, const struct source_cfg *src,
                                   const struct pg_data *pd, const char *slot, struct tlines *out)
{
        const struct pg_sender *se = view_cdc_sender(pd, slot);
        char w[32], f[32], r[32];
        enum severity sev;

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "WAL sender");
        if (!se) {
                tlines_add(out, ROLE_DIM, "  none: no walsender is streaming this slot");
                return;
        }
        tlines_kv(out, "pid", ROLE_DEFAULT, "%d", se->pid);
        tlines_kv(out, "user", ROLE_DEFAULT, "%s", se->user ? se->user : "-");
        tlines_kv(out, "application", ROLE_DEFAULT, "%s",
                  se->application_name && *se->application_name ? se->application_name : "-");
        tlines_kv(out, "client", ROLE_DEFAULT, "%s", se->client_addr ? se->client_addr
                                                                     : "local socket");
        tlines_kv(out, "state", se->state && strcmp(se->state, "streaming") == 0 ? ROLE_OK
                                                                                 : ROLE_WARN,
                  "%s", se->state ? se->state : "-");
        tlines_kv(out, "sync state", ROLE_DEFAULT, "%s", se->sync_state ? se->sync_state : "-");
        tlines_kv(out, "sent / write LSN", ROLE_DEFAULT, "%s / %s", view_cdc_lsn(se->sent_lsn),
                  view_cdc_lsn(se->write_lsn));
        tlines_kv(out, "flush / replay LSN", ROLE_DEFAULT, "%s / %s", view_cdc_lsn(se->flush_lsn),
                  view_cdc_lsn(se->replay_lsn));
        fmt_duration_or_dash(se->write_lag_ms, w, sizeof w);
        fmt_duration_or_dash(se->flush_lag_ms, f, sizeof f);
        fmt_duration_or_dash(se->replay_lag_ms, r, sizeof r);
        sev = view_threshold_sev(src, "sender_lag_ms",
                                 se->replay_lag_ms < 0 ? NAN : (double)se->replay_lag_ms);
        tlines_kv(out, "lag write / flush", ROLE_DEFAULT, "%s / %s", w, f);
        tlines_seg(out, ROLE_DIM, "  replay ");
        tlines_seg(out, view_sev_role(sev), "%s", r);
}

/* The Debezium connector(s) reading this slot: every kafka_connect source
 * whose `postgres` is this source, with a Debezium PostgreSQL connector on
 * this slot. Joined here from the snapshots the pane already holds, so the
 * slot's lag and the connector's task states read side by side. */
static void view_cdc_detail_connectors(const struct view_data *d, const struct source_cfg *src,
                                       const char *slot, struct tlines *out)
{
        size_t shown = 0;

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Debezium connector");
        for (size_t i = 0; i < d->n; i++) {
                const struct snapshot *s = d->snaps[i];
                const struct kc_data *kd;

                if (!s || !s->data || !d->srcs[i].kind ||
                    strcmp(d->srcs[i].kind, "kafka_connect") != 0)
                        continue;
                kd = s->data;
                if (!kd->postgres_source || strcmp(kd->postgres_source, src->name) != 0)
                        continue;
                for (size_t c = 0; c < kd->n_conns; c++) {
                        const struct kc_connector *kc = &kd->conns[c];
                        bool running;

                        if (!kc->debezium_pg || !kc->slot || strcmp(kc->slot, slot) != 0)
                                continue;
                        running = kc->state && strcmp(kc->state, "RUNNING") == 0;
                        tlines_kv(out, kc->name, running && !kc->failed_tasks ? ROLE_OK : ROLE_CRIT,
                                  "%s", kc->state ? kc->state : "unknown");
                        tlines_seg(out, ROLE_DIM, "  on %s", d->srcs[i].name);
                        for (size_t t = 0; t < kc->n_tasks; t++) {
                                const struct kc_task *kt = &kc->tasks[t];
                                bool ok = kt->state && strcmp(kt->state, "RUNNING") == 0;
                                char key[32];

                                snprintf(key, sizeof key, "  task %d", kt->id);
                                tlines_kv(out, key, ok ? ROLE_OK : ROLE_CRIT, "%s",
                                          kt->state ? kt->state : "unknown");
                                if (kt->worker)
                                        tlines_seg(out, ROLE_DIM, "  %s", kt->worker);
                        }
                        if (running && kc->failed_tasks)
                                tlines_add(out, ROLE_CRIT, "  RUNNING with a FAILED task: Connect "
                                           "never restarts it, so this slot's lag only grows");
                        shown++;
                }
        }
        if (!shown)
                tlines_add(out, ROLE_DIM, "  none known (no kafka_connect source links a Debezium "
                           "connector to this slot)");
}

static void view_cdc_detail_pubs(const struct pg_data *pd, struct tlines *out)
{
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Publications");
        tlines_seg(out, ROLE_DIM, "  (in the source's database)");
        if (!pd->n_pubs) {
                tlines_add(out, ROLE_WARN, "  none: pgoutput consumers need a publication");
                return;
        }
        for (size_t i = 0; i < pd->n_pubs; i++) {
                const struct pg_publication *p = &pd->pubs[i];
                char ops[64];

                snprintf(ops, sizeof ops, "%s%s%s%s", p->ins ? "insert " : "",
                         p->upd ? "update " : "", p->del ? "delete " : "",
                         p->trunc ? "truncate " : "");
                if (ops[0])
                        ops[strlen(ops) - 1] = '\0';
                tlines_add(out, ROLE_DEFAULT, "  %s", p->name ? p->name : "?");
                if (p->all_tables)
                        tlines_seg(out, ROLE_DIM, "  all tables");
                else
                        tlines_seg(out, ROLE_DIM, "  %zu table%s", p->n_tables,
                                   p->n_tables == 1 ? "" : "s");
                tlines_seg(out, ROLE_DIM, "  [%s]", ops);
                for (size_t t = 0; t < p->n_tables && t < 20; t++)
                        tlines_add(out, ROLE_DEFAULT, "      %s", p->tables[t]);
                if (p->n_tables > 20)
                        tlines_add(out, ROLE_DIM, "      ... %zu more", p->n_tables - 20);
        }
}

static void view_cdc_detail_chart(const struct pg_slot *sl, int width, bool ascii,
                                  struct tlines *out)
{
        enum { H = 8 };
        double v[RING_CAP], lo = NAN, hi = NAN;
        size_t n = ring_values(&sl->lag_hist, v, RING_CAP);
        char a[32], b[32];

        for (size_t i = 0; i < n; i++) {
                if (isnan(lo) || v[i] < lo)
                        lo = v[i];
                if (isnan(hi) || v[i] > hi)
                        hi = v[i];
        }
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Lag history");
        if (!n) {
                tlines_seg(out, ROLE_DIM, "  (no samples yet)");
                return;
        }
        fmt_bytes(lo, a, sizeof a);
        fmt_bytes(hi, b, sizeof b);
        tlines_seg(out, ROLE_DIM, "  (%zu samples, min %s, max %s)", n, a, b);
        /* As wide as the history (newest at the right), at most the pane. */
        common_chart(out, v, n, common_chart_width(width, n), H, ascii, "  ");
}

/* The alerts of a slot page: the slot's, and the lag of its WAL sender. */
struct view_cdc_about {
        const char *source, *slot;
        char sender[128];       /* the sender's subject; "" = no sender */
};

static bool view_cdc_alert_about(const struct alert *a, const void *arg)
{
        const struct view_cdc_about *ab = arg;

        if (strcmp(a->source, ab->source) != 0)
                return false;
        return strcmp(a->subject, ab->slot) == 0 ||
               (ab->sender[0] && strcmp(a->metric, "sender_lag_ms") == 0 &&
                strcmp(a->subject, ab->sender) == 0);
}

void view_cdc_detail(const struct view_data *d, const char *id, struct tlines *out)
{
        const struct source_cfg *src = NULL;
        const struct snapshot *s = NULL;
        const struct pg_data *pd;
        const struct pg_slot *sl = NULL;
        const struct pg_sender *sender;
        struct view_cdc_about ab = { NULL, NULL, "" };
        const char *tab = strchr(id, '\t');
        const char *slot = tab ? tab + 1 : "";
        enum severity sev;
        char buf[64], b2[64];
        size_t srclen = tab ? (size_t)(tab - id) : strlen(id);

        for (size_t i = 0; i < d->n; i++) {
                if (strlen(d->srcs[i].name) == srclen &&
                    strncmp(d->srcs[i].name, id, srclen) == 0) {
                        src = &d->srcs[i];
                        s = d->snaps[i];
                }
        }
        pd = view_cdc_data(s);
        for (size_t j = 0; pd && j < pd->n_slots; j++)
                if (pd->slots[j].name && strcmp(pd->slots[j].name, slot) == 0)
                        sl = &pd->slots[j];

        tlines_add(out, ROLE_TITLE, "Slot %s", slot);
        tlines_seg(out, ROLE_DIM, "  on %.*s", (int)srclen, id);
        if (s)
                common_age_seg(out, s, d->now_mono, COMMON_AGE_LABEL);
        if (!src || !sl) {
                tlines_add(out, ROLE_WARN, "  this slot is not in the latest data%s%s",
                           s && s->error[0] ? ": " : " (dropped?)", s && s->error[0] ? s->error
                                                                                    : "");
                return;
        }

        tlines_kv(out, "plugin", ROLE_DEFAULT, "%s", sl->plugin ? sl->plugin : "-");
        tlines_kv(out, "type", ROLE_DEFAULT, "%s", sl->type ? sl->type : "-");
        tlines_kv(out, "database", ROLE_DEFAULT, "%s", sl->database ? sl->database : "-");
        tlines_kv(out, "temporary", ROLE_DEFAULT, "%s", sl->temporary ? "yes" : "no");
        if (sl->active) {
                tlines_kv(out, "active", ROLE_OK, "yes (pid %d)", sl->active_pid);
        } else {
                sev = view_threshold_sev(src, "slot_inactive_ms", (double)sl->inactive_for_ms);
                fmt_duration_ms(sl->inactive_for_ms, buf, sizeof buf);
                tlines_kv(out, "active", sev == SEV_OK ? ROLE_WARN : view_sev_role(sev),
                          "no (seen inactive for %s)", buf);
        }
        tlines_kv(out, "restart_lsn", ROLE_DEFAULT, "%s", view_cdc_lsn(sl->restart_lsn));
        tlines_kv(out, "confirmed_flush_lsn", ROLE_DEFAULT, "%s",
                  view_cdc_lsn(sl->confirmed_flush_lsn));
        if (sl->has_lag) {
                sev = view_threshold_sev(src, "slot_lag_bytes", (double)sl->lag_bytes);
                fmt_bytes((double)sl->lag_bytes, buf, sizeof buf);
                tlines_kv(out, "lag", view_sev_role(sev), "%s", buf);
                tlines_seg(out, ROLE_DIM, "  (%lld bytes)", (long long)sl->lag_bytes);
        } else {
                tlines_kv(out, "lag", ROLE_DIM, "-");
        }
        view_cdc_fmt_rate(sl->has_lag ? sl->lag_rate : NAN, d->ascii, buf, sizeof buf);
        tlines_kv(out, "lag trend", ROLE_DEFAULT, "%s", buf);
        if (sl->has_retained) {
                sev = view_threshold_sev(src, "retained_bytes", (double)sl->retained_bytes);
                fmt_bytes((double)sl->retained_bytes, buf, sizeof buf);
                tlines_kv(out, "retained", view_sev_role(sev), "%s", buf);
        } else {
                tlines_kv(out, "retained", ROLE_DIM, "-");
        }
        view_cdc_fmt_rate(sl->has_retained ? sl->retained_rate : NAN, d->ascii, buf, sizeof buf);
        tlines_kv(out, "retained trend", ROLE_DEFAULT, "%s", buf);
        tlines_kv(out, "wal_status",
                  sl->wal_status ? view_sev_role(view_cdc_wal_status_sev(sl->wal_status))
                                                    : ROLE_DIM,
                  "%s", sl->wal_status ? sl->wal_status : "- (PostgreSQL < 13)");
        if (sl->has_safe_wal_size) {
                fmt_bytes((double)sl->safe_wal_size, buf, sizeof buf);
                tlines_kv(out, "safe_wal_size", ROLE_DEFAULT, "%s", buf);
        } else {
                tlines_kv(out, "safe_wal_size", ROLE_DIM, "%s",
                          sl->wal_status ? "unlimited (max_slot_wal_keep_size = -1)" : "-");
        }
        if (sl->eta_lost_s >= 0) {
                fmt_duration_ms((int64_t)(sl->eta_lost_s * 1000), b2, sizeof b2);
                tlines_kv(out, "WAL lost in", ROLE_WARN, "%s at the current growth", b2);
        } else {
                tlines_kv(out, "WAL lost in", ROLE_DIM, "not projected (not growing or unlimited)");
        }

        view_cdc_detail_sender(d, src, pd, slot, out);
        view_cdc_detail_connectors(d, src, slot, out);
        view_cdc_detail_pubs(pd, out);

        ab.source = src->name;
        ab.slot = slot;
        sender = view_cdc_sender(pd, slot);
        if (sender)
                view_cdc_sender_subject(sender, ab.sender, sizeof ab.sender);
        common_alerts_if(out, d, view_cdc_alert_about, &ab);

        view_cdc_detail_chart(sl, d->width - 4, d->ascii, out);
}

static int view_cdc_key(struct view *v, int ch)
{
        if (ch != 'i')
                return VIEW_IGNORED;
        v->flags ^= VIEW_CDC_F_INACTIVE;
        return VIEW_HANDLED | VIEW_REDRAW;
}

static const struct view_key view_cdc_keys[] = {
        { 'i', "i", "toggle: only inactive slots (no consumer connected)", "inactive" },
        { 0, NULL, NULL, NULL },
};

const struct view_ops view_cdc_ops = {
        .name = "cdc",
        .title = "CDC",
        .collector = "postgres",
        .columns = view_cdc_columns,
        .rows = view_cdc_rows,
        .preamble = view_cdc_preamble,
        .detail = view_cdc_detail,
        .detail_help = "slot detail",
        .key = view_cdc_key,
        .keys = view_cdc_keys,
        .empty = "no replication slots",
};
