/*
 * Fake kube-apiserver harness (tests/lib/fake_kube.py) for the Kubernetes
 * client, the kubernetes/spark collectors and the kubectl actions.
 * Test-only; one server per struct.
 *
 * Fixture directories (pass absolute paths, e.g.
 * tu_src_path("tests/fixtures/kube/base"); later ones override objects of
 * earlier ones with the same kind/namespace/name):
 *   DIR/objects/NAME.json each a JSON array of full Kubernetes objects,
 *                        routed by kind: Namespace, Node, Pod, Service,
 *                        Secret, ConfigMap, PersistentVolumeClaim, Event
 *                        (core/v1, also served as events.k8s.io/v1),
 *                        StatefulSet, Deployment, ReplicaSet (apps/v1),
 *                        SparkApplication, ScheduledSparkApplication
 *                        (sparkoperator.k8s.io/v1beta2). uid,
 *                        resourceVersion, creationTimestamp are assigned
 *                        when missing.
 *   DIR/raw/<path>.json  answers GET /<path> verbatim (any query; a file
 *                        DIR/raw/<path>?<query>.json matches that exact
 *                        query first); DIR/raw/<path>.status optionally
 *                        holds the HTTP status. E.g. Spark REST through the
 *                        service proxy: raw/api/v1/namespaces/processing/
 *                        services/speed-ui-svc:4040/proxy/api/v1/
 *                        applications.json
 *   DIR/logs/<ns>/<pod>[.<container>][.previous].log   text of the pods/log
 *                        subresource (else 20 synthetic lines).
 * tests/fixtures/kube/base/ is the default set: namespaces ingestion and
 * processing; nodes node-1, node-2, node-3 (NotReady, cordoned);
 * StatefulSet ingestion/kafka (3 replicas, 2 ready) with pods kafka-0..2
 * (kafka-2 CrashLoopBackOff, 12 restarts, OOMKilled); Deployment
 * ingestion/connect + ReplicaSet connect-7d9f5c6b8 with 2 two-container
 * pods (one ImagePullBackOff, Pending); PVCs data-kafka-0..2; a Warning
 * BackOff event and a Normal event. Every object has a fixed uid (owner
 * references and events' involvedObject.uid match, so `kubectl describe`
 * finds the events); logs/ingestion/kafka-2.previous.log is the OOM log.
 *
 * The server implements list/watch/get/create/replace/patch/delete, the
 * scale and log subresources and discovery like a real API server (see the
 * top of tests/lib/fake_kube.py). Test controls (tu_kube_post, no auth):
 *   /_fake/objects  JSON array of objects: upsert, emits ADDED/MODIFIED
 *   /_fake/delete   JSON array of {"kind","namespace","name"}: emits DELETED
 *   /_fake/expire   open/next watches get ERROR 410, continue tokens 410
 *   /_fake/html     {"enabled":true|false}: every API path answers HTML
 *   /_fake/forbid   {"resources":["nodes",...]}: 403 Forbidden for those
 *   /_fake/drop     close open watch streams abruptly
 *   /_fake/bookmark send a BOOKMARK now on watches that allow them
 * and GET /_fake/state ({"resourceVersion":"N","watches":open count}).
 */
#ifndef LO_TESTS_TU_KUBE_H
#define LO_TESTS_TU_KUBE_H

#include <stdbool.h>
#include <sys/types.h>

enum {
        /* https with a fresh CA, a server certificate for 127.0.0.1 and
         * localhost, and a client certificate (CN "lo-tester", O
         * "system:masters") the server accepts. */
        TU_KUBE_TLS   = 1u << 0,
        /* a random bearer token the server accepts */
        TU_KUBE_TOKEN = 1u << 1,
};
/* With either flag, requests without valid auth get 401. */

struct tu_kube {
        char  dir[256];         /* temp dir with everything below */
        char  log[300];         /* request log, JSON lines: method, path,
                                   query, content_type, accept, body, auth
                                   ("cert"/"bearer"/"bad-bearer"/"none"), cn */
        char  base_url[128];    /* "http://127.0.0.1:PORT" or https */
        int   port;
        pid_t pid;
        unsigned flags;
        /* TLS material (TU_KUBE_TLS; else empty strings) */
        char  ca_pem[300];      /* CA certificate (verifies the server) */
        char  client_cert[300]; /* client certificate PEM */
        char  client_key[300];  /* its key PEM */
        char  token[72];        /* TU_KUBE_TOKEN; else "" */
        /* kubeconfig files (YAML, context "fake", namespace "ingestion"):
         * kubeconfig_cert   TLS + client-certificate-data/client-key-data
         *                   (only with TU_KUBE_TLS; else "")
         * kubeconfig_token  token (only with TU_KUBE_TOKEN; else "")
         * kubeconfig_noauth no credentials (certificate-authority-data when
         *                   TLS); 401 when the server requires auth */
        char  kubeconfig_cert[300];
        char  kubeconfig_token[300];
        char  kubeconfig_noauth[300];
};

/* Starts the server with the fixture dirs (NULL-terminated, may be NULL).
 * extra_args: more fake_kube.py arguments (NULL-terminated or NULL), e.g.
 * {"--pods", "5000", NULL} or {"--bookmark-interval", "0", NULL}. Returns
 * 0, or -1 with a message on stderr (everything cleaned up). */
int tu_kube_start_args(struct tu_kube *k, const char *const *fixture_dirs, unsigned flags,
                       const char *const *extra_args);
int tu_kube_start(struct tu_kube *k, const char *const *fixture_dirs, unsigned flags);
/* POST a control request (path "/_fake/objects", ...; json may be NULL).
 * 0 on HTTP 200, -1 otherwise (message on stderr). */
int tu_kube_post(struct tu_kube *k, const char *path, const char *json);
/* GET a path without auth (e.g. "/_fake/state"); owned body or NULL. */
char *tu_kube_get(struct tu_kube *k, const char *path);
/* The request log (JSON lines); owned string. */
char *tu_kube_requests(struct tu_kube *k);
/* Number of logged requests with exactly this method and path (query
 * ignored); -1 when the log cannot be read. */
int tu_kube_count(struct tu_kube *k, const char *method, const char *path);
/* Stops it (SIGTERM, SIGKILL to its process group after 5 s), waits for
 * it, removes the temp dir. Safe to call twice. */
void tu_kube_stop(struct tu_kube *k);

#endif
