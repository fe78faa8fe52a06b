/*
 * kube: a Kubernetes API client in C on libcurl (src/clients/http.h), cJSON and
 * libyaml -- no kubectl for reads.
 *
 *   kube_config   kubeconfig files ($KUBECONFIG-style ':'-separated list,
 *                 merged in order: the first file to define a name wins, as
 *                 kubectl does), one context resolved into a server, TLS
 *                 material (PEM blobs handed to libcurl in memory) and
 *                 credentials (token, tokenFile, client certificate, exec
 *                 plugin run without a shell and cached until its
 *                 expirationTimestamp).
 *   kube_client   requests to one API server; one per collector thread.
 *   kube_list     paged lists (limit/continue; a 410 Expired restarts the
 *                 list), delivered item by item so memory stays one page.
 *   kube_informer list + watch with a local cache of the caller's compact
 *                 models: the steady state costs only the watch events; an
 *                 ERROR 410 in the stream (or an Expired list) re-lists.
 *
 * Threads: a kube_config is immutable once loaded and may be shared; a
 * client and its informers belong to one thread. Every request is bounded
 * by the coll_ctx deadline and aborts when quit is requested.
 * Secrets (tokens, keys) are never put in an error message.
 */
#ifndef LO_SRC_KUBE_H
#define LO_SRC_KUBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/collector.h"
#include "clients/http.h"
#include "core/util.h"

struct cJSON;

/* --- kubeconfig ----------------------------------------------------------- */

struct kube_opts {
        const char *kubeconfig; /* ':'-separated paths; NULL/"" = $KUBECONFIG,
                                   then ~/.kube/config */
        const char *context;    /* NULL/"" = the merged current-context */
        const char *server;     /* NULL, or overrides the cluster's server URL */
        int64_t exec_timeout_ms;/* bound on an exec credential plugin; 0 = 10 s */
};

/* The resolved connection for one context. Immutable after load. */
struct kube_config {
        char *context;          /* the context's name */
        char *cluster;          /* its cluster's name */
        char *user;             /* its user's name */
        char *server;           /* "https://host:port", no trailing '/' */
        char *namespace_;       /* the context's namespace, or NULL */
        char *path;             /* the file the context came from (for messages
                                   and for kubectl --kubeconfig) */
        struct http_tls tls;    /* strings owned by this struct */
        char *tls_server_name;  /* or NULL */
        /* credentials; never printed */
        char *token;            /* static bearer token, or NULL */
        char *token_file;       /* re-read when it changes, or NULL */
        char *username, *password;      /* basic auth, or NULL */
        /* exec plugin, or exec_command NULL */
        char  *exec_command;
        char **exec_args;       /* NULL-terminated */
        char **exec_env;        /* "NAME=value", NULL-terminated */
        char  *exec_api_version;
        bool   exec_provide_cluster_info;
        int64_t exec_timeout_ms;
        char  *exec_install_hint;       /* shown when the command is missing, or NULL */
        /* where the TLS material came from, for handshake errors:
         * "certificate-authority /etc/k/ca.crt", "client-key-data of user
         * \"sre\"", or NULL */
        char *ca_source, *cert_source, *key_source;
};

/* Loads and merges the files, resolves the context. NULL with err set
 * ("kubeconfig /x: context \"prod\" not found (have: dev, stage)",
 * "... certificate-authority-data: not base64", ...) on any problem. */
struct kube_config *kube_config_load(const struct kube_opts *o, struct err *err);
/* Same from YAML text (tests, fuzzing); `dir` resolves relative paths. */
struct kube_config *kube_config_parse(const char *yaml, size_t len, const char *name,
                                      const char *dir, const char *context,
                                      struct err *err);
void kube_config_free(struct kube_config *kc);  /* NULL-safe */

/* An exec plugin's answer (ExecCredential status). */
struct kube_exec_cred {
        char   *token;          /* owned, or NULL */
        char   *cert_pem;       /* clientCertificateData (plain PEM), or NULL */
        char   *key_pem;        /* clientKeyData (plain PEM), or NULL */
        int64_t expiry_ms;      /* expirationTimestamp (epoch ms), or -1 = none */
};
/* Parses an ExecCredential printed by `command` (named in errors, which
 * never quote a credential); its apiVersion must equal `api_version`. 0, or
 * -1 with err. Pure. */
int kube_exec_cred_parse(const char *json, size_t len, const char *command,
                         const char *api_version, struct kube_exec_cred *out,
                         struct err *err);
void kube_exec_cred_done(struct kube_exec_cred *c);     /* NULL-safe */

/* --- requests ------------------------------------------------------------- */

struct kube_client;

/* kc is borrowed and must outlive the client. */
struct kube_client *kube_client_new(const struct kube_config *kc, struct err *err);
void kube_client_free(struct kube_client *c);   /* NULL-safe */
const struct kube_config *kube_client_config(const struct kube_client *c);

/* One request to `path` ("/api/v1/nodes?limit=1", already escaped) with
 * the client's credentials (an exec token is fetched or refreshed first;
 * a 401 drops a cached exec token and retries once). Returns 0 with any
 * HTTP answer in resp, -1 on transport failure, timeout or quit. */
int kube_request(struct kube_client *c, const struct coll_ctx *ctx, const char *method,
                 const char *path, const char *body, const char *content_type,
                 struct http_response *resp, struct err *err);
/* GET path, expecting 2xx JSON. Returns the parsed document (owned) or NULL
 * with err: "GET /api/v1/nodes: 403 Forbidden: nodes is forbidden: ..."
 * (the Status message), or "not JSON (an HTML page? check server: ...)". */
struct cJSON *kube_get_json(struct kube_client *c, const struct coll_ctx *ctx,
                            const char *path, struct err *err);

/* Called for each list item; the item is borrowed for the call. Return 0
 * to go on, non-zero to stop the list (that value is returned).
 * item is NULL once when the list restarts after a 410 (expired continue
 * token): drop what was collected so far, the items come again. */
typedef int (*kube_item_fn)(const struct cJSON *item, void *user);

/* Lists `path` (a collection, no query) with `query` ("labelSelector=..."
 * escaped, or NULL) in pages of `limit` (0 = 500), calling fn per item.
 * Sets *resource_version (owned) to the list's resourceVersion. A 410 on a
 * continue token restarts the list from scratch once (fn sees items again:
 * callers must reset on `restart`, see kube_informer). 0 or -1 with err. */
int kube_list(struct kube_client *c, const struct coll_ctx *ctx, const char *path,
              const char *query, int limit, kube_item_fn fn, void *user,
              char **resource_version, struct err *err);

/* --- informers -------------------------------------------------------------- */

/* How an informer turns API objects into the caller's compact models. */
struct kube_model_ops {
        /* New model from a borrowed object, or NULL to ignore the object. */
        void *(*make)(const struct cJSON *obj, void *user);
        void  (*free)(void *model);
};

struct kube_informer;

/* One resource collection (e.g. "/api/v1/pods" or
 * "/api/v1/namespaces/data/pods") with an optional query. watch false =
 * re-list every sync (for servers or resources without watch). */
struct kube_informer *kube_informer_new(struct kube_client *c, const char *path,
                                        const char *query, bool watch,
                                        const struct kube_model_ops *ops, void *user);
void kube_informer_free(struct kube_informer *inf);     /* NULL-safe */
/* The watch's timeoutSeconds (default 300): the server ends the stream
 * then and the informer resumes from the last resourceVersion. */
void kube_informer_set_watch_timeout(struct kube_informer *inf, int seconds);

/* Brings the cache up to date within ctx: the first call (and after a 410
 * or a lost stream that cannot resume) lists; later calls read the watch
 * events that arrived (ADDED/MODIFIED replace, DELETED removes, BOOKMARK
 * moves the resourceVersion) without waiting for more than ctx allows.
 * 0, or -1 with err (the cache keeps its last good state; *stale set). */
int kube_informer_sync(struct kube_informer *inf, const struct coll_ctx *ctx,
                       struct err *err);
/* Cached models, keyed "namespace/name" (cluster-scoped: "name"), in key
 * order. Borrowed until the next sync. */
size_t kube_informer_count(const struct kube_informer *inf);
void  *kube_informer_at(const struct kube_informer *inf, size_t i, const char **key);
/* Counters for tests and the benchmark. */
struct kube_informer_stats {
        uint64_t lists;         /* full lists done */
        uint64_t pages;         /* pages fetched */
        uint64_t events;        /* watch events applied */
        uint64_t expired;       /* 410s that forced a re-list */
        uint64_t rewatches;     /* clean stream ends resumed from the last RV */
        bool     watching;      /* a watch stream is open */
        const char *resource_version;   /* borrowed */
};
void kube_informer_stats(const struct kube_informer *inf, struct kube_informer_stats *out);

/* --- helpers for models ------------------------------------------------------ */

/* Kubernetes quantities: "100Gi", "1.5G", "500M", "16331964Ki", "250m"
 * (milli), "1e3". Returns 0 with the value (bytes or cores), -1 when not a
 * quantity. Pure. */
int kube_quantity(const char *s, double *out);
/* RFC 3339 ("2024-05-01T10:00:00Z", fractions and offsets) to epoch ms, or
 * -1. Pure. */
int64_t kube_time_ms(const char *s);
/* Percent-escapes a query value (label selectors, continue tokens).
 * Owned. Not for path segments: a name in a path goes through
 * http_path_segment (clients/http.h), which also refuses "." and "..". */
char *kube_escape(const char *s);

#endif
