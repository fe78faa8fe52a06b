/*
 * Kafka Connect (Debezium and sink connectors) collector: config, published
 * data and the pure parsers the tests feed fixtures. A `struct kc_data` is
 * immutable once inside a snapshot; the Connect pane and the JSON report
 * read it from any thread.
 */
#ifndef LO_COLLECTORS_KAFKA_CONNECT_H
#define LO_COLLECTORS_KAFKA_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/util.h"

extern const struct collector_ops coll_kafka_connect_ops;

/* Kind-specific config (collector_ops.keys fill it). */
struct kc_cfg {
        char *url;                      /* http(s)://host:8083; no credentials in it */
        char *user;                     /* HTTP Basic user, or NULL (no auth) */
        char *password_env;             /* env var holding the Basic password */
        char *password_file;            /* file holding the Basic password */
        char *ca_file;                  /* PEM bundle for https; NULL = system store */
        bool  insecure;                 /* skip TLS verification (default false) */
        struct cfg_source_ref postgres; /* the postgres source Debezium reads; name NULL = none */
        struct cfg_strmap slot;         /* connector name -> slot name (overrides slot.name) */
};

/* The class of Debezium's PostgreSQL source connector. */
#define KC_DEBEZIUM_PG_CLASS "io.debezium.connector.postgresql.PostgresConnector"

struct kc_task {
        int   id;
        char *state;            /* RUNNING, PAUSED, FAILED, UNASSIGNED, RESTARTING; NULL unknown */
        char *worker;           /* worker_id "10.0.3.8:8083"; NULL unknown */
        char *trace;            /* the whole stack trace (<= 64 KiB), or NULL */
};

struct kc_connector {
        char   *name;
        char   *type;           /* "source", "sink", "unknown"; NULL when not reported */
        char   *klass;          /* config connector.class; NULL unknown */
        char   *state;          /* connector instance state (+ STOPPED); NULL unknown */
        char   *worker;         /* connector instance worker_id; NULL unknown */
        char   *trace;          /* connector instance trace, or NULL */
        struct kc_task *tasks;  /* sorted by id */
        size_t  n_tasks;
        int     failed_tasks;   /* tasks in FAILED */
        int     running_tasks;  /* tasks in RUNNING */
        /* Debezium PostgreSQL connectors only (klass == KC_DEBEZIUM_PG_CLASS). */
        bool    debezium_pg;
        char   *slot;           /* slot override, else slot.name, else "debezium" */
        char   *publication;    /* publication.name, else "dbz_publication" */
        char   *topic_prefix;   /* topic.prefix, else database.server.name; NULL */
        char   *error;          /* why status/config could not be read (fallback mode); NULL */
};

struct kc_data {
        char   *version;                /* GET / "version"; NULL unknown */
        bool    expanded;               /* the server answered ?expand= (Connect 2.3+) */
        char   *postgres_source;        /* cfg `postgres` name for the slot link, or NULL */
        struct kc_connector *conns;     /* sorted by name */
        size_t  n_conns;
};

struct kc_data *kafka_connect_data_new(void);
void kafka_connect_data_free(struct kc_data *d);  /* NULL-safe */
/* collector_ops.metrics (collectors/kafka_connect_metrics.c). */
struct promtext;
void kafka_connect_metrics(const struct snapshot *s, const struct source_cfg *src,
                           struct promtext *out);
/* The connector named `name`, or NULL. */
const struct kc_connector *kafka_connect_find(const struct kc_data *d, const char *name);

/* --- for tests: the pure parts of the collector ------------------------ */

/* err->code values. */
#define KC_ERR_TRANSPORT 1      /* unreachable, timeout, quit */
#define KC_ERR_HTTP      2      /* a non-2xx answer (err->msg has the status) */
#define KC_ERR_BADJSON   3      /* a 2xx whose body is not the expected JSON */

/* GET /connectors?expand=status&expand=info. An object keyed by connector
 * name (2.3+) fills d->conns completely and returns 0 (d->expanded true);
 * a plain array of names (older Connect ignores expand) fills d->conns
 * with names only and returns 1, so the caller fetches each connector's
 * status and config. -1 with err set on anything else. */
int kafka_connect_parse_list(const char *json, size_t len, struct kc_data *d, struct err *err);
/* GET /connectors/{name}/status (ConnectorStateInfo) into c. 0 or -1. */
int kafka_connect_parse_status(const char *json, size_t len, struct kc_connector *c,
                               struct err *err);
/* GET /connectors/{name}/config (a flat string map) into c. 0 or -1. */
int kafka_connect_parse_config(const char *json, size_t len, struct kc_connector *c,
                               struct err *err);
/* GET / into d->version. 0 or -1. */
int kafka_connect_parse_root(const char *json, size_t len, struct kc_data *d, struct err *err);
/* Fills slot/publication/topic_prefix defaults and the task counts, applies
 * the cfg `slot` override (may be NULL) and sorts. Call once after parsing. */
void kafka_connect_finish(struct kc_data *d, const struct cfg_strmap *slot_override);
/* Why a non-2xx answer failed, for err->msg: "HTTP 401 Unauthorized: check
 * user and password_env/password_file", Connect's {"error_code","message"}
 * text, or a note that the body is an HTML page. `what` names the request. */
void kafka_connect_http_error(long status, const char *body, size_t len, const char *content_type,
                              const char *what, struct err *err);
/* The first `max_lines` lines of a trace (at most max_bytes bytes, cut on a
 * UTF-8 boundary). Owned; NULL in, NULL out. */
char *kafka_connect_trace_head(const char *trace, int max_lines, size_t max_bytes);
/* "/connectors/{connector}{suffix}" with the name made one path segment by
 * http_path_segment (suffix, e.g. "/status", is literal; may be NULL).
 * NULL with err for a name that is empty, "." or "..". Owned. Pure. */
char *kafka_connect_path(const char *connector, const char *suffix, struct err *err);

/* --- the Connect pane (views/connect.c) ---------------------------------- */

struct view_ops;

#endif
