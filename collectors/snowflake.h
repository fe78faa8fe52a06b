/*
 * Snowflake (SQL API v2) source: published data, the query client used by
 * the SQL runner (src/clients/sql.c), and the pure parts for tests and fuzzing.
 * A `struct sf_data` is immutable once inside a snapshot.
 */
#ifndef LO_COLLECTORS_SNOWFLAKE_H
#define LO_COLLECTORS_SNOWFLAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/collector.h"
#include "clients/sql.h"

struct evp_pkey_st;             /* OpenSSL's EVP_PKEY */

extern const struct collector_ops coll_snowflake_ops;

/* Kind-specific config (collector_ops.keys fill it). */
struct sf_cfg {
        char *account;                  /* account identifier: "xy12345.us-east-2.aws", "myorg-myacct" */
        char *user;
        char *private_key_file;         /* PEM PKCS#8 (optionally encrypted) for key-pair JWT */
        char *private_key_passphrase_env;
        char *private_key_passphrase_file;
        char *token_env;                /* OAuth access token instead of a key */
        char *token_file;
        char *warehouse, *database, *schema, *role;     /* optional session context */
        char *url;                      /* default https://<account>.snowflakecomputing.com */
        char *ca_file;                  /* PEM bundle for TLS, default the system store */
};

struct sf_data {
        char   *version;                /* SELECT CURRENT_VERSION(), e.g. "8.21.1" */
        int64_t latency_ms;             /* round trip of that statement, polls included */
};

void snowflake_data_free(struct sf_data *d);   /* NULL-safe */
/* collector_ops.metrics (collectors/snowflake_metrics.c). */
struct promtext;
void snowflake_metrics(const struct snapshot *s, const struct source_cfg *src,
                       struct promtext *out);

/* --- the query client (one per thread) ---------------------------------- */

struct sf_client;

/* A client for `src` (a snowflake source; borrowed). Nothing is read or
 * connected until the first query. The calling thread owns it. */
struct sf_client *coll_snowflake_client_new(const struct source_cfg *src);
void coll_snowflake_client_free(struct sf_client *c);  /* NULL-safe */
/* Runs one statement verbatim within ctx's deadline: POST
 * /api/v2/statements (Snowflake's own `timeout` = timeout_ms, at most what
 * is left of the deadline), polls GET /api/v2/statements/<handle> while the
 * answer is 202, then fetches partitions 1..n-1 (?partition=N), streaming
 * every row into sink decoded by resultSetMetaData.rowType. The key-pair
 * JWT is made once and reused until 5 minutes before it expires (and
 * remade after a 401). Returns 0, or -1 with err saying what failed: the
 * Snowflake code, sqlState and message for SQL errors, a "token rejected"
 * hint with our key fingerprint for 401/390xxx. Owner thread only. */
int coll_snowflake_query(struct sf_client *c, const struct coll_ctx *ctx, const char *sql,
                         int64_t timeout_ms, const struct sql_sink *sink, struct err *err);

/* --- for tests and fuzzing: the pure parts -------------------------------- */

/* What a ResultSet says besides its rows. */
struct sf_result {
        char           *handle;         /* statementHandle (owned), NULL when absent */
        struct sql_col *cols;           /* owned */
        int            *scale;          /* per column; -1 when null */
        size_t          ncols;
        int64_t        *part_rows;      /* rowCount of each partition (owned) */
        size_t          nparts;
        int64_t         num_rows;       /* resultSetMetaData.numRows */
};
void coll_snowflake_result_done(struct sf_result *r);  /* NULL-safe; zeroes r */

/* A 200 ResultSet body: fills *res (zeroed by the caller), calls
 * sink->begin with the columns, then sink->row for each row of partition
 * 0. Returns 0 or -1 with err set. */
int coll_snowflake_decode(const char *body, size_t len, struct sf_result *res,
                          const struct sql_sink *sink, struct err *err);
/* A `?partition=N` body ({"data": [...]}): rows into sink, checked against
 * the partition's rowCount. Returns 0 or -1 with err set. */
int coll_snowflake_decode_partition(const char *body, size_t len, const struct sf_result *res,
                                    size_t part, const struct sql_sink *sink, struct err *err);
/* One cell from its string form (NULL = SQL NULL) by rowType type and
 * scale; cell->text borrows `s`. Returns 0 or -1 with err set. */
int coll_snowflake_cell(enum sql_type t, const char *sf_type, const char *s,
                        struct sql_cell *cell, struct err *err);
/* The column type of a rowType entry ("fixed" with scale 0 and precision
 * <= 18 is INT, other fixed and real NUM, boolean BOOL, date/time/
 * timestamp_* TIME, the rest TEXT). */
enum sql_type coll_snowflake_type(const char *sf_type, int scale, int precision);
/* err for a non-2xx answer: "Snowflake error 002003 (sqlState 02000): ..."
 * (422, 408, ...), or a token-rejected message naming `fingerprint` (may be
 * NULL) for 401 and 390xxx codes. Pure. */
void coll_snowflake_errmsg(long status, const char *body, size_t len, const char *fingerprint,
                           struct err *err);

/* "XY12345.US-EAST-2.AWS" style account → the JWT's account part:
 * upper-case, cut at the first '.' ("XY12345"). */
void coll_snowflake_jwt_account(const char *account, char *out, size_t n);
/* Loads a PEM private key (PKCS#8, encrypted when passphrase is given;
 * never prompts). Returns an owned EVP_PKEY or NULL with err set. */
struct evp_pkey_st *coll_snowflake_load_key(const char *path, const char *passphrase,
                                            struct err *err);
/* "SHA256:<base64 of SHA-256 of the DER public key>" into out. 0 or -1. */
int coll_snowflake_fingerprint(struct evp_pkey_st *key, char *out, size_t n);
/* A signed RS256 JWT for account/user issued at iat (s) and expiring at
 * iat + lifetime_s. Owned, or NULL with err set. */
char *coll_snowflake_jwt(struct evp_pkey_st *key, const char *account, const char *user,
                         int64_t iat, int64_t lifetime_s, struct err *err);

#endif
