/*
 * Confluent Schema Registry collector: config, published data and the pure
 * parsers the tests feed fixtures. A `struct sr_data` is immutable once
 * inside a snapshot; the Connect pane's Schema Registry sub-view and the
 * JSON report read it from any thread. Read-only.
 */
#ifndef LO_COLLECTORS_SCHEMA_REGISTRY_H
#define LO_COLLECTORS_SCHEMA_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/collector.h"
#include "core/util.h"

extern const struct collector_ops coll_schema_registry_ops;

struct sr_cfg {
        char   *url;            /* http(s)://host:8081; no credentials in it */
        char   *user;           /* HTTP Basic (Confluent Cloud: API key), or NULL */
        char   *password_env;
        char   *password_file;
        char   *ca_file;
        bool    insecure;
        int64_t max_requests;   /* per poll; 0 = default SR_DEFAULT_MAX_REQUESTS */
};

#define SR_DEFAULT_MAX_REQUESTS 62      /* /subjects + /config + 20 subjects x 3 */

struct sr_subject {
        char   *name;
        bool    known;          /* details were read (this poll or an earlier one) */
        int64_t versions;       /* number of versions; -1 unknown */
        int64_t latest_version; /* -1 unknown */
        int64_t latest_id;      /* global schema id; -1 unknown */
        char   *type;           /* "AVRO" (omitted by the server), "PROTOBUF", "JSON"; NULL unknown */
        char   *compatibility;  /* subject level; NULL when inherited or unknown */
        bool    inherited;      /* 404 40408: no subject-level setting */
        int64_t read_at;        /* wall ms the details were read; 0 never */
};

struct sr_data {
        char   *compatibility;          /* global; NULL unknown */
        struct sr_subject *subjects;    /* sorted by name */
        size_t  n_subjects;
        size_t  refreshed;              /* subjects whose details were read this poll */
        bool    capped;                 /* max_requests stopped this poll early */
        char    note[200];              /* "" or why the details are partial */
};

struct sr_data *schema_registry_data_new(void);
void schema_registry_data_free(struct sr_data *d);   /* NULL-safe */
/* collector_ops.metrics (collectors/schema_registry_metrics.c). */
struct promtext;
void schema_registry_metrics(const struct snapshot *s, const struct source_cfg *src,
                             struct promtext *out);

/* --- for tests: the pure parts ------------------------------------------ */

#define SR_ERR_TRANSPORT 1
#define SR_ERR_HTTP      2
#define SR_ERR_BADJSON   3

/* GET /subjects: a list of names into *names (owned, sorted), *n. */
int schema_registry_parse_subjects(const char *json, size_t len, char ***names, size_t *n,
                                   struct err *err);
/* GET /subjects/{s}/versions: the count of versions. */
int schema_registry_parse_versions(const char *json, size_t len, int64_t *count, struct err *err);
/* GET /subjects/{s}/versions/latest: version, id, schemaType into s. */
int schema_registry_parse_latest(const char *json, size_t len, struct sr_subject *s,
                                 struct err *err);
/* GET /config or /config/{s} answer with its status: 0 with *level owned
 * (compatibilityLevel), 0 with *level NULL and *inherited for 404 40408,
 * 1 for 404 40401 (subject not found), -1 with err set otherwise. */
int schema_registry_parse_config(long status, const char *json, size_t len, char **level,
                                 bool *inherited,
                                 struct err *err);
/* Error text for a non-2xx answer: Schema Registry's {"error_code",
 * "message"}, 401/403 hints, HTML pages. */
void schema_registry_http_error(long status, const char *body, size_t len, const char *content_type,
                                const char *what, struct err *err);

#endif
