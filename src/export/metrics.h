/*
 * metrics: the /metrics document (Prometheus text exposition, 0.0.4) of a
 * set of sources, and the HTTP server that serves it (metrics_server.c).
 * Names, types and labels are listed in docs/metrics.md.
 *
 * metrics_render is pure over snapshots the caller holds references to:
 * the per-source families (up, status, poll duration and age, polls,
 * failures), each kind's own through collector_ops.metrics, the alerts of
 * the health rules, and lambdaops_build_info. Any thread.
 *
 * Extension point for the alert lifecycle (for: / keep_firing_for:): today
 * lambdaops_alert{source,metric,subject,severity} is 1 for every alert the
 * health rules raise on the current snapshots. A caller that tracks alerts
 * over time (lambdaops watch) passes its own list in opts->alerts and an
 * alert_state callback: each sample then also carries
 * state="pending"|"firing"|"unknown" (whatever the callback returns; NULL
 * for an alert leaves the label out of that sample).
 */
#ifndef LO_EXPORT_METRICS_H
#define LO_EXPORT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/app.h"
#include "core/health.h"
#include "core/snapshot.h"
#include "core/util.h"

struct metrics_opts {
        /* The alerts to export; NULL = the health rules over the snapshots
         * (report_eval). */
        const struct alert_list *alerts;
        /* The lifecycle state of an alert of that list, or NULL = none. */
        const char *(*alert_state)(void *arg, const struct alert *a);
        void *arg;
};

/* The document for sources srcs[0..n) and their snapshots snaps[0..n)
 * (NULL: never polled) at monotonic time now_mono (for the ages). opts may
 * be NULL. Returns owned text; *len (may be NULL) gets its length. */
char *metrics_render(const struct snapshot *const *snaps, const struct source_cfg *srcs,
                     size_t n, int64_t now_mono, const struct metrics_opts *opts,
                     size_t *len);

struct metrics_server;

/* Serves GET (and HEAD) /metrics for a's sources on `listen`: "PORT",
 * ":PORT", "HOST:PORT" or "[IPV6]:PORT", HOST a numeric address (no name
 * lookup); without a host, 127.0.0.1. PORT 0 picks a free port
 * (metrics_server_port says which). Other paths get 404, other methods 405.
 * Each scrape takes references to the latest snapshots (collector_latest:
 * the collector's mutex is held only to copy a pointer) and renders outside
 * any lock, so a scrape never blocks a collector. One internal thread;
 * at most METRICS_MAX_CONNECTIONS connections, each closed after
 * METRICS_CONN_TIMEOUT_S idle seconds. a->colls must outlive the server:
 * stop it before app_stop_collectors. 0, or -1 with err (address in use,
 * bad address). Main thread. */
#define METRICS_MAX_CONNECTIONS 16
#define METRICS_CONN_TIMEOUT_S  10
int metrics_server_start(const struct app *a, const char *listen, struct metrics_server **out,
                         struct err *err);
/* The bound TCP port. */
int metrics_server_port(const struct metrics_server *m);
/* How many /metrics documents it has served. Any thread. */
uint64_t metrics_server_scrapes(const struct metrics_server *m);
/* Stops serving (closes the socket, joins its thread) and frees; NULL-safe.
 * Main thread. */
void metrics_server_stop(struct metrics_server *m);

#endif
