/*
 * ClickHouse (speed-layer serving store) collector: config, published data,
 * the reusable query runner and the pure parsers the tests feed fixtures.
 * A `struct ch_data` is immutable once inside a snapshot; the ClickHouse
 * pane and the JSON report read it from any thread.
 */
#ifndef LO_COLLECTORS_CLICKHOUSE_H
#define LO_COLLECTORS_CLICKHOUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/collector.h"
#include "clients/http.h"
#include "core/ring.h"
#include "core/util.h"

extern const struct collector_ops coll_clickhouse_ops;

/* Kind-specific config (collector_ops.keys fill it). */
struct ch_cfg {
        char *url;              /* http(s)://host:8123; never carries credentials */
        char *user;             /* X-ClickHouse-User; default "default" */
        char *password_env;     /* env var holding the password (X-ClickHouse-Key) */
        char *password_file;    /* file holding the password */
        char *ca_file;          /* PEM bundle for https; NULL = system store */
        bool  insecure;         /* skip TLS verification (default false) */
};

/* --- running SQL (also used by the reconciliation runner) ----------------- */

/* err->code values that are not ClickHouse exception codes. A ClickHouse
 * exception ("Code: 60. DB::Exception: ...") sets err->code to its code
 * (1..99999). */
#define CH_ERR_TRANSPORT 100001 /* unreachable, timeout, quit (see err->msg) */
#define CH_ERR_HTTP      100002 /* a non-200 answer without a ClickHouse code */
#define CH_ERR_BADJSON   100003 /* a 200 whose body is not the expected JSON */

/* A client for cfg's URL with its TLS settings (ca_file, insecure). Owned;
 * free with http_client_free. Borrows cfg's strings. One thread. */
struct http_client *coll_clickhouse_client(const struct ch_cfg *cfg);

/* Runs one SQL statement and returns its FORMAT JSON body. `sql` must not
 * carry a FORMAT clause (" FORMAT JSON" is appended after any trailing ';'
 * and whitespace are dropped). Sent as POST with the X-ClickHouse-User/Key
 * headers (password from cfg's password_env/password_file, resolved per
 * call, never in the URL), query_id "lambdaops-..." (the collector leaves
 * such queries out of its latency figures), and the settings readonly=2 and
 * max_execution_time = the time left before ctx's deadline, so the server
 * gives up when we do; a user whose profile is readonly=1 gets the query
 * again without settings. 64-bit integers arrive as JSON strings
 * (ClickHouse's default).
 * Returns 0 with out_json holding the body (status 200, complete JSON
 * document), or -1 with err set and out_json released: transport problems
 * (CH_ERR_TRANSPORT), ClickHouse exceptions in either text form with any
 * HTTP status, including one appended to a 200 body mid-stream (err->code =
 * the ClickHouse code, err->msg e.g. "ClickHouse error 60 (UNKNOWN_TABLE):
 * Table default.foo doesn't exist."), other statuses (CH_ERR_HTTP). err->msg
 * never holds the password. Free out_json with http_response_done. The
 * calling thread owns `client`. */
int coll_clickhouse_query(struct http_client *client, const struct ch_cfg *cfg,
                          const struct coll_ctx *ctx, const char *sql,
                          struct http_response *out_json, struct err *err);

/* --- published data ------------------------------------------------------- */

enum { CH_W1M, CH_W5M, CH_W15M, CH_NWIN };     /* latency windows: 1, 5, 15 minutes */

struct ch_latency {
        int64_t count;          /* finished queries in the window; -1 unknown (no query_log) */
        double  p50, p95, p99;  /* ms (ClickHouse quantiles()); NAN when count <= 0 */
};

struct ch_slow_query {
        char   *query;          /* whitespace collapsed, secrets masked, <= ~200 chars */
        int64_t duration_ms;
        int64_t at;             /* wall ms the query finished (query_log.event_time) */
        char   *user;           /* ClickHouse user, or NULL */
};

struct ch_table {
        char   *database;
        char   *table;
        int64_t active_parts;
        int64_t max_parts_per_partition;
        char   *max_partition;  /* partition holding the most active parts */
        int64_t rows;           /* sum over active parts */
        int64_t bytes;          /* bytes on disk over active parts */
        int     merges;         /* merges in progress on this table */
};

struct ch_merge {
        char   *database;
        char   *table;
        char   *result_part;
        double  elapsed_s;
        double  progress;       /* 0..1 */
        int64_t num_parts;
        int64_t bytes;          /* total_size_bytes_compressed */
};

struct ch_replica {
        char   *database;
        char   *table;
        bool    is_readonly;
        bool    is_session_expired;
        int64_t queue_size;
        int64_t inserts_in_queue;
        int64_t merges_in_queue;
        int64_t absolute_delay_s;       /* -1 when the server has no absolute_delay */
};

struct ch_data {
        char   *version;                /* "18.16.1" */
        int64_t uptime_s;               /* -1 unknown */
        bool    query_log;              /* system.query_log exists and is read */
        struct ch_latency lat[CH_NWIN]; /* finished queries, ours excluded */
        int64_t window_end;             /* Unix s: the latency/rate windows end here */
        double  queries_per_sec;        /* NAN unknown; query_log: last 1 min, else
                                           system.events deltas between polls */
        double  failed_per_sec;         /* NAN unknown */
        double  inserted_rows_per_sec;  /* NAN unknown */
        double  inserted_bytes_per_sec; /* NAN unknown */
        int64_t memory_bytes;           /* metrics MemoryTracking; -1 unknown */
        int64_t parts_to_delay_insert;  /* MergeTree setting (150 when unreadable) */
        struct ch_slow_query *slow;     /* slowest first */
        size_t  n_slow;
        struct ch_table *tables;        /* most parts per partition first */
        size_t  n_tables;
        int     merges;                 /* merges in progress; -1 unknown */
        struct ch_merge *merge_list;    /* longest running first */
        size_t  n_merge_list;
        struct ch_replica *replicas;    /* sorted by database, table */
        size_t  n_replicas;
        /* History kept by the collector thread, copied in each poll. */
        struct ring p50_hist, p95_hist, p99_hist;       /* 1-minute window, ms */
        struct ring qps_hist, failed_hist;              /* per second */
        struct ring rows_hist, bytes_hist;              /* inserted per second */
        struct ring mem_hist;                           /* bytes */
};

void clickhouse_data_free(struct ch_data *d);   /* NULL-safe */
/* collector_ops.metrics (collectors/clickhouse/clickhouse_metrics.c). */
struct promtext;
void clickhouse_metrics(const struct snapshot *s, const struct source_cfg *src,
                        struct promtext *out);

/* --- for tests: the pure parts of the collector ---------------------------- */

/* What the server offers, discovered from system.columns at connect and
 * cached until a reconnect or a restart. */
struct ch_caps {
        bool    valid;
        int     major, minor;           /* from version() */
        bool    query_log;              /* system.query_log exists */
        bool    type_enum;              /* query_log.type is Enum8 (19.13+), else UInt8 */
        bool    has_is_initial;         /* query_log.is_initial_query */
        bool    has_query_kind;         /* query_log.query_kind */
        bool    has_norm_hash;          /* query_log.normalized_query_hash */
        bool    has_exception_code;     /* query_log.exception_code (20.1+) */
        bool    parts_bytes_on_disk;    /* parts.bytes_on_disk, else parts.bytes */
        bool    has_merges;             /* system.merges */
        bool    has_replicas;           /* system.replicas */
        bool    has_absolute_delay;     /* replicas.absolute_delay */
        bool    has_session_expired;    /* replicas.is_session_expired */
        bool    has_mt_settings;        /* system.merge_tree_settings */
};

/* A ClickHouse exception parsed from a plain-text body. */
struct ch_exception {
        int  code;              /* 0 when none was found */
        char name[48];          /* "UNKNOWN_TABLE" (from the text, or known codes) */
        char msg[200];          /* the message without prefixes and version tail */
};

/* Finds the last "Code: N" exception in body (old ", e.displayText() = "
 * and new ". DB::Exception: ... (NAME) (version ...)" forms). Returns 0 and
 * fills ex, or -1 when there is none. */
int clickhouse_exception_parse(const char *body, size_t len, struct ch_exception *ex);
/* Judges a response: status 200 with a complete JSON document (ends with
 * '}') is 0; anything else is -1 with err set as coll_clickhouse_query
 * documents. `password` (may be NULL) is redacted from the message. */
int clickhouse_response_check(long status, const char *body, size_t len, const char *password,
                              struct err *err);

/* Copies a query text for display: secrets masked (string literals after
 * IDENTIFIED ... BY, PASSWORD, SECRET; the password in scheme://user:pw@;
 * every string argument after the first of credential-taking table
 * functions such as mysql(), postgresql(), remote(), s3()), whitespace
 * runs collapsed to one space, and clipped to `max` bytes on a UTF-8
 * boundary with "..." appended. Owned. */
char *clickhouse_query_display(const char *query, size_t max);

/* SQL the collector sends, by capabilities (pure; owned strings). end_s is
 * the Unix second the windows end at. */
char *clickhouse_sql_latency(const struct ch_caps *c, int64_t end_s);
char *clickhouse_sql_rates(const struct ch_caps *c, int64_t end_s);
char *clickhouse_sql_slow(const struct ch_caps *c, int64_t end_s);
char *clickhouse_sql_tables(const struct ch_caps *c);
char *clickhouse_sql_merges(const struct ch_caps *c);
char *clickhouse_sql_replicas(const struct ch_caps *c);
char *clickhouse_sql_counters(const struct ch_caps *c);

/* Parsers over FORMAT JSON bodies (pure). Return 0, or -1 with err set
 * (malformed JSON, an exception appended mid-body, missing columns). */
int clickhouse_parse_caps(const char *json, size_t len, struct ch_caps *c, struct err *err);
int clickhouse_parse_overview(const char *json, size_t len, struct ch_data *d, struct ch_caps *c,
                              struct err *err);
int clickhouse_parse_latency(const char *json, size_t len, struct ch_data *d, struct err *err);
int clickhouse_parse_rates(const char *json, size_t len, struct ch_data *d, struct err *err);
int clickhouse_parse_slow(const char *json, size_t len, struct ch_data *d, struct err *err);
int clickhouse_parse_tables(const char *json, size_t len, struct ch_data *d, struct err *err);
int clickhouse_parse_merges(const char *json, size_t len, struct ch_data *d, struct err *err);
int clickhouse_parse_replicas(const char *json, size_t len, struct ch_data *d, struct err *err);
int clickhouse_parse_mt_settings(const char *json, size_t len, struct ch_data *d, struct err *err);

/* system.metrics / system.events counters of one poll. */
struct ch_counters {
        int64_t memory;         /* MemoryTracking; -1 absent */
        int64_t query;          /* events Query; -1 absent */
        int64_t failed;         /* events FailedQuery; -1 absent */
        int64_t ins_rows;       /* events InsertedRows; -1 absent */
        int64_t ins_bytes;      /* events InsertedBytes; -1 absent */
};
int clickhouse_parse_counters(const char *json, size_t len, struct ch_counters *k, struct err *err);

/* Per-source history the collector thread keeps between polls. apply()
 * records d's samples at monotonic now_ms, fills the rates from counter
 * deltas when d has no query_log (own_queries = queries we sent since the
 * previous sample, subtracted from the Query delta; counters going
 * backwards mean a restart and start over) and copies the rings into d. */
struct ch_history;
struct ch_history *clickhouse_history_new(void);
void clickhouse_history_free(struct ch_history *h);             /* NULL-safe */
void clickhouse_history_apply(struct ch_history *h, struct ch_data *d, const struct ch_counters *k,
                              const struct ch_caps *c, int64_t own_queries, int64_t now_ms);

struct ch_data *clickhouse_data_new(void);

/* --- the ClickHouse pane (views/clickhouse.c) ------------------------------ */

struct view_ops;

#endif
