/*
 * Kafka collector (`kind: kafka`): published data, and the pure pieces the
 * tests drive directly.
 *
 * A `struct kafka_data` is built privately by the collector thread and is
 * immutable once it is inside a snapshot; the Kafka pane and the JSON report
 * read it from any thread. Unknown values are -1 (offsets, counts, ids),
 * NAN (rates, seconds) or NULL (strings), never 0: the JSON prints them as
 * null.
 */
#ifndef LO_COLLECTORS_KAFKA_H
#define LO_COLLECTORS_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/collector.h"
#include "core/config.h"
#include "collectors/kafka/lag_eval.h"
#include "core/ring.h"

struct rd_kafka_metadata;
struct kafka_wire_quorum;

extern const struct collector_ops coll_kafka_ops;

/* Kind-specific config (collector_ops.keys fill it). */
struct kafka_cfg {
        char   *bootstrap;              /* "host:port,host:port" */
        char   *security_protocol;      /* plaintext | ssl | sasl_plaintext | sasl_ssl */
        char   *sasl_mechanism;         /* PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, ... */
        char   *sasl_username;
        char   *sasl_password_env;      /* secret references, never the secret */
        char   *sasl_password_file;
        char   *ssl_ca_location;
        char   *ssl_certificate_location;
        char   *ssl_key_location;
        char   *ssl_key_password_env;
        char   *ssl_key_password_file;
        char   *ssl_verify;             /* "true" (default when NULL) or "false" */
        struct cfg_strlist groups;      /* always watched */
        char   *topics_include;         /* POSIX extended regex; NULL = every topic */
        char   *topics_exclude;         /* POSIX extended regex; NULL = "^__" */
        char   *quorum_bootstrap;       /* host:port for DescribeQuorum; NULL = bootstrap */
        int64_t lag_window;             /* commits per partition window; 0 = 10 */
        struct cfg_source_ref quorum_prometheus;  /* prometheus source whose raft metrics
                                                     the Kafka pane shows when DescribeQuorum
                                                     fails; name NULL = none. The collector
                                                     never reads it (views/kafka.c does). */
};

#define KAFKA_SPARK_N    16     /* lag samples kept per group partition */
#define KAFKA_EPOCH_HIST 8      /* quorum leader/epoch changes kept */

struct kafka_broker {
        int32_t id;
        char   *host;                   /* owned */
        int     port;
        char   *rack;                   /* owned; NULL when the broker reports none */
        int8_t  up;                     /* 1 answered this poll (or librdkafka holds an
                                           UP connection), 0 did not answer or left the
                                           metadata, -1 unknown (never contacted) */
        bool    in_metadata;            /* false: seen in an earlier poll, missing now */
        double  rtt_ms;                 /* average request round trip; NAN unknown */
        int     leader_for;             /* partitions it leads (all topics) */
};

struct kafka_replica {                  /* a quorum voter or observer */
        int32_t id;
        int64_t log_end_offset;         /* -1 unknown */
        int64_t lag;                    /* leader's log end offset - this one; -1 unknown */
        int64_t last_fetch_age_ms;      /* -1 unknown (DescribeQuorum v0, or the leader) */
        int64_t last_caught_up_age_ms;  /* -1 unknown */
};

struct kafka_epoch_change {
        int64_t at;                     /* wall ms when we first saw it */
        int32_t leader_id;
        int32_t epoch;
};

struct kafka_quorum {
        bool    available;
        char    reason[192];            /* why not available; "" when available */
        int32_t leader_id;              /* -1 unknown */
        int32_t leader_epoch;           /* -1 unknown */
        int64_t high_watermark;         /* -1 unknown */
        struct kafka_replica *voters;   /* owned */
        size_t  n_voters;
        struct kafka_replica *observers;/* owned */
        size_t  n_observers;
        struct kafka_epoch_change history[KAFKA_EPOCH_HIST];   /* oldest first */
        size_t  n_history;
};

struct kafka_partition {
        int32_t id;
        int32_t leader;                 /* -1: offline (no leader) */
        int16_t replicas;               /* replica count */
        int16_t isr;                    /* in-sync replica count */
        bool    isr_shrunk;             /* fewer in-sync replicas than at the previous poll */
        int64_t high_watermark;         /* -1 unknown (its leader did not answer) */
};

struct kafka_topic {
        const char *name;               /* borrowed from kafka_data.names */
        int     partitions;
        int     replication_factor;     /* largest replica count over its partitions */
        int     under_replicated;       /* partitions with isr < replicas */
        int     offline;                /* partitions without a leader */
        int     isr_shrinks;            /* partitions whose ISR shrank since the last poll */
        int     hwm_unknown;            /* partitions without a high watermark this poll */
        double  messages_per_sec;       /* from high watermark deltas; NAN until two polls */
        uint8_t n_rate_hist;            /* values in rate_hist */
        float   rate_hist[KAFKA_SPARK_N];/* recent messages_per_sec, oldest first; NAN unknown */
        struct kafka_partition *parts;  /* owned; [partitions], by partition id */
};

struct kafka_group_part {
        const char *topic;              /* borrowed from kafka_data.names */
        int32_t partition;
        int64_t committed;              /* -1 no commit or unknown */
        int64_t high_watermark;         /* -1 unknown */
        int64_t lag;                    /* high_watermark - committed, >= 0; -1 unknown */
        double  lag_seconds;            /* NAN unknown */
        double  lag_seconds_min;        /* when lag_seconds is unknown: at least this many
                                           seconds (older than the history), else NAN */
        enum lag_status status;         /* per partition (never LAG_ERR) */
        uint8_t n_hist;                 /* values in lag_hist */
        int64_t lag_hist[KAFKA_SPARK_N];/* recent lags, oldest first; -1 unknown */
        /* Inputs to kafka_history_groups() (collector thread): */
        uint64_t meta_hash;             /* hash of the commit's metadata string, 0 = none */
        bool    assigned;               /* an active member owns it (DescribeConsumerGroups) */
};

struct kafka_group {
        char   *name;                   /* owned */
        char   *state;                  /* owned; "Stable", "Empty", ...; NULL unknown */
        int     members;                /* -1 unknown */
        bool    configured;             /* listed under `groups:` (else discovered) */
        bool    offsets_known;          /* its coordinator answered this poll */
        enum lag_status status;         /* roll-up: ok, warn, err, unknown */
        enum lag_status worst;          /* worst partition status (stop, stall, ...) */
        int64_t lag;                    /* sum of known partition lags; -1 none known */
        double  lag_seconds;            /* largest partition lag_seconds; NAN unknown */
        double  lag_seconds_min;        /* largest lower bound of partitions whose seconds
                                           are unknown (see kafka_group_part); NAN none */
        size_t  n_unknown;              /* partitions whose lag is unknown */
        struct lag_trend trend;         /* of the group lag over 5 minutes */
        struct ring lag_hist;           /* group lag history (only complete polls) */
        struct kafka_group_part *parts; /* owned; by topic, then partition */
        size_t  n_parts;
};

struct kafka_data {
        char   *cluster_id;             /* owned; NULL unknown */
        struct kafka_broker *brokers;   /* owned; by id */
        size_t  n_brokers;
        int     brokers_up;             /* brokers with up == 1 */
        struct kafka_quorum quorum;
        struct kafka_topic *topics;     /* owned; after topics_include/exclude, by name */
        size_t  n_topics;
        size_t  n_partitions;           /* over `topics` */
        int     under_replicated;       /* totals over `topics` */
        int     offline;
        struct kafka_group *groups;     /* owned; largest lag first, unknown last */
        size_t  n_groups;
        bool    groups_listed;          /* ListConsumerGroups answered (else configured only) */
        char  **names;                  /* owned pool: every topic name in the metadata */
        size_t  n_names;
        char  **notes;                  /* owned; what is missing, one line each */
        size_t  n_notes;
};

void kafka_data_free(struct kafka_data *d);     /* NULL-safe */
/* collector_ops.metrics (collectors/kafka/kafka_metrics.c). */
struct promtext;
void kafka_metrics(const struct snapshot *s, const struct source_cfg *src, struct promtext *out);
const char *kafka_broker_up_name(int8_t up);    /* "up", "down", "unknown" */

/* --- for tests: the pure parts of the collector ------------------------ */

/* "host:port" (IPv6 as "[addr]:port"). Returns 0, or -1 with err set. */
int kafka_hostport_parse(const char *s, char *host, size_t hn, int *port, struct err *err);

/* One broker's figures from librdkafka's statistics JSON. */
struct kafka_bstat {
        int32_t id;                     /* nodeid; bootstrap-only entries are skipped */
        char    state[16];              /* "UP", "DOWN", "INIT", "CONNECT", ... */
        double  rtt_ms;                 /* rtt.avg over the last interval; NAN when no requests */
        int64_t connects;
        int64_t disconnects;
};

/* Parses the statistics JSON (statistics.interval.ms, stats_cb). *out is
 * owned (free()), sorted by id. Returns 0, or -1 with err set when the text
 * is not JSON or has no "brokers" object. Pure. */
int kafka_stats_parse(const char *json, size_t len, struct kafka_bstat **out, size_t *n,
                      struct err *err);

/* Partitions of one leader broker, as indexes into a kafka_topic array. */
struct kafka_batch {
        int32_t leader;
        size_t  n;
        uint32_t *topic;                /* owned; [n] */
        int32_t  *part;                 /* owned; [n], index into topics[topic].parts */
};

/* Groups every partition that has a leader by its leader broker, batches in
 * ascending leader id; partitions without a leader (offline) are left out.
 * Returns the number of batches; *out is owned (kafka_batches_free). Pure. */
size_t kafka_batches(const struct kafka_topic *topics, size_t n, struct kafka_batch **out);
void kafka_batches_free(struct kafka_batch *b, size_t n);

/* Builds every topic of md into *topics (sorted by name; names are copied
 * into *names, which the topics borrow): partitions, replication factor,
 * under-replicated and offline counts; high watermarks -1, rates NAN.
 * Pure. */
void kafka_topics_from_metadata(const struct rd_kafka_metadata *md, struct kafka_topic **topics,
                                size_t *n, char ***names, size_t *n_names);
void kafka_topic_done(struct kafka_topic *t);

/* True when `name` passes the filters (either may be NULL: no include
 * filter means every topic; no exclude filter means "^__"). Pure. */
struct kafka_filter;
struct kafka_filter *kafka_filter_new(const char *include, const char *exclude, struct err *err);
bool kafka_filter_match(const struct kafka_filter *f, const char *name);
void kafka_filter_free(struct kafka_filter *f);

/* Fills q from a DescribeQuorum answer read at wall time now_ms: ages are
 * now - timestamp (never negative), lag is the leader's log end offset
 * minus the replica's. Does not touch q->history. Pure. */
void kafka_quorum_from_wire(const struct kafka_wire_quorum *w, int64_t now_ms,
                            struct kafka_quorum *q);
void kafka_quorum_done(struct kafka_quorum *q);

/* History the collector thread keeps between polls: per partition the last
 * high watermark and ISR size (messages/s, ISR shrink) and, for partitions
 * some group reads, a (high watermark, time) table for lag in seconds; per
 * group and partition the commit window that gives the Burrow status.
 * lag_window is the window size in commits (0 = 10). Times are ms on one
 * monotonic clock. */
struct kafka_history;
struct kafka_history *kafka_history_new(int lag_window);
void kafka_history_free(struct kafka_history *h);      /* NULL-safe */
/* Records every topic's partitions (all topics, not only the shown ones):
 * sets isr_shrunk/isr_shrinks and messages_per_sec, adds high watermarks
 * to the lag tables; topics no longer present are forgotten. */
void kafka_history_topics(struct kafka_history *h, struct kafka_topic *topics, size_t n,
                          int64_t now_ms);
/* For each group, with parts[].topic/partition/committed/high_watermark/
 * meta_hash/assigned and offsets_known filled: computes lag, lag_seconds
 * (from the tables of the last kafka_history_topics call), statuses, the
 * sparkline, the group roll-up, lag history and trend. A commit enters a
 * partition's window when it is first seen, when the offset or its metadata
 * changed, or when an active member owns the partition; otherwise only the
 * head is recorded (see lag_eval.h on commit times). Partitions already at
 * their high watermark are ok whatever the window says. Groups no longer
 * given are forgotten. max_gap_ms bounds lag-in-seconds interpolation (see
 * lag_seconds_eval). */
void kafka_history_groups(struct kafka_history *h, struct kafka_group *groups, size_t n,
                          int64_t now_ms, int64_t max_gap_ms);

/* Test seam: replaces the monotonic clock the collector's history uses
 * (state from coll_kafka_ops.create). fn(arg) returns ms. Collector thread. */
void coll_kafka_set_clock(void *state, int64_t (*fn)(void *arg), void *arg);

/* Test and bench seam: fetch committed offsets through librdkafka's admin
 * API (ListConsumerGroupOffsets) even where kafka_wire could ask (the
 * default for plaintext and ssl sources). Call before the first poll. */
void coll_kafka_set_offsets_admin(void *state, bool admin);

/* --- the Kafka pane (views/kafka.c) ------------------------------------ */

struct view_ops;
struct view_data;

#endif
