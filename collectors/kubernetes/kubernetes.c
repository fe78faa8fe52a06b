/*
 * Kubernetes collector: nodes, StatefulSets and Deployments, pods, PVCs,
 * Warning events and Helm releases of one cluster context, grouped by
 * pipeline component, on the direct API client of src/clients/kube/kube.h (no kubectl
 * for reads).
 *
 * One collector thread per source owns a `struct ks_state`: the resolved
 * kubeconfig, one kube_client and one kube_informer per resource and
 * configured namespace (all-namespaces paths when `namespaces` is empty):
 *
 *   nodes                  /api/v1/nodes
 *   pods                   /api/v1[/namespaces/NS]/pods
 *   statefulsets           /apis/apps/v1[/namespaces/NS]/statefulsets
 *   deployments            /apis/apps/v1[/namespaces/NS]/deployments
 *   pvcs                   /api/v1[/namespaces/NS]/persistentvolumeclaims
 *   events                 /api/v1[/namespaces/NS]/events?fieldSelector=type=Warning
 *   helm releases          /api/v1[/namespaces/NS]/secrets?labelSelector=owner=helm
 *
 * The first poll lists; later polls only apply the watch events that
 * arrived (`watch: false` re-lists every poll). Informers keep compact
 * models (kubernetes.h), made here by the pure kubernetes_*_make builders;
 * a poll publishes references to them, so the steady state allocates
 * nothing per pod. Helm releases are read from their storage Secrets'
 * labels only (name, status, version); the release payload in the Secret
 * is never kept (it passes through the list once, see docs/performance.md).
 *
 * Status: DOWN when the kubeconfig cannot be resolved or no resource could
 * be read (the error of the first; the next poll loads the kubeconfig
 * again and re-lists); DEGRADED when some could not (RBAC often forbids
 * nodes or secrets): the others are still shown, the failed ones from
 * their last good state.
 *
 * Alerts (thresholds in ks_thresholds, documented in docs/config.md): pods
 * failing (CrashLoopBackOff, ImagePullBackOff, ...), pod restarts, pods not
 * ready, nodes NotReady and under pressure, workloads below their desired
 * replicas, PVCs not Bound (Lost is always crit), recent Warning events.
 * Per-object alerts stop after KS_ALERTS_MAX per rule, with one line for
 * the rest, so a bad rollout of 5,000 pods stays readable.
 */
#include "collectors/kubernetes/kubernetes.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/jsonout.h"
#include "clients/http.h"
#include "clients/kube/kube.h"
#include "collectors/kubernetes/kubeact.h"
#include "core/util.h"

#define KS_ALERTS_MAX     20            /* per-object alerts per rule */
#define KS_RECENT_MS      (15 * 60 * 1000)      /* "recent" Warning events */

static const struct cfg_key ks_keys[] = {
        { "kubeconfig",   CFG_STR,      offsetof(struct kubernetes_cfg, kubeconfig),      false,
          "':'-separated kubeconfig files merged in order (default $KUBECONFIG, then "
          "~/.kube/config)" },
        { "context",      CFG_STR,      offsetof(struct kubernetes_cfg, context),         false,
          "kubeconfig context (default: its current-context)" },
        { "server",       CFG_STR,      offsetof(struct kubernetes_cfg, server),          false,
          "API server URL overriding the context's cluster server" },
        { "namespaces",   CFG_STRLIST,  offsetof(struct kubernetes_cfg, namespaces),      false,
          "namespaces to watch (default: all namespaces)" },
        { "components",   CFG_STRMAP,   offsetof(struct kubernetes_cfg, components),      false,
          "pipeline component -> label selector (a=b,c!=d,e), first match wins" },
        { "watch",        CFG_STR,      offsetof(struct kubernetes_cfg, watch),           false,
          "true (default): list once, then follow watch streams; false: re-list each poll" },
        { "exec_timeout", CFG_DURATION, offsetof(struct kubernetes_cfg, exec_timeout_ms), false,
          "bound on an exec credential plugin (default 10s)" },
        { NULL, 0, 0, false, NULL },
};

/* Top-level keys (collector_ops.config_keys), for the actions of kubeact.c. */
static const struct cfg_key ks_top_keys[] = {
        { "kubectl", CFG_STR, offsetof(struct kubernetes_top_cfg, kubectl), false,
          "the kubectl binary (default: kubectl on PATH)" },
        { "helm", CFG_STR, offsetof(struct kubernetes_top_cfg, helm), false,
          "the helm binary (default: helm on PATH)" },
        { "kubectl_cache_dir", CFG_STR, offsetof(struct kubernetes_top_cfg, kubectl_cache_dir),
          false, "--cache-dir for kubectl (default: kubectl's)" },
        { NULL, 0, 0, false, NULL },
};

static const struct threshold_def ks_thresholds[] = {
        { "pod_failing",      THR_COUNT, 1.0, NAN,
          "a pod waiting in CrashLoopBackOff, ImagePullBackOff, ErrImagePull, "
          "CreateContainerConfigError, ... (value 1 per pod)" },
        { "pod_restarts",     THR_COUNT, 10.0, NAN,
          "container restarts of a pod (sum over its containers)" },
        { "pods_not_ready",   THR_COUNT, 3.0, NAN,
          "pods of the source Pending, Unknown or Running with a container not ready" },
        { "node_not_ready",   THR_COUNT, NAN, 1.0,
          "a node whose Ready condition is False or Unknown (value 1 per node)" },
        { "node_pressure",    THR_COUNT, 1.0, NAN,
          "pressure conditions (Memory/Disk/PID, NetworkUnavailable) True on a node" },
        { "workload_missing", THR_COUNT, 1.0, NAN,
          "replicas a StatefulSet or Deployment is below its desired count (none ready "
          "while some are desired is always crit)" },
        { "pvc_not_bound",    THR_COUNT, 1.0, NAN,
          "a PVC Pending (value 1 per PVC; Lost is always crit)" },
        { "warning_events",   THR_COUNT, 20.0, NAN,
          "Warning events seen in the last 15 minutes" },
        { NULL, 0, 0, 0, NULL },
};

const char *const kubernetes_node_conds[4] = {
        "MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable",
};

/* ------------------------------------------------------------------------
 * Published data
 */

struct kubernetes_data *kubernetes_data_new(void)
{
        struct kubernetes_data *d = xcalloc(1, sizeof *d);

        d->have_nodes = d->have_workloads = d->have_pods = true;
        d->have_pvcs = d->have_events = d->have_releases = true;
        return d;
}

static void kubernetes_unref_all(void **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                kubernetes_model_unref(v[i]);
        free(v);
}

void kubernetes_data_free(struct kubernetes_data *d)
{
        if (!d)
                return;
        kubernetes_unref_all((void **)d->nodes, d->n_nodes);
        kubernetes_unref_all((void **)d->workloads, d->n_workloads);
        kubernetes_unref_all((void **)d->pods, d->n_pods);
        kubernetes_unref_all((void **)d->pvcs, d->n_pvcs);
        kubernetes_unref_all((void **)d->events, d->n_events);
        kubernetes_unref_all((void **)d->releases, d->n_releases);
        free(d->context);
        free(d->server);
        free(d);
}

/* Appends to a pointer array whose capacity doubles at powers of two. */
static void kubernetes_push(void ***v, size_t *n, void *m)
{
        if (!m)
                return;
        if ((*n & (*n - 1)) == 0)       /* 0, 1, 2, 4, ...: grow */
                *v = xrealloc(*v, (*n ? 2 * *n : 1) * sizeof **v);
        (*v)[(*n)++] = m;
}

void kubernetes_data_add_node(struct kubernetes_data *d, struct kubernetes_node *m)
{
        kubernetes_push((void ***)&d->nodes, &d->n_nodes, m);
}

void kubernetes_data_add_workload(struct kubernetes_data *d, struct kubernetes_workload *m)
{
        kubernetes_push((void ***)&d->workloads, &d->n_workloads, m);
}

void kubernetes_data_add_pod(struct kubernetes_data *d, struct kubernetes_pod *m)
{
        kubernetes_push((void ***)&d->pods, &d->n_pods, m);
}

void kubernetes_data_add_pvc(struct kubernetes_data *d, struct kubernetes_pvc *m)
{
        kubernetes_push((void ***)&d->pvcs, &d->n_pvcs, m);
}

void kubernetes_data_add_event(struct kubernetes_data *d, struct kubernetes_event *m)
{
        kubernetes_push((void ***)&d->events, &d->n_events, m);
}

void kubernetes_data_add_release(struct kubernetes_data *d, struct kubernetes_release *m)
{
        kubernetes_push((void ***)&d->releases, &d->n_releases, m);
}

static int kubernetes_strcmp0(const char *a, const char *b)
{
        return strcmp(a ? a : "", b ? b : "");
}

static int kubernetes_cmp_nsname(const char *ans, const char *an, const char *bns, const char *bn)
{
        int c = kubernetes_strcmp0(ans, bns);

        return c ? c : kubernetes_strcmp0(an, bn);
}

static int kubernetes_cmp_node(const void *a, const void *b)
{
        const struct kubernetes_node *x = *(void *const *)a, *y = *(void *const *)b;

        return kubernetes_strcmp0(x->name, y->name);
}

static int kubernetes_cmp_pod(const void *a, const void *b)
{
        const struct kubernetes_pod *x = *(void *const *)a, *y = *(void *const *)b;

        return kubernetes_cmp_nsname(x->ns, x->name, y->ns, y->name);
}

static int kubernetes_cmp_wl(const void *a, const void *b)
{
        const struct kubernetes_workload *x = *(void *const *)a, *y = *(void *const *)b;
        int c = kubernetes_cmp_nsname(x->ns, x->name, y->ns, y->name);

        return c ? c : kubernetes_strcmp0(x->kind, y->kind);
}

static int kubernetes_cmp_pvc(const void *a, const void *b)
{
        const struct kubernetes_pvc *x = *(void *const *)a, *y = *(void *const *)b;

        return kubernetes_cmp_nsname(x->ns, x->name, y->ns, y->name);
}

static int kubernetes_cmp_event(const void *a, const void *b)
{
        const struct kubernetes_event *x = *(void *const *)a, *y = *(void *const *)b;

        if (x->last_seen_ms != y->last_seen_ms)
                return x->last_seen_ms > y->last_seen_ms ? -1 : 1;     /* unknown (-1) last */
        return kubernetes_cmp_nsname(x->ns, x->name, y->ns, y->name);
}

static int kubernetes_cmp_rel(const void *a, const void *b)
{
        const struct kubernetes_release *x = *(void *const *)a, *y = *(void *const *)b;
        int c = kubernetes_cmp_nsname(x->ns, x->name, y->ns, y->name);

        if (c)
                return c;
        return x->revision > y->revision ? -1 : x->revision < y->revision;
}

bool kubernetes_pod_not_ready(const struct kubernetes_pod *p)
{
        const char *ph = p->phase ? p->phase : "";

        if (strcmp(ph, "Succeeded") == 0 || strcmp(ph, "Failed") == 0)
                return false;   /* finished: neither ready nor waiting to be */
        return strcmp(ph, "Running") != 0 || p->terminating || p->containers == 0 ||
               p->ready_containers < p->containers;
}

void kubernetes_data_finish(struct kubernetes_data *d)
{
        size_t k = 0;

        if (d->n_nodes > 1)
                qsort(d->nodes, d->n_nodes, sizeof *d->nodes, kubernetes_cmp_node);
        if (d->n_pods > 1)
                qsort(d->pods, d->n_pods, sizeof *d->pods, kubernetes_cmp_pod);
        if (d->n_workloads > 1)
                qsort(d->workloads, d->n_workloads, sizeof *d->workloads, kubernetes_cmp_wl);
        if (d->n_pvcs > 1)
                qsort(d->pvcs, d->n_pvcs, sizeof *d->pvcs, kubernetes_cmp_pvc);
        if (d->n_events > 1)
                qsort(d->events, d->n_events, sizeof *d->events, kubernetes_cmp_event);
        if (d->n_releases > 1)
                qsort(d->releases, d->n_releases, sizeof *d->releases, kubernetes_cmp_rel);

        /* Releases: the first (highest) revision of each name. */
        for (size_t i = 0; i < d->n_releases; i++) {
                struct kubernetes_release *r = d->releases[i];

                if (k && kubernetes_cmp_nsname(d->releases[k - 1]->ns, d->releases[k - 1]->name,
                                               r->ns, r->name) == 0) {
                        kubernetes_model_unref(r);
                        continue;
                }
                d->releases[k++] = r;
        }
        d->n_releases = k;

        d->events_total = d->n_events;
        d->warnings_recent = 0;
        for (size_t i = 0; i < d->n_events; i++)
                if (d->events[i]->last_seen_ms >= 0 &&
                    d->events[i]->last_seen_ms >= d->collected_ms - KS_RECENT_MS)
                        d->warnings_recent++;
        for (size_t i = K8S_EVENTS_MAX; i < d->n_events; i++)
                kubernetes_model_unref(d->events[i]);
        if (d->n_events > K8S_EVENTS_MAX)
                d->n_events = K8S_EVENTS_MAX;

        d->nodes_ready = d->pods_not_ready = d->pods_failing = 0;
        d->workloads_short = d->pvcs_unbound = 0;
        for (size_t i = 0; i < d->n_nodes; i++)
                d->nodes_ready += d->nodes[i]->ready == 1;
        for (size_t i = 0; i < d->n_pods; i++) {
                d->pods_not_ready += kubernetes_pod_not_ready(d->pods[i]);
                d->pods_failing += d->pods[i]->failing;
        }
        for (size_t i = 0; i < d->n_workloads; i++)
                d->workloads_short += d->workloads[i]->ready < d->workloads[i]->desired;
        for (size_t i = 0; i < d->n_pvcs; i++)
                d->pvcs_unbound += !d->pvcs[i]->phase || strcmp(d->pvcs[i]->phase, "Bound");
}

/* ------------------------------------------------------------------------
 * Config
 */

/* `watch`: true unless written false/no/off. -1 when not a boolean. */
static int kubernetes_watch_on(const struct kubernetes_cfg *c)
{
        const char *w = c->watch;

        if (!w || !strcasecmp(w, "true") || !strcasecmp(w, "yes") || !strcasecmp(w, "on"))
                return 1;
        if (!strcasecmp(w, "false") || !strcasecmp(w, "no") || !strcasecmp(w, "off"))
                return 0;
        return -1;
}

static int kubernetes_validate(const struct source_cfg *src, struct err *err)
{
        const struct kubernetes_cfg *c = src->kind_cfg;
        struct kubernetes_components *comps;

        if (kubernetes_watch_on(c) < 0) {
                err_set(err, EINVAL, "watch: expected true or false, got \"%.40s\"",
                        c->watch);
                return -1;
        }
        for (size_t i = 0; i < c->namespaces.n; i++) {
                const char *ns = c->namespaces.v[i];

                if (!ns || !*ns || strlen(ns) > 63 || strspn(ns, "abcdefghijklmnopqrstuvwxyz"
                                                             "0123456789-") != strlen(ns)) {
                        err_set(err, EINVAL, "namespaces[%zu]: \"%.63s\" is not a "
                                "namespace name (lowercase letters, digits and '-')", i,
                                ns ? ns : "");
                        return -1;
                }
        }
        if (c->server && strncmp(c->server, "https://", 8) != 0 &&
            strncmp(c->server, "http://", 7) != 0) {
                err_set(err, EINVAL, "server: expected an http(s):// URL");
                return -1;
        }
        comps = kubernetes_components_new(&c->components, err);
        if (!comps)
                return -1;
        kubernetes_components_free(comps);
        return 0;
}

void kubernetes_source_opts(const struct source_cfg *src, struct kube_opts *out)
{
        const struct kubernetes_cfg *c = src ? src->kind_cfg : NULL;

        memset(out, 0, sizeof *out);
        if (!c)
                return;
        out->kubeconfig = c->kubeconfig;
        out->context = c->context;
        out->server = c->server;
        out->exec_timeout_ms = c->exec_timeout_ms;
}

/* ------------------------------------------------------------------------
 * State and poll (collector thread)
 */

enum ks_type { KS_NODE, KS_POD, KS_WL, KS_PVC, KS_EVENT, KS_REL };

struct ks_res {
        const char *what;       /* for messages */
        const char *group;      /* "/api/v1", "/apis/apps/v1" */
        const char *plural;     /* "pods" */
        bool namespaced;
        const char *query;
        enum ks_type type;
        const char *kind;       /* workloads */
};

static const struct ks_res ks_res[] = {
        { "nodes", "/api/v1", "nodes", false, NULL, KS_NODE, NULL },
        { "pods", "/api/v1", "pods", true, NULL, KS_POD, NULL },
        { "statefulsets", "/apis/apps/v1", "statefulsets", true, NULL, KS_WL, "StatefulSet" },
        { "deployments", "/apis/apps/v1", "deployments", true, NULL, KS_WL, "Deployment" },
        { "pvcs", "/api/v1", "persistentvolumeclaims", true, NULL, KS_PVC, NULL },
        { "events", "/api/v1", "events", true, "fieldSelector=type%3DWarning", KS_EVENT, NULL },
        { "helm releases", "/api/v1", "secrets", true, "labelSelector=owner%3Dhelm", KS_REL,
          NULL },
};

struct ks_state;

/* The informer's user pointer: what its make() needs. */
struct ks_user {
        const struct ks_res *res;
        const struct kubernetes_components *comps;
};

struct ks_inf {
        struct kube_informer *inf;
        const struct ks_res *res;
        char *ns;               /* owned; NULL = all namespaces / cluster-scoped */
};

struct ks_state {
        const struct source_cfg *src;
        const struct kubernetes_cfg *cfg;
        struct kubernetes_components *comps;
        struct kube_config *kc;
        struct kube_client *client;
        struct ks_user users[LO_ARRAY_LEN(ks_res)];
        struct ks_inf *infs;
        size_t n_infs;
};

static void *kubernetes_make(const cJSON *obj, void *user)
{
        const struct ks_user *u = user;

        switch (u->res->type) {
        case KS_NODE:
                return kubernetes_node_make(obj);
        case KS_POD:
                return kubernetes_pod_make(obj, u->comps);
        case KS_WL:
                return kubernetes_workload_make(obj, u->res->kind, u->comps);
        case KS_PVC:
                return kubernetes_pvc_make(obj, u->comps);
        case KS_EVENT:
                return kubernetes_event_make(obj);
        case KS_REL:
                return kubernetes_release_make(obj);
        }
        return NULL;
}

static const struct kube_model_ops ks_model_ops = {
        .make = kubernetes_make,
        .free = kubernetes_model_unref,
};

static void *kubernetes_create(const struct source_cfg *src)
{
        struct ks_state *st = xcalloc(1, sizeof *st);
        struct err e;

        st->src = src;
        st->cfg = src->kind_cfg;
        err_clear(&e);
        st->comps = kubernetes_components_new(&st->cfg->components, &e);
        if (!st->comps)         /* validate() refused it already; be safe */
                st->comps = kubernetes_components_new(NULL, &e);
        for (size_t i = 0; i < LO_ARRAY_LEN(ks_res); i++)
                st->users[i] = (struct ks_user){ &ks_res[i], st->comps };
        return st;
}

static void kubernetes_drop_client(struct ks_state *st)
{
        for (size_t i = 0; i < st->n_infs; i++) {
                kube_informer_free(st->infs[i].inf);
                free(st->infs[i].ns);
        }
        free(st->infs);
        st->infs = NULL;
        st->n_infs = 0;
        kube_client_free(st->client);
        st->client = NULL;
        kube_config_free(st->kc);
        st->kc = NULL;
}

static void kubernetes_destroy(void *state)
{
        struct ks_state *st = state;

        if (!st)
                return;
        kubernetes_drop_client(st);
        kubernetes_components_free(st->comps);
        free(st);
}

static void kubernetes_add_inf(struct ks_state *st, size_t r, const char *ns)
{
        const struct ks_res *res = &ks_res[r];
        struct ks_inf *x;
        char *path;

        if (ns && res->namespaced) {
                /* validate allows DNS labels only, so this is never refused;
                 * a refusal would skip the resource rather than list all. */
                char *seg = http_path_segment(ns, "namespace", NULL);

                if (!seg)
                        return;
                path = xasprintf("%s/namespaces/%s/%s", res->group, seg, res->plural);
                free(seg);
        } else {
                path = xasprintf("%s/%s", res->group, res->plural);
        }
        st->infs = xrealloc(st->infs, (st->n_infs + 1) * sizeof *st->infs);
        x = &st->infs[st->n_infs++];
        x->res = res;
        x->ns = ns && res->namespaced ? xstrdup(ns) : NULL;
        x->inf = kube_informer_new(st->client, path, res->query, kubernetes_watch_on(st->cfg) != 0,
                                   &ks_model_ops, &st->users[r]);
        free(path);
}

/* Resolves the kubeconfig and builds the client and informers. */
static int kubernetes_connect(struct ks_state *st, struct err *err)
{
        const struct kubernetes_cfg *c = st->cfg;
        struct kube_opts o;

        kubernetes_source_opts(st->src, &o);
        st->kc = kube_config_load(&o, err);
        if (!st->kc)
                return -1;
        st->client = kube_client_new(st->kc, err);
        if (!st->client) {
                kube_config_free(st->kc);
                st->kc = NULL;
                return -1;
        }
        for (size_t r = 0; r < LO_ARRAY_LEN(ks_res); r++) {
                if (!ks_res[r].namespaced || !c->namespaces.n) {
                        kubernetes_add_inf(st, r, NULL);
                        continue;
                }
                for (size_t i = 0; i < c->namespaces.n; i++)
                        kubernetes_add_inf(st, r, c->namespaces.v[i]);
        }
        return 0;
}

/* The data's "was it ever read" flag for x's resource. */
static bool *kubernetes_have(const struct ks_inf *x, struct kubernetes_data *d)
{
        switch (x->res->type) {
        case KS_NODE:
                return &d->have_nodes;
        case KS_POD:
                return &d->have_pods;
        case KS_WL:
                return &d->have_workloads;
        case KS_PVC:
                return &d->have_pvcs;
        case KS_EVENT:
                return &d->have_events;
        case KS_REL:
                return &d->have_releases;
        }
        return &d->have_pods;
}

static void kubernetes_collect(const struct ks_inf *x, struct kubernetes_data *d)
{
        size_t n = x->inf ? kube_informer_count(x->inf) : 0;
        struct kube_informer_stats stats;

        memset(&stats, 0, sizeof stats);
        if (x->inf)
                kube_informer_stats(x->inf, &stats);
        if (!stats.lists)               /* never listed: unknown, not empty */
                *kubernetes_have(x, d) = false;

        for (size_t i = 0; i < n; i++) {
                void *m = kube_informer_at(x->inf, i, NULL);

                if (!m)
                        continue;
                kubernetes_model_ref(m);
                switch (x->res->type) {
                case KS_NODE:
                        kubernetes_data_add_node(d, m);
                        break;
                case KS_POD:
                        kubernetes_data_add_pod(d, m);
                        break;
                case KS_WL:
                        kubernetes_data_add_workload(d, m);
                        break;
                case KS_PVC:
                        kubernetes_data_add_pvc(d, m);
                        break;
                case KS_EVENT:
                        kubernetes_data_add_event(d, m);
                        break;
                case KS_REL:
                        kubernetes_data_add_release(d, m);
                        break;
                }
        }
}

static enum coll_status kubernetes_poll(void *state, const struct coll_ctx *ctx, void **data,
                                        struct err *err)
{
        struct ks_state *st = state;
        struct kubernetes_data *d;
        struct err first, e;
        size_t failed = 0, skipped = 0;
        bool give_up = false;

        if (!st->client && kubernetes_connect(st, err) != 0)
                return COLL_DOWN;
        err_clear(&first);
        for (size_t i = 0; i < st->n_infs; i++) {
                struct ks_inf *x = &st->infs[i];

                if (coll_stopping(ctx)) {
                        err_set(err, EINTR, "stopping");
                        return COLL_DOWN;
                }
                if (give_up) {
                        skipped++;
                        continue;
                }
                err_clear(&e);
                if (!x->inf)
                        err_set(&e, EINVAL, "could not start");
                else if (kube_informer_sync(x->inf, ctx, &e) == 0)
                        continue;
                if (!failed++) {
                        if (x->ns)
                                err_set(&first, e.code, "%s in %s: %s", x->res->what, x->ns,
                                        e.msg);
                        else
                                err_set(&first, e.code, "%s: %s", x->res->what, e.msg);
                }
                /* Out of time (a hung server, an exec plugin killed at its
                 * timeout): the others would only wait the same way. */
                if (e.code == ETIMEDOUT || clock_mono_ms() >= ctx->deadline_mono)
                        give_up = true;
        }
        if (failed + skipped == st->n_infs) {
                err_set(err, first.code, "%s", first.msg[0] ? first.msg : "no resource could "
                        "be read");
                /* Nothing answered: read the kubeconfig again next time (a
                 * rotated token, a moved endpoint); the caches re-list. */
                kubernetes_drop_client(st);
                return COLL_DOWN;
        }
        d = kubernetes_data_new();
        d->context = xstrdup(st->kc->context);
        d->server = xstrdup(st->kc->server);
        d->collected_ms = clock_wall_ms();
        for (size_t i = 0; i < st->n_infs; i++)
                kubernetes_collect(&st->infs[i], d);
        kubernetes_data_finish(d);
        *data = d;
        if (failed) {
                err_set(err, first.code, "%zu of %zu lists failed%s (shown from their last "
                        "good state): %s", failed + skipped, st->n_infs,
                        skipped ? " or ran out of time" : "", first.msg);
                return COLL_DEGRADED;
        }
        return COLL_OK;
}

static void kubernetes_data_free_op(void *data)
{
        kubernetes_data_free(data);
}

/* ------------------------------------------------------------------------
 * Readers (pure; any thread)
 */

static void kubernetes_to_json(const void *data, cJSON *obj)
{
        const struct kubernetes_data *d = data;
        cJSON *arr, *o, *c;

        json_add_str(obj, "context", d->context);
        json_add_str(obj, "server", d->server);

        arr = d->have_nodes ? cJSON_AddArrayToObject(obj, "nodes") : NULL;
        if (!arr)
                cJSON_AddNullToObject(obj, "nodes");
        for (size_t i = 0; i < d->n_nodes; i++) {
                const struct kubernetes_node *n = d->nodes[i];

                o = cJSON_CreateObject();
                json_add_str(o, "name", n->name);
                if (n->ready < 0)
                        cJSON_AddNullToObject(o, "ready");
                else
                        cJSON_AddBoolToObject(o, "ready", n->ready == 1);
                c = cJSON_AddArrayToObject(o, "conditions");
                for (size_t k = 0; k < LO_ARRAY_LEN(kubernetes_node_conds); k++)
                        if (n->pressure & (1u << k))
                                cJSON_AddItemToArray(c, cJSON_CreateString(
                                                                kubernetes_node_conds[k]));
                cJSON_AddItemToArray(arr, o);
        }

        arr = d->have_workloads ? cJSON_AddArrayToObject(obj, "workloads") : NULL;
        if (!arr)
                cJSON_AddNullToObject(obj, "workloads");
        for (size_t i = 0; i < d->n_workloads; i++) {
                const struct kubernetes_workload *w = d->workloads[i];

                o = cJSON_CreateObject();
                json_add_str(o, "namespace", w->ns);
                json_add_str(o, "kind", w->kind);
                json_add_str(o, "name", w->name);
                json_add_str(o, "component", w->component);
                cJSON_AddNumberToObject(o, "ready", w->ready);
                cJSON_AddNumberToObject(o, "desired", w->desired);
                cJSON_AddItemToArray(arr, o);
        }

        arr = d->have_pods ? cJSON_AddArrayToObject(obj, "pods") : NULL;
        if (!arr)
                cJSON_AddNullToObject(obj, "pods");
        for (size_t i = 0; i < d->n_pods; i++) {
                const struct kubernetes_pod *p = d->pods[i];

                o = cJSON_CreateObject();
                json_add_str(o, "namespace", p->ns);
                json_add_str(o, "name", p->name);
                json_add_str(o, "component", p->component);
                json_add_str(o, "phase", p->phase);
                cJSON_AddNumberToObject(o, "ready_containers", p->ready_containers);
                cJSON_AddNumberToObject(o, "containers", p->containers);
                cJSON_AddNumberToObject(o, "restarts", p->restarts);
                json_add_str(o, "reason", p->reason);
                json_add_str(o, "node", p->node);
                json_add_num(o, "age_s", p->start_ms >= 0 && d->collected_ms >= p->start_ms,
                             (double)((d->collected_ms - p->start_ms) / 1000));
                cJSON_AddItemToArray(arr, o);
        }

        arr = d->have_pvcs ? cJSON_AddArrayToObject(obj, "pvcs") : NULL;
        if (!arr)
                cJSON_AddNullToObject(obj, "pvcs");
        for (size_t i = 0; i < d->n_pvcs; i++) {
                const struct kubernetes_pvc *v = d->pvcs[i];

                o = cJSON_CreateObject();
                json_add_str(o, "namespace", v->ns);
                json_add_str(o, "name", v->name);
                json_add_str(o, "phase", v->phase);
                json_add_num(o, "capacity_bytes", isfinite(v->capacity), v->capacity);
                json_add_str(o, "storage_class", v->storage_class);
                cJSON_AddItemToArray(arr, o);
        }

        arr = d->have_events ? cJSON_AddArrayToObject(obj, "events") : NULL;
        if (!arr)
                cJSON_AddNullToObject(obj, "events");
        for (size_t i = 0; i < d->n_events; i++) {
                const struct kubernetes_event *e = d->events[i];

                o = cJSON_CreateObject();
                json_add_str(o, "namespace", e->ns);
                json_add_str(o, "object", e->object);
                json_add_str(o, "reason", e->reason);
                json_add_str(o, "message", e->message);
                json_add_num(o, "count", e->count >= 0, e->count);
                json_add_time(o, "last_seen", e->last_seen_ms);
                cJSON_AddItemToArray(arr, o);
        }

        arr = d->have_releases ? cJSON_AddArrayToObject(obj, "releases") : NULL;
        if (!arr)
                cJSON_AddNullToObject(obj, "releases");
        for (size_t i = 0; i < d->n_releases; i++) {
                const struct kubernetes_release *r = d->releases[i];

                o = cJSON_CreateObject();
                json_add_str(o, "namespace", r->ns);
                json_add_str(o, "name", r->name);
                json_add_num(o, "revision", r->revision >= 0, r->revision);
                json_add_str(o, "status", r->status);
                cJSON_AddItemToArray(arr, o);
        }
}

static enum severity kubernetes_thr_sev(const struct source_cfg *src, const char *metric, double v,
                                        double *limit)
{
        return health_threshold_sev(src, metric, v, limit);
}

/* Counts per-object alerts of one rule and adds the "N more" line. */
struct ks_cap {
        const char *metric;
        const char *what;       /* "pods failing" */
        int n;
        enum severity worst;
};

static bool kubernetes_cap_take(struct ks_cap *c, enum severity sev)
{
        if (sev > c->worst)
                c->worst = sev;
        return ++c->n <= KS_ALERTS_MAX;
}

static void kubernetes_cap_done(const struct ks_cap *c, const struct source_cfg *src,
                                struct alert_list *out)
{
        if (c->n > KS_ALERTS_MAX)
                health_add(out, c->worst, src, c->metric, "(more)", c->n - KS_ALERTS_MAX, NAN,
                           "%d more %s (%d in all; see the Cluster pane)", c->n - KS_ALERTS_MAX,
                           c->what, c->n);
}

static void kubernetes_alerts(const struct source_cfg *src, const void *data,
                              struct alert_list *out)
{
        const struct kubernetes_data *d = data;
        struct ks_cap cf = { "pod_failing", "pods failing", 0, SEV_OK };
        struct ks_cap cr = { "pod_restarts", "pods restarting", 0, SEV_OK };
        struct ks_cap cn = { "node_not_ready", "nodes not ready", 0, SEV_OK };
        struct ks_cap cp = { "node_pressure", "nodes under pressure", 0, SEV_OK };
        struct ks_cap cw = { "workload_missing", "workloads below desired", 0, SEV_OK };
        struct ks_cap cv = { "pvc_not_bound", "PVCs not bound", 0, SEV_OK };
        char subj[128];
        enum severity sev;
        double lim;

        for (size_t i = 0; i < d->n_nodes; i++) {
                const struct kubernetes_node *n = d->nodes[i];
                int np = 0;
                char list[96] = "";

                if (n->ready != 1) {
                        sev = kubernetes_thr_sev(src, "node_not_ready", 1, &lim);
                        if (sev != SEV_OK && kubernetes_cap_take(&cn, sev))
                                health_add(out, sev, src, "node_not_ready", n->name, 1, lim,
                                           "node %s is %s: its pods are not being run or "
                                           "reported", n->name,
                                           n->ready == 0 ? "NotReady" : "Ready=Unknown");
                }
                for (size_t k = 0; k < LO_ARRAY_LEN(kubernetes_node_conds); k++)
                        if (n->pressure & (1u << k)) {
                                np++;
                                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                                         np > 1 ? ", " : "", kubernetes_node_conds[k]);
                        }
                if (np) {
                        sev = kubernetes_thr_sev(src, "node_pressure", np, &lim);
                        if (sev != SEV_OK && kubernetes_cap_take(&cp, sev))
                                health_add(out, sev, src, "node_pressure", n->name, np, lim,
                                           "node %s: %s", n->name, list);
                }
        }
        for (size_t i = 0; i < d->n_pods; i++) {
                const struct kubernetes_pod *p = d->pods[i];

                snprintf(subj, sizeof subj, "%s/%s", p->ns ? p->ns : "", p->name);
                if (p->failing) {
                        sev = kubernetes_thr_sev(src, "pod_failing", 1, &lim);
                        if (sev != SEV_OK && kubernetes_cap_take(&cf, sev))
                                health_add(out, sev, src, "pod_failing", subj, 1, lim,
                                           "pod %s is %s%s%s (%d restarts)%s%s", subj,
                                           p->reason, p->last_reason ? ", last exit " : "",
                                           p->last_reason ? p->last_reason : "", p->restarts,
                                           p->component ? ", component " : "",
                                           p->component ? p->component : "");
                }
                if (p->restarts > 0) {
                        sev = kubernetes_thr_sev(src, "pod_restarts", p->restarts, &lim);
                        if (sev != SEV_OK && kubernetes_cap_take(&cr, sev))
                                health_add(out, sev, src, "pod_restarts", subj, p->restarts,
                                           lim, "pod %s restarted %d times%s%s", subj,
                                           p->restarts, p->last_reason ? ", last exit " : "",
                                           p->last_reason ? p->last_reason : "");
                }
        }
        health_check(out, src, "pods_not_ready", "", d->pods_not_ready, "pods not ready");
        for (size_t i = 0; i < d->n_workloads; i++) {
                const struct kubernetes_workload *w = d->workloads[i];
                int missing = w->desired - w->ready;

                if (missing <= 0)
                        continue;
                snprintf(subj, sizeof subj, "%s/%s", w->ns ? w->ns : "", w->name);
                sev = kubernetes_thr_sev(src, "workload_missing", missing, &lim);
                if (w->ready == 0)
                        sev = SEV_CRIT;
                if (sev != SEV_OK && kubernetes_cap_take(&cw, sev))
                        health_add(out, sev, src, "workload_missing", subj, missing, lim,
                                   "%s %s has %d of %d replicas ready%s", w->kind, subj, w->ready,
                                   w->desired, w->ready == 0 ? ": none is serving" : "");
        }
        for (size_t i = 0; i < d->n_pvcs; i++) {
                const struct kubernetes_pvc *v = d->pvcs[i];
                const char *ph = v->phase ? v->phase : "unknown";

                if (!strcmp(ph, "Bound"))
                        continue;
                snprintf(subj, sizeof subj, "%s/%s", v->ns ? v->ns : "", v->name);
                sev = kubernetes_thr_sev(src, "pvc_not_bound", 1, &lim);
                if (!strcmp(ph, "Lost"))
                        sev = SEV_CRIT;
                if (sev != SEV_OK && kubernetes_cap_take(&cv, sev))
                        health_add(out, sev, src, "pvc_not_bound", subj, 1, lim,
                                   "PVC %s is %s%s", subj, ph, !strcmp(ph, "Lost")
                                   ? ": its volume is gone" : " (not Bound)");
        }
        health_check(out, src, "warning_events", "", d->warnings_recent,
                     "Warning events in 15 min");
        kubernetes_cap_done(&cn, src, out);
        kubernetes_cap_done(&cp, src, out);
        kubernetes_cap_done(&cf, src, out);
        kubernetes_cap_done(&cr, src, out);
        kubernetes_cap_done(&cw, src, out);
        kubernetes_cap_done(&cv, src, out);
}

static double kubernetes_key_metric(const void *data)
{
        const struct kubernetes_data *d = data;

        return d->pods_not_ready;
}

static void kubernetes_summary(const void *data, char *buf, size_t n)
{
        const struct kubernetes_data *d = data;

        char nodes[48];

        if (d->have_nodes)
                snprintf(nodes, sizeof nodes, "%d/%zu ready", d->nodes_ready, d->n_nodes);
        else
                str_copy(nodes, "unknown", sizeof nodes);
        snprintf(buf, n, "nodes %s, %zu pods (%d not ready, %d failing), "
                 "%zu workloads (%d short), %d warnings/15m", nodes,
                 d->n_pods, d->pods_not_ready, d->pods_failing, d->n_workloads,
                 d->workloads_short, d->warnings_recent);
}

const struct collector_ops coll_kubernetes_ops = {
        .name = "kubernetes",
        .title = "Kubernetes",
        .default_interval_ms = 5000,
        .default_timeout_ms = 10000,
        .keys = ks_keys,
        .cfg_size = sizeof(struct kubernetes_cfg),
        .thresholds = ks_thresholds,
        .validate = kubernetes_validate,
        .create = kubernetes_create,
        .destroy = kubernetes_destroy,
        .poll = kubernetes_poll,
        .data_free = kubernetes_data_free_op,
        .to_json = kubernetes_to_json,
        .alerts = kubernetes_alerts,
        .key_metric = kubernetes_key_metric,
        .summary = kubernetes_summary,
        .key_metric_name = "pods not ready",
        .key_metric_unit = THR_COUNT,
        .actions = kube_actions,
        .action_kind = &kubeact_kube_kind,
        .config_keys = ks_top_keys,
        .config_size = sizeof(struct kubernetes_top_cfg),
        .metrics = kubernetes_metrics,
};
