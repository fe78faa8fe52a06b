/*
 * The Snowflake source and SQL runner against a local fixture server
 * (tests/lib/fixture_httpd.py) that implements the SQL API v2 statements
 * endpoint as documented (Snowflake's SQL API v2 reference) with the bodies in
 * tests/fixtures/snowflake: sync 200, async 202 then polled, a result in
 * two partitions, a 422 SQL error, a 401 rejected token, a statement still
 * running at the deadline, OAuth tokens.
 *
 * Every request the server saw is read back from its log, and the JWT in
 * its Authorization header is VERIFIED here: the RS256 signature with
 * OpenSSL's EVP_DigestVerify against the committed test public key
 * (tests/fixtures/snowflake/rsa_key.pub, generated once with `openssl
 * genpkey`), and the claims: iss = ACCOUNT.USER.SHA256:<fingerprint> where
 * the fingerprint in rsa_key.fp was computed by the openssl command line
 * (see README.md there), sub = ACCOUNT.USER, iat between the test's start
 * and the moment the server logged the request (tokens are reused), exp =
 * iat + 59 min (Snowflake accepts at most 1 h). A tampered token must fail the same check. The encrypted PKCS#8 key
 * (passphrase "lambdaops-test") signs verifiably too; a wrong passphrase,
 * no passphrase and an EC key are clear errors. Finally a reconcile check
 * whose both sides are Snowflake sources runs through the collector.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/collector.h"
#include "core/config.h"
#include "collectors/reconcile/reconcile.h"
#include "collectors/snowflake.h"
#include "clients/sql.h"
#include "tu.h"
#include "tu_http.h"
#include "core/util.h"

#define HANDLE "01b3c6e2-0605-7a1f-0000-4a2100d3b1f2"

struct fx {
        struct tu_httpd srv;
        int stop[2];
        size_t seen;            /* request log lines already looked at */
        char fp[80];            /* fingerprint from rsa_key.fp (openssl CLI) */
        int64_t start_s;        /* wall s before the first request */
};

static struct fx *F;

static char *fixture(const char *name)
{
        char rel[256], *s;

        snprintf(rel, sizeof rel, "tests/fixtures/snowflake/%s", name);
        s = tu_read_fixture(tu_src_path(rel), NULL);
        if (!s)
                fail_msg("cannot read %s", rel);
        return s;
}

/* Routes: each a "METHOD path[?query] status fixture-file [times]" line.
 * A GET route without "?query" matches only an empty query string. The
 * server counts `times` per route index for its whole life (replacing the
 * routes does not reset it), so a route with `times` must sit at an index
 * that no earlier test used. */
static void routes(const char *spec)
{
        cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "routes");
        char *copy = xstrdup(spec), *save = NULL, *js;

        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char method[8], path[200], file[64];
                int status, times = 0;
                cJSON *r = cJSON_CreateObject();
                char *q, *body;

                if (sscanf(l, "%7s %199s %d %63s %d", method, path, &status, file, &times) < 4)
                        fail_msg("bad route %s", l);
                cJSON_AddStringToObject(r, "method", method);
                q = strchr(path, '?');
                if (q) {
                        *q = '\0';
                        cJSON_AddStringToObject(r, "query", q + 1);
                } else if (strcmp(method, "GET") == 0) {
                        cJSON_AddStringToObject(r, "query", "");
                }
                cJSON_AddStringToObject(r, "path", path);
                cJSON_AddNumberToObject(r, "status", status);
                body = fixture(file);
                cJSON_AddItemToObject(r, "json", cJSON_Parse(body));
                free(body);
                if (times)
                        cJSON_AddNumberToObject(r, "times", times);
                cJSON_AddItemToArray(arr, r);
        }
        js = cJSON_PrintUnformatted(root);
        assert_int_equal(tu_httpd_set_routes(&F->srv, js), 0);
        cJSON_free(js);
        cJSON_Delete(root);
        free(copy);
}

/* Requests logged since the last call, as a JSON array (owned). */
static cJSON *new_requests(void)
{
        char *log = tu_httpd_requests(&F->srv), *save = NULL;
        cJSON *arr = cJSON_CreateArray();
        size_t n = 0;

        assert_non_null(log);
        for (char *l = strtok_r(log, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                if (n++ >= F->seen)
                        cJSON_AddItemToArray(arr, cJSON_Parse(l));
        F->seen = n;
        free(log);
        return arr;
}

static const char *req_str(const cJSON *req, const char *k)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, k);

        return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *req_hdr(const cJSON *req, const char *k)
{
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(req, "headers");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, k);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* base64url → bytes (owned, *n set). */
static unsigned char *b64url_decode(const char *s, size_t len, size_t *n)
{
        size_t pad = (4 - len % 4) % 4, m = len + pad;
        char *std = xmalloc(m + 1);
        unsigned char *out = xmalloc(m);
        int r;

        for (size_t i = 0; i < len; i++)
                std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
        for (size_t i = 0; i < pad; i++)
                std[len + i] = '=';
        std[m] = '\0';
        r = EVP_DecodeBlock(out, (const unsigned char *)std, (int)m);
        free(std);
        assert_true(r >= 0);
        *n = (size_t)r - pad;
        return out;
}

/* Verifies an RS256 JWT against the test public key. Returns the claims
 * (owned) or NULL when the signature does not verify. */
static cJSON *jwt_verify(const char *jwt)
{
        const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
        char *pub_path = xstrdup(tu_src_path("tests/fixtures/snowflake/rsa_key.pub"));
        unsigned char *hdr, *claims, *sig;
        size_t hn, cn, sn;
        EVP_PKEY *pub;
        EVP_MD_CTX *md;
        FILE *f;
        cJSON *h, *c = NULL;
        int ok;

        assert_non_null(d2);
        assert_null(strchr(d2 + 1, '.'));
        f = fopen(pub_path, "r");
        free(pub_path);
        assert_non_null(f);
        pub = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        fclose(f);
        assert_non_null(pub);
        hdr = b64url_decode(jwt, (size_t)(d1 - jwt), &hn);
        claims = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &cn);
        sig = b64url_decode(d2 + 1, strlen(d2 + 1), &sn);
        h = cJSON_ParseWithLength((const char *)hdr, hn);
        assert_string_equal(cJSON_GetObjectItem(h, "alg")->valuestring, "RS256");
        assert_string_equal(cJSON_GetObjectItem(h, "typ")->valuestring, "JWT");
        cJSON_Delete(h);
        assert_int_equal(sn, 256);      /* a 2048-bit RSA signature */

        md = EVP_MD_CTX_new();
        ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
             EVP_DigestVerify(md, sig, sn, (const unsigned char *)jwt, (size_t)(d2 - jwt)) == 1;
        EVP_MD_CTX_free(md);
        EVP_PKEY_free(pub);
        if (ok)
                c = cJSON_ParseWithLength((const char *)claims, cn);
        free(hdr);
        free(claims);
        free(sig);
        return c;
}

/* The bearer token of a request, checked: a verified JWT with the right
 * claims. Returns the token (borrowed from req). */
static const char *check_jwt(const cJSON *req)
{
        const char *auth = req_hdr(req, "authorization");
        /* The server's time of the request (Unix s, fixture_httpd.py). */
        double logged = cJSON_GetObjectItem(req, "t")->valuedouble;
        char iss[160];
        cJSON *c;
        double iat, exp;

        assert_non_null(auth);
        assert_memory_equal(auth, "Bearer ", 7);
        assert_string_equal(req_hdr(req, "x-snowflake-authorization-token-type"), "KEYPAIR_JWT");
        c = jwt_verify(auth + 7);
        if (!c)
                fail_msg("JWT signature does not verify with the test public key");
        snprintf(iss, sizeof iss, "XY12345.LAMBDAOPS_SVC.%s", F->fp);
        assert_string_equal(cJSON_GetObjectItem(c, "iss")->valuestring, iss);
        assert_string_equal(cJSON_GetObjectItem(c, "sub")->valuestring, "XY12345.LAMBDAOPS_SVC");
        iat = cJSON_GetObjectItem(c, "iat")->valuedouble;
        exp = cJSON_GetObjectItem(c, "exp")->valuedouble;
        /* Made during this test, before the request it came with. */
        assert_true(iat >= (double)F->start_s && iat <= logged);
        assert_true(exp - iat == 59 * 60);
        cJSON_Delete(c);
        return auth + 7;
}

/* A config with snowflake sources sf (key), sf-enc (encrypted key), sf-oauth
 * and a reconcile check over two of them. Owned. */
static struct config *sf_config(const char *extra)
{
        char key[512], enc[512], ec[512];
        struct err e;
        char *y;
        struct config *c;

        snprintf(key, sizeof key, "%s", tu_src_path("tests/fixtures/snowflake/rsa_key.p8"));
        snprintf(enc, sizeof enc, "%s", tu_src_path("tests/fixtures/snowflake/rsa_key_enc.p8"));
        snprintf(ec, sizeof ec, "%s", tu_src_path("tests/fixtures/snowflake/ec_key.p8"));
        y = xasprintf("sources:\n"
                      "  - name: sf\n    kind: snowflake\n    account: xy12345.us-east-2.aws\n"
                      "    user: lambdaops_svc\n    private_key_file: %s\n    url: %s/\n"
                      "    warehouse: WH_XS\n    database: MARTS\n    schema: PUBLIC\n"
                      "    role: SRE_RO\n    timeout: 3s\n"
                      "  - name: sf-enc\n    kind: snowflake\n    account: xy12345\n"
                      "    user: LambdaOps_Svc\n    private_key_file: %s\n"
                      "    private_key_passphrase_env: LO_TEST_SF_PASS\n    url: %s\n"
                      "  - name: sf-nopass\n    kind: snowflake\n    account: xy12345\n"
                      "    user: u\n    private_key_file: %s\n    url: %s\n"
                      "  - name: sf-ec\n    kind: snowflake\n    account: xy12345\n"
                      "    user: u\n    private_key_file: %s\n    url: %s\n"
                      "  - name: sf-oauth\n    kind: snowflake\n    account: xy12345\n"
                      "    user: u\n    token_env: LO_TEST_SF_TOKEN\n    url: %s/oauth\n"
                      "%s",
                      key, F->srv.base_url, enc, F->srv.base_url, enc, F->srv.base_url, ec,
                      F->srv.base_url, F->srv.base_url, extra ? extra : "");
        c = config_load_string(y, strlen(y), "<it>", &e);
        free(y);
        if (!c)
                fail_msg("config: %s", e.msg);
        return c;
}

static struct coll_ctx ctx_for(int64_t timeout_ms)
{
        struct coll_ctx ctx;

        ctx.stop_fd = F->stop[0];
        ctx.now_mono = clock_mono_ms();
        ctx.timeout_ms = timeout_ms;
        ctx.deadline_mono = ctx.now_mono + timeout_ms;
        return ctx;
}

/* Runs `sql` on the named source through the SQL runner. */
static int run_sql(const struct config *c, const char *src, const char *sql,
                   struct sql_result *r, struct err *e)
{
        struct sql_conn *conn = sql_conn_new(config_source(c, src), 3000);
        struct sql_sink sink = sql_result_sink(r);
        struct coll_ctx ctx = ctx_for(3000);
        int rc;

        assert_non_null(conn);
        rc = sql_conn_run(conn, &ctx, sql, &sink, e);
        sql_conn_free(conn);
        return rc;
}

/* ---- tests -------------------------------------------------------------- */

static void test_sync_and_jwt(void **state)
{
        struct config *c = sf_config(NULL);
        const struct source_cfg *src = config_source(c, "sf");
        void *st = coll_snowflake_ops.create(src);
        struct coll_ctx ctx = ctx_for(3000);
        struct sf_data *d = NULL;
        struct err e;
        cJSON *reqs, *body, *req;
        char *tok1, *tampered;
        cJSON *json;
        char *js;

        (void)state;
        routes("POST /api/v2/statements 200 version.json");
        cJSON_Delete(new_requests());
        assert_int_equal(coll_snowflake_ops.poll(st, &ctx, (void **)&d, &e), COLL_OK);
        assert_string_equal(d->version, "8.21.1");
        assert_true(d->latency_ms >= 0 && d->latency_ms < 3000);
        json = cJSON_CreateObject();
        coll_snowflake_ops.to_json(d, json);
        js = cJSON_PrintUnformatted(json);
        assert_memory_equal(js, "{\"version\":\"8.21.1\",\"latency_ms\":", 33);
        cJSON_free(js);
        cJSON_Delete(json);
        coll_snowflake_ops.data_free(d);

        reqs = new_requests();
        assert_int_equal(cJSON_GetArraySize(reqs), 1);
        req = cJSON_GetArrayItem(reqs, 0);
        assert_string_equal(req_str(req, "method"), "POST");
        assert_string_equal(req_str(req, "path"), "/api/v2/statements");
        assert_string_equal(req_hdr(req, "content-type"), "application/json");
        assert_string_equal(req_hdr(req, "accept"), "application/json");
        assert_non_null(strstr(req_hdr(req, "user-agent"), "lambdaops/"));
        tok1 = xstrdup(check_jwt(req));
        body = cJSON_Parse(req_str(req, "body"));
        assert_string_equal(cJSON_GetObjectItem(body, "statement")->valuestring,
                            "SELECT CURRENT_VERSION()");
        assert_string_equal(cJSON_GetObjectItem(body, "warehouse")->valuestring, "WH_XS");
        assert_string_equal(cJSON_GetObjectItem(body, "database")->valuestring, "MARTS");
        assert_string_equal(cJSON_GetObjectItem(body, "schema")->valuestring, "PUBLIC");
        assert_string_equal(cJSON_GetObjectItem(body, "role")->valuestring, "SRE_RO");
        assert_true(cJSON_GetObjectItem(body, "timeout")->valuedouble >= 1 &&
                    cJSON_GetObjectItem(body, "timeout")->valuedouble <= 3);
        cJSON_Delete(body);
        cJSON_Delete(reqs);

        /* The verifier really verifies: one changed claim breaks it. */
        tampered = xstrdup(tok1);
        {
                char *p = strchr(tampered, '.') + 5;

                *p = *p == 'A' ? 'B' : 'A';
        }
        assert_null(jwt_verify(tampered));
        free(tampered);

        /* A second poll reuses the cached token. */
        ctx = ctx_for(3000);
        assert_int_equal(coll_snowflake_ops.poll(st, &ctx, (void **)&d, &e), COLL_OK);
        coll_snowflake_ops.data_free(d);
        reqs = new_requests();
        assert_string_equal(check_jwt(cJSON_GetArrayItem(reqs, 0)), tok1);
        cJSON_Delete(reqs);
        free(tok1);
        coll_snowflake_ops.destroy(st);
        config_free(c);
}

/* result_p0.json + result_p1.json: hourly buckets 4h30m .. 30m before the
 * fixture anchor ({{now-4h30m|s}} tokens). */
static void check_five_rows(const struct sql_result *r)
{
        int64_t first = (tu_fixture_now() - 4 * 3600 - 1800) * 1000;

        assert_int_equal(r->nrows, 5);
        assert_int_equal(r->ncols, 3);
        assert_int_equal(r->cols[0].type, SQL_T_TIME);
        assert_int_equal(r->cols[1].type, SQL_T_INT);
        assert_int_equal(r->cols[2].type, SQL_T_NUM);
        for (size_t i = 0; i < 5; i++) {
                assert_int_equal(sql_result_cell(r, i, 0)->i, first + (int64_t)i * 3600000);
                assert_int_equal(sql_result_cell(r, i, 1)->i, 10 * (int64_t)(i + 1));
        }
        assert_string_equal(sql_result_cell(r, 1, 2)->text, "200.50");
        assert_true(sql_result_cell(r, 3, 2)->null);
}

static void test_async_poll_partitions(void **state)
{
        struct config *c = sf_config(NULL);
        struct sql_result r = { 0 };
        struct err e;
        cJSON *reqs;
        const char *tok;

        (void)state;
        routes("POST /api/v2/statements 202 accepted_202.json\n"
               "GET /api/v2/statements/" HANDLE " 202 accepted_202.json 2\n"
               "GET /api/v2/statements/" HANDLE " 200 result_p0.json\n"
               "GET /api/v2/statements/" HANDLE "?partition=1 200 result_p1.json\n");
        cJSON_Delete(new_requests());
        if (run_sql(c, "sf", "SELECT bucket, n, amount FROM marts.orders_hourly", &r, &e) != 0)
                fail_msg("%s", e.msg);
        check_five_rows(&r);
        sql_result_done(&r);

        reqs = new_requests();
        assert_int_equal(cJSON_GetArraySize(reqs), 5);
        assert_string_equal(req_str(cJSON_GetArrayItem(reqs, 0), "method"), "POST");
        tok = check_jwt(cJSON_GetArrayItem(reqs, 0));
        for (int i = 1; i <= 3; i++) {
                cJSON *q = cJSON_GetArrayItem(reqs, i);

                assert_string_equal(req_str(q, "method"), "GET");
                assert_string_equal(req_str(q, "path"), "/api/v2/statements/" HANDLE);
                assert_string_equal(req_str(q, "query"), "");
                assert_string_equal(check_jwt(q), tok);
        }
        assert_string_equal(req_str(cJSON_GetArrayItem(reqs, 4), "query"), "partition=1");
        check_jwt(cJSON_GetArrayItem(reqs, 4));
        cJSON_Delete(reqs);
        config_free(c);
}

static void test_sync_two_partitions(void **state)
{
        struct config *c = sf_config(NULL);
        struct sql_result r = { 0 };
        struct err e;
        cJSON *reqs;

        (void)state;
        routes("POST /api/v2/statements 200 result_p0.json\n"
               "GET /api/v2/statements/" HANDLE "?partition=1 200 result_p1.json\n");
        cJSON_Delete(new_requests());
        if (run_sql(c, "sf", "SELECT 1", &r, &e) != 0)
                fail_msg("%s", e.msg);
        check_five_rows(&r);
        sql_result_done(&r);
        reqs = new_requests();
        assert_int_equal(cJSON_GetArraySize(reqs), 2);
        cJSON_Delete(reqs);

        /* A partition the server lost is an error, not a short result. */
        routes("POST /api/v2/statements 200 result_p0.json\n");
        assert_int_equal(run_sql(c, "sf", "SELECT 1", &r, &e), -1);
        assert_string_equal(e.msg, "Snowflake answered HTTP 404 Not Found");
        sql_result_done(&r);
        cJSON_Delete(new_requests());
        config_free(c);
}

static void test_errors(void **state)
{
        struct config *c = sf_config(NULL);
        struct sql_result r = { 0 };
        struct err e;
        char want[256];
        int64_t t0;

        (void)state;
        routes("POST /api/v2/statements 422 error_422.json\n");
        assert_int_equal(run_sql(c, "sf", "SELECT * FROM nope", &r, &e), -1);
        assert_string_equal(e.msg, "Snowflake error 002003 (sqlState 02000) (HTTP 422): SQL "
                            "compilation error: Object 'MARTS.PUBLIC.NOPE' does not exist or not "
                            "authorized.");
        sql_result_done(&r);

        routes("POST /api/v2/statements 401 error_401.json\n");
        assert_int_equal(run_sql(c, "sf", "SELECT 1", &r, &e), -1);
        snprintf(want, sizeof want, "Snowflake rejected the token (HTTP 401, code 390144: JWT "
                 "token is invalid.): check account and user, and that the user's "
                 "RSA_PUBLIC_KEY_FP is %s", F->fp);
        assert_string_equal(e.msg, want);
        sql_result_done(&r);

        /* Still running at the deadline: an error within the timeout. */
        routes("POST /api/v2/statements 202 accepted_202.json\n"
               "GET /api/v2/statements/" HANDLE " 202 accepted_202.json\n");
        t0 = clock_mono_ms();
        assert_int_equal(run_sql(c, "sf", "SELECT SYSTEM$WAIT(600)", &r, &e), -1);
        assert_true(clock_mono_ms() - t0 <= 3000 + 500);
        assert_string_equal(e.msg, "Snowflake statement " HANDLE " still running after 3000 ms "
                            "(timed out; raise timeout or speed the query up)");
        sql_result_done(&r);
        cJSON_Delete(new_requests());
        config_free(c);
}

static void test_keys_and_oauth(void **state)
{
        struct config *c = sf_config(NULL);
        struct sql_result r = { 0 };
        struct err e;
        cJSON *reqs;
        char path[512];

        (void)state;
        routes("POST /api/v2/statements 200 version.json\n");
        cJSON_Delete(new_requests());

        /* Encrypted PKCS#8 with the passphrase from the environment; the
         * user is upper-cased in the claims. */
        setenv("LO_TEST_SF_PASS", "lambdaops-test", 1);
        assert_int_equal(run_sql(c, "sf-enc", "SELECT CURRENT_VERSION()", &r, &e), 0);
        sql_result_done(&r);
        reqs = new_requests();
        check_jwt(cJSON_GetArrayItem(reqs, 0));
        cJSON_Delete(reqs);

        setenv("LO_TEST_SF_PASS", "wrong", 1);
        snprintf(path, sizeof path, "%s", tu_src_path("tests/fixtures/snowflake/rsa_key_enc.p8"));
        assert_int_equal(run_sql(c, "sf-enc", "SELECT 1", &r, &e), -1);
        assert_non_null(strstr(e.msg, ": wrong passphrase, or not a PEM private key"));
        assert_non_null(strstr(e.msg, path));
        unsetenv("LO_TEST_SF_PASS");
        assert_int_equal(run_sql(c, "sf-enc", "SELECT 1", &r, &e), -1);
        assert_string_equal(e.msg, "cannot read the key passphrase: environment variable "
                            "LO_TEST_SF_PASS is not set");
        assert_int_equal(run_sql(c, "sf-nopass", "SELECT 1", &r, &e), -1);
        assert_non_null(strstr(e.msg, "or encrypted (set private_key_passphrase_env or _file)"));
        assert_int_equal(run_sql(c, "sf-ec", "SELECT 1", &r, &e), -1);
        assert_non_null(strstr(e.msg, "is not an RSA key"));
        reqs = new_requests();
        assert_int_equal(cJSON_GetArraySize(reqs), 0);  /* nothing was sent */
        cJSON_Delete(reqs);

        /* OAuth (this source's url has a path prefix). */
        routes("POST /oauth/api/v2/statements 200 version.json\n");
        setenv("LO_TEST_SF_TOKEN", "oauth-tok-123", 1);
        assert_int_equal(run_sql(c, "sf-oauth", "SELECT 1", &r, &e), 0);
        sql_result_done(&r);
        reqs = new_requests();
        assert_string_equal(req_hdr(cJSON_GetArrayItem(reqs, 0), "authorization"),
                            "Bearer oauth-tok-123");
        assert_string_equal(req_hdr(cJSON_GetArrayItem(reqs, 0),
                                    "x-snowflake-authorization-token-type"), "OAUTH");
        cJSON_Delete(reqs);
        routes("POST /oauth/api/v2/statements 401 error_401.json\n");
        assert_int_equal(run_sql(c, "sf-oauth", "SELECT 1", &r, &e), -1);
        assert_string_equal(e.msg, "Snowflake rejected the token (HTTP 401, code 390144: JWT "
                            "token is invalid.): check account and user and the OAuth token");
        assert_null(strstr(e.msg, "oauth-tok-123"));
        unsetenv("LO_TEST_SF_TOKEN");
        cJSON_Delete(new_requests());
        config_free(c);
}

static void test_config_checks(void **state)
{
        static const struct { const char *yaml, *msg; } cases[] = {
                { "sources:\n  - {name: s, kind: snowflake, account: a, user: u}\n",
                  "t.yaml:2:5: source \"s\": set private_key_file (key-pair JWT) or "
                  "token_env/token_file (OAuth)" },
                { "sources:\n  - {name: s, kind: snowflake, account: a, user: u, "
                  "private_key_file: k, token_env: T}\n",
                  "t.yaml:2:5: source \"s\": private_key_file and token_env/token_file are "
                  "exclusive: use one way to authenticate" },
                { "sources:\n  - {name: s, kind: snowflake, account: a, user: u, "
                  "token_env: T, private_key_passphrase_env: P}\n",
                  "t.yaml:2:5: source \"s\": a private_key_passphrase needs private_key_file" },
                { "sources:\n  - {name: s, kind: snowflake, account: \"a b\", user: u, "
                  "token_env: T}\n",
                  "t.yaml:2:5: source \"s\": account \"a b\" is not an account identifier "
                  "(letters, digits, '.', '_' and '-')" },
                { "sources:\n  - {name: s, kind: snowflake, account: a, user: u, "
                  "token_env: T, url: \"ftp://x\"}\n",
                  "t.yaml:2:5: source \"s\": url must start with https:// (or http:// for a "
                  "local test server)" },
                { "sources:\n  - {name: s, kind: snowflake, account: a, user: u, "
                  "token_env: T, token_file: f}\n",
                  "t.yaml:2:67: token_env and token_file are exclusive" },
        };

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(cases); i++) {
                struct err e;
                struct config *c = config_load_string(cases[i].yaml, strlen(cases[i].yaml),
                                                      "t.yaml", &e);

                if (c)
                        fail_msg("case %zu loaded", i);
                assert_string_equal(e.msg, cases[i].msg);
        }
}

/* A reconcile check with Snowflake on both sides, through the collector:
 * every bucket of the two-partition result matches itself. With settle
 * 1h the newest bucket (30 min before the anchor) is in flight and the
 * four others (1h30m and older) are judged. */
static void test_reconcile_over_snowflake(void **state)
{
        struct config *c = sf_config("  - name: chk\n    kind: reconcile\n    timeout: 5s\n"
                                     "    speed: {source: sf, query: \"SELECT 1\"}\n"
                                     "    batch: {source: sf-oauth, query: \"SELECT 2\"}\n"
                                     "    key: [bucket]\n    measures: [n, amount]\n"
                                     "  - name: chk-settle\n    kind: reconcile\n"
                                     "    timeout: 5s\n    settle: 1h\n"
                                     "    speed: {source: sf, query: \"SELECT 1\"}\n"
                                     "    batch: {source: sf-oauth, query: \"SELECT 2\"}\n"
                                     "    key: [bucket]\n    measures: [n, amount]\n");
        const struct source_cfg *src = config_source(c, "chk");
        const struct source_cfg *src2 = config_source(c, "chk-settle");
        void *st = coll_reconcile_ops.create(src), *st2;
        struct coll_ctx ctx = ctx_for(5000);
        struct reconcile_data *d = NULL;
        struct err e;
        int64_t t0, t1;

        (void)state;
        setenv("LO_TEST_SF_TOKEN", "oauth-tok-123", 1);
        routes("POST /api/v2/statements 200 result_p0.json\n"
               "GET /api/v2/statements/" HANDLE "?partition=1 200 result_p1.json\n"
               "POST /oauth/api/v2/statements 200 result_p0.json\n"
               "GET /oauth/api/v2/statements/" HANDLE "?partition=1 200 result_p1.json\n");
        assert_int_equal(coll_reconcile_ops.poll(st, &ctx, (void **)&d, &e), COLL_OK);
        assert_int_equal(d->compared, 5);
        assert_int_equal(d->matched, 5);
        assert_int_equal(d->in_flight, 0);
        assert_int_equal(d->rows[REC_SPEED], 5);
        assert_int_equal(d->rows[REC_BATCH], 5);
        coll_reconcile_ops.data_free(d);

        st2 = coll_reconcile_ops.create(src2);
        ctx = ctx_for(5000);
        t0 = clock_wall_ms();
        assert_int_equal(coll_reconcile_ops.poll(st2, &ctx, (void **)&d, &e), COLL_OK);
        t1 = clock_wall_ms();
        assert_in_range(d->now_ms, t0, t1);
        assert_int_equal(d->settle_ms, 3600000);
        assert_int_equal(d->compared, 4);
        assert_int_equal(d->matched, 4);
        assert_int_equal(d->in_flight, 1);
        assert_int_equal(d->missing_in_speed + d->missing_in_batch + d->mismatched, 0);
        coll_reconcile_ops.data_free(d);
        coll_reconcile_ops.destroy(st2);

        /* The batch side's token is rejected: that check fails, saying so. */
        routes("POST /api/v2/statements 200 result_p0.json\n"
               "GET /api/v2/statements/" HANDLE "?partition=1 200 result_p1.json\n"
               "POST /oauth/api/v2/statements 401 error_401.json\n");
        ctx = ctx_for(5000);
        assert_int_equal(coll_reconcile_ops.poll(st, &ctx, (void **)&d, &e), COLL_DOWN);
        assert_null(d);
        assert_string_equal(e.msg, "batch query on sf-oauth: Snowflake rejected the token (HTTP "
                            "401, code 390144: JWT token is invalid.): check account and user "
                            "and the OAuth token");
        unsetenv("LO_TEST_SF_TOKEN");
        coll_reconcile_ops.destroy(st);
        cJSON_Delete(new_requests());
        config_free(c);
}

static int setup(void **state)
{
        char *fp;

        (void)state;
        F = xcalloc(1, sizeof *F);
        F->start_s = clock_wall_ms() / 1000;
        if (tu_httpd_start(&F->srv, "{\"routes\": []}", false) != 0)
                return -1;
        if (pipe(F->stop) != 0)
                return -1;
        fp = tu_read_file(tu_src_path("tests/fixtures/snowflake/rsa_key.fp"), NULL);
        if (!fp)
                return -1;
        fp[strcspn(fp, "\n")] = '\0';
        str_copy(F->fp, fp, sizeof F->fp);
        free(fp);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        tu_httpd_stop(&F->srv);
        close(F->stop[0]);
        close(F->stop[1]);
        free(F);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sync_and_jwt),
                cmocka_unit_test(test_async_poll_partitions),
                cmocka_unit_test(test_sync_two_partitions),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_keys_and_oauth),
                cmocka_unit_test(test_config_checks),
                cmocka_unit_test(test_reconcile_over_snowflake),
        };
        int rc;

        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = cmocka_run_group_tests(tests, setup, teardown);
        curl_global_cleanup();
        return rc;
}
