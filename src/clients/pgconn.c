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

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/redact.h"
#include "core/secret.h"

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

/* err from the connection's last error, cleaned and redacted. A refused
 * password says which one was sent (password_env, password_file or the
 * dsn's), instead of pgconn_errmsg_clean's generic hint. */
static void pgconn_conn_err(struct pgconn *pc, int code, struct err *err)
{
        static const char generic[] = " (check password_env/password_file)";
        char msg[256], hint[200], *g;

        pgconn_errmsg_clean(pc->conn ? PQerrorMessage(pc->conn) : "", pc->host, pc->port,
                            msg, sizeof msg);
        if (strstr(msg, "password authentication failed") &&
            (g = strstr(msg, generic)) != NULL && g[strlen(generic)] == '\0') {
                *g = '\0';
                pgconn_password_hint(pc->cfg, hint, sizeof hint);
                snprintf(g, sizeof msg - (size_t)(g - msg), " (%s)", hint);
        }
        pgconn_redact_dsn(msg, sizeof msg, pc->cfg->dsn, NULL);
        err_set(err, code, "%s", msg);
}

/* libpq's default notice processor writes every NOTICE and WARNING the
 * server sends to stderr, which is the curses screen: keep the last one,
 * on one line and redacted, for the owner of the connection instead. */
static void pgconn_notice(void *arg, const char *message)
{
        struct pgconn *pc = arg;
        size_t len;

        str_copy(pc->notice, message ? message : "", sizeof pc->notice);
        len = strcspn(pc->notice, "\n");
        pc->notice[len] = '\0';
        pgconn_redact_dsn(pc->notice, sizeof pc->notice, pc->cfg ? pc->cfg->dsn : NULL, NULL);
}

/* After coll_wait_fd failed: say what we were waiting for. */
static void pgconn_wait_err(struct pgconn *pc, const char *what, struct err *err)
{
        if (err->code == ETIMEDOUT)
                err_set(err, ETIMEDOUT,
                        "%s %s:%s timed out after %lld ms (server hung or overloaded?)",
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
        rc = pgconn_conn_params(pc->cfg, pw, pc->timeout_ms, &keys, &vals, err);
        if (pw) {
                explicit_bzero(pw, strlen(pw));
                free(pw);
        }
        if (rc != 0)
                return -1;
        pgconn_add_options(pc, keys, vals);
        pc->conn = PQconnectStartParams((const char *const *)keys, (const char *const *)vals, 0);
        pgconn_conn_params_free(keys, vals);
        if (!pc->conn) {
                err_set(err, ENOMEM, "libpq could not allocate a connection");
                return -1;
        }
        PQsetNoticeProcessor(pc->conn, pgconn_notice, pc);
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
                if (coll_wait_fd(ctx, fd, ps == PGRES_POLLING_READING ? POLLIN : POLLOUT,
                                 err) <= 0) {
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

        pgconn_errmsg_clean(PQresultErrorMessage(res), pc->host, pc->port, msg, sizeof msg);
        pgconn_redact_dsn(msg, sizeof msg, pc->cfg->dsn, NULL);
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

/* ------------------------------------------------------------------------
 * Connection strings and messages (pure; used by the PostgreSQL collector
 * and the SQL runner too)
 */

struct pg_span {
        size_t off, len;
};

#define PG_MAX_SPANS 8

static bool pg_key_is(const char *k, size_t n, const char *want)
{
        return strlen(want) == n && strncasecmp(k, want, n) == 0;
}

/* Finds the parts of a conninfo string that hold a password, following
 * libpq's lexical rules loosely and erring towards masking more. */
static size_t pg_dsn_secrets(const char *dsn, struct pg_span *sp, size_t max)
{
        size_t n = 0, i = 0, len = strlen(dsn);

        if (strncasecmp(dsn, "postgresql://", 13) == 0 || strncasecmp(dsn, "postgres://",
                                                                      11) == 0) {
                size_t p = strstr(dsn, "://") - dsn + 3;
                size_t q = p + strcspn(dsn + p, "?");
                size_t at = (size_t)-1;

                for (size_t j = p; j < q; j++)
                        if (dsn[j] == '@')
                                at = j;
                if (at != (size_t)-1) {
                        for (size_t j = p; j < at; j++)
                                if (dsn[j] == ':') {
                                        if (n < max)
                                                sp[n++] = (struct pg_span){ j + 1, at - j - 1 };
                                        break;
                                }
                }
                while (q < len) {
                        size_t k = q + 1, e = k + strcspn(dsn + k, "&"), eq;

                        eq = k + strcspn(dsn + k, "=&");
                        if (eq < e && pg_key_is(dsn + k, eq - k, "password") && n < max)
                                sp[n++] = (struct pg_span){ eq + 1, e - eq - 1 };
                        q = e;
                }
                return n;
        }
        while (i < len) {
                size_t k, kl, v;

                while (i < len && isspace((unsigned char)dsn[i]))
                        i++;
                k = i;
                while (i < len && dsn[i] != '=' && !isspace((unsigned char)dsn[i]))
                        i++;
                kl = i - k;
                while (i < len && isspace((unsigned char)dsn[i]))
                        i++;
                if (i >= len || dsn[i] != '=') {
                        /* Malformed ("password secret"): hide the rest. */
                        if (pg_key_is(dsn + k, kl, "password") && i < len && n < max) {
                                /* Spans must stay ordered and disjoint: the
                                 * rest is hidden, so stop here. */
                                sp[n++] = (struct pg_span){ i, len - i };
                                break;
                        }
                        if (kl == 0)
                                break;
                        continue;
                }
                i++;
                while (i < len && isspace((unsigned char)dsn[i]))
                        i++;
                v = i;
                if (i < len && dsn[i] == '\'') {
                        for (i++; i < len && dsn[i] != '\''; i++)
                                if (dsn[i] == '\\' && i + 1 < len)
                                        i++;
                        if (i < len)
                                i++;
                } else {
                        for (; i < len && !isspace((unsigned char)dsn[i]); i++)
                                if (dsn[i] == '\\' && i + 1 < len)
                                        i++;
                }
                if (pg_key_is(dsn + k, kl, "password") && n < max)
                        sp[n++] = (struct pg_span){ v, i - v };
        }
        return n;
}

char *pgconn_dsn_mask(const char *dsn)
{
        struct pg_span sp[PG_MAX_SPANS];
        size_t n, len, o = 0, from = 0;
        char *out;

        if (!dsn)
                return NULL;
        n = pg_dsn_secrets(dsn, sp, PG_MAX_SPANS);
        len = strlen(dsn);
        out = xmalloc(len + 3 * n + 1);
        for (size_t i = 0; i < n; i++) {
                memcpy(out + o, dsn + from, sp[i].off - from);
                o += sp[i].off - from;
                memcpy(out + o, "***", 3);
                o += 3;
                from = sp[i].off + sp[i].len;
        }
        memcpy(out + o, dsn + from, len - from);
        out[o + len - from] = '\0';
        return out;
}

void pgconn_redact_dsn(char *msg, size_t n, const char *dsn, const char *password)
{
        struct pg_span sp[PG_MAX_SPANS];
        size_t k = dsn ? pg_dsn_secrets(dsn, sp, PG_MAX_SPANS) : 0;
        struct redact_keys keys = { .password = password };

        for (size_t i = 0; i < k; i++) {
                char *s = xstrndup(dsn + sp[i].off, sp[i].len);
                struct redact_keys dk = { .extra = s };

                /* Quoted values show up unquoted in messages. */
                if (sp[i].len >= 2 && s[0] == '\'') {
                        memmove(s, s + 1, sp[i].len - 1);
                        s[sp[i].len - 2] = '\0';
                }
                redact_secrets(msg, n, &dk);
                secret_free(s);
        }
        redact_text(msg, n, &keys);
}

/* Whether the conninfo string carries a password of its own. */
static bool pgconn_dsn_has_password(const char *dsn)
{
        struct pg_span sp[PG_MAX_SPANS];

        return dsn && pg_dsn_secrets(dsn, sp, PG_MAX_SPANS) > 0;
}

void pgconn_password_hint(const struct pg_cfg *cfg, char *out, size_t n)
{
        if (cfg->password_env && *cfg->password_env)
                snprintf(out, n, "check the password in $%s (password_env)", cfg->password_env);
        else if (cfg->password_file && *cfg->password_file)
                snprintf(out, n, "check the password in %s (password_file)", cfg->password_file);
        else if (pgconn_dsn_has_password(cfg->dsn))
                snprintf(out, n, "the dsn's own password was used: check it, or set "
                         "password_env/password_file");
        else
                snprintf(out, n, "no password_env/password_file is set, so libpq took the "
                         "password from PGPASSWORD or a password file: set one of them");
}

/* ------------------------------------------------------------------------
 * Error messages (pure)
 */

static bool pg_starts(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

void pgconn_errmsg_clean(const char *libpq_msg, const char *host, const char *port,
                         char *out, size_t n)
{
        char line[256], where[160];
        const char *s, *p;
        size_t len;

        s = libpq_msg ? libpq_msg : "";
        while (*s == ' ' || *s == '\t' || *s == '\n')
                s++;
        len = strcspn(s, "\n");
        if (len >= sizeof line)
                len = sizeof line - 1;
        memcpy(line, s, len);
        line[len] = '\0';
        while (len > 0 && isspace((unsigned char)line[len - 1]))
                line[--len] = '\0';
        s = line;
        if (pg_starts(s, "connection to server") && (p = strstr(s, " failed: ")) != NULL)
                s = p + 9;
        for (;;) {
                if (pg_starts(s, "FATAL:") || pg_starts(s, "ERROR:"))
                        s += 6;
                else if (pg_starts(s, "PANIC:"))
                        s += 6;
                else
                        break;
                while (*s == ' ')
                        s++;
        }
        if (host && *host)
                snprintf(where, sizeof where, "%s:%s", host, port && *port ? port : "5432");
        else
                str_copy(where, "the server", sizeof where);

        if (!*s)
                snprintf(out, n, "%s: unknown libpq error", where);
        else if (strstr(s, "Connection refused"))
                snprintf(out, n, "connection refused: is PostgreSQL running at %s?", where);
        else if (strstr(s, "password authentication failed"))
                snprintf(out, n, "%s at %s (check password_env/password_file)", s, where);
        else if (strstr(s, "no password supplied"))
                snprintf(out, n, "%s asks for a password but none is configured "
                         "(set password_env or password_file)", where);
        else if (strstr(s, "could not translate host name"))
                snprintf(out, n, "%s", s);
        else if (strstr(s, "server closed the connection unexpectedly"))
                snprintf(out, n, "%s closed the connection unexpectedly "
                         "(server restarted or crashed?)", where);
        else if (strstr(s, "timeout expired") || strstr(s, "Connection timed out"))
                snprintf(out, n, "connecting to %s timed out (firewall, or wrong host?)", where);
        else
                snprintf(out, n, "%s: %s", where, s);
}

/* ------------------------------------------------------------------------
 * Connection parameters (pure)
 */

struct pg_kv {
        char **k, **v;
        size_t n, cap;
};

static void pg_kv_set(struct pg_kv *kv, const char *k, const char *v)
{
        for (size_t i = 0; i < kv->n; i++)
                if (strcmp(kv->k[i], k) == 0) {
                        free(kv->v[i]);
                        kv->v[i] = xstrdup(v);
                        return;
                }
        if (kv->n + 2 > kv->cap) {
                kv->cap = kv->cap ? 2 * kv->cap : 32;
                kv->k = xrealloc(kv->k, kv->cap * sizeof *kv->k);
                kv->v = xrealloc(kv->v, kv->cap * sizeof *kv->v);
        }
        kv->k[kv->n] = xstrdup(k);
        kv->v[kv->n] = xstrdup(v);
        kv->n++;
        kv->k[kv->n] = kv->v[kv->n] = NULL;
}

static const char *pg_kv_get(const struct pg_kv *kv, const char *k)
{
        for (size_t i = 0; i < kv->n; i++)
                if (strcmp(kv->k[i], k) == 0)
                        return kv->v[i];
        return NULL;
}

void pgconn_conn_params_free(char **keys, char **vals)
{
        for (size_t i = 0; keys && keys[i]; i++) {
                free(keys[i]);
                if (vals[i]) {
                        explicit_bzero(vals[i], strlen(vals[i]));
                        free(vals[i]);
                }
        }
        free(keys);
        free(vals);
}

int pgconn_conn_params(const struct pg_cfg *cfg, const char *password, int64_t timeout_ms,
                       char ***keys, char ***vals, struct err *err)
{
        struct pg_kv kv = { 0 };
        PQconninfoOption *opts, *o;
        char *perr = NULL, *options;
        const char *old;

        *keys = *vals = NULL;
        opts = PQconninfoParse(cfg->dsn ? cfg->dsn : "", &perr);
        if (!opts) {
                char msg[256];

                if (perr) {
                        pgconn_errmsg_clean(perr, NULL, NULL, msg, sizeof msg);
                        /* Drop the "the server: " our cleaner adds. */
                        if (pg_starts(msg, "the server: "))
                                memmove(msg, msg + 12, strlen(msg + 12) + 1);
                } else {
                        str_copy(msg, "out of memory", sizeof msg);
                }
                pgconn_redact_dsn(msg, sizeof msg, cfg->dsn, password);
                err_set(err, EINVAL, "dsn is not a valid libpq connection string: %s", msg);
                PQfreemem(perr);
                return -1;
        }
        for (o = opts; o->keyword; o++)
                if (o->val)
                        pg_kv_set(&kv, o->keyword, o->val);
        PQconninfoFree(opts);
        if (password)
                pg_kv_set(&kv, "password", password);
        if (cfg->sslmode && *cfg->sslmode)
                pg_kv_set(&kv, "sslmode", cfg->sslmode);
        if (!pg_kv_get(&kv, "fallback_application_name"))
                pg_kv_set(&kv, "fallback_application_name", "lambdaops");
        old = pg_kv_get(&kv, "options");
        options = xasprintf("%s%s-c default_transaction_read_only=on -c statement_timeout=%lld",
                            old ? old : "", old && *old ? " " : "",
                            (long long)(timeout_ms > 0 ? timeout_ms : 0));
        pg_kv_set(&kv, "options", options);
        free(options);
        *keys = kv.k;
        *vals = kv.v;
        return 0;
}
