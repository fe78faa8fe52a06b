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
 *      per group (kafka_offsets_from_wire); otherwise (other SASL mechanisms) from
 *      ListConsumerGroupOffsets
 *      in requests of at most 128 partitions, at most 32 offsets requests
 *      of all groups in flight at once;
 *   4. the KRaft quorum over the Kafka wire protocol (kafka_wire.h,
 *      DescribeQuorum), plaintext or TLS (ssl, sasl_ssl), SASL PLAIN only:
 *      `quorum_bootstrap` or each bootstrap broker in turn. Unsupported (ZooKeeper mode,
                                                                          old brokers,
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
#include "core/redact.h"
#include "core/secret.h"
#include "clients/kafka/kafka_wire.h"
#include "collectors/kafka/lag_eval.h"
#include "core/ring.h"
#include "core/util.h"
#include "collectors/kafka/kafka_int.h"

static const struct cfg_key kafka_keys[] = {
        { "bootstrap",          CFG_STR,        offsetof(struct kafka_cfg,
                                                         bootstrap),          true,
          "brokers to start from: host:port, comma-separated" },
        { "security_protocol",  CFG_STR,        offsetof(struct kafka_cfg,
                                                         security_protocol),  false,
          "plaintext (default), ssl, sasl_plaintext or sasl_ssl" },
        { "sasl_mechanism",     CFG_STR,        offsetof(struct kafka_cfg,
                                                         sasl_mechanism),     false,
          "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI or OAUTHBEARER" },
        { "sasl_username",      CFG_STR,        offsetof(struct kafka_cfg,
                                                         sasl_username),      false,
          "SASL user name" },
        { "sasl_password_env",  CFG_SECRET_REF, offsetof(struct kafka_cfg,
                                                         sasl_password_env),  false,
          "name of an environment variable holding the SASL password" },
        { "sasl_password_file", CFG_SECRET_REF, offsetof(struct kafka_cfg,
                                                         sasl_password_file), false,
          "path of a file holding the SASL password" },
        { "ssl_ca_location",    CFG_PATH,       offsetof(struct kafka_cfg,
                                                         ssl_ca_location),    false,
          "CA certificate file or directory for verifying the brokers" },
        { "ssl_certificate_location", CFG_PATH,
          offsetof(struct kafka_cfg, ssl_certificate_location), false,
          "client certificate (PEM) for mutual TLS" },
        { "ssl_key_location",   CFG_PATH,       offsetof(struct kafka_cfg,
                                                         ssl_key_location),   false,
          "client private key (PEM) for mutual TLS" },
        { "ssl_key_password_env",  CFG_SECRET_REF,
          offsetof(struct kafka_cfg, ssl_key_password_env), false,
          "name of an environment variable holding the client key's password" },
        { "ssl_key_password_file", CFG_SECRET_REF,
          offsetof(struct kafka_cfg, ssl_key_password_file), false,
          "path of a file holding the client key's password" },
        { "ssl_verify",         CFG_STR,        offsetof(struct kafka_cfg,
                                                         ssl_verify),         false,
          "true (default) or false: verify the brokers' certificates" },
        { "groups",             CFG_STRLIST,    offsetof(struct kafka_cfg,
                                                         groups),             false,
          "consumer groups always watched (others are discovered when the brokers allow it)" },
        { "topics_include",     CFG_STR,        offsetof(struct kafka_cfg,
                                                         topics_include),     false,
          "POSIX extended regex: show only matching topics (default: all)" },
        { "topics_exclude",     CFG_STR,        offsetof(struct kafka_cfg,
                                                         topics_exclude),     false,
          "POSIX extended regex: hide matching topics (default: ^__, the internal ones)" },
        { "quorum_bootstrap",   CFG_STR,        offsetof(struct kafka_cfg,
                                                         quorum_bootstrap),   false,
          "host:port for DescribeQuorum: TLS with ssl/sasl_ssl, SASL PLAIN only, else a "
          "listener without SASL (default: the bootstrap brokers)" },
        { "lag_window",         CFG_INT,        offsetof(struct kafka_cfg,
                                                         lag_window),         false,
          "commits per partition in the lag status window, 2..16 (default 10)" },
        { "quorum_prometheus",  CFG_SOURCE,     offsetof(struct kafka_cfg,
                                                         quorum_prometheus),  false,
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

int64_t kafka_min64(int64_t a, int64_t b)
{
        return a < b ? a : b;
}

uint64_t kafka_hash(const char *s, size_t n)
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
double kafka_mono_msf(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void kafka_pause_ms(int64_t ms)
{
        struct timespec ts;

        if (ms <= 0)
                return;
        ts.tv_sec = (time_t)(ms / 1000);
        ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

void *kafka_map_get(const struct kafka_map *m, const char *key)
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
void kafka_map_put(struct kafka_map *m, char *key, void *val)
{
        size_t i;

        if (2 * (m->n + 1) > m->cap) {
                struct kafka_map old = *m;

                m->cap = old.cap ? 2 * old.cap : 16;
                m->v = xcalloc(m->cap, sizeof *m->v);
                m->n = 0;
                for (size_t j = 0; j < old.cap; j++)
                        if (old.v[j].key)
                                kafka_map_put(m, old.v[j].key, old.v[j].val);
                free(old.v);
        }
        for (i = kafka_hash(key,
                            strlen(key)) & (m->cap - 1); m->v[i].key; i = (i + 1) & (m->cap - 1))
                ;
        m->v[i].key = key;
        m->v[i].val = val;
        m->n++;
}

/* Frees keys; values through fn (may be NULL). */
void kafka_map_done(struct kafka_map *m, void (*fn)(void *))
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
void kafka_map_filter(struct kafka_map *m, bool (*keep)(void *val, void *arg), void *arg,
                      void (*fn)(void *))
{
        struct kafka_map nm = { 0 };

        for (size_t i = 0; i < m->cap; i++) {
                if (!m->v[i].key)
                        continue;
                if (keep(m->v[i].val, arg)) {
                        kafka_map_put(&nm, m->v[i].key, m->v[i].val);
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
 * Collector state (collector thread only)
 */


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

/* A librdkafka or broker error text may quote the SASL password or the
 * client key's password (a broker's SaslAuthenticate error_message is the
 * broker's own words): both, the Basic-style base64 forms and credentials
 * by shape become "***" in buf (capacity n). The secrets are read again for
 * this (they are never kept); only error paths, at most once a poll, call
 * this. Which secret a failed read was is not reported here: the poll that
 * needs it says so. */
static void kafka_redact(const struct kafka_cfg *c, char *buf, size_t n)
{
        struct redact_keys k = { .user = c->sasl_username };
        char *sasl_pw, *key_pw;
        struct err e;

        err_clear(&e);
        sasl_pw = config_secret_resolve(c->sasl_password_env, c->sasl_password_file, &e);
        err_clear(&e);
        key_pw = config_secret_resolve(c->ssl_key_password_env, c->ssl_key_password_file, &e);
        k.password = sasl_pw;
        k.extra = key_pw;
        redact_text(buf, n, &k);
        secret_free(sasl_pw);
        secret_free(key_pw);
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
                struct kafka_wire_tls_cfg tc = {
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
                        struct redact_keys k = { .extra = pw };

                        tc.key_password = pw;
                        st->tls = kafka_wire_tls_new(&tc, &e);
                        if (!st->tls) {
                                str_copy(st->tls_err, e.msg, sizeof st->tls_err);
                                redact_text(st->tls_err, sizeof st->tls_err, &k);
                        }
                }
                secret_free(pw);
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
        secret_free(st->sasl_pw);
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
        /* By shape here (this runs for every reconnect); the secrets
         * themselves when the poll makes an error of it (kafka_poll). */
        redact_patterns(st->last_error, sizeof st->last_error);
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
        if (r != 0) {
                struct redact_keys rk = { .extra = s };

                redact_text(err->msg, sizeof err->msg, &rk);
        }
        secret_free(s);
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
                kafka_redact(st->cfg, err->msg, sizeof err->msg);
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

void kafka_chunk_free(struct kafka_chunk *c)
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
void kafka_drop(struct kafka_state *st)
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
        struct kafka_wire_sec sec = st->sec;

        if (!st->sasl_ok) {
                sec.sasl_mechanism = NULL;
                sec.sasl_username = NULL;
                sec.sasl_password = NULL;
        }
        err_clear(&e);
        for (const char *s = list; *s; s++)
                n += *s == ',';
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
                struct kafka_wire_quorum w;
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
                if (kafka_wire_describe_quorum(host, port, &sec, &qc, &w, &e) == 0) {
                        kafka_quorum_from_wire(&w, clock_wall_ms(), &nq);
                        kafka_wire_quorum_done(&w);
                        ok = true;
                        break;
                }
                kafka_wire_quorum_done(&w);
                if (e.code != KWIRE_E_NET && e.code != KWIRE_E_TIMEOUT)
                        break;
        }
        free(list);
        if (!ok) {
                /* A SaslAuthenticate error_message is the broker's text. */
                struct redact_keys k = { .user = sec.sasl_username,
                                         .password = sec.sasl_password };

                redact_text(e.msg, sizeof e.msg, &k);
        }
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
                                    "group %s: committed offsets unknown: %s", gs->name,
                                    gs->errmsg);
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
                kafka_redact(st->cfg, err->msg, sizeof err->msg);
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
                err_set(err, EINVAL,
                        "quorum_prometheus: source \"%s\" is of kind %s, not prometheus",
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
                err_set(err, EINVAL,
                        "sasl_* keys need security_protocol sasl_plaintext or sasl_ssl "
                        "(it is %s)", proto);
                return -1;
        }
        if (!tls && (c->ssl_ca_location || c->ssl_certificate_location || c->ssl_key_location ||
                     c->ssl_key_password_env || c->ssl_key_password_file || c->ssl_verify)) {
                err_set(err, EINVAL, "ssl_* keys need security_protocol ssl or sasl_ssl (it is %s)",
                        proto);
                return -1;
        }
        if (c->ssl_verify && strcmp(c->ssl_verify, "true") != 0 && strcmp(c->ssl_verify,
                                                                          "false") != 0) {
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
                                err_set(err, EINVAL, "groups: \"%s\" is listed twice",
                                        c->groups.v[i]);
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
        kafka_wire_tls_free(st->tls);
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
        .metrics = kafka_metrics,
};
