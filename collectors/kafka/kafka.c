/*
 * Kafka collector (`kind: kafka`) on librdkafka 2.0.2.
 *
 * One collector thread per source owns a `struct kafka_state`: one
 * rd_kafka_t (a consumer-type handle without group.id, with
 * isolation.level=read_uncommitted so ListOffsets(END) is the high watermark
 * and not the last stable offset), one admin result queue, the per-group
 * request bookkeeping and the history (struct kafka_history) that turns
 * successive polls into rates, commit windows and lag in seconds. Only this
 * thread calls rd_kafka_poll(), so the stats and error callbacks run here.
 * Nothing is shared with other threads except the published kafka_data.
 *
 * A poll, every step bounded by the source timeout (less a small margin for
 * building the result) and interruptible by quit within about a second:
 *   1. metadata for all topics (rd_kafka_metadata in slices of <= 1 s); no
 *      answer at all is the only way the source is DOWN;
 *   2. high watermarks: rd_kafka_offsets_for_times(OFFSET_END) per leader
 *      broker, one short-lived worker thread per leader (at most 16 run at
 *      once), because one call over partitions of a dead leader times out
 *      as a whole and returns nothing. A dead broker thus blanks only its
 *      own partitions (-1, null in JSON). Calls carry at most 512
 *      partitions (librdkafka's answer handling is quadratic). Never
 *      rd_kafka_query_watermark_offsets: it can block far past its timeout
 *      when a leader is down;
 *   3. consumer groups on the admin API: ListConsumerGroups (discovery and
 *      state; the mock cluster and old brokers answer _UNSUPPORTED_FEATURE,
 *      then only the configured groups are watched, with a note),
 *      DescribeConsumerGroups for state, members and assignments only when
 *      listing works, and committed offsets per group: all partitions
 *      first, explicit partitions when that comes back empty (the mock
 *      always does) unless another group's "all" answer proved the brokers
 *      implement it. A group found that way stays explicit, asked about the
 *      topics it has commits in (every partition again every 12 polls).
 *      Where kafka_wire reaches the brokers (plaintext, ssl, SASL PLAIN) the
 *      offsets come from our own FindCoordinator + OffsetFetch, one request
 *      per group (kafka_wire_offsets); otherwise (other SASL mechanisms) from
 *      ListConsumerGroupOffsets
 *      in requests of at most 128 partitions, at most 32 offsets requests
 *      of all groups in flight at once;
 *   4. the KRaft quorum over the Kafka wire protocol (kafka_wire.h,
 *      DescribeQuorum), plaintext or TLS (ssl, sasl_ssl), SASL PLAIN only:
 *      `quorum_bootstrap` or each bootstrap broker in turn. Unsupported (ZooKeeper mode, old brokers,
 *      the mock) is retried every 10 minutes and reported as a note;
 *   5. the statistics JSON (statistics.interval.ms, parsed with cJSON in
 *      the stats callback) for broker state and round-trip time;
 *   6. history: messages/s, ISR shrink, Burrow-style status per partition
 *      and group (lag_eval.h), lag in seconds, trend.
 * Steps 2-4 overlap: the workers and the admin requests run while the
 * collector thread talks to the quorum.
 *
 * Two librdkafka 2.0.2 bugs shape the admin code. (a) An admin request
 * whose coordinator is down and that times out inside librdkafka crashes
 * the process (assert in rd_kafka_enq_once_del_source_return) once the
 * coordinator comes back. So admin requests get librdkafka's longest
 * request timeout (1 h), we stop *waiting* at our own deadline but keep the
 * queue, a late answer is used by the next poll, a group never has two
 * requests in flight, and the handle is rebuilt (destroying it with
 * requests pending is safe) when anything has been pending for 30 minutes.
 * (b) DescribeConsumerGroups against a broker without DescribeGroups
 * deadlocks librdkafka's main thread, so we only describe when group
 * listing works (both APIs date from Kafka 0.9).
 *
 * Partial failure is DEGRADED with one note per missing piece ("broker 2
 * did not answer ...", "quorum unavailable: ..."); the notes are in the data
 * and joined into the snapshot error.
 *
 * Commit evidence. OffsetFetch has no commit time, so a commit enters a
 * partition's window when first seen, when the offset or its metadata
 * string changed, or when an active member owns the partition
 * (DescribeConsumerGroups); otherwise we record only the head. Without
 * group description (the mock) "committing the same offset" is therefore
 * visible only through changing commit metadata; otherwise it reads as stop.
 *
 * Alert rules (kafka_alerts; thresholds configurable, defaults in the table):
 *   per broker     up == 0                    crit  metric broker
 *   per topic      under_replicated partitions    under_replicated
 *                  offline partitions             offline
 *   per group      lag (messages)                 group_lag
 *                  lag_seconds                    group_lag_seconds
 *                  worst partition stop/stall/rewind crit, warn warn
 *                                                 metric group_status
 *   per voter/observer  lag (records)             quorum_follower_lag
 */
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

static const struct cfg_key kafka_keys[] = {
        { "bootstrap",          CFG_STR,        offsetof(struct kafka_cfg, bootstrap),          true,
          "brokers to start from: host:port, comma-separated" },
        { "security_protocol",  CFG_STR,        offsetof(struct kafka_cfg, security_protocol),  false,
          "plaintext (default), ssl, sasl_plaintext or sasl_ssl" },
        { "sasl_mechanism",     CFG_STR,        offsetof(struct kafka_cfg, sasl_mechanism),     false,
          "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI or OAUTHBEARER" },
        { "sasl_username",      CFG_STR,        offsetof(struct kafka_cfg, sasl_username),      false,
          "SASL user name" },
        { "sasl_password_env",  CFG_SECRET_REF, offsetof(struct kafka_cfg, sasl_password_env),  false,
          "name of an environment variable holding the SASL password" },
        { "sasl_password_file", CFG_SECRET_REF, offsetof(struct kafka_cfg, sasl_password_file), false,
          "path of a file holding the SASL password" },
        { "ssl_ca_location",    CFG_STR,        offsetof(struct kafka_cfg, ssl_ca_location),    false,
          "CA certificate file or directory for verifying the brokers" },
        { "ssl_certificate_location", CFG_STR,
          offsetof(struct kafka_cfg, ssl_certificate_location), false,
          "client certificate (PEM) for mutual TLS" },
        { "ssl_key_location",   CFG_STR,        offsetof(struct kafka_cfg, ssl_key_location),   false,
          "client private key (PEM) for mutual TLS" },
        { "ssl_key_password_env",  CFG_SECRET_REF,
          offsetof(struct kafka_cfg, ssl_key_password_env), false,
          "name of an environment variable holding the client key's password" },
        { "ssl_key_password_file", CFG_SECRET_REF,
          offsetof(struct kafka_cfg, ssl_key_password_file), false,
          "path of a file holding the client key's password" },
        { "ssl_verify",         CFG_STR,        offsetof(struct kafka_cfg, ssl_verify),         false,
          "true (default) or false: verify the brokers' certificates" },
        { "groups",             CFG_STRLIST,    offsetof(struct kafka_cfg, groups),             false,
          "consumer groups always watched (others are discovered when the brokers allow it)" },
        { "topics_include",     CFG_STR,        offsetof(struct kafka_cfg, topics_include),     false,
          "POSIX extended regex: show only matching topics (default: all)" },
        { "topics_exclude",     CFG_STR,        offsetof(struct kafka_cfg, topics_exclude),     false,
          "POSIX extended regex: hide matching topics (default: ^__, the internal ones)" },
        { "quorum_bootstrap",   CFG_STR,        offsetof(struct kafka_cfg, quorum_bootstrap),   false,
          "host:port for DescribeQuorum: TLS with ssl/sasl_ssl, SASL PLAIN only, else a "
          "listener without SASL (default: the bootstrap brokers)" },
        { "lag_window",         CFG_INT,        offsetof(struct kafka_cfg, lag_window),         false,
          "commits per partition in the lag status window, 2..16 (default 10)" },
        { "quorum_prometheus",  CFG_SOURCE,     offsetof(struct kafka_cfg, quorum_prometheus),  false,
          "name of a prometheus source whose raft metrics the Kafka pane shows when "
          "DescribeQuorum fails" },
        { NULL, 0, 0, false, NULL },
};

static const struct threshold_def kafka_thresholds[] = {
        { "group_lag",           THR_COUNT, 10000.0, 1000000.0,
          "messages a consumer group is behind (sum over its partitions)" },
        { "group_lag_seconds",   THR_COUNT, 300.0, 1800.0,
          "seconds a consumer group is behind in time (its slowest partition)" },
        { "under_replicated",    THR_COUNT, 1.0, NAN,
          "partitions of a topic with fewer in-sync replicas than replicas" },
        { "offline",             THR_COUNT, NAN, 1.0,
          "partitions of a topic without a leader" },
        { "quorum_follower_lag", THR_COUNT, 1000.0, 10000.0,
          "records a KRaft voter or observer is behind the quorum leader" },
        { NULL, 0, 0, 0, NULL },
};

/* ------------------------------------------------------------------------
 * Small helpers
 */

static int64_t kafka_min64(int64_t a, int64_t b)
{
        return a < b ? a : b;
}

static uint64_t kafka_hash(const char *s, size_t n)
{
        uint64_t h = 1469598103934665603ULL;

        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)s[i];
                h *= 1099511628211ULL;
        }
        return h;
}

/* Monotonic time in ms with sub-ms precision (round trips on loopback
 * take tens of microseconds). */
static double kafka_mono_msf(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void kafka_pause_ms(int64_t ms)
{
        struct timespec ts;

        if (ms <= 0)
                return;
        ts.tv_sec = (time_t)(ms / 1000);
        ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

/* String-keyed open-addressing map; keys owned. No deletion: callers
 * rebuild a map to forget entries. */
struct kmap_ent {
        char *key;
        void *val;
};

struct kmap {
        struct kmap_ent *v;
        size_t cap;             /* 0 or a power of two */
        size_t n;
};

static void *kmap_get(const struct kmap *m, const char *key)
{
        if (!m->cap)
                return NULL;
        for (size_t i = kafka_hash(key, strlen(key)) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
                if (!m->v[i].key)
                        return NULL;
                if (strcmp(m->v[i].key, key) == 0)
                        return m->v[i].val;
        }
}

/* Adds a key that is not present; takes ownership of key. */
static void kmap_put(struct kmap *m, char *key, void *val)
{
        size_t i;

        if (2 * (m->n + 1) > m->cap) {
                struct kmap old = *m;

                m->cap = old.cap ? 2 * old.cap : 16;
                m->v = xcalloc(m->cap, sizeof *m->v);
                m->n = 0;
                for (size_t j = 0; j < old.cap; j++)
                        if (old.v[j].key)
                                kmap_put(m, old.v[j].key, old.v[j].val);
                free(old.v);
        }
        for (i = kafka_hash(key, strlen(key)) & (m->cap - 1); m->v[i].key; i = (i + 1) & (m->cap - 1))
                ;
        m->v[i].key = key;
        m->v[i].val = val;
        m->n++;
}

/* Frees keys; values through fn (may be NULL). */
static void kmap_done(struct kmap *m, void (*fn)(void *))
{
        for (size_t i = 0; i < m->cap; i++)
                if (m->v[i].key) {
                        free(m->v[i].key);
                        if (fn)
                                fn(m->v[i].val);
                }
        free(m->v);
        memset(m, 0, sizeof *m);
}

/* Keeps the entries for which keep(val) is true, frees the others. */
static void kmap_filter(struct kmap *m, bool (*keep)(void *val, void *arg), void *arg,
                        void (*fn)(void *))
{
        struct kmap nm = { 0 };

        for (size_t i = 0; i < m->cap; i++) {
                if (!m->v[i].key)
                        continue;
                if (keep(m->v[i].val, arg)) {
                        kmap_put(&nm, m->v[i].key, m->v[i].val);
                } else {
                        free(m->v[i].key);
                        if (fn)
                                fn(m->v[i].val);
                }
        }
        free(m->v);
        *m = nm;
}

/* ------------------------------------------------------------------------
 * Pure pieces
 */

const char *kafka_broker_up_name(int8_t up)
{
        return up == KAFKA_UP_YES ? "up" : up == KAFKA_UP_NO ? "down" : "unknown";
}

int kafka_hostport_parse(const char *s, char *host, size_t hn, int *port, struct err *err)
{
        const char *colon, *h = s;
        size_t hl;
        char *end;
        long p;

        while (s && isspace((unsigned char)*h))
                h++;
        if (!s || !*h) {
                err_set(err, EINVAL, "empty broker address (expected host:port)");
                return -1;
        }
        if (*h == '[') {
                const char *rb = strchr(h, ']');

                if (!rb || rb[1] != ':') {
                        err_set(err, EINVAL, "\"%.64s\": expected [address]:port", h);
                        return -1;
                }
                hl = (size_t)(rb - h - 1);
                h++;
                colon = rb + 1;
        } else {
                colon = strrchr(h, ':');
                if (!colon || colon == h) {
                        err_set(err, EINVAL, "\"%.64s\": expected host:port", h);
                        return -1;
                }
                hl = (size_t)(colon - h);
                if (memchr(h, ':', hl)) {
                        err_set(err, EINVAL, "\"%.64s\": write IPv6 addresses as [address]:port", h);
                        return -1;
                }
        }
        errno = 0;
        p = strtol(colon + 1, &end, 10);
        while (isspace((unsigned char)*end))
                end++;
        if (errno || end == colon + 1 || *end || p < 1 || p > 65535) {
                err_set(err, EINVAL, "\"%.64s\": port must be 1..65535", h);
                return -1;
        }
        if (hl == 0 || hl >= hn) {
                err_set(err, EINVAL, "\"%.64s\": bad host name", h);
                return -1;
        }
        memcpy(host, h, hl);
        host[hl] = '\0';
        *port = (int)p;
        return 0;
}

static double kafka_json_num(const cJSON *o, const char *k, double dflt)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static int kafka_bstat_cmp(const void *a, const void *b)
{
        const struct kafka_bstat *x = a, *y = b;

        return (x->id > y->id) - (x->id < y->id);
}

int kafka_stats_parse(const char *json, size_t len, struct kafka_bstat **out, size_t *n,
                      struct err *err)
{
        cJSON *root = cJSON_ParseWithLength(json, len);
        const cJSON *brokers, *b;
        struct kafka_bstat *v = NULL;
        size_t cnt = 0, cap = 0;

        *out = NULL;
        *n = 0;
        if (!root) {
                err_set(err, EPROTO, "statistics: not JSON");
                return -1;
        }
        brokers = cJSON_GetObjectItemCaseSensitive(root, "brokers");
        if (!cJSON_IsObject(brokers)) {
                cJSON_Delete(root);
                err_set(err, EPROTO, "statistics: no \"brokers\" object");
                return -1;
        }
        cJSON_ArrayForEach(b, brokers) {
                const cJSON *st = cJSON_GetObjectItemCaseSensitive(b, "state");
                const cJSON *rtt = cJSON_GetObjectItemCaseSensitive(b, "rtt");
                double id = kafka_json_num(b, "nodeid", -1);
                struct kafka_bstat *s;

                if (!cJSON_IsObject(b) || id < 0 || id > INT32_MAX)
                        continue;       /* bootstrap-only and internal entries */
                if (cnt == cap) {
                        cap = cap ? 2 * cap : 8;
                        v = xrealloc(v, cap * sizeof *v);
                }
                s = &v[cnt++];
                memset(s, 0, sizeof *s);
                s->id = (int32_t)id;
                str_copy(s->state, cJSON_IsString(st) ? st->valuestring : "", sizeof s->state);
                s->rtt_ms = NAN;
                if (cJSON_IsObject(rtt) && kafka_json_num(rtt, "cnt", 0) > 0)
                        s->rtt_ms = kafka_json_num(rtt, "avg", NAN) / 1000.0;
                s->connects = (int64_t)kafka_json_num(b, "connects", 0);
                s->disconnects = (int64_t)kafka_json_num(b, "disconnects", 0);
        }
        cJSON_Delete(root);
        if (cnt)
                qsort(v, cnt, sizeof *v, kafka_bstat_cmp);
        *out = v;
        *n = cnt;
        return 0;
}

static int kafka_i32_cmp(const void *a, const void *b)
{
        int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

        return (x > y) - (x < y);
}

size_t kafka_batches(const struct kafka_topic *topics, size_t n, struct kafka_batch **out)
{
        int32_t *leaders = NULL;
        size_t nl = 0, cap = 0, nb = 0;
        struct kafka_batch *b;

        for (size_t t = 0; t < n; t++)
                for (int p = 0; p < topics[t].partitions; p++) {
                        if (topics[t].parts[p].leader < 0)
                                continue;
                        if (nl == cap) {
                                cap = cap ? 2 * cap : 64;
                                leaders = xrealloc(leaders, cap * sizeof *leaders);
                        }
                        leaders[nl++] = topics[t].parts[p].leader;
                }
        if (nl)
                qsort(leaders, nl, sizeof *leaders, kafka_i32_cmp);
        for (size_t i = 0; i < nl; i++)
                if (i == 0 || leaders[i] != leaders[i - 1])
                        leaders[nb++] = leaders[i];
        b = xcalloc(nb ? nb : 1, sizeof *b);
        for (size_t i = 0; i < nb; i++)
                b[i].leader = leaders[i];
        /* Two passes: count, then fill (sizes known, one allocation each). */
        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < nb; i++) {
                        if (pass == 1) {
                                b[i].topic = xmalloc((b[i].n ? b[i].n : 1) * sizeof *b[i].topic);
                                b[i].part = xmalloc((b[i].n ? b[i].n : 1) * sizeof *b[i].part);
                        }
                        b[i].n = 0;
                }
                for (size_t t = 0; t < n; t++)
                        for (int p = 0; p < topics[t].partitions; p++) {
                                int32_t l = topics[t].parts[p].leader;
                                int32_t *hit;
                                struct kafka_batch *x;

                                if (l < 0)
                                        continue;
                                hit = bsearch(&l, leaders, nb, sizeof *leaders, kafka_i32_cmp);
                                x = &b[hit - leaders];
                                if (pass == 1) {
                                        x->topic[x->n] = (uint32_t)t;
                                        x->part[x->n] = p;
                                }
                                x->n++;
                        }
        }
        free(leaders);
        if (!nb) {
                free(b);
                b = NULL;
        }
        *out = b;
        return nb;
}

void kafka_batches_free(struct kafka_batch *b, size_t n)
{
        for (size_t i = 0; b && i < n; i++) {
                free(b[i].topic);
                free(b[i].part);
        }
        free(b);
}

void kafka_topic_done(struct kafka_topic *t)
{
        if (t) {
                free(t->parts);
                t->parts = NULL;
        }
}

static int kafka_mdtopic_cmp(const void *a, const void *b)
{
        const rd_kafka_metadata_topic_t *x = *(const rd_kafka_metadata_topic_t *const *)a;
        const rd_kafka_metadata_topic_t *y = *(const rd_kafka_metadata_topic_t *const *)b;

        return strcmp(x->topic, y->topic);
}

static int kafka_part_cmp(const void *a, const void *b)
{
        const struct kafka_partition *x = a, *y = b;

        return (x->id > y->id) - (x->id < y->id);
}

void kafka_topics_from_metadata(const struct rd_kafka_metadata *md, struct kafka_topic **topics,
                                size_t *n, char ***names, size_t *n_names)
{
        const rd_kafka_metadata_topic_t **order;
        struct kafka_topic *ts;
        char **nm;
        size_t cnt = md && md->topic_cnt > 0 ? (size_t)md->topic_cnt : 0;

        order = xcalloc(cnt ? cnt : 1, sizeof *order);
        for (size_t i = 0; i < cnt; i++)
                order[i] = &md->topics[i];
        if (cnt)
                qsort(order, cnt, sizeof *order, kafka_mdtopic_cmp);
        ts = xcalloc(cnt ? cnt : 1, sizeof *ts);
        nm = xcalloc(cnt ? cnt : 1, sizeof *nm);
        for (size_t i = 0; i < cnt; i++) {
                const rd_kafka_metadata_topic_t *mt = order[i];
                struct kafka_topic *t = &ts[i];
                int np = mt->partition_cnt > 0 ? mt->partition_cnt : 0;

                nm[i] = xstrdup(mt->topic);
                t->name = nm[i];
                t->partitions = np;
                t->messages_per_sec = NAN;
                t->parts = xcalloc(np ? (size_t)np : 1, sizeof *t->parts);
                for (int j = 0; j < np; j++) {
                        const rd_kafka_metadata_partition_t *mp = &mt->partitions[j];
                        struct kafka_partition *p = &t->parts[j];

                        p->id = mp->id;
                        p->leader = mp->leader >= 0 ? mp->leader : -1;
                        p->replicas = (int16_t)(mp->replica_cnt > INT16_MAX
                                                ? INT16_MAX : mp->replica_cnt);
                        p->isr = (int16_t)(mp->isr_cnt > INT16_MAX ? INT16_MAX : mp->isr_cnt);
                        p->high_watermark = -1;
                        if (p->replicas > t->replication_factor)
                                t->replication_factor = p->replicas;
                        if (p->isr < p->replicas)
                                t->under_replicated++;
                        if (p->leader < 0)
                                t->offline++;
                }
                if (np > 1)
                        qsort(t->parts, (size_t)np, sizeof *t->parts, kafka_part_cmp);
        }
        free(order);
        *topics = ts;
        *n = cnt;
        *names = nm;
        *n_names = cnt;
}

/* Index of partition `id` in t->parts, or -1. */
static int kafka_part_index(const struct kafka_topic *t, int32_t id)
{
        struct kafka_partition key = { .id = id };
        const struct kafka_partition *p;

        if (id >= 0 && id < t->partitions && t->parts[id].id == id)
                return id;
        p = bsearch(&key, t->parts, (size_t)t->partitions, sizeof *t->parts, kafka_part_cmp);
        return p ? (int)(p - t->parts) : -1;
}

static int kafka_topic_name_cmp(const void *key, const void *elem)
{
        return strcmp(key, ((const struct kafka_topic *)elem)->name);
}

static const struct kafka_topic *kafka_topic_find(const struct kafka_topic *ts, size_t n,
                                                  const char *name)
{
        return name ? bsearch(name, ts, n, sizeof *ts, kafka_topic_name_cmp) : NULL;
}

struct kafka_filter {
        bool    has_inc;
        regex_t inc;
        regex_t exc;
};

struct kafka_filter *kafka_filter_new(const char *include, const char *exclude, struct err *err)
{
        struct kafka_filter *f = xcalloc(1, sizeof *f);
        char msg[128];
        int r;

        if (include) {
                if ((r = regcomp(&f->inc, include, REG_EXTENDED | REG_NOSUB)) != 0) {
                        regerror(r, &f->inc, msg, sizeof msg);
                        err_set(err, EINVAL, "topics_include: bad regular expression: %s", msg);
                        free(f);
                        return NULL;
                }
                f->has_inc = true;
        }
        if ((r = regcomp(&f->exc, exclude ? exclude : KAFKA_DEFAULT_EXCLUDE,
                         REG_EXTENDED | REG_NOSUB)) != 0) {
                regerror(r, &f->exc, msg, sizeof msg);
                err_set(err, EINVAL, "topics_exclude: bad regular expression: %s", msg);
                if (f->has_inc)
                        regfree(&f->inc);
                free(f);
                return NULL;
        }
        return f;
}

bool kafka_filter_match(const struct kafka_filter *f, const char *name)
{
        if (!f)
                return true;
        if (f->has_inc && regexec(&f->inc, name, 0, NULL, 0) != 0)
                return false;
        return regexec(&f->exc, name, 0, NULL, 0) != 0;
}

void kafka_filter_free(struct kafka_filter *f)
{
        if (!f)
                return;
        if (f->has_inc)
                regfree(&f->inc);
        regfree(&f->exc);
        free(f);
}

void kafka_quorum_done(struct kafka_quorum *q)
{
        if (!q)
                return;
        free(q->voters);
        free(q->observers);
        q->voters = q->observers = NULL;
        q->n_voters = q->n_observers = 0;
}

static void kafka_quorum_unknown(struct kafka_quorum *q, const char *reason)
{
        kafka_quorum_done(q);
        q->available = false;
        str_copy(q->reason, reason ? reason : "", sizeof q->reason);
        q->leader_id = -1;
        q->leader_epoch = -1;
        q->high_watermark = -1;
}

static int64_t kafka_age(int64_t now, int64_t ts)
{
        if (ts < 0)
                return -1;
        return now > ts ? now - ts : 0;
}

static void kafka_replicas_from_wire(const struct kwire_replica *w, size_t n, int64_t leader_leo,
                                     int64_t now, struct kafka_replica **out, size_t *nout)
{
        struct kafka_replica *r = xcalloc(n ? n : 1, sizeof *r);

        for (size_t i = 0; i < n; i++) {
                r[i].id = w[i].id;
                r[i].log_end_offset = w[i].log_end_offset >= 0 ? w[i].log_end_offset : -1;
                r[i].lag = -1;
                if (leader_leo >= 0 && r[i].log_end_offset >= 0)
                        r[i].lag = leader_leo > r[i].log_end_offset
                                   ? leader_leo - r[i].log_end_offset : 0;
                r[i].last_fetch_age_ms = kafka_age(now, w[i].last_fetch_ms);
                r[i].last_caught_up_age_ms = kafka_age(now, w[i].last_caught_up_ms);
        }
        *out = r;
        *nout = n;
}

void kafka_quorum_from_wire(const struct kwire_quorum *w, int64_t now_ms, struct kafka_quorum *q)
{
        int64_t leo = -1;

        kafka_quorum_done(q);
        q->available = true;
        q->reason[0] = '\0';
        q->leader_id = w->leader_id >= 0 ? w->leader_id : -1;
        q->leader_epoch = w->leader_epoch >= 0 ? w->leader_epoch : -1;
        q->high_watermark = w->high_watermark >= 0 ? w->high_watermark : -1;
        for (size_t i = 0; i < w->n_voters; i++)
                if (w->voters[i].id == w->leader_id)
                        leo = w->voters[i].log_end_offset;
        kafka_replicas_from_wire(w->voters, w->n_voters, leo, now_ms, &q->voters, &q->n_voters);
        kafka_replicas_from_wire(w->observers, w->n_observers, leo, now_ms, &q->observers,
                                 &q->n_observers);
}

static void kafka_quorum_copy(struct kafka_quorum *dst, const struct kafka_quorum *src)
{
        *dst = *src;
        dst->voters = xcalloc(src->n_voters ? src->n_voters : 1, sizeof *dst->voters);
        if (src->n_voters)
                memcpy(dst->voters, src->voters, src->n_voters * sizeof *dst->voters);
        dst->observers = xcalloc(src->n_observers ? src->n_observers : 1, sizeof *dst->observers);
        if (src->n_observers)
                memcpy(dst->observers, src->observers, src->n_observers * sizeof *dst->observers);
}

static void kafka_group_done(struct kafka_group *g)
{
        free(g->name);
        free(g->state);
        free(g->parts);
}

void kafka_data_free(struct kafka_data *d)
{
        if (!d)
                return;
        free(d->cluster_id);
        for (size_t i = 0; i < d->n_brokers; i++) {
                free(d->brokers[i].host);
                free(d->brokers[i].rack);
        }
        free(d->brokers);
        kafka_quorum_done(&d->quorum);
        for (size_t i = 0; i < d->n_topics; i++)
                kafka_topic_done(&d->topics[i]);
        free(d->topics);
        for (size_t i = 0; i < d->n_groups; i++)
                kafka_group_done(&d->groups[i]);
        free(d->groups);
        for (size_t i = 0; i < d->n_names; i++)
                free(d->names[i]);
        free(d->names);
        for (size_t i = 0; i < d->n_notes; i++)
                free(d->notes[i]);
        free(d->notes);
        free(d);
}

/* ------------------------------------------------------------------------
 * History (pure given the clock values passed in)
 */

struct kafka_phist {                    /* one topic partition */
        int64_t hwm;                    /* last known head; -1 */
        int64_t hwm_at;                 /* when it was read */
        int16_t isr;                    /* ISR size at the last poll; -1 unknown */
        struct lag_table *tab;          /* owned; only while some group reads it */
        uint64_t tab_seen;              /* history round that last used tab */
};

struct kafka_thist {                    /* one topic */
        uint64_t seen;
        uint8_t  n_rate;                /* values in rate */
        float    rate[KAFKA_SPARK_N];   /* messages/s per poll, oldest first */
        int32_t  n;                     /* entries in p */
        struct kafka_phist *p;          /* by partition id */
};

struct kafka_gphist {                   /* one group, one partition */
        uint64_t seen;
        bool     have;                  /* a commit is in the window */
        int64_t  committed;             /* the newest commit pushed */
        uint64_t meta_hash;
        struct lag_window w;
        uint8_t  n_hist;
        int64_t  hist[KAFKA_SPARK_N];
};

struct kafka_gthist {                   /* one group, one topic */
        uint64_t seen;
        int32_t  n;
        struct kafka_gphist *p;         /* by partition id */
};

struct kafka_ghist {                    /* one group */
        uint64_t seen;
        struct kmap topics;             /* topic name -> struct kafka_gthist */
        struct ring lag_hist;
};

struct kafka_history {
        struct lag_cfg lcfg;
        uint64_t round_t;               /* kafka_history_topics calls */
        uint64_t round_g;               /* kafka_history_groups calls */
        struct kmap topics;             /* name -> struct kafka_thist */
        struct kmap groups;             /* name -> struct kafka_ghist */
};

struct kafka_history *kafka_history_new(int lag_window)
{
        struct kafka_history *h = xcalloc(1, sizeof *h);

        lag_cfg_default(&h->lcfg);
        if (lag_window > 0)
                h->lcfg.intervals = lag_window;
        return h;
}

static void kafka_thist_free(void *v)
{
        struct kafka_thist *th = v;

        for (int32_t i = 0; i < th->n; i++)
                free(th->p[i].tab);
        free(th->p);
        free(th);
}

static void kafka_gthist_free(void *v)
{
        struct kafka_gthist *gt = v;

        free(gt->p);
        free(gt);
}

static void kafka_ghist_free(void *v)
{
        struct kafka_ghist *gh = v;

        kmap_done(&gh->topics, kafka_gthist_free);
        free(gh);
}

void kafka_history_free(struct kafka_history *h)
{
        if (!h)
                return;
        kmap_done(&h->topics, kafka_thist_free);
        kmap_done(&h->groups, kafka_ghist_free);
        free(h);
}

static bool kafka_keep_round(void *val, void *arg)
{
        /* Every history struct starts with its `seen` round. */
        return *(const uint64_t *)val == *(const uint64_t *)arg;
}

/* Grows th->p to hold partition id; new entries unknown. */
static struct kafka_phist *kafka_thist_at(struct kafka_thist *th, int32_t id)
{
        if (id < 0)
                return NULL;
        if (id >= th->n) {
                th->p = xrealloc(th->p, (size_t)(id + 1) * sizeof *th->p);
                for (int32_t i = th->n; i <= id; i++) {
                        memset(&th->p[i], 0, sizeof th->p[i]);
                        th->p[i].hwm = -1;
                        th->p[i].isr = -1;
                }
                th->n = id + 1;
        }
        return &th->p[id];
}

void kafka_history_topics(struct kafka_history *h, struct kafka_topic *topics, size_t n,
                          int64_t now_ms)
{
        uint64_t round = ++h->round_t;

        for (size_t i = 0; i < n; i++) {
                struct kafka_topic *t = &topics[i];
                struct kafka_thist *th = kmap_get(&h->topics, t->name);
                double rate = 0;
                bool have = false;

                if (!th) {
                        th = xcalloc(1, sizeof *th);
                        kmap_put(&h->topics, xstrdup(t->name), th);
                }
                th->seen = round;
                t->isr_shrinks = 0;
                t->hwm_unknown = 0;
                for (int j = 0; j < t->partitions; j++) {
                        struct kafka_partition *p = &t->parts[j];
                        struct kafka_phist *ph = kafka_thist_at(th, p->id);

                        if (!ph)
                                continue;
                        p->isr_shrunk = ph->isr >= 0 && p->isr < ph->isr;
                        t->isr_shrinks += p->isr_shrunk;
                        ph->isr = p->isr;
                        if (p->high_watermark < 0) {
                                t->hwm_unknown++;
                                continue;
                        }
                        if (ph->hwm >= 0 && now_ms > ph->hwm_at && p->high_watermark >= ph->hwm) {
                                rate += (double)(p->high_watermark - ph->hwm) * 1000.0 /
                                        (double)(now_ms - ph->hwm_at);
                                have = true;
                        }
                        ph->hwm = p->high_watermark;
                        ph->hwm_at = now_ms;
                        if (ph->tab)
                                lag_table_add(ph->tab, p->high_watermark, now_ms);
                }
                t->messages_per_sec = have ? rate : NAN;
                if (th->n_rate == KAFKA_SPARK_N) {
                        memmove(th->rate, th->rate + 1, (KAFKA_SPARK_N - 1) * sizeof *th->rate);
                        th->n_rate--;
                }
                th->rate[th->n_rate++] = (float)t->messages_per_sec;
                t->n_rate_hist = th->n_rate;
                memcpy(t->rate_hist, th->rate, th->n_rate * sizeof *th->rate);
                /* Lag tables nobody read for a while go (a group that left). */
                for (int32_t j = 0; j < th->n; j++)
                        if (th->p[j].tab && th->p[j].tab_seen + 3 < h->round_g) {
                                free(th->p[j].tab);
                                th->p[j].tab = NULL;
                        }
        }
        kmap_filter(&h->topics, kafka_keep_round, &round, kafka_thist_free);
}

static struct kafka_gphist *kafka_gthist_at(struct kafka_gthist *gt, int32_t id,
                                            const struct lag_cfg *lcfg)
{
        if (id < 0)
                return NULL;
        if (id >= gt->n) {
                gt->p = xrealloc(gt->p, (size_t)(id + 1) * sizeof *gt->p);
                for (int32_t i = gt->n; i <= id; i++) {
                        memset(&gt->p[i], 0, sizeof gt->p[i]);
                        gt->p[i].committed = -1;
                        lag_window_init(&gt->p[i].w, lcfg);
                }
                gt->n = id + 1;
        }
        return &gt->p[id];
}

static bool kafka_status_is_err(enum lag_status s)
{
        return s == LAG_STOP || s == LAG_STALL || s == LAG_REWIND;
}

static void kafka_history_group(struct kafka_history *h, struct kafka_group *g, uint64_t round,
                                int64_t now, int64_t max_gap)
{
        struct kafka_ghist *gh = kmap_get(&h->groups, g->name);
        const char *last_topic = NULL;
        struct kafka_gthist *gt = NULL;
        struct kafka_thist *th = NULL;
        enum lag_status worst = LAG_UNKNOWN;
        int64_t sum = 0;
        bool any = false;

        if (!gh) {
                gh = xcalloc(1, sizeof *gh);
                ring_init(&gh->lag_hist);
                kmap_put(&h->groups, xstrdup(g->name), gh);
        }
        gh->seen = round;
        g->n_unknown = 0;
        g->lag_seconds = NAN;
        g->lag_seconds_min = NAN;
        for (size_t i = 0; i < g->n_parts; i++) {
                struct kafka_group_part *gp = &g->parts[i];
                struct kafka_gphist *ph;
                struct kafka_phist *tp = NULL;
                bool known = gp->committed >= 0 && gp->high_watermark >= 0;

                if (gp->topic != last_topic) {
                        last_topic = gp->topic;
                        gt = kmap_get(&gh->topics, gp->topic);
                        if (!gt) {
                                gt = xcalloc(1, sizeof *gt);
                                kmap_put(&gh->topics, xstrdup(gp->topic), gt);
                        }
                        gt->seen = round;
                        th = kmap_get(&h->topics, gp->topic);
                }
                ph = kafka_gthist_at(gt, gp->partition, &h->lcfg);
                if (th && gp->partition >= 0 && gp->partition < th->n)
                        tp = &th->p[gp->partition];
                gp->lag = known ? (gp->high_watermark > gp->committed
                                   ? gp->high_watermark - gp->committed : 0) : -1;
                gp->lag_seconds = NAN;
                gp->lag_seconds_min = NAN;
                gp->status = LAG_UNKNOWN;
                if (!ph)
                        continue;
                ph->seen = round;
                if (known) {
                        bool evidence = !ph->have || gp->committed != ph->committed ||
                                        gp->meta_hash != ph->meta_hash || gp->assigned;

                        if (evidence && lag_window_push(&ph->w, now, gp->committed,
                                                        gp->high_watermark)) {
                                ph->have = true;
                                ph->committed = gp->committed;
                                ph->meta_hash = gp->meta_hash;
                        } else {
                                lag_window_head(&ph->w, gp->high_watermark);
                        }
                        gp->status = gp->lag <= ph->w.cfg.allowed_lag
                                     ? LAG_OK : lag_eval_partition(&ph->w, now);
                } else if (gp->high_watermark >= 0) {
                        lag_window_head(&ph->w, gp->high_watermark);
                }
                if (tp) {
                        if (!tp->tab && tp->hwm >= 0) {
                                tp->tab = xmalloc(sizeof *tp->tab);
                                lag_table_init(tp->tab);
                                lag_table_add(tp->tab, tp->hwm, tp->hwm_at);
                        }
                        tp->tab_seen = round;
                }
                if (known && tp && tp->tab) {
                        struct lag_seconds ls = lag_seconds_eval(tp->tab, gp->committed, now, max_gap);

                        if (ls.known)
                                gp->lag_seconds = ls.seconds;
                        else
                                gp->lag_seconds_min = ls.at_least;
                }
                if (ph->n_hist == KAFKA_SPARK_N) {
                        memmove(ph->hist, ph->hist + 1, (KAFKA_SPARK_N - 1) * sizeof *ph->hist);
                        ph->n_hist--;
                }
                ph->hist[ph->n_hist++] = gp->lag;
                gp->n_hist = ph->n_hist;
                memcpy(gp->lag_hist, ph->hist, ph->n_hist * sizeof *ph->hist);

                if (gp->status > worst)
                        worst = gp->status;
                if (gp->lag >= 0) {
                        sum += gp->lag;
                        any = true;
                } else {
                        g->n_unknown++;
                }
                if (!isnan(gp->lag_seconds) &&
                    (isnan(g->lag_seconds) || gp->lag_seconds > g->lag_seconds))
                        g->lag_seconds = gp->lag_seconds;
                if (!isnan(gp->lag_seconds_min) &&
                    (isnan(g->lag_seconds_min) || gp->lag_seconds_min > g->lag_seconds_min))
                        g->lag_seconds_min = gp->lag_seconds_min;
        }
        g->worst = worst;
        g->status = kafka_status_is_err(worst) ? LAG_ERR : worst;
        g->lag = any ? sum : -1;
        if (any && g->n_unknown == 0)
                ring_push(&gh->lag_hist, now, (double)sum);
        g->lag_hist = gh->lag_hist;
        g->trend = lag_trend_ring(&gh->lag_hist, KAFKA_TREND_WINDOW_MS);
        if (g->offsets_known) {
                /* Forget topics and partitions the group no longer has. */
                kmap_filter(&gh->topics, kafka_keep_round, &round, kafka_gthist_free);
        }
}

void kafka_history_groups(struct kafka_history *h, struct kafka_group *groups, size_t n,
                          int64_t now_ms, int64_t max_gap_ms)
{
        uint64_t round = ++h->round_g;

        for (size_t i = 0; i < n; i++)
                kafka_history_group(h, &groups[i], round, now_ms, max_gap_ms);
        kmap_filter(&h->groups, kafka_keep_round, &round, kafka_ghist_free);
}

/* ------------------------------------------------------------------------
 * Collector state (collector thread only)
 */

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
        struct kmap acc_names;          /* topic name -> the same owned string */
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
        struct kwire_tls *tls;          /* built on first use; NULL plaintext or failed */
        char     tls_err[200];          /* why it failed; "" none */
        struct kwire_sec sec;           /* this poll's transport for kafka_wire */
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

static void kafka_gstate_abort(struct kafka_gstate *gs);

static int64_t kafka_clock_default(void *arg)
{
        (void)arg;
        return clock_mono_ms();
}

void coll_kafka_set_clock(void *state, int64_t (*fn)(void *arg), void *arg)
{
        struct kafka_state *st = state;

        st->clock = fn ? fn : kafka_clock_default;
        st->clock_arg = arg;
}

/* librdkafka's internal threads call this: we never print. */
void coll_kafka_set_offsets_admin(void *state, bool admin)
{
        struct kafka_state *st = state;

        st->admin_offsets = admin;
}

/* kafka_wire's transport for this poll: builds the TLS context on first
 * use (secrets read here, never kept) and decides whether committed
 * offsets go over kafka_wire (plaintext and ssl; not SASL, which kafka_wire
 * does not speak, nor when TLS could not be set up). */
static void kafka_wire_setup(struct kafka_state *st)
{
        const struct kafka_cfg *c = st->cfg;
        const char *proto = c->security_protocol ? c->security_protocol : "plaintext";
        bool sasl = strncasecmp(proto, "sasl_", 5) == 0;

        st->use_tls = strcasecmp(proto, "ssl") == 0 || strcasecmp(proto, "sasl_ssl") == 0;
        if (st->use_tls && !st->tls_tried) {
                struct kwire_tls_cfg tc = {
                        .ca_location = c->ssl_ca_location,
                        .cert_location = c->ssl_certificate_location,
                        .key_location = c->ssl_key_location,
                        .verify = !c->ssl_verify || strcmp(c->ssl_verify, "false") != 0,
                };
                struct err e;
                char *pw;

                st->tls_tried = true;
                err_clear(&e);
                pw = config_secret_resolve(c->ssl_key_password_env, c->ssl_key_password_file, &e);
                if (!pw && e.code) {
                        snprintf(st->tls_err, sizeof st->tls_err, "TLS: %.190s", e.msg);
                } else {
                        tc.key_password = pw;
                        st->tls = kwire_tls_new(&tc, &e);
                        if (!st->tls)
                                str_copy(st->tls_err, e.msg, sizeof st->tls_err);
                }
                if (pw) {
                        explicit_bzero(pw, strlen(pw));
                        free(pw);
                }
        }
        st->sasl = sasl;
        st->sasl_ok = false;
        st->sasl_err[0] = '\0';
        memset(&st->sec, 0, sizeof st->sec);
        st->sec.tls = st->use_tls ? st->tls : NULL;
        if (sasl) {
                const char *mech = c->sasl_mechanism ? c->sasl_mechanism : "GSSAPI";
                struct err e;

                if (strcasecmp(mech, "PLAIN") != 0) {
                        snprintf(st->sasl_err, sizeof st->sasl_err, "SASL mechanism %.32s not "
                                 "supported for DescribeQuorum (PLAIN only)", mech);
                } else {
                        err_clear(&e);
                        st->sasl_pw = config_secret_resolve(c->sasl_password_env,
                                                            c->sasl_password_file, &e);
                        if (!st->sasl_pw && e.code) {
                                snprintf(st->sasl_err, sizeof st->sasl_err, "SASL: %.180s",
                                         e.msg);
                        } else {
                                st->sasl_ok = true;
                                st->sec.sasl_mechanism = "PLAIN";
                                st->sec.sasl_username = c->sasl_username;
                                st->sec.sasl_password = st->sasl_pw;
                        }
                }
        }
        st->wire = !st->admin_offsets && (!sasl || st->sasl_ok) && (!st->use_tls || st->tls);
}

/* Forgets this poll's SASL password. */
static void kafka_wire_wipe(struct kafka_state *st)
{
        if (st->sasl_pw) {
                explicit_bzero(st->sasl_pw, strlen(st->sasl_pw));
                free(st->sasl_pw);
        }
        st->sasl_pw = NULL;
        st->sec.sasl_password = NULL;
}

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        (void)rk;
        (void)level;
        (void)fac;
        (void)buf;
}

/* Served by rd_kafka_poll(), i.e. on the collector thread. */
static void kafka_error_cb(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
        struct kafka_state *st = opaque;

        (void)rk;
        if (code == RD_KAFKA_RESP_ERR__FATAL)
                st->fatal = true;
        str_copy(st->last_error, reason ? reason : rd_kafka_err2str(code), sizeof st->last_error);
}

/* Served by rd_kafka_poll(), i.e. on the collector thread. */
static int kafka_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        struct kafka_state *st = opaque;
        struct kafka_bstat *v;
        size_t n;

        (void)rk;
        if (kafka_stats_parse(json, len, &v, &n, NULL) == 0) {
                free(st->bstats);
                st->bstats = v;
                st->n_bstats = n;
                st->bstats_at = clock_mono_ms();
        }
        return 0;       /* librdkafka frees json */
}

static int kafka_conf(rd_kafka_conf_t *conf, const char *k, const char *v, struct err *err)
{
        char es[256];

        if (!v)
                return 0;
        if (rd_kafka_conf_set(conf, k, v, es, sizeof es) != RD_KAFKA_CONF_OK) {
                err_set(err, EINVAL, "librdkafka rejected %s: %s", k, es);
                return -1;
        }
        return 0;
}

/* A secret into conf key k; the copy we read is wiped. */
static int kafka_conf_secret(rd_kafka_conf_t *conf, const char *k, const char *env,
                             const char *file, struct err *err)
{
        char *s;
        int r;

        err_clear(err);
        s = config_secret_resolve(env, file, err);
        if (!s)
                return err->code ? -1 : 0;
        r = kafka_conf(conf, k, s, err);
        explicit_bzero(s, strlen(s));
        free(s);
        return r;
}

/* The security keys; secrets only when `secrets` (validate passes false). */
static int kafka_conf_security(rd_kafka_conf_t *conf, const struct kafka_cfg *c, bool secrets,
                               struct err *err)
{
        if (kafka_conf(conf, "security.protocol", c->security_protocol, err) ||
            kafka_conf(conf, "sasl.mechanisms", c->sasl_mechanism, err) ||
            kafka_conf(conf, "sasl.username", c->sasl_username, err) ||
            kafka_conf(conf, "ssl.ca.location", c->ssl_ca_location, err) ||
            kafka_conf(conf, "ssl.certificate.location", c->ssl_certificate_location, err) ||
            kafka_conf(conf, "ssl.key.location", c->ssl_key_location, err) ||
            kafka_conf(conf, "enable.ssl.certificate.verification", c->ssl_verify, err))
                return -1;
        if (!secrets)
                return 0;
        if (kafka_conf_secret(conf, "sasl.password", c->sasl_password_env,
                              c->sasl_password_file, err) ||
            kafka_conf_secret(conf, "ssl.key.password", c->ssl_key_password_env,
                              c->ssl_key_password_file, err))
                return -1;
        return 0;
}

static int kafka_connect(struct kafka_state *st, struct err *err)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char es[512], num[32];

        snprintf(num, sizeof num, "%lld", (long long)st->stats_interval_ms);
        if (kafka_conf(conf, "bootstrap.servers", st->cfg->bootstrap, err) ||
            kafka_conf(conf, "client.id", "lambdaops", err) ||
            kafka_conf(conf, "isolation.level", "read_uncommitted", err) ||
            kafka_conf(conf, "statistics.interval.ms", num, err) ||
            kafka_conf(conf, "reconnect.backoff.max.ms", "2000", err) ||
            kafka_conf_security(conf, st->cfg, true, err)) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        rd_kafka_conf_set_opaque(conf, st);
        rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
        rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
        rd_kafka_conf_set_stats_cb(conf, kafka_stats_cb);
        st->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, es, sizeof es);
        if (!st->rk) {
                rd_kafka_conf_destroy(conf);
                err_set(err, EINVAL, "cannot create the Kafka client: %s", es);
                return -1;
        }
        st->adminq = rd_kafka_queue_new(st->rk);
        st->fatal = false;
        return 0;
}

static void kafka_reqs_free(struct kafka_req *rq)
{
        while (rq) {
                struct kafka_req *next = rq->next;

                free(rq->group);
                free(rq);
                rq = next;
        }
}

static void kafka_chunk_free(struct kafka_chunk *c)
{
        if (c->parts)
                rd_kafka_topic_partition_list_destroy(c->parts);
        free(c->group);
        free(c);
}

static void kafka_backlog_free(struct kafka_state *st)
{
        while (st->backlog) {
                struct kafka_chunk *next = st->backlog->next;

                kafka_chunk_free(st->backlog);
                st->backlog = next;
        }
        st->backlog_tail = NULL;
}

/* Destroys the handle; pending admin requests die with it (that is safe,
 * unlike letting them time out: see the note at the top). */
static void kafka_drop(struct kafka_state *st)
{
        if (st->adminq)
                rd_kafka_queue_destroy(st->adminq);
        if (st->rk)
                rd_kafka_destroy(st->rk);
        st->adminq = NULL;
        st->rk = NULL;
        kafka_reqs_free(st->reqs);
        st->reqs = NULL;
        st->n_offsets_inflight = 0;
        kafka_backlog_free(st);
        st->list_inflight = st->desc_inflight = false;
        for (size_t i = 0; i < st->n_groups; i++)
                kafka_gstate_abort(&st->groups[i]);
        free(st->bstats);
        st->bstats = NULL;
        st->n_bstats = 0;
}

static bool kafka_reqs_stale(const struct kafka_state *st)
{
        int64_t now = clock_mono_ms();

        for (const struct kafka_req *rq = st->reqs; rq; rq = rq->next)
                if (now - rq->issued > KAFKA_STALE_REQ_MS)
                        return true;
        return false;
}

/* ------------------------------------------------------------------------
 * Metadata and brokers
 */

static const struct rd_kafka_metadata *kafka_metadata(struct kafka_state *st,
                                                      const struct coll_ctx *ctx, int64_t end,
                                                      struct err *err)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;

        for (;;) {
                int64_t t0 = clock_mono_ms(), left = end - t0;

                if (coll_stopping(ctx)) {
                        err_set(err, ECANCELED, "stopping");
                        return NULL;
                }
                if (left <= 0 || st->fatal)
                        break;
                e = rd_kafka_metadata(st->rk, 1, NULL, &md,
                                      (int)kafka_min64(left, KAFKA_SLICE_MS));
                if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                        return md;
                rd_kafka_poll(st->rk, 0);       /* error_cb says why */
                if (e != RD_KAFKA_RESP_ERR__TIMED_OUT && clock_mono_ms() - t0 < 50)
                        kafka_pause_ms(kafka_min64(50, end - clock_mono_ms()));
        }
        if (st->last_error[0])
                err_set(err, e == RD_KAFKA_RESP_ERR__TIMED_OUT ? ETIMEDOUT : EIO,
                        "no broker answered within %lld ms (bootstrap %s): %s",
                        (long long)ctx->timeout_ms, st->cfg->bootstrap, st->last_error);
        else
                err_set(err, e == RD_KAFKA_RESP_ERR__TIMED_OUT ? ETIMEDOUT : EIO,
                        "no broker answered within %lld ms (bootstrap %s): %s; are the "
                        "brokers reachable?", (long long)ctx->timeout_ms, st->cfg->bootstrap,
                        rd_kafka_err2str(e));
        return NULL;
}

static int kafka_broker_cmp(const void *a, const void *b)
{
        const struct kafka_broker *x = a, *y = b;

        return (x->id > y->id) - (x->id < y->id);
}

static struct kafka_broker *kafka_broker_find(struct kafka_broker *v, size_t n, int32_t id)
{
        struct kafka_broker key = { .id = id };

        return v && n ? bsearch(&key, v, n, sizeof *v, kafka_broker_cmp) : NULL;
}

/* Brokers from the metadata, sorted by id, plus brokers seen in the last
 * hour that the metadata no longer lists (a dead broker leaves it). */
static void kafka_brokers_build(struct kafka_state *st, const struct rd_kafka_metadata *md,
                                const struct kafka_topic *all, size_t n_all,
                                struct kafka_data *d)
{
        int64_t now = clock_mono_ms();
        size_t n = md->broker_cnt > 0 ? (size_t)md->broker_cnt : 0, k = 0;

        d->brokers = xcalloc(n + st->n_known + 1, sizeof *d->brokers);
        for (size_t i = 0; i < n; i++) {
                struct kafka_broker *b = &d->brokers[k++];

                b->id = md->brokers[i].id;
                b->host = xstrdup(md->brokers[i].host ? md->brokers[i].host : "");
                b->port = md->brokers[i].port;
                b->up = KAFKA_UP_UNKNOWN;
                b->in_metadata = true;
                b->rtt_ms = NAN;
        }
        qsort(d->brokers, k, sizeof *d->brokers, kafka_broker_cmp);
        /* Remember them. */
        for (size_t i = 0; i < k; i++) {
                struct kafka_broker *kb = kafka_broker_find(st->known, st->n_known, d->brokers[i].id);

                if (!kb) {
                        st->known = xrealloc(st->known, (st->n_known + 1) * sizeof *st->known);
                        st->known_at = xrealloc(st->known_at, (st->n_known + 1) * sizeof *st->known_at);
                        kb = &st->known[st->n_known++];
                        memset(kb, 0, sizeof *kb);
                        kb->id = d->brokers[i].id;
                } else {
                        free(kb->host);
                }
                kb->host = xstrdup(d->brokers[i].host);
                kb->port = d->brokers[i].port;
                st->known_at[kb - st->known] = now;
                /* Keep st->known sorted (insertion at the end). */
                for (size_t j = (size_t)(kb - st->known);
                     j > 0 && st->known[j - 1].id > st->known[j].id; j--) {
                        struct kafka_broker tb = st->known[j];
                        int64_t ta = st->known_at[j];

                        st->known[j] = st->known[j - 1];
                        st->known_at[j] = st->known_at[j - 1];
                        st->known[j - 1] = tb;
                        st->known_at[j - 1] = ta;
                }
        }
        for (size_t i = 0; i < st->n_known; i++) {
                struct kafka_broker *b;

                if (kafka_broker_find(d->brokers, k, st->known[i].id) ||
                    now - st->known_at[i] > KAFKA_KNOWN_BROKER_MS)
                        continue;
                b = &d->brokers[n + (d->n_brokers++)];
                b->id = st->known[i].id;
                b->host = xstrdup(st->known[i].host);
                b->port = st->known[i].port;
                b->up = KAFKA_UP_NO;
                b->rtt_ms = NAN;
        }
        d->n_brokers += k;
        if (d->n_brokers > k) {
                memmove(&d->brokers[k], &d->brokers[n], (d->n_brokers - k) * sizeof *d->brokers);
                qsort(d->brokers, d->n_brokers, sizeof *d->brokers, kafka_broker_cmp);
        }
        for (size_t t = 0; t < n_all; t++)
                for (int p = 0; p < all[t].partitions; p++) {
                        struct kafka_broker *b;

                        if (all[t].parts[p].leader >= 0 &&
                            (b = kafka_broker_find(d->brokers, d->n_brokers, all[t].parts[p].leader)))
                                b->leader_for++;
                }
}

/* ------------------------------------------------------------------------
 * High watermarks: one offsets_for_times per leader broker, concurrently
 */

/* Retries in slices of <= 1 s (so quit is seen) until end; a non-timeout
 * error is retried once. Returns the last error, 0 on success. */
static rd_kafka_resp_err_t kafka_oft(struct kafka_job *j, rd_kafka_topic_partition_list_t *l,
                                     double *took)
{
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
        int tries = 0;

        for (;;) {
                int64_t left = j->end - clock_mono_ms();
                double t0 = kafka_mono_msf();

                if (left <= 0 || coll_stopping(j->ctx))
                        return e;
                for (int i = 0; i < l->cnt; i++)
                        l->elems[i].offset = RD_KAFKA_OFFSET_END;
                e = rd_kafka_offsets_for_times(j->rk, l, (int)kafka_min64(left, KAFKA_SLICE_MS));
                if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
                        *took = kafka_mono_msf() - t0;
                        return e;
                }
                if (e != RD_KAFKA_RESP_ERR__TIMED_OUT) {
                        if (++tries >= 2)
                                return e;
                        kafka_pause_ms(kafka_min64(100, j->end - clock_mono_ms()));
                }
        }
}

/* Elements [from, from + n) of j->list. One partition's error fails a whole
 * ListOffsets answer, so on a broker error (not a timeout: the broker is
 * then gone for all of them) we split in halves to keep the good ones. */
static void kafka_job_range(struct kafka_job *j, int from, int n, int depth)
{
        rd_kafka_topic_partition_list_t *l = j->list;
        rd_kafka_resp_err_t e;
        double took = -1;

        if (n <= 0)
                return;
        if (n != j->list->cnt) {
                l = rd_kafka_topic_partition_list_new(n);
                for (int i = 0; i < n; i++)
                        rd_kafka_topic_partition_list_add(l, j->list->elems[from + i].topic,
                                                          j->list->elems[from + i].partition);
        }
        e = kafka_oft(j, l, &took);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
                for (int i = 0; i < n; i++) {
                        rd_kafka_topic_partition_t *x = &j->list->elems[from + i];

                        if (l != j->list) {
                                x->offset = l->elems[i].offset;
                                x->err = l->elems[i].err;
                        }
                        if (x->err == RD_KAFKA_RESP_ERR_NO_ERROR && x->offset >= 0)
                                j->answered++;
                }
                if (j->took_ms < 0)
                        j->took_ms = took;
        } else {
                j->err = e;
                for (int i = 0; i < n; i++)
                        j->list->elems[from + i].err = e;
                if (e != RD_KAFKA_RESP_ERR__TIMED_OUT && n > 1 && depth < 20 &&
                    clock_mono_ms() < j->end && !coll_stopping(j->ctx)) {
                        kafka_job_range(j, from, n / 2, depth + 1);
                        kafka_job_range(j, from + n / 2, n - n / 2, depth + 1);
                }
        }
        if (l != j->list)
                rd_kafka_topic_partition_list_destroy(l);
}

static void *kafka_worker(void *arg)
{
        struct kafka_pool *p = arg;
        size_t k;

        while ((k = atomic_fetch_add(&p->next, 1)) < p->n) {
                struct kafka_job *j = &p->jobs[k];

                /* librdkafka 2.0.2 copies each answer into the caller's
                 * list with a linear search per partition: O(n^2) per call,
                 * 3,300 partitions cost ~20 ms of CPU. Calls of at most
                 * KAFKA_HWM_CHUNK, one after the other against the same
                 * leader and deadline, keep it linear. */
                for (int from = 0; from < j->list->cnt; from += KAFKA_HWM_CHUNK) {
                        int n = j->list->cnt - from;

                        kafka_job_range(j, from, n < KAFKA_HWM_CHUNK ? n : KAFKA_HWM_CHUNK, 0);
                }
        }
        return NULL;
}

static void kafka_pool_start(struct kafka_pool *p, struct kafka_state *st,
                             const struct coll_ctx *ctx, int64_t end,
                             const struct kafka_topic *all, const struct kafka_batch *b, size_t nb)
{
        memset(p, 0, sizeof *p);
        p->jobs = xcalloc(nb ? nb : 1, sizeof *p->jobs);
        p->n = nb;
        atomic_init(&p->next, 0);
        for (size_t i = 0; i < nb; i++) {
                struct kafka_job *j = &p->jobs[i];

                j->rk = st->rk;
                j->ctx = ctx;
                j->end = end;
                j->leader = b[i].leader;
                j->batch = &b[i];
                j->took_ms = -1;
                j->list = rd_kafka_topic_partition_list_new((int)b[i].n);
                for (size_t k = 0; k < b[i].n; k++) {
                        const struct kafka_topic *t = &all[b[i].topic[k]];
                        rd_kafka_topic_partition_t *x = rd_kafka_topic_partition_list_add(
                                j->list, t->name, t->parts[b[i].part[k]].id);

                        x->err = RD_KAFKA_RESP_ERR__TIMED_OUT;  /* "no answer" until one */
                }
        }
        for (size_t i = 0; i < nb && i < KAFKA_MAX_WORKERS; i++)
                if (pthread_create(&p->th[p->n_th], NULL, kafka_worker, p) == 0)
                        p->n_th++;
}

/* Runs whatever no worker took yet (all of it if no thread could start),
 * then joins. */
static void kafka_pool_finish(struct kafka_pool *p)
{
        kafka_worker(p);
        for (size_t i = 0; i < p->n_th; i++)
                pthread_join(p->th[i], NULL);
}

static void kafka_pool_free(struct kafka_pool *p)
{
        for (size_t i = 0; i < p->n; i++)
                rd_kafka_topic_partition_list_destroy(p->jobs[i].list);
        free(p->jobs);
}

static void kafka_pool_apply(const struct kafka_pool *p, struct kafka_topic *all)
{
        for (size_t i = 0; i < p->n; i++) {
                const struct kafka_job *j = &p->jobs[i];

                for (int k = 0; k < j->list->cnt; k++) {
                        const rd_kafka_topic_partition_t *x = &j->list->elems[k];
                        struct kafka_topic *t = &all[j->batch->topic[k]];

                        if (x->err == RD_KAFKA_RESP_ERR_NO_ERROR && x->offset >= 0)
                                t->parts[j->batch->part[k]].high_watermark = x->offset;
                }
        }
}

static const struct kafka_job *kafka_pool_job(const struct kafka_pool *p, int32_t leader)
{
        for (size_t i = 0; i < p->n; i++)
                if (p->jobs[i].leader == leader)
                        return &p->jobs[i];
        return NULL;
}

static void kafka_brokers_state(struct kafka_state *st, const struct kafka_pool *p,
                                int32_t orig_id, struct kafka_data *d)
{
        bool fresh = st->bstats && clock_mono_ms() - st->bstats_at <= 3 * st->stats_interval_ms;

        d->brokers_up = 0;
        for (size_t i = 0; i < d->n_brokers; i++) {
                struct kafka_broker *b = &d->brokers[i];
                const struct kafka_job *j = kafka_pool_job(p, b->id);
                const struct kafka_bstat *s = NULL;
                struct kafka_bstat key = { .id = b->id };

                if (!b->in_metadata)
                        continue;
                if (fresh)
                        s = bsearch(&key, st->bstats, st->n_bstats, sizeof key, kafka_bstat_cmp);
                if (j) {
                        bool gone = j->err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
                                    j->err == RD_KAFKA_RESP_ERR__TRANSPORT ||
                                    j->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN;

                        b->up = j->answered > 0 || !gone ? KAFKA_UP_YES : KAFKA_UP_NO;
                }
                if (b->up == KAFKA_UP_UNKNOWN &&
                    (b->id == orig_id || (s && strcmp(s->state, "UP") == 0)))
                        b->up = KAFKA_UP_YES;
                if (s && !isnan(s->rtt_ms) && b->up == KAFKA_UP_YES)
                        b->rtt_ms = s->rtt_ms;
                else if (j && j->took_ms >= 0)
                        b->rtt_ms = j->took_ms;
                d->brokers_up += b->up == KAFKA_UP_YES;
        }
}

/* ------------------------------------------------------------------------
 * Consumer groups on the admin API
 */

static struct kafka_gstate *kafka_gstate_find(struct kafka_state *st, const char *name)
{
        for (size_t i = 0; i < st->n_groups; i++)
                if (strcmp(st->groups[i].name, name) == 0)
                        return &st->groups[i];
        return NULL;
}

static struct kafka_gstate *kafka_gstate_add(struct kafka_state *st, const char *name,
                                             bool configured)
{
        struct kafka_gstate *gs;

        st->groups = xrealloc(st->groups, (st->n_groups + 1) * sizeof *st->groups);
        gs = &st->groups[st->n_groups++];
        memset(gs, 0, sizeof *gs);
        gs->name = xstrdup(name);
        gs->configured = configured;
        gs->members = -1;
        return gs;
}

static void kafka_gstate_commits_free(struct kafka_gstate *gs)
{
        for (size_t i = 0; i < gs->n_topics; i++)
                free(gs->topics[i]);
        free(gs->topics);
        free(gs->commits);
        gs->topics = NULL;
        gs->commits = NULL;
        gs->n_topics = gs->n_commits = 0;
}

static void kafka_acc_reset(struct kafka_gstate *gs)
{
        free(gs->acc);
        gs->acc = NULL;
        gs->n_acc = gs->cap_acc = 0;
        kmap_done(&gs->acc_names, NULL);        /* values are the keys */
        gs->chunk_failed = false;
}

/* Forgets requests in flight (the handle that carried them is gone). */
static void kafka_gstate_abort(struct kafka_gstate *gs)
{
        gs->inflight = false;
        gs->pending = 0;
        kafka_acc_reset(gs);
}

static void kafka_gstate_describe_reset(struct kafka_gstate *gs)
{
        gs->described = false;
        free(gs->desc_state);
        gs->desc_state = NULL;
        gs->members = -1;
        if (gs->assigned)
                rd_kafka_topic_partition_list_destroy(gs->assigned);
        gs->assigned = NULL;
}

static void kafka_gstate_done(struct kafka_gstate *gs)
{
        free(gs->name);
        free(gs->list_state);
        kafka_gstate_commits_free(gs);
        kafka_acc_reset(gs);
        kafka_gstate_describe_reset(gs);
}

static struct kafka_req *kafka_req_new(struct kafka_state *st, enum kafka_req_kind kind,
                                       const char *group, bool expl)
{
        struct kafka_req *rq = xcalloc(1, sizeof *rq);

        rq->kind = kind;
        rq->group = xstrdup(group);
        rq->explicit_parts = expl;
        rq->issued = clock_mono_ms();
        rq->next = st->reqs;
        if (st->reqs)
                st->reqs->prev = rq;
        st->reqs = rq;
        return rq;
}

static rd_kafka_AdminOptions_t *kafka_admin_opts(struct kafka_state *st, rd_kafka_admin_op_t op,
                                                 struct kafka_req *rq)
{
        rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(st->rk, op);
        char es[256];

        rd_kafka_AdminOptions_set_request_timeout(o, KAFKA_ADMIN_TIMEOUT_MS, es, sizeof es);
        rd_kafka_AdminOptions_set_opaque(o, rq);
        return o;
}

static void kafka_issue_list(struct kafka_state *st)
{
        struct kafka_req *rq;
        rd_kafka_AdminOptions_t *o;

        if (st->list_inflight || clock_mono_ms() < st->list_next)
                return;
        rq = kafka_req_new(st, KAFKA_REQ_LIST, NULL, false);
        o = kafka_admin_opts(st, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, rq);
        rd_kafka_ListConsumerGroups(st->rk, o, st->adminq);
        rd_kafka_AdminOptions_destroy(o);
        st->list_inflight = true;
}

static void kafka_issue_describe(struct kafka_state *st)
{
        const char **names;
        struct kafka_req *rq;
        rd_kafka_AdminOptions_t *o;

        if (st->desc_inflight || st->n_groups == 0)
                return;
        names = xcalloc(st->n_groups, sizeof *names);
        for (size_t i = 0; i < st->n_groups; i++)
                names[i] = st->groups[i].name;
        rq = kafka_req_new(st, KAFKA_REQ_DESCRIBE, NULL, false);
        o = kafka_admin_opts(st, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, rq);
        rd_kafka_DescribeConsumerGroups(st->rk, names, st->n_groups, o, st->adminq);
        rd_kafka_AdminOptions_destroy(o);
        free(names);
        st->desc_inflight = true;
}

/* Sends queued offsets requests while fewer than KAFKA_OFFSETS_INFLIGHT
 * are in flight. Chunks of a group that is gone are dropped. */
static void kafka_offsets_pump(struct kafka_state *st)
{
        while (st->backlog && st->n_offsets_inflight < KAFKA_OFFSETS_INFLIGHT) {
                struct kafka_chunk *c = st->backlog;
                rd_kafka_ListConsumerGroupOffsets_t *req;
                rd_kafka_AdminOptions_t *o;
                struct kafka_req *rq;

                st->backlog = c->next;
                if (!st->backlog)
                        st->backlog_tail = NULL;
                if (kafka_gstate_find(st, c->group)) {
                        rq = kafka_req_new(st, KAFKA_REQ_OFFSETS, c->group, c->parts != NULL);
                        req = rd_kafka_ListConsumerGroupOffsets_new(c->group, c->parts);
                        o = kafka_admin_opts(st, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, rq);
                        rd_kafka_ListConsumerGroupOffsets(st->rk, &req, 1, o, st->adminq);
                        rd_kafka_AdminOptions_destroy(o);
                        rd_kafka_ListConsumerGroupOffsets_destroy(req);
                        st->n_offsets_inflight++;
                }
                kafka_chunk_free(c);
        }
}

/* One offsets request of gs: all partitions (parts NULL) or a chunk, which
 * this takes ownership of. Queued, and sent as slots free up (see
 * KAFKA_OFFSETS_INFLIGHT); it counts as pending for the group at once. */
static void kafka_issue_one(struct kafka_state *st, struct kafka_gstate *gs,
                            rd_kafka_topic_partition_list_t *parts)
{
        struct kafka_chunk *c = xcalloc(1, sizeof *c);

        c->group = xstrdup(gs->name);
        c->parts = parts;
        if (st->backlog_tail)
                st->backlog_tail->next = c;
        else
                st->backlog = c;
        st->backlog_tail = c;
        gs->pending++;
        gs->inflight = true;
        kafka_offsets_pump(st);
}

static void kafka_chunk_add(struct kafka_state *st, struct kafka_gstate *gs,
                            rd_kafka_topic_partition_list_t **l, const struct kafka_topic *t)
{
        for (int p = 0; p < t->partitions; p++) {
                if (!*l)
                        *l = rd_kafka_topic_partition_list_new(KAFKA_CHUNK);
                rd_kafka_topic_partition_list_add(*l, t->name, t->parts[p].id);
                if ((*l)->cnt >= KAFKA_CHUNK) {
                        kafka_issue_one(st, gs, *l);
                        *l = NULL;
                }
        }
}

/* Explicit partitions: every partition of the cluster (scan) or of the
 * topics the group has commits in, in chunks of KAFKA_CHUNK. librdkafka
 * 2.0.2 matches each partition of an OffsetFetch answer against the
 * answer list built so far, linearly, so one request for n partitions
 * costs O(n^2) on its main thread (20 groups x 10,000 partitions took
 * 3.7 s); chunks keep that linear in n. Each request in turn has a fixed
 * cost that grows with the number in flight (its timeout timer goes into
 * a sorted list), so the chunks of all groups share KAFKA_OFFSETS_INFLIGHT
 * slots (kafka_offsets_pump). On the 10,000-partition bench (20 groups
 * scanning every partition, ~1,600 requests) 128 x 32, with O(1) request
 * bookkeeping (kafka_on_event), took ~20% less CPU than 256 unbounded;
 * 32- and 64-partition chunks were no better, 512 and 1024 worse.
 * Returns the number of requests queued. */
static int kafka_issue_explicit(struct kafka_state *st, struct kafka_gstate *gs, bool scan)
{
        rd_kafka_topic_partition_list_t *l = NULL;
        int before = gs->pending;

        if (scan) {
                for (size_t t = 0; t < st->n_all; t++)
                        kafka_chunk_add(st, gs, &l, &st->all[t]);
                gs->scanned = st->poll_seq;
        } else {
                for (size_t i = 0; i < gs->n_topics; i++) {
                        const struct kafka_topic *t = kafka_topic_find(st->all, st->n_all,
                                                                       gs->topics[i]);

                        if (t)
                                kafka_chunk_add(st, gs, &l, t);
                }
        }
        if (l)
                kafka_issue_one(st, gs, l);
        return gs->pending - before;
}

/* The offsets of one group for this poll: "all partitions" (one request),
 * or for a group known to need it explicit partitions: the topics it has
 * commits in, every partition now and then (KAFKA_RESCAN_POLLS, one group
 * per poll) and whenever it has none. */
static void kafka_issue_offsets(struct kafka_state *st, struct kafka_gstate *gs)
{
        bool scan;

        kafka_acc_reset(gs);
        gs->pending = 0;
        if (!gs->explicit_mode) {
                kafka_issue_one(st, gs, NULL);
                return;
        }
        scan = gs->n_topics == 0;
        if (!scan && !st->rescan_used && st->poll_seq - gs->scanned >= KAFKA_RESCAN_POLLS) {
                scan = true;
                st->rescan_used = true;
        }
        if (kafka_issue_explicit(st, gs, scan) == 0 &&
            (scan || kafka_issue_explicit(st, gs, true) == 0)) {
                /* No partitions to ask about: nothing can be committed. */
                kafka_gstate_commits_free(gs);
                gs->answered = true;
        }
}

static void kafka_on_list(struct kafka_state *st, rd_kafka_event_t *ev)
{
        const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
        const rd_kafka_ConsumerGroupListing_t **valid;
        const rd_kafka_error_t **errs;
        size_t nv = 0, ne = 0, unsupported = 0, k = 0;

        if (rd_kafka_event_error(ev) || !res) {
                snprintf(st->list_note, sizeof st->list_note, "group listing failed: %s",
                         rd_kafka_event_error_string(ev));
                return;
        }
        valid = rd_kafka_ListConsumerGroups_result_valid(res, &nv);
        errs = rd_kafka_ListConsumerGroups_result_errors(res, &ne);
        for (size_t i = 0; i < ne; i++)
                unsupported += rd_kafka_error_code(errs[i]) == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE;
        if (nv == 0 && ne > 0 && unsupported == ne) {
                st->list_support = 0;
                st->list_next = clock_mono_ms() + KAFKA_QUORUM_RETRY_MS;
                str_copy(st->list_note, "group listing not supported by the brokers (no ListGroups "
                         "API): watching only the configured groups", sizeof st->list_note);
                return;
        }
        st->list_support = 1;
        if (ne)
                snprintf(st->list_note, sizeof st->list_note,
                         "group listing incomplete: %zu broker%s failed (%s)", ne, ne == 1 ? "" : "s",
                         rd_kafka_error_string(errs[0]));
        else
                st->list_note[0] = '\0';
        if (ne == 0)
                for (size_t i = 0; i < st->n_groups; i++)
                        st->groups[i].listed = false;
        for (size_t i = 0; i < nv; i++) {
                const char *id = rd_kafka_ConsumerGroupListing_group_id(valid[i]);
                struct kafka_gstate *gs;

                if (!id)
                        continue;
                gs = kafka_gstate_find(st, id);
                if (!gs)
                        gs = kafka_gstate_add(st, id, false);
                gs->listed = true;
                free(gs->list_state);
                gs->list_state = xstrdup(rd_kafka_consumer_group_state_name(
                        rd_kafka_ConsumerGroupListing_state(valid[i])));
        }
        if (ne)
                return;
        /* A complete listing: discovered groups that are gone are dropped
         * (their in-flight request, if any, finds no group and is ignored). */
        for (size_t i = 0; i < st->n_groups; i++) {
                struct kafka_gstate *gs = &st->groups[i];

                if (gs->configured || gs->listed)
                        st->groups[k++] = *gs;
                else
                        kafka_gstate_done(gs);
        }
        st->n_groups = k;
}

static void kafka_on_describe(struct kafka_state *st, rd_kafka_event_t *ev)
{
        const rd_kafka_DescribeConsumerGroups_result_t *res =
                rd_kafka_event_DescribeConsumerGroups_result(ev);
        const rd_kafka_ConsumerGroupDescription_t **gds;
        size_t n = 0;

        if (rd_kafka_event_error(ev) || !res)
                return;
        gds = rd_kafka_DescribeConsumerGroups_result_groups(res, &n);
        for (size_t i = 0; i < n; i++) {
                const rd_kafka_ConsumerGroupDescription_t *gd = gds[i];
                struct kafka_gstate *gs;
                size_t nm;

                gs = kafka_gstate_find(st, rd_kafka_ConsumerGroupDescription_group_id(gd));
                if (!gs || rd_kafka_ConsumerGroupDescription_error(gd))
                        continue;
                kafka_gstate_describe_reset(gs);
                gs->described = true;
                gs->desc_state = xstrdup(rd_kafka_consumer_group_state_name(
                        rd_kafka_ConsumerGroupDescription_state(gd)));
                nm = rd_kafka_ConsumerGroupDescription_member_count(gd);
                gs->members = nm > INT32_MAX ? INT32_MAX : (int)nm;
                gs->assigned = rd_kafka_topic_partition_list_new(0);
                for (size_t m = 0; m < nm; m++) {
                        const rd_kafka_MemberDescription_t *md;
                        const rd_kafka_MemberAssignment_t *ma = NULL;
                        const rd_kafka_topic_partition_list_t *pl = NULL;

                        md = rd_kafka_ConsumerGroupDescription_member(gd, m);
                        if (md)
                                ma = rd_kafka_MemberDescription_assignment(md);
                        if (ma)
                                pl = rd_kafka_MemberAssignment_partitions(ma);

                        for (int k = 0; pl && k < pl->cnt; k++)
                                rd_kafka_topic_partition_list_add(gs->assigned, pl->elems[k].topic,
                                                                  pl->elems[k].partition);
                }
                rd_kafka_topic_partition_list_sort(gs->assigned, NULL, NULL);
        }
}

/* The accumulator's copy of topic name `topic` (interned: one per name). */
static const char *kafka_acc_name(struct kafka_gstate *gs, const char *topic)
{
        char *name = kmap_get(&gs->acc_names, topic);

        if (!name) {
                name = xstrdup(topic);
                kmap_put(&gs->acc_names, name, name);
        }
        return name;
}

/* Appends one committed offset to the group's accumulator. */
static void kafka_acc_push(struct kafka_gstate *gs, const char *name, int32_t partition,
                           int64_t offset, const void *meta, size_t meta_len)
{
        struct kafka_commit *c;

        if (gs->n_acc == gs->cap_acc) {
                gs->cap_acc = gs->cap_acc ? 2 * gs->cap_acc : 64;
                gs->acc = xrealloc(gs->acc, gs->cap_acc * sizeof *gs->acc);
        }
        c = &gs->acc[gs->n_acc++];
        c->topic = name;
        c->partition = partition;
        c->offset = offset;
        c->meta_hash = meta && meta_len ? kafka_hash(meta, meta_len) | 1 : 0;
}

/* Adds the committed offsets (offset >= 0) of one answer (or chunk) to the
 * group's accumulator, topic names interned. Returns how many. */
static size_t kafka_acc_add(struct kafka_gstate *gs, const rd_kafka_topic_partition_list_t *pl)
{
        size_t n = 0;

        for (int i = 0; pl && i < pl->cnt; i++) {
                const rd_kafka_topic_partition_t *x = &pl->elems[i];

                if (x->err != RD_KAFKA_RESP_ERR_NO_ERROR || x->offset < 0 || !x->topic)
                        continue;
                kafka_acc_push(gs, kafka_acc_name(gs, x->topic), x->partition, x->offset,
                               x->metadata, x->metadata_size);
                n++;
        }
        return n;
}

/* The accumulated answer becomes the group's commits. */
static void kafka_acc_commit(struct kafka_gstate *gs)
{
        struct kmap *m = &gs->acc_names;

        kafka_gstate_commits_free(gs);
        gs->commits = gs->acc;
        gs->n_commits = gs->n_acc;
        gs->topics = xcalloc(m->n ? m->n : 1, sizeof *gs->topics);
        for (size_t i = 0; i < m->cap; i++)
                if (m->v[i].key)
                        gs->topics[gs->n_topics++] = m->v[i].key;      /* ownership moves */
        free(m->v);
        memset(m, 0, sizeof *m);
        gs->acc = NULL;
        gs->n_acc = gs->cap_acc = 0;
}

static void kafka_on_offsets(struct kafka_state *st, rd_kafka_event_t *ev, const struct kafka_req *rq)
{
        struct kafka_gstate *gs = kafka_gstate_find(st, rq->group);
        const rd_kafka_ListConsumerGroupOffsets_result_t *res;
        const rd_kafka_group_result_t **grs;
        const rd_kafka_error_t *ge;
        const char *why = NULL;
        size_t n = 0, got = 0;

        if (!gs || gs->pending <= 0)
                return;
        gs->pending--;
        res = rd_kafka_event_ListConsumerGroupOffsets_result(ev);
        if (rd_kafka_event_error(ev) || !res)
                why = rd_kafka_event_error_string(ev);
        else if ((grs = rd_kafka_ListConsumerGroupOffsets_result_groups(res, &n)) == NULL || n < 1)
                why = "empty answer";
        else if ((ge = rd_kafka_group_result_error(grs[0])) != NULL)
                why = rd_kafka_error_string(ge);
        else
                got = kafka_acc_add(gs, rd_kafka_group_result_partitions(grs[0]));
        if (why) {
                gs->chunk_failed = true;
                str_copy(gs->errmsg, why, sizeof gs->errmsg);
        }
        if (gs->pending > 0)
                return;
        gs->inflight = false;
        if (gs->chunk_failed) {
                kafka_acc_reset(gs);
                return;
        }
        if (!rq->explicit_parts && got > 0)
                st->all_works = true;
        if (!rq->explicit_parts && got == 0 && st->n_all > 0 && !st->all_works) {
                /* "All partitions" came back empty: the mock cluster answers
                 * so, and so does a group without commits. Until some group's
                 * "all" answer shows the brokers implement it, ask
                 * explicitly. */
                kafka_acc_reset(gs);
                if (kafka_issue_explicit(st, gs, true) > 0)
                        return;
        }
        if (rq->explicit_parts && gs->n_acc > 0)
                gs->explicit_mode = true;
        kafka_acc_commit(gs);
        gs->answered = true;
        gs->errmsg[0] = '\0';
}

/* Every event on adminq carries one of our requests as its opaque: adminq
 * and the requests go together in kafka_drop, so the pointer is live.
 * Unlinking is O(1) because hundreds of requests can be in flight. */
static void kafka_on_event(struct kafka_state *st, rd_kafka_event_t *ev)
{
        struct kafka_req *rq = rd_kafka_event_opaque(ev);

        if (!rq) {
                rd_kafka_event_destroy(ev);
                return;
        }
        if (rq->prev)
                rq->prev->next = rq->next;
        else
                st->reqs = rq->next;
        if (rq->next)
                rq->next->prev = rq->prev;
        switch (rq->kind) {
        case KAFKA_REQ_LIST:
                st->list_inflight = false;
                kafka_on_list(st, ev);
                break;
        case KAFKA_REQ_DESCRIBE:
                st->desc_inflight = false;
                kafka_on_describe(st, ev);
                break;
        case KAFKA_REQ_OFFSETS:
                st->n_offsets_inflight--;
                kafka_on_offsets(st, ev, rq);
                kafka_offsets_pump(st);
                break;
        }
        free(rq->group);
        free(rq);
        rd_kafka_event_destroy(ev);
}

/* The bootstrap brokers as kafka_wire endpoints: *eps (owned) point into
 * *hosts (owned). Returns how many. */
static size_t kafka_endpoints(const struct kafka_state *st, struct kwire_endpoint **eps,
                              char (**hosts)[256])
{
        char *list = xstrdup(st->cfg->bootstrap), *save = NULL;
        size_t n = 0, cap = 0;

        *eps = NULL;
        *hosts = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                struct err e;
                int port;

                if (n == cap) {
                        cap = cap ? 2 * cap : 4;
                        *eps = xrealloc(*eps, cap * sizeof **eps);
                        *hosts = xrealloc(*hosts, cap * sizeof **hosts);
                }
                err_clear(&e);
                if (kafka_hostport_parse(tok, (*hosts)[n], sizeof (*hosts)[n], &port, &e) != 0)
                        continue;
                (*eps)[n].port = port;
                n++;
        }
        for (size_t i = 0; i < n; i++)
                (*eps)[i].host = (*hosts)[i];
        free(list);
        return n;
}

/* Racks, which librdkafka 2.0.2's metadata lacks, from our own Metadata
 * request: on the first poll, when a broker id appears that the last
 * answer did not have, and every KAFKA_QUORUM_RETRY_MS; after a failure
 * not again for a minute. Not where kafka_wire cannot authenticate (SASL
 * other than PLAIN): there rack stays null. */
static void kafka_racks(struct kafka_state *st, const struct coll_ctx *ctx, int64_t end,
                        struct kafka_data *d)
{
        int64_t now = clock_mono_ms();
        bool stale = st->racks_next == 0 || now >= st->racks_next;

        if ((st->sasl && !st->sasl_ok) || (st->use_tls && !st->tls))
                return;
        for (size_t i = 0; i < d->n_brokers && !stale; i++) {
                bool have = false;

                for (size_t j = 0; j < st->n_racks && !have; j++)
                        have = st->racks[j].id == d->brokers[i].id;
                stale = !have && d->brokers[i].in_metadata &&
                        st->racks_retry_at <= now;
        }
        if (stale && !coll_stopping(ctx)) {
                struct kwire_endpoint *eps;
                char (*hosts)[256];
                size_t n = kafka_endpoints(st, &eps, &hosts);
                struct kwire_metadata md;
                struct coll_ctx mc = *ctx;
                struct err e;
                int64_t left = end - now;

                /* At most a quarter of the poll: racks are a nicety. */
                mc.deadline_mono = now + (left > 4 ? left / 4 : left);
                err_clear(&e);
                if (kwire_fetch_metadata(eps, n, &st->sec, &mc, &md,
                                         &e) == 0) {
                        for (size_t j = 0; j < st->n_racks; j++)
                                free(st->racks[j].rack);
                        free(st->racks);
                        st->racks = xcalloc(md.n_brokers ? md.n_brokers : 1,
                                            sizeof *st->racks);
                        st->n_racks = md.n_brokers;
                        for (size_t j = 0; j < md.n_brokers; j++) {
                                st->racks[j].id = md.brokers[j].node_id;
                                st->racks[j].rack = md.brokers[j].rack
                                                    ? xstrdup(md.brokers[j].rack) : NULL;
                        }
                        st->racks_next = clock_mono_ms() + KAFKA_QUORUM_RETRY_MS;
                        st->racks_retry_at = 0;
                } else {
                        st->racks_retry_at = clock_mono_ms() + 60000;
                        if (st->racks_next == 0 || st->racks_next <= now)
                                st->racks_next = st->racks_retry_at;
                }
                kwire_metadata_done(&md);
                free(eps);
                free(hosts);
        }
        for (size_t i = 0; i < d->n_brokers; i++)
                for (size_t j = 0; j < st->n_racks; j++)
                        if (st->racks[j].id == d->brokers[i].id && st->racks[j].rack &&
                            !d->brokers[i].rack)
                                d->brokers[i].rack = xstrdup(st->racks[j].rack);
}

/* ------------------------------------------------------------------------
 * Committed offsets over the wire protocol
 *
 * librdkafka 2.0.2's admin path costs O(n) per partition on its main thread
 * with several copies and O(n^2) matching (see kafka_issue_explicit), which
 * made the first poll of 20 groups x 10,000 partitions take 250-400 ms
 * against the mock cluster (it answers "all partitions" with nothing). Where
 * kafka_wire can reach the brokers (plaintext, ssl, SASL PLAIN) the collector
 * asks itself: FindCoordinator, then one OffsetFetch per group (or per 16 groups
 * at v8) with every partition, pipelined on one connection per coordinator,
 * decoded in one pass. The rules are those of the admin path: "all
 * partitions" first; an empty answer while no group's "all" answer has shown
 * commits means an explicit scan of every partition; a group found so keeps
 * asking explicitly about the topics it has commits in, with the rotating
 * full rescan (KAFKA_RESCAN_POLLS).
 */

struct kafka_wctx {
        struct kafka_state *st;
        size_t  *gi;                    /* request -> index into st->groups */
        bool    *all;                   /* request asked for all partitions */
};

/* Adds the committed offsets of one group's answer to its accumulator. */
static size_t kafka_acc_add_wire(struct kafka_gstate *gs, const struct kwire_offsets *res,
                                 const struct kwire_of_group *g)
{
        const char *name = NULL;
        uint32_t cur = UINT32_MAX;
        size_t n = 0;

        for (size_t i = g->first_part; i < g->first_part + g->n_parts; i++) {
                const struct kwire_of_part *x = &res->parts[i];

                if (x->error_code != KWIRE_ERR_NONE || x->offset < 0)
                        continue;
                if (x->topic != cur) {
                        const struct kwire_str *t = &res->topics[x->topic].name;
                        char buf[256];

                        cur = x->topic;
                        name = NULL;
                        if (!t->p || (size_t)t->len >= sizeof buf)
                                continue;       /* Kafka topic names are <= 249 bytes */
                        memcpy(buf, t->p, (size_t)t->len);
                        buf[t->len] = '\0';
                        name = kafka_acc_name(gs, buf);
                }
                if (!name)
                        continue;
                kafka_acc_push(gs, name, x->partition, x->offset, x->metadata.p,
                               x->metadata.len > 0 ? (size_t)x->metadata.len : 0);
                n++;
        }
        return n;
}

static void kafka_wire_cb(void *arg, size_t i, const struct kwire_offsets *res,
                          const struct kwire_of_group *g, const struct err *e)
{
        struct kafka_wctx *w = arg;
        struct kafka_state *st = w->st;
        struct kafka_gstate *gs = &st->groups[w->gi[i]];
        size_t got;

        if (e) {
                str_copy(gs->errmsg, e->msg, sizeof gs->errmsg);
                return;
        }
        if (g->error_code != KWIRE_ERR_NONE) {
                const char *nm = kwire_error_name(g->error_code);

                snprintf(gs->errmsg, sizeof gs->errmsg, "OffsetFetch: broker error code %d%s%s%s",
                         g->error_code, nm ? " (" : "", nm ? nm : "", nm ? ")" : "");
                return;
        }
        kafka_acc_reset(gs);
        got = kafka_acc_add_wire(gs, res, g);
        if (w->all[i] && got > 0)
                st->all_works = true;
        if (w->all[i] && got == 0 && st->n_all > 0 && !st->all_works) {
                /* As in kafka_on_offsets: ask about every partition. */
                kafka_acc_reset(gs);
                gs->wire_want = true;
                gs->wire_scan = true;
                return;
        }
        if (!w->all[i] && gs->n_acc > 0)
                gs->explicit_mode = true;
        kafka_acc_commit(gs);
        gs->answered = true;
        gs->errmsg[0] = '\0';
}

/* Asks about every group with wire_want, twice at most (the second time
 * for groups whose "all partitions" answer came back empty). */
static void kafka_wire_offsets(struct kafka_state *st, const struct coll_ctx *ctx, int64_t end)
{
        struct kwire_of_topic_req *tops = NULL;         /* one per topic of st->all */
        struct kwire_endpoint *eps = NULL;
        char (*hosts)[256] = NULL;
        size_t n_eps = kafka_endpoints(st, &eps, &hosts);
        int32_t *ids = NULL;
        struct coll_ctx wc = *ctx;

        wc.deadline_mono = end;
        if (st->n_all) {
                size_t total = 0, k = 0;

                for (size_t t = 0; t < st->n_all; t++)
                        total += (size_t)st->all[t].partitions;
                ids = xmalloc((total ? total : 1) * sizeof *ids);
                tops = xcalloc(st->n_all, sizeof *tops);
                for (size_t t = 0; t < st->n_all; t++) {
                        tops[t].name = st->all[t].name;
                        tops[t].parts = ids + k;
                        tops[t].n_parts = (size_t)st->all[t].partitions;
                        for (int p = 0; p < st->all[t].partitions; p++)
                                ids[k++] = st->all[t].parts[p].id;
                }
        }
        for (int pass = 0; pass < 2 && !coll_stopping(ctx); pass++) {
                struct kwire_of_group_req *reqs = xcalloc(st->n_groups + 1, sizeof *reqs);
                struct kwire_of_topic_req **own = xcalloc(st->n_groups + 1, sizeof *own);
                struct kafka_wctx w = { .st = st };
                size_t n = 0;

                w.gi = xcalloc(st->n_groups + 1, sizeof *w.gi);
                w.all = xcalloc(st->n_groups + 1, sizeof *w.all);
                for (size_t i = 0; i < st->n_groups; i++) {
                        struct kafka_gstate *gs = &st->groups[i];
                        bool scan = gs->wire_scan;
                        struct kwire_of_group_req *r = &reqs[n];

                        if (!gs->wire_want)
                                continue;
                        gs->wire_want = false;
                        gs->wire_scan = false;
                        kafka_acc_reset(gs);
                        r->group = gs->name;
                        if (!scan && !gs->explicit_mode) {
                                r->all = true;
                        } else {
                                if (!scan)
                                        scan = gs->n_topics == 0;
                                if (!scan && !st->rescan_used &&
                                    st->poll_seq - gs->scanned >= KAFKA_RESCAN_POLLS) {
                                        scan = true;
                                        st->rescan_used = true;
                                }
                                if (scan) {
                                        r->topics = tops;
                                        r->n_topics = st->n_all;
                                        gs->scanned = st->poll_seq;
                                } else {
                                        struct kwire_of_topic_req *o;

                                        o = own[n] = xcalloc(gs->n_topics + 1, sizeof *o);
                                        for (size_t t = 0; t < gs->n_topics; t++) {
                                                const struct kafka_topic *kt =
                                                        kafka_topic_find(st->all, st->n_all,
                                                                         gs->topics[t]);

                                                if (kt)
                                                        o[r->n_topics++] =
                                                                tops[kt - st->all];
                                        }
                                        r->topics = o;
                                        if (r->n_topics == 0) {
                                                /* Its topics are gone: scan. */
                                                r->topics = tops;
                                                r->n_topics = st->n_all;
                                                gs->scanned = st->poll_seq;
                                        }
                                }
                                if (r->n_topics == 0) {
                                        /* No partitions to ask about: nothing can be
                                         * committed. */
                                        kafka_gstate_commits_free(gs);
                                        gs->answered = true;
                                        free(own[n]);
                                        own[n] = NULL;
                                        memset(r, 0, sizeof *r);
                                        continue;
                                }
                        }
                        w.gi[n] = i;
                        w.all[n] = r->all;
                        n++;
                }
                if (n > 0)
                        (void)kwire_fetch_offsets(eps, n_eps, &st->sec, reqs, n, &wc,
                                                  kafka_wire_cb, &w);
                for (size_t i = 0; i < n; i++)
                        free(own[i]);
                free(own);
                free(reqs);
                free(w.gi);
                free(w.all);
                if (n == 0)
                        break;
        }
        /* A group still wanting (no time for the second pass) stays unanswered. */
        for (size_t i = 0; i < st->n_groups; i++)
                st->groups[i].wire_want = false;
        free(ids);
        free(tops);
        free(eps);
        free(hosts);
}

static void kafka_groups_issue(struct kafka_state *st)
{
        for (size_t i = 0; i < st->n_groups; i++) {
                struct kafka_gstate *gs = &st->groups[i];

                if (!gs->inflight && !gs->issued) {
                        gs->issued = true;
                        if (st->wire)
                                gs->wire_want = true;
                        else
                                kafka_issue_offsets(st, gs);
                }
        }
        if (st->list_support == 1 && !st->desc_issued && !st->desc_inflight) {
                st->desc_issued = true;
                kafka_issue_describe(st);
        }
}

/* Per-poll reset, late answers, new requests. */
static void kafka_groups_begin(struct kafka_state *st)
{
        rd_kafka_event_t *ev;

        st->desc_issued = false;
        for (size_t i = 0; i < st->n_groups; i++) {
                struct kafka_gstate *gs = &st->groups[i];

                gs->issued = false;
                gs->answered = false;
                gs->wire_want = false;
                gs->wire_scan = false;
                gs->errmsg[0] = '\0';
                kafka_gstate_describe_reset(gs);
        }
        while ((ev = rd_kafka_queue_poll(st->adminq, 0)) != NULL)
                kafka_on_event(st, ev);
        kafka_issue_list(st);
        kafka_groups_issue(st);
}

static void kafka_groups_wait(struct kafka_state *st, const struct coll_ctx *ctx, int64_t end)
{
        rd_kafka_event_t *ev;

        for (;;) {
                int64_t left = end - clock_mono_ms();

                kafka_groups_issue(st);
                if (st->wire && left > 0 && !coll_stopping(ctx)) {
                        bool want = false;

                        for (size_t i = 0; i < st->n_groups && !want; i++)
                                want = st->groups[i].wire_want;
                        if (want) {
                                kafka_wire_offsets(st, ctx, end);
                                continue;
                        }
                }
                if (!st->reqs || left <= 0 || coll_stopping(ctx))
                        break;
                ev = rd_kafka_queue_poll(st->adminq, (int)kafka_min64(left, 100));
                if (ev)
                        kafka_on_event(st, ev);
                rd_kafka_poll(st->rk, 0);
        }
        while ((ev = rd_kafka_queue_poll(st->adminq, 0)) != NULL)
                kafka_on_event(st, ev);
}

static bool kafka_assigned(const rd_kafka_topic_partition_list_t *l, const char *topic, int32_t p)
{
        int lo = 0, hi = l ? l->cnt - 1 : -1;

        while (lo <= hi) {
                int mid = lo + (hi - lo) / 2, c = strcmp(l->elems[mid].topic, topic);

                if (c == 0)
                        c = (l->elems[mid].partition > p) - (l->elems[mid].partition < p);
                if (c == 0)
                        return true;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid - 1;
        }
        return false;
}

/* d->groups from the group states: every partition of each topic the group
 * has a commit in (committed -1 where it has none, or when its coordinator
 * did not answer this poll). */
static void kafka_groups_build(struct kafka_state *st, const struct kafka_topic *all, size_t n_all,
                               struct kafka_data *d)
{
        size_t *base = xmalloc((n_all + 1) * sizeof *base), total, *tl;
        int64_t *com;
        uint64_t *meta;
        bool *cons;

        base[0] = 0;
        for (size_t t = 0; t < n_all; t++)
                base[t + 1] = base[t] + (size_t)all[t].partitions;
        total = base[n_all];
        com = xmalloc((total ? total : 1) * sizeof *com);
        meta = xcalloc(total ? total : 1, sizeof *meta);
        cons = xcalloc(n_all ? n_all : 1, sizeof *cons);
        tl = xmalloc((n_all ? n_all : 1) * sizeof *tl);
        for (size_t i = 0; i < total; i++)
                com[i] = -1;
        d->groups = xcalloc(st->n_groups ? st->n_groups : 1, sizeof *d->groups);
        for (size_t i = 0; i < st->n_groups; i++) {
                struct kafka_gstate *gs = &st->groups[i];
                struct kafka_group *g = &d->groups[d->n_groups++];
                const struct kafka_topic *t = NULL;
                const char *last = NULL;
                size_t nt = 0, np = 0, k = 0;

                g->name = xstrdup(gs->name);
                g->configured = gs->configured;
                g->offsets_known = gs->answered;
                g->members = gs->described ? gs->members : -1;
                g->state = xstrdup(gs->described ? gs->desc_state : gs->list_state);
                for (size_t c = 0; c < gs->n_commits; c++) {
                        const struct kafka_commit *cm = &gs->commits[c];
                        size_t ti;
                        int pi;

                        if (cm->topic != last) {
                                last = cm->topic;
                                t = kafka_topic_find(all, n_all, cm->topic);
                        }
                        if (!t || (pi = kafka_part_index(t, cm->partition)) < 0)
                                continue;
                        ti = (size_t)(t - all);
                        if (!cons[ti]) {
                                cons[ti] = true;
                                tl[nt++] = ti;
                                np += (size_t)t->partitions;
                        }
                        if (gs->answered) {
                                com[base[ti] + (size_t)pi] = cm->offset;
                                meta[base[ti] + (size_t)pi] = cm->meta_hash;
                        }
                }
                /* Topic indexes follow name order. */
                for (size_t a = 1; a < nt; a++)
                        for (size_t b = a; b > 0 && tl[b - 1] > tl[b]; b--) {
                                size_t x = tl[b];

                                tl[b] = tl[b - 1];
                                tl[b - 1] = x;
                        }
                g->parts = xcalloc(np ? np : 1, sizeof *g->parts);
                for (size_t a = 0; a < nt; a++) {
                        size_t ti = tl[a];

                        for (int p = 0; p < all[ti].partitions; p++) {
                                struct kafka_group_part *gp = &g->parts[k++];
                                size_t gi = base[ti] + (size_t)p;

                                gp->topic = all[ti].name;
                                gp->partition = all[ti].parts[p].id;
                                gp->committed = com[gi];
                                gp->high_watermark = all[ti].parts[p].high_watermark;
                                gp->meta_hash = meta[gi];
                                gp->assigned = gs->described &&
                                               kafka_assigned(gs->assigned, gp->topic, gp->partition);
                                com[gi] = -1;
                                meta[gi] = 0;
                        }
                        cons[ti] = false;
                }
                g->n_parts = k;
        }
        free(base);
        free(com);
        free(meta);
        free(cons);
        free(tl);
}

static int kafka_group_cmp(const void *a, const void *b)
{
        const struct kafka_group *x = a, *y = b;

        if ((x->lag >= 0) != (y->lag >= 0))
                return x->lag >= 0 ? -1 : 1;
        if (x->lag != y->lag)
                return x->lag > y->lag ? -1 : 1;
        return strcmp(x->name, y->name);
}

/* ------------------------------------------------------------------------
 * KRaft quorum over the wire protocol
 */

static void kafka_quorum_ask(struct kafka_state *st, const struct coll_ctx *ctx, int64_t end)
{
        const struct kafka_cfg *c = st->cfg;
        char *list = xstrdup(c->quorum_bootstrap ? c->quorum_bootstrap : c->bootstrap), *save = NULL;
        struct kafka_quorum nq = { 0 };
        struct err e;
        size_t n = 1, i = 0;
        bool ok = false;
        /* Without SASL support, quorum_bootstrap names a listener without SASL. */
        struct kwire_sec sec = st->sec;

        if (!st->sasl_ok) {
                sec.sasl_mechanism = NULL;
                sec.sasl_username = NULL;
                sec.sasl_password = NULL;
        }
        err_clear(&e);
        for (const char *s = list; *s; s++)
                n += *s == ',';
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
                struct kwire_quorum w;
                struct coll_ctx qc = *ctx;
                char host[256];
                int64_t left = end - clock_mono_ms();
                int port;

                if (left <= 0) {
                        if (!e.code)
                                err_set(&e, KWIRE_E_TIMEOUT, "no time left in this poll");
                        break;
                }
                if (kafka_hostport_parse(tok, host, sizeof host, &port, &e) != 0)
                        continue;
                qc.deadline_mono = clock_mono_ms() + left / (int64_t)(n > i ? n - i : 1);
                memset(&w, 0, sizeof w);
                err_clear(&e);
                if (kwire_describe_quorum(host, port, &sec, &qc, &w, &e) == 0) {
                        kafka_quorum_from_wire(&w, clock_wall_ms(), &nq);
                        kwire_quorum_done(&w);
                        ok = true;
                        break;
                }
                kwire_quorum_done(&w);
                if (e.code != KWIRE_E_NET && e.code != KWIRE_E_TIMEOUT)
                        break;
        }
        free(list);
        if (ok) {
                struct kafka_quorum *q = &st->quorum;
                const struct kafka_epoch_change *last;

                last = q->n_history ? &q->history[q->n_history - 1] : NULL;

                memcpy(nq.history, q->history, sizeof nq.history);
                nq.n_history = q->n_history;
                if (!last || last->epoch != nq.leader_epoch || last->leader_id != nq.leader_id) {
                        if (nq.n_history == KAFKA_EPOCH_HIST) {
                                memmove(nq.history, nq.history + 1,
                                        (KAFKA_EPOCH_HIST - 1) * sizeof *nq.history);
                                nq.n_history--;
                        }
                        nq.history[nq.n_history++] = (struct kafka_epoch_change){
                                .at = clock_wall_ms(), .leader_id = nq.leader_id,
                                .epoch = nq.leader_epoch,
                        };
                }
                kafka_quorum_done(q);
                *q = nq;
                st->quorum_next = 0;
                return;
        }
        kafka_quorum_unknown(&st->quorum, e.msg[0] ? e.msg : "no broker to ask");
        st->quorum_next = e.code == KWIRE_E_UNSUPPORTED ? clock_mono_ms() + KAFKA_QUORUM_RETRY_MS : 0;
}

static void kafka_quorum_poll(struct kafka_state *st, const struct coll_ctx *ctx, int64_t end,
                              struct kafka_data *d)
{
        const struct kafka_cfg *c = st->cfg;
        const char *proto = c->security_protocol ? c->security_protocol : "plaintext";

        if (clock_mono_ms() >= st->quorum_next && !coll_stopping(ctx)) {
                if (!c->quorum_bootstrap && st->sasl && !st->sasl_ok) {
                        char why[300];

                        snprintf(why, sizeof why, "%s (security_protocol is %s): set "
                                 "quorum_bootstrap to a listener without SASL", st->sasl_err,
                                 proto);
                        kafka_quorum_unknown(&st->quorum, why);
                        st->quorum_next = clock_mono_ms() + KAFKA_QUORUM_RETRY_MS;
                } else if (st->use_tls && !st->tls) {
                        kafka_quorum_unknown(&st->quorum, st->tls_err);
                        st->quorum_next = clock_mono_ms() + KAFKA_QUORUM_RETRY_MS;
                } else {
                        kafka_quorum_ask(st, ctx, end);
                }
        }
        kafka_quorum_copy(&d->quorum, &st->quorum);
}

/* ------------------------------------------------------------------------
 * The poll
 */

static void kafka_notes(struct kafka_state *st, const struct kafka_pool *pool,
                        const struct coll_ctx *ctx, struct kafka_data *d)
{
        for (size_t i = 0; i < d->n_brokers; i++) {
                const struct kafka_broker *b = &d->brokers[i];
                const struct kafka_job *j = kafka_pool_job(pool, b->id);

                if (!b->in_metadata)
                        health_note(&d->notes, &d->n_notes, 0, 256,
                                    "broker %d (%s:%d) is missing from the cluster metadata",
                                    (int)b->id, b->host, b->port);
                else if (j && b->up == KAFKA_UP_NO)
                        health_note(&d->notes, &d->n_notes, 0, 256,
                                    "broker %d (%s:%d) did not answer within %lld ms: high "
                                    "watermarks of its %d partition%s unknown", (int)b->id, b->host,
                                    b->port, (long long)ctx->timeout_ms, j->list->cnt,
                                    j->list->cnt == 1 ? "" : "s");
                else if (j && j->answered < j->list->cnt)
                        health_note(&d->notes, &d->n_notes, 0, 256,
                                    "broker %d (%s:%d): high watermarks of %d of its %d "
                                    "partitions unknown (%s)", (int)b->id, b->host, b->port,
                                    j->list->cnt - j->answered, j->list->cnt,
                                    rd_kafka_err2str(j->err));
        }
        if (st->list_note[0])
                health_note(&d->notes, &d->n_notes, 0, 256,
                            "%s", st->list_note);
        for (size_t i = 0; i < st->n_groups; i++) {
                const struct kafka_gstate *gs = &st->groups[i];

                if (gs->answered)
                        continue;
                if (gs->errmsg[0])
                        health_note(&d->notes, &d->n_notes, 0, 256,
                                    "group %s: committed offsets unknown: %s", gs->name, gs->errmsg);
                else
                        health_note(&d->notes, &d->n_notes, 0, 256,
                                    "group %s: committed offsets unknown: its coordinator did "
                                    "not answer within %lld ms", gs->name, (long long)ctx->timeout_ms);
        }
        if (!d->quorum.available)
                health_note(&d->notes, &d->n_notes, 0, 256,
                            "quorum unavailable: %s", d->quorum.reason);
}

static enum coll_status kafka_poll(void *state, const struct coll_ctx *ctx, void **out,
                                   struct err *err)
{
        struct kafka_state *st = state;
        int64_t margin = ctx->timeout_ms / 10 < 100 ? ctx->timeout_ms / 10 : 100;
        int64_t end = ctx->deadline_mono - margin, now, max_gap;
        const struct rd_kafka_metadata *md;
        struct kafka_topic *all = NULL;
        struct kafka_batch *batches = NULL;
        struct kafka_pool pool;
        struct kafka_data *d;
        size_t n_all = 0, nb, k = 0;
        int32_t orig_id;
        char *cid;

        *out = NULL;
        if (st->rk && (st->fatal || kafka_reqs_stale(st)))
                kafka_drop(st);
        if (!st->rk && kafka_connect(st, err) != 0)
                return COLL_DOWN;
        rd_kafka_poll(st->rk, 0);
        md = kafka_metadata(st, ctx, end, err);
        if (!md) {
                st->last_error[0] = '\0';
                return COLL_DOWN;
        }
        kafka_wire_setup(st);
        d = xcalloc(1, sizeof *d);
        kafka_topics_from_metadata(md, &all, &n_all, &d->names, &d->n_names);
        if ((cid = rd_kafka_clusterid(st->rk, 0)) != NULL) {
                d->cluster_id = xstrdup(cid);
                rd_kafka_mem_free(st->rk, cid);
        }
        kafka_brokers_build(st, md, all, n_all, d);
        orig_id = md->orig_broker_id;
        rd_kafka_metadata_destroy(md);

        nb = kafka_batches(all, n_all, &batches);
        kafka_pool_start(&pool, st, ctx, end, all, batches, nb);
        st->all = all;
        st->n_all = n_all;
        st->poll_seq++;
        st->rescan_used = false;
        kafka_groups_begin(st);
        kafka_quorum_poll(st, ctx, end, d);
        kafka_racks(st, ctx, end, d);
        kafka_groups_wait(st, ctx, end);
        kafka_wire_wipe(st);
        st->all = NULL;         /* answers after this point wait for the next poll */
        st->n_all = 0;
        kafka_pool_finish(&pool);
        kafka_pool_apply(&pool, all);
        rd_kafka_poll(st->rk, 0);
        kafka_brokers_state(st, &pool, orig_id, d);

        now = st->clock(st->clock_arg);
        max_gap = 3 * st->src->interval_ms > 60000 ? 3 * st->src->interval_ms : 60000;
        kafka_history_topics(st->hist, all, n_all, now);
        kafka_groups_build(st, all, n_all, d);
        kafka_history_groups(st->hist, d->groups, d->n_groups, now, max_gap);
        if (d->n_groups > 1)
                qsort(d->groups, d->n_groups, sizeof *d->groups, kafka_group_cmp);
        d->groups_listed = st->list_support == 1;

        /* Shown topics move into d; the rest go (their names stay in the pool). */
        d->topics = xcalloc(n_all ? n_all : 1, sizeof *d->topics);
        for (size_t i = 0; i < n_all; i++) {
                if (!kafka_filter_match(st->filter, all[i].name)) {
                        kafka_topic_done(&all[i]);
                        continue;
                }
                d->topics[k] = all[i];
                d->n_partitions += (size_t)all[i].partitions;
                d->under_replicated += all[i].under_replicated;
                d->offline += all[i].offline;
                k++;
        }
        d->n_topics = k;
        free(all);

        kafka_notes(st, &pool, ctx, d);
        kafka_pool_free(&pool);
        kafka_batches_free(batches, nb);
        st->last_error[0] = '\0';
        *out = d;
        if (coll_stopping(ctx)) {
                err_set(err, ECANCELED, "stopping");
                return COLL_DEGRADED;
        }
        if (d->n_notes) {
                char msg[sizeof err->msg];
                size_t o = 0;

                msg[0] = '\0';
                for (size_t i = 0; i < d->n_notes && o + 1 < sizeof msg; i++)
                        o += (size_t)snprintf(msg + o, sizeof msg - o, "%s%s", i ? "; " : "",
                                              d->notes[i]);
                err_set(err, EAGAIN, "%s", msg);
                return COLL_DEGRADED;
        }
        return COLL_OK;
}

/* ------------------------------------------------------------------------
 * collector_ops
 */

static int kafka_validate_list(const char *key, const char *list, struct err *err)
{
        char *dup = xstrdup(list), *rest = dup, *tok, host[256];
        int port, r = 0;
        struct err e;

        /* strsep, unlike strtok, shows empty entries ("a:1,,b:2"). */
        while ((tok = strsep(&rest, ",")) != NULL)
                if (kafka_hostport_parse(tok, host, sizeof host, &port, &e) != 0) {
                        err_set(err, EINVAL, "%s: %s", key, e.msg);
                        r = -1;
                        break;
                }
        free(dup);
        return r;
}

static bool kafka_one_of(const char *v, const char *const *set, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcasecmp(v, set[i]) == 0)
                        return true;
        return false;
}

static int kafka_validate(const struct source_cfg *src, struct err *err)
{
        static const char *const protos[] = { "plaintext", "ssl", "sasl_plaintext", "sasl_ssl" };
        static const char *const mechs[] = {
                "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER",
        };
        const struct kafka_cfg *c = src->kind_cfg;
        const char *proto = c->security_protocol ? c->security_protocol : "plaintext";
        bool sasl = strncasecmp(proto, "sasl_", 5) == 0;
        bool tls = strcasecmp(proto, "ssl") == 0 || strcasecmp(proto, "sasl_ssl") == 0;
        struct kafka_filter *f;
        rd_kafka_conf_t *conf;
        int r;

        if (!c->bootstrap || kafka_validate_list("bootstrap", c->bootstrap, err) != 0) {
                if (!c->bootstrap)
                        err_set(err, EINVAL, "bootstrap: expected host:port[,host:port...]");
                return -1;
        }
        if (c->quorum_bootstrap &&
            kafka_validate_list("quorum_bootstrap", c->quorum_bootstrap, err) != 0)
                return -1;
        if (c->quorum_prometheus.name && c->quorum_prometheus.src &&
            c->quorum_prometheus.src->kind &&
            strcmp(c->quorum_prometheus.src->kind, "prometheus") != 0) {
                err_set(err, EINVAL, "quorum_prometheus: source \"%s\" is of kind %s, not prometheus",
                        c->quorum_prometheus.name, c->quorum_prometheus.src->kind);
                return -1;
        }
        if (!kafka_one_of(proto, protos, LO_ARRAY_LEN(protos))) {
                err_set(err, EINVAL, "security_protocol \"%s\" is not one of plaintext, ssl, "
                        "sasl_plaintext, sasl_ssl", proto);
                return -1;
        }
        if (c->sasl_mechanism && !kafka_one_of(c->sasl_mechanism, mechs, LO_ARRAY_LEN(mechs))) {
                err_set(err, EINVAL, "sasl_mechanism \"%s\" is not one of PLAIN, SCRAM-SHA-256, "
                        "SCRAM-SHA-512, GSSAPI, OAUTHBEARER", c->sasl_mechanism);
                return -1;
        }
        if (!sasl && (c->sasl_mechanism || c->sasl_username || c->sasl_password_env ||
                      c->sasl_password_file)) {
                err_set(err, EINVAL, "sasl_* keys need security_protocol sasl_plaintext or sasl_ssl "
                        "(it is %s)", proto);
                return -1;
        }
        if (!tls && (c->ssl_ca_location || c->ssl_certificate_location || c->ssl_key_location ||
                     c->ssl_key_password_env || c->ssl_key_password_file || c->ssl_verify)) {
                err_set(err, EINVAL, "ssl_* keys need security_protocol ssl or sasl_ssl (it is %s)",
                        proto);
                return -1;
        }
        if (c->ssl_verify && strcmp(c->ssl_verify, "true") != 0 && strcmp(c->ssl_verify, "false") != 0) {
                err_set(err, EINVAL, "ssl_verify: expected true or false");
                return -1;
        }
        if (c->lag_window != 0 && (c->lag_window < 2 || c->lag_window > LAG_WINDOW_MAX)) {
                err_set(err, EINVAL, "lag_window: expected 2..%d commits, got %lld", LAG_WINDOW_MAX,
                        (long long)c->lag_window);
                return -1;
        }
        for (size_t i = 0; i < c->groups.n; i++)
                for (size_t j = 0; j < i; j++)
                        if (strcmp(c->groups.v[i], c->groups.v[j]) == 0) {
                                err_set(err, EINVAL, "groups: \"%s\" is listed twice", c->groups.v[i]);
                                return -1;
                        }
        if (!(f = kafka_filter_new(c->topics_include, c->topics_exclude, err)))
                return -1;
        kafka_filter_free(f);
        /* librdkafka's own checks, without reading any secret. */
        conf = rd_kafka_conf_new();
        r = kafka_conf_security(conf, c, false, err);
        rd_kafka_conf_destroy(conf);
        return r;
}

static void *kafka_create(const struct source_cfg *src)
{
        struct kafka_state *st = xcalloc(1, sizeof *st);
        const struct kafka_cfg *c = src->kind_cfg;
        int64_t si = src->interval_ms / 1000 * 1000;

        st->src = src;
        st->cfg = c;
        st->filter = kafka_filter_new(c->topics_include, c->topics_exclude, NULL);
        st->hist = kafka_history_new((int)c->lag_window);
        st->clock = kafka_clock_default;
        st->list_support = -1;
        st->stats_interval_ms = si < 1000 ? 1000 : si > 30000 ? 30000 : si;
        kafka_quorum_unknown(&st->quorum, "not asked yet");
        for (size_t i = 0; i < c->groups.n; i++)
                if (!kafka_gstate_find(st, c->groups.v[i]))
                        kafka_gstate_add(st, c->groups.v[i], true);
        return st;
}

static void kafka_destroy(void *state)
{
        struct kafka_state *st = state;

        if (!st)
                return;
        kafka_drop(st);
        for (size_t i = 0; i < st->n_groups; i++)
                kafka_gstate_done(&st->groups[i]);
        free(st->groups);
        for (size_t i = 0; i < st->n_known; i++)
                free(st->known[i].host);
        free(st->known);
        free(st->known_at);
        kafka_quorum_done(&st->quorum);
        kafka_history_free(st->hist);
        kafka_filter_free(st->filter);
        kwire_tls_free(st->tls);
        kafka_wire_wipe(st);
        for (size_t i = 0; i < st->n_racks; i++)
                free(st->racks[i].rack);
        free(st->racks);
        free(st);
}

static void kafka_data_free_op(void *data)
{
        kafka_data_free(data);
}

/* --- JSON ------------------------------------------------------------------- */

static void kj_str(cJSON *o, const char *k, const char *v)
{
        if (v)
                cJSON_AddStringToObject(o, k, v);
        else
                cJSON_AddNullToObject(o, k);
}

static void kj_i64(cJSON *o, const char *k, int64_t v)
{
        if (v >= 0)
                cJSON_AddNumberToObject(o, k, (double)v);
        else
                cJSON_AddNullToObject(o, k);
}

/* Rounded to 1/scale so the JSON carries no float noise. */
static void kj_num(cJSON *o, const char *k, double v, double scale)
{
        if (isnan(v) || isinf(v))
                cJSON_AddNullToObject(o, k);
        else
                cJSON_AddNumberToObject(o, k, round(v * scale) / scale);
}

static void kj_status(cJSON *o, const char *k, enum lag_status s)
{
        kj_str(o, k, s == LAG_UNKNOWN ? NULL : lag_status_name(s));
}

static cJSON *kj_replicas(const struct kafka_replica *r, size_t n)
{
        cJSON *a = cJSON_CreateArray();

        for (size_t i = 0; i < n; i++) {
                cJSON *o = cJSON_CreateObject();

                cJSON_AddNumberToObject(o, "id", r[i].id);
                kj_i64(o, "log_end_offset", r[i].log_end_offset);
                kj_i64(o, "lag", r[i].lag);
                kj_i64(o, "last_fetch_age_ms", r[i].last_fetch_age_ms);
                kj_i64(o, "last_caught_up_age_ms", r[i].last_caught_up_age_ms);
                cJSON_AddItemToArray(a, o);
        }
        return a;
}

static const char *kafka_dir_name(enum lag_dir d)
{
        return d == LAG_DIR_CATCHING_UP ? "catching_up"
               : d == LAG_DIR_FALLING_BEHIND ? "falling_behind" : "steady";
}

static void kafka_to_json(const void *data, struct cJSON *obj)
{
        const struct kafka_data *d = data;
        const struct kafka_quorum *q = &d->quorum;
        cJSON *arr, *qo, *h;

        kj_str(obj, "cluster_id", d->cluster_id);
        arr = cJSON_AddArrayToObject(obj, "brokers");
        for (size_t i = 0; i < d->n_brokers; i++) {
                const struct kafka_broker *b = &d->brokers[i];
                cJSON *o = cJSON_CreateObject();

                cJSON_AddNumberToObject(o, "id", b->id);
                kj_str(o, "host", b->host);
                cJSON_AddNumberToObject(o, "port", b->port);
                kj_str(o, "rack", b->rack);
                if (b->up < 0)
                        cJSON_AddNullToObject(o, "up");
                else
                        cJSON_AddBoolToObject(o, "up", b->up == KAFKA_UP_YES);
                kj_num(o, "rtt_ms", b->rtt_ms, 100);
                cJSON_AddBoolToObject(o, "in_metadata", b->in_metadata);
                cJSON_AddNumberToObject(o, "leader_partitions", b->leader_for);
                cJSON_AddItemToArray(arr, o);
        }

        qo = cJSON_AddObjectToObject(obj, "quorum");
        cJSON_AddBoolToObject(qo, "available", q->available);
        kj_str(qo, "reason", q->available ? NULL : q->reason);
        kj_i64(qo, "leader_id", q->available ? q->leader_id : -1);
        kj_i64(qo, "leader_epoch", q->available ? q->leader_epoch : -1);
        kj_i64(qo, "high_watermark", q->available ? q->high_watermark : -1);
        if (q->available) {
                cJSON_AddItemToObject(qo, "voters", kj_replicas(q->voters, q->n_voters));
                cJSON_AddItemToObject(qo, "observers", kj_replicas(q->observers, q->n_observers));
        } else {
                cJSON_AddNullToObject(qo, "voters");
                cJSON_AddNullToObject(qo, "observers");
        }
        h = cJSON_AddArrayToObject(qo, "epoch_changes");
        for (size_t i = 0; i < q->n_history; i++) {
                cJSON *o = cJSON_CreateObject();
                char ts[40];

                fmt_rfc3339(q->history[i].at, ts, sizeof ts);
                cJSON_AddStringToObject(o, "at", ts);
                kj_i64(o, "leader_id", q->history[i].leader_id);
                kj_i64(o, "leader_epoch", q->history[i].epoch);
                cJSON_AddItemToArray(h, o);
        }

        arr = cJSON_AddArrayToObject(obj, "topics");
        for (size_t i = 0; i < d->n_topics; i++) {
                const struct kafka_topic *t = &d->topics[i];
                cJSON *o = cJSON_CreateObject();

                cJSON_AddStringToObject(o, "name", t->name);
                cJSON_AddNumberToObject(o, "partitions", t->partitions);
                kj_i64(o, "replication_factor", t->partitions ? t->replication_factor : -1);
                cJSON_AddNumberToObject(o, "under_replicated", t->under_replicated);
                cJSON_AddNumberToObject(o, "offline", t->offline);
                kj_num(o, "messages_per_sec", t->messages_per_sec, 10);
                cJSON_AddNumberToObject(o, "isr_shrinks", t->isr_shrinks);
                cJSON_AddNumberToObject(o, "high_watermarks_unknown", t->hwm_unknown);
                cJSON_AddItemToArray(arr, o);
        }

        arr = cJSON_AddArrayToObject(obj, "groups");
        for (size_t i = 0; i < d->n_groups; i++) {
                const struct kafka_group *g = &d->groups[i];
                cJSON *o = cJSON_CreateObject(), *pa;
                bool trend = g->lag_hist.n >= 2;

                cJSON_AddStringToObject(o, "name", g->name);
                kj_str(o, "state", g->state);
                kj_status(o, "status", g->status);
                kj_i64(o, "lag", g->lag);
                kj_num(o, "lag_seconds", g->lag_seconds, 1000);
                kj_status(o, "worst_partition_status", g->worst);
                kj_i64(o, "members", g->members);
                cJSON_AddBoolToObject(o, "configured", g->configured);
                cJSON_AddBoolToObject(o, "offsets_known", g->offsets_known);
                kj_str(o, "trend", trend ? kafka_dir_name(g->trend.dir) : NULL);
                kj_num(o, "lag_rate", trend ? g->trend.rate : NAN, 10);
                kj_num(o, "eta_s", trend ? g->trend.eta_s : NAN, 1);
                pa = cJSON_AddArrayToObject(o, "partitions");
                for (size_t j = 0; j < g->n_parts; j++) {
                        const struct kafka_group_part *p = &g->parts[j];
                        cJSON *po = cJSON_CreateObject();

                        cJSON_AddStringToObject(po, "topic", p->topic);
                        cJSON_AddNumberToObject(po, "partition", p->partition);
                        kj_i64(po, "committed", p->committed);
                        kj_i64(po, "high_watermark", p->high_watermark);
                        kj_i64(po, "lag", p->lag);
                        kj_num(po, "lag_seconds", p->lag_seconds, 1000);
                        kj_status(po, "status", p->status);
                        cJSON_AddItemToArray(pa, po);
                }
                cJSON_AddItemToArray(arr, o);
        }
        cJSON_AddBoolToObject(obj, "groups_listed", d->groups_listed);

        arr = cJSON_AddArrayToObject(obj, "notes");
        for (size_t i = 0; i < d->n_notes; i++)
                cJSON_AddItemToArray(arr, cJSON_CreateString(d->notes[i]));
}

/* --- alerts, key metric, summary ----------------------------------------- */

static const char *kafka_status_why(enum lag_status s)
{
        switch (s) {
        case LAG_STOP:
                return "no commits for longer than its window spans while lag stays";
        case LAG_STALL:
                return "commits the same offset while lag stays or grows";
        case LAG_REWIND:
                return "its committed offset went backwards";
        case LAG_WARN:
                return "lag grew across the whole window";
        default:
                return "";
        }
}

static void kafka_alerts(const struct source_cfg *src, const void *data, struct alert_list *out)
{
        const struct kafka_data *d = data;
        char what[192], subj[64];

        for (size_t i = 0; i < d->n_brokers; i++) {
                const struct kafka_broker *b = &d->brokers[i];

                if (b->up != KAFKA_UP_NO)
                        continue;
                snprintf(subj, sizeof subj, "broker %d", (int)b->id);
                health_add(out, SEV_CRIT, src, "broker", subj, NAN, NAN,
                           b->in_metadata ? "broker %d (%s:%d) is not answering"
                                          : "broker %d (%s:%d) left the cluster metadata",
                           (int)b->id, b->host, b->port);
        }
        for (size_t i = 0; i < d->n_topics; i++) {
                const struct kafka_topic *t = &d->topics[i];

                if (t->under_replicated) {
                        snprintf(what, sizeof what, "topic %s under-replicated partitions", t->name);
                        health_check(out, src, "under_replicated", t->name, t->under_replicated, what);
                }
                if (t->offline) {
                        snprintf(what, sizeof what, "topic %s offline partitions", t->name);
                        health_check(out, src, "offline", t->name, t->offline, what);
                }
        }
        for (size_t i = 0; i < d->n_groups; i++) {
                const struct kafka_group *g = &d->groups[i];

                if (g->lag >= 0) {
                        snprintf(what, sizeof what, "group %s lag", g->name);
                        health_check(out, src, "group_lag", g->name, (double)g->lag, what);
                }
                if (!isnan(g->lag_seconds)) {
                        snprintf(what, sizeof what, "group %s lag seconds", g->name);
                        health_check(out, src, "group_lag_seconds", g->name, g->lag_seconds, what);
                }
                if (kafka_status_is_err(g->worst) || g->worst == LAG_WARN) {
                        const struct kafka_group_part *w = NULL;

                        for (size_t j = 0; j < g->n_parts && !w; j++)
                                if (g->parts[j].status == g->worst)
                                        w = &g->parts[j];
                        health_add(out, g->worst == LAG_WARN ? SEV_WARN : SEV_CRIT, src,
                                   "group_status", g->name, NAN, NAN,
                                   "group %s %s: %s[%d] %s (lag %lld)", g->name,
                                   lag_status_name(g->worst), w ? w->topic : "?",
                                   w ? (int)w->partition : -1, kafka_status_why(g->worst),
                                   w ? (long long)w->lag : -1LL);
                }
        }
        if (d->quorum.available) {
                const struct kafka_quorum *q = &d->quorum;

                for (int pass = 0; pass < 2; pass++) {
                        const struct kafka_replica *r = pass ? q->observers : q->voters;
                        size_t n = pass ? q->n_observers : q->n_voters;

                        for (size_t i = 0; i < n; i++) {
                                if (r[i].lag < 0 || r[i].id == q->leader_id)
                                        continue;
                                snprintf(subj, sizeof subj, "%s %d", pass ? "observer" : "voter",
                                         (int)r[i].id);
                                snprintf(what, sizeof what, "quorum %s lag", subj);
                                health_check(out, src, "quorum_follower_lag", subj,
                                             (double)r[i].lag, what);
                        }
                }
        }
}

static double kafka_key_metric(const void *data)
{
        const struct kafka_data *d = data;
        double m = NAN;

        for (size_t i = 0; i < d->n_groups; i++)
                if (d->groups[i].lag >= 0 && (isnan(m) || (double)d->groups[i].lag > m))
                        m = (double)d->groups[i].lag;
        return m;
}

static void kafka_summary(const void *data, char *buf, size_t n)
{
        static const enum lag_status order[] = { LAG_STOP, LAG_STALL, LAG_REWIND, LAG_WARN };
        const struct kafka_data *d = data;
        size_t o, down = 0, cnt[LO_ARRAY_LEN(order)] = { 0 };
        bool first = true;

        for (size_t i = 0; i < d->n_brokers; i++)
                down += d->brokers[i].up == KAFKA_UP_NO;
        for (size_t i = 0; i < d->n_groups; i++)
                for (size_t k = 0; k < LO_ARRAY_LEN(order); k++)
                        cnt[k] += d->groups[i].worst == order[k];
        o = (size_t)snprintf(buf, n, "%zu broker%s", d->n_brokers, d->n_brokers == 1 ? "" : "s");
        if (down && o < n)
                o += (size_t)snprintf(buf + o, n - o, " (%zu down)", down);
        if (o < n)
                o += (size_t)snprintf(buf + o, n - o, ", %zu topic%s, %zu group%s", d->n_topics,
                                      d->n_topics == 1 ? "" : "s", d->n_groups,
                                      d->n_groups == 1 ? "" : "s");
        for (size_t k = 0; k < LO_ARRAY_LEN(order) && o < n; k++) {
                if (!cnt[k])
                        continue;
                o += (size_t)snprintf(buf + o, n - o, "%s%zu %s", first ? " (" : ", ", cnt[k],
                                      lag_status_name(order[k]));
                first = false;
        }
        if (!first && o < n)
                o += (size_t)snprintf(buf + o, n - o, ")");
        if (o < n) {
                if (d->quorum.available)
                        snprintf(buf + o, n - o, ", quorum leader %d epoch %d",
                                 (int)d->quorum.leader_id, (int)d->quorum.leader_epoch);
                else
                        snprintf(buf + o, n - o, ", quorum n/a");
        }
}

const struct collector_ops coll_kafka_ops = {
        .name = "kafka",
        .title = "Kafka",
        .default_interval_ms = 5000,
        .default_timeout_ms = 3000,
        .keys = kafka_keys,
        .cfg_size = sizeof(struct kafka_cfg),
        .thresholds = kafka_thresholds,
        .validate = kafka_validate,
        .create = kafka_create,
        .destroy = kafka_destroy,
        .poll = kafka_poll,
        .data_free = kafka_data_free_op,
        .to_json = kafka_to_json,
        .alerts = kafka_alerts,
        .key_metric = kafka_key_metric,
        .summary = kafka_summary,
        .key_metric_name = "worst group lag",
        .key_metric_unit = THR_COUNT,
};
