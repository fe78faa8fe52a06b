/*
 * ClickHouse collector: the speed layer's serving store over the HTTP
 * interface (port 8123/8443), through the shared libcurl client (src/clients/http.h).
 *
 * One collector thread per source owns a `struct ch_state`: one HTTP client
 * (keep-alive), the server's capabilities (struct ch_caps) and the history
 * that turns polls into sparklines and counter rates. Nothing is shared with
 * other threads except the published `struct ch_data`.
 *
 * Requests. Every statement is a POST of "<sql> FORMAT JSON" with the
 * X-ClickHouse-User / X-ClickHouse-Key headers (never credentials in the
 * URL), query_id "lambdaops-<random>" and the settings readonly=2 and
 * max_execution_time = what is left of the poll's deadline, so the server
 * stops when we stop waiting. A profile with readonly=1 refuses any setting
 * (Code 164); we then send none, per call in coll_clickhouse_query() and
 * once per source in the collector. The whole poll shares one deadline
 * (coll_ctx) and quit aborts a transfer at once (http.c).
 *
 * Errors are plain text in two generations ("Code: 60, e.displayText() =
 * DB::Exception: ..., e.what() = DB::Exception" up to 21.x, "Code: 60.
 * DB::Exception: ... (UNKNOWN_TABLE) (version 23.8...)" since) with any
 * HTTP status (400/401/403/404/408/500/503), and an exception that happens
 * after the first block was sent arrives appended to a 200 body. A 200 is
 * accepted only when the body is one complete JSON document.
 *
 * Capabilities. At connect (first poll, after any failed poll, and when
 * uptime() goes backwards, i.e. the server restarted) we read version() and
 * system.columns for the system tables we use, and parts_to_delay_insert
 * from system.merge_tree_settings (150, the old default, when unreadable).
 * The queries follow: query_log.type is UInt8 up to 19.12 (1 start, 2
 * finish, 3 exception before start, 4 exception while processing) and an
 * Enum8 later, so type tests use numbers or names by the discovered type;
 * slow queries are deduplicated by normalized_query_hash when it exists
 * (by text otherwise); inserted rows count only query_kind = 'Insert' where
 * that column exists. While query_log is missing (it appears at its first
 * flush, and only with log_queries=1) we look again every poll.
 *
 * A poll runs up to eight small queries:
 *   overview   version(), uptime(), the server's now() (the windows' end E);
 *   counters   system.metrics MemoryTracking, system.events Query,
 *              FailedQuery, InsertedRows, InsertedBytes;
 *   latency    per window w in 1, 5, 15 min: count() and
 *              quantiles(0.5, 0.95, 0.99)(query_duration_ms) of finished
 *              initial queries with E - w < event_time <= E, our own
 *              (query_id 'lambdaops-%') left out;
 *   rates      the same filter over 1 min: queries (each query's end row),
 *              failed (types 3 and 4), written rows/bytes of inserts, / 60;
 *   slow       the 10 slowest finished queries of 15 min;
 *   tables     active parts per table and the most in one partition;
 *   merges     system.merges;
 *   replicas   system.replicas (cheap columns only: no ZooKeeper reads).
 * Without query_log the rates come from the system.events deltas between
 * polls (our own queries subtracted; FailedQuery only exists from 20.x on
 * here, so failed/s is unknown before), latency is unknown and the poll is
 * DEGRADED saying so. A failing overview is DOWN; a failing later query is
 * DEGRADED with what was read. Parsing is pure (ch_parse_*() over JSON
 * text), so tests feed it fixtures of both generations.
 *
 * Alerts (thresholds configurable, defaults in ch_thresholds):
 *   latency_p95_ms, latency_p99_ms   5-minute window
 *   failed_per_sec
 *   max_parts_per_partition          per table; at or above the server's
 *                                    parts_to_delay_insert it is crit
 *                                    whatever the threshold ("INSERTs are
 *                                    being delayed")
 *   replica_queue, replica_delay_s   per replicated table
 *   is_readonly, is_session_expired  crit per replicated table
 */
#include "collectors/clickhouse/clickhouse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "clients/http.h"
#include "clients/sql.h"
#include "core/jsonout.h"
#include "core/secret.h"
#include "core/ring.h"
#include "core/util.h"
#include "collectors/clickhouse/clickhouse_int.h"

static const struct cfg_key ch_keys[] = {
        { "url",           CFG_STR,        offsetof(struct ch_cfg, url),           true,
          "HTTP(S) interface, e.g. http://127.0.0.1:8123 (no credentials in it)" },
        { "user",          CFG_STR,        offsetof(struct ch_cfg, user),          false,
          "ClickHouse user, sent as X-ClickHouse-User (default \"default\")" },
        { "password_env",  CFG_SECRET_REF, offsetof(struct ch_cfg, password_env),  false,
          "name of an environment variable holding the password (sent as X-ClickHouse-Key)" },
        { "password_file", CFG_SECRET_REF, offsetof(struct ch_cfg, password_file), false,
          "path of a file holding the password (one trailing newline stripped)" },
        { "ca_file",       CFG_PATH,       offsetof(struct ch_cfg, ca_file),       false,
          "PEM CA bundle to verify an https url (default: the system store)" },
        { "insecure",      CFG_BOOL,       offsetof(struct ch_cfg, insecure),      false,
          "skip TLS certificate and host name verification (test servers only)" },
        { NULL, 0, 0, false, NULL },
};

static const struct threshold_def ch_thresholds[] = {
        { "latency_p95_ms",          THR_MS,    1000.0, 5000.0,
          "95th percentile of finished query durations over 5 minutes" },
        { "latency_p99_ms",          THR_MS,    3000.0, 10000.0,
          "99th percentile of finished query durations over 5 minutes" },
        { "failed_per_sec",          THR_RATE,  0.1,    1.0,
          "failed queries per second (last minute from query_log, else system.events)" },
        { "max_parts_per_partition", THR_COUNT, 100.0,  300.0,
          "active parts in the fullest partition of a table (crit anyway at parts_to_delay_insert)" },
        { "replica_queue",           THR_COUNT, 20.0,   100.0,
          "replication queue size of a replicated table" },
        { "replica_delay_s",         THR_COUNT, 60.0,   300.0,
          "absolute_delay of a replicated table, seconds" },
        { NULL, 0, 0, 0, NULL },
};

/* ------------------------------------------------------------------------
 * Running a statement
 */

static void clickhouse_query_id(char *buf, size_t n)
{
        unsigned char r[8] = { 0 };
        uint64_t x = 0;

        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
                x = (uint64_t)clock_mono_ms() ^ ((uint64_t)getpid() << 32);
        } else {
                for (size_t i = 0; i < sizeof r; i++)
                        x = x << 8 | r[i];
        }
        snprintf(buf, n, CH_OWN_PREFIX "%016" PRIx64, x);
}

/* "<sql> FORMAT JSON" without a trailing ';'. Owned. */
static char *clickhouse_sql_json(const char *sql)
{
        size_t n = strlen(sql);

        while (n > 0 && (isspace((unsigned char)sql[n - 1]) || sql[n - 1] == ';'))
                n--;
        return xasprintf("%.*s\nFORMAT JSON", (int)n, sql);
}

/* The url with our parameters: "http://h:8123" gets "/?...", a url with a
 * path "?...", one with a query string "&...". Owned. */
static char *clickhouse_url(const char *base, const struct coll_ctx *ctx, bool settings)
{
        const char *host = strstr(base, "://"), *sep;
        int64_t left = ctx->deadline_mono - clock_mono_ms();
        /* Whole seconds, rounded down: the server gives up no later than we
         * do, and tells us why (TIMEOUT_EXCEEDED) rather than a bare
         * transport timeout. */
        int64_t secs = left >= 2000 ? left / 1000 : 1;
        char qid[40];

        host = host ? host + 3 : base;
        if (strchr(base, '?'))
                sep = "&";
        else if (strchr(host, '/'))
                sep = "?";
        else
                sep = "/?";
        clickhouse_query_id(qid, sizeof qid);
        if (!settings)
                return xasprintf("%s%squery_id=%s", base, sep, qid);
        return xasprintf("%s%squery_id=%s&readonly=2&max_execution_time=%lld", base, sep, qid,
                         (long long)secs);
}

/* Puts the configured url in place of the request url in transport
 * messages (ours carries query_id and settings). */
static void clickhouse_fix_url_msg(struct err *err, const char *req_url, const char *base)
{
        char *rm = http_url_mask(req_url), *bm = http_url_mask(base), *p;

        if ((p = strstr(err->msg, rm)) != NULL) {
                char *tmp = xasprintf("%.*s%s%s", (int)(p - err->msg), err->msg, bm,
                                      p + strlen(rm));

                str_copy(err->msg, tmp, sizeof err->msg);
                free(tmp);
        }
        free(rm);
        free(bm);
}

/* One request. *settings_refused is set when the server refused our
 * settings (readonly=1 profile). Returns 0 or -1 with err set. */
static int clickhouse_request(struct http_client *client, const struct ch_cfg *cfg,
                              const struct coll_ctx *ctx, const char *sql_json,
                              const char *password,
                              bool settings, struct http_response *out, bool *settings_refused,
                              struct err *err)
{
        char *user_hdr, *key_hdr = NULL, *url;
        const char *hdrs[3] = { NULL, NULL, NULL };
        struct http_request req = { 0 };
        int rc;

        *settings_refused = false;
        if (password && strpbrk(password, "\r\n")) {
                err_set(err, CH_ERR_TRANSPORT, "the password contains a line break: check "
                        "password_env/password_file");
                return -1;
        }
        user_hdr = xasprintf("X-ClickHouse-User: %s", cfg->user && *cfg->user ? cfg->user
                                                                              : "default");
        hdrs[0] = user_hdr;
        if (password && *password) {
                key_hdr = xasprintf("X-ClickHouse-Key: %s", password);
                hdrs[1] = key_hdr;
        }
        url = clickhouse_url(cfg->url, ctx, settings);
        req.method = "POST";
        req.url = url;
        req.body = sql_json;
        req.content_type = "text/plain; charset=utf-8";
        req.headers = hdrs;
        rc = http_do(client, ctx, &req, out, err);
        secret_free(key_hdr);
        free(user_hdr);
        if (rc != 0) {
                clickhouse_fix_url_msg(err, url, cfg->url);
                clickhouse_redact(err->msg, sizeof err->msg, password);
                err->code = CH_ERR_TRANSPORT;
                free(url);
                http_response_done(out);
                return -1;
        }
        free(url);
        if (clickhouse_response_check(out->status, out->body, out->len, password, err) != 0) {
                if (settings && err->code == 164)
                        *settings_refused = true;
                http_response_done(out);
                return -1;
        }
        return 0;
}

static char *clickhouse_password(const struct ch_cfg *cfg, struct err *err)
{
        struct err perr;
        char *pw;

        err_clear(&perr);
        pw = config_secret_resolve(cfg->password_env, cfg->password_file, &perr);
        if (!pw && perr.msg[0]) {
                err_set(err, CH_ERR_TRANSPORT, "cannot read the password: %s", perr.msg);
                return NULL;
        }
        return pw ? pw : xstrdup("");
}

struct http_client *coll_clickhouse_client(const struct ch_cfg *cfg)
{
        struct http_tls tls = { .ca_file = cfg->ca_file, .insecure = cfg->insecure };

        return http_client_new(&tls);
}

int coll_clickhouse_query(struct http_client *client, const struct ch_cfg *cfg,
                          const struct coll_ctx *ctx, const char *sql,
                          struct http_response *out_json, struct err *err)
{
        char *pw, *body;
        bool refused;
        int rc;

        memset(out_json, 0, sizeof *out_json);
        if (!client || !cfg || !cfg->url) {
                err_set(err, CH_ERR_TRANSPORT, "no ClickHouse client or url");
                return -1;
        }
        pw = clickhouse_password(cfg, err);
        if (!pw)
                return -1;
        body = clickhouse_sql_json(sql);
        rc = clickhouse_request(client, cfg, ctx, body, pw, true, out_json, &refused, err);
        if (rc != 0 && refused) {
                err_clear(err);
                rc = clickhouse_request(client, cfg, ctx, body, pw, false, out_json, &refused, err);
        }
        free(body);
        secret_free(pw);
        return rc;
}


static const char ch_sql_columns[] =
        "SELECT table, name, type FROM system.columns WHERE database = 'system' AND table IN "
        "('query_log', 'parts', 'merges', 'replicas', 'merge_tree_settings')";

static const char ch_sql_overview[] =
        "SELECT version() AS version, uptime() AS uptime, toUnixTimestamp(now()) AS now";

static const char ch_sql_mt_settings[] =
        "SELECT name, value FROM system.merge_tree_settings WHERE name = 'parts_to_delay_insert'";

/* ------------------------------------------------------------------------
 * Data and history
 */

struct ch_data *clickhouse_data_new(void)
{
        struct ch_data *d = xcalloc(1, sizeof *d);

        d->uptime_s = -1;
        for (int i = 0; i < CH_NWIN; i++)
                d->lat[i] = (struct ch_latency){ -1, NAN, NAN, NAN };
        d->queries_per_sec = d->failed_per_sec = NAN;
        d->inserted_rows_per_sec = d->inserted_bytes_per_sec = NAN;
        d->memory_bytes = -1;
        d->parts_to_delay_insert = CH_DEFAULT_DELAY_PARTS;
        d->merges = -1;
        ring_init(&d->p50_hist);
        ring_init(&d->p95_hist);
        ring_init(&d->p99_hist);
        ring_init(&d->qps_hist);
        ring_init(&d->failed_hist);
        ring_init(&d->rows_hist);
        ring_init(&d->bytes_hist);
        ring_init(&d->mem_hist);
        return d;
}

void clickhouse_data_free(struct ch_data *d)
{
        if (!d)
                return;
        free(d->version);
        for (size_t i = 0; i < d->n_slow; i++)
                clickhouse_slow_done(&d->slow[i]);
        free(d->slow);
        for (size_t i = 0; i < d->n_tables; i++)
                clickhouse_table_done(&d->tables[i]);
        free(d->tables);
        for (size_t i = 0; i < d->n_merge_list; i++)
                clickhouse_merge_done(&d->merge_list[i]);
        free(d->merge_list);
        for (size_t i = 0; i < d->n_replicas; i++)
                clickhouse_replica_done(&d->replicas[i]);
        free(d->replicas);
        free(d);
}

struct ch_history {
        bool    have;                   /* prev holds a sample */
        struct ch_counters prev;
        int64_t prev_t;                 /* monotonic ms */
        struct ring p50, p95, p99, qps, failed, rows, bytes, mem;
};

struct ch_history *clickhouse_history_new(void)
{
        struct ch_history *h = xcalloc(1, sizeof *h);

        ring_init(&h->p50);
        ring_init(&h->p95);
        ring_init(&h->p99);
        ring_init(&h->qps);
        ring_init(&h->failed);
        ring_init(&h->rows);
        ring_init(&h->bytes);
        ring_init(&h->mem);
        return h;
}

void clickhouse_history_free(struct ch_history *h)
{
        free(h);
}

/* (cur - prev) / dt, or NAN when either is absent or it went backwards. */
static double clickhouse_delta_rate(int64_t cur, int64_t prev, int64_t minus, double dt_s)
{
        double v;

        if (cur < 0 || prev < 0 || cur < prev || dt_s <= 0)
                return NAN;
        v = (double)(cur - prev - minus) / dt_s;
        return v < 0 ? 0 : v;
}

void clickhouse_history_apply(struct ch_history *h, struct ch_data *d, const struct ch_counters *k,
                              const struct ch_caps *c, int64_t own_queries, int64_t now_ms)
{
        if (k && k->memory >= 0)
                d->memory_bytes = k->memory;
        if (k && k->query >= 0) {
                bool restarted = h->have && k->query < h->prev.query;

                if (h->have && !restarted && now_ms > h->prev_t && !d->query_log) {
                        double dt = (double)(now_ms - h->prev_t) / 1000.0;

                        d->queries_per_sec = clickhouse_delta_rate(k->query, h->prev.query,
                                                                   own_queries, dt);
                        if (k->failed >= 0 || (c && c->major >= 20))
                                d->failed_per_sec =
                                        clickhouse_delta_rate(k->failed < 0 ? 0 : k->failed,
                                                              h->prev.failed < 0 ? 0
                                                              : h->prev.failed, 0, dt);
                        d->inserted_rows_per_sec = clickhouse_delta_rate(k->ins_rows,
                                                                         h->prev.ins_rows, 0, dt);
                        d->inserted_bytes_per_sec = clickhouse_delta_rate(k->ins_bytes,
                                                                          h->prev.ins_bytes, 0, dt);
                }
                h->have = true;
                h->prev = *k;
                h->prev_t = now_ms;
        }
        ring_push(&h->p50, now_ms, d->lat[CH_W1M].count > 0 ? d->lat[CH_W1M].p50 : NAN);
        ring_push(&h->p95, now_ms, d->lat[CH_W1M].count > 0 ? d->lat[CH_W1M].p95 : NAN);
        ring_push(&h->p99, now_ms, d->lat[CH_W1M].count > 0 ? d->lat[CH_W1M].p99 : NAN);
        ring_push(&h->qps, now_ms, d->queries_per_sec);
        ring_push(&h->failed, now_ms, d->failed_per_sec);
        ring_push(&h->rows, now_ms, d->inserted_rows_per_sec);
        ring_push(&h->bytes, now_ms, d->inserted_bytes_per_sec);
        ring_push(&h->mem, now_ms, d->memory_bytes >= 0 ? (double)d->memory_bytes : NAN);
        d->p50_hist = h->p50;
        d->p95_hist = h->p95;
        d->p99_hist = h->p99;
        d->qps_hist = h->qps;
        d->failed_hist = h->failed;
        d->rows_hist = h->rows;
        d->bytes_hist = h->bytes;
        d->mem_hist = h->mem;
}

/* ------------------------------------------------------------------------
 * I/O: the poll (collector thread)
 */

struct ch_state {
        const struct source_cfg *src;   /* borrowed; config outlives us */
        struct http_client *http;
        struct ch_caps caps;            /* valid until a failed poll or a restart */
        int64_t parts_limit;            /* parts_to_delay_insert, read at connect */
        int64_t last_uptime;            /* -1 before the first answer */
        int64_t sent;                   /* requests sent (own queries in system.events) */
        int64_t sent_at_counters;       /* `sent` at the last counters sample */
        bool    no_settings;            /* the profile is readonly=1: send no settings */
        struct ch_history *hist;
};

/* Runs sql (borrowed) into resp. Returns 0 or -1 with err set. */
static int clickhouse_run(struct ch_state *st, const struct coll_ctx *ctx, const char *what,
                          const char *sql, const char *password, struct http_response *resp,
                          struct err *err)
{
        const struct ch_cfg *cfg = st->src->kind_cfg;
        char *body = clickhouse_sql_json(sql);
        bool refused;
        int rc;

        st->sent++;
        rc = clickhouse_request(st->http, cfg, ctx, body, password, !st->no_settings, resp,
                                &refused,
                                err);
        if (rc != 0 && refused) {
                st->no_settings = true;
                st->sent++;
                err_clear(err);
                rc = clickhouse_request(st->http, cfg, ctx, body, password, false, resp, &refused,
                                        err);
        }
        free(body);
        if (rc != 0 && err->code != CH_ERR_TRANSPORT) {
                char tmp[sizeof err->msg + 64];

                snprintf(tmp, sizeof tmp, "%s query: %s", what, err->msg);
                str_copy(err->msg, tmp, sizeof err->msg);
        }
        return rc;
}

typedef int (*ch_parse_fn)(const char *, size_t, struct ch_data *, struct err *);

/* One query (takes ownership of sql) + parse. */
static int clickhouse_step(struct ch_state *st, const struct coll_ctx *ctx, const char *what,
                           char *sql, const char *password, ch_parse_fn parse, struct ch_data *d,
                           struct err *err)
{
        struct http_response resp;
        int rc = clickhouse_run(st, ctx, what, sql, password, &resp, err);

        free(sql);
        if (rc != 0)
                return -1;
        rc = parse(resp.body, resp.len, d, err);
        http_response_done(&resp);
        return rc;
}

static void clickhouse_degrade(struct err *err, const struct err *e)
{
        if (!err->msg[0])
                err_set(err, e->code, "%s", e->msg);
        else if (strlen(err->msg) + strlen(e->msg) + 3 < sizeof err->msg)
                err_set(err, err->code, "%s; %s", err->msg, e->msg);
}

static int clickhouse_discover(struct ch_state *st, const struct coll_ctx *ctx, const char *pw,
                               struct err *err)
{
        struct http_response resp;
        struct ch_caps caps = st->caps;
        struct ch_data *tmp;

        if (clickhouse_run(st, ctx, "system.columns", ch_sql_columns, pw, &resp, err) != 0)
                return -1;
        if (clickhouse_parse_caps(resp.body, resp.len, &caps, err) != 0) {
                http_response_done(&resp);
                return -1;
        }
        http_response_done(&resp);
        st->parts_limit = CH_DEFAULT_DELAY_PARTS;
        if (caps.has_mt_settings &&
            clickhouse_run(st, ctx, "merge_tree_settings", ch_sql_mt_settings, pw, &resp,
                           err) == 0) {
                tmp = clickhouse_data_new();
                if (clickhouse_parse_mt_settings(resp.body, resp.len, tmp, err) == 0)
                        st->parts_limit = tmp->parts_to_delay_insert;
                clickhouse_data_free(tmp);
                http_response_done(&resp);
        }
        err_clear(err);
        caps.valid = true;
        st->caps = caps;
        return 0;
}

/* system.metrics/system.events into *k; *own gets the requests we sent
 * since the previous counters sample (the Query event counts every one of
 * them, this one included). Returns 0 or -1 with err set. */
static int clickhouse_counters_step(struct ch_state *st, const struct coll_ctx *ctx, const char *pw,
                                    struct ch_counters *k, int64_t *own, struct err *err)
{
        struct http_response resp;
        char *sql = clickhouse_sql_counters(&st->caps);
        int rc = clickhouse_run(st, ctx, "counters", sql, pw, &resp, err);

        free(sql);
        if (rc != 0)
                return -1;
        rc = clickhouse_parse_counters(resp.body, resp.len, k, err);
        http_response_done(&resp);
        if (rc == 0) {
                *own = st->sent - st->sent_at_counters;
                st->sent_at_counters = st->sent;
        }
        return rc;
}

static enum coll_status clickhouse_collect(struct ch_state *st, const struct coll_ctx *ctx,
                                           const char *pw, struct ch_data **out, struct err *err)
{
        struct ch_data *d = clickhouse_data_new();
        struct ch_counters k = { -1, -1, -1, -1, -1 }, *kp = NULL;
        enum coll_status status = COLL_OK;
        struct http_response resp;
        int64_t own = 0;
        struct err e;
        bool restarted;

        *out = NULL;
        if (clickhouse_run(st, ctx, "overview", ch_sql_overview, pw, &resp, err) != 0)
                goto down;
        if (clickhouse_parse_overview(resp.body, resp.len, d, &st->caps, err) != 0) {
                http_response_done(&resp);
                goto down;
        }
        http_response_done(&resp);
        restarted = st->last_uptime >= 0 && d->uptime_s >= 0 && d->uptime_s < st->last_uptime;
        st->last_uptime = d->uptime_s;
        if (!st->caps.valid || restarted || !st->caps.query_log) {
                if (clickhouse_discover(st, ctx, pw, err) != 0) {
                        if (err->code == CH_ERR_TRANSPORT)
                                goto down;
                        /* Without system.columns we know nothing: say so. */
                        clickhouse_data_free(d);
                        return COLL_DOWN;
                }
        }
        d->parts_to_delay_insert = st->parts_limit;
        d->query_log = st->caps.query_log;

        err_clear(&e);
        if (clickhouse_counters_step(st, ctx, pw, &k, &own, &e) == 0) {
                kp = &k;
        } else {
                if (e.code == CH_ERR_TRANSPORT)
                        goto down_e;
                clickhouse_degrade(err, &e);
                status = COLL_DEGRADED;
        }

        if (st->caps.query_log) {
                bool gone = false;

                err_clear(&e);
                if (clickhouse_step(st, ctx, "latency", clickhouse_sql_latency(&st->caps,
                                                                               d->window_end),
                                    pw,
                                    clickhouse_parse_latency, d, &e) == 0) {
                        err_clear(&e);
                        if (clickhouse_step(st, ctx, "rates",
                                            clickhouse_sql_rates(&st->caps, d->window_end), pw,
                                            clickhouse_parse_rates, d, &e) == 0) {
                                err_clear(&e);
                                clickhouse_step(st, ctx, "slow queries",
                                                clickhouse_sql_slow(&st->caps, d->window_end), pw,
                                                clickhouse_parse_slow, d, &e);
                        }
                }
                if (e.code == CH_ERR_TRANSPORT)
                        goto down_e;
                if (e.code == 60) {             /* query_log dropped under us */
                        st->caps.query_log = false;
                        d->query_log = false;
                        gone = true;
                } else if (e.code) {
                        clickhouse_degrade(err, &e);
                        status = COLL_DEGRADED;
                }
                if (gone)
                        for (int i = 0; i < CH_NWIN; i++)
                                d->lat[i] = (struct ch_latency){ -1, NAN, NAN, NAN };
        }

        err_clear(&e);
        if (clickhouse_step(st, ctx, "tables", clickhouse_sql_tables(&st->caps), pw,
                            clickhouse_parse_tables, d,
                            &e) != 0) {
                if (e.code == CH_ERR_TRANSPORT)
                        goto down_e;
                clickhouse_degrade(err, &e);
                status = COLL_DEGRADED;
        }
        if (st->caps.has_merges) {
                err_clear(&e);
                if (clickhouse_step(st, ctx, "merges", clickhouse_sql_merges(&st->caps), pw,
                                    clickhouse_parse_merges, d,
                                    &e) != 0) {
                        if (e.code == CH_ERR_TRANSPORT)
                                goto down_e;
                        clickhouse_degrade(err, &e);
                        status = COLL_DEGRADED;
                }
        }
        if (st->caps.has_replicas) {
                err_clear(&e);
                if (clickhouse_step(st, ctx, "replicas", clickhouse_sql_replicas(&st->caps), pw,
                                    clickhouse_parse_replicas, d, &e) != 0) {
                        if (e.code == CH_ERR_TRANSPORT)
                                goto down_e;
                        clickhouse_degrade(err, &e);
                        status = COLL_DEGRADED;
                }
        }

        if (!d->query_log) {
                struct err q;

                err_set(&q, ENOENT, "system.query_log does not exist (log_queries=0, or nothing "
                        "logged yet): latency unknown, rates from system.events");
                clickhouse_degrade(err, &q);
                status = COLL_DEGRADED;
        }
        clickhouse_history_apply(st->hist, d, kp, &st->caps, own, clock_mono_ms());
        *out = d;
        return status;

down_e:
        err_set(err, e.code, "%s", e.msg);
down:
        st->caps.valid = false;
        clickhouse_data_free(d);
        return COLL_DOWN;
}

/* ------------------------------------------------------------------------
 * collector_ops
 */

static int clickhouse_validate(const struct source_cfg *src, struct err *err)
{
        const struct ch_cfg *c = src->kind_cfg;
        const char *h;

        if (c->password_env && c->password_file) {
                err_set(err, EINVAL, "password_env and password_file are exclusive: set only one");
                return -1;
        }
        if (!(h = http_url_check(c->url, "http://127.0.0.1:8123", err)))
                return -1;
        if (strstr(c->url, "password=") || strstr(c->url, "user=")) {
                err_set(err, EINVAL, "url must not carry user or password parameters: set user "
                        "and password_env/password_file instead");
                return -1;
        }
        if (c->user && (!*c->user || strpbrk(c->user, "\r\n\t"))) {
                err_set(err, EINVAL, "user must be a plain name (no line breaks or tabs)");
                return -1;
        }
        if (!*h || *h == '/' || *h == '?') {
                err_set(err, EINVAL, "url has no host: give e.g. \"http://127.0.0.1:8123\"");
                return -1;
        }
        return 0;
}

static void *clickhouse_create(const struct source_cfg *src)
{
        struct ch_state *st = xcalloc(1, sizeof *st);

        st->src = src;
        st->http = coll_clickhouse_client(src->kind_cfg);
        st->hist = clickhouse_history_new();
        st->last_uptime = -1;
        st->parts_limit = CH_DEFAULT_DELAY_PARTS;
        return st;
}

static void clickhouse_destroy(void *state)
{
        struct ch_state *st = state;

        if (!st)
                return;
        http_client_free(st->http);
        clickhouse_history_free(st->hist);
        free(st);
}

static enum coll_status clickhouse_poll(void *state, const struct coll_ctx *ctx, void **data,
                                        struct err *err)
{
        struct ch_state *st = state;
        struct ch_data *d = NULL;
        enum coll_status status;
        char *pw;

        *data = NULL;
        if (!st->http) {
                st->http = coll_clickhouse_client(st->src->kind_cfg);
                if (!st->http) {
                        err_set(err, ENOMEM, "libcurl could not create a handle");
                        return COLL_DOWN;
                }
        }
        pw = clickhouse_password(st->src->kind_cfg, err);
        if (!pw) {
                st->caps.valid = false;
                return COLL_DOWN;
        }
        status = clickhouse_collect(st, ctx, pw, &d, err);
        secret_free(pw);
        *data = d;
        return status;
}

static void clickhouse_data_free_op(void *data)
{
        clickhouse_data_free(data);
}

/* Rates and quantiles to 0.001 so the JSON carries no float noise. */
static double clickhouse_round3(double v)
{
        return round(v * 1000.0) / 1000.0;
}

static void clickhouse_to_json(const void *data, struct cJSON *obj)
{
        static const char *const wname[CH_NWIN] = { "1m", "5m", "15m" };
        const struct ch_data *d = data;
        cJSON *lat, *arr;
        char at[40];

        json_add_str(obj, "version", d->version);
        json_add_num(obj, "uptime_s", d->uptime_s >= 0, (double)d->uptime_s);
        cJSON_AddBoolToObject(obj, "query_log", d->query_log);
        lat = cJSON_AddObjectToObject(obj, "latency_ms");
        for (int i = 0; i < CH_NWIN; i++) {
                const struct ch_latency *l = &d->lat[i];
                cJSON *w = cJSON_AddObjectToObject(lat, wname[i]);
                bool have = l->count > 0;

                json_add_num(w, "count", l->count >= 0, (double)l->count);
                json_add_num(w, "p50", have, clickhouse_round3(l->p50));
                json_add_num(w, "p95", have, clickhouse_round3(l->p95));
                json_add_num(w, "p99", have, clickhouse_round3(l->p99));
        }
        json_add_num(obj, "queries_per_sec", true, clickhouse_round3(d->queries_per_sec));
        json_add_num(obj, "failed_per_sec", true, clickhouse_round3(d->failed_per_sec));
        json_add_num(obj, "inserted_rows_per_sec", true,
                     clickhouse_round3(d->inserted_rows_per_sec));
        json_add_num(obj, "inserted_bytes_per_sec", true,
                     clickhouse_round3(d->inserted_bytes_per_sec));

        arr = cJSON_AddArrayToObject(obj, "slow_queries");
        for (size_t i = 0; i < d->n_slow; i++) {
                const struct ch_slow_query *s = &d->slow[i];
                cJSON *o = cJSON_CreateObject();

                json_add_str(o, "query", s->query);
                cJSON_AddNumberToObject(o, "duration_ms", (double)s->duration_ms);
                if (s->at > 0) {
                        fmt_rfc3339(s->at, at, sizeof at);
                        cJSON_AddStringToObject(o, "at", at);
                } else {
                        cJSON_AddNullToObject(o, "at");
                }
                cJSON_AddItemToArray(arr, o);
        }

        arr = cJSON_AddArrayToObject(obj, "tables");
        for (size_t i = 0; i < d->n_tables; i++) {
                const struct ch_table *t = &d->tables[i];
                cJSON *o = cJSON_CreateObject();

                json_add_str(o, "database", t->database);
                json_add_str(o, "table", t->table);
                cJSON_AddNumberToObject(o, "active_parts", (double)t->active_parts);
                cJSON_AddNumberToObject(o, "max_parts_per_partition",
                                        (double)t->max_parts_per_partition);
                cJSON_AddItemToArray(arr, o);
        }
        json_add_num(obj, "merges", d->merges >= 0, d->merges);

        arr = cJSON_AddArrayToObject(obj, "replicas");
        for (size_t i = 0; i < d->n_replicas; i++) {
                const struct ch_replica *r = &d->replicas[i];
                cJSON *o = cJSON_CreateObject();

                json_add_str(o, "database", r->database);
                json_add_str(o, "table", r->table);
                cJSON_AddBoolToObject(o, "is_readonly", r->is_readonly);
                json_add_num(o, "queue_size", r->queue_size >= 0, (double)r->queue_size);
                json_add_num(o, "absolute_delay_s", r->absolute_delay_s >= 0,
                            (double)r->absolute_delay_s);
                cJSON_AddItemToArray(arr, o);
        }
        json_add_num(obj, "memory_bytes", d->memory_bytes >= 0, (double)d->memory_bytes);
}

static void clickhouse_alerts(const struct source_cfg *src, const void *data,
                              struct alert_list *out)
{
        const struct ch_data *d = data;
        const struct ch_latency *l5 = &d->lat[CH_W5M];
        char what[192], subj[128];

        if (l5->count > 0) {
                health_check(out, src, "latency_p95_ms", "", l5->p95, "query latency p95 (5m)");
                health_check(out, src, "latency_p99_ms", "", l5->p99, "query latency p99 (5m)");
        }
        health_check(out, src, "failed_per_sec", "", d->failed_per_sec, "failed queries");
        for (size_t i = 0; i < d->n_tables; i++) {
                const struct ch_table *t = &d->tables[i];
                double v = (double)t->max_parts_per_partition;

                snprintf(subj, sizeof subj, "%s.%s", t->database, t->table);
                if (d->parts_to_delay_insert > 0 && t->max_parts_per_partition >=
                    d->parts_to_delay_insert) {
                        health_add(out, SEV_CRIT, src, "max_parts_per_partition", subj, v,
                                   (double)d->parts_to_delay_insert,
                                   "%s has %lld active parts in partition %s >= "
                                   "parts_to_delay_insert %lld: INSERTs are being delayed "
                                   "(merges behind?)", subj,
                                   (long long)t->max_parts_per_partition,
                                   t->max_partition ? t->max_partition : "?",
                                   (long long)d->parts_to_delay_insert);
                        continue;
                }
                snprintf(what, sizeof what, "%s parts in one partition", subj);
                health_check(out, src, "max_parts_per_partition", subj, v, what);
        }
        for (size_t i = 0; i < d->n_replicas; i++) {
                const struct ch_replica *r = &d->replicas[i];

                snprintf(subj, sizeof subj, "%s.%s", r->database, r->table);
                if (r->is_readonly)
                        health_add(out, SEV_CRIT, src, "is_readonly", subj, NAN, NAN,
                                   "replica %s is read-only (ZooKeeper/Keeper session lost?): "
                                   "INSERTs fail", subj);
                if (r->is_session_expired)
                        health_add(out, SEV_CRIT, src, "is_session_expired", subj, NAN, NAN,
                                   "replica %s lost its ZooKeeper/Keeper session", subj);
                if (r->queue_size >= 0) {
                        snprintf(what, sizeof what, "replica %s queue", subj);
                        health_check(out, src, "replica_queue", subj, (double)r->queue_size, what);
                }
                if (r->absolute_delay_s >= 0) {
                        snprintf(what, sizeof what, "replica %s delay (s)", subj);
                        health_check(out, src, "replica_delay_s", subj,
                                     (double)r->absolute_delay_s, what);
                }
        }
}

static double clickhouse_key_metric(const void *data)
{
        const struct ch_data *d = data;

        return d->lat[CH_W5M].count > 0 ? d->lat[CH_W5M].p95 : NAN;
}

/* "3.2", "0", "0.05", "120"; "-" when unknown. */
static void clickhouse_fmt_rate(double v, char *buf, size_t n)
{
        if (!isfinite(v))
                snprintf(buf, n, "-");
        else if (v == 0)
                snprintf(buf, n, "0");
        else if (v < 0.1)
                snprintf(buf, n, "%.2f", v);
        else if (v < 10)
                snprintf(buf, n, "%.1f", v);
        else
                snprintf(buf, n, "%.0f", v);
}

static void clickhouse_summary(const void *data, char *buf, size_t n)
{
        const struct ch_data *d = data;
        int64_t maxp = -1;
        char p95[32], q[32], f[32];
        size_t o;

        for (size_t i = 0; i < d->n_tables; i++)
                if (d->tables[i].max_parts_per_partition > maxp)
                        maxp = d->tables[i].max_parts_per_partition;
        if (d->lat[CH_W5M].count > 0 && isfinite(d->lat[CH_W5M].p95))
                snprintf(p95, sizeof p95, "%.0fms", d->lat[CH_W5M].p95);
        else
                snprintf(p95, sizeof p95, "-");
        clickhouse_fmt_rate(d->queries_per_sec, q, sizeof q);
        clickhouse_fmt_rate(d->failed_per_sec, f, sizeof f);
        o = (size_t)snprintf(buf, n, "v%s, p95 %s, %s q/s, %s failed", d->version ? d->version
                                                                                  : "?",
                             p95, q, f);
        if (o < n && maxp >= 0)
                snprintf(buf + o, n - o, ", max parts %lld/%lld", (long long)maxp,
                         (long long)d->parts_to_delay_insert);
}

/* The SQL runner of reconciliation (collector_ops.sql): coll_clickhouse_query()
 * does the HTTP, auth, settings and error parsing; we ask the server's time zone
 * once per runner (DateTime text is wall time in that zone) and decode. */
struct sql_ch {
        const struct ch_cfg *cfg;       /* borrowed */
        struct http_client *http;
        char *tz;                       /* server time zone; NULL until known */
};

static void *clickhouse_sql_open(const struct source_cfg *src, int64_t timeout_ms)
{
        struct sql_ch *h = xcalloc(1, sizeof *h);

        (void)timeout_ms;       /* the client sets max_execution_time from the deadline */
        h->cfg = src->kind_cfg;
        h->http = coll_clickhouse_client(h->cfg);
        return h;
}

static int clickhouse_sql_run(void *hv, const struct coll_ctx *ctx, const char *sql,
                              const struct sql_sink *sink, struct err *err)
{
        struct sql_ch *h = hv;
        struct http_response resp;
        int rc;

        if (!h->http) {
                err_set(err, ENOMEM, "cannot create an HTTP client");
                return -1;
        }
        if (!h->tz) {
                struct sql_result r = { 0 };
                struct sql_sink rs = sql_result_sink(&r);
                const struct sql_cell *c;

                if (coll_clickhouse_query(h->http, h->cfg, ctx, "SELECT timezone() AS tz", &resp,
                                          err) < 0)
                        return -1;
                rc = sql_ch_decode(resp.body, resp.len, NULL, &rs, err);
                http_response_done(&resp);
                c = sql_result_cell(&r, 0, 0);
                if (rc == 0 && c && !c->null && c->text)
                        h->tz = xstrdup(c->text);
                sql_result_done(&r);
                if (!h->tz) {
                        if (rc == 0)
                                err_set(err, EPROTO, "ClickHouse did not say its time zone");
                        return -1;
                }
        }
        if (coll_clickhouse_query(h->http, h->cfg, ctx, sql, &resp, err) < 0)
                return -1;
        rc = sql_ch_decode(resp.body, resp.len, h->tz, sink, err);
        http_response_done(&resp);
        return rc;
}

static void clickhouse_sql_close(void *hv)
{
        struct sql_ch *h = hv;

        if (!h)
                return;
        http_client_free(h->http);
        free(h->tz);
        free(h);
}

static const struct sql_runner ch_sql_runner = { clickhouse_sql_open, clickhouse_sql_run,
                                                 clickhouse_sql_close };

const struct collector_ops coll_clickhouse_ops = {
        .name = "clickhouse",
        .title = "ClickHouse",
        .default_interval_ms = 5000,
        .default_timeout_ms = 3000,
        .keys = ch_keys,
        .cfg_size = sizeof(struct ch_cfg),
        .thresholds = ch_thresholds,
        .validate = clickhouse_validate,
        .create = clickhouse_create,
        .destroy = clickhouse_destroy,
        .poll = clickhouse_poll,
        .data_free = clickhouse_data_free_op,
        .to_json = clickhouse_to_json,
        .alerts = clickhouse_alerts,
        .key_metric = clickhouse_key_metric,
        .summary = clickhouse_summary,
        .key_metric_name = "query p95 (5m)",
        .key_metric_unit = THR_MS,
        .sql = &ch_sql_runner,
        .metrics = clickhouse_metrics,
};
