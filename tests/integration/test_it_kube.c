/*
 * test_it_kube: src/clients/kube/kube.c against the fake API server (tests/lib/fake_kube.py
 * via tests/lib/tu_kube.h): https with a client certificate and a wrong CA,
 * bearer token, tokenFile re-read, exec credential plugins (cached until
 * expirationTimestamp, re-run after it and after a 401, failing, hanging,
 * missing, wrong apiVersion; KUBERNETES_EXEC_INFO), Status messages, HTML
 * answers, paged lists (limit=2: exact items and pages), a 410 on a
 * continue token, informers applying ADDED/MODIFIED/DELETED/BOOKMARK,
 * ERROR 410 -> re-list, dropped streams and clean stream ends -> re-watch
 * from the last resourceVersion, and quit interrupting a sync.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "clients/kube/kube.h"
#include "tu.h"
#include "tu_kube.h"
#include "core/util.h"

static struct coll_ctx ctx_ms(int64_t ms)
{
        int64_t now = clock_mono_ms();

        return (struct coll_ctx){ .stop_fd = -1, .now_mono = now, .deadline_mono = now + ms,
                                  .timeout_ms = ms };
}

static const char *base_dirs[2];

static void start(struct tu_kube *k, unsigned flags, const char *const *extra)
{
        base_dirs[0] = xstrdup(tu_src_path("tests/fixtures/kube/base"));
        base_dirs[1] = NULL;
        if (tu_kube_start_args(k, base_dirs, flags, extra) != 0)
                fail_msg("fake kube-apiserver did not start");
        free((char *)base_dirs[0]);
}

static struct kube_config *load(const char *path, const char *context, int64_t exec_ms)
{
        struct kube_opts o = { .kubeconfig = path, .context = context,
                               .exec_timeout_ms = exec_ms };
        struct err e;
        struct kube_config *kc;

        err_clear(&e);
        kc = kube_config_load(&o, &e);
        if (!kc)
                fail_msg("kubeconfig %s: %s", path, e.msg);
        return kc;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
        FILE *f = fopen(path, "w");

        if (!f)
                fail_msg("cannot write %s", path);
        fputs(text, f);
        fclose(f);
        chmod(path, mode);
}

static int items_of(cJSON *doc)
{
        return cJSON_GetArraySize(cJSON_GetObjectItem(doc, "items"));
}

static void *name_make(const cJSON *obj, void *user)
{
        (void)obj;
        (void)user;
        return xstrdup("m");
}

static const struct kube_model_ops name_ops = { .make = name_make, .free = free };

/* Ignores node-3 (make returns NULL): the informer must not cache it. */
static void *skip3_make(const cJSON *obj, void *user)
{
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(obj,
                                                                 "metadata"), "name"));

        (void)user;
        return n && strcmp(n, "node-3") == 0 ? NULL : xstrdup(n ? n : "");
}

static const struct kube_model_ops skip3_ops = { .make = skip3_make, .free = free };

/* --- transport and credentials ---------------------------------------------- */

static void test_tls_client_cert(void **state)
{
        struct tu_kube k;
        struct kube_config *kc;
        struct kube_client *c;
        struct coll_ctx ctx = ctx_ms(10000);
        struct err e;
        cJSON *doc;
        char *log, path[400], yaml[4096];

        (void)state;
        start(&k, TU_KUBE_TLS, NULL);
        kc = load(k.kubeconfig_cert, NULL, 0);
        assert_string_equal(kc->namespace_, "ingestion");
        c = kube_client_new(kc, &e);
        assert_non_null(c);
        doc = kube_get_json(c, &ctx, "/api/v1/namespaces/ingestion/pods", &e);
        if (!doc)
                fail_msg("%s", e.msg);
        assert_int_equal(items_of(doc), 5);
        cJSON_Delete(doc);
        log = tu_kube_requests(&k);
        assert_non_null(strstr(log, "\"auth\": \"cert\", \"cn\": \"lo-tester\""));
        free(log);
        /* A 404 carries the Status message. */
        err_clear(&e);
        assert_null(kube_get_json(c, &ctx, "/api/v1/namespaces/ingestion/pods/nope", &e));
        assert_string_equal(e.msg, "GET /api/v1/namespaces/ingestion/pods/nope: 404 Not "
                            "Found: pods \"nope\" not found");
        kube_client_free(c);
        kube_config_free(kc);

        /* Without the client certificate: 401 with the Status message. */
        kc = load(k.kubeconfig_noauth, NULL, 0);
        c = kube_client_new(kc, &e);
        err_clear(&e);
        assert_null(kube_get_json(c, &ctx, "/api/v1/nodes?limit=1", &e));
        assert_int_equal(e.code, 401);
        assert_non_null(strstr(e.msg, "GET /api/v1/nodes: 401 Unauthorized"));
        kube_client_free(c);
        kube_config_free(kc);

        /* Another CA: the handshake error names where the CA came from. */
        snprintf(path, sizeof path, "%s/kubeconfig-wrong-ca", k.dir);
        snprintf(yaml, sizeof yaml,
                 "current-context: w\n"
                 "clusters: [{name: w, cluster: {server: '%s', certificate-authority: '%s'}}]\n"
                 "users: [{name: u, user: {client-certificate: '%s', client-key: '%s'}}]\n"
                 "contexts: [{name: w, context: {cluster: w, user: u}}]\n", k.base_url,
                 tu_src_path("tests/fixtures/kube/config/pki/ca.crt"), k.client_cert,
                 k.client_key);
        write_file(path, yaml, 0600);
        kc = load(path, NULL, 0);
        c = kube_client_new(kc, &e);
        err_clear(&e);
        assert_null(kube_get_json(c, &ctx, "/api/v1/nodes", &e));
        assert_non_null(strstr(e.msg, "TLS verification failed"));
        snprintf(yaml, sizeof yaml, "[certificate-authority %s; client-certificate %s]",
                 tu_src_path("tests/fixtures/kube/config/pki/ca.crt"), k.client_cert);
        if (!strstr(e.msg, yaml))
                fail_msg("no TLS hint in: %s", e.msg);
        kube_client_free(c);
        kube_config_free(kc);

        /* tls-server-name: connect to 127.0.0.1, verify "localhost" (in the
         * server certificate), for requests and for watches. */
        snprintf(path, sizeof path, "%s/kubeconfig-sni", k.dir);
        snprintf(yaml, sizeof yaml,
                 "current-context: s\n"
                 "users: [{name: u, user: {client-certificate: '%s', client-key: '%s'}}]\n"
                 "contexts: [{name: s, context: {cluster: s, user: u}}, "
                 "{name: bad, context: {cluster: b, user: u}}]\n"
                 "clusters: [{name: s, cluster: {server: '%s', certificate-authority: '%s', "
                 "tls-server-name: localhost}}, {name: b, cluster: {server: '%s', "
                 "certificate-authority: '%s', tls-server-name: wrong.example}}]\n",
                 k.client_cert, k.client_key, k.base_url, k.ca_pem, k.base_url, k.ca_pem);
        write_file(path, yaml, 0600);
        kc = load(path, NULL, 0);
        assert_string_equal(kc->tls_server_name, "localhost");
        c = kube_client_new(kc, &e);
        doc = kube_get_json(c, &ctx, "/api/v1/nodes", &e);
        if (!doc)
                fail_msg("%s", e.msg);
        assert_int_equal(items_of(doc), 3);
        cJSON_Delete(doc);
        {
                struct kube_informer *inf = kube_informer_new(c, "/api/v1/nodes", NULL, true,
                                                              &name_ops, NULL);
                struct kube_informer_stats st;

                err_clear(&e);
                if (kube_informer_sync(inf, &ctx, &e) != 0)
                        fail_msg("%s", e.msg);
                kube_informer_stats(inf, &st);
                assert_int_equal(kube_informer_count(inf), 3);
                assert_true(st.watching);
                kube_informer_free(inf);
        }
        kube_client_free(c);
        kube_config_free(kc);
        kc = load(path, "bad", 0);
        c = kube_client_new(kc, &e);
        err_clear(&e);
        assert_null(kube_get_json(c, &ctx, "/api/v1/nodes", &e));
        if (!strstr(e.msg, "https://wrong.example:") || !strstr(e.msg, "TLS verification failed"))
                fail_msg("unexpected: %s", e.msg);
        kube_client_free(c);
        kube_config_free(kc);
        tu_kube_stop(&k);
}

static void test_token_and_token_file(void **state)
{
        struct tu_kube k;
        struct kube_config *kc;
        struct kube_client *c;
        struct coll_ctx ctx = ctx_ms(10000);
        struct http_response r;
        struct err e;
        cJSON *doc;
        char path[400], tok[400], yaml[1024], *log;

        (void)state;
        start(&k, TU_KUBE_TOKEN, NULL);
        kc = load(k.kubeconfig_token, NULL, 0);
        c = kube_client_new(kc, &e);
        doc = kube_get_json(c, &ctx, "/api/v1/nodes", &e);
        if (!doc)
                fail_msg("%s", e.msg);
        assert_int_equal(items_of(doc), 3);
        cJSON_Delete(doc);
        log = tu_kube_requests(&k);
        assert_non_null(strstr(log, "\"auth\": \"bearer\""));
        assert_null(strstr(log, k.token));
        free(log);
        kube_client_free(c);
        kube_config_free(kc);

        /* tokenFile: re-read when the file changes. */
        snprintf(tok, sizeof tok, "%s/token", k.dir);
        snprintf(path, sizeof path, "%s/kubeconfig-tf", k.dir);
        snprintf(yaml, sizeof yaml,
                 "current-context: f\n"
                 "clusters: [{name: f, cluster: {server: '%s'}}]\n"
                 "users: [{name: u, user: {tokenFile: token}}]\n"
                 "contexts: [{name: f, context: {cluster: f, user: u}}]\n", k.base_url);
        write_file(path, yaml, 0600);
        snprintf(yaml, sizeof yaml, "%s\n", k.token);
        write_file(tok, yaml, 0600);
        kc = load(path, NULL, 0);
        assert_string_equal(kc->token_file, tok);
        c = kube_client_new(kc, &e);
        assert_int_equal(kube_request(c, &ctx, "GET", "/api/v1/nodes", NULL, NULL, &r, &e), 0);
        assert_int_equal(r.status, 200);
        http_response_done(&r);
        write_file(tok, "rotated-but-wrong-token-of-other-length\n", 0600);
        assert_int_equal(kube_request(c, &ctx, "GET", "/api/v1/nodes", NULL, NULL, &r, &e), 0);
        assert_int_equal(r.status, 401);
        http_response_done(&r);
        write_file(tok, yaml, 0600);
        assert_int_equal(kube_request(c, &ctx, "GET", "/api/v1/nodes", NULL, NULL, &r, &e), 0);
        assert_int_equal(r.status, 200);
        http_response_done(&r);
        unlink(tok);
        err_clear(&e);
        assert_int_equal(kube_request(c, &ctx, "GET", "/api/v1/nodes", NULL, NULL, &r, &e), -1);
        snprintf(yaml, sizeof yaml, "tokenFile %s: cannot read: No such file or directory", tok);
        assert_string_equal(e.msg, yaml);
        kube_client_free(c);
        kube_config_free(kc);
        tu_kube_stop(&k);
}

/* --- exec plugins ------------------------------------------------------------------ */

/* Writes a plugin that counts its runs in DIR/count, saves its
 * KUBERNETES_EXEC_INFO and prints DIR/answer (or runs `body`), and a
 * kubeconfig for it; returns the kubeconfig path (static). */
static const char *exec_setup(struct tu_kube *k, const char *body)
{
        static char kpath[400];
        char script[400], yaml[2048], text[1024];

        snprintf(script, sizeof script, "%s/plugin.sh", k->dir);
        unlink(script);
        if (!body || strcmp(body, "@missing") != 0) {
        snprintf(text, sizeof text,
                 "#!/bin/sh\n"
                 "echo run >> \"$PLUGIN_DIR/count\"\n"
                 "printf '%%s' \"$KUBERNETES_EXEC_INFO\" > \"$PLUGIN_DIR/info\"\n"
                 "%s\n", body ? body : "cat \"$PLUGIN_DIR/answer\"");
        write_file(script, text, 0700);
        }
        snprintf(kpath, sizeof kpath, "%s/kubeconfig-exec", k->dir);
        snprintf(yaml, sizeof yaml,
                 "current-context: e\n"
                 "clusters: [{name: e, cluster: {server: '%s'}}]\n"
                 "users:\n"
                 "- name: u\n"
                 "  user:\n"
                 "    exec:\n"
                 "      apiVersion: client.authentication.k8s.io/v1\n"
                 "      command: ./plugin.sh\n"
                 "      args: [get-token]\n"
                 "      env: [{name: PLUGIN_DIR, value: '%s'}]\n"
                 "      provideClusterInfo: true\n"
                 "      interactiveMode: Never\n"
                 "      installHint: see the runbook\n"
                 "contexts: [{name: e, context: {cluster: e, user: u}}]\n", k->base_url, k->dir);
        write_file(kpath, yaml, 0600);
        snprintf(text, sizeof text, "%s/count", k->dir);
        unlink(text);
        return kpath;
}

static void exec_answer(struct tu_kube *k, const char *token, const char *expiry)
{
        char path[400], text[512];

        snprintf(path, sizeof path, "%s/answer", k->dir);
        snprintf(text, sizeof text,
                 "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
                 "\"status\":{\"token\":\"%s\"%s%s%s}}\n", token,
                 expiry ? ",\"expirationTimestamp\":\"" : "", expiry ? expiry : "",
                 expiry ? "\"" : "");
        write_file(path, text, 0600);
}

static int exec_runs(struct tu_kube *k)
{
        char path[400], *s;
        int n = 0;

        snprintf(path, sizeof path, "%s/count", k->dir);
        s = tu_read_file(path, NULL);
        for (char *p = s; p && (p = strstr(p, "run")); p += 3)
                n++;
        free(s);
        return n;
}

static long get_status(struct kube_client *c)
{
        struct coll_ctx ctx = ctx_ms(10000);
        struct http_response r;
        struct err e;
        long st;

        err_clear(&e);
        if (kube_request(c, &ctx, "GET", "/api/v1/nodes", NULL, NULL, &r, &e) != 0)
                fail_msg("%s", e.msg);
        st = r.status;
        http_response_done(&r);
        return st;
}

static void test_exec_plugin(void **state)
{
        struct tu_kube k;
        struct kube_config *kc;
        struct kube_client *c;
        struct err e;
        const char *kpath;
        char path[400], *info, *t;
        cJSON *ji;

        (void)state;
        start(&k, TU_KUBE_TOKEN, NULL);
        kpath = exec_setup(&k, NULL);
        kc = load(kpath, NULL, 5000);

        /* Cached until expirationTimestamp (a day ahead). */
        t = tu_fixture_expand("{{now+1d}}", tu_fixture_now());
        exec_answer(&k, k.token, t);
        free(t);
        c = kube_client_new(kc, &e);
        for (int i = 0; i < 4; i++)
                assert_int_equal(get_status(c), 200);
        assert_int_equal(exec_runs(&k), 1);
        /* What the plugin was told. */
        snprintf(path, sizeof path, "%s/info", k.dir);
        info = tu_read_file(path, NULL);
        ji = cJSON_Parse(info);
        assert_non_null(ji);
        assert_string_equal(cJSON_GetObjectItem(ji, "apiVersion")->valuestring,
                            "client.authentication.k8s.io/v1");
        assert_string_equal(cJSON_GetObjectItem(ji, "kind")->valuestring, "ExecCredential");
        assert_true(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(ji, "spec"),
                                                      "interactive")));
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(ji,
                            "spec"), "cluster"), "server")->valuestring, k.base_url);
        cJSON_Delete(ji);
        free(info);
        kube_client_free(c);

        /* Expired (a day ago): run again for every request. */
        exec_setup(&k, NULL);
        t = tu_fixture_expand("{{now-1d}}", tu_fixture_now());
        exec_answer(&k, k.token, t);
        free(t);
        c = kube_client_new(kc, &e);
        for (int i = 0; i < 3; i++)
                assert_int_equal(get_status(c), 200);
        assert_int_equal(exec_runs(&k), 3);
        kube_client_free(c);

        /* No expiry: cached until a 401, then run once more. */
        exec_setup(&k, NULL);
        exec_answer(&k, k.token, NULL);
        c = kube_client_new(kc, &e);
        assert_int_equal(get_status(c), 200);
        assert_int_equal(get_status(c), 200);
        assert_int_equal(exec_runs(&k), 1);
        exec_answer(&k, "revoked-token", NULL);
        kube_client_free(c);
        c = kube_client_new(kc, &e);
        assert_int_equal(get_status(c), 401);  /* ran, 401, ran again, 401 */
        assert_int_equal(exec_runs(&k), 3);
        kube_client_free(c);
        kube_config_free(kc);
        tu_kube_stop(&k);
}

/* The plugin answers with a client certificate (plain PEM), expiring at
 * once: each request runs it again and swaps the certificate in. */
static void test_exec_client_cert(void **state)
{
        struct tu_kube k;
        struct kube_config *kc;
        struct kube_client *c;
        struct kube_informer *inf;
        struct coll_ctx ctx = ctx_ms(10000);
        struct err e;
        char script[400], kpath[400], text[2048], *log, *past;
        int n = 0;

        (void)state;
        start(&k, TU_KUBE_TLS, NULL);
        past = tu_fixture_expand("{{now-1d}}", tu_fixture_now());      /* expired */
        snprintf(script, sizeof script, "%s/plugin.sh", k.dir);
        snprintf(text, sizeof text,
                 "#!/bin/sh\n"
                 "echo run >> \"$PLUGIN_DIR/count\"\n"
                 "pem() { awk '{printf \"%%s\\\\n\", $0}' \"$1\"; }\n"
                 "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",'\n"
                 "printf '\"kind\":\"ExecCredential\",\"status\":{'\n"
                 "printf '\"expirationTimestamp\":\"%s\",'\n"
                 "printf '\"clientCertificateData\":\"%%s\",' \"$(pem '%s')\"\n"
                 "printf '\"clientKeyData\":\"%%s\"}}' \"$(pem '%s')\"\n",
                 past, k.client_cert, k.client_key);
        free(past);
        write_file(script, text, 0700);
        snprintf(kpath, sizeof kpath, "%s/kubeconfig-exec-cert", k.dir);
        snprintf(text, sizeof text,
                 "current-context: e\n"
                 "clusters: [{name: e, cluster: {server: '%s', certificate-authority: '%s'}}]\n"
                 "users: [{name: u, user: {exec: {command: '%s', apiVersion: "
                 "client.authentication.k8s.io/v1beta1, env: [{name: PLUGIN_DIR, value: '%s'}]}}}]\n"
                 "contexts: [{name: e, context: {cluster: e, user: u}}]\n",
                 k.base_url, k.ca_pem, script, k.dir);
        write_file(kpath, text, 0600);
        kc = load(kpath, NULL, 5000);
        c = kube_client_new(kc, &e);
        for (int i = 0; i < 3; i++)
                assert_int_equal(get_status(c), 200);
        assert_int_equal(exec_runs(&k), 3);
        /* A watch gets the plugin's certificate too. */
        inf = kube_informer_new(c, "/api/v1/nodes", NULL, true, &name_ops, NULL);
        err_clear(&e);
        if (kube_informer_sync(inf, &ctx, &e) != 0)
                fail_msg("%s", e.msg);
        assert_int_equal(kube_informer_count(inf), 3);
        kube_informer_free(inf);
        log = tu_kube_requests(&k);
        for (char *p = log; (p = strstr(p, "\"auth\": \"cert\", \"cn\": \"lo-tester\"")); p++)
                n++;
        assert_int_equal(n, 5);        /* 3 GETs, the list and the watch */
        assert_null(strstr(log, "\"auth\": \"none\""));
        free(log);
        kube_client_free(c);
        kube_config_free(kc);
        tu_kube_stop(&k);
}

static void exec_fails(struct tu_kube *k, const char *body, int64_t exec_ms,
                       const char *want_tail)
{
        struct kube_config *kc;
        struct kube_client *c;
        struct coll_ctx ctx = ctx_ms(20000);
        struct http_response r;
        struct err e;
        char want[512], cmd[400];
        const char *kpath = exec_setup(k, body);

        kc = load(kpath, NULL, exec_ms);
        snprintf(cmd, sizeof cmd, "%s/./plugin.sh", k->dir);
        snprintf(want, sizeof want, "exec plugin %s%s", cmd, want_tail);
        c = kube_client_new(kc, &e);
        err_clear(&e);
        assert_int_equal(kube_request(c, &ctx, "GET", "/api/v1/nodes", NULL, NULL, &r, &e), -1);
        assert_string_equal(e.msg, want);
        /* Nothing was sent. */
        assert_int_equal(tu_kube_count(k, "GET", "/api/v1/nodes"), 0);
        kube_client_free(c);
        kube_config_free(kc);
}

static void test_exec_plugin_failures(void **state)
{
        struct tu_kube k;

        (void)state;
        start(&k, TU_KUBE_TOKEN, NULL);
        exec_fails(&k, "echo 'error: SSO session expired, run aws sso login' >&2; exit 1", 5000,
                   " failed (exit 1): error: SSO session expired, run aws sso "
                   "login");
        /* Hangs: killed at exec_timeout_ms, well before the poll's 20 s. */
        exec_fails(&k, "echo waiting for browser >&2; exec sleep 60", 300,
                   ": no answer within 300 ms (killed): waiting for browser");
        exec_fails(&k, "echo 'Please open https://sso.example/device'", 5000,
                   ": output is not an ExecCredential (not a JSON object)");
        exec_fails(&k, "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
                   "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"x\"}}'", 5000,
                   ": apiVersion \"client.authentication.k8s.io/v1beta1\" does "
                   "not match the kubeconfig's \"client.authentication.k8s.io/v1\"");
        /* A command that does not exist. */
        exec_fails(&k, "@missing", 5000,
                   ": cannot run: No such file or directory (see the runbook)");
        tu_kube_stop(&k);
}

/* --- lists ------------------------------------------------------------------------ */

struct collect {
        int items, restarts;
        struct tu_kube *k;
        bool expire_after_first;
        char names[16][64];
};

static int collect_item(const cJSON *item, void *user)
{
        struct collect *col = user;
        const char *n;

        if (!item) {
                col->restarts++;
                col->items = 0;
                return 0;
        }
        n = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(item, "metadata"),
                                                     "name"));
        if (col->items < 16)
                snprintf(col->names[col->items], 64, "%s", n ? n : "?");
        col->items++;
        if (col->expire_after_first && col->items == 1 && col->restarts == 0)
                assert_int_equal(tu_kube_post(col->k, "/_fake/expire", NULL), 0);
        return 0;
}

static void test_list_pages(void **state)
{
        struct tu_kube k;
        struct kube_config *kc;
        struct kube_client *c;
        struct coll_ctx ctx = ctx_ms(10000);
        struct collect col = { 0 };
        struct err e;
        char *rv = NULL, *q;

        (void)state;
        start(&k, 0, NULL);
        kc = load(k.kubeconfig_noauth, NULL, 0);
        c = kube_client_new(kc, &e);
        col.k = &k;
        assert_int_equal(kube_list(c, &ctx, "/api/v1/pods", NULL, 2, collect_item, &col, &rv,
                                   &e), 0);
        assert_int_equal(col.items, 5);
        assert_int_equal(col.restarts, 0);
        assert_int_equal(tu_kube_count(&k, "GET", "/api/v1/pods"), 3);
        assert_non_null(rv);
        free(rv);

        /* A label selector, escaped. */
        memset(&col, 0, sizeof col);
        q = kube_escape("app=kafka");
        {
                char query[128];
                snprintf(query, sizeof query, "labelSelector=%s", q);
                assert_int_equal(kube_list(c, &ctx, "/api/v1/namespaces/ingestion/pods", query,
                                           2, collect_item, &col, NULL, &e), 0);
        }
        free(q);
        assert_int_equal(col.items, 3);
        assert_string_equal(col.names[0], "kafka-0");
        assert_string_equal(col.names[2], "kafka-2");

        /* The continue token expires after the first page: one restart. */
        memset(&col, 0, sizeof col);
        col.k = &k;
        col.expire_after_first = true;
        assert_int_equal(kube_list(c, &ctx, "/api/v1/pods", NULL, 2, collect_item, &col, &rv,
                                   &e), 0);
        assert_int_equal(col.restarts, 1);
        assert_int_equal(col.items, 5);
        free(rv);

        /* Forbidden and HTML answers. */
        assert_int_equal(tu_kube_post(&k, "/_fake/forbid", "{\"resources\":[\"nodes\"]}"), 0);
        err_clear(&e);
        assert_int_equal(kube_list(c, &ctx, "/api/v1/nodes", NULL, 0, collect_item, &col, &rv,
                                   &e), -1);
        assert_null(rv);
        assert_int_equal(e.code, 403);
        assert_non_null(strstr(e.msg, "GET /api/v1/nodes: 403 Forbidden: nodes is forbidden"));
        assert_int_equal(tu_kube_post(&k, "/_fake/html", "{\"enabled\":true}"), 0);
        {
                char want[300];

                err_clear(&e);
                assert_null(kube_get_json(c, &ctx, "/api/v1/namespaces", &e));
                snprintf(want, sizeof want, "GET /api/v1/namespaces: not JSON (an HTML page? "
                         "check server: %s)", k.base_url);
                assert_string_equal(e.msg, want);
        }
        kube_client_free(c);
        kube_config_free(kc);
        tu_kube_stop(&k);
}

/* --- informers ----------------------------------------------------------------------- */

struct pod_model {
        char phase[32];
        int  restarts;
};

static void *pod_make(const cJSON *obj, void *user)
{
        struct pod_model *m = xcalloc(1, sizeof *m);
        const char *ph = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(obj,
                                                                  "status"), "phase"));

        (void)user;
        snprintf(m->phase, sizeof m->phase, "%s", ph ? ph : "");
        return m;
}

static const struct kube_model_ops pod_ops = { .make = pod_make, .free = free };

static struct pod_model *find(struct kube_informer *inf, const char *key)
{
        for (size_t i = 0; i < kube_informer_count(inf); i++) {
                const char *k;
                void *m = kube_informer_at(inf, i, &k);

                if (strcmp(k, key) == 0)
                        return m;
        }
        return NULL;
}

typedef bool (*cond_fn)(struct kube_informer *inf, void *arg);

/* Syncs until cond holds (10 s deadline; each sync takes what is ready). */
static void sync_until(struct kube_informer *inf, cond_fn cond, void *arg, const char *what)
{
        int64_t end = clock_mono_ms() + 10000;
        struct err e;

        for (;;) {
                struct coll_ctx ctx = ctx_ms(5000);

                err_clear(&e);
                kube_informer_sync(inf, &ctx, &e);
                if (cond(inf, arg))
                        return;
                if (clock_mono_ms() > end)
                        fail_msg("timed out waiting for %s (last error: %s)", what, e.msg);
                usleep(20 * 1000);
        }
}

static bool has_count(struct kube_informer *inf, void *arg)
{
        return kube_informer_count(inf) == (size_t)(intptr_t)arg;
}

static bool phase_is(struct kube_informer *inf, void *arg)
{
        struct pod_model *m = find(inf, "ingestion/kafka-0");

        return m && strcmp(m->phase, arg) == 0;
}

static bool rv_is(struct kube_informer *inf, void *arg)
{
        struct kube_informer_stats st;

        kube_informer_stats(inf, &st);
        return st.resource_version && strcmp(st.resource_version, arg) == 0;
}

static bool expired_once(struct kube_informer *inf, void *arg)
{
        struct kube_informer_stats st;

        (void)arg;
        kube_informer_stats(inf, &st);
        return st.expired == 1 && st.watching;
}

static bool rewatched(struct kube_informer *inf, void *arg)
{
        struct kube_informer_stats st;

        (void)arg;
        kube_informer_stats(inf, &st);
        return st.rewatches >= 1;
}

static char *server_rv(struct tu_kube *k)
{
        char *s = tu_kube_get(k, "/_fake/state");
        cJSON *j = cJSON_Parse(s);
        char *rv = xstrdup(cJSON_GetStringValue(cJSON_GetObjectItem(j, "resourceVersion")));

        cJSON_Delete(j);
        free(s);
        return rv;
}

static const char pod_new[] =
        "[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"aaa-new\","
        "\"namespace\":\"ingestion\"},\"status\":{\"phase\":\"Pending\"}}]";

static void test_informer_watch(void **state)
{
        struct tu_kube k;
        struct kube_config *kc;
        struct kube_client *c;
        struct kube_informer *inf;
        struct kube_informer_stats st;
        struct coll_ctx ctx = ctx_ms(10000);
        const char *const extra[] = { "--bookmark-interval", "0", NULL };
        struct err e;
        const char *key;
        char *rv;

        (void)state;
        start(&k, TU_KUBE_TLS, extra);
        kc = load(k.kubeconfig_cert, NULL, 0);
        c = kube_client_new(kc, &e);
        inf = kube_informer_new(c, "/api/v1/namespaces/ingestion/pods", NULL, true, &pod_ops,
                                NULL);
        err_clear(&e);
        if (kube_informer_sync(inf, &ctx, &e) != 0)
                fail_msg("%s", e.msg);
        assert_int_equal(kube_informer_count(inf), 5);
        kube_informer_at(inf, 0, &key);
        assert_string_equal(key, "ingestion/connect-7d9f5c6b8-abcde");
        kube_informer_at(inf, 4, &key);
        assert_string_equal(key, "ingestion/kafka-2");
        kube_informer_stats(inf, &st);
        assert_int_equal(st.lists, 1);
        assert_int_equal(st.pages, 1);
        assert_true(st.watching);

        /* ADDED, in key order. */
        assert_int_equal(tu_kube_post(&k, "/_fake/objects", pod_new), 0);
        sync_until(inf, has_count, (void *)(intptr_t)6, "ADDED");
        kube_informer_at(inf, 0, &key);
        assert_string_equal(key, "ingestion/aaa-new");
        /* MODIFIED. */
        assert_int_equal(tu_kube_post(&k, "/_fake/objects",
                "[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"kafka-0\","
                "\"namespace\":\"ingestion\"},\"status\":{\"phase\":\"Failed\"}}]"), 0);
        sync_until(inf, phase_is, "Failed", "MODIFIED");
        /* DELETED. */
        assert_int_equal(tu_kube_post(&k, "/_fake/delete",
                "[{\"kind\":\"Pod\",\"namespace\":\"ingestion\",\"name\":\"aaa-new\"}]"), 0);
        sync_until(inf, has_count, (void *)(intptr_t)5, "DELETED");
        assert_null(find(inf, "ingestion/aaa-new"));
        /* A change elsewhere moves the server's RV; a BOOKMARK brings it. */
        assert_int_equal(tu_kube_post(&k, "/_fake/objects",
                "[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\","
                "\"namespace\":\"processing\"},\"status\":{\"phase\":\"Running\"}}]"), 0);
        rv = server_rv(&k);
        assert_int_equal(tu_kube_post(&k, "/_fake/bookmark", NULL), 0);
        sync_until(inf, rv_is, rv, "BOOKMARK");
        free(rv);
        kube_informer_stats(inf, &st);
        assert_int_equal(st.events, 3);
        assert_int_equal(st.lists, 1);
        assert_int_equal(st.expired, 0);
        assert_int_equal(kube_informer_count(inf), 5);

        /* ERROR 410 in the stream: re-list, watch again. */
        assert_int_equal(tu_kube_post(&k, "/_fake/expire", NULL), 0);
        sync_until(inf, expired_once, NULL, "410 re-list");
        kube_informer_stats(inf, &st);
        assert_int_equal(st.lists, 2);
        assert_int_equal(kube_informer_count(inf), 5);
        assert_string_equal(find(inf, "ingestion/kafka-0")->phase, "Failed");

        /* A dropped stream resumes from the last RV without a list. */
        assert_int_equal(tu_kube_post(&k, "/_fake/drop", NULL), 0);
        assert_int_equal(tu_kube_post(&k, "/_fake/objects", pod_new), 0);
        sync_until(inf, has_count, (void *)(intptr_t)6, "ADDED after a drop");
        kube_informer_stats(inf, &st);
        assert_int_equal(st.lists, 2);
        assert_true(st.watching);

        kube_informer_free(inf);
        kube_client_free(c);
        kube_config_free(kc);
        tu_kube_stop(&k);
}

static void test_informer_rewatch_and_relist(void **state)
{
        struct tu_kube k;
        struct kube_config *kc;
        struct kube_client *c;
        struct kube_informer *inf, *nw;
        struct kube_informer_stats st;
        struct coll_ctx ctx = ctx_ms(10000);
        struct err e;

        (void)state;
        start(&k, 0, NULL);
        kc = load(k.kubeconfig_noauth, NULL, 0);
        c = kube_client_new(kc, &e);
        /* The server ends each stream after 1 s: resume from the RV. */
        inf = kube_informer_new(c, "/api/v1/nodes", NULL, true, &pod_ops, NULL);
        kube_informer_set_watch_timeout(inf, 1);
        assert_int_equal(kube_informer_sync(inf, &ctx, &e), 0);
        assert_int_equal(kube_informer_count(inf), 3);
        sync_until(inf, rewatched, NULL, "a clean end of the stream");
        kube_informer_stats(inf, &st);
        assert_int_equal(st.lists, 1);
        assert_int_equal(kube_informer_count(inf), 3);

        /* Objects the model maker declines are not cached. */
        {
                struct kube_informer *sk = kube_informer_new(c, "/api/v1/nodes", NULL, true,
                                                             &skip3_ops, NULL);
                const char *key;

                ctx = ctx_ms(10000);
                assert_int_equal(kube_informer_sync(sk, &ctx, &e), 0);
                assert_int_equal(kube_informer_count(sk), 2);
                assert_string_equal(kube_informer_at(sk, 1, &key), "node-2");
                assert_string_equal(key, "node-2");
                kube_informer_free(sk);
        }

        /* Without watch every sync lists. */
        nw = kube_informer_new(c, "/api/v1/nodes", NULL, false, &pod_ops, NULL);
        for (int i = 0; i < 3; i++) {
                ctx = ctx_ms(10000);
                assert_int_equal(kube_informer_sync(nw, &ctx, &e), 0);
        }
        kube_informer_stats(nw, &st);
        assert_int_equal(st.lists, 3);
        assert_false(st.watching);
        assert_int_equal(kube_informer_count(nw), 3);

        /* A failing list keeps the last good cache. */
        assert_int_equal(tu_kube_post(&k, "/_fake/forbid", "{\"resources\":[\"nodes\"]}"), 0);
        ctx = ctx_ms(10000);
        err_clear(&e);
        assert_int_equal(kube_informer_sync(nw, &ctx, &e), -1);
        assert_non_null(strstr(e.msg, "403 Forbidden"));
        assert_int_equal(kube_informer_count(nw), 3);
        kube_informer_free(nw);

        /* The server goes away: the watch drops, the re-watch and the
         * re-list fail; the cache stays. */
        tu_kube_stop(&k);
        {
                int64_t end = clock_mono_ms() + 10000;
                int rc = 0;

                while (rc == 0 && clock_mono_ms() < end) {
                        ctx = ctx_ms(3000);
                        err_clear(&e);
                        rc = kube_informer_sync(inf, &ctx, &e);
                }
                assert_int_equal(rc, -1);
                assert_non_null(strstr(e.msg, "connection refused"));
        }
        assert_int_equal(kube_informer_count(inf), 3);
        kube_informer_free(inf);
        kube_client_free(c);
        kube_config_free(kc);
}

/* --- quit ---------------------------------------------------------------------------- */

struct stopper {
        int fd;
        struct tu_kube *k;
};

static void *stop_when_plugin_runs(void *arg)
{
        struct stopper *s = arg;
        int64_t end = clock_mono_ms() + 10000;

        while (exec_runs(s->k) == 0 && clock_mono_ms() < end)
                usleep(10 * 1000);
        if (write(s->fd, "q", 1) != 1)
                return NULL;
        return NULL;
}

static void test_quit(void **state)
{
        struct tu_kube k;
        struct kube_config *kc;
        struct kube_client *c;
        struct kube_informer *inf;
        struct coll_ctx ctx;
        struct stopper s;
        struct err e;
        pthread_t t;
        int p[2];

        (void)state;
        start(&k, TU_KUBE_TOKEN, NULL);
        /* Quit already requested: nothing is sent. */
        assert_int_equal(pipe(p), 0);
        assert_int_equal(write(p[1], "q", 1), 1);
        kc = load(k.kubeconfig_token, NULL, 0);
        c = kube_client_new(kc, &e);
        inf = kube_informer_new(c, "/api/v1/pods", NULL, true, &pod_ops, NULL);
        ctx = ctx_ms(10000);
        ctx.stop_fd = p[0];
        err_clear(&e);
        assert_int_equal(kube_informer_sync(inf, &ctx, &e), -1);
        assert_string_equal(e.msg, "stopping");
        assert_int_equal(tu_kube_count(&k, "GET", "/api/v1/pods"), 0);
        kube_informer_free(inf);
        kube_client_free(c);
        kube_config_free(kc);
        close(p[0]);
        close(p[1]);

        /* Quit while an exec plugin hangs (its timeout is 20 s). */
        assert_int_equal(pipe(p), 0);
        kc = load(exec_setup(&k, "exec sleep 60"), NULL, 20000);
        c = kube_client_new(kc, &e);
        inf = kube_informer_new(c, "/api/v1/pods", NULL, true, &pod_ops, NULL);
        s.fd = p[1];
        s.k = &k;
        assert_int_equal(pthread_create(&t, NULL, stop_when_plugin_runs, &s), 0);
        ctx = ctx_ms(30000);
        ctx.stop_fd = p[0];
        err_clear(&e);
        assert_int_equal(kube_informer_sync(inf, &ctx, &e), -1);
        pthread_join(t, NULL);
        assert_string_equal(e.msg, "stopping");
        kube_informer_free(inf);
        kube_client_free(c);
        kube_config_free(kc);
        close(p[0]);
        close(p[1]);
        tu_kube_stop(&k);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tls_client_cert),
                cmocka_unit_test(test_token_and_token_file),
                cmocka_unit_test(test_exec_plugin),
                cmocka_unit_test(test_exec_client_cert),
                cmocka_unit_test(test_exec_plugin_failures),
                cmocka_unit_test(test_list_pages),
                cmocka_unit_test(test_informer_watch),
                cmocka_unit_test(test_informer_rewatch_and_relist),
                cmocka_unit_test(test_quit),
        };

        curl_global_init(CURL_GLOBAL_DEFAULT);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
