/* kafka_int.h: private to the parts of kafka (shared types and functions). */
#ifndef LO_COLLECTORS_KAFKA_INT_H
#define LO_COLLECTORS_KAFKA_INT_H

#include "collectors/kafka/kafka.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "clients/kafka/kafka_wire.h"
#include "collectors/kafka/lag_eval.h"
#include "core/ring.h"
#include "core/util.h"

#define KAFKA_SLICE_MS          1000    /* longest single blocking librdkafka call */
#define KAFKA_MAX_WORKERS       16      /* high watermark threads per poll */
#define KAFKA_ADMIN_TIMEOUT_MS  3600000 /* librdkafka's maximum; see bug (a) above */
#define KAFKA_STALE_REQ_MS      (30 * 60 * 1000)
#define KAFKA_QUORUM_RETRY_MS   (10 * 60 * 1000) /* also for group listing */
#define KAFKA_TREND_WINDOW_MS   (5 * 60 * 1000)
#define KAFKA_KNOWN_BROKER_MS   (60 * 60 * 1000)
#define KAFKA_DEFAULT_EXCLUDE   "^__"
#define KAFKA_CHUNK             128     /* partitions per explicit OffsetFetch; see below */
#define KAFKA_OFFSETS_INFLIGHT  32      /* offsets requests in flight at once; see below */
#define KAFKA_HWM_CHUNK         512     /* partitions per offsets_for_times call */
#define KAFKA_RESCAN_POLLS      12      /* polls between full scans of one explicit group */

enum { KAFKA_UP_UNKNOWN = -1, KAFKA_UP_NO = 0, KAFKA_UP_YES = 1 };

/* String-keyed open-addressing map; keys owned. No deletion: callers
 * rebuild a map to forget entries. */
struct kafka_map_ent {
        char *key;
        void *val;
};

struct kafka_map {
        struct kafka_map_ent *v;
        size_t cap;             /* 0 or a power of two */
        size_t n;
};

enum kafka_req_kind { KAFKA_REQ_LIST, KAFKA_REQ_DESCRIBE, KAFKA_REQ_OFFSETS };

struct kafka_req {                      /* one admin request in flight */
        struct kafka_req *next, *prev;  /* kafka_state.reqs; prev NULL at the head */
        enum kafka_req_kind kind;
        char    *group;                 /* KAFKA_REQ_OFFSETS: owned */
        bool     explicit_parts;        /* a chunk of explicit partitions (else "all") */
        int64_t  issued;                /* mono ms */
};

struct kafka_chunk {                    /* an offsets request waiting for a free slot */
        struct kafka_chunk *next;
        char    *group;                 /* owned */
        rd_kafka_topic_partition_list_t *parts; /* owned; NULL = all partitions */
};

struct kafka_commit {                   /* one committed offset from OffsetFetch */
        const char *topic;              /* borrowed from kafka_gstate.topics */
        int32_t  partition;
        int64_t  offset;
        uint64_t meta_hash;
};

struct kafka_gstate {                   /* one watched group, I/O side */
        char    *name;                  /* owned */
        bool     configured;
        bool     listed;                /* named by the latest complete listing */
        char    *list_state;            /* state from the listing; owned; NULL unknown */
        bool     inflight;              /* offsets requests are outstanding */
        bool     explicit_mode;         /* "all partitions" answers empty, explicit ones do not */
        bool     issued;                /* this poll */
        bool     answered;              /* offsets arrived this poll, without error */
        bool     wire_want;             /* to ask over kafka_wire in this poll */
        bool     wire_scan;             /* ... about every partition */
        char     errmsg[160];           /* this poll's error, "" none */
        struct kafka_commit *commits;   /* latest answer (kept across polls); owned */
        size_t   n_commits;
        char   **topics;                /* owned names the commits point to: the topics
                                           it has commits in */
        size_t   n_topics;
        /* One answer may come in chunks (explicit partitions): */
        int      pending;               /* chunk requests outstanding */
        bool     chunk_failed;
        struct kafka_commit *acc;       /* commits gathered so far; topics in acc_names */
        size_t   n_acc, cap_acc;
        struct kafka_map acc_names;     /* topic name -> the same owned string */
        uint64_t scanned;               /* poll number of its last scan of every partition */
        bool     described;             /* DescribeConsumerGroups answered this poll */
        char    *desc_state;            /* owned */
        int      members;
        rd_kafka_topic_partition_list_t *assigned;   /* sorted; owned; NULL none */
};

struct kafka_job {                      /* high watermarks of one leader broker */
        rd_kafka_t *rk;
        const struct coll_ctx *ctx;
        int64_t  end;                   /* mono deadline */
        int32_t  leader;
        const struct kafka_batch *batch;
        rd_kafka_topic_partition_list_t *list;  /* owned; results in place */
        rd_kafka_resp_err_t err;        /* last error, 0 none */
        int      answered;              /* partitions with a value */
        double   took_ms;               /* first successful call; < 0 none */
};

struct kafka_pool {
        struct kafka_job *jobs;
        size_t   n;
        atomic_size_t next;
        pthread_t th[KAFKA_MAX_WORKERS];
        size_t   n_th;
};

struct kafka_state {
        const struct source_cfg *src;
        const struct kafka_cfg  *cfg;
        struct kafka_filter     *filter;
        rd_kafka_t       *rk;
        rd_kafka_queue_t *adminq;
        struct kafka_req *reqs;         /* outstanding admin requests */
        int      n_offsets_inflight;    /* KAFKA_REQ_OFFSETS among them */
        struct kafka_chunk *backlog, *backlog_tail; /* offsets requests not sent yet */
        bool     fatal;                 /* librdkafka said fatal: rebuild the handle */
        char     last_error[200];       /* error_cb since the end of the last poll */
        /* statistics */
        struct kafka_bstat *bstats;
        size_t   n_bstats;
        int64_t  bstats_at;             /* mono ms */
        int64_t  stats_interval_ms;
        /* groups */
        struct kafka_gstate *groups;
        size_t   n_groups;
        bool     list_inflight;
        bool     desc_inflight;
        bool     desc_issued;           /* this poll */
        int      list_support;          /* -1 unknown, 0 unsupported, 1 works */
        int64_t  list_next;             /* mono ms of the next listing */
        char     list_note[200];        /* "" when the last listing was complete */
        const struct kafka_topic *all;  /* this poll's topics (for explicit requests) */
        size_t   n_all;
        uint64_t poll_seq;
        bool     rescan_used;           /* a rotating full scan was issued this poll */
        bool     all_works;             /* some "all partitions" answer had commits: the
                                           brokers implement it, an empty one means none */
        bool     wire;                  /* committed offsets over kafka_wire, not librdkafka */
        bool     admin_offsets;         /* test seam: never over kafka_wire */
        bool     use_tls;               /* kafka_wire speaks TLS (ssl, sasl_ssl) */
        bool     tls_tried;
        struct kafka_wire_tls *tls;          /* built on first use; NULL plaintext or failed */
        char     tls_err[200];          /* why it failed; "" none */
        struct kafka_wire_sec sec;           /* this poll's transport for kafka_wire */
        bool     sasl;                  /* the source uses SASL */
        bool     sasl_ok;               /* ... and kafka_wire can do it (PLAIN, password read) */
        char     sasl_err[200];         /* why not; "" none */
        char    *sasl_pw;               /* owned secret, only during a poll; wiped */
        struct kafka_rack { int32_t id; char *rack; } *racks;  /* owned; rack NULL none */
        size_t   n_racks;
        int64_t  racks_next;            /* mono ms of the next refresh; 0 never fetched */
        int64_t  racks_retry_at;        /* mono ms; no fetch before this after a failure */
        /* quorum */
        struct kafka_quorum quorum;     /* the latest answer or reason; keeps history */
        int64_t  quorum_next;           /* mono ms of the next attempt */
        /* brokers from earlier polls, to show the ones that left the metadata */
        struct kafka_broker *known;
        int64_t *known_at;              /* mono ms last seen */
        size_t   n_known;
        struct kafka_history *hist;
        int64_t (*clock)(void *arg);
        void    *clock_arg;
};

/* kafka.c */
int64_t kafka_min64(int64_t a, int64_t b);
uint64_t kafka_hash(const char *s, size_t n);
double kafka_mono_msf(void);
void kafka_pause_ms(int64_t ms);
void *kafka_map_get(const struct kafka_map *m, const char *key);
void kafka_map_put(struct kafka_map *m, char *key, void *val);
void kafka_map_done(struct kafka_map *m, void (*fn)(void *));
void kafka_map_filter(struct kafka_map *m, bool (*keep)(void *val, void *arg), void *arg,
                      void (*fn)(void *));
void kafka_chunk_free(struct kafka_chunk *c);
void kafka_drop(struct kafka_state *st);

/* kafka_history.c */
int kafka_bstat_cmp(const void *a, const void *b);
int kafka_part_index(const struct kafka_topic *t, int32_t id);
const struct kafka_topic *kafka_topic_find(const struct kafka_topic *ts, size_t n,
                                           const char *name);
void kafka_quorum_unknown(struct kafka_quorum *q, const char *reason);
void kafka_quorum_copy(struct kafka_quorum *dst, const struct kafka_quorum *src);
bool kafka_status_is_err(enum lag_status s);

/* kafka_brokers.c */
const struct rd_kafka_metadata *kafka_metadata(struct kafka_state *st,
                                               const struct coll_ctx *ctx, int64_t end,
                                               struct err *err);
void kafka_brokers_build(struct kafka_state *st, const struct rd_kafka_metadata *md,
                         const struct kafka_topic *all, size_t n_all,
                         struct kafka_data *d);
void kafka_pool_start(struct kafka_pool *p, struct kafka_state *st,
                      const struct coll_ctx *ctx, int64_t end,
                      const struct kafka_topic *all, const struct kafka_batch *b, size_t nb);
void kafka_pool_finish(struct kafka_pool *p);
void kafka_pool_free(struct kafka_pool *p);
void kafka_pool_apply(const struct kafka_pool *p, struct kafka_topic *all);
const struct kafka_job *kafka_pool_job(const struct kafka_pool *p, int32_t leader);
void kafka_brokers_state(struct kafka_state *st, const struct kafka_pool *p,
                         int32_t orig_id, struct kafka_data *d);

/* kafka_groups.c */
void kafka_gstate_abort(struct kafka_gstate *gs);
struct kafka_gstate *kafka_gstate_find(struct kafka_state *st, const char *name);
struct kafka_gstate *kafka_gstate_add(struct kafka_state *st, const char *name,
                                      bool configured);
void kafka_gstate_commits_free(struct kafka_gstate *gs);
void kafka_acc_reset(struct kafka_gstate *gs);
void kafka_gstate_describe_reset(struct kafka_gstate *gs);
void kafka_gstate_done(struct kafka_gstate *gs);
void kafka_issue_list(struct kafka_state *st);
void kafka_issue_describe(struct kafka_state *st);
int kafka_issue_explicit(struct kafka_state *st, struct kafka_gstate *gs, bool scan);
void kafka_issue_offsets(struct kafka_state *st, struct kafka_gstate *gs);
const char *kafka_acc_name(struct kafka_gstate *gs, const char *topic);
void kafka_acc_push(struct kafka_gstate *gs, const char *name, int32_t partition,
                    int64_t offset, const void *meta, size_t meta_len);
void kafka_acc_commit(struct kafka_gstate *gs);
void kafka_on_offsets(struct kafka_state *st, rd_kafka_event_t *ev, const struct kafka_req *rq);
void kafka_on_event(struct kafka_state *st, rd_kafka_event_t *ev);
size_t kafka_endpoints(const struct kafka_state *st, struct kafka_wire_endpoint **eps,
                       char (**hosts)[256]);
void kafka_racks(struct kafka_state *st, const struct coll_ctx *ctx, int64_t end,
                 struct kafka_data *d);

/* kafka_offsets.c */
void kafka_offsets_from_wire(struct kafka_state *st, const struct coll_ctx *ctx, int64_t end);
void kafka_groups_begin(struct kafka_state *st);
void kafka_groups_wait(struct kafka_state *st, const struct coll_ctx *ctx, int64_t end);
void kafka_groups_build(struct kafka_state *st, const struct kafka_topic *all, size_t n_all,
                        struct kafka_data *d);
int kafka_group_cmp(const void *a, const void *b);

/* kafka_json.c */
void kafka_to_json(const void *data, struct cJSON *obj);
void kafka_alerts(const struct source_cfg *src, const void *data, struct alert_list *out);
double kafka_key_metric(const void *data);
void kafka_summary(const void *data, char *buf, size_t n);

#endif
