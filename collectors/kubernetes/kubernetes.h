/*
 * kubernetes: the `kind: kubernetes` collector (nodes, workloads, pods,
 * PVCs, Warning events, Helm releases, grouped by pipeline component) on
 * the direct API client of src/clients/kube/kube.h, and the Cluster pane's interface.
 *
 * Models. Informers (src/clients/kube/kube.h) keep one compact model per API object:
 * a single allocation holding the struct, its small arrays and its strings
 * (never the object itself, never labels beyond the component they name).
 * Models are immutable and reference counted (C11 atomics): a published
 * `struct kubernetes_data` holds references to the very models in the
 * informer caches, so a poll allocates nothing per pod, and the cache can
 * replace or drop a model while a snapshot still reads the old one.
 */
#ifndef LO_COLLECTORS_KUBERNETES_H
#define LO_COLLECTORS_KUBERNETES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/collector.h"
#include "core/config.h"
#include "clients/kube/kube.h"

struct cJSON;
struct column;
struct table_rows;
struct tlines;
struct view_data;
struct view_ops;

extern const struct collector_ops coll_kubernetes_ops;

/* The connection settings of a `kind: kubernetes` source: used by `kind:
 * spark` sources (their `kubernetes:` key) and by the kubectl/helm actions
 * (--kubeconfig, --context). The strings are borrowed from the config.
 * Pure; any thread. */
void kubernetes_source_opts(const struct source_cfg *src, struct kube_opts *out);

/* Kind-specific config (collector_ops.keys fill it). */
struct kubernetes_cfg {
        char *kubeconfig;               /* ':'-separated paths; NULL = $KUBECONFIG, then
                                           ~/.kube/config */
        char *context;                  /* NULL = current-context */
        char *server;                   /* NULL, or overrides the cluster's server URL */
        struct cfg_strlist namespaces;  /* empty = all namespaces */
        struct cfg_strmap components;   /* component name -> label selector, in file order */
        char *watch;                    /* "true"/"false" (NULL = true); text so the
                                           default can be true */
        int64_t exec_timeout_ms;        /* exec credential plugin bound; 0 = 10 s */
};

/* The top-level keys the kind owns (collector_ops.config_keys): the
 * programs the kubectl/helm actions of kubeact.c run. Read back with
 * config_kind_cfg(cfg, &coll_kubernetes_ops). */
struct kubernetes_top_cfg {
        char *kubectl;                  /* kubectl binary; NULL = "kubectl" (PATH) */
        char *helm;                     /* helm binary; NULL = "helm" (PATH) */
        char *kubectl_cache_dir;        /* --cache-dir for kubectl; NULL = kubectl's */
};

/* --- models (immutable; `refs` first in every one) ------------------------ */

struct kubernetes_container {
        const char *name;
        bool        init;               /* an init container */
        bool        ready;
        int         restarts;
        const char *state;              /* "running", "waiting", "terminated"; NULL unknown */
        const char *reason;             /* the state's reason (CrashLoopBackOff, Completed); NULL */
        const char *last_reason;        /* lastState.terminated.reason (OOMKilled); NULL */
        int         last_exit;          /* lastState.terminated.exitCode; -1 none */
};

struct kubernetes_cond {
        const char *type;               /* "Ready", "PodScheduled", ... */
        const char *status;             /* "True", "False", "Unknown" */
        const char *reason;             /* or NULL */
};

struct kubernetes_pod {
        atomic_int  refs;
        const char *ns, *name;
        const char *component;          /* borrowed from the config; NULL = none */
        const char *phase;              /* Pending/Running/Succeeded/Failed/Unknown; NULL */
        const char *reason;             /* Terminating, status.reason (Evicted), a waiting
                                           reason (CrashLoopBackOff), a terminated one
                                           (OOMKilled, Error); NULL = none */
        const char *last_reason;        /* the first container's lastState.terminated.reason */
        const char *node;               /* spec.nodeName; NULL unscheduled */
        const char *owner_kind;         /* ownerReferences[controller]: StatefulSet, ReplicaSet */
        const char *owner_name;
        const char *message;            /* status.message (evictions), <= 256 bytes; NULL */
        int         ready_containers;   /* ready regular containers */
        int         containers;         /* regular containers (spec, else statuses) */
        int         restarts;           /* sum over regular containers */
        int64_t     start_ms;           /* status.startTime, else creationTimestamp; -1 */
        bool        terminating;        /* metadata.deletionTimestamp is set */
        bool        failing;            /* reason is a crash/pull/config failure */
        size_t      n_cont, n_cond;
        struct kubernetes_container *cont;      /* init containers first */
        struct kubernetes_cond *cond;
};

/* Bits of kubernetes_node.pressure, in the order of kubernetes_node_conds. */
enum { K8S_MEM_PRESSURE = 1, K8S_DISK_PRESSURE = 2, K8S_PID_PRESSURE = 4,
       K8S_NET_UNAVAILABLE = 8 };
extern const char *const kubernetes_node_conds[4];

struct kubernetes_node {
        atomic_int  refs;
        const char *name;
        int         ready;              /* 1 True, 0 False, -1 Unknown or no condition */
        unsigned    pressure;           /* K8S_* bits of conditions that are True */
        double      cpu;                /* allocatable cores; NAN unknown */
        double      memory;             /* allocatable bytes; NAN unknown */
        bool        unschedulable;      /* spec.unschedulable (cordoned) */
        const char *version;            /* status.nodeInfo.kubeletVersion; NULL */
        int64_t     created_ms;         /* -1 unknown */
};

struct kubernetes_workload {
        atomic_int  refs;
        const char *kind;               /* "StatefulSet" or "Deployment" (static) */
        const char *ns, *name;
        const char *component;
        int         desired;            /* spec.replicas (missing = 0: omitempty) */
        int         ready;              /* status.readyReplicas (missing = 0) */
        int         updated;            /* status.updatedReplicas (missing = 0) */
        int         available;          /* status.availableReplicas (missing = 0) */
        int64_t     created_ms;
};

struct kubernetes_pvc {
        atomic_int  refs;
        const char *ns, *name;
        const char *component;
        const char *phase;              /* Pending/Bound/Lost; NULL */
        double      capacity;           /* status.capacity.storage bytes; NAN unknown */
        double      requested;          /* spec.resources.requests.storage; NAN */
        const char *storage_class;      /* NULL */
        const char *volume;             /* spec.volumeName; NULL */
        int64_t     created_ms;
};

struct kubernetes_event {
        atomic_int  refs;
        const char *ns, *name;
        const char *object;             /* "Pod/kafka-0" (involvedObject kind/name) */
        const char *reason;             /* NULL */
        const char *message;            /* <= 512 bytes; NULL */
        int         count;              /* count, else series.count; -1 unknown */
        int64_t     last_seen_ms;       /* lastTimestamp, eventTime, series.lastObservedTime; -1 */
};

struct kubernetes_release {             /* one Helm release revision (a Secret's labels) */
        atomic_int  refs;
        const char *ns, *name;
        int         revision;           /* labels.version; -1 unknown */
        const char *status;             /* deployed, failed, pending-upgrade, ...; NULL */
        int64_t     created_ms;
};

/* Drops a reference to any model above; frees on the last. NULL-safe. */
void kubernetes_model_unref(void *model);
/* Takes one more reference to a model (an informer's, for a poll). */
void kubernetes_model_ref(void *model);

/* Component selectors, parsed once. */
struct kubernetes_components;

/* Parses `components` (name -> selector). NULL with err ("components.kafka:
 * ...") when a selector is not of the supported equality-based form
 * `a=b,c==d,e!=f,g,!h`. An empty map gives a valid empty set. The names are
 * borrowed from m, which must outlive the result. */
struct kubernetes_components *kubernetes_components_new(const struct cfg_strmap *m,
                                                        struct err *err);
void kubernetes_components_free(struct kubernetes_components *c);     /* NULL-safe */
/* True when the labels object (may be NULL) satisfies the selector text.
 * An unparsable selector matches nothing. Pure. */
bool kubernetes_selector_match(const char *selector, const struct cJSON *labels);
/* The first component whose selector matches, or NULL. Pure. */
const char *kubernetes_component_of(const struct kubernetes_components *c,
                                    const struct cJSON *labels);

/* Model builders: a new model (one reference) from a borrowed API object,
 * or NULL when the object is not one (no name, wrong shape, a Secret that
 * is no Helm release). `comps` may be NULL. Pure. */
struct kubernetes_pod *kubernetes_pod_make(const struct cJSON *obj,
                                           const struct kubernetes_components *comps);
struct kubernetes_node *kubernetes_node_make(const struct cJSON *obj);
/* kind: "StatefulSet" or "Deployment" (list items carry no kind; a kind in
 * the object wins). */
struct kubernetes_workload *kubernetes_workload_make(const struct cJSON *obj, const char *kind,
                                                     const struct kubernetes_components *comps);
struct kubernetes_pvc *kubernetes_pvc_make(const struct cJSON *obj,
                                           const struct kubernetes_components *comps);
struct kubernetes_event *kubernetes_event_make(const struct cJSON *obj);
struct kubernetes_release *kubernetes_release_make(const struct cJSON *obj);

/* --- published data -------------------------------------------------------- */

#define K8S_EVENTS_MAX 200      /* newest events published */

struct kubernetes_data {
        char   *context;                /* owned; NULL unknown */
        char   *server;                 /* owned; NULL unknown */
        int64_t collected_ms;           /* wall ms of the poll (ages are relative to it) */
        /* Arrays of referenced models (each array owned, each element one
         * reference). Sorted: nodes by name; the rest by namespace, name
         * (workloads then by kind); events newest first, at most
         * K8S_EVENTS_MAX; releases one (the latest revision) per release. */
        struct kubernetes_node **nodes;         size_t n_nodes;
        struct kubernetes_workload **workloads; size_t n_workloads;
        struct kubernetes_pod **pods;           size_t n_pods;
        struct kubernetes_pvc **pvcs;           size_t n_pvcs;
        struct kubernetes_event **events;       size_t n_events;
        struct kubernetes_release **releases;   size_t n_releases;
        /* False when that resource was never read (RBAC forbids it, say):
         * its array is empty but unknown, and the JSON says null. */
        bool    have_nodes, have_workloads, have_pods, have_pvcs, have_events, have_releases;
        size_t  events_total;           /* Warning events in the cache (before the cap) */
        /* Derived counts (kubernetes_data_finish). */
        int nodes_ready, pods_not_ready, pods_failing, workloads_short, pvcs_unbound;
        int warnings_recent;            /* events seen in the 15 min before collected_ms */
};

/* Empty data with every resource known (have_* true). Owned. */
struct kubernetes_data *kubernetes_data_new(void);
void kubernetes_data_free(struct kubernetes_data *d);   /* NULL-safe; drops the refs */
/* collector_ops.metrics (collectors/kubernetes/kubernetes_metrics.c). */
struct promtext;
void kubernetes_metrics(const struct snapshot *s, const struct source_cfg *src,
                        struct promtext *out);
/* Appends a model reference to the matching array (takes the reference). */
void kubernetes_data_add_node(struct kubernetes_data *d, struct kubernetes_node *m);
void kubernetes_data_add_workload(struct kubernetes_data *d, struct kubernetes_workload *m);
void kubernetes_data_add_pod(struct kubernetes_data *d, struct kubernetes_pod *m);
void kubernetes_data_add_pvc(struct kubernetes_data *d, struct kubernetes_pvc *m);
void kubernetes_data_add_event(struct kubernetes_data *d, struct kubernetes_event *m);
/* Keeps only the latest revision per release (takes the reference). */
void kubernetes_data_add_release(struct kubernetes_data *d, struct kubernetes_release *m);
/* Sorts, caps the events and computes the derived counts. Call once after
 * the adds. */
void kubernetes_data_finish(struct kubernetes_data *d);

/* A pod counts as not ready: not finished (Succeeded/Failed) and not
 * Running with every regular container ready, or terminating. */
bool kubernetes_pod_not_ready(const struct kubernetes_pod *p);


#endif
