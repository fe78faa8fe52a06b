/*
 * sql: typed query results and the per-kind query runners behind
 * reconciliation (`kind: reconcile` runs one query on each of two sources).
 *
 * Results are streamed: a runner decodes each row into typed cells and
 * hands it to a `struct sql_sink`, so a consumer (the reconciliation hash
 * join) never needs the whole result in memory. struct sql_result is a
 * sink that keeps everything, for small results and tests.
 *
 * Cell types. Every backend's values are decoded from text into:
 *   SQL_T_INT   int64                          (PG int2/4/8, CH [U]Int8..64,
 *                                               SF fixed with scale 0)
 *   SQL_T_NUM   double plus the exact decimal text (PG numeric/float, CH
 *                                               Float*, Decimal*, SF fixed
 *                                               with scale, real)
 *   SQL_T_TEXT  UTF-8 text                     (everything else)
 *   SQL_T_TIME  int64 ms since the Unix epoch, UTC: timestamps with a zone
 *               are converted, ones without (PG timestamp, SF
 *               timestamp_ntz, CH DateTime in the server's zone) are read
 *               in their zone; dates are midnight UTC
 *   SQL_T_BOOL  int64 0 or 1
 * and NULL in any column.
 *
 * Runners (sql_conn_new picks one by kind): "postgres" (libpq through
 * src/clients/pgconn.c, one statement, session TimeZone=UTC and DateStyle=ISO),
 * "clickhouse" (HTTP, FORMAT JSON, in collectors/clickhouse/clickhouse.c) and
 * "snowflake" (SQL API v2, collectors/snowflake.c), found through
 * collector_ops.sql. Queries are sent verbatim: nothing is spliced
 * into them and they take no parameters.
 *
 * Threads: a struct sql_conn belongs to the thread that made it (it owns a
 * libpq connection or a curl handle). The pure decoders may run anywhere.
 */
#ifndef LO_SRC_SQL_H
#define LO_SRC_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/util.h"

enum sql_type { SQL_T_INT, SQL_T_NUM, SQL_T_TEXT, SQL_T_TIME, SQL_T_BOOL };

const char *sql_type_name(enum sql_type t);     /* "int", "number", "text", "timestamp", "bool" */

struct sql_col {
        char          *name;    /* as the server returned it */
        enum sql_type  type;
        char          *db_type; /* the server's type, e.g. "int8", "Nullable(UInt64)", "fixed(38,2)" */
};

/* One value. For SQL_T_NUM, `d` is the value and `text` its exact decimal
 * form; for SQL_T_TEXT, `text`; for INT, BOOL and TIME, `i`. In a sink the
 * text is borrowed for the call; in a struct sql_result it is owned. */
struct sql_cell {
        bool        null;
        int64_t     i;
        double      d;
        const char *text;       /* NUL-terminated; NULL unless NUM or TEXT */
};

/* Where rows go. begin() is called once, before any row, with the
 * columns; row() once per row with ncols cells. Both are borrowed for the
 * call. Returning -1 (err set) stops the query with that error. */
struct sql_sink {
        int  (*begin)(void *ud, const struct sql_col *cols, size_t ncols, struct err *err);
        int  (*row)(void *ud, const struct sql_cell *cells, size_t ncols, struct err *err);
        void  *ud;
};

/* A whole result, materialised. */
struct sql_result {
        struct sql_col  *cols;  /* owned */
        size_t           ncols;
        struct sql_cell *cells; /* owned, nrows * ncols, row-major; texts owned */
        size_t           nrows;
};

/* A sink that fills *r (zeroed by the caller). Free with sql_result_done. */
struct sql_sink sql_result_sink(struct sql_result *r);
void sql_result_done(struct sql_result *r);     /* NULL-safe; r can be reused */
const struct sql_cell *sql_result_cell(const struct sql_result *r, size_t row, size_t col);

/* --- runners --------------------------------------------------------------- */

struct sql_conn;

/* How one kind of source runs SQL. A collector that can run queries points
 * its collector_ops.sql at one: the PostgreSQL runner is sql_pg_runner
 * (through src/clients/pgconn.c); ClickHouse's and Snowflake's are in
 * their collectors. open() is lazy (no I/O); run() streams into sink. */
struct sql_runner {
        void *(*open)(const struct source_cfg *src, int64_t timeout_ms);
        int   (*run)(void *h, const struct coll_ctx *ctx, const char *sql,
                     const struct sql_sink *sink, struct err *err);
        void  (*close)(void *h);
};
extern const struct sql_runner sql_pg_runner;

/* The kinds that can run SQL, NULL-terminated ("postgres", ...): those
 * whose collector sets collector_ops.sql, in registry order. Static
 * storage, built on the first call; any thread. */
const char *const *sql_kind_names(void);
/* The same list, for the callers that index it as an array. */
#define sql_kinds (sql_kind_names())
/* True when sources of this kind can run queries. Any thread. */
bool sql_kind_queryable(const char *kind);

/* A connection to `src` (borrowed; the config outlives it), made lazily on
 * the first run. `timeout_ms` bounds each statement on the server side
 * (statement_timeout, the Snowflake `timeout`); the client side is bounded
 * by the ctx of each run. NULL when the kind cannot run SQL. The calling
 * thread owns the result. */
struct sql_conn *sql_conn_new(const struct source_cfg *src, int64_t timeout_ms);
void sql_conn_free(struct sql_conn *c);         /* NULL-safe */
/* Runs `sql` verbatim within ctx's deadline, streaming rows into sink.
 * Returns 0, or -1 with err saying what failed (the server's own message
 * for SQL errors; "timed out after N ms"; connection problems). A broken
 * connection is reopened on the next run. Owner thread only. */
int sql_conn_run(struct sql_conn *c, const struct coll_ctx *ctx, const char *sql,
                 const struct sql_sink *sink, struct err *err);

/* --- pure decoders (tests, fuzzing, the runners) ------------------------- */

/* Type of a PostgreSQL column by type OID (int2/4/8, oid → INT; numeric,
 * float4/8 → NUM; bool → BOOL; timestamp, timestamptz, date → TIME; the
 * rest → TEXT). *db_type gets a static name ("int8", "oid 869"...). */
enum sql_type sql_pg_type(unsigned oid, char *db_type, size_t n);
/* Decodes PostgreSQL text output (DateStyle ISO) of a column of `type`.
 * text NULL = SQL NULL. cell->text points into `text` (borrowed). Returns 0
 * or -1 with err naming the value's problem. */
int sql_pg_cell(enum sql_type type, const char *text, struct sql_cell *cell, struct err *err);

/* Decodes a ClickHouse FORMAT JSON body (meta + data) into sink, streaming
 * row by row. DateTime values without a zone in their type are in
 * `server_tz` (an IANA name; NULL or "" = UTC). Also detects an exception
 * appended after the data started ("Code: N. DB::Exception: ..."). Returns
 * 0 or -1 with err set. */
int sql_ch_decode(const char *body, size_t len, const char *server_tz,
                  const struct sql_sink *sink, struct err *err);
/* The column type for a ClickHouse type name: Nullable(...) and
 * LowCardinality(...) are looked through; *tz gets the zone of
 * DateTime('Zone') / DateTime64(p, 'Zone') or "" (n bytes). */
enum sql_type sql_ch_type(const char *ch_type, char *tz, size_t n);

/* Time parsing shared by the decoders. "YYYY-MM-DD[ T]hh:mm:ss[.frac]
 * [Z|±hh[:mm[:ss]]]" or "YYYY-MM-DD" → ms since the epoch. Without an
 * offset the text is read as UTC. Returns 0, or -1 when malformed. */
int sql_parse_time(const char *s, int64_t *ms);
/* Epoch seconds with an optional fraction ("1714557600.123000000",
 * "-1.5") → ms, truncated toward zero below the millisecond. 0 or -1. */
int sql_parse_epoch(const char *s, int64_t *ms);
/* Strict decimal integer in int64. 0 or -1. */
int sql_parse_int(const char *s, int64_t *out);
/* A decimal number ("-12.50", "1e3", "nan", "inf"): *out. 0 or -1. */
int sql_parse_num(const char *s, double *out);
/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t sql_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Time zones from the system tz database (/usr/share/zoneinfo, or
 * $LO_ZONEINFO): local wall time → UTC. Names must look like IANA names
 * ("Asia/Kolkata"); "UTC" needs no file. Past the last transition in the
 * file the last offset applies. */
struct sql_tz;
struct sql_tz *sql_tz_load(const char *name, struct err *err);  /* owned */
void sql_tz_free(struct sql_tz *tz);                             /* NULL-safe */
/* UTC ms of a local wall time in ms. In a repeated hour (clocks going
 * back) the earlier instant wins; in a skipped hour the offset before the
 * jump applies. */
int64_t sql_tz_to_utc(const struct sql_tz *tz, int64_t local_ms);

/* --- streaming JSON helpers (for the HTTP decoders) --------------------- */

/* A JSON value located in a buffer, undecoded. */
struct sql_jval {
        const char *p;          /* first byte of the value */
        size_t      n;          /* its length */
};

/* Finds member `key` of the top-level object in buf. Returns 1 found, 0
 * not present, -1 malformed JSON (err set). */
int sql_json_member(const char *buf, size_t len, const char *key, struct sql_jval *out,
                    struct err *err);
/* Iterates the elements of an array value: *pos starts at 0; returns 1
 * with *elem set, 0 at the end, -1 malformed (err set). */
int sql_json_next(const struct sql_jval *arr, size_t *pos, struct sql_jval *elem,
                  struct err *err);
/* Decodes a JSON string value into an owned UTF-8 string (NULL for a JSON
 * null). Returns 0, or -1 when `v` is not a string or null. */
int sql_json_string(const struct sql_jval *v, char **out, bool *is_null);

#endif
