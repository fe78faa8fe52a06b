/*
 * collector: the interface every service poller implements (collector_ops),
 * and the runtime that runs one thread per configured source.
 *
 * Thread model. Each source gets one thread that owns the kind's private
 * state (connections, history) and calls ops->poll every interval. A poll
 * builds kind data privately; the runtime wraps it in a snapshot, publishes
 * it under the collector's mutex, and writes one byte to the app's wake pipe.
 * The UI thread (or the status command) takes references with
 * collector_latest(). Failures back off exponentially (interval x 2^n,
 * capped at 60 s or 8 x interval, whichever is larger) and recover by
 * themselves.
 *
 * Blocking I/O inside poll must go through coll_wait_fd() (or honour
 * coll_ctx.deadline_mono and coll_stopping()), so that a hung service never
 * holds a thread past its timeout or past quit.
 */
#ifndef LO_SRC_COLLECTOR_H
#define LO_SRC_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/health.h"
#include "core/snapshot.h"
#include "core/util.h"

struct action_def;
struct cfg_action;
struct promtext;
struct sql_runner;
struct cJSON;

/* A kind of action that a collector plugs in (collector_ops.action_kind),
 * e.g. the actions of collectors/kubernetes/kubeact.c: what
 * the config loader, the action machinery, the TUI and the CLI need from
 * it, found through the registry (src/actions/action.h wraps it), never by
 * the kind's name. Every member is optional. */
struct action_kind {
        /* Checks one entry of the config's `actions:` list: -1 with err and
         * *key set to the offending key name. The first kind in the registry
         * with user_defs owns that list. Main thread. */
        int  (*user_check)(const struct cfg_action *a, const char **key, struct err *err);
        /* The action table of cfg's `actions:` (owned; free()), or NULL. */
        const struct action_def *(*user_defs)(const struct config *cfg);
        /* True when d, one of user_defs' actions, applies to sources of `kind`. */
        bool (*user_applies)(const struct action_def *d, const char *kind);
        /* False (and a reason) when d does not apply to the row `target`;
         * true for actions that are not this kind's. Pure. */
        bool (*target_ok)(const struct action_def *d, const char *target, struct err *err);
        /* The context the source's actions work on as configured (no file
         * read), or NULL. Borrowed. Shown in confirmations and audited. */
        const char *(*context_cfg)(const struct source_cfg *src);
        /* The context as the source's connection sees it (may read a local
         * file, e.g. a kubeconfig's current-context): owned in *context;
         * 0 or -1 with err. Set by kinds whose sources own a connection; the
         * TUI header warns about the first one in a danger context. */
        int  (*context_read)(const struct source_cfg *src, char **context, struct err *err);
};

/* Passed to poll: what the poll may block on and until when. */
struct coll_ctx {
        int      stop_fd;        /* readable once quit was requested */
        int64_t  deadline_mono;  /* start of poll + source timeout */
        int64_t  now_mono;       /* when the poll started */
        int64_t  timeout_ms;     /* the source's timeout */
};

/* Waits until fd is ready for `events` (POLLIN/POLLOUT), the ctx deadline
 * passes, or quit is requested. Returns 1 ready, 0 timed out (err set),
 * -1 stopping or poll error (err set). */
int coll_wait_fd(const struct coll_ctx *ctx, int fd, short events, struct err *err);
bool coll_stopping(const struct coll_ctx *ctx);

struct collector_ops {
        const char *name;               /* the `kind:` value, e.g. "postgres" */
        const char *title;              /* "PostgreSQL" */
        int64_t default_interval_ms;
        int64_t default_timeout_ms;

        const struct cfg_key *keys;     /* NULL-name-terminated; kind-specific keys */
        size_t cfg_size;                /* sizeof the kind cfg struct */
        const struct threshold_def *thresholds; /* NULL-name-terminated */

        /* Cross-key checks after parsing (e.g. "password_env and
         * password_file are exclusive"). Optional. Main thread. */
        int  (*validate)(const struct source_cfg *src, struct err *err);

        /* Private state for one source; owned by the collector thread.
         * Called on that thread before the first poll. */
        void *(*create)(const struct source_cfg *src);
        void  (*destroy)(void *state);

        /* One poll. Sets *data (owned kind data, may stay NULL on failure).
         * Returns COLL_OK, COLL_DEGRADED (err says what is missing) or
         * COLL_DOWN (err says why). Collector thread; must never exit. */
        enum coll_status (*poll)(void *state, const struct coll_ctx *ctx,
                                 void **data, struct err *err);
        void (*data_free)(void *data);

        /* Pure readers of published data; any thread. */
        void   (*to_json)(const void *data, struct cJSON *obj);   /* adds kind keys */
        void   (*alerts)(const struct source_cfg *src, const void *data,
                         struct alert_list *out);
        /* Key metric for the overview sparkline (NAN when none) and a short
         * summary such as "3 slots, max lag 1.2 GiB". */
        double (*key_metric)(const void *data);
        void   (*summary)(const void *data, char *buf, size_t n);
        const char *key_metric_name;    /* "max slot lag" */
        enum thr_unit key_metric_unit;

        /* Optional operator actions on this kind's rows (src/actions/action.h),
         * NULL-name-terminated; NULL = none. */
        const struct action_def *actions;
        /* Optional: the kind's action plug-in (above); NULL = none. */
        const struct action_kind *action_kind;

        /* Optional: runs SQL for reconciliation (src/clients/sql.h); NULL =
         * this kind cannot be queried. */
        const struct sql_runner *sql;

        /* Optional: top-level config keys this kind owns (say, the programs
         * its action plug-in runs), a NULL-name-terminated table parsed like
         * `keys` (same types, same messages) into a zeroed struct of
         * config_size bytes that the config keeps per kind; the kind reads
         * it back with config_kind_cfg(). Offered by "did you mean" after
         * the core's audit_log, in registry order. NULL = none. */
        const struct cfg_key *config_keys;
        size_t config_size;

        /* Optional: the kind's figures for the /metrics endpoint
         * (src/export/metrics_server.h), added to out (src/core/promtext.h)
         * as lambdaops_<kind>_* families, every sample labelled
         * source="<src->name>" first; names, types and labels are listed in
         * docs/metrics.md. Called only when s->data is set, with the
         * snapshot held by a reference; a pure reader, any thread. The
         * per-source families (up, poll duration, age) and the alerts are
         * written by the caller, not here. NULL = none. */
        void (*metrics)(const struct snapshot *s, const struct source_cfg *src,
                        struct promtext *out);
};

/* NULL-terminated registry (collectors/registry.c). */
extern const struct collector_ops *const collector_registry[];
const struct collector_ops *collector_find(const char *kind);
/* The i-th kind of the registry (0-based), NULL past the last: how the
 * layers below the collectors enumerate them (src/core/collector_registry.c). */
const struct collector_ops *collector_nth(size_t i);
/* The action plug-in that owns the config's `actions:` list: the first in
 * the registry with user_defs, or NULL. */
const struct action_kind *collector_user_actions(void);

struct collector;

/* Starts a thread for src. wake_fd (may be -1) gets one byte per publish.
 * When `once` is true the thread polls a single time and then idles until
 * stopped (the status/check commands). Main thread. */
struct collector *collector_start(const struct source_cfg *src, int wake_fd, bool once);
/* Latest snapshot with a reference the caller must drop, or NULL when none
 * yet. *gen (may be NULL) gets the publish generation. Any thread. */
struct snapshot *collector_latest(struct collector *c, uint64_t *gen);
uint64_t collector_gen(struct collector *c);
const struct source_cfg *collector_source(const struct collector *c);
/* Asks for a poll now (the `r` key). Any thread. */
void collector_refresh(struct collector *c);
/* Waits (bounded by deadline_mono) until the collector has published at
 * least `gen` generations. Returns true when it has. Any thread but the
 * collector's own. */
bool collector_wait_gen(struct collector *c, uint64_t gen, int64_t deadline_mono);
/* Signals every collector to stop, then joins them all. Returns within
 * about 1 s even when polls are blocked on hung services: blocking I/O
 * watches stop_fd, and a thread stuck in a call that does not (a stalled
 * mount) is given up after one overall deadline of 800 ms, detached, and
 * frees its own struct when the call returns, leaving its poll's data and
 * state unfreed. Sets every cs[i] to NULL. Main thread. */
void collector_stop_all(struct collector **cs, size_t n);

#endif
