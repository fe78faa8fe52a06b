/*
 * Snowflake source (SQL API v2) and its query client.
 *
 * As a collector, a source polls a trivial statement (SELECT
 * CURRENT_VERSION()) and reports the version and the round trip. Mainly,
 * though, it is a SQL source for reconciliation: src/clients/sql.c's runner calls
 * coll_snowflake_query() on the reconcile thread with a client of its own.
 * A struct sf_client (one curl handle through src/clients/http.c, the private key,
 * the cached JWT) belongs to the thread that made it.
 *
 * Auth. Key pair: the PEM key (PKCS#8, optionally encrypted) is loaded on
 * first use; a JWT {"alg":"RS256"} with iss = ACCOUNT.USER.SHA256:<fp>,
 * sub = ACCOUNT.USER, iat = now, exp = now + 59 min is signed with
 * EVP_DigestSign (SHA-256, PKCS#1 v1.5) and reused until 5 minutes before
 * it expires, or until Snowflake answers 401. <fp> is the base64 SHA-256
 * of the DER SubjectPublicKeyInfo, the same as DESCRIBE USER's
 * RSA_PUBLIC_KEY_FP. ACCOUNT is the account identifier upper-cased and cut
 * at the first '.' (the locator without region). OAuth: the token from
 * token_env/token_file, read for each statement so that rotation works.
 * Headers: Authorization: Bearer, X-Snowflake-Authorization-Token-Type
 * KEYPAIR_JWT or OAUTH. Neither the token, the key nor the passphrase ever
 * reaches a message.
 *
 * Statements: POST /api/v2/statements with {statement, timeout, warehouse,
 * database, schema, role}; 200 is the ResultSet (partition 0 inline), 202
 * means "still running": poll GET /api/v2/statements/<handle> with a
 * backoff from 100 ms to 1 s until 200 or an error, within the deadline.
 * Partitions 1..n-1 come from ?partition=N. Every cell is a JSON string
 * (or null) decoded by its rowType entry (coll_snowflake_cell): fixed as
 * integer or exact decimal, real, boolean, date (days), time and
 * timestamp_ntz/ltz (epoch seconds with a fraction), timestamp_tz
 * ("<epoch seconds> <offset + 1440>", the epoch part already UTC). Bodies
 * are scanned row by row (sql_json_*), so a large partition never becomes
 * one cJSON tree.
 */
#include "collectors/snowflake.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/config.h"
#include "core/fsfile.h"
#include "core/health.h"
#include "core/secret.h"
#include "clients/http.h"
#include "core/util.h"

#define SF_JWT_LIFETIME_S  (59 * 60)    /* Snowflake accepts at most 1 h */
#define SF_JWT_REFRESH_S   (5 * 60)     /* remake this long before exp */
#define SF_POLL_FIRST_MS   100
#define SF_POLL_MAX_MS     1000
#define SF_HANDLE_MAX      128
#define SNOWFLAKE_KEY_MAX  (256 * 1024)  /* bytes in a PEM private key file */
#define SNOWFLAKE_KEY_READ_MS 2000      /* then the file counts as unreadable */

static const struct cfg_key sf_keys[] = {
        { "account",          CFG_STR,        offsetof(struct sf_cfg, account),          true,
          "account identifier (xy12345.us-east-2.aws or myorg-myaccount)" },
        { "user",             CFG_STR,        offsetof(struct sf_cfg, user),             true,
          "login name of the user the key or token belongs to" },
        { "private_key_file", CFG_PATH,       offsetof(struct sf_cfg, private_key_file), false,
          "PEM private key (PKCS#8) registered with ALTER USER ... SET RSA_PUBLIC_KEY" },
        { "private_key_passphrase_env",  CFG_SECRET_REF,
          offsetof(struct sf_cfg, private_key_passphrase_env), false,
          "environment variable holding the key's passphrase (encrypted keys)" },
        { "private_key_passphrase_file", CFG_SECRET_REF,
          offsetof(struct sf_cfg, private_key_passphrase_file), false,
          "file holding the key's passphrase (encrypted keys)" },
        { "token_env",        CFG_SECRET_REF, offsetof(struct sf_cfg, token_env),        false,
          "environment variable holding an OAuth access token (instead of a key)" },
        { "token_file",       CFG_SECRET_REF, offsetof(struct sf_cfg, token_file),       false,
          "file holding an OAuth access token (instead of a key)" },
        { "warehouse",        CFG_STR,        offsetof(struct sf_cfg, warehouse),        false,
          "warehouse to run statements in (default: the user's)" },
        { "database",         CFG_STR,        offsetof(struct sf_cfg, database),         false,
          "database for unqualified names" },
        { "schema",           CFG_STR,        offsetof(struct sf_cfg, schema),           false,
          "schema for unqualified names" },
        { "role",             CFG_STR,        offsetof(struct sf_cfg, role),             false,
          "role to run statements as (default: the user's)" },
        { "url",              CFG_STR,        offsetof(struct sf_cfg, url),              false,
          "base URL override (default https://<account>.snowflakecomputing.com)" },
        { "ca_file",          CFG_PATH,       offsetof(struct sf_cfg, ca_file),          false,
          "PEM CA bundle for TLS (default: the system store)" },
        { NULL, 0, 0, false, NULL },
};

static const struct threshold_def sf_thresholds[] = {
        { "latency_ms", THR_MS, 5000, 30000,
          "round trip of the health statement (SELECT CURRENT_VERSION()), queueing included" },
        { NULL, 0, 0, 0, NULL },
};

/* ------------------------------------------------------------------------
 * Cells and result sets (pure)
 */

enum sql_type coll_snowflake_type(const char *t, int scale, int precision)
{
        if (!t)
                return SQL_T_TEXT;
        if (strcmp(t, "fixed") == 0)
                return scale <= 0 && precision <= 18 ? SQL_T_INT : SQL_T_NUM;
        if (strcmp(t, "real") == 0)
                return SQL_T_NUM;
        if (strcmp(t, "boolean") == 0)
                return SQL_T_BOOL;
        if (strcmp(t, "date") == 0 || strcmp(t, "time") == 0 || strncmp(t, "timestamp_", 10) == 0)
                return SQL_T_TIME;
        return SQL_T_TEXT;
}

int coll_snowflake_cell(enum sql_type t, const char *sf_type, const char *s,
                        struct sql_cell *cell, struct err *err)
{
        memset(cell, 0, sizeof *cell);
        if (!s) {
                cell->null = true;
                return 0;
        }
        switch (t) {
        case SQL_T_INT:
                if (sql_parse_int(s, &cell->i) == 0)
                        return 0;
                break;
        case SQL_T_NUM:
                if (sql_parse_num(s, &cell->d) == 0) {
                        cell->text = s;
                        return 0;
                }
                break;
        case SQL_T_BOOL:
                if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0) {
                        cell->i = 1;
                        return 0;
                }
                if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
                        return 0;
                break;
        case SQL_T_TIME:
                if (sf_type && strcmp(sf_type, "date") == 0) {
                        int64_t days;

                        if (sql_parse_int(s, &days) == 0 && days > -10000000 && days < 10000000) {
                                cell->i = days * 86400000LL;
                                return 0;
                        }
                        break;
                }
                if (sf_type && strcmp(sf_type, "timestamp_tz") == 0) {
                        /* "<epoch.frac> <tz minutes + 1440>" */
                        const char *sp = strchr(s, ' ');
                        char num[48];
                        int64_t off;

                        if (!sp || (size_t)(sp - s) >= sizeof num ||
                            sql_parse_int(sp + 1, &off) < 0 || off < 0 || off > 2880)
                                break;
                        snprintf(num, sizeof num, "%.*s", (int)(sp - s), s);
                        if (sql_parse_epoch(num, &cell->i) == 0)
                                return 0;
                        break;
                }
                if (sql_parse_epoch(s, &cell->i) == 0)
                        return 0;
                break;
        case SQL_T_TEXT:
                cell->text = s;
                return 0;
        }
        err_set(err, EPROTO, "cannot read %s value \"%.40s\"", sf_type ? sf_type : "?", s);
        return -1;
}

void coll_snowflake_result_done(struct sf_result *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->ncols; i++) {
                free(r->cols[i].name);
                free(r->cols[i].db_type);
        }
        free(r->cols);
        free(r->scale);
        free(r->part_rows);
        free(r->handle);
        memset(r, 0, sizeof *r);
}

static int snowflake_json_int(const cJSON *o, const char *k, int dflt)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsNumber(v) && v->valuedouble >= -2147483648.0 &&
               v->valuedouble <= 2147483647.0 ? (int)v->valuedouble : dflt;
}

/* resultSetMetaData → columns and partitions. */
static int snowflake_parse_meta(const struct sql_jval *mv, struct sf_result *res, struct err *err)
{
        cJSON *m = cJSON_ParseWithLength(mv->p, mv->n);
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(m, "rowType");
        const cJSON *pi = cJSON_GetObjectItemCaseSensitive(m, "partitionInfo");
        const cJSON *nr = cJSON_GetObjectItemCaseSensitive(m, "numRows");
        const cJSON *it;
        size_t i = 0;

        if (!cJSON_IsArray(rt)) {
                cJSON_Delete(m);
                err_set(err, EPROTO, "Snowflake ResultSet has no resultSetMetaData.rowType");
                return -1;
        }
        res->ncols = (size_t)cJSON_GetArraySize(rt);
        res->cols = xcalloc(res->ncols ? res->ncols : 1, sizeof *res->cols);
        res->scale = xcalloc(res->ncols ? res->ncols : 1, sizeof *res->scale);
        cJSON_ArrayForEach(it, rt) {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "type");
                int scale = snowflake_json_int(it, "scale", -1),
                    prec = snowflake_json_int(it, "precision", 38);

                if (!cJSON_IsString(n) || !cJSON_IsString(t)) {
                        cJSON_Delete(m);
                        err_set(err, EPROTO, "Snowflake rowType[%zu] lacks name or type", i);
                        return -1;
                }
                res->cols[i].name = xstrdup(n->valuestring);
                res->cols[i].db_type = xstrdup(t->valuestring);
                res->cols[i].type = coll_snowflake_type(t->valuestring, scale, prec);
                res->scale[i] = scale;
                i++;
        }
        res->num_rows = cJSON_IsNumber(nr) && nr->valuedouble >= 0 && nr->valuedouble <= 9e15
                        ? (int64_t)nr->valuedouble : -1;
        if (cJSON_IsArray(pi) && cJSON_GetArraySize(pi) > 0) {
                res->nparts = (size_t)cJSON_GetArraySize(pi);
                res->part_rows = xcalloc(res->nparts, sizeof *res->part_rows);
                i = 0;
                cJSON_ArrayForEach(it, pi)
                        res->part_rows[i++] = (int64_t)snowflake_json_int(it, "rowCount", -1);
        } else {
                res->nparts = 1;
                res->part_rows = xcalloc(1, sizeof *res->part_rows);
                res->part_rows[0] = res->num_rows;
        }
        cJSON_Delete(m);
        return 0;
}

/* The rows of one `data` array into sink; returns the count or -1. */
static int64_t snowflake_rows(const struct sql_jval *data, const struct sf_result *res,
                              const struct sql_sink *sink, struct err *err)
{
        struct sql_cell *cells = xcalloc(res->ncols ? res->ncols : 1, sizeof *cells);
        char **texts = xcalloc(res->ncols ? res->ncols : 1, sizeof *texts);
        struct sql_jval row, v;
        size_t pos = 0;
        int64_t n = 0;
        struct err e;
        int r;

        while ((r = sql_json_next(data, &pos, &row, &e)) == 1) {
                size_t rp = 0, i = 0;
                int rr;

                if (row.p[0] != '[') {
                        err_set(err, EPROTO, "Snowflake data row %lld is not an array", (long long)n);
                        goto fail;
                }
                while ((rr = sql_json_next(&row, &rp, &v, &e)) == 1) {
                        bool isnull;

                        if (i >= res->ncols) {
                                err_set(err, EPROTO, "Snowflake row %lld has more than %zu values",
                                        (long long)n, res->ncols);
                                goto fail;
                        }
                        free(texts[i]);
                        if (sql_json_string(&v, &texts[i], &isnull) < 0) {
                                err_set(err, EPROTO, "Snowflake row %lld, column %s: not a string",
                                        (long long)n, res->cols[i].name);
                                goto fail;
                        }
                        if (coll_snowflake_cell(res->cols[i].type, res->cols[i].db_type, texts[i],
                                                &cells[i], &e) < 0) {
                                err_set(err, EPROTO, "column %s: %s", res->cols[i].name, e.msg);
                                goto fail;
                        }
                        i++;
                }
                if (rr < 0 || i != res->ncols) {
                        err_set(err, EPROTO, "Snowflake row %lld: %s", (long long)n,
                                rr < 0 ? e.msg : "wrong number of values");
                        goto fail;
                }
                if (sink->row && sink->row(sink->ud, cells, res->ncols, err) < 0)
                        goto fail;
                n++;
        }
        if (r < 0) {
                err_set(err, EPROTO, "Snowflake data: %s", e.msg);
                goto fail;
        }
        for (size_t i = 0; i < res->ncols; i++)
                free(texts[i]);
        free(texts);
        free(cells);
        return n;
fail:
        for (size_t i = 0; i < res->ncols; i++)
                free(texts[i]);
        free(texts);
        free(cells);
        return -1;
}

int coll_snowflake_decode(const char *body, size_t len, struct sf_result *res,
                          const struct sql_sink *sink, struct err *err)
{
        struct sql_jval meta, data, h;
        struct err e;
        int64_t n;
        int r;

        err_clear(&e);
        r = sql_json_member(body, len, "resultSetMetaData", &meta, &e);
        if (r != 1) {
                err_set(err, EPROTO, "Snowflake answered 200 without a ResultSet (%s)",
                        r < 0 ? e.msg : "no resultSetMetaData");
                return -1;
        }
        if (snowflake_parse_meta(&meta, res, err) < 0)
                return -1;
        if (sql_json_member(body, len, "statementHandle", &h, &e) == 1 &&
            sql_json_string(&h, &res->handle, NULL) < 0)
                res->handle = NULL;
        if (sink->begin && sink->begin(sink->ud, res->cols, res->ncols, err) < 0)
                return -1;
        r = sql_json_member(body, len, "data", &data, &e);
        if (r < 0) {
                err_set(err, EPROTO, "Snowflake ResultSet: %s", e.msg);
                return -1;
        }
        if (r == 0 || (data.n == 4 && memcmp(data.p, "null", 4) == 0))
                n = 0;
        else if ((n = snowflake_rows(&data, res, sink, err)) < 0)
                return -1;
        if (res->part_rows[0] >= 0 && n != res->part_rows[0]) {
                err_set(err, EPROTO, "Snowflake partition 0 has %lld rows, partitionInfo says %lld",
                        (long long)n, (long long)res->part_rows[0]);
                return -1;
        }
        return 0;
}

int coll_snowflake_decode_partition(const char *body, size_t len, const struct sf_result *res,
                                    size_t part, const struct sql_sink *sink, struct err *err)
{
        struct sql_jval data;
        struct err e;
        int64_t n;
        int r;

        err_clear(&e);
        r = sql_json_member(body, len, "data", &data, &e);
        if (r != 1) {
                err_set(err, EPROTO, "Snowflake partition %zu: %s", part,
                        r < 0 ? e.msg : "no \"data\"");
                return -1;
        }
        if ((n = snowflake_rows(&data, res, sink, err)) < 0)
                return -1;
        if (part < res->nparts && res->part_rows[part] >= 0 && n != res->part_rows[part]) {
                err_set(err, EPROTO, "Snowflake partition %zu has %lld rows, partitionInfo says %lld",
                        part, (long long)n, (long long)res->part_rows[part]);
                return -1;
        }
        return 0;
}

/* A JSON string member of a small error body, copied into out. */
static void snowflake_member_str(const cJSON *o, const char *k, char *out, size_t n)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        str_copy(out, cJSON_IsString(v) ? v->valuestring : "", n);
}

/* Message text made one line. */
static void snowflake_one_line(char *s)
{
        for (; *s; s++)
                if (*s == '\n' || *s == '\r' || *s == '\t')
                        *s = ' ';
}

void coll_snowflake_errmsg(long status, const char *body, size_t len, const char *fingerprint,
                           struct err *err)
{
        cJSON *o = body && len < (1u << 20) ? cJSON_ParseWithLength(body, len) : NULL;
        char code[32], state[16], msg[200];

        snowflake_member_str(o, "code", code, sizeof code);
        snowflake_member_str(o, "sqlState", state, sizeof state);
        snowflake_member_str(o, "message", msg, sizeof msg);
        cJSON_Delete(o);
        snowflake_one_line(msg);
        if (status == 401 || strncmp(code, "390", 3) == 0) {
                err_set(err, EACCES, "Snowflake rejected the token (HTTP %ld%s%s%s%s): check "
                        "account and user%s%s%s", status, code[0] ? ", code " : "", code,
                        msg[0] ? ": " : "", msg,
                        fingerprint ? ", and that the user's RSA_PUBLIC_KEY_FP is " : "",
                        fingerprint ? fingerprint : "", fingerprint ? "" : " and the OAuth token");
                return;
        }
        if (code[0] || msg[0]) {
                err_set(err, EPROTO, "Snowflake error %s%s%s%s (HTTP %ld): %s",
                        code[0] ? code : "?", state[0] ? " (sqlState " : "", state,
                        state[0] ? ")" : "", status, msg[0] ? msg : "no message");
                return;
        }
        err_set(err, EPROTO, "Snowflake answered HTTP %ld %s", status, http_status_text(status));
}

/* ------------------------------------------------------------------------
 * Keys and JWT (pure apart from reading the key file)
 */

void coll_snowflake_jwt_account(const char *account, char *out, size_t n)
{
        size_t i = 0;

        for (; account && account[i] && account[i] != '.' && i + 1 < n; i++)
                out[i] = (char)toupper((unsigned char)account[i]);
        if (n)
                out[i] = '\0';
}

struct sf_pw {
        const char *pw;
};

/* Never prompts: no passphrase configured means "cannot decrypt". */
static int snowflake_pem_cb(char *buf, int size, int rwflag, void *u)
{
        const struct sf_pw *p = u;
        size_t n;

        (void)rwflag;
        if (!p || !p->pw)
                return -1;
        n = strlen(p->pw);
        if (n > (size_t)size)
                return -1;
        memcpy(buf, p->pw, n);
        return (int)n;
}

EVP_PKEY *coll_snowflake_load_key(const char *path, const char *passphrase, struct err *err)
{
        struct sf_pw pw = { passphrase };
        EVP_PKEY *k;
        BIO *b;
        size_t n = 0;
        /* A regular file only, with a deadline: a FIFO or a stalled mount
         * must not hold the collector thread. The bytes are wiped. */
        char *pem = fsfile_read_within(path, SNOWFLAKE_KEY_MAX, "private_key_file",
                                       SNOWFLAKE_KEY_READ_MS, true, &n, err);

        if (!pem)
                return NULL;
        b = BIO_new_mem_buf(pem, (int)n);
        if (!b) {
                secret_free(pem);
                err_set(err, ENOMEM, "cannot read private_key_file %s: out of memory", path);
                return NULL;
        }
        ERR_clear_error();
        k = PEM_read_bio_PrivateKey(b, NULL, snowflake_pem_cb, &pw);
        BIO_free(b);
        secret_free(pem);
        if (!k) {
                ERR_clear_error();
                err_set(err, EINVAL, "cannot load private key %s: %s", path,
                        passphrase ? "wrong passphrase, or not a PEM private key" :
                                     "not a PEM private key, or encrypted (set "
                                     "private_key_passphrase_env or _file)");
                return NULL;
        }
        if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) {
                EVP_PKEY_free(k);
                err_set(err, EINVAL, "private key %s is not an RSA key (Snowflake key-pair "
                        "authentication needs RSA)", path);
                return NULL;
        }
        return k;
}

int coll_snowflake_fingerprint(EVP_PKEY *key, char *out, size_t n)
{
        unsigned char *der = NULL, md[32], b64[64];
        unsigned int mdlen = 0;
        int len = i2d_PUBKEY(key, &der);

        if (len <= 0)
                return -1;
        if (!EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
                OPENSSL_free(der);
                return -1;
        }
        OPENSSL_free(der);
        EVP_EncodeBlock(b64, md, 32);
        snprintf(out, n, "SHA256:%s", b64);
        return 0;
}

/* base64url without padding of [p, p+n), appended to a new string. */
static char *snowflake_b64url(const unsigned char *p, size_t n)
{
        char *out = xmalloc(4 * ((n + 2) / 3) + 1);
        int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);

        while (len > 0 && out[len - 1] == '=')
                len--;
        out[len] = '\0';
        for (int i = 0; i < len; i++) {
                if (out[i] == '+')
                        out[i] = '-';
                else if (out[i] == '/')
                        out[i] = '_';
        }
        return out;
}

char *coll_snowflake_jwt(EVP_PKEY *key, const char *account, const char *user,
                         int64_t iat, int64_t lifetime_s, struct err *err)
{
        static const char hdr[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
        char acct[128], usr[128], fp[80], *sub, *iss, *claims, *h64, *c64, *input, *s64, *jwt;
        unsigned char sig[1024];
        size_t siglen = sizeof sig;
        EVP_MD_CTX *md;
        cJSON *o;
        int ok;

        if (coll_snowflake_fingerprint(key, fp, sizeof fp) < 0) {
                err_set(err, EINVAL, "cannot compute the public key fingerprint");
                return NULL;
        }
        coll_snowflake_jwt_account(account, acct, sizeof acct);
        snprintf(usr, sizeof usr, "%s", user ? user : "");
        for (char *c = usr; *c; c++)
                *c = (char)toupper((unsigned char)*c);
        sub = xasprintf("%s.%s", acct, usr);
        iss = xasprintf("%s.%s", sub, fp);
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "iss", iss);
        cJSON_AddStringToObject(o, "sub", sub);
        cJSON_AddNumberToObject(o, "iat", (double)iat);
        cJSON_AddNumberToObject(o, "exp", (double)(iat + lifetime_s));
        claims = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        free(sub);
        free(iss);
        h64 = snowflake_b64url((const unsigned char *)hdr, strlen(hdr));
        c64 = snowflake_b64url((const unsigned char *)claims, strlen(claims));
        free(claims);
        input = xasprintf("%s.%s", h64, c64);
        free(h64);
        free(c64);

        md = EVP_MD_CTX_new();
        ok = md && EVP_PKEY_get_size(key) <= (int)sizeof sig &&
             EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input, strlen(input)) == 1;
        EVP_MD_CTX_free(md);
        ERR_clear_error();
        if (!ok) {
                free(input);
                err_set(err, EINVAL, "cannot sign the JWT with the private key");
                return NULL;
        }
        s64 = snowflake_b64url(sig, siglen);
        jwt = xasprintf("%s.%s", input, s64);
        free(input);
        free(s64);
        return jwt;
}

/* ------------------------------------------------------------------------
 * The client (owner thread)
 */

struct sf_client {
        const struct source_cfg *src;   /* borrowed */
        const struct sf_cfg *cfg;
        struct http_client *http;
        char     *base;                 /* base URL without a trailing '/' */
        EVP_PKEY *key;                  /* loaded on first use */
        char      fp[80];               /* "SHA256:..." of key */
        char     *jwt;                  /* cached; NULL when none */
        int64_t   jwt_exp;              /* wall s */
};

struct sf_client *coll_snowflake_client_new(const struct source_cfg *src)
{
        struct sf_client *c = xcalloc(1, sizeof *c);
        struct http_tls tls = { 0 };
        size_t n;

        c->src = src;
        c->cfg = src->kind_cfg;
        tls.ca_file = c->cfg->ca_file;
        c->http = http_client_new(&tls);
        if (c->cfg->url)
                c->base = xstrdup(c->cfg->url);
        else
                c->base = xasprintf("https://%s.snowflakecomputing.com", c->cfg->account);
        n = strlen(c->base);
        while (n > 0 && c->base[n - 1] == '/')
                c->base[--n] = '\0';
        return c;
}

static void snowflake_drop_jwt(struct sf_client *c)
{
        secret_free(c->jwt);
        c->jwt = NULL;
}

void coll_snowflake_client_free(struct sf_client *c)
{
        if (!c)
                return;
        snowflake_drop_jwt(c);
        EVP_PKEY_free(c->key);
        http_client_free(c->http);
        free(c->base);
        free(c);
}

/* The bearer token for the next request (owned by the caller), and its
 * type. NULL with err set when none can be had. */
static char *snowflake_token(struct sf_client *c, const char **type, struct err *err)
{
        const struct sf_cfg *cfg = c->cfg;
        int64_t now = clock_wall_ms() / 1000;
        struct err e;

        err_clear(&e);
        if (!cfg->private_key_file) {
                char *t = config_secret_resolve(cfg->token_env, cfg->token_file, &e);

                if (!t)
                        err_set(err, EACCES, "cannot read the OAuth token: %s",
                                e.msg[0] ? e.msg : "token_env or token_file is not set");
                *type = "OAUTH";
                return t;
        }
        *type = "KEYPAIR_JWT";
        if (!c->key) {
                char *pw = config_secret_resolve(cfg->private_key_passphrase_env,
                                                 cfg->private_key_passphrase_file, &e);

                if (!pw && e.msg[0]) {
                        err_set(err, EACCES, "cannot read the key passphrase: %s", e.msg);
                        return NULL;
                }
                c->key = coll_snowflake_load_key(cfg->private_key_file, pw, err);
                secret_free(pw);
                if (!c->key)
                        return NULL;
                if (coll_snowflake_fingerprint(c->key, c->fp, sizeof c->fp) < 0)
                        c->fp[0] = '\0';
        }
        if (!c->jwt || now >= c->jwt_exp - SF_JWT_REFRESH_S) {
                snowflake_drop_jwt(c);
                c->jwt = coll_snowflake_jwt(c->key, cfg->account, cfg->user, now,
                                            SF_JWT_LIFETIME_S, err);
                if (!c->jwt)
                        return NULL;
                c->jwt_exp = now + SF_JWT_LIFETIME_S;
        }
        return xstrdup(c->jwt);
}

static bool snowflake_handle_ok(const char *h)
{
        size_t n = h ? strlen(h) : 0;

        if (n == 0 || n > SF_HANDLE_MAX)
                return false;
        for (; *h; h++)
                if (!isalnum((unsigned char)*h) && *h != '-')
                        return false;
        return true;
}

/* Sleeps ms, cut short by quit; -1 (err set) when stopping or when the
 * deadline would pass first. */
static int snowflake_pause(const struct coll_ctx *ctx, int64_t ms, const char *handle,
                           struct err *err)
{
        int64_t left = ctx->deadline_mono - clock_mono_ms();
        struct pollfd p = { .fd = ctx->stop_fd, .events = POLLIN };

        if (left <= ms) {
                err_set(err, ETIMEDOUT, "Snowflake statement %s still running after %lld ms "
                        "(timed out; raise timeout or speed the query up)", handle,
                        (long long)ctx->timeout_ms);
                return -1;
        }
        if (poll(&p, ctx->stop_fd >= 0 ? 1 : 0, (int)ms) > 0) {
                err_set(err, ECANCELED, "stopping");
                return -1;
        }
        return 0;
}

/* One request with auth. resp must be freed by the caller. */
static int snowflake_request(struct sf_client *c, const struct coll_ctx *ctx, const char *method,
                             const char *url, const char *body, struct http_response *resp,
                             struct err *err)
{
        const char *type = NULL;
        char *tok = snowflake_token(c, &type, err), th[80];
        const char *hdrs[3];
        struct http_request req = { 0 };
        int rc;

        memset(resp, 0, sizeof *resp);
        if (!tok)
                return -1;
        snprintf(th, sizeof th, "X-Snowflake-Authorization-Token-Type: %s", type);
        hdrs[0] = th;
        hdrs[1] = "Accept: application/json";
        hdrs[2] = NULL;
        req.method = method;
        req.url = url;
        req.body = body;
        req.bearer = tok;
        req.headers = hdrs;
        rc = http_do(c->http, ctx, &req, resp, err);
        secret_free(tok);
        if (rc == 0 && resp->status == 401)
                snowflake_drop_jwt(c);         /* remake it next time */
        return rc;
}

/* The JSON body of a statement request. Owned. */
static char *snowflake_body(const struct sf_cfg *cfg, const char *sql, int64_t timeout_s)
{
        cJSON *o = cJSON_CreateObject(), *p;
        char *s;

        cJSON_AddStringToObject(o, "statement", sql);
        cJSON_AddNumberToObject(o, "timeout", (double)timeout_s);
        if (cfg->warehouse)
                cJSON_AddStringToObject(o, "warehouse", cfg->warehouse);
        if (cfg->database)
                cJSON_AddStringToObject(o, "database", cfg->database);
        if (cfg->schema)
                cJSON_AddStringToObject(o, "schema", cfg->schema);
        if (cfg->role)
                cJSON_AddStringToObject(o, "role", cfg->role);
        p = cJSON_AddObjectToObject(o, "parameters");
        cJSON_AddStringToObject(p, "QUERY_TAG", "lambdaops");
        s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        return s;
}

/* The statementHandle of a 202 body, owned, or NULL. */
static char *snowflake_handle_of(const struct http_response *r)
{
        struct sql_jval v;
        struct err e;
        char *h = NULL;

        if (sql_json_member(r->body, r->len, "statementHandle", &v, &e) != 1 ||
            sql_json_string(&v, &h, NULL) < 0 || !snowflake_handle_ok(h)) {
                free(h);
                return NULL;
        }
        return h;
}

/* GET url of a statement (partition > 0: that partition of its result).
 * The handle is checked by snowflake_handle_ok and goes in as one path
 * segment. NULL with err. Owned. */
static char *snowflake_statement_url(const struct sf_client *c, const char *handle,
                                     size_t partition, struct err *err)
{
        char *seg = http_path_segment(handle, "statementHandle", err), *url;

        if (!seg)
                return NULL;
        url = partition ? xasprintf("%s/api/v2/statements/%s?partition=%zu", c->base, seg,
                                    partition)
                        : xasprintf("%s/api/v2/statements/%s", c->base, seg);
        free(seg);
        return url;
}

int coll_snowflake_query(struct sf_client *c, const struct coll_ctx *ctx, const char *sql,
                         int64_t timeout_ms, const struct sql_sink *sink, struct err *err)
{
        struct http_response resp;
        struct sf_result res = { 0 };
        int64_t left = ctx->deadline_mono - clock_mono_ms(), wait = SF_POLL_FIRST_MS, ts;
        char *url, *body, *handle = NULL;
        int rc = -1;

        if (timeout_ms <= 0 || timeout_ms > left)
                timeout_ms = left;
        ts = (timeout_ms + 999) / 1000;
        body = snowflake_body(c->cfg, sql, ts > 0 ? ts : 1);
        url = xasprintf("%s/api/v2/statements", c->base);
        if (snowflake_request(c, ctx, "POST", url, body, &resp, err) < 0)
                goto out;
        while (resp.status == 202) {
                char *h = snowflake_handle_of(&resp);

                http_response_done(&resp);
                if (!h) {
                        err_set(err, EPROTO, "Snowflake answered 202 without a usable statementHandle");
                        goto out;
                }
                free(handle);
                handle = h;
                if (snowflake_pause(ctx, wait, handle, err) < 0)
                        goto out;
                wait = wait * 2 > SF_POLL_MAX_MS ? SF_POLL_MAX_MS : wait * 2;
                free(url);
                if (!(url = snowflake_statement_url(c, handle, 0, err)))
                        goto out;
                if (snowflake_request(c, ctx, "GET", url, NULL, &resp, err) < 0)
                        goto out;
        }
        if (resp.status != 200) {
                coll_snowflake_errmsg(resp.status, resp.body, resp.len,
                                      c->cfg->private_key_file && c->fp[0] ? c->fp : NULL, err);
                http_response_done(&resp);
                goto out;
        }
        if (coll_snowflake_decode(resp.body, resp.len, &res, sink, err) < 0) {
                http_response_done(&resp);
                goto out;
        }
        http_response_done(&resp);
        if (res.nparts > 1 && !(res.handle && snowflake_handle_ok(res.handle))) {
                err_set(err, EPROTO, "Snowflake result has %zu partitions but no usable "
                        "statementHandle", res.nparts);
                goto out;
        }
        for (size_t part = 1; part < res.nparts; part++) {
                free(url);
                if (!(url = snowflake_statement_url(c, res.handle, part, err)))
                        goto out;
                if (snowflake_request(c, ctx, "GET", url, NULL, &resp, err) < 0)
                        goto out;
                if (resp.status != 200) {
                        coll_snowflake_errmsg(resp.status, resp.body, resp.len, NULL, err);
                        http_response_done(&resp);
                        goto out;
                }
                if (coll_snowflake_decode_partition(resp.body, resp.len, &res, part, sink, err) < 0) {
                        http_response_done(&resp);
                        goto out;
                }
                http_response_done(&resp);
        }
        rc = 0;
out:
        coll_snowflake_result_done(&res);
        free(handle);
        free(url);
        free(body);
        return rc;
}

/* ------------------------------------------------------------------------
 * collector_ops
 */

struct sf_state {
        const struct source_cfg *src;
        struct sf_client *client;
};

static int snowflake_validate(const struct source_cfg *src, struct err *err)
{
        const struct sf_cfg *c = src->kind_cfg;
        bool token = c->token_env || c->token_file;

        for (const char *p = c->account; p && *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("._-", *p)) {
                        err_set(err, EINVAL, "account \"%.40s\" is not an account identifier "
                                "(letters, digits, '.', '_' and '-')", c->account);
                        return -1;
                }
        if (!c->private_key_file && !token) {
                err_set(err, EINVAL, "set private_key_file (key-pair JWT) or token_env/token_file "
                        "(OAuth)");
                return -1;
        }
        if (c->private_key_file && token) {
                err_set(err, EINVAL, "private_key_file and token_env/token_file are exclusive: "
                        "use one way to authenticate");
                return -1;
        }
        if (!c->private_key_file &&
            (c->private_key_passphrase_env || c->private_key_passphrase_file)) {
                err_set(err, EINVAL, "a private_key_passphrase needs private_key_file");
                return -1;
        }
        if (c->url && strncmp(c->url, "https://", 8) != 0 && strncmp(c->url, "http://", 7) != 0) {
                err_set(err, EINVAL, "url must start with https:// (or http:// for a local test "
                        "server)");
                return -1;
        }
        return 0;
}

static void *snowflake_create(const struct source_cfg *src)
{
        struct sf_state *st = xcalloc(1, sizeof *st);

        st->src = src;
        st->client = coll_snowflake_client_new(src);
        return st;
}

static void snowflake_destroy(void *state)
{
        struct sf_state *st = state;

        if (!st)
                return;
        coll_snowflake_client_free(st->client);
        free(st);
}

void snowflake_data_free(struct sf_data *d)
{
        if (!d)
                return;
        free(d->version);
        free(d);
}

static void snowflake_data_free_op(void *data)
{
        snowflake_data_free(data);
}

static enum coll_status snowflake_poll(void *state, const struct coll_ctx *ctx, void **data,
                                       struct err *err)
{
        struct sf_state *st = state;
        struct sql_result r = { 0 };
        struct sql_sink sink = sql_result_sink(&r);
        const struct sql_cell *cell;
        struct sf_data *d;
        int64_t t0 = clock_mono_ms();

        *data = NULL;
        if (coll_snowflake_query(st->client, ctx, "SELECT CURRENT_VERSION()", ctx->timeout_ms,
                                 &sink, err) < 0) {
                sql_result_done(&r);
                return COLL_DOWN;
        }
        d = xcalloc(1, sizeof *d);
        d->latency_ms = clock_mono_ms() - t0;
        cell = sql_result_cell(&r, 0, 0);
        d->version = xstrdup(cell && !cell->null && cell->text ? cell->text : "?");
        sql_result_done(&r);
        *data = d;
        return COLL_OK;
}

static void snowflake_to_json(const void *data, struct cJSON *obj)
{
        const struct sf_data *d = data;

        cJSON_AddStringToObject(obj, "version", d->version ? d->version : "");
        cJSON_AddNumberToObject(obj, "latency_ms", (double)d->latency_ms);
}

static void snowflake_alerts(const struct source_cfg *src, const void *data, struct alert_list *out)
{
        const struct sf_data *d = data;

        health_check(out, src, "latency_ms", "", (double)d->latency_ms, "statement round trip");
}

static double snowflake_key_metric(const void *data)
{
        return (double)((const struct sf_data *)data)->latency_ms;
}

static void snowflake_summary(const void *data, char *buf, size_t n)
{
        const struct sf_data *d = data;
        char b[32];

        fmt_duration_ms(d->latency_ms, b, sizeof b);
        snprintf(buf, n, "Snowflake %s, %s round trip", d->version ? d->version : "?", b);
}

/* The SQL runner of reconciliation (collector_ops.sql). */
struct sql_sf {
        struct sf_client *c;
        int64_t timeout_ms;
};

static void *snowflake_sql_open(const struct source_cfg *src, int64_t timeout_ms)
{
        struct sql_sf *h = xcalloc(1, sizeof *h);

        h->c = coll_snowflake_client_new(src);
        h->timeout_ms = timeout_ms;
        return h;
}

static int snowflake_sql_run(void *hv, const struct coll_ctx *ctx, const char *sql,
                             const struct sql_sink *sink, struct err *err)
{
        struct sql_sf *h = hv;

        return coll_snowflake_query(h->c, ctx, sql, h->timeout_ms, sink, err);
}

static void snowflake_sql_close(void *hv)
{
        struct sql_sf *h = hv;

        if (!h)
                return;
        coll_snowflake_client_free(h->c);
        free(h);
}

static const struct sql_runner sf_sql_runner = { snowflake_sql_open, snowflake_sql_run,
                                                 snowflake_sql_close };

const struct collector_ops coll_snowflake_ops = {
        .name = "snowflake",
        .title = "Snowflake",
        .default_interval_ms = 60 * 1000,
        .default_timeout_ms = 30 * 1000,
        .keys = sf_keys,
        .cfg_size = sizeof(struct sf_cfg),
        .thresholds = sf_thresholds,
        .validate = snowflake_validate,
        .create = snowflake_create,
        .destroy = snowflake_destroy,
        .poll = snowflake_poll,
        .data_free = snowflake_data_free_op,
        .to_json = snowflake_to_json,
        .alerts = snowflake_alerts,
        .key_metric = snowflake_key_metric,
        .summary = snowflake_summary,
        .key_metric_name = "round trip",
        .key_metric_unit = THR_MS,
        .sql = &sf_sql_runner,
        .metrics = snowflake_metrics,
};
