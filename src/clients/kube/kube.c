/*
 * kube: the client of one Kubernetes API server (see kube.h): routing,
 * credentials (token, tokenFile, exec plugins), requests, paged lists, and
 * the value helpers for models. Informers are in kube_informer.c, what
 * they share with this file in kube_internal.h; kubeconfig parsing is in
 * kube_config.c.
 *
 * Requests go through clients/http.h.
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

#include "clients/kube/kube_internal.h"
#include "core/fsfile.h"
#include "core/jsonparse.h"
#include "core/subproc.h"

#define KUBE_EXEC_OUT_MAX       ((size_t)1 << 20)
#define KUBE_EXEC_MARGIN_MS     10000   /* refresh an exec credential this early */

void kube_wipe_free(char *s)
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

#define KUBE_TOKEN_FILE_MAX 16383    /* a service-account token is about 1 KiB */

static int kube_token_file(struct kube_client *c, struct err *err)
{
        const char *path = c->kc->token_file;
        struct stat st;
        struct err fe;
        char *buf;
        size_t n = 0;

        if (stat(path, &st) != 0) {
                err_set(err, errno, "tokenFile %s: cannot read: %s", path, strerror(errno));
                return -1;
        }
        if (c->file_token && st.st_dev == c->tf_dev && st.st_ino == c->tf_ino &&
            st.st_size == c->tf_size && st.st_mtim.tv_sec == c->tf_mtime.tv_sec &&
            st.st_mtim.tv_nsec == c->tf_mtime.tv_nsec)
                return 0;
        /* A FIFO or device is refused rather than read (fsfile). */
        buf = fsfile_read(path, KUBE_TOKEN_FILE_MAX, "tokenFile", &n, &fe);
        if (!buf) {
                if (fe.code == EISDIR || fe.code == EINVAL || fe.code == EFBIG)
                        err_set(err, fe.code, "%s", fe.msg);
                else
                        err_set(err, fe.code, "tokenFile %s: cannot read: %s", path,
                                strerror(fe.code));
                return -1;
        }
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
                         buf[n - 1] == '\t'))
                buf[--n] = '\0';
        if (n == 0 || memchr(buf, '\0', n) || strpbrk(buf, "\r\n")) {
                err_set(err, EINVAL, "tokenFile %s: %s", path,
                        n == 0 ? "empty" : memchr(buf, '\0', n) ? "contains a NUL byte" :
                        "holds more than one line");
                explicit_bzero(buf, n);
                free(buf);
                return -1;
        }
        kube_wipe_free(c->file_token);
        c->file_token = buf;
        c->tf_dev = st.st_dev;
        c->tf_ino = st.st_ino;
        c->tf_size = st.st_size;
        c->tf_mtime = st.st_mtim;
        return 0;
}

/* The bearer token to send now (borrowed), or NULL; -1 on failure. */
int kube_bearer(struct kube_client *c, const struct coll_ctx *ctx, const char **out,
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
void kube_tls_hint(const struct kube_config *kc, struct err *err)
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
                else if (!doc && json_too_deep(r.body, r.len))
                        err_set(err, EPROTO, "%s: %s", what, json_parse_why(r.body, r.len, ""));
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
int kube_list_pages(struct kube_client *c, const struct coll_ctx *ctx,
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
