/*
 * kubernetes: the `kind: kubernetes` collector (nodes, workloads, pods,
 * PVCs, Warning events, Helm releases, grouped by pipeline component) on
 * the direct API client of src/kube.h.
 */
#ifndef LO_COLLECTORS_KUBERNETES_H
#define LO_COLLECTORS_KUBERNETES_H

#include "collector.h"
#include "kube.h"

extern const struct collector_ops coll_kubernetes_ops;

/* The connection settings of a `kind: kubernetes` source: used by `kind:
 * spark` sources (their `kubernetes:` key) and by the kubectl/helm actions
 * (--kubeconfig, --context). The strings are borrowed from the config.
 * Pure; any thread. */
void kubernetes_source_opts(const struct source_cfg *src, struct kube_opts *out);

#endif
