/*
 * Cluster pane, the Enter page (views/cluster.c has the tables and the
 * preamble): built from the model alone, nothing is fetched. A pod's
 * conditions and containers, a workload with its pods, a node with its pod
 * counts, a PVC, an event's full message, a Helm release. Pure.
 */
#include "views/cluster.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "collectors/kubernetes/kubernetes.h"
#include "core/util.h"
#include "views/cluster_int.h"
#include "views/common.h"
#include "views/view.h"

/* Splits "SOURCE\tTARGET" into the source name, kind, namespace and name.
 * Nodes have ns "". */
static bool view_cluster_split_id(const char *id, char *src, size_t ns_, char *kind, size_t nk,
                                  char *ns, size_t nn, const char **name)
{
        const char *t = strchr(id, '\t'), *a, *b;

        if (!t)
                return false;
        snprintf(src, ns_, "%.*s", (int)(t - id), id);
        a = strchr(t + 1, '/');
        if (!a)
                return false;
        if (!strncmp(t + 1, "node/", 5)) {
                str_copy(kind, "node", nk);
                ns[0] = '\0';
                *name = a + 1;
                return true;
        }
        b = strchr(a + 1, '/');
        if (!b)
                return false;
        snprintf(ns, nn, "%.*s", (int)(a - t - 1), t + 1);
        snprintf(kind, nk, "%.*s", (int)(b - a - 1), a + 1);
        *name = b + 1;
        return true;
}

/* Row ids are clipped at TABLE_ID_MAX - 1 bytes: a clipped id names the
 * first object whose name starts with what is left. */
static bool view_cluster_is(const char *ns, const char *name, const char *want_ns, const char *want,
                            bool clipped)
{
        if (strcmp(view_cluster_or(ns, "-"), want_ns))
                return false;
        if (clipped)
                return !strncmp(view_cluster_or(name, "-"), want, strlen(want));
        return !strcmp(view_cluster_or(name, "-"), want);
}

static void view_cluster_detail_pod(const struct view_data *d, const struct snapshot *s,
                                    const struct kubernetes_data *kd, const struct source_cfg *src,
                                    const struct kubernetes_pod *p, struct tlines *out)
{
        enum theme_role role;
        enum severity sev;
        const char *st = view_cluster_pod_status(src, p, &role, &sev);
        char buf[64];

        tlines_kv(out, "component", p->component ? ROLE_DEFAULT : ROLE_DIM, "%s",
                  view_cluster_or(p->component, "-"));
        tlines_kv(out, "status", role, "%s", st);
        tlines_kv(out, "phase", ROLE_DEFAULT, "%s", view_cluster_or(p->phase, "-"));
        tlines_kv(out, "ready", p->ready_containers < p->containers ? ROLE_WARN : ROLE_OK,
                  "%d/%d containers", p->ready_containers, p->containers);
        tlines_kv(out, "restarts", ROLE_DEFAULT, "%d", p->restarts);
        tlines_kv(out, "last termination", p->last_reason ? ROLE_WARN : ROLE_DIM, "%s",
                  view_cluster_or(p->last_reason, "-"));
        tlines_kv(out, "node", p->node ? ROLE_DEFAULT : ROLE_WARN, "%s",
                  view_cluster_or(p->node, "not scheduled"));
        view_cluster_age(d, s, kd, p->start_ms, buf, sizeof buf);
        tlines_kv(out, "age", ROLE_DEFAULT, "%s", buf);
        if (p->owner_kind)
                tlines_kv(out, "owner", ROLE_DEFAULT, "%s/%s", p->owner_kind,
                          view_cluster_or(p->owner_name, "-"));
        if (p->terminating)
                tlines_kv(out, "deletion", ROLE_WARN, "terminating");
        if (p->message)
                tlines_kv(out, "message", ROLE_WARN, "%s", p->message);
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "  Conditions");
        if (!p->n_cond)
                tlines_add(out, ROLE_DIM, "    none reported");
        for (size_t i = 0; i < p->n_cond; i++) {
                const struct kubernetes_cond *c = &p->cond[i];
                bool ok = c->status && !strcmp(c->status, "True");

                tlines_add(out, ROLE_DEFAULT, "    %-28s ", c->type);
                tlines_seg(out, ok ? ROLE_OK : ROLE_WARN, "%-8s", view_cluster_or(c->status, "-"));
                if (c->reason)
                        tlines_seg(out, ROLE_DIM, " %s", c->reason);
        }
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "  %-24s %-5s %-6s %8s %-11s %-26s %s", "CONTAINER", "INIT",
                   "READY", "RESTARTS", "STATE", "REASON", "LAST EXIT");
        if (!p->n_cont)
                tlines_add(out, ROLE_DIM, "    no container statuses yet");
        for (size_t i = 0; i < p->n_cont; i++) {
                const struct kubernetes_container *c = &p->cont[i];
                char last[96];

                if (c->last_reason)
                        snprintf(last, sizeof last, "%s (exit %d)", c->last_reason, c->last_exit);
                else
                        str_copy(last, "-", sizeof last);
                tlines_add(out, ROLE_DEFAULT, "  %-24.24s %-5s ", view_cluster_or(c->name, "-"),
                           c->init ? "init" : "");
                tlines_seg(out, c->ready ? ROLE_OK : ROLE_WARN, "%-6s", c->ready ? "yes" : "no");
                tlines_seg(out, ROLE_DEFAULT, " %8d %-11s ", c->restarts,
                           view_cluster_or(c->state, "-"));
                tlines_seg(out, c->reason && c->state && !strcmp(c->state, "waiting")
                           ? ROLE_CRIT : ROLE_DEFAULT, "%-26.26s", view_cluster_or(c->reason, "-"));
                tlines_seg(out, c->last_reason ? ROLE_WARN : ROLE_DIM, " %s", last);
        }
}

/* A pod belongs to a workload: a StatefulSet owns it directly; a
 * Deployment through a ReplicaSet named "<deployment>-<hash>". */
static bool view_cluster_owned(const struct kubernetes_workload *w, const struct kubernetes_pod *p)
{
        size_t n;

        if (!p->owner_kind || !p->owner_name ||
            strcmp(view_cluster_or(p->ns, ""), view_cluster_or(w->ns, "")))
                return false;
        if (!strcmp(w->kind, "StatefulSet"))
                return !strcmp(p->owner_kind, "StatefulSet") && !strcmp(p->owner_name, w->name);
        n = strlen(w->name);
        return !strcmp(p->owner_kind, "ReplicaSet") && !strncmp(p->owner_name, w->name, n) &&
               p->owner_name[n] == '-' && p->owner_name[n + 1] &&
               !strchr(p->owner_name + n + 1, '-');
}

static void view_cluster_detail_wl(const struct view_data *d, const struct snapshot *s,
                                   const struct kubernetes_data *kd, const struct source_cfg *src,
                                   const struct kubernetes_workload *w, struct tlines *out)
{
        char buf[64];
        size_t n = 0;

        tlines_kv(out, "component", w->component ? ROLE_DEFAULT : ROLE_DIM, "%s",
                  view_cluster_or(w->component, "-"));
        tlines_kv(out, "ready", w->ready < w->desired ? ROLE_WARN : ROLE_OK, "%d/%d", w->ready,
                  w->desired);
        tlines_kv(out, "updated", ROLE_DEFAULT, "%d", w->updated);
        tlines_kv(out, "available", ROLE_DEFAULT, "%d", w->available);
        view_cluster_age(d, s, kd, w->created_ms, buf, sizeof buf);
        tlines_kv(out, "age", ROLE_DEFAULT, "%s", buf);
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "  %-40s %5s %-18s %8s %-10s %s", "POD", "READY", "STATUS",
                   "RESTARTS", "LAST EXIT", "NODE");
        for (size_t i = 0; i < kd->n_pods; i++) {
                const struct kubernetes_pod *p = kd->pods[i];
                enum theme_role role;
                enum severity sev;
                const char *st;
                char rd[16];

                if (!view_cluster_owned(w, p))
                        continue;
                n++;
                st = view_cluster_pod_status(src, p, &role, &sev);
                snprintf(rd, sizeof rd, "%d/%d", p->ready_containers, p->containers);
                tlines_add(out, ROLE_DEFAULT, "  %-40.40s %5s ", p->name, rd);
                tlines_seg(out, role, "%-18.18s", st);
                tlines_seg(out, ROLE_DEFAULT, " %8d ", p->restarts);
                tlines_seg(out, p->last_reason ? ROLE_WARN : ROLE_DIM, "%-10.10s",
                           view_cluster_or(p->last_reason, "-"));
                tlines_seg(out, ROLE_DEFAULT, " %s", view_cluster_or(p->node, "-"));
        }
        if (!n)
                tlines_add(out, ROLE_DIM, "  no pods of this %s in the data", w->kind);
}

static void view_cluster_detail_node(const struct view_data *d, const struct snapshot *s,
                                     const struct kubernetes_data *kd,
                                     const struct kubernetes_node *nd, struct tlines *out)
{
        char buf[96];
        int pods = 0, not_ready = 0, failing = 0;

        tlines_kv(out, "ready", nd->ready == 1 ? ROLE_OK : ROLE_CRIT, "%s",
                  view_cluster_node_ready(nd));
        view_cluster_pressure(nd, buf, sizeof buf);
        tlines_kv(out, "pressure", nd->pressure ? ROLE_WARN : ROLE_DIM, "%s", buf);
        view_cluster_cpu(nd->cpu, buf, sizeof buf);
        tlines_kv(out, "allocatable cpu", ROLE_DEFAULT, "%s", buf);
        fmt_bytes_or_dash(nd->memory, buf, sizeof buf);
        tlines_kv(out, "allocatable memory", ROLE_DEFAULT, "%s", buf);
        tlines_kv(out, "schedulable", nd->unschedulable ? ROLE_WARN : ROLE_OK, "%s",
                  nd->unschedulable ? "no (cordoned)" : "yes");
        tlines_kv(out, "kubelet", ROLE_DEFAULT, "%s", view_cluster_or(nd->version, "-"));
        view_cluster_age(d, s, kd, nd->created_ms, buf, sizeof buf);
        tlines_kv(out, "age", ROLE_DEFAULT, "%s", buf);
        for (size_t i = 0; i < kd->n_pods; i++) {
                const struct kubernetes_pod *p = kd->pods[i];

                if (!p->node || strcmp(p->node, nd->name))
                        continue;
                pods++;
                not_ready += kubernetes_pod_not_ready(p);
                failing += p->failing;
        }
        tlines_kv(out, "pods", ROLE_DEFAULT, "%d", pods);
        tlines_seg(out, not_ready ? ROLE_WARN : ROLE_DIM, "  not ready %d", not_ready);
        tlines_seg(out, failing ? ROLE_CRIT : ROLE_DIM, "  failing %d", failing);
}

static void view_cluster_detail_pvc(const struct view_data *d, const struct snapshot *s,
                                    const struct kubernetes_data *kd,
                                    const struct kubernetes_pvc *v,
                                    struct tlines *out)
{
        char buf[64];

        tlines_kv(out, "component", v->component ? ROLE_DEFAULT : ROLE_DIM, "%s",
                  view_cluster_or(v->component, "-"));
        tlines_kv(out, "phase", view_cluster_pvc_role(v->phase), "%s",
                  view_cluster_or(v->phase, "-"));
        fmt_bytes_or_dash(v->capacity, buf, sizeof buf);
        tlines_kv(out, "capacity", ROLE_DEFAULT, "%s", buf);
        fmt_bytes_or_dash(v->requested, buf, sizeof buf);
        tlines_kv(out, "requested", ROLE_DEFAULT, "%s", buf);
        tlines_kv(out, "storage class", ROLE_DEFAULT, "%s", view_cluster_or(v->storage_class, "-"));
        tlines_kv(out, "volume", ROLE_DEFAULT, "%s", view_cluster_or(v->volume, "-"));
        view_cluster_age(d, s, kd, v->created_ms, buf, sizeof buf);
        tlines_kv(out, "age", ROLE_DEFAULT, "%s", buf);
}

static void view_cluster_detail_event(const struct view_data *d, const struct snapshot *s,
                                      const struct kubernetes_data *kd,
                                      const struct kubernetes_event *e, struct tlines *out)
{
        char buf[64];
        const char *m = view_cluster_or(e->message, "-");
        size_t len = strlen(m);

        tlines_kv(out, "object", ROLE_DEFAULT, "%s", view_cluster_or(e->object, "-"));
        tlines_kv(out, "reason", ROLE_WARN, "%s", view_cluster_or(e->reason, "-"));
        if (e->count >= 0)
                tlines_kv(out, "count", ROLE_DEFAULT, "%d", e->count);
        else
                tlines_kv(out, "count", ROLE_DIM, "-");
        view_cluster_age(d, s, kd, e->last_seen_ms, buf, sizeof buf);
        tlines_kv(out, "last seen", ROLE_DEFAULT, "%s%s", buf, e->last_seen_ms >= 0 ? " ago" : "");
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        /* The whole message, wrapped at 100 bytes. */
        for (size_t i = 0; i < len; i += 100)
                tlines_add(out, ROLE_DEFAULT, "  %.100s", m + i);
}

static void view_cluster_detail_rel(const struct view_data *d, const struct snapshot *s,
                                    const struct kubernetes_data *kd,
                                    const struct kubernetes_release *rl, struct tlines *out)
{
        char buf[64];

        if (rl->revision >= 0)
                tlines_kv(out, "revision", ROLE_DEFAULT, "%d", rl->revision);
        else
                tlines_kv(out, "revision", ROLE_DIM, "-");
        tlines_kv(out, "status", view_cluster_release_role(rl->status), "%s",
                  view_cluster_or(rl->status, "-"));
        view_cluster_age(d, s, kd, rl->created_ms, buf, sizeof buf);
        tlines_kv(out, "deployed", ROLE_DEFAULT, "%s ago", buf);
}

void view_cluster_detail(const struct view_data *d, const char *id, struct tlines *out)
{
        char sname[96], kind[24], ns[96];
        const struct source_cfg *src = NULL;
        const struct snapshot *s = NULL;
        const struct kubernetes_data *kd;
        const char *name;
        bool found = false, clipped;

        clipped = strlen(id) >= TABLE_ID_MAX - 1;
        if (!view_cluster_split_id(id, sname, sizeof sname, kind, sizeof kind, ns, sizeof ns,
                                   &name)) {
                tlines_add(out, ROLE_WARN, "no such row");
                return;
        }
        src = common_source(d, "kubernetes", sname, &s);
        kd = view_cluster_data(s);
        if (!strcmp(kind, "node"))
                tlines_add(out, ROLE_TITLE, "Node %s", name);
        else
                tlines_add(out, ROLE_TITLE, "%s %s/%s", kind, ns, name);
        tlines_seg(out, ROLE_DIM, "  on %s", sname);
        if (!src || !kd) {
                tlines_add(out, ROLE_WARN, "  no data from this source%s%s",
                           s && s->error[0] ? ": " : "", s && s->error[0] ? s->error : "");
                return;
        }
        if (!strcmp(kind, "pod")) {
                for (size_t i = 0; i < kd->n_pods && !found; i++)
                        if (view_cluster_is(kd->pods[i]->ns, kd->pods[i]->name, ns, name,
                                            clipped)) {
                                view_cluster_detail_pod(d, s, kd, src, kd->pods[i], out);
                                found = true;
                        }
        } else if (!strcmp(kind, "statefulset") || !strcmp(kind, "deployment")) {
                for (size_t i = 0; i < kd->n_workloads && !found; i++) {
                        const struct kubernetes_workload *w = kd->workloads[i];

                        if (view_cluster_is(w->ns, w->name, ns, name, clipped) &&
                            !strcmp(view_cluster_wl_kind(w), kind)) {
                                view_cluster_detail_wl(d, s, kd, src, w, out);
                                found = true;
                        }
                }
        } else if (!strcmp(kind, "node")) {
                for (size_t i = 0; i < kd->n_nodes && !found; i++)
                        if (view_cluster_is(NULL, kd->nodes[i]->name, "-", name, clipped)) {
                                view_cluster_detail_node(d, s, kd, kd->nodes[i], out);
                                found = true;
                        }
        } else if (!strcmp(kind, "pvc")) {
                for (size_t i = 0; i < kd->n_pvcs && !found; i++)
                        if (view_cluster_is(kd->pvcs[i]->ns, kd->pvcs[i]->name, ns, name,
                                            clipped)) {
                                view_cluster_detail_pvc(d, s, kd, kd->pvcs[i], out);
                                found = true;
                        }
        } else if (!strcmp(kind, "event")) {
                for (size_t i = 0; i < kd->n_events && !found; i++)
                        if (view_cluster_is(kd->events[i]->ns, kd->events[i]->name, ns, name,
                                            clipped)) {
                                view_cluster_detail_event(d, s, kd, kd->events[i], out);
                                found = true;
                        }
        } else if (!strcmp(kind, "release")) {
                for (size_t i = 0; i < kd->n_releases && !found; i++)
                        if (view_cluster_is(kd->releases[i]->ns, kd->releases[i]->name, ns, name,
                                            clipped)) {
                                view_cluster_detail_rel(d, s, kd, kd->releases[i], out);
                                found = true;
                        }
        }
        if (!found)
                tlines_add(out, ROLE_WARN, "  this %s is not in the latest data", kind);
}
