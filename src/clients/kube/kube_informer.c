/*
 * kube_informer: list+watch informers over one kube_client (see kube.h).
 *
 * A watch needs a connection that lives across polls and is read without
 * blocking, so each informer keeps its own libcurl multi handle with one
 * easy handle: a sync runs curl_multi_perform/curl_multi_poll (with the
 * quit fd as an extra fd) only while data is ready, and the write callback
 * cuts the stream into newline-delimited JSON events and applies them to
 * the cache at once. The cache is a sorted array of { "namespace/name",
 * model }: lookups are binary searches, and only the caller's compact
 * models are kept.
 */
#include "clients/kube/kube.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "clients/kube/kube_internal.h"
#include "core/jsonparse.h"
#include "core/redact.h"

#define KUBE_WATCH_SECONDS      300
#define KUBE_LINE_MAX           ((size_t)16 << 20)      /* one watch event */
#define KUBE_WATCH_SETTLE_MS    500     /* wait for a new watch's headers */

/* --- informers ------------------------------------------------------------------- */

struct kube_informer_entry {
        char *key;
        void *model;
};

struct kube_informer_vec {
        struct kube_informer_entry *v;
        size_t n, cap;
};

enum kube_informer_wstate {
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
        struct kube_informer_vec cache;
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
        enum kube_informer_wstate wstate;
        struct err werr;
        const struct coll_ctx *ctx;     /* during a sync */
};

static void kube_informer_vec_clear(struct kube_informer *inf, struct kube_informer_vec *v)
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
static ssize_t kube_informer_find(const struct kube_informer_vec *v, const char *key)
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
static void kube_informer_put(struct kube_informer *inf, char *key, void *model)
{
        struct kube_informer_vec *v = &inf->cache;
        ssize_t i = kube_informer_find(v, key);
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
        v->v[at] = (struct kube_informer_entry){ .key = key, .model = model };
        v->n++;
}

static void kube_informer_del(struct kube_informer *inf, const char *key)
{
        struct kube_informer_vec *v = &inf->cache;
        ssize_t i = kube_informer_find(v, key);

        if (i < 0)
                return;
        free(v->v[i].key);
        if (inf->ops->free)
                inf->ops->free(v->v[i].model);
        memmove(v->v + i, v->v + i + 1, (v->n - (size_t)i - 1) * sizeof *v->v);
        v->n--;
}

/* "namespace/name" or "name" (owned), NULL without a name. */
static char *kube_informer_key(const cJSON *obj)
{
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
        const char *ns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "namespace"));
        const char *nm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "name"));

        if (!nm || !nm[0])
                return NULL;
        return ns && ns[0] ? xasprintf("%s/%s", ns, nm) : xstrdup(nm);
}

static void kube_informer_set_rv(struct kube_informer *inf, const cJSON *obj)
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

static void kube_informer_watch_stop(struct kube_informer *inf)
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
        kube_informer_watch_stop(inf);
        if (inf->multi)
                curl_multi_cleanup(inf->multi);
        kube_informer_vec_clear(inf, &inf->cache);
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

struct kube_informer_listing {
        struct kube_informer *inf;
        struct kube_informer_vec fresh;
};

static int kube_informer_cmp(const void *a, const void *b)
{
        const struct kube_informer_entry *x = a, *y = b;

        return strcmp(x->key, y->key);
}

static int kube_informer_list_item(const cJSON *item, void *user)
{
        struct kube_informer_listing *l = user;
        struct kube_informer *inf = l->inf;
        char *key;
        void *m;

        if (!item) {            /* the list restarts */
                kube_informer_vec_clear(inf, &l->fresh);
                return 0;
        }
        key = kube_informer_key(item);
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
        l->fresh.v[l->fresh.n++] = (struct kube_informer_entry){ .key = key, .model = m };
        return 0;
}

static int kube_informer_list(struct kube_informer *inf, const struct coll_ctx *ctx,
                              struct err *err)
{
        struct kube_informer_listing l = { .inf = inf };
        char *rv = NULL;
        size_t k = 0;

        if (kube_list_pages(inf->c, ctx, inf->path, inf->query, KUBE_PAGE_DEFAULT,
                            kube_informer_list_item, &l, &rv, &inf->st.pages, err)) {
                kube_informer_vec_clear(inf, &l.fresh);
                return -1;
        }
        if (l.fresh.n > 1)     /* qsort(NULL, 0) is undefined (UBSan) */
                qsort(l.fresh.v, l.fresh.n, sizeof *l.fresh.v, kube_informer_cmp);
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
        kube_informer_vec_clear(inf, &inf->cache);
        inf->cache = l.fresh;
        free(inf->rv);
        inf->rv = rv;
        inf->st.lists++;
        inf->need_list = false;
        return 0;
}

/* --- watch ---------------------------------------------------------------------------- */

static void kube_informer_werr(struct kube_informer *inf, enum kube_informer_wstate s,
                               const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void kube_informer_werr(struct kube_informer *inf, enum kube_informer_wstate s,
                               const char *fmt, ...)
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

/* The watch builds its own request (it cannot go through http_do), so a
 * server's or a proxy's message about it gets http_do's redaction here: the
 * bearer token sent, the Basic user:password and their base64 forms, and
 * credentials by shape, become "***". The whole message is redacted before
 * it is cut to fit an error text, so a cut cannot split a secret first.
 * Returns an owned copy, or NULL for NULL. */
static char *kube_informer_redact_dup(const struct kube_informer *inf, const char *msg)
{
        static const char bearer[] = "Authorization: Bearer ";
        const struct kube_config *kc = inf->c->kc;
        struct redact_keys k = { .user = kc->username, .password = kc->password };

        if (inf->auth_hdr && strncmp(inf->auth_hdr, bearer, sizeof bearer - 1) == 0)
                k.token = inf->auth_hdr + sizeof bearer - 1;
        return redact_dup(msg, &k);
}

static void kube_informer_event(struct kube_informer *inf, const char *buf, size_t len)
{
        cJSON *ev = cJSON_ParseWithLength(buf, len);
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "type"));
        cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");

        if (!ev) {
                kube_informer_werr(inf, KW_ERROR, "watch %s: an event is %s", inf->path,
                                   json_parse_why(buf, len, "not {\"type\",\"object\"} JSON"));
                return;
        }
        if (!type || !cJSON_IsObject(obj)) {
                kube_informer_werr(inf, KW_ERROR, "watch %s: an event is not "
                                   "{\"type\",\"object\"} JSON", inf->path);
                cJSON_Delete(ev);
                return;
        }
        if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
                char *key = kube_informer_key(obj);

                if (key) {
                        void *m = inf->ops->make(obj, inf->user);

                        if (m) {
                                kube_informer_put(inf, key, m);
                        } else {
                                kube_informer_del(inf, key);
                                free(key);
                        }
                }
                kube_informer_set_rv(inf, obj);
                inf->st.events++;
        } else if (strcmp(type, "DELETED") == 0) {
                char *key = kube_informer_key(obj);

                if (key)
                        kube_informer_del(inf, key);
                free(key);
                kube_informer_set_rv(inf, obj);
                inf->st.events++;
        } else if (strcmp(type, "BOOKMARK") == 0) {
                kube_informer_set_rv(inf, obj);
        } else if (strcmp(type, "ERROR") == 0) {
                const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
                char *msg = kube_informer_redact_dup(inf, cJSON_GetStringValue(
                        cJSON_GetObjectItemCaseSensitive(obj, "message")));

                if (cJSON_IsNumber(code) && code->valueint == 410)
                        kube_informer_werr(inf, KW_EXPIRED, "watch %s: 410 Expired", inf->path);
                else
                        kube_informer_werr(inf, KW_ERROR, "watch %s: ERROR %d: %.150s", inf->path,
                                           cJSON_IsNumber(code) ? code->valueint : 0,
                                           msg ? msg : "(no message)");
                free(msg);
        }
        /* Unknown types are skipped, as client-go does not know them either. */
        cJSON_Delete(ev);
}

static size_t kube_informer_write(char *ptr, size_t size, size_t nmemb, void *ud)
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
                                kube_informer_werr(inf, KW_ERROR, "watch %s: an event is "
                                                   "larger than 16 MiB", inf->path);
                                return 0;
                        }
                        if (inf->line_len + add + 1 > inf->line_cap) {
                                inf->line_cap = inf->line_len + add + 1;
                                inf->line = xrealloc(inf->line, inf->line_cap);
                        }
                        memcpy(inf->line + inf->line_len, ptr + start, add);
                        inf->line_len += add;
                        kube_informer_event(inf, inf->line, inf->line_len);
                        inf->line_len = 0;
                } else if (i > start) {
                        kube_informer_event(inf, ptr + start, i - start);
                }
                start = i + 1;
        }
        if (inf->wstate != KW_NONE)
                return 0;
        if (start < n) {
                size_t add = n - start;

                if (inf->line_len + add > KUBE_LINE_MAX) {
                        kube_informer_werr(inf, KW_ERROR, "watch %s: an event is larger "
                                           "than 16 MiB", inf->path);
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

static void kube_informer_tls(CURL *e, const struct http_tls *t)
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

static int kube_informer_watch_start(struct kube_informer *inf, const struct coll_ctx *ctx,
                                     struct err *err)
{
        struct kube_client *c = inf->c;
        const struct kube_config *kc = c->kc;
        const char *bearer = NULL;
        char *url, *rv;
        int64_t ct = ctx->timeout_ms > 0 ? ctx->timeout_ms : 10000;

        kube_informer_watch_stop(inf);
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
        curl_easy_setopt(inf->easy, CURLOPT_WRITEFUNCTION, kube_informer_write);
        curl_easy_setopt(inf->easy, CURLOPT_WRITEDATA, inf);
        curl_easy_setopt(inf->easy, CURLOPT_USERAGENT, "lambdaops/" LO_VERSION);
        curl_easy_setopt(inf->easy, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(inf->easy, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(inf->easy, CURLOPT_ACCEPT_ENCODING, "");
        kube_informer_tls(inf->easy, &c->tls);
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
                kube_informer_watch_stop(inf);
                return -1;
        }
        return 0;
}

enum kube_informer_pump {
        KP_RUNNING,     /* stream open, nothing more to read now */
        KP_CLEAN_END,   /* the server ended the stream (timeoutSeconds) */
        KP_DROPPED,     /* transport failure */
        KP_EXPIRED,     /* 410: re-list */
        KP_ERROR,       /* err set */
        KP_STOP,        /* quit requested */
};

/* Reads what the watch stream has ready, within ctx. */
static enum kube_informer_pump kube_informer_pump(struct kube_informer *inf,
                                                  const struct coll_ctx *ctx,
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
                                char *msg = kube_informer_redact_dup(inf, cJSON_GetStringValue(
                                        cJSON_GetObjectItemCaseSensitive(d, "message")));

                                err_set(err, (int)inf->status, "watch %s: %ld %s%s%.150s",
                                        inf->path, inf->status,
                                        http_status_text(inf->status), msg ? ": " : "",
                                        msg ? msg : "");
                                free(msg);
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
                return kube_informer_list(inf, ctx, err);
        }
        for (int round = 0; round < 4; round++) {
                enum kube_informer_pump p;

                if (inf->need_list) {
                        kube_informer_watch_stop(inf);
                        if (kube_informer_list(inf, ctx, err))
                                return -1;
                }
                if (!inf->easy && kube_informer_watch_start(inf, ctx, err))
                        return -1;
                p = kube_informer_pump(inf, ctx, err);
                switch (p) {
                case KP_RUNNING:
                        return 0;
                case KP_STOP:
                        return -1;
                case KP_CLEAN_END:
                        inf->st.rewatches++;
                        kube_informer_watch_stop(inf);
                        continue;
                case KP_EXPIRED:
                        inf->st.expired++;
                        inf->need_list = true;
                        continue;
                case KP_ERROR:
                        kube_informer_watch_stop(inf);
                        inf->need_list = true;
                        return -1;
                case KP_DROPPED:
                        /* A stream that worked resumes from the last RV;
                         * one that never got going means the server or RV
                         * is gone: list again. */
                        kube_informer_watch_stop(inf);
                        if (retried_drop)
                                inf->need_list = true;
                        retried_drop = true;
                        continue;
                }
        }
        return 0;
}
