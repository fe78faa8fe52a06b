/*
 * Airflow (batch-layer orchestrator) collector: config, published data and
 * the pure parsers the tests feed fixtures. Read side only: triggering,
 * clearing and pausing wait for the shared confirmation/audit machinery.
 * A `struct af_data` is immutable once inside a snapshot; the Airflow pane
 * and the JSON report read it from any thread.
 */
#ifndef LO_COLLECTORS_AIRFLOW_H
#define LO_COLLECTORS_AIRFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/collector.h"
#include "core/health.h"
#include "core/ring.h"
#include "core/theme.h"
#include "core/util.h"

extern const struct collector_ops coll_airflow_ops;

/* Kind-specific config (collector_ops.keys fill it). */
struct af_cfg {
        char *url;              /* webserver / api-server base, e.g. http://host:8080 */
        char *api;              /* "v1", "v2" or "auto" (default) */
        char *user;
        char *password_env;
        char *password_file;
        struct cfg_strlist dags;/* dag ids or fnmatch globs; empty = all */
        int64_t max_requests;   /* per-poll request budget; 0 = AF_DEFAULT_BUDGET */
        char *ca_file;
        bool  insecure;
};

#define AF_DEFAULT_BUDGET 60
#define AF_PAGE           100   /* limit per page (Airflow 3 caps it at 100) */
#define AF_RECENT         10    /* runs kept per DAG for the detail page */
#define AF_DAY_MS         86400000LL

enum af_api { AF_API_UNKNOWN = 0, AF_API_V1, AF_API_V2 };

/* DagRun states (Airflow's REST API reference); AF_RUN_OTHER for anything newer. */
enum af_run_state { AF_RUN_QUEUED, AF_RUN_RUNNING, AF_RUN_SUCCESS, AF_RUN_FAILED,
                    AF_RUN_OTHER, AF_RUN__COUNT };

const char *airflow_run_state_name(enum af_run_state s);     /* "queued", ..., "other" */
enum af_run_state airflow_run_state_parse(const char *s);    /* NULL/unknown: AF_RUN_OTHER */
/* Severity and theme role of a run or task-instance state string (NULL =
 * task "no status"). failed: crit; upstream_failed, up_for_retry,
 * restarting, shutdown: warn; the rest ok. Roles: failed crit, the warn
 * ones warn, running/success ok, queued/scheduled/deferred/none/skipped/
 * removed/up_for_reschedule dim, unknown states default. */
enum severity airflow_state_sev(const char *state);
enum theme_role airflow_state_role(const char *state);

struct af_run {
        char   *run_id;
        char   *state;          /* as sent */
        char   *run_type;       /* "scheduled", "manual", ...; may be NULL */
        int64_t logical_date;   /* wall ms; v1 execution_date fallback, v2 run_after
                                   when logical_date is null; -1 unknown */
        int64_t start;          /* wall ms; -1 null */
        int64_t end;            /* wall ms; -1 null */
        double  duration_s;     /* end - start (or v2 `duration`); NAN unknown */
};

struct af_task {
        char   *task_id;
        char   *state;          /* NULL = no status */
        int     map_index;      /* -1 unmapped */
        int     try_number;
        double  duration_s;     /* NAN unknown */
};

struct af_dag {
        char   *dag_id;
        bool    paused;
        bool    active;         /* v1 is_active / v2 !is_stale */
        bool    import_errors;
        char   *schedule;       /* cron text, "every 3600s", a timetable summary; NULL none */
        int64_t next_due;       /* wall ms the next run is due; -1 unknown */
        bool    runs_read;      /* the runs were fetched this poll */
        bool    have_last;
        struct af_run last_run; /* valid when have_last */
        struct af_run *recent;  /* owned; newest first, <= AF_RECENT */
        size_t  n_recent;
        int     runs_24h[AF_RUN__COUNT];        /* by state, runs started in 24 h */
        int     running, queued;                /* runs in those states now (of those read) */
        int64_t overdue_s;      /* -1 unknown/not applicable; 0 on time */
        char   *failed_run_id;  /* the most recent failed run, or NULL */
        struct af_task *failed_tasks;   /* owned: failed/upstream_failed TIs of it */
        size_t  n_failed_tasks;
        bool    tasks_read;     /* failed_tasks were read (else unknown) */
        struct ring dur_hist;   /* last-run duration, s, one sample per poll */
};

struct af_data {
        enum af_api api;
        char   *version;        /* from /version, or NULL */
        int64_t now;            /* wall ms the poll's windows are relative to */
        struct af_dag *dags;    /* owned; by dag_id */
        size_t  n_dags;
        size_t  total_dags;     /* total_entries of the DAG list (before the filter) */
        int     requests;       /* HTTP requests this poll */
        char  **notes;          /* owned; what is missing, one line each */
        size_t  n_notes;
};

void airflow_data_free(struct af_data *d);           /* NULL-safe */
/* collector_ops.metrics (collectors/airflow/airflow_metrics.c). */
struct promtext;
void airflow_metrics(const struct snapshot *s, const struct source_cfg *src,
                     struct promtext *out);
struct af_data *airflow_data_new(void);

/* --- for tests: the pure parts ------------------------------------------ */

/* "2024-05-01T02:00:00+00:00", "...02.30Z", "...00.123456+02:00" → wall
 * ms; -1 for NULL or anything else. */
int64_t airflow_time_parse(const char *s);

/* Parsers over response bodies (pure; len bytes, not NUL-terminated).
 * Return 0, or -1 with err set (not JSON, truncated, wrong shape, or an
 * Airflow error object: its title/detail in the message). */

/* A DAG list page: appends the DAGs matching `globs` (n_globs 0 = all) to
 * d->dags and sets *total (total_entries) and *page_n (DAGs on the page,
 * matching or not). */
int airflow_parse_dags(const char *body, size_t len, enum af_api api, const char *const *globs,
                       size_t n_globs, struct af_data *d, size_t *page_n, size_t *total,
                       struct err *err);
/* A dagRuns page (newest first) into g, relative to `now`: last run,
 * recent runs, 24 h counts, running/queued, the most recent failed run.
 * `first` resets g's run fields. Sets *page_n, *total and *older (the
 * page reached runs older than 24 h, so no further page is needed). */
int airflow_parse_runs(const char *body, size_t len, int64_t now, bool first, struct af_dag *g,
                       size_t *page_n, size_t *total, bool *older, struct err *err);
/* A taskInstances page: appends the failed and upstream_failed TIs to g. */
int airflow_parse_tasks(const char *body, size_t len, struct af_dag *g, size_t *page_n,
                        size_t *total, struct err *err);
/* POST /auth/token answer: the owned access_token, or NULL with err set. */
char *airflow_parse_token(const char *body, size_t len, struct err *err);
/* Lateness of g at `now`, from next_due; -1 when paused, unscheduled or
 * unknown. */
int64_t airflow_overdue_s(const struct af_dag *g, int64_t now);
/* "/dags/{dag_id}{tail}", or with run_id "/dags/{dag_id}/dagRuns/{run_id}
 * {tail}": each name one path segment made by http_path_segment ("a/b c"
 * → "a%2Fb%20c"); tail (e.g. "/dagRuns?limit=100") is literal and may be
 * NULL. NULL with err (EINVAL) for a name that is empty, "." or "..", which
 * would address another resource. Owned. Pure. */
char *airflow_dag_path(const char *dag_id, const char *run_id, const char *tail,
                       struct err *err);

/* --- the Airflow pane (views/airflow.c) ---------------------------------- */

struct view_ops;

#endif
