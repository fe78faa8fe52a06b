/*
 * http: libcurl easy-handle wrapper with deadlines, quit, a response cap and
 * TLS settings. Runs on the calling collector thread; curl_global_init()
 * happens once in main() before any thread starts.
 */
#include "clients/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/redact.h"
#include "core/termsafe.h"

struct http_client {
        CURL             *curl;
        struct http_tls   tls;          /* borrowed strings */
};

struct http_sink {
        struct http_response *resp;
        size_t cap;                     /* allocated */
        size_t max;                     /* limit */
        bool   overflow;
};

struct http_xfer {
        const struct coll_ctx *ctx;
};

struct http_client *http_client_new(const struct http_tls *tls)
{
        struct http_client *c = xcalloc(1, sizeof *c);

        c->curl = curl_easy_init();
        if (!c->curl) {
                free(c);
                return NULL;
        }
        if (tls)
                c->tls = *tls;
        return c;
}

void http_client_free(struct http_client *c)
{
        if (!c)
                return;
        curl_easy_cleanup(c->curl);
        free(c);
}

void http_response_done(struct http_response *r)
{
        if (!r)
                return;
        free(r->body);
        free(r->content_type);
        memset(r, 0, sizeof *r);
}

static size_t http_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
        struct http_sink *s = ud;
        size_t n = size * nmemb;

        if (s->resp->len + n > s->max) {
                s->overflow = true;
                return 0;       /* makes curl fail with CURLE_WRITE_ERROR */
        }
        if (s->resp->len + n + 1 > s->cap) {
                size_t cap = s->cap ? s->cap : 4096;
                while (cap < s->resp->len + n + 1)
                        cap *= 2;
                s->resp->body = xrealloc(s->resp->body, cap);
                s->cap = cap;
        }
        memcpy(s->resp->body + s->resp->len, ptr, n);
        s->resp->len += n;
        s->resp->body[s->resp->len] = '\0';
        return n;
}

static int http_progress_cb(void *ud, curl_off_t dlt, curl_off_t dln, curl_off_t ult,
                            curl_off_t uln)
{
        const struct http_xfer *x = ud;

        (void)dlt; (void)dln; (void)ult; (void)uln;
        return coll_stopping(x->ctx) ? 1 : 0;
}

const char *http_url_check(const char *url, const char *example, struct err *err)
{
        const char *h, *at, *slash;

        if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
                err_set(err, EINVAL, "url must start with http:// or https://, e.g. \"%s\"",
                        example);
                return NULL;
        }
        h = strstr(url, "://") + 3;
        slash = strchr(h, '/');
        at = strchr(h, '@');
        if (at && (!slash || at < slash)) {
                err_set(err, EINVAL, "url must not carry credentials: set user and "
                        "password_env/password_file instead");
                return NULL;
        }
        return h;
}

char *http_url_mask(const char *url)
{
        const char *scheme, *at, *slash;

        if (!url)
                return xstrdup("");
        scheme = strstr(url, "://");
        if (!scheme)
                return xstrdup(url);
        scheme += 3;
        slash = strchr(scheme, '/');
        at = strchr(scheme, '@');
        if (!at || (slash && at > slash))
                return xstrdup(url);
        return xasprintf("%.*s***%s", (int)(scheme - url), url, at);
}

#define HTTP_SEGMENT_MAX 1024

char *http_path_segment(const char *name, const char *what, struct err *err)
{
        char shown[96], *esc, *out;
        size_t n = name ? strlen(name) : 0;

        err_clear(err);
        termsafe_copy(name ? name : "", TERMSAFE_LINE, shown, sizeof shown);
        if (n == 0) {
                err_set(err, EINVAL, "%s name is empty", what);
                return NULL;
        }
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
                err_set(err, EINVAL, "%s name \"%s\" is refused: in a URL path it would name "
                        "another resource", what, shown);
                return NULL;
        }
        if (n > HTTP_SEGMENT_MAX) {
                err_set(err, EINVAL, "%s name \"%s...\" is longer than %d bytes", what, shown,
                        HTTP_SEGMENT_MAX);
                return NULL;
        }
        esc = curl_easy_escape(NULL, name, (int)n);
        if (!esc) {
                err_set(err, ENOMEM, "%s name \"%s\": cannot encode it", what, shown);
                return NULL;
        }
        out = xstrdup(esc);
        curl_free(esc);
        return out;
}

char *http_url_join(const char *base, const char *path)
{
        size_t n = strlen(base);

        while (n > 0 && base[n - 1] == '/')
                n--;
        return xasprintf("%.*s%s", (int)n, base, path);
}

int http_get_json_api(struct http_client *c, const struct coll_ctx *ctx,
                      const struct http_api *api, const char *path, const char *what,
                      struct http_response *resp, struct err *err)
{
        struct http_request req = { 0 };
        const char *hdrs[] = { api->accept, NULL };
        char *url = http_url_join(api->base, path);
        int rc;

        req.url = url;
        req.headers = hdrs;
        if (api->user && *api->user) {
                req.user = api->user;
                req.password = api->password ? api->password : "";
        }
        rc = http_do(c, ctx, &req, resp, err);
        free(url);
        if (rc != 0) {
                err->code = api->transport_code;
                http_response_done(resp);
                return -1;
        }
        if (resp->status < 200 || resp->status > 299) {
                api->status_error(resp->status, resp->body, resp->len, resp->content_type,
                                  what, err);
                return 1;
        }
        return 0;
}

const char *http_status_text(long st)
{
        switch (st) {
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 422: return "Unprocessable Entity";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default:  return "";
        }
}

/* True for a custom header whose value is a credential: the name says key,
 * token, secret, password, auth or cookie (X-ClickHouse-Key, Authorization:
 * Snowflake Token="...", X-Vault-Token, ...). */
static bool http_header_is_secret(const char *line, const char **value)
{
        static const char *const words[] = {
                "key", "token", "secret", "password", "auth", "cookie", "signature",
        };
        const char *colon = strchr(line, ':');
        char name[64];
        size_t n;

        if (!colon)
                return false;
        n = (size_t)(colon - line);
        if (n >= sizeof name)
                n = sizeof name - 1;
        for (size_t i = 0; i < n; i++)
                name[i] = (char)tolower((unsigned char)line[i]);
        name[n] = '\0';
        /* X-Snowflake-Authorization-Token-Type names a scheme, not a secret. */
        if (n >= 5 && strcmp(name + n - 5, "-type") == 0)
                return false;
        for (size_t i = 0; i < LO_ARRAY_LEN(words); i++)
                if (strstr(name, words[i])) {
                        *value = colon + 1;
                        while (**value == ' ' || **value == '\t')
                                (*value)++;
                        return true;
                }
        return false;
}

/* An error answer's body becomes error texts (snapshots, status, the
 * audit log), and a server or a proxy may quote the request back in it:
 * mask the request's own secrets (their base64 Basic forms too) and
 * credentials by shape. NUL bytes inside become spaces so that the whole
 * body is covered; the buffer gets room for masks that grow a short
 * secret. */
static void http_redact_body(struct http_response *resp, const struct http_request *req)
{
        struct redact_keys k = { .user = req->user, .password = req->password,
                                 .token = req->bearer };
        size_t cap = resp->len + 256;

        if (!resp->body)
                return;
        for (size_t i = 0; i < resp->len; i++)
                if (resp->body[i] == '\0')
                        resp->body[i] = ' ';
        resp->body = xrealloc(resp->body, cap);
        redact_text(resp->body, cap, &k);
        for (size_t i = 0; req->headers && req->headers[i]; i++) {
                struct redact_keys h = { 0 };

                if (!http_header_is_secret(req->headers[i], &h.extra))
                        continue;
                /* "Scheme credential": the credential alone, too. */
                h.token = strrchr(h.extra, ' ');
                if (h.token)
                        h.token++;
                redact_secrets(resp->body, cap, &h);
        }
        resp->len = strlen(resp->body);
}

static void http_set_blob(CURL *curl, CURLoption opt, const char *pem)
{
        struct curl_blob b = { .data = (void *)pem, .len = strlen(pem),
                               .flags = CURL_BLOB_COPY };

        curl_easy_setopt(curl, opt, &b);
}

static void http_apply_tls(CURL *curl, const struct http_tls *t)
{
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, t->insecure ? 0L : 1L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, t->insecure ? 0L : 2L);
        if (t->ca_file)
                curl_easy_setopt(curl, CURLOPT_CAINFO, t->ca_file);
        if (t->ca_pem)
                http_set_blob(curl, CURLOPT_CAINFO_BLOB, t->ca_pem);
        if (t->cert_pem)
                http_set_blob(curl, CURLOPT_SSLCERT_BLOB, t->cert_pem);
        if (t->key_pem)
                http_set_blob(curl, CURLOPT_SSLKEY_BLOB, t->key_pem);
        if (t->cert_file)
                curl_easy_setopt(curl, CURLOPT_SSLCERT, t->cert_file);
        if (t->key_file)
                curl_easy_setopt(curl, CURLOPT_SSLKEY, t->key_file);
}

int http_do(struct http_client *c, const struct coll_ctx *ctx,
            const struct http_request *req, struct http_response *resp,
            struct err *err)
{
        CURL *curl = c->curl;
        struct curl_slist *hdrs = NULL;
        struct http_sink sink = { .resp = resp };
        struct http_xfer xfer = { .ctx = ctx };
        char errbuf[CURL_ERROR_SIZE] = "";
        int64_t left = ctx->deadline_mono - clock_mono_ms();
        const char *method = req->method ? req->method : "GET";
        char *ctype_hdr = NULL, *auth_hdr = NULL, *masked;
        struct curl_slist *connect_to = NULL;
        CURLcode rc;
        char *ct = NULL;

        memset(resp, 0, sizeof *resp);
        sink.max = req->max_body ? req->max_body : (size_t)64 << 20;
        if (left <= 0) {
                /* The deadline passed before this request (an earlier one
                 * of the poll used it up): the same message as a timeout
                 * inside the transfer, so the error always names the URL. */
                masked = http_url_mask(req->url);
                err_set(err, 4, "%s: timed out after %lld ms", masked, (long long)ctx->timeout_ms);
                free(masked);
                return -1;
        }
        if (coll_stopping(ctx)) {
                err_set(err, 1, "stopping");
                return -1;
        }

        curl_easy_reset(curl);
        curl_easy_setopt(curl, CURLOPT_URL, req->url);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)left);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)left);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_write_cb);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, http_progress_cb);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &xfer);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "lambdaops/" LO_VERSION);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
        http_apply_tls(curl, &c->tls);
        if (c->tls.connect_to) {
                connect_to = curl_slist_append(NULL, c->tls.connect_to);
                curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
        }

        if (strcmp(method, "GET") == 0) {
                curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        } else if (strcmp(method, "HEAD") == 0) {
                curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        } else {
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
                if (req->body || strcmp(method, "POST") == 0) {
                        const char *b = req->body ? req->body : "";
                        size_t bl = req->body_len ? req->body_len : strlen(b);
                        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, b);
                        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bl);
                }
        }
        if (req->body) {
                ctype_hdr = xasprintf("Content-Type: %s",
                                      req->content_type ? req->content_type : "application/json");
                hdrs = curl_slist_append(hdrs, ctype_hdr);
        }
        hdrs = curl_slist_append(hdrs, "Expect:");
        if (req->bearer) {
                auth_hdr = xasprintf("Authorization: Bearer %s", req->bearer);
                hdrs = curl_slist_append(hdrs, auth_hdr);
        }
        for (size_t i = 0; req->headers && req->headers[i]; i++)
                hdrs = curl_slist_append(hdrs, req->headers[i]);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
        if (req->user) {
                curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
                curl_easy_setopt(curl, CURLOPT_USERNAME, req->user);
                curl_easy_setopt(curl, CURLOPT_PASSWORD, req->password ? req->password : "");
        }

        rc = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
        if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
                resp->content_type = xstrdup(ct);
        /* Drop references to stack memory and secrets from the handle. */
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(curl, CURLOPT_CONNECT_TO, NULL);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, "");
        curl_slist_free_all(hdrs);
        curl_slist_free_all(connect_to);
        if (auth_hdr) {
                memset(auth_hdr, 0, strlen(auth_hdr));
                free(auth_hdr);
        }
        free(ctype_hdr);

        if (rc == CURLE_OK) {
                if (!resp->body) {
                        resp->body = xstrdup("");
                        resp->len = 0;
                }
                if (resp->status < 200 || resp->status > 299)
                        http_redact_body(resp, req);
                return 0;
        }
        masked = http_url_mask(req->url);
        if (sink.overflow)
                err_set(err, 2, "%s: response larger than %zu bytes", masked, sink.max);
        else if (rc == CURLE_ABORTED_BY_CALLBACK)
                err_set(err, 3, "stopping");
        else if (rc == CURLE_OPERATION_TIMEDOUT)
                err_set(err, 4, "%s: timed out after %lld ms", masked, (long long)ctx->timeout_ms);
        else if (rc == CURLE_COULDNT_CONNECT)
                err_set(err, 5, "%s: connection refused: is the service running there?", masked);
        else if (rc == CURLE_COULDNT_RESOLVE_HOST)
                err_set(err, 6, "%s: cannot resolve host name", masked);
        else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
                err_set(err, 7,
                        "%s: TLS verification failed (%s): set ca_file, or insecure: true for a test cluster",
                        masked, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        else
                err_set(err, 8, "%s: %s", masked, errbuf[0] ? errbuf : curl_easy_strerror(rc));
        free(masked);
        /* On failure the response is left empty: nothing for the caller to free. */
        http_response_done(resp);
        return -1;
}
