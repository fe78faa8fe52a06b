/*
 * http: the one HTTP client every REST collector uses (libcurl). A client
 * wraps one reused easy handle (keep-alive) and belongs to one collector
 * thread; never share it. Every request is bounded by the poll's deadline
 * (coll_ctx) and aborts at once when quit is requested.
 *
 * TLS verification is on unless the source sets insecure. Credentials
 * given here are sent, never logged: error texts carry the URL with any
 * userinfo masked, and never a header value.
 */
#ifndef LO_SRC_HTTP_H
#define LO_SRC_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/collector.h"
#include "core/util.h"

/* Per-source connection settings; borrowed by the client (the strings must
 * outlive it: they usually live in the source's kind cfg). */
struct http_tls {
        const char *ca_file;      /* PEM bundle path, or NULL for the system store */
        const char *ca_pem;       /* PEM text (e.g. kubeconfig *-data), or NULL */
        const char *cert_pem;     /* client certificate PEM text, or NULL */
        const char *key_pem;      /* client key PEM text, or NULL */
        const char *cert_file;    /* client certificate path, or NULL */
        const char *key_file;     /* client key path, or NULL */
        bool        insecure;     /* skip peer and host verification */
        const char *connect_to;   /* "NAME:PORT:HOST:PORT" (CURLOPT_CONNECT_TO):
                                     requests for NAME:PORT connect to HOST:PORT,
                                     so TLS checks NAME (kubeconfig
                                     tls-server-name), or NULL */
};

struct http_request {
        const char *method;       /* "GET" (default when NULL), "POST", ... */
        const char *url;
        const char *body;         /* request body or NULL */
        size_t      body_len;     /* strlen(body) when 0 and body set */
        const char *content_type; /* for the body; default application/json */
        const char *const *headers; /* extra "Name: value" lines, NULL-terminated */
        const char *user;         /* HTTP Basic, with password */
        const char *password;
        const char *bearer;       /* Authorization: Bearer ... */
        size_t      max_body;     /* response cap in bytes; 0 = 64 MiB */
};

struct http_response {
        long   status;            /* HTTP status; 0 when no response */
        char  *body;              /* owned, NUL-terminated (may hold NULs inside) */
        size_t len;
        char  *content_type;      /* owned, or NULL */
};

struct http_client;

/* New client (owned). tls may be NULL (defaults). Collector thread. */
struct http_client *http_client_new(const struct http_tls *tls);
void http_client_free(struct http_client *c);   /* NULL-safe */

/* Performs one request within ctx's deadline. Returns 0 when an HTTP
 * response arrived (any status: check resp->status), -1 on transport
 * failure, timeout or quit, with err saying which and what to check.
 * The body of a non-2xx answer comes back redacted (redact_text): the
 * request's user password, bearer token and the value of every custom
 * header named like a credential (...Key, ...Token, ...Auth..., Secret,
 * Password, Cookie), and their base64 forms, are "***", as are credentials
 * by shape; NUL bytes inside it are spaces. Callers build error texts from
 * such a body as it is; 2xx bodies are data and left alone.
 * resp is always initialised: after 0 free it with http_response_done; after
 * -1 it is empty (status 0, no body) and holds nothing to free. */
int http_do(struct http_client *c, const struct coll_ctx *ctx,
            const struct http_request *req, struct http_response *resp,
            struct err *err);
void http_response_done(struct http_response *r);

/* Checks a service base URL from config (any thread; pure): it must start
 * with http:// or https:// and carry no "user:pw@" before the path. Returns
 * the part after "://" (the host onwards, for the kind's own checks), or
 * NULL with err saying what is wrong; `example` ("http://127.0.0.1:8123")
 * goes into the message. */
/* base (without its trailing slashes) followed by path; owned. */
char *http_url_join(const char *base, const char *path);

/* A JSON REST API at a base URL (Kafka Connect, Schema Registry): what
 * http_get_json_api needs besides the path. */
struct http_api {
        const char *base;               /* base URL; trailing slashes are ignored */
        const char *accept;             /* the Accept header line ("Accept: ...") */
        const char *user;               /* HTTP Basic when set and not "" */
        const char *password;           /* with user; NULL is "" */
        int         transport_code;     /* err->code when no answer came */
        /* Sets err for a non-2xx answer; `what` names the request. */
        void (*status_error)(long status, const char *body, size_t len,
                             const char *content_type, const char *what, struct err *err);
};

/* GET base+path. Returns 0 with a 2xx response in resp, 1 with any other
 * HTTP answer (resp kept, err set by api->status_error), -1 on transport
 * failure (err set, err->code api->transport_code, resp empty). */
int http_get_json_api(struct http_client *c, const struct coll_ctx *ctx,
                      const struct http_api *api, const char *path, const char *what,
                      struct http_response *resp, struct err *err);

const char *http_url_check(const char *url, const char *example, struct err *err);

/* One URL path segment from a name: a DAG id, a connector, a subject, a
 * namespace, or a name a server returned. The only way a name enters a
 * path. Every byte but the unreserved ALPHA DIGIT "-._~" is
 * percent-encoded ("/" becomes %2F); a name that is empty, "." or ".."
 * (which would address another resource once dot segments are removed) or
 * longer than 1024 bytes is refused: NULL, err names `what` ("connector")
 * and the name, escaped for a terminal. Owned. Any thread. */
char *http_path_segment(const char *name, const char *what, struct err *err);

/* Copies url with any "user:password@" replaced by "***@". Owned. */
char *http_url_mask(const char *url);
/* "HTTP 401 Unauthorized" style reason for a status code. */
const char *http_status_text(long status);

#endif
