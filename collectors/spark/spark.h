/*
 * Spark collector (`kind: spark`): the SparkApplications and
 * ScheduledSparkApplications of the Spark Operator (the Spark Operator's CRD reference), read
 * through the direct Kubernetes client of the `kind: kubernetes` source its
 * `kubernetes:` key names, and for RUNNING applications the driver's
 * monitoring REST API (Spark's monitoring REST API reference) through the API server's service proxy
 * or a configured URL: failed jobs and stages, executors, and streaming
 * throughput (Structured Streaming gauges of /metrics/json, DStream
 * /streaming/statistics).
 *
 * A `struct spark_data` is immutable once inside a snapshot; the Spark pane
 * and the JSON report read it from any thread.
 */
#ifndef LO_COLLECTORS_SPARK_H
#define LO_COLLECTORS_SPARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/collector.h"
#include "core/health.h"
#include "core/ring.h"
#include "core/theme.h"
#include "core/util.h"

struct cJSON;

extern const struct collector_ops coll_spark_ops;

/* Kind-specific config (collector_ops.keys fill it). */
struct spark_cfg {
        struct cfg_source_ref kubernetes;       /* a `kind: kubernetes` source */
        struct cfg_strlist namespaces;          /* empty = all namespaces */
        struct cfg_strmap ui_urls;              /* app name (or ns/name) -> driver UI base */
        char *watch;                            /* "true" (default when unset) or "false" */
};

#define SPARK_LIST_MAX  8       /* failed jobs / stages kept for the detail page */
#define SPARK_EXEC_MAX  64      /* executors kept for the detail page */
#define SPARK_ERR_MAX   4096    /* longest error message kept, bytes */

/* The 11 values of applicationState.state; SPARK_ST_OTHER for anything
 * newer. SPARK_ST_NEW is "" (or no status at all). */
enum spark_state {
        SPARK_ST_NEW, SPARK_ST_SUBMITTED, SPARK_ST_RUNNING, SPARK_ST_COMPLETED,
        SPARK_ST_FAILED, SPARK_ST_SUBMISSION_FAILED, SPARK_ST_PENDING_RERUN,
        SPARK_ST_INVALIDATING, SPARK_ST_SUCCEEDING, SPARK_ST_FAILING, SPARK_ST_UNKNOWN,
        SPARK_ST_OTHER, SPARK_ST__COUNT
};

enum spark_state spark_state_parse(const char *s);      /* NULL/"" -> NEW */
/* FAILED/SUBMISSION_FAILED/FAILING crit; PENDING_RERUN/UNKNOWN/INVALIDATING
 * warn; the rest ok. */
enum severity spark_state_sev(enum spark_state s);
/* crit/warn as above; RUNNING/COMPLETED/SUCCEEDING ok; SUBMITTED, new and
 * unknown names default. */
enum theme_role spark_state_role(enum spark_state s);

enum spark_stream_kind { SPARK_STREAM_NONE = 0, SPARK_STREAM_STRUCTURED, SPARK_STREAM_DSTREAM };

/* Streaming figures of one poll; NAN = unknown. */
struct spark_streaming {
        enum spark_stream_kind kind;
        double input_rate;              /* records/s */
        double processing_rate;         /* records/s */
        double batch_ms;                /* Structured: trigger latency; DStream: batchDuration */
        double sched_delay_ms;          /* DStream avgSchedulingDelay; Structured: NAN */
        double proc_time_ms;            /* DStream avgProcessingTime; Structured: NAN */
        int    queries;                 /* Structured: queries seen in the gauges */
};

struct spark_job {                      /* a failed job (JobData) */
        int64_t id;
        char   *name;                   /* owned, may be NULL */
        int64_t completed_ms;           /* completionTime as wall ms; -1 unknown */
        int     failed_tasks;
};

struct spark_stage {                    /* a failed stage (StageData) */
        int64_t id, attempt;
        char   *name;                   /* owned, may be NULL */
        char   *failure;                /* failureReason, owned, may be NULL */
        int64_t completed_ms;           /* -1 unknown */
};

struct spark_exec {                     /* an executor (ExecutorSummary) */
        char   *id;                     /* "driver", "1", ... owned */
        char   *host;                   /* hostPort, owned, may be NULL */
        bool    active;
        int     active_tasks, failed_tasks, completed_tasks;
};

/* What the driver REST API said this poll (running apps only). */
struct spark_rest {
        bool    asked;                  /* the app was running and we tried */
        char   *error;                  /* owned: why the driver could not be read, or NULL */
        int     failed_jobs;            /* -1 unknown */
        int     failed_stages;          /* -1 unknown */
        struct spark_job *jobs;         /* owned; newest first, <= SPARK_LIST_MAX */
        size_t  n_jobs;
        struct spark_stage *stages;     /* owned; newest first, <= SPARK_LIST_MAX */
        size_t  n_stages;
        int     exec_active, exec_dead; /* from /executors (excluding the driver); -1 unknown */
        int     tasks_active, tasks_failed, tasks_completed;    /* -1 unknown */
        struct spark_exec *execs;       /* owned; <= SPARK_EXEC_MAX */
        size_t  n_execs;
        bool    have_streaming;         /* streaming holds data */
        struct spark_streaming streaming;
};

/* One SparkApplication. The Kubernetes part is the informer's compact
 * model; the rest is filled per poll. */
struct spark_app {
        char   *namespace_, *name;      /* owned */
        char   *state_text;             /* applicationState.state as sent ("" new), owned */
        enum spark_state state;
        char   *error;                  /* applicationState.errorMessage, owned, or NULL */
        int     submission_attempts;    /* omitempty: absent = 0 */
        int     execution_attempts;
        char   *driver_pod;             /* driverInfo.podName, owned, or NULL */
        char   *app_id;                 /* sparkApplicationId, owned, or NULL */
        char   *ui_service;             /* driverInfo.webUIServiceName, owned, or NULL */
        int     ui_port;                /* driverInfo.webUIPort; -1 unknown */
        int     exec_by_state[5];       /* executorState: PENDING, RUNNING, COMPLETED,
                                           FAILED, UNKNOWN (and anything else) */
        int64_t created_ms;             /* metadata.creationTimestamp, wall ms; -1 */
        int64_t submitted_ms;           /* lastSubmissionAttemptTime; -1 */
        int64_t terminated_ms;          /* terminationTime; -1 */
        char   *type;                   /* spec.type, owned, or NULL */
        /* per poll */
        struct spark_rest rest;
        struct ring in_hist;            /* input rate, records/s, one sample per poll */
        struct ring proc_hist;          /* processing rate */
        int64_t behind_ms;              /* how long processing has stayed below input
                                           (ms, over the history); -1 unknown, 0 not */
};

enum { SPARK_EX_PENDING, SPARK_EX_RUNNING, SPARK_EX_COMPLETED, SPARK_EX_FAILED,
       SPARK_EX_UNKNOWN };

/* One ScheduledSparkApplication. */
struct spark_sched {
        char   *namespace_, *name;      /* owned */
        char   *schedule;               /* cron text, owned, or NULL */
        bool    suspend;
        int64_t last_run_ms, next_run_ms;       /* wall ms; -1 unknown */
        char   *schedule_state;         /* "" / Validating / Scheduled / FailedValidation;
                                           owned, or NULL */
        char   *last_run_name;          /* owned, or NULL */
        char   *reason;                 /* owned, or NULL */
        int64_t created_ms;
};

struct spark_data {
        struct spark_app *apps;         /* owned; by namespace then name */
        size_t n_apps;
        struct spark_sched *scheds;     /* owned; by namespace then name */
        size_t n_scheds;
        int64_t now;                    /* wall ms of the poll */
        int requests;                   /* driver REST requests this poll */
        char **notes;                   /* owned; what is missing, one line each */
        size_t n_notes;
};

struct spark_data *spark_data_new(void);
void spark_data_free(struct spark_data *d);     /* NULL-safe */
/* collector_ops.metrics (collectors/spark/spark_metrics.c). */
struct promtext;
void spark_metrics(const struct snapshot *s, const struct source_cfg *src,
                   struct promtext *out);
const struct spark_app *spark_find(const struct spark_data *d, const char *ns,
                                   const char *name);

/* --- for tests: the pure parts ------------------------------------------ */

/* Compact models from borrowed API objects (NULL when not one: no
 * metadata.name). Free with spark_app_free / spark_sched_free. */
struct spark_app *spark_app_from_json(const struct cJSON *obj);
struct spark_sched *spark_sched_from_json(const struct cJSON *obj);
void spark_app_free(struct spark_app *a);       /* NULL-safe; frees a too */
void spark_sched_free(struct spark_sched *s);
/* Deep copy of src's Kubernetes part into dst (rest zeroed, rings empty). */
void spark_app_copy(struct spark_app *dst, const struct spark_app *src);
void spark_rest_init(struct spark_rest *r);
void spark_rest_done(struct spark_rest *r);

/* Driver REST answers (pure; len bytes, not NUL-terminated). 0 or -1 with
 * err (not JSON, wrong shape). */
int spark_parse_jobs(const char *body, size_t len, struct spark_rest *r, struct err *err);
int spark_parse_stages(const char *body, size_t len, struct spark_rest *r, struct err *err);
int spark_parse_executors(const char *body, size_t len, struct spark_rest *r,
                          struct err *err);
/* /metrics/json: sums inputRate-total and processingRate-total over the
 * queries' spark.streaming.<query>.* gauges, latency the largest. Returns 1
 * when at least one query was found (s filled, kind STRUCTURED), 0 when
 * none, -1 with err. */
int spark_parse_metrics(const char *body, size_t len, struct spark_streaming *s,
                        struct err *err);
/* /streaming/statistics (DStreams): input rate, processing rate derived as
 * avgInputRate x batchDuration / avgProcessingTime (what the batches get
 * through per second), batch duration, scheduling delay. 0 or -1. */
int spark_parse_dstream(const char *body, size_t len, struct spark_streaming *s,
                        struct err *err);
/* Spark's own dates "2024-05-01T09:00:05.123GMT" to wall ms, or -1. */
int64_t spark_time_parse(const char *s);

/* How long (ms) the newest samples of `proc` have stayed below those of
 * `in` (same poll times), over consecutive samples back from the newest:
 * 0 when the newest is not below, -1 with fewer than one pair. A single
 * sample below gives 0 ms: one sample is not a window. */
int64_t spark_behind_ms(const struct ring *in, const struct ring *proc);

/* The row id of an application: "SOURCE\tNAMESPACE/NAME". */
void spark_row_id(const char *source, const char *ns, const char *name, char *buf, size_t n);

/* --- the Spark pane (views/spark.c) -------------------------------------- */

struct view_ops;

#endif
