/*
 * kube: requests, paged lists and list+watch informers against one
 * Kubernetes API server (see kube.h; kubeconfig parsing is in
 * kube_config.c).
 *
 * Requests go through src/http.h. A watch needs a connection that lives
 * across polls and is read without blocking, so each informer keeps its
 * own libcurl multi handle with one easy handle: a sync runs
 * curl_multi_perform/curl_multi_poll (with the quit fd as an extra fd)
 * only while data is ready, and the write callback cuts the stream into
 * newline-delimited JSON events and applies them to the cache at once.
 * The cache is a sorted array of { "namespace/name", model }: lookups are
 * binary searches, and only the caller's compact models are kept.
 */
#include "clients/kube/kube.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>
#include <openssl/evp.h>

#include "core/subproc.h"

#define KUBE_PAGE_DEFAULT       500
#define KUBE_WATCH_SECONDS      300
#define KUBE_LINE_MAX           ((size_t)16 << 20)      /* one watch event */
#define KUBE_ERRBODY_MAX        65536
#define KUBE_EXEC_OUT_MAX       ((size_t)1 << 20)
#define KUBE_EXEC_MARGIN_MS     10000   /* refresh an exec credential this early */
#define KUBE_WATCH_SETTLE_MS    500     /* wait for a new watch's headers */

struct kube_client {
        const struct kube_config *kc;   /* borrowed */
        struct http_client *http;
        struct http_tls tls;            /* kc's, with an exec certificate if any */
        char   *base;                   /* URL prefix for requests */
        char   *connect_to;             /* with tls-server-name, or NULL */
        /* exec plugin credential, cached until its expiry */
        struct kube_exec_cred cred;
        bool    have_cred;
        int64_t cred_at_ms;             /* wall clock when obtained */
        /* tokenFile, re-read when the file changes */
        char   *file_token;
        dev_t   tf_dev;
        ino_t   tf_ino;
        off_t   tf_size;
        struct timespec tf_mtime;
};

static void kube_wipe_free(char *s)
{
        if (s) {
                memset(s, 0, strlen(s));
                free(s);
        }
}

/* Request routing. With tls-server-name, requests are addressed to
 * NAME:PORT (so TLS sends and verifies NAME) and libcurl connects to the
 * server's real host:port (CURLOPT_CONNECT_TO). */
static void kube_route(struct kube_client *c)
{
        const char *srv = c->kc->server, *sni = c->kc->tls_server_name;
        const char *h = strstr(srv, "://"), *hend, *rest;
        long port;

        if (!sni || !h) {
                c->base = xstrdup(srv);
                return;
        }
        h += 3;
        if (*h == '[') {
                hend = strchr(h, ']');
                hend = hend ? hend + 1 : h + strlen(h);
        } else {
                hend = h + strcspn(h, ":/");
        }
        if (*hend == ':') {
                char *end;

                port = strtol(hend + 1, &end, 10);
                rest = end;
        } else {
                port = strncmp(srv, "https://", 8) == 0 ? 443 : 80;
                rest = hend;
        }
        c->base = xasprintf("%.*s%s:%ld%s", (int)(h - srv), srv, sni, port, rest);
        c->connect_to = xasprintf("%s:%ld:%.*s:%ld", sni, port, (int)(hend - h), h, port);
}

struct kube_client *kube_client_new(const struct kube_config *kc, struct err *err)
{
        struct kube_client *c;

        if (!kc) {
                err_set(err, EINVAL, "kube: no configuration");
                return NULL;
        }
        c = xcalloc(1, sizeof *c);
        c->kc = kc;
        c->tls = kc->tls;
        c->cred.expiry_ms = -1;
        kube_route(c);
        c->tls.connect_to = c->connect_to;
        c->http = http_client_new(&c->tls);
        if (!c->http) {
                err_set(err, ENOMEM, "kube: cannot create a libcurl handle");
                free(c->base);
                free(c->connect_to);
                free(c);
                return NULL;
        }
        return c;
}

void kube_client_free(struct kube_client *c)
{
        if (!c)
                return;
        http_client_free(c->http);
        kube_exec_cred_done(&c->cred);
        kube_wipe_free(c->file_token);
        free(c->base);
        free(c->connect_to);
        free(c);
}

const struct kube_config *kube_client_config(const struct kube_client *c)
{
        return c ? c->kc : NULL;
}

/* --- credentials -------------------------------------------------------------- */

static char *kube_b64(const char *s)
{
        size_t n = strlen(s);
        char *out = xmalloc(4 * ((n + 2) / 3) + 1);

        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
        return out;
}

/* The KUBERNETES_EXEC_INFO value (owned). */
static char *kube_exec_info(const struct kube_config *kc)
{
        cJSON *o = cJSON_CreateObject(), *spec, *cl;
        char *s, *v;

        cJSON_AddStringToObject(o, "apiVersion", kc->exec_api_version);
        cJSON_AddStringToObject(o, "kind", "ExecCredential");
        spec = cJSON_AddObjectToObject(o, "spec");
        cJSON_AddBoolToObject(spec, "interactive", false);
        if (kc->exec_provide_cluster_info) {
                cl = cJSON_AddObjectToObject(spec, "cluster");
                cJSON_AddStringToObject(cl, "server", kc->server);
                if (kc->tls_server_name)
                        cJSON_AddStringToObject(cl, "tls-server-name", kc->tls_server_name);
                if (kc->tls.insecure)
                        cJSON_AddBoolToObject(cl, "insecure-skip-tls-verify", true);
                if (kc->tls.ca_pem) {
                        char *b = kube_b64(kc->tls.ca_pem);
                        cJSON_AddStringToObject(cl, "certificate-authority-data", b);
                        free(b);
                }
        }
        s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        v = xasprintf("KUBERNETES_EXEC_INFO=%s", s);
        cJSON_free(s);
        return v;
}

/* First line of s, at most 120 characters, into buf. */
static void kube_first_line(const char *s, char *buf, size_t n)
{
        size_t k = 0;

        while (s && (*s == '\n' || *s == '\r' || *s == ' '))
                s++;
        while (s && s[k] && s[k] != '\n' && s[k] != '\r' && k + 1 < n && k < 120)
                k++;
        if (s)
                memcpy(buf, s, k);
        buf[k] = '\0';
}

static int kube_exec_run(struct kube_client *c, const struct coll_ctx *ctx, struct err *err)
{
        const struct kube_config *kc = c->kc;
        struct subproc_result r;
        struct kube_exec_cred cred;
        struct err e = { 0 };
        int64_t left = ctx->deadline_mono - clock_mono_ms(), tmo = kc->exec_timeout_ms;
        char **env;
        size_t n = 0;
        char line[128];
        bool had_cert;
        int rc;

        if (left <= 0) {
                err_set(err, ETIMEDOUT, "exec plugin %s: no time left in this poll",
                        kc->exec_command);
                return -1;
        }
        if (tmo <= 0)
                tmo = 10000;
        if (tmo > left)
                tmo = left;
        while (kc->exec_env && kc->exec_env[n])
                n++;
        env = xcalloc(n + 2, sizeof *env);
        memcpy(env, kc->exec_env, n * sizeof *env);
        env[n] = kube_exec_info(kc);
        rc = subproc_run_env(kc->exec_args, env, true, KUBE_EXEC_OUT_MAX, tmo, ctx->stop_fd,
                             &r, &e);
        free(env[n]);
        free(env);
        if (rc != 0) {
                err_set(err, e.code ? e.code : EINVAL, "exec plugin %s: cannot run: %s%s%.100s%s",
                        kc->exec_command, e.code ? strerror(e.code) : e.msg,
                        kc->exec_install_hint ? " (" : "",
                        kc->exec_install_hint ? kc->exec_install_hint : "",
                        kc->exec_install_hint ? ")" : "");
                subproc_result_done(&r);
                return -1;
        }
        if (r.timed_out) {
                kube_first_line(r.err_out, line, sizeof line);
                err_set(err, ETIMEDOUT, "exec plugin %s: no answer within %lld ms (killed)%s%s",
                        kc->exec_command, (long long)tmo, line[0] ? ": " : "", line);
                subproc_result_done(&r);
                return -1;
        }
        if (coll_stopping(ctx)) {
                err_set(err, ECANCELED, "stopping");
                subproc_result_done(&r);
                return -1;
        }
        if (r.exit_code != 0) {
                kube_first_line(r.err_out, line, sizeof line);
                err_set(err, EINVAL, "exec plugin %s failed (exit %d)%s%s", kc->exec_command,
                        r.exit_code, line[0] ? ": " : "", line);
                subproc_result_done(&r);
                return -1;
        }
        rc = kube_exec_cred_parse(r.out, r.len, kc->exec_command, kc->exec_api_version,
                                  &cred, err);
        memset(r.out, 0, r.len);
        subproc_result_done(&r);
        if (rc)
                return -1;
        had_cert = c->cred.cert_pem != NULL;
        kube_exec_cred_done(&c->cred);
        c->cred = cred;
        c->have_cred = true;
        c->cred_at_ms = clock_wall_ms();
        /* A client certificate from the plugin replaces the kubeconfig's.
         * The http client borrows the PEM strings, and the old ones were
         * just freed: give it the new ones whenever either had one. */
        if (had_cert || c->cred.cert_pem) {
                struct http_client *h;

                c->tls.cert_pem = c->cred.cert_pem ? c->cred.cert_pem : kc->tls.cert_pem;
                c->tls.key_pem = c->cred.cert_pem ? c->cred.key_pem : kc->tls.key_pem;
                h = http_client_new(&c->tls);
                if (!h) {
                        err_set(err, ENOMEM, "kube: cannot create a libcurl handle");
                        c->have_cred = false;
                        return -1;
                }
                http_client_free(c->http);
                c->http = h;
        }
        return 0;
}

static bool kube_cred_fresh(const struct kube_client *c)
{
        int64_t life, margin;

        if (!c->have_cred)
                return false;
        if (c->cred.expiry_ms < 0)
                return true;    /* no expiry: good until a 401 */
        life = c->cred.expiry_ms - c->cred_at_ms;
        margin = life / 4 < KUBE_EXEC_MARGIN_MS ? life / 4 : KUBE_EXEC_MARGIN_MS;
        if (margin < 0)
                margin = 0;
        return clock_wall_ms() + margin < c->cred.expiry_ms;
}

static int kube_token_file(struct kube_client *c, struct err *err)
{
        const char *path = c->kc->token_file;
        struct stat st;
        FILE *f;
        char buf[16384];
        size_t n;

        if (stat(path, &st) != 0) {
                err_set(err, errno, "tokenFile %s: cannot read: %s", path, strerror(errno));
                return -1;
        }
        if (c->file_token && st.st_dev == c->tf_dev && st.st_ino == c->tf_ino &&
            st.st_size == c->tf_size && st.st_mtim.tv_sec == c->tf_mtime.tv_sec &&
            st.st_mtim.tv_nsec == c->tf_mtime.tv_nsec)
                return 0;
        f = fopen(path, "r");
        if (!f) {
                err_set(err, errno, "tokenFile %s: cannot read: %s", path, strerror(errno));
                return -1;
        }
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
                         buf[n - 1] == '\t'))
                buf[--n] = '\0';
        if (n == 0 || strpbrk(buf, "\r\n")) {
                err_set(err, EINVAL, "tokenFile %s: %s", path,
                        n == 0 ? "empty" : "holds more than one line");
                memset(buf, 0, sizeof buf);
                return -1;
        }
        kube_wipe_free(c->file_token);
        c->file_token = xstrdup(buf);
        memset(buf, 0, sizeof buf);
        c->tf_dev = st.st_dev;
        c->tf_ino = st.st_ino;
        c->tf_size = st.st_size;
        c->tf_mtime = st.st_mtim;
        return 0;
}

/* The bearer token to send now (borrowed), or NULL; -1 on failure. */
static int kube_bearer(struct kube_client *c, const struct coll_ctx *ctx, const char **out,
                       struct err *err)
{
        const struct kube_config *kc = c->kc;

        *out = NULL;
        if (kc->token) {
                *out = kc->token;
        } else if (kc->token_file) {
                if (kube_token_file(c, err))
                        return -1;
                *out = c->file_token;
        } else if (kc->exec_command) {
                if (!kube_cred_fresh(c) && kube_exec_run(c, ctx, err))
                        return -1;
                *out = c->cred.token;
        }
        return 0;
}

/* --- requests ------------------------------------------------------------------ */

/* Appends where the TLS material came from to a handshake error. */
static void kube_tls_hint(const struct kube_config *kc, struct err *err)
{
        char hint[200], *advice;

        if (!err || strncmp(kc->server, "https://", 8) != 0 ||
            (!kc->ca_source && !kc->cert_source))
                return;
        if (!strstr(err->msg, "TLS") && !strstr(err->msg, "SSL") &&
            !strstr(err->msg, "certificate"))
                return;
        /* http.c's advice is about lambdaops' own ca_file key; here the
         * kubeconfig decides, and the hint says which part. */
        advice = strstr(err->msg, ": set ca_file, or insecure");
        if (advice)
                *advice = '\0';
        snprintf(hint, sizeof hint, " [%s%s%s]", kc->ca_source ? kc->ca_source : "",
                 kc->ca_source && kc->cert_source ? "; " : "",
                 kc->cert_source ? kc->cert_source : "");
        if (strlen(err->msg) + strlen(hint) < sizeof err->msg) {
                strcat(err->msg, hint);
        } else {
                /* Keep the hint: it names the file to check. */
                size_t keep = sizeof err->msg - 1 - strlen(hint);
                if (strlen(hint) < sizeof err->msg - 40) {
                        err->msg[keep] = '\0';
                        strcat(err->msg, hint);
                }
        }
}

int kube_request(struct kube_client *c, const struct coll_ctx *ctx, const char *method,
                 const char *path, const char *body, const char *content_type,
                 struct http_response *resp, struct err *err)
{
        const struct kube_config *kc = c->kc;
        static const char *const hdrs[] = { "Accept: application/json", NULL };
        char *url = xasprintf("%s%s", c->base, path);
        int rc = -1;

        memset(resp, 0, sizeof *resp);
        for (int attempt = 0; attempt < 2; attempt++) {
                struct http_request rq = {
                        .method = method, .url = url, .body = body,
                        .content_type = content_type, .headers = hdrs,
                        .user = kc->username, .password = kc->password,
                };

                if (kube_bearer(c, ctx, &rq.bearer, err))
                        break;
                rc = http_do(c->http, ctx, &rq, resp, err);
                if (rc != 0) {
                        kube_tls_hint(kc, err);
                        break;
                }
                /* An exec token may have been revoked early: run the plugin
                 * again once. */
                if (resp->status == 401 && kc->exec_command && attempt == 0) {
                        http_response_done(resp);
                        c->have_cred = false;
                        rc = -1;
                        continue;
                }
                break;
        }
        free(url);
        return rc;
}

static bool kube_looks_html(const struct http_response *r)
{
        const char *b = r->body;

        if (r->content_type && strstr(r->content_type, "html"))
                return true;
        while (b && (*b == ' ' || *b == '\n' || *b == '\r' || *b == '\t'))
                b++;
        return b && *b == '<';
}

/* "GET /api/v1/nodes" without the query, for messages. */
static void kube_what(const char *method, const char *path, char *buf, size_t n)
{
        size_t pl = strcspn(path, "?");

        snprintf(buf, n, "%s %.*s", method, (int)(pl > 120 ? 120 : pl), path);
}

/* GET returning the document, and *status (0 on transport failure). A
 * non-2xx answer is an error with the Status message. */
static cJSON *kube_get(struct kube_client *c, const struct coll_ctx *ctx, const char *path,
                       long *status, struct err *err)
{
        struct http_response r;
        char what[160];
        cJSON *doc;

        *status = 0;
        kube_what("GET", path, what, sizeof what);
        /* Transport errors already name the URL. */
        if (kube_request(c, ctx, "GET", path, NULL, NULL, &r, err))
                return NULL;
        *status = r.status;
        doc = cJSON_ParseWithLength(r.body, r.len);
        if (r.status < 200 || r.status > 299) {
                const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc,
                                                                                   "message"));
                if (m && m[0])
                        err_set(err, (int)r.status, "%s: %ld %s: %s", what, r.status,
                                http_status_text(r.status), m);
                else if (kube_looks_html(&r))
                        err_set(err, (int)r.status, "%s: %ld %s (an HTML page? check server: "
                                "%s)", what, r.status, http_status_text(r.status),
                                c->kc->server);
                else
                        err_set(err, (int)r.status, "%s: %ld %s", what, r.status,
                                http_status_text(r.status));
                cJSON_Delete(doc);
                http_response_done(&r);
                return NULL;
        }
        if (!doc || !cJSON_IsObject(doc)) {
                if (kube_looks_html(&r))
                        err_set(err, EPROTO, "%s: not JSON (an HTML page? check server: %s)",
                                what, c->kc->server);
                else
                        err_set(err, EPROTO, "%s: not JSON (check server: %s)", what,
                                c->kc->server);
                cJSON_Delete(doc);
                http_response_done(&r);
                return NULL;
        }
        http_response_done(&r);
        return doc;
}

struct cJSON *kube_get_json(struct kube_client *c, const struct coll_ctx *ctx,
                            const char *path, struct err *err)
{
        long st;

        return kube_get(c, ctx, path, &st, err);
}

/* kube_list with a page counter. */
static int kube_list_pages(struct kube_client *c, const struct coll_ctx *ctx,
                           const char *path, const char *query, int limit, kube_item_fn fn,
                           void *user, char **rv, uint64_t *pages, struct err *err)
{
        char *cont = NULL;
        bool restarted = false;
        int ret = 0;

        *rv = NULL;
        if (limit <= 0)
                limit = KUBE_PAGE_DEFAULT;
        for (;;) {
                char *esc = cont ? kube_escape(cont) : NULL;
                char *p = xasprintf("%s?%s%slimit=%d%s%s", path, query && query[0] ? query : "",
                                    query && query[0] ? "&" : "", limit,
                                    esc ? "&continue=" : "", esc ? esc : "");
                long st;
                cJSON *doc = kube_get(c, ctx, p, &st, err), *items, *it;
                const char *v, *next;

                free(esc);
                free(p);
                if (!doc) {
                        if (st == 410 && cont && !restarted) {
                                /* The continue token expired: start over once. */
                                restarted = true;
                                err_clear(err);
                                free(cont);
                                cont = NULL;
                                free(*rv);
                                *rv = NULL;
                                if (fn)
                                        fn(NULL, user);
                                continue;
                        }
                        ret = -1;
                        break;
                }
                if (pages)
                        (*pages)++;
                items = cJSON_GetObjectItemCaseSensitive(doc, "items");
                if (items && !cJSON_IsArray(items) && !cJSON_IsNull(items)) {
                        err_set(err, EPROTO, "GET %s: items is not a list", path);
                        cJSON_Delete(doc);
                        ret = -1;
                        break;
                }
                cJSON_ArrayForEach(it, items) {
                        if (fn && (ret = fn(it, user)) != 0)
                                break;
                }
                if (ret != 0) {
                        cJSON_Delete(doc);
                        break;
                }
                v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "resourceVersion"));
                next = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "continue"));
                if (v) {
                        free(*rv);
                        *rv = xstrdup(v);
                }
                free(cont);
                cont = next && next[0] ? xstrdup(next) : NULL;
                cJSON_Delete(doc);
                if (!cont)
                        break;
        }
        free(cont);
        if (ret != 0) {
                free(*rv);
                *rv = NULL;
        }
        return ret;
}

int kube_list(struct kube_client *c, const struct coll_ctx *ctx, const char *path,
              const char *query, int limit, kube_item_fn fn, void *user,
              char **resource_version, struct err *err)
{
        char *rv = NULL;
        int rc = kube_list_pages(c, ctx, path, query, limit, fn, user, &rv, NULL, err);

        if (resource_version)
                *resource_version = rv;
        else
                free(rv);
        return rc;
}

/* --- pure helpers ------------------------------------------------------------ */

int kube_quantity(const char *s, double *out)
{
        static const struct { const char *suf; double mul; } sufs[] = {
                { "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 },
                { "Ti", 1099511627776.0 }, { "Pi", 1125899906842624.0 },
                { "Ei", 1152921504606846976.0 },
                { "n", 1e-9 }, { "u", 1e-6 }, { "m", 1e-3 }, { "", 1.0 },
                { "k", 1e3 }, { "M", 1e6 }, { "G", 1e9 }, { "T", 1e12 },
                { "P", 1e15 }, { "E", 1e18 },
        };
        const char *p = s, *num;
        char buf[64];
        size_t digits = 0, nl;
        double v;

        if (!s || !out)
                return -1;
        if (*p == '+' || *p == '-')
                p++;
        num = p;
        while (isdigit((unsigned char)*p)) {
                p++;
                digits++;
        }
        if (*p == '.') {
                p++;
                while (isdigit((unsigned char)*p)) {
                        p++;
                        digits++;
                }
        }
        if (digits == 0)
                return -1;
        nl = (size_t)(p - s);
        if (nl >= sizeof buf)
                return -1;
        memcpy(buf, s, nl);
        buf[nl] = '\0';
        (void)num;
        v = strtod(buf, NULL);
        /* Decimal exponent: e/E followed by an optional sign and digits up
         * to the end ("1e3"); a bare "E" is the exa suffix. */
        if ((*p == 'e' || *p == 'E') && p[1]) {
                const char *q = p + 1;
                char *end;
                long ex;

                if (*q == '+' || *q == '-')
                        q++;
                if (isdigit((unsigned char)*q)) {
                        errno = 0;
                        ex = strtol(p + 1, &end, 10);
                        if (*end || errno || ex > 308 || ex < -308)
                                return -1;
                        snprintf(buf, sizeof buf, "1e%ld", ex);
                        *out = v * strtod(buf, NULL);
                        return 0;
                }
        }
        for (size_t i = 0; i < LO_ARRAY_LEN(sufs); i++) {
                if (strcmp(p, sufs[i].suf) == 0) {
                        *out = v * sufs[i].mul;
                        return 0;
                }
        }
        return -1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t kube_days(int64_t y, int m, int d)
{
        int64_t era, yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static int kube_num(const char *s, int n)
{
        int v = 0;

        for (int i = 0; i < n; i++) {
                if (!isdigit((unsigned char)s[i]))
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

int64_t kube_time_ms(const char *s)
{
        static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int y, mo, d, h, mi, se, ms = 0;
        const char *p;
        int64_t t, off = 0;

        if (!s || strlen(s) < 20)
                return -1;
        y = kube_num(s, 4);
        mo = kube_num(s + 5, 2);
        d = kube_num(s + 8, 2);
        h = kube_num(s + 11, 2);
        mi = kube_num(s + 14, 2);
        se = kube_num(s + 17, 2);
        if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 || h > 23 ||
            mi < 0 || mi > 59 || se < 0 || se > 60 || s[4] != '-' || s[7] != '-' ||
            (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
                return -1;
        if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
                return -1;
        p = s + 19;
        if (*p == '.') {
                int scale = 100, nd = 0;

                p++;
                while (isdigit((unsigned char)*p)) {
                        ms += (*p - '0') * scale;
                        scale /= 10;
                        p++;
                        nd++;
                }
                if (nd == 0)
                        return -1;
        }
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                int oh = kube_num(p + 1, 2), om = p[3] == ':' ? kube_num(p + 4, 2) : -1;

                if (oh < 0 || oh > 23 || om < 0 || om > 59)
                        return -1;
                off = (int64_t)(oh * 60 + om) * 60000;
                if (*p == '+')
                        off = -off;
                p += 6;
        } else {
                return -1;
        }
        if (*p)
                return -1;
        t = ((kube_days(y, mo, d) * 24 + h) * 60 + mi) * 60 + se;
        t = t * 1000 + ms + off;
        return t < 0 ? -1 : t;
}

char *kube_escape(const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t n = s ? strlen(s) : 0, o = 0;
        char *out = xmalloc(n * 3 + 1);

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];

                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
                        out[o++] = (char)c;
                } else {
                        out[o++] = '%';
                        out[o++] = hex[c >> 4];
                        out[o++] = hex[c & 15];
                }
        }
        out[o] = '\0';
        return out;
}

/* --- informers ------------------------------------------------------------------- */

struct kinf_entry {
        char *key;
        void *model;
};

struct kinf_vec {
        struct kinf_entry *v;
        size_t n, cap;
};

enum kinf_wstate {
        KW_NONE,                /* nothing to report */
        KW_EXPIRED,             /* ERROR 410 or HTTP 410: re-list */
        KW_ERROR,               /* ERROR event, bad event, non-200 */
};

struct kube_informer {
        struct kube_client *c;
        char *path, *query;
        bool watch;
        int  watch_seconds;
        const struct kube_model_ops *ops;
        void *user;
        struct kinf_vec cache;
        char *rv;
        bool need_list;
        struct kube_informer_stats st;
        /* the watch stream */
        CURLM *multi;
        CURL  *easy;
        struct curl_slist *hdrs;
        struct curl_slist *connect_to;
        char  *auth_hdr;        /* secret: wiped on free */
        char   errbuf[CURL_ERROR_SIZE];
        char  *line;
        size_t line_len, line_cap;
        long   status;          /* HTTP status of the watch, 0 before headers */
        char  *errbody;
        size_t errlen;
        enum kinf_wstate wstate;
        struct err werr;
        const struct coll_ctx *ctx;     /* during a sync */
};

static void kinf_vec_clear(struct kube_informer *inf, struct kinf_vec *v)
{
        for (size_t i = 0; i < v->n; i++) {
                free(v->v[i].key);
                if (inf->ops->free)
                        inf->ops->free(v->v[i].model);
        }
        free(v->v);
        memset(v, 0, sizeof *v);
}

/* Index of key, or -(insertion point) - 1. */
static ssize_t kinf_find(const struct kinf_vec *v, const char *key)
{
        size_t lo = 0, hi = v->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(v->v[mid].key, key);

                if (c == 0)
                        return (ssize_t)mid;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -(ssize_t)lo - 1;
}

/* Stores model under key (both owned), replacing any older one. */
static void kinf_put(struct kube_informer *inf, char *key, void *model)
{
        struct kinf_vec *v = &inf->cache;
        ssize_t i = kinf_find(v, key);
        size_t at;

        if (i >= 0) {
                if (inf->ops->free)
                        inf->ops->free(v->v[i].model);
                v->v[i].model = model;
                free(key);
                return;
        }
        at = (size_t)(-i - 1);
        if (v->n == v->cap) {
                v->cap = v->cap ? v->cap * 2 : 64;
                v->v = xrealloc(v->v, v->cap * sizeof *v->v);
        }
        memmove(v->v + at + 1, v->v + at, (v->n - at) * sizeof *v->v);
        v->v[at] = (struct kinf_entry){ .key = key, .model = model };
        v->n++;
}

static void kinf_del(struct kube_informer *inf, const char *key)
{
        struct kinf_vec *v = &inf->cache;
        ssize_t i = kinf_find(v, key);

        if (i < 0)
                return;
        free(v->v[i].key);
        if (inf->ops->free)
                inf->ops->free(v->v[i].model);
        memmove(v->v + i, v->v + i + 1, (v->n - (size_t)i - 1) * sizeof *v->v);
        v->n--;
}

/* "namespace/name" or "name" (owned), NULL without a name. */
static char *kinf_key(const cJSON *obj)
{
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
        const char *ns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "namespace"));
        const char *nm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "name"));

        if (!nm || !nm[0])
                return NULL;
        return ns && ns[0] ? xasprintf("%s/%s", ns, nm) : xstrdup(nm);
}

static void kinf_set_rv(struct kube_informer *inf, const cJSON *obj)
{
        const char *rv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "resourceVersion"));

        if (rv && rv[0] && (!inf->rv || strcmp(inf->rv, rv) != 0)) {
                free(inf->rv);
                inf->rv = xstrdup(rv);
        }
}

struct kube_informer *kube_informer_new(struct kube_client *c, const char *path,
                                        const char *query, bool watch,
                                        const struct kube_model_ops *ops, void *user)
{
        struct kube_informer *inf;

        if (!c || !path || !ops || !ops->make)
                return NULL;
        inf = xcalloc(1, sizeof *inf);
        inf->c = c;
        inf->path = xstrdup(path);
        inf->query = query && query[0] ? xstrdup(query) : NULL;
        inf->watch = watch;
        inf->ops = ops;
        inf->user = user;
        inf->need_list = true;
        inf->watch_seconds = KUBE_WATCH_SECONDS;
        return inf;
}

void kube_informer_set_watch_timeout(struct kube_informer *inf, int seconds)
{
        if (inf && seconds > 0)
                inf->watch_seconds = seconds;
}

static void kinf_watch_stop(struct kube_informer *inf)
{
        if (inf->easy) {
                curl_multi_remove_handle(inf->multi, inf->easy);
                curl_easy_cleanup(inf->easy);
                inf->easy = NULL;
        }
        curl_slist_free_all(inf->hdrs);
        inf->hdrs = NULL;
        curl_slist_free_all(inf->connect_to);
        inf->connect_to = NULL;
        kube_wipe_free(inf->auth_hdr);
        inf->auth_hdr = NULL;
        free(inf->line);
        inf->line = NULL;
        inf->line_len = inf->line_cap = 0;
        free(inf->errbody);
        inf->errbody = NULL;
        inf->errlen = 0;
        inf->status = 0;
        inf->st.watching = false;
}

void kube_informer_free(struct kube_informer *inf)
{
        if (!inf)
                return;
        kinf_watch_stop(inf);
        if (inf->multi)
                curl_multi_cleanup(inf->multi);
        kinf_vec_clear(inf, &inf->cache);
        free(inf->rv);
        free(inf->path);
        free(inf->query);
        free(inf);
}

size_t kube_informer_count(const struct kube_informer *inf)
{
        return inf ? inf->cache.n : 0;
}

void *kube_informer_at(const struct kube_informer *inf, size_t i, const char **key)
{
        if (!inf || i >= inf->cache.n) {
                if (key)
                        *key = NULL;
                return NULL;
        }
        if (key)
                *key = inf->cache.v[i].key;
        return inf->cache.v[i].model;
}

void kube_informer_stats(const struct kube_informer *inf, struct kube_informer_stats *out)
{
        memset(out, 0, sizeof *out);
        if (!inf)
                return;
        *out = inf->st;
        out->watching = inf->easy != NULL;
        out->resource_version = inf->rv;
}

/* --- list -------------------------------------------------------------------------- */

struct kinf_listing {
        struct kube_informer *inf;
        struct kinf_vec fresh;
};

static int kinf_cmp(const void *a, const void *b)
{
        const struct kinf_entry *x = a, *y = b;

        return strcmp(x->key, y->key);
}

static int kinf_list_item(const cJSON *item, void *user)
{
        struct kinf_listing *l = user;
        struct kube_informer *inf = l->inf;
        char *key;
        void *m;

        if (!item) {            /* the list restarts */
                kinf_vec_clear(inf, &l->fresh);
                return 0;
        }
        key = kinf_key(item);
        if (!key)
                return 0;
        m = inf->ops->make(item, inf->user);
        if (!m) {
                free(key);
                return 0;
        }
        if (l->fresh.n == l->fresh.cap) {
                l->fresh.cap = l->fresh.cap ? l->fresh.cap * 2 : 64;
                l->fresh.v = xrealloc(l->fresh.v, l->fresh.cap * sizeof *l->fresh.v);
        }
        l->fresh.v[l->fresh.n++] = (struct kinf_entry){ .key = key, .model = m };
        return 0;
}

static int kinf_list(struct kube_informer *inf, const struct coll_ctx *ctx, struct err *err)
{
        struct kinf_listing l = { .inf = inf };
        char *rv = NULL;
        size_t k = 0;

        if (kube_list_pages(inf->c, ctx, inf->path, inf->query, KUBE_PAGE_DEFAULT,
                            kinf_list_item, &l, &rv, &inf->st.pages, err)) {
                kinf_vec_clear(inf, &l.fresh);
                return -1;
        }
        if (l.fresh.n > 1)     /* qsort(NULL, 0) is undefined (UBSan) */
                qsort(l.fresh.v, l.fresh.n, sizeof *l.fresh.v, kinf_cmp);
        /* A list never repeats a key; if a server does, the last one wins. */
        for (size_t i = 0; i < l.fresh.n; i++) {
                if (k > 0 && strcmp(l.fresh.v[k - 1].key, l.fresh.v[i].key) == 0) {
                        free(l.fresh.v[k - 1].key);
                        if (inf->ops->free)
                                inf->ops->free(l.fresh.v[k - 1].model);
                        k--;
                }
                l.fresh.v[k++] = l.fresh.v[i];
        }
        l.fresh.n = k;
        kinf_vec_clear(inf, &inf->cache);
        inf->cache = l.fresh;
        free(inf->rv);
        inf->rv = rv;
        inf->st.lists++;
        inf->need_list = false;
        return 0;
}

/* --- watch ---------------------------------------------------------------------------- */

static void kinf_werr(struct kube_informer *inf, enum kinf_wstate s, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void kinf_werr(struct kube_informer *inf, enum kinf_wstate s, const char *fmt, ...)
{
        va_list ap;

        if (inf->wstate != KW_NONE)
                return;
        inf->wstate = s;
        inf->werr.code = EPROTO;
        va_start(ap, fmt);
        vsnprintf(inf->werr.msg, sizeof inf->werr.msg, fmt, ap);
        va_end(ap);
}

static void kinf_event(struct kube_informer *inf, const char *buf, size_t len)
{
        cJSON *ev = cJSON_ParseWithLength(buf, len);
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "type"));
        cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");

        if (!type || !cJSON_IsObject(obj)) {
                kinf_werr(inf, KW_ERROR, "watch %s: an event is not {\"type\",\"object\"} JSON",
                          inf->path);
                cJSON_Delete(ev);
                return;
        }
        if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
                char *key = kinf_key(obj);

                if (key) {
                        void *m = inf->ops->make(obj, inf->user);

                        if (m) {
                                kinf_put(inf, key, m);
                        } else {
                                kinf_del(inf, key);
                                free(key);
                        }
                }
                kinf_set_rv(inf, obj);
                inf->st.events++;
        } else if (strcmp(type, "DELETED") == 0) {
                char *key = kinf_key(obj);

                if (key)
                        kinf_del(inf, key);
                free(key);
                kinf_set_rv(inf, obj);
                inf->st.events++;
        } else if (strcmp(type, "BOOKMARK") == 0) {
                kinf_set_rv(inf, obj);
        } else if (strcmp(type, "ERROR") == 0) {
                const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
                const char *msg = cJSON_GetStringValue(
                        cJSON_GetObjectItemCaseSensitive(obj, "message"));

                if (cJSON_IsNumber(code) && code->valueint == 410)
                        kinf_werr(inf, KW_EXPIRED, "watch %s: 410 Expired", inf->path);
                else
                        kinf_werr(inf, KW_ERROR, "watch %s: ERROR %d: %.150s", inf->path,
                                  cJSON_IsNumber(code) ? code->valueint : 0,
                                  msg ? msg : "(no message)");
        }
        /* Unknown types are skipped, as client-go does not know them either. */
        cJSON_Delete(ev);
}

static size_t kinf_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
        struct kube_informer *inf = ud;
        size_t n = size * nmemb, start = 0;

        if (inf->status == 0)
                curl_easy_getinfo(inf->easy, CURLINFO_RESPONSE_CODE, &inf->status);
        if (inf->status != 200) {
                size_t room = KUBE_ERRBODY_MAX - inf->errlen, k = n < room ? n : room;

                inf->errbody = xrealloc(inf->errbody, inf->errlen + k + 1);
                memcpy(inf->errbody + inf->errlen, ptr, k);
                inf->errlen += k;
                inf->errbody[inf->errlen] = '\0';
                return n;
        }
        if (inf->wstate != KW_NONE)
                return 0;
        /* Complete lines straight from ptr when nothing is pending. */
        for (size_t i = 0; i < n && inf->wstate == KW_NONE; i++) {
                if (ptr[i] != '\n')
                        continue;
                if (inf->line_len) {
                        size_t add = i - start;

                        if (inf->line_len + add > KUBE_LINE_MAX) {
                                kinf_werr(inf, KW_ERROR, "watch %s: an event is larger than "
                                          "16 MiB", inf->path);
                                return 0;
                        }
                        if (inf->line_len + add + 1 > inf->line_cap) {
                                inf->line_cap = inf->line_len + add + 1;
                                inf->line = xrealloc(inf->line, inf->line_cap);
                        }
                        memcpy(inf->line + inf->line_len, ptr + start, add);
                        inf->line_len += add;
                        kinf_event(inf, inf->line, inf->line_len);
                        inf->line_len = 0;
                } else if (i > start) {
                        kinf_event(inf, ptr + start, i - start);
                }
                start = i + 1;
        }
        if (inf->wstate != KW_NONE)
                return 0;
        if (start < n) {
                size_t add = n - start;

                if (inf->line_len + add > KUBE_LINE_MAX) {
                        kinf_werr(inf, KW_ERROR, "watch %s: an event is larger than 16 MiB",
                                  inf->path);
                        return 0;
                }
                if (inf->line_len + add > inf->line_cap) {
                        size_t cap = inf->line_cap ? inf->line_cap : 4096;
                        while (cap < inf->line_len + add)
                                cap *= 2;
                        inf->line = xrealloc(inf->line, cap);
                        inf->line_cap = cap;
                }
                memcpy(inf->line + inf->line_len, ptr + start, add);
                inf->line_len += add;
        }
        if (inf->line_len == 0 && inf->line_cap > 65536) {
                /* Give back a buffer that a rare huge event grew. */
                free(inf->line);
                inf->line = NULL;
                inf->line_cap = 0;
        }
        return n;
}

static void kinf_tls(CURL *e, const struct http_tls *t)
{
        struct curl_blob b;

        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, t->insecure ? 0L : 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, t->insecure ? 0L : 2L);
        if (t->ca_pem) {
                b = (struct curl_blob){ .data = (void *)t->ca_pem, .len = strlen(t->ca_pem),
                                        .flags = CURL_BLOB_COPY };
                curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
        }
        if (t->cert_pem) {
                b = (struct curl_blob){ .data = (void *)t->cert_pem,
                                        .len = strlen(t->cert_pem), .flags = CURL_BLOB_COPY };
                curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
        }
        if (t->key_pem) {
                b = (struct curl_blob){ .data = (void *)t->key_pem, .len = strlen(t->key_pem),
                                        .flags = CURL_BLOB_COPY };
                curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
        }
}

static int kinf_watch_start(struct kube_informer *inf, const struct coll_ctx *ctx,
                            struct err *err)
{
        struct kube_client *c = inf->c;
        const struct kube_config *kc = c->kc;
        const char *bearer = NULL;
        char *url, *rv;
        int64_t ct = ctx->timeout_ms > 0 ? ctx->timeout_ms : 10000;

        kinf_watch_stop(inf);
        if (kube_bearer(c, ctx, &bearer, err))
                return -1;
        if (!inf->multi) {
                inf->multi = curl_multi_init();
                if (!inf->multi) {
                        err_set(err, ENOMEM, "watch %s: cannot create a libcurl handle",
                                inf->path);
                        return -1;
                }
        }
        inf->easy = curl_easy_init();
        if (!inf->easy) {
                err_set(err, ENOMEM, "watch %s: cannot create a libcurl handle", inf->path);
                return -1;
        }
        rv = inf->rv ? kube_escape(inf->rv) : NULL;
        url = xasprintf("%s%s?%s%swatch=1%s%s&allowWatchBookmarks=true&timeoutSeconds=%d",
                        c->base, inf->path, inf->query ? inf->query : "",
                        inf->query ? "&" : "", rv ? "&resourceVersion=" : "", rv ? rv : "",
                        inf->watch_seconds);
        free(rv);
        inf->errbuf[0] = '\0';
        inf->wstate = KW_NONE;
        err_clear(&inf->werr);
        curl_easy_setopt(inf->easy, CURLOPT_URL, url);
        free(url);
        curl_easy_setopt(inf->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(inf->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)ct);
        /* Backstop for a silently dead peer: the server ends the stream
         * after timeoutSeconds anyway. */
        curl_easy_setopt(inf->easy, CURLOPT_TIMEOUT_MS, (long)(inf->watch_seconds + 60) * 1000L);
        curl_easy_setopt(inf->easy, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(inf->easy, CURLOPT_ERRORBUFFER, inf->errbuf);
        curl_easy_setopt(inf->easy, CURLOPT_WRITEFUNCTION, kinf_write);
        curl_easy_setopt(inf->easy, CURLOPT_WRITEDATA, inf);
        curl_easy_setopt(inf->easy, CURLOPT_USERAGENT, "lambdaops/" LO_VERSION);
        curl_easy_setopt(inf->easy, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(inf->easy, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(inf->easy, CURLOPT_ACCEPT_ENCODING, "");
        kinf_tls(inf->easy, &c->tls);
        if (c->connect_to) {
                inf->connect_to = curl_slist_append(NULL, c->connect_to);
                curl_easy_setopt(inf->easy, CURLOPT_CONNECT_TO, inf->connect_to);
        }
        inf->hdrs = curl_slist_append(NULL, "Accept: application/json");
        if (bearer) {
                inf->auth_hdr = xasprintf("Authorization: Bearer %s", bearer);
                inf->hdrs = curl_slist_append(inf->hdrs, inf->auth_hdr);
        }
        curl_easy_setopt(inf->easy, CURLOPT_HTTPHEADER, inf->hdrs);
        if (kc->username) {
                curl_easy_setopt(inf->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
                curl_easy_setopt(inf->easy, CURLOPT_USERNAME, kc->username);
                curl_easy_setopt(inf->easy, CURLOPT_PASSWORD, kc->password ? kc->password : "");
        }
        if (curl_multi_add_handle(inf->multi, inf->easy) != CURLM_OK) {
                err_set(err, EIO, "watch %s: cannot start", inf->path);
                kinf_watch_stop(inf);
                return -1;
        }
        return 0;
}

enum kinf_pump {
        KP_RUNNING,     /* stream open, nothing more to read now */
        KP_CLEAN_END,   /* the server ended the stream (timeoutSeconds) */
        KP_DROPPED,     /* transport failure */
        KP_EXPIRED,     /* 410: re-list */
        KP_ERROR,       /* err set */
        KP_STOP,        /* quit requested */
};

/* Reads what the watch stream has ready, within ctx. */
static enum kinf_pump kinf_pump(struct kube_informer *inf, const struct coll_ctx *ctx,
                                struct err *err)
{
        int64_t settle_end = clock_mono_ms() + KUBE_WATCH_SETTLE_MS;

        for (int iter = 0; iter < 100000; iter++) {
                struct curl_waitfd wfd = { .fd = ctx->stop_fd, .events = CURL_WAIT_POLLIN };
                int running = 0, numfds = 0, left;
                int64_t now, wait;
                CURLMsg *m;
                CURLcode res = CURLE_OK;
                bool done = false;

                curl_multi_perform(inf->multi, &running);
                while ((m = curl_multi_info_read(inf->multi, &left))) {
                        if (m->msg == CURLMSG_DONE && m->easy_handle == inf->easy) {
                                done = true;
                                res = m->data.result;
                        }
                }
                if (inf->status == 0 && inf->easy)
                        curl_easy_getinfo(inf->easy, CURLINFO_RESPONSE_CODE, &inf->status);
                if (inf->wstate == KW_EXPIRED)
                        return KP_EXPIRED;
                if (inf->wstate == KW_ERROR) {
                        *err = inf->werr;
                        return KP_ERROR;
                }
                if (done) {
                        if (inf->status == 410)
                                return KP_EXPIRED;
                        if (inf->status != 0 && inf->status != 200) {
                                cJSON *d = inf->errbody ? cJSON_Parse(inf->errbody) : NULL;
                                const char *msg = cJSON_GetStringValue(
                                        cJSON_GetObjectItemCaseSensitive(d, "message"));

                                err_set(err, (int)inf->status, "watch %s: %ld %s%s%.150s",
                                        inf->path, inf->status,
                                        http_status_text(inf->status), msg ? ": " : "",
                                        msg ? msg : "");
                                cJSON_Delete(d);
                                return KP_ERROR;
                        }
                        if (res == CURLE_OK)
                                return KP_CLEAN_END;
                        err_set(err, EIO, "watch %s: %s", inf->path,
                                inf->errbuf[0] ? inf->errbuf : curl_easy_strerror(res));
                        kube_tls_hint(inf->c->kc, err);
                        return KP_DROPPED;
                }
                if (coll_stopping(ctx)) {
                        err_set(err, ECANCELED, "stopping");
                        return KP_STOP;
                }
                now = clock_mono_ms();
                if (now >= ctx->deadline_mono)
                        return KP_RUNNING;
                /* Before the headers of a new stream arrive, wait a little
                 * (bounded) so the first events come in this sync; after
                 * that only take what is already there. */
                wait = inf->status == 0 && now < settle_end ? settle_end - now : 0;
                if (wait > ctx->deadline_mono - now)
                        wait = ctx->deadline_mono - now;
                if (wait > 50)
                        wait = 50;
                if (curl_multi_poll(inf->multi, ctx->stop_fd >= 0 ? &wfd : NULL,
                                    ctx->stop_fd >= 0 ? 1 : 0, (int)wait, &numfds) != CURLM_OK)
                        return KP_RUNNING;
                if (ctx->stop_fd >= 0 && (wfd.revents & CURL_WAIT_POLLIN)) {
                        err_set(err, ECANCELED, "stopping");
                        return KP_STOP;
                }
                if (numfds == 0 && wait == 0)
                        return KP_RUNNING;
        }
        return KP_RUNNING;
}

int kube_informer_sync(struct kube_informer *inf, const struct coll_ctx *ctx,
                       struct err *err)
{
        bool retried_drop = false;

        if (!inf) {
                err_set(err, EINVAL, "kube: no informer");
                return -1;
        }
        if (!inf->watch) {
                return kinf_list(inf, ctx, err);
        }
        for (int round = 0; round < 4; round++) {
                enum kinf_pump p;

                if (inf->need_list) {
                        kinf_watch_stop(inf);
                        if (kinf_list(inf, ctx, err))
                                return -1;
                }
                if (!inf->easy && kinf_watch_start(inf, ctx, err))
                        return -1;
                p = kinf_pump(inf, ctx, err);
                switch (p) {
                case KP_RUNNING:
                        return 0;
                case KP_STOP:
                        return -1;
                case KP_CLEAN_END:
                        inf->st.rewatches++;
                        kinf_watch_stop(inf);
                        continue;
                case KP_EXPIRED:
                        inf->st.expired++;
                        inf->need_list = true;
                        continue;
                case KP_ERROR:
                        kinf_watch_stop(inf);
                        inf->need_list = true;
                        return -1;
                case KP_DROPPED:
                        /* A stream that worked resumes from the last RV;
                         * one that never got going means the server or RV
                         * is gone: list again. */
                        kinf_watch_stop(inf);
                        if (retried_drop)
                                inf->need_list = true;
                        retried_drop = true;
                        continue;
                }
        }
        return 0;
}
