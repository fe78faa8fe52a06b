/*
 * Unit tests for the Kafka collector's pure parts: broker addresses, the
 * librdkafka statistics JSON (fixtures in tests/fixtures/kafka_coll:
 * stats_mock.json was captured from librdkafka 2.0.2 against its mock
 * cluster, then broker 3 was edited to DOWN and a bootstrap-only entry
 * added), partition -> leader batches, topics from hand-built metadata,
 * topic filters, the DescribeQuorum conversion, the history (ISR shrink,
 * messages/s, Burrow statuses with every kind of commit evidence, lag in
 * seconds, sparklines, trend), JSON output on a hand-built kafka_data
 * against data.json, alert rules at the threshold limits, key metric,
 * summary and config validation. No broker.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>

#include "core/snapshot.h"
#include "core/promtext.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "collectors/kafka/kafka.h"
#include "clients/kafka/kafka_wire.h"
#include "collectors/kafka/lag_eval.h"
#include "tu.h"
#include "core/util.h"
#include "tu_promtool.h"

static char *fixture(const char *name, size_t *len)
{
        char rel[256];
        char *buf;

        snprintf(rel, sizeof rel, "tests/fixtures/kafka_coll/%s", name);
        buf = tu_read_file(tu_src_path(rel), len);
        if (!buf)
                fail_msg("cannot read %s", rel);
        return buf;
}

static struct config *load(const char *extra, struct err *err)
{
        char *yaml = xasprintf("sources:\n"
                               "  - name: kc\n"
                               "    kind: kafka\n"
                               "%s", extra);
        struct config *c = config_load_string(yaml, strlen(yaml), "<t>", err);

        free(yaml);
        return c;
}

static struct config *load_ok(const char *extra)
{
        struct err err;
        struct config *c = load(extra, &err);

        if (!c)
                fail_msg("config: %s", err.msg);
        return c;
}

/* ---- addresses ------------------------------------------------------------ */

static void test_hostport(void **state)
{
        static const char *const bad[] = {
                "", "host", ":9092", "h:0", "h:70000", "h:12x", "::1:9092", "[::1]9092", "h:",
        };
        char host[64];
        int port;
        struct err err;

        (void)state;
        assert_int_equal(kafka_hostport_parse("127.0.0.1:9092", host, sizeof host, &port, &err), 0);
        assert_string_equal(host, "127.0.0.1");
        assert_int_equal(port, 9092);
        assert_int_equal(kafka_hostport_parse(" kafka-0.kafka.svc:19092 ", host, sizeof host, &port,
                                              &err), 0);
        assert_string_equal(host, "kafka-0.kafka.svc");
        assert_int_equal(port, 19092);
        assert_int_equal(kafka_hostport_parse("[::1]:9093", host, sizeof host, &port, &err), 0);
        assert_string_equal(host, "::1");
        assert_int_equal(port, 9093);
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                err_clear(&err);
                if (kafka_hostport_parse(bad[i], host, sizeof host, &port, &err) == 0)
                        fail_msg("\"%s\" parsed", bad[i]);
                assert_true(err.msg[0] != '\0');
        }
        assert_int_equal(kafka_hostport_parse(NULL, host, sizeof host, &port, &err), -1);
        /* The host must fit. */
        assert_int_equal(kafka_hostport_parse("abcdefgh:1", host, 8, &port, &err), -1);
}

/* ---- statistics JSON ------------------------------------------------------ */

static void test_stats_fixture(void **state)
{
        struct kafka_bstat *v;
        struct err err;
        size_t n, len;
        char *js = fixture("stats_mock.json", &len);

        (void)state;
        assert_int_equal(kafka_stats_parse(js, len, &v, &n, &err), 0);
        /* The bootstrap-only entry (nodeid -1) is skipped; sorted by id. */
        assert_int_equal(n, 3);
        assert_int_equal(v[0].id, 1);
        assert_int_equal(v[1].id, 2);
        assert_int_equal(v[2].id, 3);
        assert_string_equal(v[0].state, "UP");
        assert_true(fabs(v[0].rtt_ms - 0.093) < 1e-9);  /* rtt.avg is in microseconds */
        assert_true(fabs(v[1].rtt_ms - 0.073) < 1e-9);
        assert_int_equal(v[0].connects, 1);
        assert_string_equal(v[2].state, "DOWN");
        assert_true(isnan(v[2].rtt_ms));                /* no requests in the window */
        assert_int_equal(v[2].disconnects, 1);
        free(v);
        free(js);
}

static void test_stats_bad(void **state)
{
        struct kafka_bstat *v = (void *)1;
        struct err err;
        size_t n = 7, len;
        char *js;

        (void)state;
        js = fixture("stats_truncated.json", &len);
        assert_int_equal(kafka_stats_parse(js, len, &v, &n, &err), -1);
        assert_null(v);
        assert_int_equal(n, 0);
        assert_string_equal(err.msg, "statistics: not JSON");
        free(js);
        js = fixture("stats_no_brokers.json", &len);
        assert_int_equal(kafka_stats_parse(js, len, &v, &n, &err), -1);
        assert_string_equal(err.msg, "statistics: no \"brokers\" object");
        free(js);
        /* Deeper than cJSON's 1000 levels: said so, not "not JSON". */
        js = xmalloc(4001);
        memset(js, '[', 2000);
        memset(js + 2000, ']', 2000);
        js[4000] = '\0';
        assert_int_equal(kafka_stats_parse(js, 4000, &v, &n, &err), -1);
        assert_string_equal(err.msg, "statistics: JSON nested deeper than 1000 levels");
        free(js);
        /* Brokers of the wrong shape are skipped, not fatal. */
        js = xstrdup("{\"brokers\":{\"a\":1,\"b\":{\"nodeid\":\"x\"},\"c\":{\"nodeid\":4,"
                     "\"state\":\"UP\",\"rtt\":{\"avg\":2500,\"cnt\":3}}}}");
        assert_int_equal(kafka_stats_parse(js, strlen(js), &v, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(v[0].id, 4);
        assert_true(v[0].rtt_ms == 2.5);
        free(v);
        free(js);
}

/* ---- leader batches ---------------------------------------------------------- */

static void make_topic(struct kafka_topic *t, const char *name, const int32_t *leaders, int n)
{
        memset(t, 0, sizeof *t);
        t->name = name;
        t->partitions = n;
        t->messages_per_sec = NAN;
        t->parts = xcalloc((size_t)n, sizeof *t->parts);
        for (int i = 0; i < n; i++) {
                t->parts[i].id = i;
                t->parts[i].leader = leaders[i];
                t->parts[i].replicas = 3;
                t->parts[i].isr = 3;
                t->parts[i].high_watermark = -1;
        }
}

static void test_batches(void **state)
{
        static const int32_t l0[] = { 1, 2, -1, 1 }, l1[] = { 3, 1 };
        struct kafka_topic t[2];
        struct kafka_batch *b;
        size_t n;

        (void)state;
        make_topic(&t[0], "a", l0, 4);
        make_topic(&t[1], "b", l1, 2);
        n = kafka_batches(t, 2, &b);
        assert_int_equal(n, 3);
        assert_int_equal(b[0].leader, 1);
        assert_int_equal(b[0].n, 3);
        assert_int_equal(b[0].topic[0], 0);
        assert_int_equal(b[0].part[0], 0);
        assert_int_equal(b[0].topic[1], 0);
        assert_int_equal(b[0].part[1], 3);
        assert_int_equal(b[0].topic[2], 1);
        assert_int_equal(b[0].part[2], 1);
        assert_int_equal(b[1].leader, 2);
        assert_int_equal(b[1].n, 1);
        assert_int_equal(b[1].part[0], 1);
        assert_int_equal(b[2].leader, 3);
        assert_int_equal(b[2].n, 1);
        assert_int_equal(b[2].topic[0], 1);
        assert_int_equal(b[2].part[0], 0);
        kafka_batches_free(b, n);
        /* Nothing with a leader: no batches. */
        t[0].parts[0].leader = t[0].parts[1].leader = t[0].parts[3].leader = -1;
        assert_int_equal(kafka_batches(t, 1, &b), 0);
        assert_null(b);
        assert_int_equal(kafka_batches(NULL, 0, &b), 0);
        kafka_topic_done(&t[0]);
        kafka_topic_done(&t[1]);
}

/* ---- metadata ----------------------------------------------------------------- */

static void test_topics_from_metadata(void **state)
{
        int32_t r3[] = { 1, 2, 3 }, isr2[] = { 2, 3 };
        rd_kafka_metadata_partition_t zp[] = {
                /* id, err, leader, replica_cnt, replicas, isr_cnt, isrs */
                { 1, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, -1, 3, r3, 0, NULL },
                { 0, RD_KAFKA_RESP_ERR_NO_ERROR, 2, 3, r3, 2, isr2 },
        };
        rd_kafka_metadata_partition_t ap[] = {
                { 0, RD_KAFKA_RESP_ERR_NO_ERROR, 1, 3, r3, 3, r3 },
        };
        rd_kafka_metadata_topic_t mt[] = {
                { "zeta", 2, zp, RD_KAFKA_RESP_ERR_NO_ERROR },
                { "alpha", 1, ap, RD_KAFKA_RESP_ERR_NO_ERROR },
                { "creating", 0, NULL, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE },
        };
        struct rd_kafka_metadata md = { 0, NULL, 3, mt, 1, NULL };
        struct kafka_topic *t;
        char **names;
        size_t n, nn;

        (void)state;
        kafka_topics_from_metadata(&md, &t, &n, &names, &nn);
        assert_int_equal(n, 3);
        assert_int_equal(nn, 3);
        assert_string_equal(t[0].name, "alpha");
        assert_string_equal(t[1].name, "creating");
        assert_string_equal(t[2].name, "zeta");
        assert_ptr_equal(t[2].name, names[2]);          /* borrowed from the pool */
        assert_int_equal(t[0].under_replicated, 0);
        assert_int_equal(t[0].offline, 0);
        assert_int_equal(t[0].replication_factor, 3);
        assert_int_equal(t[1].partitions, 0);
        assert_int_equal(t[1].replication_factor, 0);
        assert_int_equal(t[2].partitions, 2);
        assert_int_equal(t[2].under_replicated, 2);
        assert_int_equal(t[2].offline, 1);
        assert_int_equal(t[2].parts[0].id, 0);          /* sorted by id */
        assert_int_equal(t[2].parts[0].leader, 2);
        assert_int_equal(t[2].parts[0].isr, 2);
        assert_int_equal(t[2].parts[1].id, 1);
        assert_int_equal(t[2].parts[1].leader, -1);
        assert_int_equal(t[2].parts[1].high_watermark, -1);
        assert_true(isnan(t[2].messages_per_sec));
        for (size_t i = 0; i < n; i++) {
                kafka_topic_done(&t[i]);
                free(names[i]);
        }
        free(t);
        free(names);
}

/* ---- filters ------------------------------------------------------------------- */

static void test_filter(void **state)
{
        struct kafka_filter *f;
        struct err err;

        (void)state;
        f = kafka_filter_new(NULL, NULL, &err);
        assert_true(kafka_filter_match(f, "orders"));
        assert_false(kafka_filter_match(f, "__consumer_offsets"));
        assert_true(kafka_filter_match(f, "_single"));
        kafka_filter_free(f);
        f = kafka_filter_new("^(orders|payments)\\.", "\\.dlq$", &err);
        assert_true(kafka_filter_match(f, "orders.v1"));
        assert_false(kafka_filter_match(f, "orders.v1.dlq"));
        assert_false(kafka_filter_match(f, "audit.v1"));
        assert_true(kafka_filter_match(f, "payments.__x"));     /* own exclude replaces ^__ */
        kafka_filter_free(f);
        assert_null(kafka_filter_new("(", NULL, &err));
        assert_non_null(strstr(err.msg, "topics_include: bad regular expression: "));
        assert_null(kafka_filter_new(NULL, "a[", &err));
        assert_non_null(strstr(err.msg, "topics_exclude: bad regular expression: "));
        assert_true(kafka_filter_match(NULL, "__anything"));
        kafka_filter_free(NULL);
}

/* ---- quorum ------------------------------------------------------------------------ */

static void test_quorum_from_wire(void **state)
{
        /* The tests' example quorum, v1. */
        struct kafka_wire_replica voters[] = {
                { .id = 3000, .log_end_offset = 482113, .last_fetch_ms = -1,
                  .last_caught_up_ms = 1714557600123 },
                { .id = 3001, .log_end_offset = 482113, .last_fetch_ms = 1714557600050,
                  .last_caught_up_ms = 1714557600050 },
                { .id = 3002, .log_end_offset = 481990, .last_fetch_ms = 1714557598000,
                  .last_caught_up_ms = 1714557590000 },
        };
        struct kafka_wire_replica observers[] = {
                { .id = 0, .log_end_offset = -1, .last_fetch_ms = 1714557600070,
                  .last_caught_up_ms = 1714557700000 },
        };
        struct kafka_wire_quorum w = {
                .version = 1, .has_partition = true, .leader_id = 3000, .leader_epoch = 12,
                .high_watermark = 482113, .voters = voters, .n_voters = 3,
                .observers = observers, .n_observers = 1,
        };
        struct kafka_quorum q = { 0 };

        (void)state;
        kafka_quorum_from_wire(&w, 1714557600200, &q);
        assert_true(q.available);
        assert_string_equal(q.reason, "");
        assert_int_equal(q.leader_id, 3000);
        assert_int_equal(q.leader_epoch, 12);
        assert_int_equal(q.high_watermark, 482113);
        assert_int_equal(q.n_voters, 3);
        assert_int_equal(q.voters[0].lag, 0);
        assert_int_equal(q.voters[0].last_fetch_age_ms, -1);   /* the leader reports -1 */
        assert_int_equal(q.voters[0].last_caught_up_age_ms, 77);
        assert_int_equal(q.voters[1].lag, 0);
        assert_int_equal(q.voters[1].last_fetch_age_ms, 150);
        assert_int_equal(q.voters[2].lag, 123);
        assert_int_equal(q.voters[2].last_fetch_age_ms, 2200);
        assert_int_equal(q.voters[2].last_caught_up_age_ms, 10200);
        assert_int_equal(q.n_observers, 1);
        assert_int_equal(q.observers[0].log_end_offset, -1);
        assert_int_equal(q.observers[0].lag, -1);
        assert_int_equal(q.observers[0].last_caught_up_age_ms, 0);     /* clock skew: not < 0 */
        /* No leader among the voters: lags unknown. */
        w.leader_id = -1;
        kafka_quorum_from_wire(&w, 1714557600200, &q);
        assert_int_equal(q.leader_id, -1);
        assert_int_equal(q.voters[2].lag, -1);
        kafka_quorum_done(&q);
        assert_null(q.voters);
}

/* ---- history -------------------------------------------------------------------------- */

static void test_history_topics(void **state)
{
        static const int32_t l[] = { 1, 2, 3 };
        struct kafka_history *h = kafka_history_new(0);
        struct kafka_topic t;

        (void)state;
        make_topic(&t, "orders", l, 3);
        t.parts[0].high_watermark = 100;
        t.parts[1].high_watermark = 50;
        kafka_history_topics(h, &t, 1, 10000);
        assert_true(isnan(t.messages_per_sec));
        assert_int_equal(t.isr_shrinks, 0);
        assert_int_equal(t.hwm_unknown, 1);

        /* 2 s later: +40 and +10 messages; partition 2 still unknown; the
         * ISR of partition 1 shrank from 3 to 2. */
        t.parts[0].high_watermark = 140;
        t.parts[1].high_watermark = 60;
        t.parts[1].isr = 2;
        kafka_history_topics(h, &t, 1, 12000);
        assert_true(fabs(t.messages_per_sec - 25.0) < 1e-9);
        assert_int_equal(t.isr_shrinks, 1);
        assert_true(t.parts[1].isr_shrunk);
        assert_false(t.parts[0].isr_shrunk);

        /* Same ISR again: no new shrink. A head that went backwards (topic
         * recreated) counts as no rate rather than a negative one. */
        t.parts[0].high_watermark = 5;
        t.parts[1].high_watermark = 60;
        kafka_history_topics(h, &t, 1, 13000);
        assert_int_equal(t.isr_shrinks, 0);
        assert_true(t.messages_per_sec == 0.0);

        /* The topic disappears, comes back: it starts over. */
        kafka_history_topics(h, NULL, 0, 14000);
        t.parts[1].isr = 1;
        kafka_history_topics(h, &t, 1, 15000);
        assert_int_equal(t.isr_shrinks, 0);
        assert_true(isnan(t.messages_per_sec));
        kafka_topic_done(&t);
        kafka_history_free(h);
        kafka_history_free(NULL);
}

/* A group with one partition of topic "t": one history round per call. */
struct hrun {
        struct kafka_history *h;
        struct kafka_topic t;
        int64_t now;
};

static struct kafka_group hrun_step(struct hrun *r, int64_t hwm, int64_t committed, uint64_t meta,
                                    bool assigned)
{
        struct kafka_group g = { 0 };

        r->now += 10000;
        r->t.parts[0].high_watermark = hwm;
        kafka_history_topics(r->h, &r->t, 1, r->now);
        g.name = xstrdup("g");
        g.offsets_known = committed >= -1;
        g.parts = xcalloc(1, sizeof *g.parts);
        g.n_parts = 1;
        g.parts[0].topic = r->t.name;
        g.parts[0].partition = 0;
        g.parts[0].committed = committed;
        g.parts[0].high_watermark = hwm;
        g.parts[0].meta_hash = meta;
        g.parts[0].assigned = assigned;
        kafka_history_groups(r->h, &g, 1, r->now, 60000);
        return g;
}

static void hrun_free(struct kafka_group *g)
{
        free(g->name);
        free(g->parts);
}

static enum lag_status hrun_status(struct hrun *r, int64_t hwm, int64_t committed, uint64_t meta,
                                   bool assigned)
{
        struct kafka_group g = hrun_step(r, hwm, committed, meta, assigned);
        enum lag_status s = g.parts[0].status;

        hrun_free(&g);
        return s;
}

static void hrun_init(struct hrun *r, int window)
{
        static const int32_t l[] = { 1 };

        r->h = kafka_history_new(window);
        make_topic(&r->t, "t", l, 1);
        r->now = 0;
}

static void hrun_done(struct hrun *r)
{
        kafka_topic_done(&r->t);
        kafka_history_free(r->h);
}

static void test_history_status(void **state)
{
        struct hrun r;
        struct kafka_group g;

        (void)state;
        /* Stall seen through an active member (DescribeConsumerGroups):
         * the same offset, lag growing. Window 4: verdicts from 2 commits. */
        hrun_init(&r, 4);
        assert_int_equal(hrun_status(&r, 10, 5, 0, true), LAG_UNKNOWN);
        assert_int_equal(hrun_status(&r, 20, 5, 0, true), LAG_STALL);
        assert_int_equal(hrun_status(&r, 30, 5, 0, true), LAG_STALL);
        /* Catching up to the head is ok at once. */
        assert_int_equal(hrun_status(&r, 30, 30, 0, true), LAG_OK);
        hrun_done(&r);

        /* Without evidence the same offset is not a commit: it stops. */
        hrun_init(&r, 4);
        assert_int_equal(hrun_status(&r, 10, 2, 0, false), LAG_UNKNOWN);
        assert_int_equal(hrun_status(&r, 20, 9, 0, false), LAG_WARN);  /* lag 8 -> 11 */
        assert_int_equal(hrun_status(&r, 30, 9, 0, false), LAG_WARN);  /* silent 10 s, span 10 s */
        assert_int_equal(hrun_status(&r, 40, 9, 0, false), LAG_STOP);  /* silent 20 s > 10 s */
        /* ...unless the commit metadata changes: then each is a commit, and
         * once the window (4) holds only offset 9 it is a stall. */
        assert_int_equal(hrun_status(&r, 50, 9, 77, false), LAG_WARN);
        assert_int_equal(hrun_status(&r, 60, 9, 78, false), LAG_WARN);
        assert_int_equal(hrun_status(&r, 70, 9, 79, false), LAG_STALL);
        hrun_done(&r);

        /* Rewind; unknown commit and unknown head. */
        hrun_init(&r, 4);
        assert_int_equal(hrun_status(&r, 10, 6, 0, false), LAG_UNKNOWN);
        assert_int_equal(hrun_status(&r, 20, 16, 0, false), LAG_WARN);
        assert_int_equal(hrun_status(&r, 30, 3, 0, false), LAG_REWIND);
        assert_int_equal(hrun_status(&r, 40, -1, 0, false), LAG_UNKNOWN);
        g = hrun_step(&r, -1, 3, 0, false);
        assert_int_equal(g.parts[0].status, LAG_UNKNOWN);
        assert_int_equal(g.parts[0].lag, -1);
        assert_int_equal(g.lag, -1);
        assert_int_equal(g.n_unknown, 1);
        assert_int_equal(g.status, LAG_UNKNOWN);
        /* Sparkline: the last lags, -1 where unknown. */
        assert_int_equal(g.parts[0].n_hist, 5);
        assert_int_equal(g.parts[0].lag_hist[0], 4);
        assert_int_equal(g.parts[0].lag_hist[1], 4);
        assert_int_equal(g.parts[0].lag_hist[2], 27);
        assert_int_equal(g.parts[0].lag_hist[3], -1);
        assert_int_equal(g.parts[0].lag_hist[4], -1);
        hrun_free(&g);
        hrun_done(&r);
}

static void test_history_group(void **state)
{
        static const int32_t l[] = { 1, 1, 1 };
        struct kafka_history *h = kafka_history_new(0);
        struct kafka_topic t;
        struct kafka_group g = { 0 };
        int64_t now = 0;

        (void)state;
        make_topic(&t, "t", l, 3);
        g.name = xstrdup("g");
        g.offsets_known = true;
        g.n_parts = 3;
        g.parts = xcalloc(3, sizeof *g.parts);
        /* Heads grow 100 per 10 s on partition 0, nothing elsewhere. */
        for (int s = 0; s < 4; s++) {
                now += 10000;
                t.parts[0].high_watermark = 100 * s;
                t.parts[1].high_watermark = 7;
                t.parts[2].high_watermark = 9;
                kafka_history_topics(h, &t, 1, now);
                for (int p = 0; p < 3; p++) {
                        g.parts[p].topic = t.name;
                        g.parts[p].partition = p;
                        g.parts[p].high_watermark = t.parts[p].high_watermark;
                }
                g.parts[0].committed = 50;      /* stuck at 50 */
                g.parts[1].committed = 7;       /* caught up */
                g.parts[2].committed = -1;      /* never committed */
                kafka_history_groups(h, &g, 1, now, 60000);
        }
        /* Partition 0: head 50 was passed at 5 s after the first point
         * (0 at t=10 s, 100 at t=20 s): lag at t=40 s is 25 s. */
        assert_int_equal(g.parts[0].lag, 250);
        assert_true(fabs(g.parts[0].lag_seconds - 25.0) < 1e-9);
        assert_int_equal(g.parts[1].lag, 0);
        assert_true(g.parts[1].lag_seconds == 0.0);
        assert_int_equal(g.parts[1].status, LAG_OK);
        assert_int_equal(g.parts[2].lag, -1);
        assert_true(isnan(g.parts[2].lag_seconds));
        assert_int_equal(g.lag, 250);
        assert_int_equal(g.n_unknown, 1);
        assert_true(fabs(g.lag_seconds - 25.0) < 1e-9);
        /* Not every partition known: no lag history, so no trend. */
        assert_int_equal(g.lag_hist.n, 0);

        /* With all known the lag history fills and gives a trend: lag
         * grows 100 per 10 s -> falling behind at 10 msg/s. */
        for (int s = 4; s < 7; s++) {
                now += 10000;
                t.parts[0].high_watermark = 100 * s;
                kafka_history_topics(h, &t, 1, now);
                g.parts[0].high_watermark = t.parts[0].high_watermark;
                g.parts[2].committed = 9;
                kafka_history_groups(h, &g, 1, now, 60000);
        }
        assert_int_equal(g.lag, 550);
        assert_int_equal(g.n_unknown, 0);
        assert_int_equal(g.lag_hist.n, 3);
        assert_int_equal(g.trend.dir, LAG_DIR_FALLING_BEHIND);
        assert_true(fabs(g.trend.rate - 10.0) < 1e-9);
        /* A gap wider than max_gap: lag seconds unknown rather than guessed. */
        now += 10000;
        kafka_history_topics(h, &t, 1, now);
        kafka_history_groups(h, &g, 1, now, 5000);
        assert_true(isnan(g.parts[0].lag_seconds));
        free(g.name);
        free(g.parts);
        kafka_topic_done(&t);
        kafka_history_free(h);
}

/* ---- readers on a hand-built kafka_data --------------------------------------------- */

static struct kafka_data *data_new(void)
{
        static const char *const names[] = { "__consumer_offsets", "orders", "payments" };
        struct kafka_data *d = xcalloc(1, sizeof *d);
        struct kafka_group *g;
        struct kafka_topic *t;

        d->cluster_id = xstrdup("MkU3OEVBNTcwNTJENDM2Qk");
        d->names = xcalloc(3, sizeof *d->names);
        for (size_t i = 0; i < 3; i++)
                d->names[d->n_names++] = xstrdup(names[i]);
        d->n_brokers = 3;
        d->brokers = xcalloc(3, sizeof *d->brokers);
        for (int i = 0; i < 3; i++) {
                struct kafka_broker *b = &d->brokers[i];

                b->id = i + 1;
                b->host = xasprintf("kafka-%d", i);
                b->port = 9092;
                b->up = 1;
                b->in_metadata = true;
                b->rtt_ms = 0.4567 * (i + 1);
                b->leader_for = 2;
        }
        d->brokers[0].rack = xstrdup("eu-1a");
        d->brokers[2].up = 0;
        d->brokers[2].rtt_ms = NAN;
        d->brokers_up = 2;

        d->quorum.available = true;
        d->quorum.leader_id = 3000;
        d->quorum.leader_epoch = 12;
        d->quorum.high_watermark = 482113;
        d->quorum.n_voters = 2;
        d->quorum.voters = xcalloc(2, sizeof *d->quorum.voters);
        d->quorum.voters[0] = (struct kafka_replica){ 3000, 482113, 0, -1, 0 };
        d->quorum.voters[1] = (struct kafka_replica){ 3001, 479000, 3113, 150, 9000 };
        d->quorum.n_observers = 1;
        d->quorum.observers = xcalloc(1, sizeof *d->quorum.observers);
        d->quorum.observers[0] = (struct kafka_replica){ 1, -1, -1, -1, -1 };
        d->quorum.history[0] = (struct kafka_epoch_change){ 1764165383017, 3000, 12 };
        d->quorum.n_history = 1;

        d->n_topics = 2;
        d->topics = xcalloc(2, sizeof *d->topics);
        t = &d->topics[0];
        t->name = d->names[1];
        t->partitions = 3;
        t->replication_factor = 3;
        t->under_replicated = 2;
        t->offline = 1;
        t->isr_shrinks = 1;
        t->hwm_unknown = 1;
        t->messages_per_sec = 123.456;
        t->parts = xcalloc(3, sizeof *t->parts);
        t = &d->topics[1];
        t->name = d->names[2];
        t->partitions = 1;
        t->replication_factor = 3;
        t->messages_per_sec = NAN;
        t->parts = xcalloc(1, sizeof *t->parts);
        d->n_partitions = 4;
        d->under_replicated = 2;
        d->offline = 1;

        d->n_groups = 3;
        d->groups = xcalloc(3, sizeof *d->groups);
        g = &d->groups[0];
        g->name = xstrdup("spark-speed");
        g->state = xstrdup("Stable");
        g->members = 2;
        g->configured = true;
        g->offsets_known = true;
        g->status = LAG_ERR;
        g->worst = LAG_STALL;
        g->lag = 20500;
        g->lag_seconds = 412.25;
        g->n_unknown = 1;
        ring_init(&g->lag_hist);
        ring_push(&g->lag_hist, 1000, 20000);
        ring_push(&g->lag_hist, 2000, 20500);
        g->trend = (struct lag_trend){ 500.04, LAG_DIR_FALLING_BEHIND, NAN, 500.04 };
        g->n_parts = 2;
        g->parts = xcalloc(2, sizeof *g->parts);
        g->parts[0] = (struct kafka_group_part){ .topic = d->names[1], .partition = 0,
                .committed = 1000, .high_watermark = 21500, .lag = 20500, .lag_seconds = 412.25,
                .status = LAG_STALL };
        g->parts[1] = (struct kafka_group_part){ .topic = d->names[1], .partition = 1,
                .committed = 5, .high_watermark = -1, .lag = -1, .lag_seconds = NAN,
                .status = LAG_UNKNOWN };
        g = &d->groups[1];
        g->name = xstrdup("s3-sink");
        g->members = -1;
        g->offsets_known = true;
        g->status = LAG_WARN;
        g->worst = LAG_WARN;
        g->lag = 15000;
        g->lag_seconds = 30;
        ring_init(&g->lag_hist);
        g->n_parts = 1;
        g->parts = xcalloc(1, sizeof *g->parts);
        g->parts[0] = (struct kafka_group_part){ .topic = d->names[0], .partition = 7,
                .committed = 0, .high_watermark = 15000, .lag = 15000, .lag_seconds = 30,
                .status = LAG_WARN };
        g = &d->groups[2];
        g->name = xstrdup("audit");
        g->members = -1;
        g->status = LAG_UNKNOWN;
        g->worst = LAG_UNKNOWN;
        g->lag = -1;
        g->lag_seconds = NAN;
        ring_init(&g->lag_hist);

        d->n_notes = 1;
        d->notes = xcalloc(1, sizeof *d->notes);
        d->notes[0] = xstrdup("broker 3 (kafka-2:9092) did not answer within 3000 ms: high "
                              "watermarks of its 2 partitions unknown");
        return d;
}

static void test_to_json(void **state)
{
        struct kafka_data *d = data_new();
        cJSON *o = cJSON_CreateObject(), *want;
        char *exp, *got, *file;

        (void)state;
        coll_kafka_ops.to_json(d, o);
        got = cJSON_PrintUnformatted(o);
        file = fixture("data.json", NULL);
        want = cJSON_Parse(file);
        assert_non_null(want);
        exp = cJSON_PrintUnformatted(want);     /* same key order as the file */
        if (strcmp(got, exp) != 0) {
                fprintf(stderr, " got: %s\nwant: %s\n", got, exp);
                fail_msg("JSON differs from tests/fixtures/kafka_coll/data.json");
        }
        free(exp);
        free(got);
        free(file);
        cJSON_Delete(want);
        cJSON_Delete(o);
        coll_kafka_ops.data_free(d);
}

static const struct alert *find_alert(const struct alert_list *l, const char *metric,
                                      const char *subject)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].metric, metric) == 0 && strcmp(l->v[i].subject, subject) == 0)
                        return &l->v[i];
        return NULL;
}

static void test_alerts(void **state)
{
        struct config *c = load_ok("    bootstrap: \"k:9092\"\n"
                                   "    thresholds:\n"
                                   "      group_lag: {warn: 15000, crit: 20500}\n"
                                   "      quorum_follower_lag: {crit: 3113}\n");
        struct kafka_data *d = data_new();
        struct alert_list l;
        const struct alert *a;

        (void)state;
        alert_list_init(&l);
        coll_kafka_ops.alerts(&c->sources[0], d, &l);

        a = find_alert(&l, "broker", "broker 3");
        assert_non_null(a);
        assert_int_equal(a->sev, SEV_CRIT);
        assert_string_equal(a->message, "broker 3 (kafka-2:9092) is not answering");
        assert_null(find_alert(&l, "broker", "broker 1"));

        a = find_alert(&l, "under_replicated", "orders");      /* default warn 1 */
        assert_int_equal(a->sev, SEV_WARN);
        assert_string_equal(a->message, "topic orders under-replicated partitions 2 >= warn 1");
        a = find_alert(&l, "offline", "orders");               /* default crit 1 */
        assert_int_equal(a->sev, SEV_CRIT);
        assert_string_equal(a->message, "topic orders offline partitions 1 >= crit 1");
        assert_null(find_alert(&l, "under_replicated", "payments"));

        /* At the limit counts. */
        a = find_alert(&l, "group_lag", "spark-speed");
        assert_int_equal(a->sev, SEV_CRIT);
        assert_string_equal(a->message, "group spark-speed lag 20500 >= crit 20500");
        a = find_alert(&l, "group_lag", "s3-sink");
        assert_int_equal(a->sev, SEV_WARN);
        /* 412 s >= default warn 300; 30 s is below it. */
        a = find_alert(&l, "group_lag_seconds", "spark-speed");
        assert_int_equal(a->sev, SEV_WARN);
        assert_true(a->value == 412.25);
        assert_true(a->threshold == 300.0);
        assert_string_equal(a->message, "group spark-speed lag seconds 412 >= warn 300");
        assert_null(find_alert(&l, "group_lag_seconds", "s3-sink"));

        a = find_alert(&l, "group_status", "spark-speed");
        assert_int_equal(a->sev, SEV_CRIT);
        assert_string_equal(a->message,
                            "group spark-speed stall: orders[0] commits the same offset "
                            "while lag stays or grows (lag 20500)");
        a = find_alert(&l, "group_status", "s3-sink");
        assert_int_equal(a->sev, SEV_WARN);
        assert_null(find_alert(&l, "group_status", "audit"));
        assert_null(find_alert(&l, "group_lag", "audit"));

        a = find_alert(&l, "quorum_follower_lag", "voter 3001");
        assert_int_equal(a->sev, SEV_CRIT);
        assert_string_equal(a->message, "quorum voter 3001 lag 3113 >= crit 3113");
        assert_null(find_alert(&l, "quorum_follower_lag", "voter 3000"));
        assert_int_equal(l.n, 9);
        alert_list_done(&l);

        /* Quorum gone: no follower alerts (the degraded note covers it). */
        d->quorum.available = false;
        alert_list_init(&l);
        coll_kafka_ops.alerts(&c->sources[0], d, &l);
        assert_null(find_alert(&l, "quorum_follower_lag", "voter 3001"));
        alert_list_done(&l);
        coll_kafka_ops.data_free(d);
        config_free(c);
}

static void test_summary_key_metric(void **state)
{
        struct kafka_data *d = data_new();
        char buf[160];

        (void)state;
        coll_kafka_ops.summary(d, buf, sizeof buf);
        assert_string_equal(buf, "3 brokers (1 down), 2 topics, 3 groups (1 stall, 1 warn), "
                            "quorum leader 3000 epoch 12");
        assert_true(coll_kafka_ops.key_metric(d) == 20500.0);
        d->quorum.available = false;
        d->brokers[2].up = 1;
        d->groups[0].worst = LAG_OK;
        coll_kafka_ops.summary(d, buf, sizeof buf);
        assert_string_equal(buf, "3 brokers, 2 topics, 3 groups (1 warn), quorum n/a");
        coll_kafka_ops.summary(d, buf, 12);
        assert_string_equal(buf, "3 brokers, ");
        d->groups[0].lag = d->groups[1].lag = -1;
        assert_true(isnan(coll_kafka_ops.key_metric(d)));
        coll_kafka_ops.data_free(d);
        coll_kafka_ops.data_free(NULL);
}

/* ---- config ----------------------------------------------------------------------- */

static void test_config(void **state)
{
        static const struct {
                const char *yaml, *err;
        } bad[] = {
                { "    bootstrap: \"k\"\n", "bootstrap: \"k\": expected host:port" },
                { "    bootstrap: \"k:1,,\"\n", NULL },
                { "    bootstrap: \"k:1\"\n    quorum_bootstrap: \"q:0\"\n",
                  "quorum_bootstrap: \"q:0\": port must be 1..65535" },
                { "    bootstrap: \"k:1\"\n    security_protocol: tls\n",
                  "security_protocol \"tls\" is not one of" },
                { "    bootstrap: \"k:1\"\n    sasl_username: u\n", "sasl_* keys need" },
                { "    bootstrap: \"k:1\"\n    security_protocol: sasl_ssl\n"
                  "    sasl_mechanism: MD5\n", "sasl_mechanism \"MD5\" is not one of" },
                { "    bootstrap: \"k:1\"\n    ssl_ca_location: /ca.pem\n", "ssl_* keys need" },
                { "    bootstrap: \"k:1\"\n    security_protocol: ssl\n    ssl_verify: yes\n",
                  "ssl_verify: expected true or false" },
                { "    bootstrap: \"k:1\"\n    topics_include: \"(\"\n",
                  "topics_include: bad regular expression" },
                { "    bootstrap: \"k:1\"\n    lag_window: 1\n", "lag_window: expected 2..16" },
                { "    bootstrap: \"k:1\"\n    lag_window: 17\n", "lag_window: expected 2..16" },
                { "    bootstrap: \"k:1\"\n    groups: [a, b, a]\n", "groups: \"a\" is listed twice" },
                { "    bootstrap: \"k:1\"\n    security_protocol: sasl_plaintext\n"
                  "    sasl_password_env: KPW\n    sasl_password_file: /pw\n",
                  "sasl_password_env and sasl_password_file are exclusive" },
                { "    bootstrap: \"k:1\"\n    security_protocol: sasl_plaintext\n"
                  "    sasl_password_env: \"hunter2!\"\n", "not the secret itself" },
                { "    bootstrap: \"k:1\"\n    thresholds:\n      group_lag_seconds: {warn: 1m}\n",
                  "group_lag_seconds.warn" },
        };
        struct config *c;
        struct err err;

        (void)state;
        c = load_ok("    bootstrap: \"k:1\"\n");
        assert_int_equal(c->sources[0].interval_ms, 5000);
        assert_int_equal(c->sources[0].timeout_ms, 3000);
        config_free(c);
        c = load_ok("    bootstrap: \"k1:9093,k2:9093\"\n"
                    "    security_protocol: sasl_ssl\n"
                    "    sasl_mechanism: SCRAM-SHA-512\n"
                    "    sasl_username: lambdaops\n"
                    "    sasl_password_env: KAFKA_PASSWORD\n"
                    "    ssl_ca_location: /etc/ssl/kafka-ca.pem\n"
                    "    ssl_verify: false\n"
                    "    groups: [spark-speed, s3-sink]\n"
                    "    topics_include: \"^(orders|payments)\\\\.\"\n"
                    "    topics_exclude: \"\\\\.dlq$\"\n"
                    "    quorum_bootstrap: \"k1:9092\"\n"
                    "    lag_window: 12\n"
                    "    thresholds:\n"
                    "      group_lag_seconds: {warn: 60, crit: 600}\n"
                    "      under_replicated: off\n");
        assert_non_null(config_threshold(&c->sources[0], "group_lag_seconds"));
        assert_true(config_threshold(&c->sources[0], "group_lag_seconds")->warn == 60.0);
        config_free(c);
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                err_clear(&err);
                c = load(bad[i].yaml, &err);
                if (c)
                        fail_msg("accepted:\n%s", bad[i].yaml);
                if (bad[i].err && !strstr(err.msg, bad[i].err))
                        fail_msg("error \"%s\" lacks \"%s\"", err.msg, bad[i].err);
                assert_null(strstr(err.msg, "hunter2"));
        }
}

/* ---- /metrics ------------------------------------------------------------ */

/* The kind's metrics hook on the same data as the JSON test: exact text
 * (tests/fixtures/kafka_coll/metrics.prom), which promtool check metrics accepts. */
static void test_metrics(void **state)
{
        struct source_cfg msrc = { .name = "events", .kind = "kafka", .ops = &coll_kafka_ops };
        struct snapshot snap = { .src = &msrc };
        struct promtext *p = promtext_new();
        char *text;

        (void)state;
        snap.data = data_new();
        assert_non_null(coll_kafka_ops.metrics);
        coll_kafka_ops.metrics(&snap, &msrc, p);
        assert_int_equal(promtext_errors(p), 0);
        text = promtext_finish(p, NULL);
        tu_metrics_expect(text, "tests/fixtures/kafka_coll/metrics.prom");
        free(text);
        promtext_free(p);
        coll_kafka_ops.data_free(snap.data);
}


int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hostport),
                cmocka_unit_test(test_stats_fixture),
                cmocka_unit_test(test_stats_bad),
                cmocka_unit_test(test_batches),
                cmocka_unit_test(test_topics_from_metadata),
                cmocka_unit_test(test_filter),
                cmocka_unit_test(test_quorum_from_wire),
                cmocka_unit_test(test_history_topics),
                cmocka_unit_test(test_history_status),
                cmocka_unit_test(test_history_group),
                cmocka_unit_test(test_to_json),
                cmocka_unit_test(test_alerts),
                cmocka_unit_test(test_summary_key_metric),
                cmocka_unit_test(test_metrics),
                cmocka_unit_test(test_config),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
