/*
 * pgconn: one non-blocking libpq connection bounded by a poll's deadline.
 * Extracted from the PostgreSQL collector so that other users (the SQL
 * runner behind reconciliation) connect, query and fail the same way.
 *
 * A struct pgconn belongs to one thread (the collector thread that embeds
 * it); libpq handles are never shared. Every wait goes through
 * coll_wait_fd(), so a dead server fails fast, a hung one at the deadline,
 * and quit interrupts at once. Messages are cleaned (pgconn_errmsg_clean) and
 * carry no password: the dsn's and the resolved password are redacted.
 */
#ifndef LO_SRC_PGCONN_H
#define LO_SRC_PGCONN_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "core/collector.h"
#include "core/util.h"

/* Where and how to connect: the `kind: postgres` config (the collector's
 * keys fill it), and the SQL runner's. */
struct pg_cfg {
        char *dsn;              /* libpq conninfo; may contain a password (masked everywhere) */
        char *password_env;     /* env var holding the password */
        char *password_file;    /* file holding the password */
        char *sslmode;          /* optional override, default from dsn/libpq */
};

/* Copies a conninfo string (keyword or URI form) with any password value
 * replaced by "***": `password=...` keywords (quoted or not), URI user
 * info `postgresql://user:pw@host` and a `?password=` URI parameter.
 * Works on malformed strings too. Owned; NULL in, NULL out. Any thread. */
char *pgconn_dsn_mask(const char *dsn);

/* A libpq error message made short and actionable: first line only, the
 * "connection to server at ... failed:" and "FATAL:" prefixes dropped, and
 * hints for the common cases (refused, bad password, no password, unknown
 * host or database). host/port name the target (may be NULL). */
void pgconn_errmsg_clean(const char *libpq_msg, const char *host, const char *port,
                         char *out, size_t n);
/* The conninfo keywords the collector connects with (NULL-terminated
 * parallel arrays, owned; free with pgconn_conn_params_free): everything in
 * cfg->dsn, then password (when given), sslmode, fallback_application_name
 * "lambdaops" and options adding default_transaction_read_only=on and
 * statement_timeout=<timeout_ms>. Returns -1 with err set when the dsn does
 * not parse (the message never contains the dsn's password). */
int pgconn_conn_params(const struct pg_cfg *cfg, const char *password, int64_t timeout_ms,
                       char ***keys, char ***vals, struct err *err);
void pgconn_conn_params_free(char **keys, char **vals);
/* Replaces, in msg (n bytes), every password found in dsn, and `password`
 * when non-NULL, with "***" (redact_secrets), and credentials by shape
 * (redact_patterns). Pure; any thread (used by src/clients/pgconn.c). */
void pgconn_redact_dsn(char *msg, size_t n, const char *dsn, const char *password);
/* The hint for "password authentication failed": which password was sent
 * ("check the password in $PGPW (password_env)", "... in /path
 * (password_file)", "the dsn's own password was used: ..."), or that none
 * is configured and libpq found one itself. Pure; any thread. */
void pgconn_password_hint(const struct pg_cfg *cfg, char *out, size_t n);

struct pgconn {
        PGconn  *conn;                  /* NULL when not connected */
        int      version;               /* PQserverVersion of conn */
        char     host[128], port[16];   /* target of the last attempt, for messages */
        const struct pg_cfg *cfg;       /* borrowed; outlives the connection */
        int64_t  timeout_ms;            /* statement_timeout and messages */
        const char *options;            /* borrowed extra "-c k=v ..." or NULL */
        char     notice[256];           /* the server's last NOTICE/WARNING, first line,
                                           redacted; "" when none. libpq never writes
                                           notices to stderr (the screen): pc must not
                                           move while connected */
};

/* Sets up `pc` (not connected). cfg and options are borrowed for the life
 * of pc. The session gets pgconn_conn_params()'s settings (read-only,
 * statement_timeout = timeout_ms, application name) plus `options`
 * (e.g. "-c TimeZone=UTC"). Any thread; then only that thread. */
void pgconn_init(struct pgconn *pc, const struct pg_cfg *cfg, int64_t timeout_ms,
                 const char *options);
/* Closes any connection and connects within ctx's deadline. Resolves the
 * password (password_env/_file) for the connect only. Returns 0, or -1
 * with err set (code ECONNREFUSED, ETIMEDOUT, ECANCELED, EACCES, EINVAL). */
int pgconn_open(struct pgconn *pc, const struct coll_ctx *ctx, struct err *err);
/* Runs one statement (extended protocol: exactly one statement; nparams
 * text parameters, NULL for SQL NULL). Returns a PGRES_TUPLES_OK result the
 * caller PQclear()s, or NULL with err set. I/O failures close the
 * connection (err->code ECONNRESET for a broken one, ETIMEDOUT,
 * ECANCELED); an SQL error leaves it open (EPROTO, message prefixed with
 * "<what> query: " unless what is NULL). */
PGresult *pgconn_exec(struct pgconn *pc, const struct coll_ctx *ctx, const char *what,
                      const char *sql, int nparams, const char *const *params,
                      struct err *err);
/* Like pgconn_exec without parameters, but streams: libpq's single-row
 * mode hands `row` one result per row (PQntuples 1) and, at the end, the
 * final result with no rows (column metadata only), so memory stays flat
 * however many rows arrive. The results are borrowed for the call. A
 * callback returning -1 (err set) stops the query and closes the
 * connection. Returns 0 or -1 with err set as for pgconn_exec. */
int pgconn_stream(struct pgconn *pc, const struct coll_ctx *ctx, const char *what,
                  const char *sql, int (*row)(void *ud, const PGresult *res, struct err *err),
                  void *ud, struct err *err);
/* Closes the connection (if any); pc can be opened again. */
void pgconn_close(struct pgconn *pc);

#endif
