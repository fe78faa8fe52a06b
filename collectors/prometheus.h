/*
 * Prometheus collector: config, published data and the pure parsers the
 * tests feed fixtures. User-defined instant queries (with history for
 * sparklines) and the KRaft quorum from the raft metrics, reported in the
 * Kafka collector's quorum shape. A `struct prom_data` is immutable once
 * inside a snapshot; the Metrics pane and the JSON report read it from any
 * thread.
 */
#ifndef LO_COLLECTORS_PROMETHEUS_H
#define LO_COLLECTORS_PROMETHEUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/ring.h"
#include "core/util.h"

extern const struct collector_ops coll_prometheus_ops;

/* One entry of `queries: [{name, expr, unit, warn, crit}]`. warn and crit
 * are kept as written and read in the query's unit by prometheus_limit_parse()
 * (validate() has checked them). */
struct prom_query {
        char *name;             /* unique in the source; the row's name */
        char *expr;             /* PromQL instant query */
        char *unit;             /* bytes|ms|s|count|rate; NULL = count */
        char *warn;             /* "1GiB", "250ms", "100"; NULL = off */
        char *crit;
};

/* Kind-specific config. */
struct prom_cfg {
        char *url;              /* http(s)://host:9090, optionally with a path prefix */
        char *token_env;        /* bearer token (a proxy in front of Prometheus) */
        char *token_file;
        char *user;             /* Basic auth */
        char *password_env;
        char *password_file;
        struct cfg_maplist queries;     /* of struct prom_query */
        char *quorum;           /* "auto" (default) or "off": KRaft raft metrics */
        char *ca_file;
        bool  insecure;
};

#define PROM_MAX_SERIES 64      /* per query */

struct prom_series {
        char   *query;          /* the configured query name */
        char   *name;           /* query name, or name{label="v",...} when it has many */
        const char *unit;       /* "count" etc.; static string */
        double  value;          /* NAN for "NaN", no sample, or an error */
        char   *error;          /* "bad_data: ..." when the query failed; else NULL */
        double  warn, crit;     /* NAN = off */
        struct ring hist;       /* t = sample time, wall ms */
};

struct prom_member {            /* a KRaft voter or observer seen in the metrics */
        char   *instance;       /* job/instance */
        int64_t id;             /* node_id/broker_id label, or the leader id; -1 unknown */
        char   *state;          /* leader, follower, observer, ...; NULL unknown */
        int64_t log_end_offset; /* -1 unknown */
        int64_t lag;            /* the leader's log end offset - this one; -1 unknown */
};

struct prom_quorum {
        bool    available;
        char    reason[192];    /* why not; "" when available */
        int64_t leader_id;      /* -1 unknown */
        int64_t leader_epoch;   /* -1 unknown */
        int64_t high_watermark; /* -1 unknown */
        struct prom_member *voters;     /* owned */
        size_t  n_voters;
        struct prom_member *observers;  /* owned */
        size_t  n_observers;
};

struct prom_data {
        struct prom_series *series;     /* owned; config order, then label order */
        size_t  n_series;
        size_t  n_errors;               /* queries that failed */
        bool    quorum_asked;
        struct prom_quorum quorum;
};

void prometheus_data_free(struct prom_data *d);       /* NULL-safe */
/* collector_ops.metrics (collectors/prometheus_metrics.c). */
struct promtext;
void prometheus_metrics(const struct snapshot *s, const struct source_cfg *src,
                        struct promtext *out);

/* --- for tests: the pure parts ------------------------------------------ */

/* One sample of an instant query result. */
struct prom_sample {
        char   *metric;         /* __name__, or NULL */
        char   *labels;         /* {a="b",...} without __name__, sorted; "" when none */
        const struct cJSON *metric_obj;  /* borrowed into the parsed tree */
        double  t;              /* unix s */
        double  v;
};

/* Parses a /api/v1/query (vector or scalar) or /api/v1/query_range
 * (matrix; every point appended) answer into samples (owned array; free
 * with prometheus_samples_free). On an error envelope returns -1 with err->msg
 * "<errorType>: <error>". */
int prometheus_parse(const char *body, size_t len, struct prom_sample **out, size_t *n,
                     struct err *err);
void prometheus_samples_free(struct prom_sample *s, size_t n);
/* "NaN", "+Inf", "-Inf", "12.5" → double. */
double prometheus_value(const char *s);

/* The quorum from the raft metrics of an instant query result (both the
 * jmx_exporter `kafka_server_raft_metrics_*` and Strimzi
 * `kafka_server_raftmetrics_*` names). */
void prometheus_quorum_from(const char *body, size_t len, struct prom_quorum *q);
void prometheus_quorum_done(struct prom_quorum *q);

/* A query's warn/crit text in its unit (NULL = count): a size for bytes
 * ("1GiB"), a duration for ms and s ("250ms", "1.5s"; the result in the
 * unit), a plain number otherwise ("100", "0.5", "-3"). Returns 0, or -1
 * with a reason in err. */
int prometheus_limit_parse(const char *unit, const char *text, double *out, struct err *err);

/* The query the collector sends for the raft metrics. */
extern const char prom_raft_query[];

/* --- the Metrics pane (views/metrics.c) ---------------------------------- */

struct view_ops;

#endif
