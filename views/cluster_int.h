/*
 * views/cluster_int.h: what the Cluster pane's two files share: the table
 * and preamble (views/cluster.c) and the Enter page (views/cluster_detail.c).
 * Pure helpers over the Kubernetes model; not for other panes.
 */
#ifndef LO_VIEWS_CLUSTER_INT_H
#define LO_VIEWS_CLUSTER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/kubernetes/kubernetes.h"
#include "views/view.h"

/* The Kubernetes model of a snapshot, or NULL. */
const struct kubernetes_data *view_cluster_data(const struct snapshot *s);
/* s unless NULL or "", else def. */
const char *view_cluster_or(const char *s, const char *def);
/* Age of a wall time `at_ms` as of now: the snapshot's wall clock plus the
 * monotonic time since it was taken. "-" when unknown. */
void view_cluster_age(const struct view_data *d, const struct snapshot *s,
                      const struct kubernetes_data *kd, int64_t at_ms, char *buf, size_t n);
/* CPU cores: "2", "0.25"; "-" when unknown. */
void view_cluster_cpu(double v, char *buf, size_t n);
/* The node's pressure conditions that are True, comma-separated, or "-". */
void view_cluster_pressure(const struct kubernetes_node *nd, char *buf, size_t n);
/* "Ready", "NotReady", "Unknown". */
const char *view_cluster_node_ready(const struct kubernetes_node *nd);
/* The status shown for a pod, its role and severity. */
const char *view_cluster_pod_status(const struct source_cfg *src, const struct kubernetes_pod *p,
                                    enum theme_role *role, enum severity *sev);
/* The role of a Helm release status and of a PVC phase. */
enum theme_role view_cluster_release_role(const char *st);
enum theme_role view_cluster_pvc_role(const char *ph);
/* The KIND of a workload in row ids: "statefulset" or "deployment". */
const char *view_cluster_wl_kind(const struct kubernetes_workload *w);

#endif
