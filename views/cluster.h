/*
 * views/cluster.h: the Cluster pane: Kubernetes (views/cluster.c): what the pane exposes to the pane
 * registry, the TUI and tests.
 */
#ifndef LO_VIEWS_CLUSTER_H
#define LO_VIEWS_CLUSTER_H

#include <stddef.h>

#include "views/view.h"

extern const struct view_ops view_cluster_ops;

/* Sub-views, cycled with `v` (view_data.flags & VIEW_CLUSTER_SHOW_MASK). */
#define VIEW_CLUSTER_SHOW_MASK 0x7u
enum { VIEW_CLUSTER_PODS, VIEW_CLUSTER_WORKLOADS, VIEW_CLUSTER_NODES, VIEW_CLUSTER_PVCS,
       VIEW_CLUSTER_EVENTS, VIEW_CLUSTER_RELEASES, VIEW_CLUSTER__SHOWS };
/* Pod sort (flags bits 3-4): component (grouped), restarts, age, severity. */
#define VIEW_CLUSTER_SORT_SHIFT 3
#define VIEW_CLUSTER_SORT_MASK  (0x3u << VIEW_CLUSTER_SORT_SHIFT)
enum { VIEW_CLUSTER_SORT_COMPONENT, VIEW_CLUSTER_SORT_RESTARTS, VIEW_CLUSTER_SORT_AGE,
       VIEW_CLUSTER_SORT_SEVERITY };

enum { KCP_SOURCE, KCP_COMPONENT, KCP_NS, KCP_NAME, KCP_READY, KCP_STATUS, KCP_RESTARTS,
       KCP_LAST, KCP_NODE, KCP_AGE, KCP__COUNT };
enum { KCW_SOURCE, KCW_COMPONENT, KCW_NS, KCW_KIND, KCW_NAME, KCW_READY, KCW_UPDATED,
       KCW_AVAILABLE, KCW_AGE, KCW__COUNT };
enum { KCN_SOURCE, KCN_NAME, KCN_READY, KCN_CONDITIONS, KCN_CPU, KCN_MEMORY, KCN_SCHED,
       KCN_VERSION, KCN_AGE, KCN__COUNT };
enum { KCV_SOURCE, KCV_COMPONENT, KCV_NS, KCV_NAME, KCV_PHASE, KCV_CAPACITY, KCV_CLASS,
       KCV_VOLUME, KCV_AGE, KCV__COUNT };
enum { KCE_SOURCE, KCE_LAST, KCE_NS, KCE_OBJECT, KCE_REASON, KCE_COUNT, KCE_MESSAGE,
       KCE__COUNT };
enum { KCR_SOURCE, KCR_NS, KCR_NAME, KCR_REVISION, KCR_STATUS, KCR_AGE, KCR__COUNT };

/* The columns of the sub-view in `flags`. */
const struct column *view_cluster_columns(unsigned flags);
void view_cluster_rows(const struct view_data *d, struct table_rows *out);
void view_cluster_preamble(const struct view_data *d, struct tlines *out);
void view_cluster_detail(const struct view_data *d, const char *id, struct tlines *out);

#endif
