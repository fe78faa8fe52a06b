/*
 * Integration tests for the Kafka collector against librdkafka's mock
 * cluster (3 brokers, started in this process by tests/lib/tu_kafka.c).
 *
 * Topics: orders (3 partitions, leaders 1, 2, 3), payments (2, leaders 1
 * and 2), events (1, leader 1; the status timeline), dark (1 partition
 * without a leader: offline) and __internal (hidden by the default
 * topics_exclude). Group coordinators are pinned: every
 * group on broker 1 except g-coord2 on broker 2. The tests run in order on
 * one collector state, as the runtime would, with an injected clock so that
 * windows of tens of seconds take no real time:
 *   1. metadata: cluster id, brokers, topics, partitions, replication;
 *      quorum and group listing unsupported by the mock -> degraded, with
 *      notes, never down;
 *   2. exact offset lag per partition for a group with known commits, the
 *      high watermarks, and messages/s from high watermark deltas;
 *   3. status transitions driven by commits and produces across polls:
 *      warn then stop (stops committing), stall (re-commits one offset,
 *      told apart from stop by its commit metadata), rewind, ok (catches
 *      up), and lag in seconds against the produced timeline;
 *   4. broker 2 down: its partitions null, the others exact, its group
 *      unknown, the poll within its timeout; quit interrupts a poll;
 *   5. broker 2 up again: everything exact again;
 *   6. the real runtime polls and stops within a second with a broker down;
 *   7. bad input: an unreachable bootstrap, an unset SASL password variable,
 *      SASL against brokers that do not speak it: DOWN within the timeout,
 *      a clear error, no secret in it.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "collectors/kafka/kafka.h"
#include "collectors/kafka/lag_eval.h"
#include "tu.h"
#include "tu_kafka.h"
#include "core/util.h"

/* Sanitizer hooks, read by ASan/LSan only when this binary is built with
 * them. librdkafka 2.0.2 leaks one 176-byte object allocated in
 * rd_kafka_new() once per handle that ever called
 * rd_kafka_ListConsumerGroups() (reproduced without any lambdaops code).
 * librdkafka has no frame pointers, so the suppression needs the slow
 * unwinder to see rd_kafka_new in the allocation stack. */
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

const char *__asan_default_options(void)
{
        return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions(void)
{
        return "leak:rd_kafka_new\n";
}

#define IT_TIMEOUT_MS 1500
/* Slack over a timeout for a loaded machine: tells "ended at its timeout"
 * from "hung" (the runs it bounds would otherwise not end). */
#define IT_MARGIN_MS  30000

static struct tu_kafka k;
static struct config *cfg;
static void *state;
static int64_t fake_now;        /* the collector's history clock, ms */

static int64_t it_clock(void *arg)
{
        return *(const int64_t *)arg;
}

static struct config *it_config(const char *name, const char *bootstrap, const char *extra,
                                const char *timeout)
{
        struct err err;
        char *yaml = xasprintf("environment: test\n"
                               "sources:\n"
                               "  - name: %s\n"
                               "    kind: kafka\n"
                               "    bootstrap: \"%s\"\n"
                               "    interval: 200ms\n"
                               "    timeout: %s\n"
                               "%s",
                               name, bootstrap, timeout, extra ? extra : "");
        struct config *c = config_load_string(yaml, strlen(yaml), "<it>", &err);

        if (!c)
                fail_msg("config: %s\n%s", err.msg, yaml);
        free(yaml);
        assert_int_equal(c->n_sources, 1);
        assert_ptr_equal(c->sources[0].ops, &coll_kafka_ops);
        return c;
}

static enum coll_status it_poll_on(void *st, const struct source_cfg *src, int stop_fd,
                                   struct kafka_data **d, struct err *err, int64_t *elapsed)
{
        struct coll_ctx ctx;
        enum coll_status s;
        void *data = NULL;
        int64_t t0 = clock_mono_ms();

        err_clear(err);
        ctx.stop_fd = stop_fd;
        ctx.now_mono = t0;
        ctx.timeout_ms = src->timeout_ms;
        ctx.deadline_mono = t0 + src->timeout_ms;
        s = coll_kafka_ops.poll(st, &ctx, &data, err);
        if (elapsed)
                *elapsed = clock_mono_ms() - t0;
        *d = data;
        return s;
}

static enum coll_status it_poll(struct kafka_data **d, struct err *err)
{
        return it_poll_on(state, &cfg->sources[0], -1, d, err, NULL);
}

static const struct kafka_topic *topic_named(const struct kafka_data *d, const char *name)
{
        for (size_t i = 0; d && i < d->n_topics; i++)
                if (strcmp(d->topics[i].name, name) == 0)
                        return &d->topics[i];
        return NULL;
}

static const struct kafka_group *group_named(const struct kafka_data *d, const char *name)
{
        for (size_t i = 0; d && i < d->n_groups; i++)
                if (strcmp(d->groups[i].name, name) == 0)
                        return &d->groups[i];
        return NULL;
}

static const struct kafka_group_part *gpart(const struct kafka_group *g, const char *topic, int p)
{
        for (size_t i = 0; g && i < g->n_parts; i++)
                if (strcmp(g->parts[i].topic, topic) == 0 && g->parts[i].partition == p)
                        return &g->parts[i];
        return NULL;
}

static const struct kafka_broker *broker_id(const struct kafka_data *d, int id)
{
        for (size_t i = 0; d && i < d->n_brokers; i++)
                if (d->brokers[i].id == id)
                        return &d->brokers[i];
        return NULL;
}

static bool has_note(const struct kafka_data *d, const char *needle)
{
        for (size_t i = 0; i < d->n_notes; i++)
                if (strstr(d->notes[i], needle))
                        return true;
        return false;
}

static void check_hwm(const struct kafka_data *d, const char *topic, int p, int64_t want)
{
        const struct kafka_topic *t = topic_named(d, topic);

        assert_non_null(t);
        assert_true(p < t->partitions);
        if (t->parts[p].high_watermark != want)
                fail_msg("%s[%d] high watermark %lld, want %lld", topic, p,
                         (long long)t->parts[p].high_watermark, (long long)want);
}

static void check_part(const struct kafka_group *g, const char *topic, int p, int64_t committed,
                       int64_t hwm, int64_t lag)
{
        const struct kafka_group_part *x = gpart(g, topic, p);

        if (!x)
                fail_msg("group %s has no partition %s[%d]", g->name, topic, p);
        if (x->committed != committed || x->high_watermark != hwm || x->lag != lag)
                fail_msg("group %s %s[%d]: committed %lld hwm %lld lag %lld, want %lld %lld %lld",
                         g->name, topic, p, (long long)x->committed, (long long)x->high_watermark,
                         (long long)x->lag, (long long)committed, (long long)hwm, (long long)lag);
}

static int group_setup(void **st)
{
        static const int orders[] = { 1, 2, 3 }, payments[] = { 1, 2 }, one[] = { 1 };
        static const char *const groups[] = { "g-lag", "g-ok", "g-stop", "g-stall", "g-rewind" };
        char *extra;

        (void)st;
        if (tu_kafka_start(&k, 3) != 0 ||
            tu_kafka_topic(&k, "orders", 3, 3, orders) ||
            tu_kafka_topic(&k, "payments", 2, 3, payments) ||
            tu_kafka_topic(&k, "events", 1, 3, one) || tu_kafka_topic(&k, "__internal", 1, 3, one) ||
            tu_kafka_topic(&k, "dark", 1, 3, one) ||
            rd_kafka_mock_partition_set_leader(k.mc, "dark", 0, -1) ||
            rd_kafka_mock_broker_set_rack(k.mc, 1, "rack-a") ||
            rd_kafka_mock_broker_set_rack(k.mc, 2, "rack-b"))
                return -1;
        for (size_t i = 0; i < LO_ARRAY_LEN(groups); i++)
                if (tu_kafka_coordinator(&k, groups[i], 1) != 0)
                        return -1;
        if (tu_kafka_coordinator(&k, "g-coord2", 2) != 0)
                return -1;
        extra = xasprintf("    groups: [g-lag, g-ok, g-stop, g-stall, g-rewind, g-coord2, g-none]\n"
                          "    lag_window: 6\n");
        cfg = it_config("it-kafka", k.bootstraps, extra, "1500ms");
        free(extra);
        state = coll_kafka_ops.create(&cfg->sources[0]);
        fake_now = 1000000;
        coll_kafka_set_clock(state, it_clock, &fake_now);
        return 0;
}

static int group_teardown(void **st)
{
        (void)st;
        coll_kafka_ops.destroy(state);
        config_free(cfg);
        tu_kafka_stop(&k);
        return 0;
}

/* 1 ------------------------------------------------------------------------ */

static void test_metadata(void **st)
{
        struct kafka_data *d;
        const struct kafka_topic *t;
        struct alert_list al;
        struct err err;
        cJSON *o;
        char *js, sum[160];

        (void)st;
        assert_int_equal(it_poll(&d, &err), COLL_DEGRADED);
        assert_non_null(d);
        assert_non_null(d->cluster_id);
        assert_true(strncmp(d->cluster_id, "mockCluster", 11) == 0);
        assert_int_equal(d->n_brokers, 3);
        for (int i = 1; i <= 3; i++) {
                const struct kafka_broker *b = broker_id(d, i);

                assert_non_null(b);
                assert_string_equal(b->host, "127.0.0.1");
                assert_int_equal(b->port, tu_kafka_port(&k, i));
                assert_int_equal(b->up, 1);
                assert_true(b->in_metadata);
                assert_false(isnan(b->rtt_ms));
                assert_true(b->rtt_ms >= 0);
        }
        /* Racks come from our own Metadata request (librdkafka 2.0.2 has
         * none); broker 3 has no rack. */
        assert_string_equal(broker_id(d, 1)->rack, "rack-a");
        assert_string_equal(broker_id(d, 2)->rack, "rack-b");
        assert_null(broker_id(d, 3)->rack);
        /* Broker 1 leads orders[0], payments[0], events[0], __internal[0]. */
        assert_int_equal(broker_id(d, 1)->leader_for, 4);
        assert_int_equal(broker_id(d, 2)->leader_for, 2);
        assert_int_equal(broker_id(d, 3)->leader_for, 1);
        /* __internal is hidden by the default exclude, the rest by name. */
        assert_int_equal(d->n_topics, 4);
        assert_string_equal(d->topics[0].name, "dark");
        assert_string_equal(d->topics[1].name, "events");
        assert_string_equal(d->topics[2].name, "orders");
        assert_string_equal(d->topics[3].name, "payments");
        assert_int_equal(d->n_partitions, 7);
        /* No leader: offline, and its high watermark unknown, not 0. */
        t = topic_named(d, "dark");
        assert_int_equal(t->offline, 1);
        assert_int_equal(t->parts[0].leader, -1);
        assert_int_equal(t->parts[0].high_watermark, -1);
        assert_int_equal(t->hwm_unknown, 1);
        assert_int_equal(d->offline, 1);
        t = topic_named(d, "orders");
        assert_int_equal(t->partitions, 3);
        assert_int_equal(t->replication_factor, 3);
        assert_int_equal(t->under_replicated, 0);
        assert_int_equal(t->offline, 0);
        assert_int_equal(t->hwm_unknown, 0);
        assert_true(isnan(t->messages_per_sec));               /* one poll */
        for (int p = 0; p < 3; p++) {
                assert_int_equal(t->parts[p].id, p);
                assert_int_equal(t->parts[p].leader, p + 1);
                assert_int_equal(t->parts[p].replicas, 3);
                assert_int_equal(t->parts[p].isr, 3);
                assert_int_equal(t->parts[p].high_watermark, 0);
        }
        assert_int_equal(topic_named(d, "payments")->partitions, 2);
        /* The mock speaks neither DescribeQuorum nor ListGroups. */
        assert_false(d->quorum.available);
        assert_true(strstr(d->quorum.reason, "upport") != NULL);
        assert_false(d->groups_listed);
        assert_true(has_note(d, "quorum unavailable"));
        assert_true(has_note(d, "group listing not supported"));
        assert_true(strstr(err.msg, "quorum unavailable") != NULL);
        /* Configured groups without commits are there, with nothing known. */
        assert_int_equal(d->n_groups, 7);
        assert_non_null(group_named(d, "g-none"));
        assert_int_equal(group_named(d, "g-none")->n_parts, 0);
        assert_int_equal(group_named(d, "g-none")->lag, -1);
        assert_true(group_named(d, "g-none")->offsets_known);

        o = cJSON_CreateObject();
        coll_kafka_ops.to_json(d, o);
        js = cJSON_PrintUnformatted(o);
        assert_non_null(strstr(js, "\"quorum\":{\"available\":false,\"reason\":"));
        assert_non_null(strstr(js, "\"leader_id\":null"));
        assert_non_null(strstr(js, "\"name\":\"orders\",\"partitions\":3,\"replication_factor\":3,"
                                   "\"under_replicated\":0,\"offline\":0,\"messages_per_sec\":null"));
        assert_non_null(strstr(js, "\"name\":\"dark\",\"partitions\":1,\"replication_factor\":3,"
                                   "\"under_replicated\":0,\"offline\":1,\"messages_per_sec\":null,"
                                   "\"isr_shrinks\":0,\"high_watermarks_unknown\":1}"));
        assert_null(strstr(js, "__internal"));
        free(js);
        cJSON_Delete(o);
        alert_list_init(&al);
        coll_kafka_ops.alerts(&cfg->sources[0], d, &al);
        assert_int_equal(al.n, 1);
        assert_string_equal(al.v[0].metric, "offline");
        assert_string_equal(al.v[0].subject, "dark");
        assert_int_equal(al.v[0].sev, SEV_CRIT);
        alert_list_done(&al);
        coll_kafka_ops.summary(d, sum, sizeof sum);
        assert_string_equal(sum, "3 brokers, 4 topics, 7 groups, quorum n/a");
        coll_kafka_ops.data_free(d);
}

/* 2 ------------------------------------------------------------------------ */

static void test_exact_lag(void **st)
{
        struct kafka_data *d;
        const struct kafka_group *g;
        struct err err;

        (void)st;
        assert_int_equal(tu_kafka_produce(&k, "orders", 0, 100), 0);
        assert_int_equal(tu_kafka_produce(&k, "orders", 1, 200), 0);
        assert_int_equal(tu_kafka_produce(&k, "orders", 2, 300), 0);
        assert_int_equal(tu_kafka_produce(&k, "payments", 0, 50), 0);
        assert_int_equal(tu_kafka_commit(&k, "g-lag", "orders", 0, 40, NULL), 0);
        assert_int_equal(tu_kafka_commit(&k, "g-lag", "orders", 1, 200, NULL), 0);
        assert_int_equal(tu_kafka_commit(&k, "g-lag", "orders", 2, 10, NULL), 0);
        assert_int_equal(tu_kafka_commit(&k, "g-lag", "payments", 0, 50, NULL), 0);
        assert_int_equal(tu_kafka_commit(&k, "g-coord2", "orders", 1, 150, NULL), 0);

        fake_now += 1000;
        assert_int_equal(it_poll(&d, &err), COLL_DEGRADED);
        check_hwm(d, "orders", 0, 100);
        check_hwm(d, "orders", 1, 200);
        check_hwm(d, "orders", 2, 300);
        check_hwm(d, "payments", 0, 50);
        check_hwm(d, "payments", 1, 0);
        /* 600 messages in 1 s of the history clock. */
        assert_true(fabs(topic_named(d, "orders")->messages_per_sec - 600.0) < 1e-9);
        assert_true(fabs(topic_named(d, "payments")->messages_per_sec - 50.0) < 1e-9);
        g = group_named(d, "g-lag");
        assert_non_null(g);
        assert_true(g->offsets_known);
        assert_int_equal(g->n_parts, 5);
        check_part(g, "orders", 0, 40, 100, 60);
        check_part(g, "orders", 1, 200, 200, 0);
        check_part(g, "orders", 2, 10, 300, 290);
        check_part(g, "payments", 0, 50, 50, 0);
        check_part(g, "payments", 1, -1, 0, -1);               /* never committed: unknown */
        assert_int_equal(g->lag, 350);
        assert_int_equal(g->n_unknown, 1);
        assert_int_equal(gpart(g, "orders", 1)->status, LAG_OK);
        assert_int_equal(gpart(g, "orders", 0)->status, LAG_UNKNOWN);   /* one commit seen */
        g = group_named(d, "g-coord2");
        check_part(g, "orders", 1, 150, 200, 50);
        assert_int_equal(g->lag, 50);
        /* Largest lag first. */
        assert_string_equal(d->groups[0].name, "g-lag");
        assert_true(coll_kafka_ops.key_metric(d) == 350.0);
        coll_kafka_ops.data_free(d);

        /* 10 more messages over 2 s: 5 msg/s. */
        assert_int_equal(tu_kafka_produce(&k, "orders", 0, 10), 0);
        fake_now += 2000;
        assert_int_equal(it_poll(&d, &err), COLL_DEGRADED);
        check_hwm(d, "orders", 0, 110);
        assert_true(fabs(topic_named(d, "orders")->messages_per_sec - 5.0) < 1e-9);
        assert_true(topic_named(d, "payments")->messages_per_sec == 0.0);
        check_part(group_named(d, "g-lag"), "orders", 0, 40, 110, 70);
        coll_kafka_ops.data_free(d);
}

/* 2b ----------------------------------------------------------------------- */

/* The committed offsets come over kafka_wire (FindCoordinator + OffsetFetch)
 * by default on plaintext; librdkafka's admin API is the path for SASL.
 * Both must agree on every partition of every group. */
static void test_admin_path_agrees(void **st)
{
        struct kafka_data *dw, *da;
        struct err err;
        void *s2;
        size_t compared = 0;

        (void)st;
        s2 = coll_kafka_ops.create(&cfg->sources[0]);
        coll_kafka_set_offsets_admin(s2, true);
        assert_int_equal(it_poll_on(s2, &cfg->sources[0], -1, &da, &err, NULL), COLL_DEGRADED);
        assert_int_equal(it_poll(&dw, &err), COLL_DEGRADED);
        assert_int_equal(dw->n_groups, da->n_groups);
        for (size_t i = 0; i < dw->n_groups; i++) {
                const struct kafka_group *a = group_named(da, dw->groups[i].name);

                assert_non_null(a);
                assert_int_equal(a->offsets_known, dw->groups[i].offsets_known);
                assert_int_equal(a->n_parts, dw->groups[i].n_parts);
                for (size_t p = 0; p < a->n_parts; p++) {
                        const struct kafka_group_part *w = &dw->groups[i].parts[p];

                        assert_string_equal(a->parts[p].topic, w->topic);
                        assert_int_equal(a->parts[p].partition, w->partition);
                        assert_int_equal(a->parts[p].committed, w->committed);
                        assert_int_equal(a->parts[p].meta_hash, w->meta_hash);
                        compared++;
                }
        }
        /* g-lag (5) and g-coord2 (3) at least. */
        assert_true(compared >= 8);
        check_part(group_named(dw, "g-lag"), "orders", 2, 10, 300, 290);
        coll_kafka_ops.data_free(dw);
        coll_kafka_ops.data_free(da);
        coll_kafka_ops.destroy(s2);
}

/* 3 ------------------------------------------------------------------------ */

struct step {
        const char *group;
        int64_t offset;         /* -1: no commit this step */
        const char *meta;
};

static const struct kafka_group_part *events_part(const struct kafka_data *d, const char *group)
{
        const struct kafka_group *g = group_named(d, group);

        assert_non_null(g);
        return gpart(g, "events", 0);
}

static enum lag_status events_status(const struct kafka_data *d, const char *group)
{
        const struct kafka_group_part *p = events_part(d, group);

        return p ? p->status : LAG_UNKNOWN;
}

static void test_status_transitions(void **st)
{
        struct kafka_data *d;
        struct alert_list al;
        struct err err;
        char meta[32];
        bool stall_alert = false;

        (void)st;
        /* Step 0 (t0): events is empty; g-ok's first commit makes the topic
         * consumed, so its (head, time) table starts at (0, t0). */
        assert_int_equal(tu_kafka_commit(&k, "g-ok", "events", 0, 0, NULL), 0);
        fake_now += 10000;
        const int64_t t0 = fake_now;
        assert_int_equal(it_poll(&d, &err), COLL_DEGRADED);
        assert_int_equal(events_status(d, "g-ok"), LAG_OK);    /* caught up */
        assert_true(events_part(d, "g-ok")->lag_seconds == 0.0);
        coll_kafka_ops.data_free(d);

        /* Steps 1..9, 10 s apart, 10 messages each: the head is 10 x step. */
        for (int s = 1; s <= 9; s++) {
                int64_t hwm = 10 * s;

                assert_int_equal(tu_kafka_produce(&k, "events", 0, 10), 0);
                /* g-stop: commits 1, 9, 19, 29 at steps 1..4 (moving, lag
                 * never falling: warn), then nothing: stop once it has been
                 * silent longer than the 30 s its window spans and no head
                 * it saw lately is at or below its position (step 8); then
                 * it catches up at step 9 (ok). */
                if (s <= 4)
                        assert_int_equal(tu_kafka_commit(&k, "g-stop", "events", 0,
                                                         s == 1 ? 1 : hwm - 11, NULL), 0);
                if (s == 9)
                        assert_int_equal(tu_kafka_commit(&k, "g-stop", "events", 0, hwm, NULL), 0);
                /* g-stall: commits offset 5 again and again (new metadata
                 * each time proves the commit) while the head moves on. */
                snprintf(meta, sizeof meta, "stall-%d", s);
                assert_int_equal(tu_kafka_commit(&k, "g-stall", "events", 0, 5, meta), 0);
                /* g-rewind: 8, 18, 28, then back to 3 (and silent). */
                if (s <= 3)
                        assert_int_equal(tu_kafka_commit(&k, "g-rewind", "events", 0, hwm - 2, NULL), 0);
                if (s == 4)
                        assert_int_equal(tu_kafka_commit(&k, "g-rewind", "events", 0, 3, NULL), 0);
                /* g-ok: 2, 16, 29 (lag 8, 4, 1: catching up), then at the head. */
                if (s <= 3)
                        assert_int_equal(tu_kafka_commit(&k, "g-ok", "events", 0,
                                                         s == 1 ? 2 : s == 2 ? 16 : 29, NULL), 0);
                if (s >= 4)
                        assert_int_equal(tu_kafka_commit(&k, "g-ok", "events", 0, hwm, NULL), 0);

                fake_now += 10000;
                assert_int_equal(it_poll(&d, &err), COLL_DEGRADED);
                check_hwm(d, "events", 0, hwm);

                /* g-stall's position 5 was the head at t0 + 5 s (between
                 * (0, t0) and (10, t0 + 10 s)). */
                assert_true(fabs(events_part(d, "g-stall")->lag_seconds -
                                 (double)(fake_now - t0 - 5000) / 1000.0) < 1e-6);
                if (s >= 3)
                        assert_int_equal(events_status(d, "g-stall"), LAG_STALL);
                if (s >= 3 && s <= 7)
                        assert_int_equal(events_status(d, "g-stop"), LAG_WARN);
                if (s == 8)
                        assert_int_equal(events_status(d, "g-stop"), LAG_STOP);
                if (s == 9)
                        assert_int_equal(events_status(d, "g-stop"), LAG_OK);
                /* Silent after its rewind: stop wins from step 8 (rule order). */
                if (s >= 4 && s <= 7)
                        assert_int_equal(events_status(d, "g-rewind"), LAG_REWIND);
                if (s == 3)
                        assert_int_equal(events_status(d, "g-ok"), LAG_OK);    /* lag 1, falling */
                if (s >= 4) {
                        assert_int_equal(events_status(d, "g-ok"), LAG_OK);
                        assert_true(events_part(d, "g-ok")->lag_seconds == 0.0);
                }
                if (s == 5) {
                        const struct kafka_group *g = group_named(d, "g-stall");

                        assert_int_equal(g->status, LAG_ERR);
                        assert_int_equal(g->worst, LAG_STALL);
                        assert_int_equal(group_named(d, "g-rewind")->status, LAG_ERR);
                        alert_list_init(&al);
                        coll_kafka_ops.alerts(&cfg->sources[0], d, &al);
                        for (size_t i = 0; i < al.n; i++)
                                if (strcmp(al.v[i].metric, "group_status") == 0 &&
                                    strcmp(al.v[i].subject, "g-stall") == 0 &&
                                    al.v[i].sev == SEV_CRIT && strstr(al.v[i].message, "stall"))
                                        stall_alert = true;
                        alert_list_done(&al);
                }
                coll_kafka_ops.data_free(d);
        }
        assert_true(stall_alert);
}

/* 4 ------------------------------------------------------------------------ */

static void test_broker_down(void **st)
{
        const struct kafka_broker *b;
        const struct kafka_group *g;
        struct kafka_data *d;
        struct err err;
        int64_t took;
        int fds[2];

        (void)st;
        assert_int_equal(tu_kafka_broker_down(&k, 2), 0);
        assert_int_equal(it_poll_on(state, &cfg->sources[0], -1, &d, &err, &took), COLL_DEGRADED);
        if (took > IT_TIMEOUT_MS + IT_MARGIN_MS)
                fail_msg("poll took %lld ms with a broker down (timeout %d ms)", (long long)took,
                         IT_TIMEOUT_MS);
        b = broker_id(d, 2);
        assert_non_null(b);
        assert_int_equal(b->up, 0);
        assert_int_equal(broker_id(d, 1)->up, 1);
        assert_int_equal(broker_id(d, 3)->up, 1);
        /* Broker 2 leads orders[1] and payments[1]: unknown. The rest exact. */
        check_hwm(d, "orders", 0, 110);
        check_hwm(d, "orders", 1, -1);
        check_hwm(d, "orders", 2, 300);
        check_hwm(d, "payments", 0, 50);
        check_hwm(d, "payments", 1, -1);
        assert_int_equal(topic_named(d, "orders")->hwm_unknown, 1);
        g = group_named(d, "g-lag");
        check_part(g, "orders", 0, 40, 110, 70);
        check_part(g, "orders", 1, 200, -1, -1);
        check_part(g, "orders", 2, 10, 300, 290);
        check_part(g, "payments", 0, 50, 50, 0);
        assert_int_equal(g->lag, 360);
        /* g-coord2's coordinator is broker 2: its offsets are unknown. */
        g = group_named(d, "g-coord2");
        assert_false(g->offsets_known);
        check_part(g, "orders", 1, -1, -1, -1);
        assert_int_equal(g->lag, -1);
        assert_true(has_note(d, "broker 2"));
        assert_true(has_note(d, "group g-coord2: committed offsets unknown"));
        coll_kafka_ops.data_free(d);

        /* Quit while blocked on the dead broker, with a ten-minute timeout:
         * "stopping", long before the timeout (the one-minute bound leaves
         * room for a loaded machine). */
        assert_int_equal(pipe(fds), 0);
        assert_int_equal(write(fds[1], "x", 1), 1);
        {
                struct source_cfg src = cfg->sources[0];

                src.timeout_ms = 600000;
                it_poll_on(state, &src, fds[0], &d, &err, &took);
        }
        print_message("quit with a broker down: %lld ms: %s\n", (long long)took, err.msg);
        if (took > 60000)
                fail_msg("quit took %lld ms", (long long)took);
        coll_kafka_ops.data_free(d);
        close(fds[0]);
        close(fds[1]);
}

/* 5 ------------------------------------------------------------------------ */

static void test_broker_up(void **st)
{
        int64_t deadline = clock_mono_ms() + 20000;
        struct kafka_data *d = NULL;
        const struct kafka_group *g;
        struct err err;

        (void)st;
        assert_int_equal(tu_kafka_broker_up(&k, 2), 0);
        for (;;) {
                it_poll(&d, &err);
                assert_non_null(d);
                g = group_named(d, "g-coord2");
                if (broker_id(d, 2)->up == 1 && topic_named(d, "orders")->hwm_unknown == 0 &&
                    topic_named(d, "payments")->hwm_unknown == 0 && g->offsets_known)
                        break;
                if (clock_mono_ms() > deadline)
                        fail_msg("not recovered 20 s after broker 2 came back: %s", err.msg);
                coll_kafka_ops.data_free(d);
        }
        check_hwm(d, "orders", 1, 200);
        check_hwm(d, "payments", 1, 0);
        check_part(group_named(d, "g-lag"), "orders", 1, 200, 200, 0);
        check_part(g, "orders", 1, 150, 200, 50);
        assert_false(has_note(d, "broker 2"));
        coll_kafka_ops.data_free(d);
}

/* 6 ------------------------------------------------------------------------ */

static void test_runtime(void **st)
{
        struct collector *c;
        struct snapshot *s;
        int64_t t0;

        (void)st;
        assert_int_equal(tu_kafka_broker_down(&k, 3), 0);
        c = collector_start(&cfg->sources[0], -1, false);
        assert_true(collector_wait_gen(c, 1, clock_mono_ms() + 60000));
        s = collector_latest(c, NULL);
        assert_non_null(s);
        assert_int_equal(s->status, COLL_DEGRADED);
        assert_non_null(s->data);
        assert_true(strstr(s->error, "broker 3") != NULL);
        snapshot_unref(s);
        t0 = clock_mono_ms();
        collector_stop_all(&c, 1);
        /* Returns (a bound for a loaded machine, not a speed target). */
        if (clock_mono_ms() - t0 > 60000)
                fail_msg("stop took %lld ms", (long long)(clock_mono_ms() - t0));
        assert_int_equal(tu_kafka_broker_up(&k, 3), 0);
}

/* 7 ------------------------------------------------------------------------ */

static void test_bad_inputs(void **st)
{
        struct config *c;
        struct kafka_data *d;
        struct err err;
        void *s2;
        int64_t took;
        char *extra;

        (void)st;
        /* Port 1 on loopback: nothing listens there. */
        c = it_config("it-dead", "127.0.0.1:1", NULL, "800ms");
        s2 = coll_kafka_ops.create(&c->sources[0]);
        assert_int_equal(it_poll_on(s2, &c->sources[0], -1, &d, &err, &took), COLL_DOWN);
        assert_null(d);
        assert_true(took <= 800 + IT_MARGIN_MS);
        assert_true(strstr(err.msg, "no broker answered within 800 ms") != NULL);
        assert_true(strstr(err.msg, "127.0.0.1:1") != NULL);
        coll_kafka_ops.destroy(s2);
        config_free(c);

        /* SASL with the password variable unset: down, naming the variable. */
        unsetenv("LO_IT_KAFKA_PW");
        extra = xasprintf("    security_protocol: sasl_plaintext\n"
                          "    sasl_mechanism: PLAIN\n"
                          "    sasl_username: lambdaops\n"
                          "    sasl_password_env: LO_IT_KAFKA_PW\n");
        c = it_config("it-sasl", k.bootstraps, extra, "800ms");
        s2 = coll_kafka_ops.create(&c->sources[0]);
        assert_int_equal(it_poll_on(s2, &c->sources[0], -1, &d, &err, &took), COLL_DOWN);
        assert_true(strstr(err.msg, "LO_IT_KAFKA_PW") != NULL);
        coll_kafka_ops.destroy(s2);

        /* With a password, against brokers that do not speak SASL: down
         * within the timeout, and the password appears nowhere. */
        setenv("LO_IT_KAFKA_PW", "hunter2-sekrit", 1);
        s2 = coll_kafka_ops.create(&c->sources[0]);
        assert_int_equal(it_poll_on(s2, &c->sources[0], -1, &d, &err, &took), COLL_DOWN);
        assert_true(took <= 800 + IT_MARGIN_MS);
        assert_true(err.msg[0] != '\0');
        assert_null(strstr(err.msg, "hunter2"));
        coll_kafka_ops.destroy(s2);
        unsetenv("LO_IT_KAFKA_PW");
        config_free(c);
        free(extra);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_metadata),
                cmocka_unit_test(test_exact_lag),
                cmocka_unit_test(test_admin_path_agrees),
                cmocka_unit_test(test_status_transitions),
                cmocka_unit_test(test_broker_down),
                cmocka_unit_test(test_broker_up),
                cmocka_unit_test(test_runtime),
                cmocka_unit_test(test_bad_inputs),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
