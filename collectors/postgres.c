/*
 * PostgreSQL logical-replication (CDC source) collector.
 *
 * One collector thread per source owns a `struct pg_state`: one libpq
 * connection, reused across polls and reopened after a failure, plus the
 * history (struct pg_history) that turns successive polls into WAL bytes/s
 * and per-slot lag trends. Nothing here is shared with other threads except
 * the published `struct pg_data`, which is immutable once returned.
 *
 * I/O (src/pgconn.c, shared with the SQL runner). Every blocking step is
 * non-blocking libpq driven by coll_wait_fd():
 * PQconnectStartParams + PQconnectPoll, then PQsendQueryParams + PQflush /
 * PQconsumeInput / PQisBusy. So a dead server fails fast, a hung one fails at
 * the source timeout (coll_ctx.deadline_mono covers the whole poll), and
 * quit (ctx->stop_fd) interrupts at once. On timeout or quit we drop the
 * connection instead of PQcancel(), which itself blocks on a hung server;
 * statement_timeout makes the server give up the query on its side. The one
 * step we cannot bound is the host name lookup inside PQconnectStartParams
 * (getaddrinfo is synchronous): prefer host addresses or /etc/hosts names.
 *
 * Session: options "-c default_transaction_read_only=on -c
 * statement_timeout=<timeout>", fallback_application_name=lambdaops, the
 * password from password_env/password_file (config_secret_resolve) as the
 * `password` keyword. The password is never logged; DSNs are shown only
 * through pgconn_dsn_mask(), and error texts have any password in the DSN
 * redacted.
 *
 * A poll runs four queries, picked by server_version_num (PG 10-17; 9.x gets
 * the overview only and is reported degraded):
 *   overview      version, pg_is_in_recovery(), wal_level, max_* settings and
 *                 the current LSN (pg_current_wal_lsn(), or on a standby
 *                 pg_last_wal_receive_lsn() falling back to the replay LSN);
 *   slots         pg_replication_slots with lag/retained computed by the
 *                 server as pg_wal_lsn_diff($current, confirmed_flush_lsn /
 *                 restart_lsn), where $current is the overview's LSN, so the
 *                 lags agree exactly with the reported current_lsn;
 *                 wal_status/safe_wal_size on 13+, inactive_since on 17+;
 *   publications  pg_publication + pg_publication_tables (tables are listed
 *                 only for publications that are not FOR ALL TABLES);
 *   senders       pg_stat_replication joined to slots on active_pid.
 * A failing overview or a lost connection makes the poll DOWN; a failing
 * later query (permissions, say) makes it DEGRADED with what was read.
 * Parsing is pure (pg_parse_*() over struct pg_rows), so tests feed it
 * fixtures; history is pure too (postgres_history_apply()).
 *
 * Alert rules (postgres_alerts; thresholds are configurable, defaults below):
 *   wal_level != logical                  warn  metric wal_level
 *   per slot: lag_bytes                   slot_lag_bytes   (256 MiB / 2 GiB)
 *             retained_bytes              retained_bytes   (1 GiB / 8 GiB)
 *             inactive_for_ms, if inactive slot_inactive_ms (5 min / 30 min)
 *             wal_status extended         warn  metric wal_status
 *             wal_status unreserved, lost crit  metric wal_status
 *             eta_lost_s < 1 h            crit  metric eta_lost_s, threshold
 *                                         3600; not when already lost
 *   per sender: replay_lag_ms             sender_lag_ms    (30 s / 5 min); flush_lag_ms
 *             when replay_lsn is NULL (pg_recvlogical and other logical
 *             consumers that never report a replay position: their
 *             replay_lag only grows)
 * eta_lost_s = safe_wal_size / retained_rate, both positive, where
 * retained_rate is the least-squares slope of retained_bytes over 5 minutes.
 */
#include "collectors/postgres.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/jsonout.h"
#include "clients/pgconn.h"
#include "clients/sql.h"
#include "core/ring.h"
#include "core/util.h"

#define PG_RATE_WINDOW_MS (5 * 60 * 1000)
#define PG_ETA_CRIT_S     3600.0

static const struct cfg_key pg_keys[] = {
        { "dsn",           CFG_STR,        offsetof(struct pg_cfg, dsn),           true,
          "libpq connection string, keyword or URI form (a password here is masked everywhere; prefer password_env)" },
        { "password_env",  CFG_SECRET_REF, offsetof(struct pg_cfg, password_env),  false,
          "name of an environment variable holding the password (overrides one in dsn)" },
        { "password_file", CFG_SECRET_REF, offsetof(struct pg_cfg, password_file), false,
          "path of a file holding the password (one trailing newline stripped)" },
        { "sslmode",       CFG_STR,        offsetof(struct pg_cfg, sslmode),       false,
          "libpq sslmode override (disable, allow, prefer, require, verify-ca, verify-full)" },
        { NULL, 0, 0, false, NULL },
};

static const struct threshold_def pg_thresholds[] = {
        { "slot_lag_bytes",   THR_BYTES, 256.0 * 1024 * 1024, 2.0 * 1024 * 1024 * 1024,
          "WAL not yet confirmed by the slot's consumer (current LSN - confirmed_flush_lsn)" },
        { "retained_bytes",   THR_BYTES, 1.0 * 1024 * 1024 * 1024, 8.0 * 1024 * 1024 * 1024,
          "WAL kept on disk for the slot (current LSN - restart_lsn)" },
        { "slot_inactive_ms", THR_MS,    5.0 * 60 * 1000, 30.0 * 60 * 1000,
          "how long a slot has been inactive (no consumer connected)" },
        { "sender_lag_ms",    THR_MS,    30.0 * 1000, 5.0 * 60 * 1000,
          "replay_lag of a WAL sender in pg_stat_replication (flush_lag when it reports no replay position)" },
        { NULL, 0, 0, 0, NULL },
};

/* ------------------------------------------------------------------------
 * LSNs and DSN masking (pure)
 */

static int postgres_hexval(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Up to 8 hex digits; returns the end or NULL. */
static const char *postgres_hex32(const char *s, uint32_t *out)
{
        uint32_t v = 0;
        int n = 0, h;

        while ((h = postgres_hexval((unsigned char)*s)) >= 0) {
                if (++n > 8)
                        return NULL;
                v = (v << 4) | (uint32_t)h;
                s++;
        }
        if (n == 0)
                return NULL;
        *out = v;
        return s;
}

int postgres_lsn_parse(const char *s, uint64_t *out)
{
        uint32_t hi, lo;

        if (!s || !(s = postgres_hex32(s, &hi)) || *s != '/' ||
            !(s = postgres_hex32(s + 1, &lo)) || *s)
                return -1;
        if (out)
                *out = (uint64_t)hi << 32 | lo;
        return 0;
}

/* ------------------------------------------------------------------------
 * Row parsing (pure)
 */

static int postgres_col(const struct pg_rows *r, const char *name)
{
        for (int i = 0; i < r->ncols; i++) {
                const char *c = r->name(r->src, i);

                if (c && strcmp(c, name) == 0)
                        return i;
        }
        return -1;
}

static const char *postgres_val(const struct pg_rows *r, int row, int col)
{
        return col < 0 ? NULL : r->value(r->src, row, col);
}

static bool postgres_bool(const char *v)
{
        return v && (strcmp(v, "t") == 0 || strcasecmp(v, "true") == 0 ||
                     strcmp(v, "1") == 0 || strcasecmp(v, "on") == 0);
}

/* Integer text, optionally with a zero fraction ("1234", "-5", "12.000",
 * as numeric output looks). False for NULL or anything else. */
static bool postgres_i64(const char *v, int64_t *out)
{
        char *end;
        long long x;

        if (!v || !*v || isspace((unsigned char)*v))
                return false;
        errno = 0;
        x = strtoll(v, &end, 10);
        if (errno || end == v)
                return false;
        if (*end == '.') {
                end++;
                while (*end == '0')
                        end++;
        }
        if (*end)
                return false;
        *out = x;
        return true;
}

static int postgres_int(const char *v, int dflt)
{
        int64_t x;

        return postgres_i64(v, &x) && x >= INT32_MIN && x <= INT32_MAX ? (int)x : dflt;
}

static char *postgres_dup(const char *v)
{
        return v ? xstrdup(v) : NULL;
}

int postgres_parse_overview(const struct pg_rows *r, struct pg_data *d, struct err *err)
{
        int c_ver = postgres_col(r, "server_version"),
            c_num = postgres_col(r, "server_version_num");
        int64_t keep;

        if (c_ver < 0 || c_num < 0) {
                err_set(err, EPROTO, "overview query: no server_version/server_version_num column");
                return -1;
        }
        if (r->nrows != 1) {
                err_set(err, EPROTO, "overview query returned %d rows, expected 1", r->nrows);
                return -1;
        }
        free(d->server_version);
        free(d->wal_level);
        d->server_version = postgres_dup(postgres_val(r, 0, c_ver));
        d->server_version_num = postgres_int(postgres_val(r, 0, c_num), 0);
        d->in_recovery = postgres_bool(postgres_val(r, 0, postgres_col(r, "in_recovery")));
        d->wal_level = postgres_dup(postgres_val(r, 0, postgres_col(r, "wal_level")));
        d->max_replication_slots =
                postgres_int(postgres_val(r, 0, postgres_col(r, "max_replication_slots")), -1);
        d->max_wal_senders = postgres_int(postgres_val(r, 0, postgres_col(r, "max_wal_senders")),
                                          -1);
        d->max_slot_wal_keep_size = -1;
        if (postgres_i64(postgres_val(r, 0, postgres_col(r, "max_slot_wal_keep_size")),
                         &keep) && keep >= 0)
                d->max_slot_wal_keep_size = keep;
        str_copy(d->current_lsn, postgres_val(r, 0, postgres_col(r, "current_lsn")),
                 sizeof d->current_lsn);
        return 0;
}

static int postgres_slot_cmp(const void *a, const void *b)
{
        const struct pg_slot *x = a, *y = b;

        if (x->has_lag != y->has_lag)
                return x->has_lag ? -1 : 1;
        if (x->has_lag && x->lag_bytes != y->lag_bytes)
                return x->lag_bytes > y->lag_bytes ? -1 : 1;
        return strcmp(x->name, y->name);
}

static void postgres_slot_done(struct pg_slot *s)
{
        free(s->name);
        free(s->plugin);
        free(s->type);
        free(s->database);
        free(s->wal_status);
}

int postgres_parse_slots(const struct pg_rows *r, struct pg_data *d, struct err *err)
{
        int c_name = postgres_col(r, "slot_name"), c_plugin = postgres_col(r, "plugin");
        int c_type = postgres_col(r, "slot_type"), c_db = postgres_col(r, "database");
        int c_temp = postgres_col(r, "temporary"), c_active = postgres_col(r, "active");
        int c_pid = postgres_col(r, "active_pid"), c_restart = postgres_col(r, "restart_lsn");
        int c_conf = postgres_col(r, "confirmed_flush_lsn"), c_lag = postgres_col(r, "lag_bytes");
        int c_ret = postgres_col(r, "retained_bytes"), c_ws = postgres_col(r, "wal_status");
        int c_safe = postgres_col(r, "safe_wal_size"), c_inact = postgres_col(r, "inactive_ms");
        uint64_t cur = 0;
        bool have_cur = postgres_lsn_parse(d->current_lsn, &cur) == 0;

        if (c_name < 0) {
                err_set(err, EPROTO, "slots query: no slot_name column");
                return -1;
        }
        d->slots = xcalloc(r->nrows > 0 ? (size_t)r->nrows : 1, sizeof *d->slots);
        d->n_slots = 0;
        for (int i = 0; i < r->nrows; i++) {
                struct pg_slot *s = &d->slots[d->n_slots];
                const char *name = postgres_val(r, i, c_name);
                uint64_t lsn;

                if (!name)
                        continue;
                memset(s, 0, sizeof *s);
                s->name = xstrdup(name);
                s->plugin = postgres_dup(postgres_val(r, i, c_plugin));
                s->type = postgres_dup(postgres_val(r, i, c_type));
                s->database = postgres_dup(postgres_val(r, i, c_db));
                s->temporary = postgres_bool(postgres_val(r, i, c_temp));
                s->active = postgres_bool(postgres_val(r, i, c_active));
                s->active_pid = s->active ? postgres_int(postgres_val(r, i, c_pid), 0) : 0;
                str_copy(s->restart_lsn, postgres_val(r, i, c_restart), sizeof s->restart_lsn);
                str_copy(s->confirmed_flush_lsn, postgres_val(r, i, c_conf),
                         sizeof s->confirmed_flush_lsn);
                if (c_lag >= 0)
                        s->has_lag = postgres_i64(postgres_val(r, i, c_lag), &s->lag_bytes);
                else if (have_cur && postgres_lsn_parse(s->confirmed_flush_lsn, &lsn) == 0)
                        s->has_lag = true, s->lag_bytes = (int64_t)(cur - lsn);
                if (c_ret >= 0)
                        s->has_retained = postgres_i64(postgres_val(r, i, c_ret),
                                                       &s->retained_bytes);
                else if (have_cur && postgres_lsn_parse(s->restart_lsn, &lsn) == 0)
                        s->has_retained = true, s->retained_bytes = (int64_t)(cur - lsn);
                s->wal_status = postgres_dup(postgres_val(r, i, c_ws));
                s->has_safe_wal_size = postgres_i64(postgres_val(r, i, c_safe), &s->safe_wal_size);
                if (!s->active && !postgres_i64(postgres_val(r, i, c_inact), &s->inactive_for_ms))
                        s->inactive_for_ms = 0;
                if (s->inactive_for_ms < 0)
                        s->inactive_for_ms = 0;
                s->eta_lost_s = -1;
                ring_init(&s->lag_hist);
                ring_init(&s->retained_hist);
                d->n_slots++;
        }
        qsort(d->slots, d->n_slots, sizeof *d->slots, postgres_slot_cmp);
        return 0;
}

int postgres_parse_publications(const struct pg_rows *r, struct pg_data *d, struct err *err)
{
        int c_name = postgres_col(r, "pubname"), c_all = postgres_col(r, "puballtables");
        int c_ins = postgres_col(r, "pubinsert"), c_upd = postgres_col(r, "pubupdate");
        int c_del = postgres_col(r, "pubdelete"), c_tr = postgres_col(r, "pubtruncate");
        int c_root = postgres_col(r, "pubviaroot"), c_schema = postgres_col(r, "schemaname");
        int c_table = postgres_col(r, "tablename");

        if (c_name < 0) {
                err_set(err, EPROTO, "publications query: no pubname column");
                return -1;
        }
        d->pubs = xcalloc(r->nrows > 0 ? (size_t)r->nrows : 1, sizeof *d->pubs);
        d->n_pubs = 0;
        for (int i = 0; i < r->nrows; i++) {
                const char *name = postgres_val(r, i, c_name);
                const char *schema = postgres_val(r, i, c_schema),
                           *table = postgres_val(r, i, c_table);
                struct pg_publication *p;

                if (!name)
                        continue;
                p = d->n_pubs ? &d->pubs[d->n_pubs - 1] : NULL;
                if (!p || strcmp(p->name, name) != 0) {
                        p = &d->pubs[d->n_pubs++];
                        memset(p, 0, sizeof *p);
                        p->name = xstrdup(name);
                        p->all_tables = postgres_bool(postgres_val(r, i, c_all));
                        p->ins = postgres_bool(postgres_val(r, i, c_ins));
                        p->upd = postgres_bool(postgres_val(r, i, c_upd));
                        p->del = postgres_bool(postgres_val(r, i, c_del));
                        p->trunc = postgres_bool(postgres_val(r, i, c_tr));
                        p->via_root = postgres_bool(postgres_val(r, i, c_root));
                }
                if (schema && table) {
                        p->tables = xrealloc(p->tables, (p->n_tables + 1) * sizeof *p->tables);
                        p->tables[p->n_tables++] = xasprintf("%s.%s", schema, table);
                }
        }
        return 0;
}

int postgres_parse_senders(const struct pg_rows *r, struct pg_data *d, struct err *err)
{
        int c_pid = postgres_col(r, "pid"), c_user = postgres_col(r, "usename");
        int c_app = postgres_col(r, "application_name"), c_addr = postgres_col(r, "client_addr");
        int c_state = postgres_col(r, "state"), c_sync = postgres_col(r, "sync_state");
        int c_sent = postgres_col(r, "sent_lsn"), c_write = postgres_col(r, "write_lsn");
        int c_flush = postgres_col(r, "flush_lsn"), c_replay = postgres_col(r, "replay_lsn");
        int c_wl = postgres_col(r, "write_lag_ms"), c_fl = postgres_col(r, "flush_lag_ms");
        int c_rl = postgres_col(r, "replay_lag_ms"), c_slot = postgres_col(r, "slot_name");

        if (c_pid < 0) {
                err_set(err, EPROTO, "senders query: no pid column");
                return -1;
        }
        d->senders = xcalloc(r->nrows > 0 ? (size_t)r->nrows : 1, sizeof *d->senders);
        d->n_senders = 0;
        for (int i = 0; i < r->nrows; i++) {
                struct pg_sender *s = &d->senders[d->n_senders++];

                memset(s, 0, sizeof *s);
                s->pid = postgres_int(postgres_val(r, i, c_pid), 0);
                s->user = postgres_dup(postgres_val(r, i, c_user));
                s->application_name = postgres_dup(postgres_val(r, i, c_app));
                s->client_addr = postgres_dup(postgres_val(r, i, c_addr));
                s->state = postgres_dup(postgres_val(r, i, c_state));
                s->sync_state = postgres_dup(postgres_val(r, i, c_sync));
                str_copy(s->sent_lsn, postgres_val(r, i, c_sent), sizeof s->sent_lsn);
                str_copy(s->write_lsn, postgres_val(r, i, c_write), sizeof s->write_lsn);
                str_copy(s->flush_lsn, postgres_val(r, i, c_flush), sizeof s->flush_lsn);
                str_copy(s->replay_lsn, postgres_val(r, i, c_replay), sizeof s->replay_lsn);
                if (!postgres_i64(postgres_val(r, i, c_wl), &s->write_lag_ms))
                        s->write_lag_ms = -1;
                if (!postgres_i64(postgres_val(r, i, c_fl), &s->flush_lag_ms))
                        s->flush_lag_ms = -1;
                if (!postgres_i64(postgres_val(r, i, c_rl), &s->replay_lag_ms))
                        s->replay_lag_ms = -1;
                s->slot_name = postgres_dup(postgres_val(r, i, c_slot));
        }
        return 0;
}

static struct pg_data *postgres_data_new(void)
{
        struct pg_data *d = xcalloc(1, sizeof *d);

        d->wal_bytes_per_sec = NAN;
        d->max_replication_slots = -1;
        d->max_wal_senders = -1;
        d->max_slot_wal_keep_size = -1;
        ring_init(&d->wal_hist);
        return d;
}

void postgres_data_free(struct pg_data *d)
{
        if (!d)
                return;
        free(d->server_version);
        free(d->wal_level);
        for (size_t i = 0; i < d->n_slots; i++)
                postgres_slot_done(&d->slots[i]);
        free(d->slots);
        for (size_t i = 0; i < d->n_pubs; i++) {
                for (size_t j = 0; j < d->pubs[i].n_tables; j++)
                        free(d->pubs[i].tables[j]);
                free(d->pubs[i].tables);
                free(d->pubs[i].name);
        }
        free(d->pubs);
        for (size_t i = 0; i < d->n_senders; i++) {
                struct pg_sender *s = &d->senders[i];

                free(s->user);
                free(s->application_name);
                free(s->client_addr);
                free(s->state);
                free(s->sync_state);
                free(s->slot_name);
        }
        free(d->senders);
        free(d);
}

/* ------------------------------------------------------------------------
 * History (pure; owned by the collector thread)
 */

struct pg_slot_hist {
        char       *name;
        struct ring lag;
        struct ring retained;
        bool        inactive;           /* seen inactive at the last poll */
        int64_t     inactive_since;     /* monotonic ms, when inactive */
        bool        seen;               /* present in the current poll */
};

struct pg_history {
        bool        have_lsn;
        uint64_t    lsn;                /* current LSN at the last poll */
        int64_t     lsn_t;              /* monotonic ms of that sample */
        struct ring wal_rate;           /* bytes/s between consecutive polls */
        struct pg_slot_hist *slots;
        size_t      n_slots;
};

struct pg_history *postgres_history_new(void)
{
        struct pg_history *h = xcalloc(1, sizeof *h);

        ring_init(&h->wal_rate);
        return h;
}

void postgres_history_free(struct pg_history *h)
{
        if (!h)
                return;
        for (size_t i = 0; i < h->n_slots; i++)
                free(h->slots[i].name);
        free(h->slots);
        free(h);
}

static struct pg_slot_hist *postgres_history_slot(struct pg_history *h, const char *name)
{
        struct pg_slot_hist *hs;

        for (size_t i = 0; i < h->n_slots; i++)
                if (strcmp(h->slots[i].name, name) == 0)
                        return &h->slots[i];
        h->slots = xrealloc(h->slots, (h->n_slots + 1) * sizeof *h->slots);
        hs = &h->slots[h->n_slots++];
        memset(hs, 0, sizeof *hs);
        hs->name = xstrdup(name);
        ring_init(&hs->lag);
        ring_init(&hs->retained);
        return hs;
}

void postgres_history_apply(struct pg_history *h, struct pg_data *d, int64_t now_ms)
{
        uint64_t lsn;
        size_t k = 0;

        d->wal_bytes_per_sec = NAN;
        if (postgres_lsn_parse(d->current_lsn, &lsn) == 0) {
                if (h->have_lsn && lsn < h->lsn) {
                        /* Went backwards: another server (failover, restore).
                         * Start the rate over. */
                        ring_init(&h->wal_rate);
                        h->lsn = lsn;
                        h->lsn_t = now_ms;
                } else if (h->have_lsn && now_ms > h->lsn_t) {
                        double rate = (double)(lsn - h->lsn) * 1000.0 / (double)(now_ms - h->lsn_t);

                        ring_push(&h->wal_rate, now_ms, rate);
                        d->wal_bytes_per_sec = rate;
                        h->lsn = lsn;
                        h->lsn_t = now_ms;
                } else if (!h->have_lsn) {
                        h->have_lsn = true;
                        h->lsn = lsn;
                        h->lsn_t = now_ms;
                }
        }
        d->wal_hist = h->wal_rate;

        for (size_t i = 0; i < h->n_slots; i++)
                h->slots[i].seen = false;
        for (size_t i = 0; i < d->n_slots; i++) {
                struct pg_slot *s = &d->slots[i];
                struct pg_slot_hist *hs = postgres_history_slot(h, s->name);

                hs->seen = true;
                if (s->has_lag)
                        ring_push(&hs->lag, now_ms, (double)s->lag_bytes);
                if (s->has_retained)
                        ring_push(&hs->retained, now_ms, (double)s->retained_bytes);
                s->lag_rate = ring_rate(&hs->lag, PG_RATE_WINDOW_MS);
                s->retained_rate = ring_rate(&hs->retained, PG_RATE_WINDOW_MS);
                s->eta_lost_s = -1;
                if (s->has_safe_wal_size && s->safe_wal_size > 0 && s->retained_rate > 0)
                        s->eta_lost_s = (double)s->safe_wal_size / s->retained_rate;
                if (s->active) {
                        hs->inactive = false;
                        s->inactive_for_ms = 0;
                } else {
                        if (!hs->inactive) {
                                hs->inactive = true;
                                hs->inactive_since = now_ms;
                        }
                        if (now_ms - hs->inactive_since > s->inactive_for_ms)
                                s->inactive_for_ms = now_ms - hs->inactive_since;
                }
                s->lag_hist = hs->lag;
                s->retained_hist = hs->retained;
        }
        /* Forget slots that were dropped. */
        for (size_t i = 0; i < h->n_slots; i++) {
                if (h->slots[i].seen)
                        h->slots[k++] = h->slots[i];
                else
                        free(h->slots[i].name);
        }
        h->n_slots = k;
}

/* ------------------------------------------------------------------------
 * I/O: the connection and the queries (collector thread)
 */

struct pg_state {
        const struct source_cfg *src;   /* borrowed; config outlives us */
        struct pgconn pc;               /* the connection (src/pgconn.c) */
        struct pg_history *hist;
};

/* Runs one query (see pgconn_exec). */
static PGresult *postgres_exec(struct pg_state *st, const struct coll_ctx *ctx, const char *what,
                               const char *sql, int nparams, const char *const *params,
                               struct err *err)
{
        return pgconn_exec(&st->pc, ctx, what, sql, nparams, params, err);
}

static const char *postgres_res_name(const void *src, int col)
{
        return PQfname(src, col);
}

static const char *postgres_res_value(const void *src, int row, int col)
{
        return PQgetisnull(src, row, col) ? NULL : PQgetvalue(src, row, col);
}

static struct pg_rows postgres_rows_of(const PGresult *res)
{
        return (struct pg_rows){
                .nrows = PQntuples(res), .ncols = PQnfields(res),
                .name = postgres_res_name, .value = postgres_res_value, .src = res,
        };
}

/* SQL by server version. Column names are what the parsers look up. */
static char *postgres_sql_overview(int v)
{
        const char *lsn = v >= 100000
                ? "CASE WHEN pg_is_in_recovery() "
                  "THEN coalesce(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) "
                  "ELSE pg_current_wal_lsn() END::text"
                : "CASE WHEN pg_is_in_recovery() "
                  "THEN coalesce(pg_last_xlog_receive_location(), pg_last_xlog_replay_location()) "
                  "ELSE pg_current_xlog_location() END::text";
        const char *keep = v >= 130000
                ? ", (SELECT CASE WHEN setting::bigint < 0 THEN -1 "
                  "ELSE pg_size_bytes(setting || coalesce(unit, '')) END "
                  "FROM pg_settings WHERE name = 'max_slot_wal_keep_size') AS max_slot_wal_keep_size"
                : "";

        return xasprintf("SELECT current_setting('server_version') AS server_version, "
                         "current_setting('server_version_num')::int AS server_version_num, "
                         "pg_is_in_recovery() AS in_recovery, "
                         "current_setting('wal_level') AS wal_level, "
                         "current_setting('max_replication_slots')::int AS max_replication_slots, "
                         "current_setting('max_wal_senders')::int AS max_wal_senders, "
                         "%s AS current_lsn%s", lsn, keep);
}

static char *postgres_sql_slots(int v)
{
        return xasprintf("SELECT slot_name, plugin, slot_type, database, temporary, active, active_pid, "
                         "restart_lsn::text AS restart_lsn, "
                         "confirmed_flush_lsn::text AS confirmed_flush_lsn, "
                         "pg_wal_lsn_diff($1::pg_lsn, confirmed_flush_lsn)::bigint AS lag_bytes, "
                         "pg_wal_lsn_diff($1::pg_lsn, restart_lsn)::bigint AS retained_bytes%s%s "
                         "FROM pg_replication_slots ORDER BY slot_name",
                         v >= 130000 ? ", wal_status, safe_wal_size" : "",
                         v >= 170000 ? ", (extract(epoch FROM now() - inactive_since) * 1000)::bigint"
                                       " AS inactive_ms" : "");
}

static char *postgres_sql_publications(int v)
{
        return xasprintf("SELECT p.pubname, p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete%s%s, "
                         "t.schemaname, t.tablename "
                         "FROM pg_publication p LEFT JOIN pg_publication_tables t "
                         "ON t.pubname = p.pubname AND NOT p.puballtables "
                         "ORDER BY p.pubname, t.schemaname, t.tablename",
                         v >= 110000 ? ", p.pubtruncate" : "",
                         v >= 130000 ? ", p.pubviaroot" : "");
}

static char *postgres_sql_senders(int v)
{
        (void)v;
        return xstrdup("SELECT r.pid, r.usename, r.application_name, "
                       "host(r.client_addr) AS client_addr, r.state, r.sync_state, "
                       "r.sent_lsn::text AS sent_lsn, r.write_lsn::text AS write_lsn, "
                       "r.flush_lsn::text AS flush_lsn, r.replay_lsn::text AS replay_lsn, "
                       "(extract(epoch FROM r.write_lag) * 1000)::bigint AS write_lag_ms, "
                       "(extract(epoch FROM r.flush_lag) * 1000)::bigint AS flush_lag_ms, "
                       "(extract(epoch FROM r.replay_lag) * 1000)::bigint AS replay_lag_ms, "
                       "s.slot_name "
                       "FROM pg_stat_replication r "
                       "LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid "
                       "ORDER BY r.pid");
}

typedef int (*pg_parse_fn)(const struct pg_rows *, struct pg_data *, struct err *);

/* One query (takes ownership of sql) + parse. nparams is 0 or 1; param may
 * be NULL (SQL NULL). Returns 0, or -1 with err set (st->pc.conn NULL when the
 * connection is gone). */
static int postgres_step(struct pg_state *st, const struct coll_ctx *ctx, const char *what,
                         char *sql, int nparams, const char *param, pg_parse_fn parse,
                         struct pg_data *d, struct err *err)
{
        const char *params[1] = { param };
        PGresult *res = postgres_exec(st, ctx, what, sql, nparams, params, err);
        struct pg_rows rows;
        int rc;

        free(sql);
        if (!res)
                return -1;
        rows = postgres_rows_of(res);
        rc = parse(&rows, d, err);
        PQclear(res);
        return rc;
}

/* Adds a DEGRADED reason to err (first one wins the message, others are
 * appended while they fit). */
static void postgres_degrade(struct err *err, const struct err *e)
{
        if (!err->msg[0])
                err_set(err, e->code, "%s", e->msg);
        else if (strlen(err->msg) + strlen(e->msg) + 3 < sizeof err->msg)
                err_set(err, err->code, "%s; %s", err->msg, e->msg);
}

static enum coll_status postgres_collect(struct pg_state *st, const struct coll_ctx *ctx,
                                         struct pg_data **out, struct err *err)
{
        struct pg_data *d = postgres_data_new();
        enum coll_status status = COLL_OK;
        bool slots_ok = false;
        struct err e;
        int v = st->pc.version;

        *out = NULL;
        if (postgres_step(st, ctx, "overview", postgres_sql_overview(v), 0, NULL,
                          postgres_parse_overview, d, err) != 0) {
                postgres_data_free(d);
                return COLL_DOWN;
        }
        if (d->server_version_num > 0)
                v = d->server_version_num;
        if (v < 100000) {
                err_set(err, ENOTSUP, "PostgreSQL %s is too old: lambdaops reads replication "
                        "details from version 10 on", d->server_version ? d->server_version : "?");
                *out = d;
                return COLL_DEGRADED;
        }

        err_clear(&e);
        if (postgres_step(st, ctx, "slots", postgres_sql_slots(v), 1,
                          d->current_lsn[0] ? d->current_lsn : NULL,
                          postgres_parse_slots, d, &e) == 0) {
                slots_ok = true;
        } else {
                if (!st->pc.conn)
                        goto down;
                postgres_degrade(err, &e);
                status = COLL_DEGRADED;
        }

        err_clear(&e);
        if (postgres_step(st, ctx, "publications", postgres_sql_publications(v), 0, NULL,
                          postgres_parse_publications, d, &e) != 0) {
                if (!st->pc.conn)
                        goto down;
                postgres_degrade(err, &e);
                status = COLL_DEGRADED;
        }

        err_clear(&e);
        if (postgres_step(st, ctx, "senders", postgres_sql_senders(v), 0, NULL,
                          postgres_parse_senders,
                          d, &e) != 0) {
                if (!st->pc.conn)
                        goto down;
                postgres_degrade(err, &e);
                status = COLL_DEGRADED;
        }

        if (slots_ok)
                postgres_history_apply(st->hist, d, clock_mono_ms());
        *out = d;
        return status;

down:
        err_set(err, e.code, "%s", e.msg);
        postgres_data_free(d);
        return COLL_DOWN;
}

/* ------------------------------------------------------------------------
 * collector_ops
 */

static int postgres_validate(const struct source_cfg *src, struct err *err)
{
        static const char *const modes[] = {
                "disable", "allow", "prefer", "require", "verify-ca", "verify-full",
        };
        const struct pg_cfg *c = src->kind_cfg;
        char **keys, **vals;
        bool ok = false;

        if (c->password_env && c->password_file) {
                err_set(err, EINVAL, "password_env and password_file are exclusive: set only one");
                return -1;
        }
        if (!c->dsn || !*c->dsn) {
                err_set(err, EINVAL, "dsn is empty: give a libpq connection string such as "
                        "\"host=127.0.0.1 port=5432 dbname=orders user=lambdaops\"");
                return -1;
        }
        if (pgconn_conn_params(c, NULL, src->timeout_ms, &keys, &vals, err) != 0)
                return -1;
        pgconn_conn_params_free(keys, vals);
        if (!c->sslmode)
                return 0;
        for (size_t i = 0; i < LO_ARRAY_LEN(modes); i++)
                ok = ok || strcmp(c->sslmode, modes[i]) == 0;
        if (!ok) {
                err_set(err, EINVAL, "sslmode \"%s\" is not one of disable, allow, prefer, "
                        "require, verify-ca, verify-full", c->sslmode);
                return -1;
        }
        return 0;
}

static void *postgres_create(const struct source_cfg *src)
{
        struct pg_state *st = xcalloc(1, sizeof *st);

        st->src = src;
        pgconn_init(&st->pc, src->kind_cfg, src->timeout_ms, NULL);
        st->hist = postgres_history_new();
        return st;
}

static void postgres_destroy(void *state)
{
        struct pg_state *st = state;

        if (!st)
                return;
        pgconn_close(&st->pc);
        postgres_history_free(st->hist);
        free(st);
}

static enum coll_status postgres_poll(void *state, const struct coll_ctx *ctx, void **data,
                                      struct err *err)
{
        struct pg_state *st = state;
        struct pg_data *d = NULL;
        enum coll_status status;
        bool fresh = false;

        *data = NULL;
        if (!st->pc.conn) {
                if (pgconn_open(&st->pc, ctx, err) != 0)
                        return COLL_DOWN;
                fresh = true;
        }
        status = postgres_collect(st, ctx, &d, err);
        if (status == COLL_DOWN && !fresh && err->code == ECONNRESET && !coll_stopping(ctx)) {
                /* The reused connection broke (server restarted, idle
                 * timeout): reconnect once within this poll's deadline. */
                err_clear(err);
                if (pgconn_open(&st->pc, ctx, err) != 0)
                        return COLL_DOWN;
                status = postgres_collect(st, ctx, &d, err);
        }
        *data = d;
        return status;
}

static void postgres_data_free_op(void *data)
{
        postgres_data_free(data);
}

/* Rates to 0.1 byte/s so the JSON does not carry float noise. */
static double postgres_round1(double v)
{
        return round(v * 10.0) / 10.0;
}

static void postgres_to_json(const void *data, struct cJSON *obj)
{
        const struct pg_data *d = data;
        cJSON *arr;

        json_add_text(obj, "server_version", d->server_version);
        cJSON_AddNumberToObject(obj, "server_version_num", d->server_version_num);
        cJSON_AddBoolToObject(obj, "in_recovery", d->in_recovery);
        json_add_text(obj, "wal_level", d->wal_level);
        json_add_num(obj, "max_replication_slots", d->max_replication_slots >= 0,
                    d->max_replication_slots);
        json_add_num(obj, "max_wal_senders", d->max_wal_senders >= 0, d->max_wal_senders);
        json_add_num(obj, "max_slot_wal_keep_size", d->max_slot_wal_keep_size >= 0,
                    (double)d->max_slot_wal_keep_size);
        json_add_text(obj, "current_lsn", d->current_lsn);
        json_add_num(obj, "wal_bytes_per_sec", true, postgres_round1(d->wal_bytes_per_sec));

        arr = cJSON_AddArrayToObject(obj, "slots");
        for (size_t i = 0; i < d->n_slots; i++) {
                const struct pg_slot *s = &d->slots[i];
                cJSON *o = cJSON_CreateObject();

                json_add_text(o, "name", s->name);
                json_add_text(o, "plugin", s->plugin);
                json_add_text(o, "type", s->type);
                json_add_text(o, "database", s->database);
                cJSON_AddBoolToObject(o, "temporary", s->temporary);
                cJSON_AddBoolToObject(o, "active", s->active);
                json_add_num(o, "active_pid", s->active && s->active_pid > 0, s->active_pid);
                json_add_text(o, "restart_lsn", s->restart_lsn);
                json_add_text(o, "confirmed_flush_lsn", s->confirmed_flush_lsn);
                json_add_num(o, "lag_bytes", s->has_lag, (double)s->lag_bytes);
                json_add_num(o, "retained_bytes", s->has_retained, (double)s->retained_bytes);
                json_add_text(o, "wal_status", s->wal_status);
                json_add_num(o, "safe_wal_size", s->has_safe_wal_size, (double)s->safe_wal_size);
                json_add_num(o, "lag_rate_bytes_per_sec", s->lag_hist.n >= 2,
                             postgres_round1(s->lag_rate));
                json_add_num(o, "retained_rate_bytes_per_sec", s->retained_hist.n >= 2,
                            postgres_round1(s->retained_rate));
                json_add_num(o, "eta_lost_s", s->eta_lost_s >= 0, round(s->eta_lost_s));
                json_add_num(o, "inactive_for_ms", !s->active, (double)s->inactive_for_ms);
                cJSON_AddItemToArray(arr, o);
        }

        arr = cJSON_AddArrayToObject(obj, "publications");
        for (size_t i = 0; i < d->n_pubs; i++) {
                const struct pg_publication *p = &d->pubs[i];
                cJSON *o = cJSON_CreateObject(), *t;

                json_add_text(o, "name", p->name);
                cJSON_AddBoolToObject(o, "all_tables", p->all_tables);
                t = cJSON_AddArrayToObject(o, "tables");
                for (size_t j = 0; j < p->n_tables; j++)
                        cJSON_AddItemToArray(t, cJSON_CreateString(p->tables[j]));
                cJSON_AddItemToArray(arr, o);
        }

        arr = cJSON_AddArrayToObject(obj, "senders");
        for (size_t i = 0; i < d->n_senders; i++) {
                const struct pg_sender *s = &d->senders[i];
                cJSON *o = cJSON_CreateObject();

                cJSON_AddNumberToObject(o, "pid", s->pid);
                json_add_text(o, "user", s->user);
                json_add_text(o, "application_name", s->application_name);
                json_add_text(o, "client_addr", s->client_addr);
                json_add_text(o, "state", s->state);
                json_add_text(o, "sync_state", s->sync_state);
                json_add_text(o, "sent_lsn", s->sent_lsn);
                json_add_text(o, "write_lsn", s->write_lsn);
                json_add_text(o, "flush_lsn", s->flush_lsn);
                json_add_text(o, "replay_lsn", s->replay_lsn);
                json_add_num(o, "write_lag_ms", s->write_lag_ms >= 0, (double)s->write_lag_ms);
                json_add_num(o, "flush_lag_ms", s->flush_lag_ms >= 0, (double)s->flush_lag_ms);
                json_add_num(o, "replay_lag_ms", s->replay_lag_ms >= 0, (double)s->replay_lag_ms);
                json_add_text(o, "slot", s->slot_name);
                cJSON_AddItemToArray(arr, o);
        }
}

static void postgres_alerts(const struct source_cfg *src, const void *data, struct alert_list *out)
{
        const struct pg_data *d = data;
        char what[192];

        if (d->wal_level && strcmp(d->wal_level, "logical") != 0)
                health_add(out, SEV_WARN, src, "wal_level", "", NAN, NAN,
                           "wal_level is %s; logical decoding (CDC) needs wal_level=logical "
                           "(server restart required)", d->wal_level);
        for (size_t i = 0; i < d->n_slots; i++) {
                const struct pg_slot *s = &d->slots[i];
                bool lost = s->wal_status && strcmp(s->wal_status, "lost") == 0;

                if (s->has_lag) {
                        snprintf(what, sizeof what, "slot %s lag", s->name);
                        health_check(out, src, "slot_lag_bytes", s->name, (double)s->lag_bytes,
                                     what);
                }
                if (s->has_retained) {
                        snprintf(what, sizeof what, "slot %s retained WAL", s->name);
                        health_check(out, src, "retained_bytes", s->name,
                                     (double)s->retained_bytes, what);
                }
                if (!s->active) {
                        snprintf(what, sizeof what, "slot %s inactive for", s->name);
                        health_check(out, src, "slot_inactive_ms", s->name,
                                     (double)s->inactive_for_ms, what);
                }
                if (s->wal_status && strcmp(s->wal_status, "extended") == 0)
                        health_add(out, SEV_WARN, src, "wal_status", s->name, NAN, NAN,
                                   "slot %s wal_status extended: it retains WAL beyond max_wal_size",
                                   s->name);
                else if (s->wal_status && strcmp(s->wal_status, "unreserved") == 0)
                        health_add(out, SEV_CRIT, src, "wal_status", s->name, NAN, NAN,
                                   "slot %s wal_status unreserved: its WAL will be removed at the "
                                   "next checkpoint", s->name);
                else if (lost)
                        health_add(out, SEV_CRIT, src, "wal_status", s->name, NAN, NAN,
                                   "slot %s wal_status lost: required WAL was removed; the consumer "
                                   "must re-snapshot", s->name);
                if (!lost && s->eta_lost_s >= 0 && s->eta_lost_s < PG_ETA_CRIT_S) {
                        char eta[32], safe[32], rate[32];

                        fmt_duration_ms((int64_t)(s->eta_lost_s * 1000.0), eta, sizeof eta);
                        fmt_bytes((double)s->safe_wal_size, safe, sizeof safe);
                        fmt_bytes(s->retained_rate, rate, sizeof rate);
                        health_add(out, SEV_CRIT, src, "eta_lost_s", s->name, s->eta_lost_s,
                                   PG_ETA_CRIT_S, "slot %s will lose its WAL in about %s "
                                   "(safe_wal_size %s, retained WAL growing %s/s)",
                                   s->name, eta, safe, rate);
                }
        }
        for (size_t i = 0; i < d->n_senders; i++) {
                const struct pg_sender *s = &d->senders[i];
                char subject[64];

                bool replay = s->replay_lsn[0] != '\0';
                int64_t lag = replay ? s->replay_lag_ms : s->flush_lag_ms;

                if (lag < 0)
                        continue;
                if (s->application_name && *s->application_name)
                        str_copy(subject, s->application_name, sizeof subject);
                else
                        snprintf(subject, sizeof subject, "pid %d", s->pid);
                snprintf(what, sizeof what, "sender %s (pid %d) %s lag", subject, s->pid,
                         replay ? "replay" : "flush");
                health_check(out, src, "sender_lag_ms", subject, (double)lag, what);
        }
}

static double postgres_key_metric(const void *data)
{
        const struct pg_data *d = data;
        double m = NAN;

        for (size_t i = 0; i < d->n_slots; i++)
                if (d->slots[i].has_lag && (isnan(m) || (double)d->slots[i].lag_bytes > m))
                        m = (double)d->slots[i].lag_bytes;
        return m;
}

static void postgres_summary(const void *data, char *buf, size_t n)
{
        const struct pg_data *d = data;
        size_t inactive = 0, o;
        double max = postgres_key_metric(data);
        char b[32];

        for (size_t i = 0; i < d->n_slots; i++)
                inactive += !d->slots[i].active;
        if (d->n_slots == 0)
                o = (size_t)snprintf(buf, n, "no slots");
        else if (inactive)
                o = (size_t)snprintf(buf, n, "%zu slot%s (%zu inactive)", d->n_slots,
                                     d->n_slots == 1 ? "" : "s", inactive);
        else
                o = (size_t)snprintf(buf, n, "%zu slot%s", d->n_slots, d->n_slots == 1 ? "" : "s");
        if (o < n && !isnan(max)) {
                fmt_bytes(max, b, sizeof b);
                o += (size_t)snprintf(buf + o, n - o, ", max lag %s", b);
        }
        if (o < n && !isnan(d->wal_bytes_per_sec)) {
                fmt_bytes(d->wal_bytes_per_sec, b, sizeof b);
                snprintf(buf + o, n - o, ", WAL %s/s", b);
        }
}

const struct collector_ops coll_postgres_ops = {
        .name = "postgres",
        .title = "PostgreSQL",
        .default_interval_ms = 5000,
        .default_timeout_ms = 3000,
        .keys = pg_keys,
        .cfg_size = sizeof(struct pg_cfg),
        .thresholds = pg_thresholds,
        .validate = postgres_validate,
        .create = postgres_create,
        .destroy = postgres_destroy,
        .poll = postgres_poll,
        .data_free = postgres_data_free_op,
        .to_json = postgres_to_json,
        .alerts = postgres_alerts,
        .key_metric = postgres_key_metric,
        .summary = postgres_summary,
        .key_metric_name = "max slot lag",
        .key_metric_unit = THR_BYTES,
        .sql = &sql_pg_runner,
        .metrics = postgres_metrics,
};
