/*
 * health: turns snapshots into alerts with thresholds, and alerts into the
 * overall state. Pure functions over immutable snapshots; any thread.
 */
#ifndef LO_SRC_HEALTH_H
#define LO_SRC_HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

struct snapshot;
struct source_cfg;

/* Ordered by badness for "worst wins"; UNKNOWN ranks between WARN and CRIT
 * only when computing the overall state (see health_overall). */
enum severity { SEV_OK = 0, SEV_WARN, SEV_CRIT, SEV_UNKNOWN };

const char *severity_name(enum severity s);     /* "ok", "warn", "crit", "unknown" */
/* Nagios plugin exit code: 0 ok, 1 warn, 2 crit, 3 unknown. */
int severity_exit_code(enum severity s);

struct alert {
        enum severity sev;                      /* SEV_WARN or SEV_CRIT */
        char   source[64];
        char   metric[48];                      /* threshold name, or "status" */
        char   subject[128];                    /* e.g. a slot name; "" for the source itself */
        double value;                           /* NAN when not numeric */
        double threshold;                       /* the crossed limit; NAN when not numeric */
        char   message[256];                    /* human sentence; never a secret */
        const struct source_cfg *src;           /* its source (the config owns it; the
                                                   lifecycle reads for/keep_firing_for
                                                   and the environment); NULL when built
                                                   by hand */
};

/* The metric of the source's own alert (down: crit, degraded: warn). */
#define HEALTH_METRIC_STATUS "status"


struct alert_list {
        struct alert *v;        /* owned */
        size_t n, cap;
};

void alert_list_init(struct alert_list *l);
void alert_list_done(struct alert_list *l);
void alert_list_add(struct alert_list *l, const struct alert *a);

/* Checks `value` against the source's configured threshold `metric` (higher
 * is worse) and adds a warn or crit alert when crossed. The message is
 * "<subject> <metric> <value> >= <limit>" with units from the threshold
 * definition, unless `what` is given ("slot debezium lag" etc.). Returns the
 * severity added (SEV_OK when none or when the threshold is unknown). */
enum severity health_check(struct alert_list *l, const struct source_cfg *src,
                           const char *metric, const char *subject,
                           double value, const char *what);

/* The severity of `value` against limits where higher is worse: SEV_CRIT at
 * or above crit, else SEV_WARN at or above warn, else SEV_OK (also for a NAN
 * value; a NAN limit is off). *limit (may be NULL) gets the crossed limit,
 * NAN when none. Pure. */
enum severity health_level(double value, double warn, double crit, double *limit);
/* health_level against the source's configured threshold `metric`; SEV_OK
 * (and a NAN *limit) when the source has no such threshold. */
enum severity health_threshold_sev(const struct source_cfg *src, const char *metric,
                                   double value, double *limit);
/* A value in its threshold unit: "1.2 MiB", "3.4s", "5.00/s", "12"; "-"
 * for NAN. */
void health_fmt_value(enum thr_unit u, double v, char *buf, size_t n);

/* Appends a printf-formatted note ("what is missing", one line) to a kind's
 * owned list *notes of *n_notes entries: at most len - 1 characters (as
 * snprintf into a buffer of len), and nothing once the list holds `max`
 * notes (0: no limit). */
void health_note(char ***notes, size_t *n_notes, size_t max, size_t len, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

/* Adds a non-threshold alert (a state rule such as "wal_level is replica"). */
void health_add(struct alert_list *l, enum severity sev, const struct source_cfg *src,
                const char *metric, const char *subject, double value,
                double threshold, const char *fmt, ...)
        __attribute__((format(printf, 8, 9)));

/* All alerts for one snapshot: a down source is crit, a degraded one warn,
 * then the kind's own rules (ops->alerts) when data is present. */
void health_eval(const struct snapshot *s, struct alert_list *out);

/* True for the alert health_eval adds for a source that is down (its
 * "status" crit alert): the lifecycle makes that source's other alerts
 * unknown (src/core/alerttrack.h). */
bool health_alert_down(const struct alert *a);

/* Worst over alerts; SEV_UNKNOWN when no alert is crit and some source has
 * never been polled (NULL snapshot or COLL_UNKNOWN). */
enum severity health_overall(const struct snapshot *const *snaps, size_t n,
                             const struct alert_list *alerts);

#endif
