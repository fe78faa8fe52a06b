/*
 * Cluster pane: the nodes, workloads, pods, PVCs, Warning events and Helm
 * releases of every source of kind "kubernetes".
 *
 * One line per source above the table whatever it shows: context, server,
 * nodes ready x/y, pods not ready (and failing), workloads below desired,
 * Warning events of the last 15 minutes, the age of the data or the error;
 * then, when `components` are configured, each component's pods ready of
 * those not finished. `v` cycles the table through six sub-views:
 *
 *   - Pods (default): component, namespace, name, ready containers, status
 *     (the waiting/terminated reason such as CrashLoopBackOff, else the
 *     phase), restarts (coloured by pod_restarts), the last termination
 *     reason (OOMKilled), node, age. `s` sorts: by component (grouped, the
 *     default), restarts, age (youngest first), severity (worst first).
 *   - Workloads: StatefulSets and Deployments grouped by component, ready
 *     against desired (coloured by workload_missing), updated, available.
 *   - Nodes: Ready, the pressure conditions that are True, allocatable CPU
 *     and memory, cordoned, kubelet version.
 *   - PVCs: phase (Bound ok, Pending warn, Lost crit), capacity, class.
 *   - Events: Warning events, newest first.
 *   - Releases: Helm releases at their latest revision with its status.
 *
 * Enter opens a detail page built from the model alone (nothing is
 * fetched): a pod's conditions and containers, a workload with its pods, a
 * node with its pod counts, a PVC, an event's full message, a release
 * (views/cluster_detail.c; views/cluster_int.h has what both files share).
 *
 * Row ids are "SOURCE\tTARGET" with TARGET "NAMESPACE/KIND/NAME" (KIND:
 * pod, statefulset, deployment, pvc, event, release) or "node/NAME"; the
 * kubectl/helm actions (collectors/kubernetes/kubeact.c) parse the same target.
 *
 * Scale. A table row is a few KiB and the generic table builds every row
 * each frame. With 5,000 pods our draw() filters on the models' own fields,
 * formats only the rows on screen and gives the others just their id (the
 * TUI needs ids for selection, mouse and actions). rows() stays complete
 * and pure for tests and for anyone else calling it.
 */
#include "collectors/kubernetes/kubernetes.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "views/view.h"
#include "views/cluster.h"
#include "views/cluster_int.h"
#include "views/common.h"

static const struct column view_cluster_pod_columns[] = {
        [KCP_SOURCE]    = { "SOURCE",     -1,  6, COL_LEFT },
        [KCP_COMPONENT] = { "COMPONENT",  -1,  9, COL_LEFT },
        [KCP_NS]        = { "NAMESPACE",  -1,  9, COL_LEFT },
        [KCP_NAME]      = { "NAME",       -4, 16, COL_LEFT },
        [KCP_READY]     = { "READY",       5,  0, COL_RIGHT },
        [KCP_STATUS]    = { "STATUS",     16,  0, COL_LEFT },
        [KCP_RESTARTS]  = { "RESTARTS",    8,  0, COL_RIGHT },
        [KCP_LAST]      = { "LAST EXIT",  10,  0, COL_LEFT },
        [KCP_NODE]      = { "NODE",       -1,  8, COL_LEFT },
        [KCP_AGE]       = { "AGE",         7,  0, COL_RIGHT },
        [KCP__COUNT]    = { NULL, 0, 0, COL_LEFT },
};

static const struct column view_cluster_wl_columns[] = {
        [KCW_SOURCE]    = { "SOURCE",     -1,  6, COL_LEFT },
        [KCW_COMPONENT] = { "COMPONENT",  -1,  9, COL_LEFT },
        [KCW_NS]        = { "NAMESPACE",  -1,  9, COL_LEFT },
        [KCW_KIND]      = { "KIND",       11,  0, COL_LEFT },
        [KCW_NAME]      = { "NAME",       -3, 16, COL_LEFT },
        [KCW_READY]     = { "READY",       7,  0, COL_RIGHT },
        [KCW_UPDATED]   = { "UPDATED",     7,  0, COL_RIGHT },
        [KCW_AVAILABLE] = { "AVAILABLE",   9,  0, COL_RIGHT },
        [KCW_AGE]       = { "AGE",         7,  0, COL_RIGHT },
        [KCW__COUNT]    = { NULL, 0, 0, COL_LEFT },
};

static const struct column view_cluster_node_columns[] = {
        [KCN_SOURCE]     = { "SOURCE",     -1,  6, COL_LEFT },
        [KCN_NAME]       = { "NAME",       -3, 16, COL_LEFT },
        [KCN_READY]      = { "READY",       8,  0, COL_LEFT },
        [KCN_CONDITIONS] = { "CONDITIONS", -2, 12, COL_LEFT },
        [KCN_CPU]        = { "CPU",         6,  0, COL_RIGHT },
        [KCN_MEMORY]     = { "MEMORY",     10,  0, COL_RIGHT },
        [KCN_SCHED]      = { "SCHED",       8,  0, COL_LEFT },
        [KCN_VERSION]    = { "VERSION",    -1,  8, COL_LEFT },
        [KCN_AGE]        = { "AGE",         7,  0, COL_RIGHT },
        [KCN__COUNT]     = { NULL, 0, 0, COL_LEFT },
};

static const struct column view_cluster_pvc_columns[] = {
        [KCV_SOURCE]    = { "SOURCE",     -1,  6, COL_LEFT },
        [KCV_COMPONENT] = { "COMPONENT",  -1,  9, COL_LEFT },
        [KCV_NS]        = { "NAMESPACE",  -1,  9, COL_LEFT },
        [KCV_NAME]      = { "NAME",       -3, 16, COL_LEFT },
        [KCV_PHASE]     = { "PHASE",       8,  0, COL_LEFT },
        [KCV_CAPACITY]  = { "CAPACITY",   10,  0, COL_RIGHT },
        [KCV_CLASS]     = { "CLASS",      -1,  8, COL_LEFT },
        [KCV_VOLUME]    = { "VOLUME",     -2,  8, COL_LEFT },
        [KCV_AGE]       = { "AGE",         7,  0, COL_RIGHT },
        [KCV__COUNT]    = { NULL, 0, 0, COL_LEFT },
};

static const struct column view_cluster_event_columns[] = {
        [KCE_SOURCE]  = { "SOURCE",     -1,  6, COL_LEFT },
        [KCE_LAST]    = { "LAST SEEN",   9,  0, COL_RIGHT },
        [KCE_NS]      = { "NAMESPACE",  -1,  9, COL_LEFT },
        [KCE_OBJECT]  = { "OBJECT",     -2, 14, COL_LEFT },
        [KCE_REASON]  = { "REASON",     -1, 10, COL_LEFT },
        [KCE_COUNT]   = { "COUNT",       6,  0, COL_RIGHT },
        [KCE_MESSAGE] = { "MESSAGE",    -5, 16, COL_LEFT },
        [KCE__COUNT]  = { NULL, 0, 0, COL_LEFT },
};

static const struct column view_cluster_rel_columns[] = {
        [KCR_SOURCE]   = { "SOURCE",     -1,  6, COL_LEFT },
        [KCR_NS]       = { "NAMESPACE",  -1,  9, COL_LEFT },
        [KCR_NAME]     = { "RELEASE",    -3, 16, COL_LEFT },
        [KCR_REVISION] = { "REVISION",    8,  0, COL_RIGHT },
        [KCR_STATUS]   = { "STATUS",     -1, 16, COL_LEFT },
        [KCR_AGE]      = { "AGE",         7,  0, COL_RIGHT },
        [KCR__COUNT]   = { NULL, 0, 0, COL_LEFT },
};

static const char *const view_cluster_show_names[VIEW_CLUSTER__SHOWS] = {
        "pods", "workloads", "nodes", "PVCs", "Warning events", "Helm releases",
};
static const char *const view_cluster_sort_names[] = { "component", "restarts", "age", "severity" };

static unsigned view_cluster_show(unsigned flags)
{
        unsigned s = flags & VIEW_CLUSTER_SHOW_MASK;

        return s < VIEW_CLUSTER__SHOWS ? s : VIEW_CLUSTER_PODS;
}

static unsigned view_cluster_sort(unsigned flags)
{
        return (flags & VIEW_CLUSTER_SORT_MASK) >> VIEW_CLUSTER_SORT_SHIFT;
}

const struct column *view_cluster_columns(unsigned flags)
{
        switch (view_cluster_show(flags)) {
        case VIEW_CLUSTER_WORKLOADS:
                return view_cluster_wl_columns;
        case VIEW_CLUSTER_NODES:
                return view_cluster_node_columns;
        case VIEW_CLUSTER_PVCS:
                return view_cluster_pvc_columns;
        case VIEW_CLUSTER_EVENTS:
                return view_cluster_event_columns;
        case VIEW_CLUSTER_RELEASES:
                return view_cluster_rel_columns;
        default:
                return view_cluster_pod_columns;
        }
}

const struct kubernetes_data *view_cluster_data(const struct snapshot *s)
{
        return s ? (const struct kubernetes_data *)s->data : NULL;
}

const char *view_cluster_or(const char *s, const char *def)
{
        return s && *s ? s : def;
}

/* ---- formatting ---------------------------------------------------------- */

/* Age of a wall time `at_ms` as of now: the snapshot's wall clock plus the
 * monotonic time since it was taken. "-" when unknown. */
void view_cluster_age(const struct view_data *d, const struct snapshot *s,
                      const struct kubernetes_data *kd, int64_t at_ms, char *buf, size_t n)
{
        int64_t now = kd->collected_ms, ms;

        if (s && s->collected_mono > 0 && d->now_mono > s->collected_mono)
                now += d->now_mono - s->collected_mono;
        if (at_ms < 0 || now < at_ms) {
                str_copy(buf, at_ms < 0 ? "-" : "0s", n);
                return;
        }
        ms = now - at_ms;
        if (ms < 1000)
                str_copy(buf, "0s", n);
        else if (ms >= 100LL * 86400000)
                snprintf(buf, n, "%lldd", (long long)(ms / 86400000));
        else
                fmt_duration_ms(ms / 1000 * 1000, buf, n);
}

void view_cluster_cpu(double v, char *buf, size_t n)
{
        if (!isfinite(v))
                str_copy(buf, "-", n);
        else if (v == floor(v))
                snprintf(buf, n, "%.0f", v);
        else
                snprintf(buf, n, "%.2f", v);
}

void view_cluster_pressure(const struct kubernetes_node *nd, char *buf, size_t n)
{
        buf[0] = '\0';
        for (size_t k = 0; k < LO_ARRAY_LEN(kubernetes_node_conds); k++)
                if (nd->pressure & (1u << k))
                        snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", buf[0] ? "," : "",
                                 kubernetes_node_conds[k]);
        if (!buf[0])
                str_copy(buf, "-", n);
}

const char *view_cluster_node_ready(const struct kubernetes_node *nd)
{
        return nd->ready == 1 ? "Ready" : nd->ready == 0 ? "NotReady" : "Unknown";
}

/* The status shown for a pod, its role and severity. */
const char *view_cluster_pod_status(const struct source_cfg *src, const struct kubernetes_pod *p,
                                    enum theme_role *role, enum severity *sev)
{
        const char *ph = view_cluster_or(p->phase, "Unknown");
        const char *st = p->reason ? p->reason : ph;

        *sev = SEV_OK;
        if (p->failing) {
                *role = ROLE_CRIT;
                *sev = view_threshold_sev(src, "pod_failing", 1);
                if (*sev == SEV_OK)
                        *sev = SEV_WARN;
        } else if (p->terminating) {
                *role = ROLE_WARN;
        } else if (!strcmp(ph, "Failed")) {
                *role = ROLE_WARN;
        } else if (!strcmp(ph, "Succeeded")) {
                *role = ROLE_DIM;
        } else if (kubernetes_pod_not_ready(p)) {
                *role = ROLE_WARN;
                *sev = SEV_WARN;
        } else {
                *role = ROLE_OK;
        }
        return st;
}

static int view_cluster_pod_rank(const struct kubernetes_pod *p)
{
        if (p->failing)
                return 3;
        if (kubernetes_pod_not_ready(p))
                return 2;
        if (p->restarts > 0)
                return 1;
        return 0;
}

enum theme_role view_cluster_release_role(const char *st)
{
        if (!st)
                return ROLE_UNKNOWN;
        if (!strcmp(st, "deployed"))
                return ROLE_OK;
        if (!strcmp(st, "failed"))
                return ROLE_CRIT;
        if (!strncmp(st, "pending", 7) || !strcmp(st, "uninstalling"))
                return ROLE_WARN;
        return ROLE_DIM;
}

enum theme_role view_cluster_pvc_role(const char *ph)
{
        if (!ph)
                return ROLE_UNKNOWN;
        if (!strcmp(ph, "Bound"))
                return ROLE_OK;
        if (!strcmp(ph, "Lost"))
                return ROLE_CRIT;
        return ROLE_WARN;
}

/* ---- refs: what a sub-view lists, in display order ----------------------- */

struct view_cluster_ref {
        const struct source_cfg *src;
        const struct snapshot *s;
        const struct kubernetes_data *kd;
        const void *m;          /* the model */
        size_t order;           /* source, then the collector's order */
};

struct view_cluster_refs {
        struct view_cluster_ref *v;
        size_t n, cap;
};

static void view_cluster_refs_add(struct view_cluster_refs *r, const struct source_cfg *src,
                                  const struct snapshot *s, const struct kubernetes_data *kd,
                                  const void *m)
{
        if (r->n == r->cap) {
                r->cap = r->cap ? 2 * r->cap : 64;
                r->v = xrealloc(r->v, r->cap * sizeof *r->v);
        }
        r->v[r->n] = (struct view_cluster_ref){ src, s, kd, m, r->n };
        r->n++;
}

static int view_cluster_cmp_order(const struct view_cluster_ref *a,
                                  const struct view_cluster_ref *b)
{
        return a->order < b->order ? -1 : a->order > b->order;
}

static int view_cluster_cmp_comp(const char *a, const char *b)
{
        if (!a != !b)
                return a ? -1 : 1;      /* no component last */
        return a ? strcmp(a, b) : 0;
}

static int view_cluster_cmp_pod_comp(const void *pa, const void *pb)
{
        const struct view_cluster_ref *a = pa, *b = pb;
        const struct kubernetes_pod *x = a->m, *y = b->m;
        int c = view_cluster_cmp_comp(x->component, y->component);

        return c ? c : view_cluster_cmp_order(a, b);
}

static int view_cluster_cmp_pod_restarts(const void *pa, const void *pb)
{
        const struct view_cluster_ref *a = pa, *b = pb;
        const struct kubernetes_pod *x = a->m, *y = b->m;

        if (x->restarts != y->restarts)
                return x->restarts > y->restarts ? -1 : 1;
        return view_cluster_cmp_order(a, b);
}

static int view_cluster_cmp_pod_age(const void *pa, const void *pb)
{
        const struct view_cluster_ref *a = pa, *b = pb;
        const struct kubernetes_pod *x = a->m, *y = b->m;

        if (x->start_ms != y->start_ms)
                return x->start_ms > y->start_ms ? -1 : 1;      /* youngest first */
        return view_cluster_cmp_order(a, b);
}

static int view_cluster_cmp_pod_sev(const void *pa, const void *pb)
{
        const struct view_cluster_ref *a = pa, *b = pb;
        int ra = view_cluster_pod_rank(a->m), rb = view_cluster_pod_rank(b->m);

        if (ra != rb)
                return ra > rb ? -1 : 1;
        return view_cluster_cmp_pod_restarts(pa, pb);
}

static int view_cluster_cmp_wl(const void *pa, const void *pb)
{
        const struct view_cluster_ref *a = pa, *b = pb;
        const struct kubernetes_workload *x = a->m, *y = b->m;
        int c = view_cluster_cmp_comp(x->component, y->component);

        return c ? c : view_cluster_cmp_order(a, b);
}

static int view_cluster_cmp_pvc(const void *pa, const void *pb)
{
        const struct view_cluster_ref *a = pa, *b = pb;
        const struct kubernetes_pvc *x = a->m, *y = b->m;
        int c = view_cluster_cmp_comp(x->component, y->component);

        return c ? c : view_cluster_cmp_order(a, b);
}

/* The refs of the sub-view in d->flags, sorted. */
static void view_cluster_collect(const struct view_data *d, struct view_cluster_refs *r)
{
        unsigned show = view_cluster_show(d->flags);

        for (size_t i = 0; i < d->n; i++) {
                const struct kubernetes_data *kd = view_cluster_data(d->snaps[i]);
                const struct source_cfg *src = &d->srcs[i];
                const struct snapshot *s = d->snaps[i];

                if (!common_is_kind(src, "kubernetes") || !kd)
                        continue;
                switch (show) {
                case VIEW_CLUSTER_WORKLOADS:
                        for (size_t j = 0; j < kd->n_workloads; j++)
                                view_cluster_refs_add(r, src, s, kd, kd->workloads[j]);
                        break;
                case VIEW_CLUSTER_NODES:
                        for (size_t j = 0; j < kd->n_nodes; j++)
                                view_cluster_refs_add(r, src, s, kd, kd->nodes[j]);
                        break;
                case VIEW_CLUSTER_PVCS:
                        for (size_t j = 0; j < kd->n_pvcs; j++)
                                view_cluster_refs_add(r, src, s, kd, kd->pvcs[j]);
                        break;
                case VIEW_CLUSTER_EVENTS:
                        for (size_t j = 0; j < kd->n_events; j++)
                                view_cluster_refs_add(r, src, s, kd, kd->events[j]);
                        break;
                case VIEW_CLUSTER_RELEASES:
                        for (size_t j = 0; j < kd->n_releases; j++)
                                view_cluster_refs_add(r, src, s, kd, kd->releases[j]);
                        break;
                default:
                        for (size_t j = 0; j < kd->n_pods; j++)
                                view_cluster_refs_add(r, src, s, kd, kd->pods[j]);
                        break;
                }
        }
        if (r->n < 2)
                return;
        switch (show) {
        case VIEW_CLUSTER_WORKLOADS:
                qsort(r->v, r->n, sizeof *r->v, view_cluster_cmp_wl);
                break;
        case VIEW_CLUSTER_PVCS:
                qsort(r->v, r->n, sizeof *r->v, view_cluster_cmp_pvc);
                break;
        case VIEW_CLUSTER_PODS:
                switch (view_cluster_sort(d->flags)) {
                case VIEW_CLUSTER_SORT_RESTARTS:
                        qsort(r->v, r->n, sizeof *r->v, view_cluster_cmp_pod_restarts);
                        break;
                case VIEW_CLUSTER_SORT_AGE:
                        qsort(r->v, r->n, sizeof *r->v, view_cluster_cmp_pod_age);
                        break;
                case VIEW_CLUSTER_SORT_SEVERITY:
                        qsort(r->v, r->n, sizeof *r->v, view_cluster_cmp_pod_sev);
                        break;
                default:
                        qsort(r->v, r->n, sizeof *r->v, view_cluster_cmp_pod_comp);
                        break;
                }
                break;
        default:
                break;          /* nodes by name, events newest first: as published */
        }
}

/* ---- ids ----------------------------------------------------------------- */

const char *view_cluster_wl_kind(const struct kubernetes_workload *w)
{
        return w->kind && !strcmp(w->kind, "StatefulSet") ? "statefulset" : "deployment";
}

static void view_cluster_id(unsigned show, const struct view_cluster_ref *r, char *id, size_t n)
{
        const char *src = r->src->name, *ns = NULL, *kind = NULL, *name = NULL;

        switch (show) {
        case VIEW_CLUSTER_NODES:
                snprintf(id, n, "%s\tnode/%s", src, ((const struct kubernetes_node *)r->m)->name);
                return;
        case VIEW_CLUSTER_WORKLOADS: {
                const struct kubernetes_workload *w = r->m;
                ns = w->ns; kind = view_cluster_wl_kind(w); name = w->name;
                break;
        }
        case VIEW_CLUSTER_PVCS: {
                const struct kubernetes_pvc *v = r->m;
                ns = v->ns; kind = "pvc"; name = v->name;
                break;
        }
        case VIEW_CLUSTER_EVENTS: {
                const struct kubernetes_event *e = r->m;
                ns = e->ns; kind = "event"; name = e->name;
                break;
        }
        case VIEW_CLUSTER_RELEASES: {
                const struct kubernetes_release *rl = r->m;
                ns = rl->ns; kind = "release"; name = rl->name;
                break;
        }
        default: {
                const struct kubernetes_pod *p = r->m;
                ns = p->ns; kind = "pod"; name = p->name;
                break;
        }
        }
        snprintf(id, n, "%s\t%s/%s/%s", src, view_cluster_or(ns, "-"), kind,
                 view_cluster_or(name, "-"));
}

/* ---- rows ---------------------------------------------------------------- */

static void view_cluster_pod_row(const struct view_data *d, const struct view_cluster_ref *r,
                                 struct table_row *row)
{
        const struct kubernetes_pod *p = r->m;
        enum theme_role role;
        enum severity sev, sr = SEV_OK;
        const char *st = view_cluster_pod_status(r->src, p, &role, &sev);
        char buf[48];

        table_cell_set(row, KCP_SOURCE, ROLE_DEFAULT, "%s", r->src->name);
        table_cell_set(row, KCP_COMPONENT, p->component ? ROLE_DEFAULT : ROLE_DIM, "%s",
                       view_cluster_or(p->component, "-"));
        table_cell_set(row, KCP_NS, ROLE_DEFAULT, "%s", view_cluster_or(p->ns, "-"));
        table_cell_set(row, KCP_NAME, ROLE_DEFAULT, "%s", p->name);
        table_cell_set(row, KCP_READY, p->ready_containers < p->containers ? ROLE_WARN
                       : ROLE_DEFAULT, "%d/%d", p->ready_containers, p->containers);
        table_cell_set(row, KCP_STATUS, role, "%s", st);
        if (p->restarts > 0)
                sr = view_threshold_sev(r->src, "pod_restarts", p->restarts);
        table_cell_set(row, KCP_RESTARTS, sr != SEV_OK ? view_sev_role(sr) : ROLE_DEFAULT, "%d",
                       p->restarts);
        table_cell_set(row, KCP_LAST, p->last_reason ? ROLE_WARN : ROLE_DIM, "%s",
                       view_cluster_or(p->last_reason, "-"));
        table_cell_set(row, KCP_NODE, p->node ? ROLE_DEFAULT : ROLE_DIM, "%s",
                       view_cluster_or(p->node, "-"));
        view_cluster_age(d, r->s, r->kd, p->start_ms, buf, sizeof buf);
        table_cell_set(row, KCP_AGE, ROLE_DEFAULT, "%s", buf);
        row->sev = view_worst(sev, sr);
}

static void view_cluster_wl_row(const struct view_data *d, const struct view_cluster_ref *r,
                                struct table_row *row)
{
        const struct kubernetes_workload *w = r->m;
        enum severity sev = SEV_OK;
        char buf[48];

        if (w->ready < w->desired) {
                sev = w->ready == 0 ? SEV_CRIT
                      : view_threshold_sev(r->src, "workload_missing", w->desired - w->ready);
                if (sev == SEV_OK)
                        sev = SEV_WARN;
        }
        table_cell_set(row, KCW_SOURCE, ROLE_DEFAULT, "%s", r->src->name);
        table_cell_set(row, KCW_COMPONENT, w->component ? ROLE_DEFAULT : ROLE_DIM, "%s",
                       view_cluster_or(w->component, "-"));
        table_cell_set(row, KCW_NS, ROLE_DEFAULT, "%s", view_cluster_or(w->ns, "-"));
        table_cell_set(row, KCW_KIND, ROLE_DEFAULT, "%s", w->kind);
        table_cell_set(row, KCW_NAME, ROLE_DEFAULT, "%s", w->name);
        table_cell_set(row, KCW_READY, w->ready < w->desired ? view_sev_role(sev) : ROLE_OK,
                       "%d/%d", w->ready, w->desired);
        table_cell_set(row, KCW_UPDATED, w->updated < w->desired ? ROLE_WARN : ROLE_DEFAULT,
                       "%d", w->updated);
        table_cell_set(row, KCW_AVAILABLE, ROLE_DEFAULT, "%d", w->available);
        view_cluster_age(d, r->s, r->kd, w->created_ms, buf, sizeof buf);
        table_cell_set(row, KCW_AGE, ROLE_DEFAULT, "%s", buf);
        row->sev = sev;
}

static void view_cluster_node_row(const struct view_data *d, const struct view_cluster_ref *r,
                                  struct table_row *row)
{
        const struct kubernetes_node *nd = r->m;
        enum severity sev = SEV_OK;
        char buf[96];

        if (nd->ready != 1)
                sev = SEV_CRIT;
        else if (nd->pressure)
                sev = SEV_WARN;
        table_cell_set(row, KCN_SOURCE, ROLE_DEFAULT, "%s", r->src->name);
        table_cell_set(row, KCN_NAME, ROLE_DEFAULT, "%s", nd->name);
        table_cell_set(row, KCN_READY, nd->ready == 1 ? ROLE_OK : ROLE_CRIT, "%s",
                       view_cluster_node_ready(nd));
        view_cluster_pressure(nd, buf, sizeof buf);
        table_cell_set(row, KCN_CONDITIONS, nd->pressure ? ROLE_WARN : ROLE_DIM, "%s", buf);
        view_cluster_cpu(nd->cpu, buf, sizeof buf);
        table_cell_set(row, KCN_CPU, ROLE_DEFAULT, "%s", buf);
        fmt_bytes_or_dash(nd->memory, buf, sizeof buf);
        table_cell_set(row, KCN_MEMORY, ROLE_DEFAULT, "%s", buf);
        table_cell_set(row, KCN_SCHED, nd->unschedulable ? ROLE_WARN : ROLE_DIM, "%s",
                       nd->unschedulable ? "cordoned" : "-");
        table_cell_set(row, KCN_VERSION, ROLE_DEFAULT, "%s", view_cluster_or(nd->version, "-"));
        view_cluster_age(d, r->s, r->kd, nd->created_ms, buf, sizeof buf);
        table_cell_set(row, KCN_AGE, ROLE_DEFAULT, "%s", buf);
        row->sev = sev;
}

static void view_cluster_pvc_row(const struct view_data *d, const struct view_cluster_ref *r,
                                 struct table_row *row)
{
        const struct kubernetes_pvc *v = r->m;
        enum theme_role role = view_cluster_pvc_role(v->phase);
        char buf[48];

        table_cell_set(row, KCV_SOURCE, ROLE_DEFAULT, "%s", r->src->name);
        table_cell_set(row, KCV_COMPONENT, v->component ? ROLE_DEFAULT : ROLE_DIM, "%s",
                       view_cluster_or(v->component, "-"));
        table_cell_set(row, KCV_NS, ROLE_DEFAULT, "%s", view_cluster_or(v->ns, "-"));
        table_cell_set(row, KCV_NAME, ROLE_DEFAULT, "%s", v->name);
        table_cell_set(row, KCV_PHASE, role, "%s", view_cluster_or(v->phase, "-"));
        fmt_bytes_or_dash(isfinite(v->capacity) ? v->capacity : v->requested, buf, sizeof buf);
        table_cell_set(row, KCV_CAPACITY, isfinite(v->capacity) ? ROLE_DEFAULT : ROLE_DIM, "%s",
                       buf);
        table_cell_set(row, KCV_CLASS, v->storage_class ? ROLE_DEFAULT : ROLE_DIM, "%s",
                       view_cluster_or(v->storage_class, "-"));
        table_cell_set(row, KCV_VOLUME, v->volume ? ROLE_DEFAULT : ROLE_DIM, "%s",
                       view_cluster_or(v->volume, "-"));
        view_cluster_age(d, r->s, r->kd, v->created_ms, buf, sizeof buf);
        table_cell_set(row, KCV_AGE, ROLE_DEFAULT, "%s", buf);
        row->sev = role == ROLE_CRIT ? SEV_CRIT : role == ROLE_OK ? SEV_OK : SEV_WARN;
}

static void view_cluster_event_row(const struct view_data *d, const struct view_cluster_ref *r,
                                   struct table_row *row)
{
        const struct kubernetes_event *e = r->m;
        char buf[48];

        table_cell_set(row, KCE_SOURCE, ROLE_DEFAULT, "%s", r->src->name);
        view_cluster_age(d, r->s, r->kd, e->last_seen_ms, buf, sizeof buf);
        table_cell_set(row, KCE_LAST, e->last_seen_ms < 0 ? ROLE_DIM : ROLE_DEFAULT, "%s", buf);
        table_cell_set(row, KCE_NS, ROLE_DEFAULT, "%s", view_cluster_or(e->ns, "-"));
        table_cell_set(row, KCE_OBJECT, ROLE_DEFAULT, "%s", view_cluster_or(e->object, "-"));
        table_cell_set(row, KCE_REASON, ROLE_WARN, "%s", view_cluster_or(e->reason, "-"));
        if (e->count >= 0)
                table_cell_set(row, KCE_COUNT, ROLE_DEFAULT, "%d", e->count);
        else
                table_cell_set(row, KCE_COUNT, ROLE_DIM, "-");
        table_cell_set(row, KCE_MESSAGE, ROLE_DEFAULT, "%s", view_cluster_or(e->message, ""));
}

static void view_cluster_rel_row(const struct view_data *d, const struct view_cluster_ref *r,
                                 struct table_row *row)
{
        const struct kubernetes_release *rl = r->m;
        enum theme_role role = view_cluster_release_role(rl->status);
        char buf[48];

        table_cell_set(row, KCR_SOURCE, ROLE_DEFAULT, "%s", r->src->name);
        table_cell_set(row, KCR_NS, ROLE_DEFAULT, "%s", view_cluster_or(rl->ns, "-"));
        table_cell_set(row, KCR_NAME, ROLE_DEFAULT, "%s", rl->name);
        if (rl->revision >= 0)
                table_cell_set(row, KCR_REVISION, ROLE_DEFAULT, "%d", rl->revision);
        else
                table_cell_set(row, KCR_REVISION, ROLE_DIM, "-");
        table_cell_set(row, KCR_STATUS, role, "%s", view_cluster_or(rl->status, "-"));
        view_cluster_age(d, r->s, r->kd, rl->created_ms, buf, sizeof buf);
        table_cell_set(row, KCR_AGE, ROLE_DEFAULT, "%s", buf);
        row->sev = role == ROLE_CRIT ? SEV_CRIT : role == ROLE_WARN ? SEV_WARN : SEV_OK;
}

static void view_cluster_row(const struct view_data *d, unsigned show,
                             const struct view_cluster_ref *r,
                             struct table_row *row)
{
        view_cluster_id(show, r, row->id, sizeof row->id);
        switch (show) {
        case VIEW_CLUSTER_WORKLOADS:
                view_cluster_wl_row(d, r, row);
                break;
        case VIEW_CLUSTER_NODES:
                view_cluster_node_row(d, r, row);
                break;
        case VIEW_CLUSTER_PVCS:
                view_cluster_pvc_row(d, r, row);
                break;
        case VIEW_CLUSTER_EVENTS:
                view_cluster_event_row(d, r, row);
                break;
        case VIEW_CLUSTER_RELEASES:
                view_cluster_rel_row(d, r, row);
                break;
        default:
                view_cluster_pod_row(d, r, row);
                break;
        }
        row->stale = snapshot_is_stale(r->s, d->now_mono) != 0;
}

void view_cluster_rows(const struct view_data *d, struct table_rows *out)
{
        struct view_cluster_refs r = { 0 };
        unsigned show = view_cluster_show(d->flags);

        view_cluster_collect(d, &r);
        for (size_t i = 0; i < r.n; i++)
                view_cluster_row(d, show, &r.v[i], table_rows_add(out));
        free(r.v);
}

/* ---- the filter on model fields (what the cells show) --------------------- */

static bool view_cluster_has(const char *hay, const char *needle)
{
        size_t nl = strlen(needle);

        if (!hay)
                return false;
        for (; *hay; hay++)
                if (!strncasecmp(hay, needle, nl))
                        return true;
        return false;
}

static bool view_cluster_match(unsigned show, const struct view_cluster_ref *r, const char *f)
{
        if (view_cluster_has(r->src->name, f))
                return true;
        switch (show) {
        case VIEW_CLUSTER_WORKLOADS: {
                const struct kubernetes_workload *w = r->m;
                return view_cluster_has(w->component, f) || view_cluster_has(w->ns, f) ||
                       view_cluster_has(w->name, f) ||
                       view_cluster_has(w->kind, f);
        }
        case VIEW_CLUSTER_NODES: {
                const struct kubernetes_node *nd = r->m;
                char buf[96];
                view_cluster_pressure(nd, buf, sizeof buf);
                return view_cluster_has(nd->name, f) ||
                       view_cluster_has(view_cluster_node_ready(nd), f) ||
                       view_cluster_has(buf, f) || view_cluster_has(nd->version, f) ||
                       (nd->unschedulable && view_cluster_has("cordoned", f));
        }
        case VIEW_CLUSTER_PVCS: {
                const struct kubernetes_pvc *v = r->m;
                return view_cluster_has(v->component, f) || view_cluster_has(v->ns, f) ||
                       view_cluster_has(v->name, f) ||
                       view_cluster_has(v->phase, f) || view_cluster_has(v->storage_class, f) ||
                       view_cluster_has(v->volume, f);
        }
        case VIEW_CLUSTER_EVENTS: {
                const struct kubernetes_event *e = r->m;
                return view_cluster_has(e->ns, f) || view_cluster_has(e->object, f) ||
                       view_cluster_has(e->reason, f) ||
                       view_cluster_has(e->message, f);
        }
        case VIEW_CLUSTER_RELEASES: {
                const struct kubernetes_release *rl = r->m;
                return view_cluster_has(rl->ns, f) || view_cluster_has(rl->name, f) ||
                       view_cluster_has(rl->status, f);
        }
        default: {
                const struct kubernetes_pod *p = r->m;
                return view_cluster_has(p->component, f) || view_cluster_has(p->ns, f) ||
                       view_cluster_has(p->name, f) ||
                       view_cluster_has(p->reason ? p->reason : p->phase, f) ||
                       view_cluster_has(p->last_reason, f) || view_cluster_has(p->node, f);
        }
        }
}

/* ---- preamble ------------------------------------------------------------ */

static void view_cluster_source_line(const struct view_data *d, const struct source_cfg *src,
                                     const struct snapshot *s, struct tlines *out)
{
        const struct kubernetes_data *kd = view_cluster_data(s);
        enum theme_role role;
        char buf[64];

        tlines_add(out, ROLE_TITLE, "%s", src->name);
        if (!kd) {
                view_fmt_age(s, d->now_mono, buf, sizeof buf, &role);
                if (s && s->error[0])
                        tlines_seg(out, ROLE_CRIT, "  %s", s->error);
                else
                        tlines_seg(out, role == ROLE_DEFAULT ? ROLE_DIM : role, "  no data yet");
                return;
        }
        tlines_seg(out, ROLE_DEFAULT, "  context %s", view_cluster_or(kd->context, "-"));
        tlines_seg(out, ROLE_DIM, "  %s", view_cluster_or(kd->server, "-"));
        if (kd->have_nodes)
                tlines_seg(out, kd->nodes_ready < (int)kd->n_nodes ? ROLE_CRIT : ROLE_DEFAULT,
                           "  nodes ready %d/%zu", kd->nodes_ready, kd->n_nodes);
        else
                tlines_seg(out, ROLE_DIM, "  nodes unknown");
        tlines_seg(out, kd->pods_not_ready ? ROLE_WARN : ROLE_DEFAULT,
                   "  pods %zu, not ready %d", kd->n_pods, kd->pods_not_ready);
        if (kd->pods_failing)
                tlines_seg(out, ROLE_CRIT, ", failing %d", kd->pods_failing);
        if (kd->workloads_short)
                tlines_seg(out, ROLE_WARN, "  workloads short %d", kd->workloads_short);
        tlines_seg(out, kd->warnings_recent ? ROLE_WARN : ROLE_DEFAULT, "  warnings %d/15m",
                   kd->warnings_recent);
        view_fmt_age(s, d->now_mono, buf, sizeof buf, &role);
        tlines_seg(out, role == ROLE_DEFAULT ? ROLE_DIM : role, "  %s%s",
                   role == ROLE_STALE ? "" : "age ", buf);
        if (s->error[0])
                tlines_seg(out, ROLE_WARN, "  %s", s->error);
}

/* "components  kafka 2/3  connect 0/1 failing 1 ...": per configured
 * component (in config order), its pods ready of those not finished. */
static void view_cluster_component_line(const struct source_cfg *src,
                                        const struct kubernetes_data *kd,
                                        struct tlines *out)
{
        const struct kubernetes_cfg *c = src->kind_cfg;
        size_t n = c ? c->components.n : 0;
        int live[16] = { 0 }, ready[16] = { 0 }, failing[16] = { 0 };

        if (!n || !kd->have_pods)
                return;
        if (n > LO_ARRAY_LEN(live))
                n = LO_ARRAY_LEN(live);
        for (size_t i = 0; i < kd->n_pods; i++) {
                const struct kubernetes_pod *p = kd->pods[i];
                const char *ph = p->phase ? p->phase : "";

                if (!p->component || !strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"))
                        continue;
                for (size_t k = 0; k < n; k++) {
                        if (strcmp(p->component, c->components.keys[k]))
                                continue;
                        live[k]++;
                        ready[k] += !kubernetes_pod_not_ready(p);
                        failing[k] += p->failing;
                        break;
                }
        }
        tlines_add(out, ROLE_DIM, "  components");
        for (size_t k = 0; k < n; k++) {
                enum theme_role role = failing[k] ? ROLE_CRIT : ready[k] < live[k] ? ROLE_WARN
                                       : live[k] ? ROLE_OK : ROLE_DIM;

                tlines_seg(out, role, "  %s %d/%d", c->components.keys[k], ready[k], live[k]);
                if (failing[k])
                        tlines_seg(out, ROLE_CRIT, " failing %d", failing[k]);
        }
}

void view_cluster_preamble(const struct view_data *d, struct tlines *out)
{
        unsigned show = view_cluster_show(d->flags), sort = view_cluster_sort(d->flags);
        size_t n = 0;

        for (size_t i = 0; i < d->n; i++) {
                if (!common_is_kind(&d->srcs[i], "kubernetes"))
                        continue;
                n++;
                view_cluster_source_line(d, &d->srcs[i], d->snaps[i], out);
                if (view_cluster_data(d->snaps[i]))
                        view_cluster_component_line(&d->srcs[i], view_cluster_data(d->snaps[i]),
                                                    out);
        }
        if (!n) {
                tlines_add(out, ROLE_DIM, "no kubernetes sources configured");
                return;
        }
        if (sort >= LO_ARRAY_LEN(view_cluster_sort_names))
                sort = 0;
        if (show == VIEW_CLUSTER_PODS)
                tlines_add(out, ROLE_PROMPT, "pods by %s (v: workloads, nodes, PVCs, events, "
                           "releases; s: sort by component, restarts, age, severity)",
                           view_cluster_sort_names[sort]);
        else
                tlines_add(out, ROLE_PROMPT, "%s (v cycles: pods, workloads, nodes, PVCs, "
                           "events, releases)", view_cluster_show_names[show]);
}

/* ---- drawing and keys (UI thread) ---------------------------------------- */

/* What view_cluster_lazy_rows fills; set by view_cluster_draw for one call. The UI
 * thread is the only caller, and rows() of a table pane has no context
 * argument. */
static struct {
        const struct view_cluster_refs *refs;
        size_t from, to;        /* rows formatted in full */
} view_cluster_lazy;

static void view_cluster_lazy_rows(const struct view_data *d, struct table_rows *out)
{
        unsigned show = view_cluster_show(d->flags);
        const struct view_cluster_refs *r = view_cluster_lazy.refs;

        for (size_t i = 0; r && i < r->n; i++) {
                struct table_row *row;

                if (i >= view_cluster_lazy.from && i < view_cluster_lazy.to) {
                        view_cluster_row(d, show, &r->v[i], table_rows_add(out));
                        continue;
                }
                /* Off screen: only the id (selection, mouse, actions read it). */
                if (out->n == out->cap) {
                        out->cap = out->cap ? 2 * out->cap : 16;
                        out->v = xrealloc(out->v, out->cap * sizeof *out->v);
                }
                row = &out->v[out->n++];
                row->cell[0].text[0] = '\0';
                row->cell[0].role = ROLE_DEFAULT;
                for (int c = 1; c < KCP__COUNT; c++)
                        row->cell[c].text[0] = '\0';
                row->sev = SEV_OK;
                row->stale = false;
                view_cluster_id(show, &r->v[i], row->id, sizeof row->id);
        }
}

static void view_cluster_draw(struct view *v, struct _win_st *win, const struct rect *r,
                              const struct view_data *d)
{
        const struct view_ops *ops = v->ops;
        unsigned show = view_cluster_show(d->flags);
        struct view_cluster_refs all = { 0 }, refs = { 0 };
        struct view_ops o;
        struct tlines l;
        char filter[sizeof v->filter], empty[200], id[TABLE_ID_MAX];
        size_t sel = v->sel, top = v->top;
        int used, body;
        bool found = false;

        if (v->detail) {
                view_draw_generic(v, win, r, d);
                return;
        }
        /* The refs the table lists, filtered on the models' fields. */
        view_cluster_collect(d, &all);
        if (v->filter[0]) {
                for (size_t i = 0; i < all.n; i++)
                        if (view_cluster_match(show, &all.v[i], v->filter))
                                view_cluster_refs_add(&refs, all.v[i].src, all.v[i].s, all.v[i].kd,
                                                      all.v[i].m);
                free(all.v);
        } else {
                refs = all;
        }
        /* Where table_draw will put the window: the preamble takes at most
         * half the pane plus a rule, the column titles one line. */
        tlines_init(&l);
        view_cluster_preamble(d, &l);
        used = (int)l.n < r->h / 2 ? (int)l.n : r->h / 2;
        if (used > 0 && used < r->h)
                used++;
        tlines_done(&l);
        body = r->h - used - 1;
        for (size_t i = 0; v->sel_id[0] && i < refs.n && !found; i++) {
                view_cluster_id(show, &refs.v[i], id, sizeof id);
                if (!strcmp(id, v->sel_id)) {
                        sel = i;
                        found = true;
                }
        }
        if (!found && refs.n && sel >= refs.n)
                sel = refs.n - 1;
        table_scroll(refs.n, body, &sel, &top);
        view_cluster_lazy.refs = &refs;
        view_cluster_lazy.from = top;
        view_cluster_lazy.to = top + (size_t)(body > 0 ? body : 0);

        o = *ops;
        o.columns = view_cluster_columns(d->flags);
        o.rows = view_cluster_lazy_rows;
        if (v->filter[0] && all.n && !refs.n) {
                snprintf(empty, sizeof empty, "no rows match /%s (Esc clears the filter)",
                         v->filter);
                o.empty = empty;
        }
        /* Already filtered: the generic filter would drop the id-only rows. */
        memcpy(filter, v->filter, sizeof filter);
        v->filter[0] = '\0';
        v->ops = &o;
        view_draw_generic(v, win, r, d);
        v->ops = ops;
        memcpy(v->filter, filter, sizeof filter);
        v->total = all.n;               /* rows before the filter, for the status line */
        view_cluster_lazy.refs = NULL;
        free(refs.v);
}

static int view_cluster_key(struct view *v, int ch)
{
        if (ch == 'v') {
                common_flags_cycle(&v->flags, VIEW_CLUSTER_SHOW_MASK, 0, VIEW_CLUSTER__SHOWS);
                common_table_reset(v);
                return VIEW_HANDLED | VIEW_REDRAW;
        }
        if (ch == 's' && view_cluster_show(v->flags) == VIEW_CLUSTER_PODS) {
                common_flags_cycle(&v->flags, VIEW_CLUSTER_SORT_MASK, VIEW_CLUSTER_SORT_SHIFT,
                                   LO_ARRAY_LEN(view_cluster_sort_names));
                return VIEW_HANDLED | VIEW_REDRAW;
        }
        return VIEW_IGNORED;
}

static const struct view_key view_cluster_keys[] = {
        { 'v', "v", "cycle the table: pods, workloads, nodes, PVCs, events, releases", "view" },
        { 's', "s", "pods: cycle the sort: component, restarts, age, severity", "sort" },
        { 0, NULL, NULL, NULL },
};

const struct view_ops view_cluster_ops = {
        .name = "cluster",
        .title = "Cluster",
        .collector = "kubernetes",
        .columns = view_cluster_pod_columns,
        .rows = view_cluster_rows,
        .preamble = view_cluster_preamble,
        .detail = view_cluster_detail,
        .detail_help = "detail",
        .draw = view_cluster_draw,
        .key = view_cluster_key,
        .keys = view_cluster_keys,
        .empty = "no rows (no kubernetes data yet, or nothing matches)",
};
