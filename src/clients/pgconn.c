/*
 * pgconn: non-blocking libpq connect and query under a deadline (see
 * pgconn.h). Runs on the thread that owns the struct pgconn.
 *
 * Connect: PQconnectStartParams + PQconnectPoll around coll_wait_fd().
 * Query: PQsendQueryParams + PQflush / PQconsumeInput / PQisBusy, again
 * around coll_wait_fd(). On timeout or quit we drop the connection instead
 * of PQcancel(), which itself blocks on a hung server; statement_timeout
 * makes the server give up the query on its side. The host name lookup
 * inside PQconnectStartParams is the one step we cannot bound (getaddrinfo
 * is synchronous): prefer addresses or /etc/hosts names.
 */
#include "clients/pgconn.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

void pgconn_init(struct pgconn *pc, const struct pg_cfg *cfg, int64_t timeout_ms,
                 const char *options)
{
        memset(pc, 0, sizeof *pc);
        pc->cfg = cfg;
        pc->timeout_ms = timeout_ms;
        pc->options = options;
}

void pgconn_close(struct pgconn *pc)
{
        if (pc->conn) {
                PQfinish(pc->conn);
                pc->conn = NULL;
        }
}

static void pgconn_note_target(struct pgconn *pc)
{
        str_copy(pc->host, PQhost(pc->conn), sizeof pc->host);
        str_copy(pc->port, PQport(pc->conn), sizeof pc->port);
}

/* err from the connection's last error, cleaned and redacted. */
static void pgconn_conn_err(struct pgconn *pc, int code, struct err *err)
{
        char msg[256];

        pg_errmsg_clean(pc->conn ? PQerrorMessage(pc->conn) : "", pc->host, pc->port,
                        msg, sizeof msg);
        pg_redact_dsn(msg, sizeof msg, pc->cfg->dsn, NULL);
        err_set(err, code, "%s", msg);
}

/* After coll_wait_fd failed: say what we were waiting for. */
static void pgconn_wait_err(struct pgconn *pc, const char *what, struct err *err)
{
        if (err->code == ETIMEDOUT)
                err_set(err, ETIMEDOUT, "%s %s:%s timed out after %lld ms (server hung or overloaded?)",
                        what, pc->host, pc->port, (long long)pc->timeout_ms);
}

/* Appends pc->options to the "options" keyword of the connect params. */
static void pgconn_add_options(const struct pgconn *pc, char **keys, char **vals)
{
        for (size_t i = 0; pc->options && *pc->options && keys[i]; i++) {
                char *v;

                if (strcmp(keys[i], "options") != 0)
                        continue;
                v = xasprintf("%s %s", vals[i], pc->options);
                free(vals[i]);
                vals[i] = v;
                return;
        }
}

int pgconn_open(struct pgconn *pc, const struct coll_ctx *ctx, struct err *err)
{
        PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
        struct err perr;
        char **keys, **vals, *pw;
        int rc;

        pgconn_close(pc);
        err_clear(&perr);
        pw = config_secret_resolve(pc->cfg->password_env, pc->cfg->password_file, &perr);
        if (!pw && perr.msg[0]) {
                err_set(err, EACCES, "cannot read the password: %s", perr.msg);
                return -1;
        }
        rc = pg_conn_params(pc->cfg, pw, pc->timeout_ms, &keys, &vals, err);
        if (pw) {
                explicit_bzero(pw, strlen(pw));
                free(pw);
        }
        if (rc != 0)
                return -1;
        pgconn_add_options(pc, keys, vals);
        pc->conn = PQconnectStartParams((const char *const *)keys, (const char *const *)vals, 0);
        pg_conn_params_free(keys, vals);
        if (!pc->conn) {
                err_set(err, ENOMEM, "libpq could not allocate a connection");
                return -1;
        }
        pgconn_note_target(pc);
        if (PQstatus(pc->conn) == CONNECTION_BAD) {
                pgconn_conn_err(pc, ECONNREFUSED, err);
                pgconn_close(pc);
                return -1;
        }
        while (ps != PGRES_POLLING_OK) {
                int fd = PQsocket(pc->conn);

                if (ps == PGRES_POLLING_FAILED || fd < 0) {
                        pgconn_note_target(pc);
                        pgconn_conn_err(pc, ECONNREFUSED, err);
                        pgconn_close(pc);
                        return -1;
                }
                if (coll_wait_fd(ctx, fd, ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, err) <= 0) {
                        pgconn_note_target(pc);
                        pgconn_wait_err(pc, "connecting to", err);
                        pgconn_close(pc);
                        return -1;
                }
                ps = PQconnectPoll(pc->conn);
        }
        pgconn_note_target(pc);
        if (PQsetnonblocking(pc->conn, 1) != 0) {
                pgconn_conn_err(pc, EIO, err);
                pgconn_close(pc);
                return -1;
        }
        pc->version = PQserverVersion(pc->conn);
        return 0;
}

/* Sends the query and flushes it. 0, or -1 with err set (connection
 * closed). */
static int pgconn_send(struct pgconn *pc, const struct coll_ctx *ctx, const char *what,
                       const char *sql, int nparams, const char *const *params, bool single,
                       struct err *err)
{
        char prefix[80];
        int f;

        if (!pc->conn) {
                err_set(err, ECONNRESET, "not connected");
                return -1;
        }
        if (!PQsendQueryParams(pc->conn, sql, nparams, NULL, params, NULL, NULL, 0))
                goto broken;
        if (single && !PQsetSingleRowMode(pc->conn))
                goto broken;
        while ((f = PQflush(pc->conn)) != 0) {
                if (f < 0)
                        goto broken;
                if (coll_wait_fd(ctx, PQsocket(pc->conn), POLLOUT | POLLIN, err) <= 0) {
                        snprintf(prefix, sizeof prefix, "%s%squery on", what ? what : "",
                                 what ? " " : "");
                        pgconn_wait_err(pc, prefix, err);
                        pgconn_close(pc);
                        return -1;
                }
                if (!PQconsumeInput(pc->conn))
                        goto broken;
        }
        return 0;
broken:
        pgconn_conn_err(pc, ECONNRESET, err);
        pgconn_close(pc);
        return -1;
}

/* The next result, waiting within the deadline. Returns 1 with *out set
 * (NULL at the end of the query), or -1 with err set (connection closed). */
static int pgconn_next(struct pgconn *pc, const struct coll_ctx *ctx, const char *what,
                       PGresult **out, struct err *err)
{
        char prefix[80];

        while (PQisBusy(pc->conn)) {
                if (coll_wait_fd(ctx, PQsocket(pc->conn), POLLIN, err) <= 0) {
                        snprintf(prefix, sizeof prefix, "%s%squery on", what ? what : "",
                                 what ? " " : "");
                        pgconn_wait_err(pc, prefix, err);
                        pgconn_close(pc);
                        return -1;
                }
                if (!PQconsumeInput(pc->conn)) {
                        pgconn_conn_err(pc, ECONNRESET, err);
                        pgconn_close(pc);
                        return -1;
                }
        }
        *out = PQgetResult(pc->conn);
        return 1;
}

/* err for a failed result; closes the connection when it broke. */
static void pgconn_result_err(struct pgconn *pc, const char *what, const PGresult *res,
                              struct err *err)
{
        char msg[256];

        pg_errmsg_clean(PQresultErrorMessage(res), pc->host, pc->port, msg, sizeof msg);
        pg_redact_dsn(msg, sizeof msg, pc->cfg->dsn, NULL);
        if (PQstatus(pc->conn) == CONNECTION_BAD) {
                err_set(err, ECONNRESET, "%s", msg);
                pgconn_close(pc);
        } else if (what) {
                err_set(err, EPROTO, "%s query: %s", what, msg);
        } else {
                err_set(err, EPROTO, "%s", msg);
        }
}

PGresult *pgconn_exec(struct pgconn *pc, const struct coll_ctx *ctx, const char *what,
                      const char *sql, int nparams, const char *const *params,
                      struct err *err)
{
        PGresult *res = NULL, *r;

        if (pgconn_send(pc, ctx, what, sql, nparams, params, false, err) < 0)
                return NULL;
        for (;;) {
                if (pgconn_next(pc, ctx, what, &r, err) < 0) {
                        PQclear(res);
                        return NULL;
                }
                if (!r)
                        break;
                if (!res || (PQresultStatus(res) == PGRES_TUPLES_OK &&
                             PQresultStatus(r) != PGRES_TUPLES_OK)) {
                        PQclear(res);
                        res = r;
                } else {
                        PQclear(r);
                }
        }
        if (!res) {
                pgconn_conn_err(pc, ECONNRESET, err);
                pgconn_close(pc);
                return NULL;
        }
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                pgconn_result_err(pc, what, res, err);
                PQclear(res);
                return NULL;
        }
        return res;
}

int pgconn_stream(struct pgconn *pc, const struct coll_ctx *ctx, const char *what,
                  const char *sql, int (*row)(void *ud, const PGresult *res, struct err *err),
                  void *ud, struct err *err)
{
        PGresult *r, *bad = NULL;

        if (pgconn_send(pc, ctx, what, sql, 0, NULL, true, err) < 0)
                return -1;
        for (;;) {
                ExecStatusType st;

                if (pgconn_next(pc, ctx, what, &r, err) < 0) {
                        PQclear(bad);
                        return -1;
                }
                if (!r)
                        break;
                st = PQresultStatus(r);
                if (!bad && (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK)) {
                        if (row(ud, r, err) < 0) {
                                /* Stop reading: dropping the connection is
                                 * bounded, draining the rest is not. */
                                PQclear(r);
                                pgconn_close(pc);
                                return -1;
                        }
                        PQclear(r);
                } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && !bad) {
                        bad = r;
                } else {
                        PQclear(r);
                }
        }
        if (bad) {
                pgconn_result_err(pc, what, bad, err);
                PQclear(bad);
                return -1;
        }
        return 0;
}
