/*
 * kubernetes_metrics: the Kubernetes source's figures for /metrics
 * (collector_ops.metrics; docs/metrics.md lists them): workload readiness
 * (desired, ready, available, updated replicas of each StatefulSet and
 * Deployment), node readiness and cordons, PVC phases, and the derived
 * counts the pane shows (pods not ready, failing, recent warnings). A
 * resource that could not be read (RBAC) has no samples, not zeros.
 */
#include "collectors/kubernetes/kubernetes.h"

#include <math.h>

#include "core/promtext.h"
#include "core/snapshot.h"

static void kubernetes_metrics_declare(struct promtext *p)
{
        promtext_declare(p, "lambdaops_kubernetes_workload_desired_replicas", PROMTEXT_GAUGE,
                         "spec.replicas of the StatefulSet or Deployment.");
        promtext_declare(p, "lambdaops_kubernetes_workload_ready_replicas", PROMTEXT_GAUGE,
                         "status.readyReplicas of the workload.");
        promtext_declare(p, "lambdaops_kubernetes_workload_available_replicas", PROMTEXT_GAUGE,
                         "status.availableReplicas of the workload.");
        promtext_declare(p, "lambdaops_kubernetes_workload_updated_replicas", PROMTEXT_GAUGE,
                         "status.updatedReplicas of the workload.");
        promtext_declare(p, "lambdaops_kubernetes_workloads_short", PROMTEXT_GAUGE,
                         "Workloads with fewer ready replicas than desired.");
        promtext_declare(p, "lambdaops_kubernetes_node_ready", PROMTEXT_GAUGE,
                         "1 when the node's Ready condition is True, 0 when False; absent when "
                         "Unknown.");
        promtext_declare(p, "lambdaops_kubernetes_node_unschedulable", PROMTEXT_GAUGE,
                         "1 when the node is cordoned.");
        promtext_declare(p, "lambdaops_kubernetes_pods_not_ready", PROMTEXT_GAUGE,
                         "Pods not ready (running pods with a container not ready, pending "
                         "pods).");
        promtext_declare(p, "lambdaops_kubernetes_pods_failing", PROMTEXT_GAUGE,
                         "Pods in a crash, image pull or config failure.");
        promtext_declare(p, "lambdaops_kubernetes_pvc_phase", PROMTEXT_GAUGE,
                         "1 with the PersistentVolumeClaim's phase label (Pending, Bound, Lost).");
        promtext_declare(p, "lambdaops_kubernetes_warning_events_15m", PROMTEXT_GAUGE,
                         "Warning events seen in the 15 minutes before the poll.");
}

void kubernetes_metrics(const struct snapshot *snap, const struct source_cfg *src,
                        struct promtext *p)
{
        const struct kubernetes_data *d = snap->data;
        const char *s = src->name;

        kubernetes_metrics_declare(p);
        if (d->have_workloads) {
                for (size_t i = 0; i < d->n_workloads; i++) {
                        const struct kubernetes_workload *w = d->workloads[i];

                        promtext_add(p, "lambdaops_kubernetes_workload_desired_replicas",
                                     w->desired, "source", s, "namespace", w->ns,
                                     "kind", w->kind, "workload", w->name, NULL);
                        promtext_add(p, "lambdaops_kubernetes_workload_ready_replicas", w->ready,
                                     "source", s, "namespace", w->ns, "kind", w->kind,
                                     "workload", w->name, NULL);
                        promtext_add(p, "lambdaops_kubernetes_workload_available_replicas",
                                     w->available, "source", s, "namespace", w->ns,
                                     "kind", w->kind, "workload", w->name, NULL);
                        promtext_add(p, "lambdaops_kubernetes_workload_updated_replicas",
                                     w->updated, "source", s, "namespace", w->ns,
                                     "kind", w->kind, "workload", w->name, NULL);
                }
                promtext_add(p, "lambdaops_kubernetes_workloads_short", d->workloads_short,
                             "source", s, NULL);
        }
        if (d->have_nodes)
                for (size_t i = 0; i < d->n_nodes; i++) {
                        const struct kubernetes_node *n = d->nodes[i];

                        if (n->ready >= 0)
                                promtext_add(p, "lambdaops_kubernetes_node_ready", n->ready,
                                             "source", s, "node", n->name, NULL);
                        promtext_add(p, "lambdaops_kubernetes_node_unschedulable",
                                     n->unschedulable ? 1 : 0, "source", s, "node", n->name,
                                     NULL);
                }
        if (d->have_pods) {
                promtext_add(p, "lambdaops_kubernetes_pods_not_ready", d->pods_not_ready,
                             "source", s, NULL);
                promtext_add(p, "lambdaops_kubernetes_pods_failing", d->pods_failing,
                             "source", s, NULL);
        }
        if (d->have_pvcs)
                for (size_t i = 0; i < d->n_pvcs; i++) {
                        const struct kubernetes_pvc *v = d->pvcs[i];

                        if (v->phase)
                                promtext_add(p, "lambdaops_kubernetes_pvc_phase", 1, "source", s,
                                             "namespace", v->ns, "pvc", v->name,
                                             "phase", v->phase, NULL);
                }
        if (d->have_events)
                promtext_add(p, "lambdaops_kubernetes_warning_events_15m", d->warnings_recent,
                             "source", s, NULL);
}
