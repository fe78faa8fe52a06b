/*
 * test_view_kafka: the Kafka pane's pure rows(), preamble() and detail() on
 * hand-built kafka data. Four sources: prod (KRaft, three brokers and a
 * controller-only voter, two topics, four groups of every status, with
 * thresholds), zk (no quorum: "quorum unavailable"), down (an error, no
 * data) and a non-kafka source the pane must ignore. Asserts exact cells
 * and their roles in each sub-view, group order for each sort key, that
 * unknown values print "-" (never 0), row severities, the "/" filter, the
 * per-source header line (quorum leader/epoch, worst group) and the
 * quorum-unavailable line, the group partition page and its windowed form.
 * And the quorum fallback: a kafka source whose DescribeQuorum fails and
 * that names a `quorum_prometheus` source shows that source's raft-metrics
 * quorum (header line, brokers + quorum rows), marked "from Prometheus";
 * without a quorum there the output is unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/collector.h"
#include "core/config.h"
#include "collectors/kafka/kafka.h"
#include "collectors/prometheus.h"
#include "core/ring.h"
#include "core/snapshot.h"
#include "core/util.h"
#include "views/view.h"
#include "views/kafka.h"

#define NOW 5000000

enum { PROD, ZK, DOWN, FAKE, NSRC };

static const struct collector_ops fake_ops = { .name = "fake", .title = "Fake" };
static struct threshold prod_thr[5];
static struct source_cfg srcs[NSRC];
static struct snapshot *snaps[NSRC];

static const struct threshold_def *kdef(const char *name)
{
        for (size_t i = 0; coll_kafka_ops.thresholds[i].name; i++)
                if (strcmp(coll_kafka_ops.thresholds[i].name, name) == 0)
                        return &coll_kafka_ops.thresholds[i];
        fail_msg("no threshold %s", name);
        return NULL;
}

static void init_sources(void)
{
        static const struct {
                const char *name;
                double warn, crit;
        } thr[] = {
                { "group_lag", 100, 1000 },
                { "group_lag_seconds", 60, 600 },
                { "quorum_follower_lag", 10, 100 },
                { "under_replicated", 1, NAN },
                { "offline", NAN, 1 },
        };
        static const char *const names[NSRC] = { "prod", "zk", "down", "queue" };

        for (size_t i = 0; i < LO_ARRAY_LEN(thr); i++) {
                prod_thr[i].def = kdef(thr[i].name);
                prod_thr[i].warn = thr[i].warn;
                prod_thr[i].crit = thr[i].crit;
        }
        memset(srcs, 0, sizeof srcs);
        for (int i = 0; i < NSRC; i++) {
                srcs[i].name = (char *)names[i];
                srcs[i].kind = (char *)(i == FAKE ? "fake" : "kafka");
                srcs[i].ops = i == FAKE ? &fake_ops : &coll_kafka_ops;
                srcs[i].interval_ms = 5000;
                srcs[i].timeout_ms = 3000;
        }
        srcs[PROD].thresholds = prod_thr;
        srcs[PROD].n_thresholds = LO_ARRAY_LEN(prod_thr);
}

static const char *pool(struct kafka_data *d, const char *name)
{
        for (size_t i = 0; i < d->n_names; i++)
                if (strcmp(d->names[i], name) == 0)
                        return d->names[i];
        d->names = xrealloc(d->names, (d->n_names + 1) * sizeof *d->names);
        d->names[d->n_names] = xstrdup(name);
        return d->names[d->n_names++];
}

static void add_broker(struct kafka_data *d, int32_t id, const char *host, const char *rack,
                       int8_t up, double rtt, int leads)
{
        struct kafka_broker *b;

        d->brokers = xrealloc(d->brokers, (d->n_brokers + 1) * sizeof *d->brokers);
        b = &d->brokers[d->n_brokers++];
        memset(b, 0, sizeof *b);
        b->id = id;
        b->host = xstrdup(host);
        b->port = 9092;
        b->rack = xstrdup(rack);
        b->up = up;
        b->in_metadata = true;
        b->rtt_ms = rtt;
        b->leader_for = leads;
        d->brokers_up += up == 1;
}

static struct kafka_replica replica(int32_t id, int64_t leo, int64_t lag, int64_t fetch,
                                    int64_t caught)
{
        return (struct kafka_replica){ id, leo, lag, fetch, caught };
}

static struct kafka_topic *add_topic(struct kafka_data *d, const char *name, int parts, int rf,
                                     int under, int offline, double rate)
{
        struct kafka_topic *t;

        d->topics = xrealloc(d->topics, (d->n_topics + 1) * sizeof *d->topics);
        t = &d->topics[d->n_topics++];
        memset(t, 0, sizeof *t);
        t->name = pool(d, name);
        t->partitions = parts;
        t->replication_factor = rf;
        t->under_replicated = under;
        t->offline = offline;
        t->messages_per_sec = rate;
        t->parts = xcalloc((size_t)parts, sizeof *t->parts);
        for (int i = 0; i < parts; i++) {
                t->parts[i].id = i;
                t->parts[i].leader = offline ? -1 : 1;
                t->parts[i].replicas = (int16_t)rf;
                t->parts[i].isr = (int16_t)(i < under ? rf - 1 : rf);
                t->parts[i].high_watermark = offline ? -1 : 1000 + i;
        }
        d->n_partitions += (size_t)parts;
        return t;
}

static struct kafka_group *add_group(struct kafka_data *d, const char *name, const char *state,
                                     enum lag_status st, enum lag_status worst, int64_t lag,
                                     double secs, double secs_min)
{
        struct kafka_group *g;

        d->groups = xrealloc(d->groups, (d->n_groups + 1) * sizeof *d->groups);
        g = &d->groups[d->n_groups++];
        memset(g, 0, sizeof *g);
        g->name = xstrdup(name);
        g->state = xstrdup(state);
        g->members = state ? 1 : -1;
        g->status = st;
        g->worst = worst;
        g->lag = lag;
        g->lag_seconds = secs;
        g->lag_seconds_min = secs_min;
        g->trend.rate = NAN;
        g->trend.eta_s = NAN;
        ring_init(&g->lag_hist);
        return g;
}

static void add_gpart(struct kafka_data *d, struct kafka_group *g, const char *topic, int32_t p,
                      int64_t committed, int64_t hwm, double secs, enum lag_status st)
{
        struct kafka_group_part *gp;

        g->parts = xrealloc(g->parts, (g->n_parts + 1) * sizeof *g->parts);
        gp = &g->parts[g->n_parts++];
        memset(gp, 0, sizeof *gp);
        gp->topic = pool(d, topic);
        gp->partition = p;
        gp->committed = committed;
        gp->high_watermark = hwm;
        gp->lag = committed >= 0 && hwm >= 0 ? hwm - committed : -1;
        gp->lag_seconds = secs;
        gp->lag_seconds_min = NAN;
        gp->status = st;
        gp->n_hist = 3;
        gp->lag_hist[0] = 100;
        gp->lag_hist[1] = gp->lag;
        gp->lag_hist[2] = gp->lag;
        if (gp->lag < 0)
                g->n_unknown++;
}

static struct kafka_data *prod_data(void)
{
        struct kafka_data *d = xcalloc(1, sizeof *d);
        struct kafka_quorum *q = &d->quorum;
        struct kafka_topic *t;
        struct kafka_group *g;

        d->cluster_id = xstrdup("abc123");
        add_broker(d, 1, "b1", "r1", 1, 1.5, 10);
        add_broker(d, 2, "b2", NULL, 0, NAN, 0);
        add_broker(d, 3, "b3", "r3", -1, NAN, 2);
        q->available = true;
        q->leader_id = 1;
        q->leader_epoch = 7;
        q->high_watermark = 500;
        q->voters = xcalloc(3, sizeof *q->voters);
        q->voters[0] = replica(1, 500, 0, -1, -1);
        q->voters[1] = replica(2, 480, 20, 1500, 3000);
        q->voters[2] = replica(4, 450, 50, 200, 61000);
        q->n_voters = 3;
        q->observers = xcalloc(1, sizeof *q->observers);
        q->observers[0] = replica(3, -1, -1, -1, -1);
        q->n_observers = 1;
        q->history[0] = (struct kafka_epoch_change){ 0, 2, 6 };
        q->history[1] = (struct kafka_epoch_change){ 61000, 1, 7 };
        q->n_history = 2;

        t = add_topic(d, "orders", 3, 3, 1, 0, 12.5);
        t->n_rate_hist = 3;
        t->rate_hist[0] = NAN;
        t->rate_hist[1] = 10;
        t->rate_hist[2] = 12.5f;
        add_topic(d, "payments", 1, 3, 0, 1, NAN);
        d->under_replicated = 1;
        d->offline = 1;

        /* The collector's order (largest lag first) differs from every sort. */
        g = add_group(d, "audit", NULL, LAG_UNKNOWN, LAG_UNKNOWN, -1, NAN, NAN);
        g = add_group(d, "billing", "Stable", LAG_ERR, LAG_STALL, 1500, 120, NAN);
        add_gpart(d, g, "orders", 0, 100, 900, 120, LAG_STALL);
        add_gpart(d, g, "orders", 1, -1, 700, NAN, LAG_UNKNOWN);
        g->lag = 800;
        ring_push(&g->lag_hist, NOW - 10000, 700);
        ring_push(&g->lag_hist, NOW, 800);
        g->trend = (struct lag_trend){ 12.5, LAG_DIR_FALLING_BEHIND, NAN, 12.5 };
        g = add_group(d, "search", "Empty", LAG_WARN, LAG_WARN, 50, NAN, 300);
        g = add_group(d, "etl", "Stable", LAG_OK, LAG_OK, 0, 0, NAN);
        ring_push(&g->lag_hist, NOW - 10000, 90);
        ring_push(&g->lag_hist, NOW, 60);
        g->trend = (struct lag_trend){ -3.0, LAG_DIR_CATCHING_UP, 184, 0 };
        d->notes = xcalloc(1, sizeof *d->notes);
        d->notes[0] = xstrdup("the brokers do not list groups: configured groups only");
        d->n_notes = 1;
        return d;
}

static struct kafka_data *zk_data(void)
{
        struct kafka_data *d = xcalloc(1, sizeof *d);

        add_broker(d, 7, "zk-b7", NULL, 1, 0.5, 1);
        d->quorum.leader_id = -1;
        d->quorum.leader_epoch = -1;
        d->quorum.high_watermark = -1;
        str_copy(d->quorum.reason, "DescribeQuorum (API 55) not supported: ZooKeeper mode?",
                 sizeof d->quorum.reason);
        add_topic(d, "legacy", 1, 1, 0, 0, 0);
        return d;
}

static int setup(void **state)
{
        (void)state;
        init_sources();
        for (int i = 0; i < NSRC; i++) {
                snaps[i] = snapshot_new(&srcs[i]);
                snaps[i]->status = COLL_OK;
                snaps[i]->collected_at = 1700000000000;
                snaps[i]->collected_mono = NOW - 2000;
                snaps[i]->seq = 3;
        }
        snaps[PROD]->data = prod_data();
        snaps[ZK]->data = zk_data();
        snaps[DOWN]->status = COLL_DOWN;
        str_copy(snaps[DOWN]->error, "bootstrap b9:9092: connection refused",
                 sizeof snaps[DOWN]->error);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        for (int i = 0; i < NSRC; i++)
                snapshot_unref(snaps[i]);
        return 0;
}

static struct view_data vd(unsigned flags)
{
        struct view_data d;

        memset(&d, 0, sizeof d);
        d.srcs = srcs;
        d.snaps = (const struct snapshot *const *)snaps;
        d.n = NSRC;
        d.now_mono = NOW;
        d.width = 120;
        d.flags = flags;
        return d;
}

#define CELL(r, i, c) ((r).v[i].cell[c].text)
#define ROLE(r, i, c) ((r).v[i].cell[c].role)

static void test_groups_cells(void **state)
{
        struct view_data d = vd(0);
        struct table_rows r;

        (void)state;
        table_rows_init(&r);
        view_kafka_rows(&d, &r);
        assert_int_equal(r.n, 4);
        /* By lag, largest first, unknown last. */
        assert_string_equal(CELL(r, 0, KVG_GROUP), "billing");
        assert_string_equal(CELL(r, 1, KVG_GROUP), "search");
        assert_string_equal(CELL(r, 2, KVG_GROUP), "etl");
        assert_string_equal(CELL(r, 3, KVG_GROUP), "audit");
        assert_string_equal(r.v[0].id, "prod\tgroup\tbilling");

        assert_string_equal(CELL(r, 0, KVG_SOURCE), "prod");
        assert_string_equal(CELL(r, 0, KVG_STATE), "Stable");
        assert_string_equal(CELL(r, 0, KVG_STATUS), "err (stall)");
        assert_int_equal(ROLE(r, 0, KVG_STATUS), ROLE_CRIT);
        assert_string_equal(CELL(r, 0, KVG_LAG), "800+?");      /* one partition unknown */
        assert_int_equal(ROLE(r, 0, KVG_LAG), ROLE_WARN);
        assert_string_equal(CELL(r, 0, KVG_SECONDS), "2m00s");
        assert_int_equal(ROLE(r, 0, KVG_SECONDS), ROLE_WARN);
        assert_string_equal(CELL(r, 0, KVG_TREND), "\u2191 +12.5/s");
        assert_int_equal(ROLE(r, 0, KVG_TREND), ROLE_WARN);
        assert_string_equal(CELL(r, 0, KVG_PARTS), "2");
        assert_int_equal(ROLE(r, 0, KVG_HIST), ROLE_SPARK);
        assert_non_null(strstr(CELL(r, 0, KVG_HIST), "\u2588"));
        assert_int_equal(r.v[0].sev, SEV_CRIT);

        assert_string_equal(CELL(r, 1, KVG_STATUS), "warn");
        assert_int_equal(ROLE(r, 1, KVG_STATUS), ROLE_WARN);
        assert_string_equal(CELL(r, 1, KVG_LAG), "50");
        assert_int_equal(ROLE(r, 1, KVG_LAG), ROLE_OK);
        assert_string_equal(CELL(r, 1, KVG_SECONDS), "> 5m00s");
        assert_int_equal(ROLE(r, 1, KVG_SECONDS), ROLE_WARN);
        assert_string_equal(CELL(r, 1, KVG_TREND), "-");
        assert_int_equal(r.v[1].sev, SEV_WARN);

        assert_string_equal(CELL(r, 2, KVG_STATUS), "ok");
        assert_int_equal(ROLE(r, 2, KVG_STATUS), ROLE_OK);
        assert_string_equal(CELL(r, 2, KVG_LAG), "0");
        assert_string_equal(CELL(r, 2, KVG_SECONDS), "0s");
        assert_string_equal(CELL(r, 2, KVG_TREND), "\u2193 ETA 3m04s");
        assert_int_equal(r.v[2].sev, SEV_OK);

        /* Unknown: "-", never 0. */
        assert_string_equal(CELL(r, 3, KVG_STATE), "-");
        assert_int_equal(ROLE(r, 3, KVG_STATE), ROLE_DIM);
        assert_string_equal(CELL(r, 3, KVG_STATUS), "unknown");
        assert_int_equal(ROLE(r, 3, KVG_STATUS), ROLE_UNKNOWN);
        assert_string_equal(CELL(r, 3, KVG_LAG), "-");
        assert_int_equal(ROLE(r, 3, KVG_LAG), ROLE_DIM);
        assert_string_equal(CELL(r, 3, KVG_SECONDS), "-");
        assert_string_equal(CELL(r, 3, KVG_TREND), "-");
        assert_string_equal(CELL(r, 3, KVG_PARTS), "0");
        assert_false(r.v[3].stale);

        /* "/" filter through the table helper. */
        assert_int_equal(table_filter(&r, "SEAR"), 1);
        assert_string_equal(CELL(r, 0, KVG_GROUP), "search");
        table_rows_done(&r);
}

static void expect_order(unsigned flags, const char *const *want, size_t n)
{
        struct view_data d = vd(flags);
        struct table_rows r;

        table_rows_init(&r);
        view_kafka_rows(&d, &r);
        assert_int_equal(r.n, n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(CELL(r, i, KVG_GROUP), want[i]);
        table_rows_done(&r);
}

static void test_groups_sort(void **state)
{
        static const char *const lag[] = { "billing", "search", "etl", "audit" };
        /* Known seconds first (largest first), then lower bounds, then unknown. */
        static const char *const secs[] = { "billing", "etl", "search", "audit" };
        /* err with stall > warn > ok > unknown. */
        static const char *const status[] = { "billing", "search", "etl", "audit" };

        (void)state;
        expect_order(VIEW_KAFKA_SORT_LAG, lag, 4);
        expect_order(VIEW_KAFKA_SORT_SECONDS, secs, 4);
        expect_order(VIEW_KAFKA_SORT_STATUS, status, 4);

        /* Status ranks by the worst partition: a rewind beats a stall even
         * with less lag. */
        {
                struct kafka_data *kd = snaps[PROD]->data;
                static const char *const st2[] = { "etl", "billing", "search", "audit" };

                kd->groups[3].status = LAG_ERR;
                kd->groups[3].worst = LAG_REWIND;
                expect_order(VIEW_KAFKA_SORT_STATUS, st2, 4);
                kd->groups[3].status = LAG_OK;
                kd->groups[3].worst = LAG_OK;
        }
}

static void test_brokers_quorum_rows(void **state)
{
        struct view_data d = vd(VIEW_KAFKA_SHOW_BROKERS);
        struct table_rows r;

        (void)state;
        table_rows_init(&r);
        view_kafka_rows(&d, &r);
        /* prod: brokers 1-3 and controller 4; zk: broker 7. */
        assert_int_equal(r.n, 5);
        assert_string_equal(r.v[0].id, "prod\tnode\t1");
        assert_string_equal(CELL(r, 0, KVB_ID), "1");
        assert_string_equal(CELL(r, 0, KVB_ADDR), "b1:9092");
        assert_string_equal(CELL(r, 0, KVB_RACK), "r1");
        assert_string_equal(CELL(r, 0, KVB_UP), "up");
        assert_int_equal(ROLE(r, 0, KVB_UP), ROLE_OK);
        assert_string_equal(CELL(r, 0, KVB_RTT), "1.5ms");
        assert_string_equal(CELL(r, 0, KVB_LEADS), "10");
        assert_string_equal(CELL(r, 0, KVB_QUORUM), "leader");
        assert_int_equal(ROLE(r, 0, KVB_QUORUM), ROLE_OK);
        assert_string_equal(CELL(r, 0, KVB_LEO), "500");
        assert_string_equal(CELL(r, 0, KVB_QLAG), "0");
        assert_string_equal(CELL(r, 0, KVB_FETCH), "-");
        assert_string_equal(CELL(r, 0, KVB_CAUGHT), "-");
        assert_int_equal(r.v[0].sev, SEV_OK);

        assert_string_equal(CELL(r, 1, KVB_UP), "down");
        assert_int_equal(ROLE(r, 1, KVB_UP), ROLE_CRIT);
        assert_string_equal(CELL(r, 1, KVB_RACK), "-");
        assert_string_equal(CELL(r, 1, KVB_RTT), "-");
        assert_int_equal(ROLE(r, 1, KVB_RTT), ROLE_DIM);
        assert_string_equal(CELL(r, 1, KVB_QUORUM), "voter");
        assert_string_equal(CELL(r, 1, KVB_QLAG), "20");
        assert_int_equal(ROLE(r, 1, KVB_QLAG), ROLE_WARN);
        assert_string_equal(CELL(r, 1, KVB_FETCH), "1s");
        assert_string_equal(CELL(r, 1, KVB_CAUGHT), "3s");
        assert_int_equal(r.v[1].sev, SEV_CRIT);

        assert_string_equal(CELL(r, 2, KVB_UP), "unknown");
        assert_int_equal(ROLE(r, 2, KVB_UP), ROLE_UNKNOWN);
        assert_string_equal(CELL(r, 2, KVB_QUORUM), "observer");
        assert_string_equal(CELL(r, 2, KVB_LEO), "-");
        assert_string_equal(CELL(r, 2, KVB_QLAG), "-");

        assert_string_equal(CELL(r, 3, KVB_ID), "4");
        assert_string_equal(CELL(r, 3, KVB_ADDR), "(controller)");
        assert_string_equal(CELL(r, 3, KVB_LEADS), "-");
        assert_string_equal(CELL(r, 3, KVB_QUORUM), "voter");
        assert_string_equal(CELL(r, 3, KVB_QLAG), "50");
        assert_string_equal(CELL(r, 3, KVB_CAUGHT), "1m01s");

        assert_string_equal(CELL(r, 4, KVB_SOURCE), "zk");
        assert_string_equal(CELL(r, 4, KVB_QUORUM), "-");
        assert_string_equal(CELL(r, 4, KVB_LEO), "-");
        table_rows_done(&r);
}

static void test_topics_rows(void **state)
{
        struct view_data d = vd(VIEW_KAFKA_SHOW_TOPICS);
        struct table_rows r;

        (void)state;
        table_rows_init(&r);
        view_kafka_rows(&d, &r);
        assert_int_equal(r.n, 3);
        assert_string_equal(r.v[0].id, "prod\ttopic\torders");
        assert_string_equal(CELL(r, 0, KVT_PARTS), "3");
        assert_string_equal(CELL(r, 0, KVT_RF), "3");
        assert_string_equal(CELL(r, 0, KVT_UNDER), "1");
        assert_int_equal(ROLE(r, 0, KVT_UNDER), ROLE_WARN);
        assert_string_equal(CELL(r, 0, KVT_OFFLINE), "0");
        assert_int_equal(ROLE(r, 0, KVT_OFFLINE), ROLE_DEFAULT);
        assert_string_equal(CELL(r, 0, KVT_RATE), "12.5");
        assert_int_equal(ROLE(r, 0, KVT_HIST), ROLE_SPARK);
        assert_int_equal(r.v[0].sev, SEV_WARN);
        assert_string_equal(CELL(r, 1, KVT_TOPIC), "payments");
        assert_string_equal(CELL(r, 1, KVT_OFFLINE), "1");
        assert_int_equal(ROLE(r, 1, KVT_OFFLINE), ROLE_CRIT);
        assert_string_equal(CELL(r, 1, KVT_RATE), "-");         /* unknown, not 0 */
        assert_int_equal(ROLE(r, 1, KVT_RATE), ROLE_DIM);
        assert_int_equal(r.v[1].sev, SEV_CRIT);
        assert_string_equal(CELL(r, 2, KVT_TOPIC), "legacy");
        assert_string_equal(CELL(r, 2, KVT_RATE), "0");         /* known zero */
        table_rows_done(&r);
}

static void line(const struct tlines *l, size_t i, char *buf, size_t n)
{
        assert_true(i < l->n);
        tline_text(&l->v[i], buf, n);
}

static void test_preamble(void **state)
{
        struct view_data d = vd(0);
        struct tlines l;
        char buf[1024];

        (void)state;
        tlines_init(&l);
        view_kafka_preamble(&d, &l);
        /* prod, its note, zk, down, the prompt. */
        assert_int_equal(l.n, 5);
        line(&l, 0, buf, sizeof buf);
        assert_string_equal(buf, "prod  brokers 1/3 up  quorum leader 1 epoch 7  worst group "
                            "billing err (stall) lag 800 (2m00s)  age 2s  abc123");
        assert_int_equal(l.v[0].seg[1].role, ROLE_CRIT);        /* brokers down */
        line(&l, 1, buf, sizeof buf);
        assert_string_equal(buf, "  note: the brokers do not list groups: configured groups only");
        line(&l, 2, buf, sizeof buf);
        assert_string_equal(buf, "zk  brokers 1/1 up  no groups  age 2s  quorum unavailable: "
                            "DescribeQuorum (API 55) not supported: ZooKeeper mode?");
        assert_int_equal(l.v[2].seg[4].role, ROLE_WARN);
        line(&l, 3, buf, sizeof buf);
        assert_string_equal(buf, "down  bootstrap b9:9092: connection refused");
        assert_int_equal(l.v[3].seg[1].role, ROLE_CRIT);
        line(&l, 4, buf, sizeof buf);
        assert_string_equal(buf, "groups by lag (v: brokers + quorum, topics; s: sort by lag, "
                            "lag seconds, status)");
        tlines_done(&l);

        /* Brokers sub-view: the quorum block; unavailable says why. */
        d = vd(VIEW_KAFKA_SHOW_BROKERS);
        tlines_init(&l);
        view_kafka_preamble(&d, &l);
        assert_int_equal(l.n, 8);
        line(&l, 1, buf, sizeof buf);
        assert_string_equal(buf, "  prod: quorum high watermark 500  voters 3  observers 1");
        line(&l, 2, buf, sizeof buf);
        assert_string_equal(buf, "  epoch changes: 00:00:00 leader 2 epoch 6, 00:01:01 leader 1 "
                            "epoch 7");
        line(&l, 5, buf, sizeof buf);
        assert_string_equal(buf, "  zk: quorum unavailable: DescribeQuorum (API 55) not "
                            "supported: ZooKeeper mode?");
        assert_int_equal(l.v[5].seg[0].role, ROLE_WARN);
        line(&l, 7, buf, sizeof buf);
        assert_string_equal(buf, "brokers + quorum (v cycles: groups, brokers + quorum, topics)");
        tlines_done(&l);
}

/* Whitespace-separated words of a line (sparkline glyphs excluded). */
static void expect_words(const char *text, const char *const *want, size_t n)
{
        char buf[1024], *save = NULL, *w;
        size_t i = 0;

        str_copy(buf, text, sizeof buf);
        for (w = strtok_r(buf, " ", &save); w && i < n; w = strtok_r(NULL, " ", &save), i++)
                assert_string_equal(w, want[i]);
        assert_int_equal(i, n);
}

static void test_group_detail(void **state)
{
        static const char *const p0[] = { "orders", "0", "100", "900", "800", "2m00s", "stall" };
        static const char *const p1[] = { "orders", "1", "-", "700", "-", "-", "unknown" };
        struct view_data d = vd(0);
        struct tlines l, w;
        char buf[1024], b2[1024];
        size_t total, hdr;

        (void)state;
        tlines_init(&l);
        view_kafka_detail(&d, "prod\tgroup\tbilling", &l);
        line(&l, 0, buf, sizeof buf);
        assert_string_equal(buf, "Group billing  on prod");
        hdr = l.n - 2;
        line(&l, hdr - 1, buf, sizeof buf);
        assert_non_null(strstr(buf, "TOPIC"));
        assert_non_null(strstr(buf, "LAG TIME"));
        line(&l, hdr, buf, sizeof buf);
        expect_words(buf, p0, LO_ARRAY_LEN(p0));
        assert_int_equal(l.v[hdr].seg[1].role, ROLE_CRIT);
        assert_int_equal(l.v[hdr].seg[2].role, ROLE_SPARK);
        line(&l, hdr + 1, buf, sizeof buf);
        expect_words(buf, p1, LO_ARRAY_LEN(p1));
        assert_int_equal(l.v[hdr + 1].seg[1].role, ROLE_UNKNOWN);
        /* The key/value part says the same. */
        for (size_t i = 0; i < hdr; i++) {
                line(&l, i, buf, sizeof buf);
                if (strstr(buf, "lag seconds"))
                        assert_non_null(strstr(buf, "2m00s"));
                if (strstr(buf, "status"))
                        assert_non_null(strstr(buf, "err (stall)"));
        }

        /* The window formats only what is asked for, and the same text. */
        tlines_init(&w);
        total = view_kafka_detail_window(&d, "prod\tgroup\tbilling", hdr + 1, 1, &w);
        assert_int_equal(total, l.n);
        assert_int_equal(w.n, 1);
        line(&w, 0, b2, sizeof b2);
        line(&l, hdr + 1, buf, sizeof buf);
        assert_string_equal(b2, buf);
        tlines_done(&w);
        tlines_init(&w);
        assert_int_equal(view_kafka_detail_window(&d, "prod\tgroup\tbilling", 0, 0, &w), l.n);
        assert_int_equal(w.n, 0);
        tlines_done(&w);
        tlines_done(&l);

        /* A group that went away, a source without data. */
        tlines_init(&l);
        view_kafka_detail(&d, "prod\tgroup\tgone", &l);
        line(&l, 1, buf, sizeof buf);
        assert_string_equal(buf, "  this group is not in the latest data");
        tlines_done(&l);
        tlines_init(&l);
        view_kafka_detail(&d, "down\tgroup\tx", &l);
        line(&l, 1, buf, sizeof buf);
        assert_string_equal(buf, "  no data from this source: bootstrap b9:9092: connection "
                            "refused");
        tlines_done(&l);
}

static void test_topic_and_node_detail(void **state)
{
        struct view_data d = vd(VIEW_KAFKA_SHOW_TOPICS);
        struct tlines l;
        char buf[1024];

        (void)state;
        tlines_init(&l);
        view_kafka_detail(&d, "prod\ttopic\tpayments", &l);
        line(&l, l.n - 1, buf, sizeof buf);
        assert_string_equal(buf, "      0   none        3    3            -");
        assert_int_equal(l.v[l.n - 1].seg[0].role, ROLE_CRIT);
        tlines_done(&l);

        tlines_init(&l);
        view_kafka_detail(&d, "zk\tnode\t7", &l);
        line(&l, l.n - 1, buf, sizeof buf);
        assert_non_null(strstr(buf, "unavailable: DescribeQuorum (API 55) not supported"));
        tlines_done(&l);

        tlines_init(&l);
        view_kafka_detail(&d, "prod\tnode\t4", &l);
        line(&l, 1, buf, sizeof buf);
        assert_non_null(strstr(buf, "not a broker"));
        line(&l, 2, buf, sizeof buf);
        assert_non_null(strstr(buf, "voter"));
        tlines_done(&l);
}

/* ---- the quorum_prometheus fallback ------------------------------------- */

static struct prom_member pmember(const char *inst, int64_t id, const char *st, int64_t leo,
                                  int64_t lag)
{
        return (struct prom_member){ xstrdup(inst), id, st ? xstrdup(st) : NULL, leo, lag };
}

/* A prometheus snapshot: with_quorum gives leader 7 epoch 9, high
 * watermark 900, voters 7 (leader), 8 (lag 40) and one without a node id,
 * observer 9 (lag 150); else "no raft metrics". */
static struct prom_data *prom_quorum_data(bool with_quorum)
{
        struct prom_data *d = xcalloc(1, sizeof *d);
        struct prom_quorum *q = &d->quorum;

        d->quorum_asked = true;
        q->leader_id = q->leader_epoch = q->high_watermark = -1;
        if (!with_quorum) {
                str_copy(q->reason, "no raft metrics", sizeof q->reason);
                return d;
        }
        q->available = true;
        q->leader_id = 7;
        q->leader_epoch = 9;
        q->high_watermark = 900;
        q->voters = xcalloc(3, sizeof *q->voters);
        q->n_voters = 3;
        q->voters[0] = pmember("kafka/c7:9404", 7, "leader", 900, 0);
        q->voters[1] = pmember("kafka/c8:9404", 8, "follower", 860, 40);
        q->voters[2] = pmember("kafka/x:9404", -1, NULL, -1, -1);
        q->observers = xcalloc(1, sizeof *q->observers);
        q->n_observers = 1;
        q->observers[0] = pmember("kafka/b9:9404", 9, "observer", 750, 150);
        return d;
}

enum { FB_KAFKA, FB_PROM, FB_N };

static void fallback_setup(struct source_cfg *fs, struct snapshot **fsnap,
                           struct kafka_cfg *kc, bool with_quorum)
{
        memset(fs, 0, FB_N * sizeof *fs);
        memset(kc, 0, sizeof *kc);
        kc->quorum_prometheus.name = (char *)"prom";
        fs[FB_KAFKA] = srcs[ZK];
        fs[FB_KAFKA].name = (char *)"kraft";
        fs[FB_KAFKA].kind_cfg = kc;
        fs[FB_PROM].name = (char *)"prom";
        fs[FB_PROM].kind = (char *)"prometheus";
        fs[FB_PROM].ops = &coll_prometheus_ops;
        fs[FB_PROM].interval_ms = 5000;
        fs[FB_PROM].timeout_ms = 3000;
        kc->quorum_prometheus.src = &fs[FB_PROM];
        for (int i = 0; i < FB_N; i++) {
                fsnap[i] = snapshot_new(&fs[i]);
                fsnap[i]->status = COLL_OK;
                fsnap[i]->collected_at = 1700000000000;
                fsnap[i]->collected_mono = NOW - 2000;
                fsnap[i]->seq = 3;
        }
        fsnap[FB_KAFKA]->data = zk_data();      /* DescribeQuorum unavailable */
        fsnap[FB_PROM]->data = prom_quorum_data(with_quorum);
}

static struct view_data fallback_vd(const struct source_cfg *fs, struct snapshot **fsnap,
                                    unsigned flags)
{
        struct view_data d = vd(flags);

        d.srcs = fs;
        d.snaps = (const struct snapshot *const *)fsnap;
        d.n = FB_N;
        return d;
}

static void test_quorum_from_prometheus(void **state)
{
        struct source_cfg fs[FB_N];
        struct snapshot *fsnap[FB_N];
        struct kafka_cfg kc;
        struct view_data d;
        struct table_rows r;
        struct tlines l;
        char buf[1024];

        (void)state;
        fallback_setup(fs, fsnap, &kc, true);

        /* The header line: the Prometheus quorum, marked, in the place of
         * the DescribeQuorum one (and not the unavailable reason). */
        d = fallback_vd(fs, fsnap, 0);
        tlines_init(&l);
        view_kafka_preamble(&d, &l);
        assert_int_equal(l.n, 2);
        line(&l, 0, buf, sizeof buf);
        assert_string_equal(buf, "kraft  brokers 1/1 up  quorum leader 7 epoch 9 (from Prometheus "
                            "prom)  no groups  age 2s");
        assert_int_equal(l.v[0].seg[3].role, ROLE_OK);          /* " leader 7" */
        tlines_done(&l);

        /* Brokers sub-view: the quorum block names Prometheus and still says
         * why DescribeQuorum failed. */
        d = fallback_vd(fs, fsnap, VIEW_KAFKA_SHOW_BROKERS);
        tlines_init(&l);
        view_kafka_preamble(&d, &l);
        assert_int_equal(l.n, 4);
        line(&l, 0, buf, sizeof buf);
        assert_string_equal(buf, "kraft  brokers 1/1 up  quorum leader 7 epoch 9 (from Prometheus "
                            "prom)  no groups  age 2s");
        line(&l, 1, buf, sizeof buf);
        assert_string_equal(buf, "  kraft: quorum from Prometheus prom: high watermark 900  "
                            "voters 2  observers 1");
        line(&l, 2, buf, sizeof buf);
        assert_string_equal(buf, "  DescribeQuorum unavailable: DescribeQuorum (API 55) not "
                            "supported: ZooKeeper mode?");
        assert_int_equal(l.v[2].seg[0].role, ROLE_WARN);
        tlines_done(&l);

        /* Rows: broker 7 (the leader), controllers 8 and 9 from the metrics;
         * the voter without a node id has no row. No fetch ages. */
        table_rows_init(&r);
        view_kafka_rows(&d, &r);
        assert_int_equal(r.n, 3);
        assert_string_equal(r.v[0].id, "kraft\tnode\t7");
        assert_string_equal(CELL(r, 0, KVB_ADDR), "zk-b7:9092");
        assert_string_equal(CELL(r, 0, KVB_QUORUM), "leader");
        assert_int_equal(ROLE(r, 0, KVB_QUORUM), ROLE_OK);
        assert_string_equal(CELL(r, 0, KVB_LEO), "900");
        assert_string_equal(CELL(r, 0, KVB_QLAG), "0");
        assert_string_equal(CELL(r, 0, KVB_FETCH), "-");
        assert_string_equal(CELL(r, 0, KVB_CAUGHT), "-");
        assert_string_equal(r.v[1].id, "kraft\tnode\t8");
        assert_string_equal(CELL(r, 1, KVB_ADDR), "(controller)");
        assert_string_equal(CELL(r, 1, KVB_QUORUM), "voter");
        assert_string_equal(CELL(r, 1, KVB_LEO), "860");
        assert_string_equal(CELL(r, 1, KVB_QLAG), "40");
        assert_string_equal(CELL(r, 1, KVB_FETCH), "-");
        assert_string_equal(r.v[2].id, "kraft\tnode\t9");
        assert_string_equal(CELL(r, 2, KVB_QUORUM), "observer");
        assert_string_equal(CELL(r, 2, KVB_LEO), "750");
        assert_string_equal(CELL(r, 2, KVB_QLAG), "150");
        table_rows_done(&r);

        for (int i = 0; i < FB_N; i++)
                snapshot_unref(fsnap[i]);
}

static void test_quorum_prometheus_without_quorum(void **state)
{
        struct source_cfg fs[FB_N];
        struct snapshot *fsnap[FB_N];
        struct kafka_cfg kc;
        struct view_data d;
        struct table_rows r;
        struct tlines l;
        char buf[1024];

        (void)state;
        fallback_setup(fs, fsnap, &kc, false);

        d = fallback_vd(fs, fsnap, 0);
        tlines_init(&l);
        view_kafka_preamble(&d, &l);
        assert_int_equal(l.n, 2);
        line(&l, 0, buf, sizeof buf);
        assert_string_equal(buf, "kraft  brokers 1/1 up  no groups  age 2s  quorum unavailable: "
                            "DescribeQuorum (API 55) not supported: ZooKeeper mode?");
        tlines_done(&l);

        d = fallback_vd(fs, fsnap, VIEW_KAFKA_SHOW_BROKERS);
        tlines_init(&l);
        view_kafka_preamble(&d, &l);
        assert_int_equal(l.n, 3);
        line(&l, 1, buf, sizeof buf);
        assert_string_equal(buf, "  kraft: quorum unavailable: DescribeQuorum (API 55) not "
                            "supported: ZooKeeper mode?");
        tlines_done(&l);
        table_rows_init(&r);
        view_kafka_rows(&d, &r);
        assert_int_equal(r.n, 1);
        assert_string_equal(CELL(r, 0, KVB_QUORUM), "-");
        table_rows_done(&r);

        /* No data yet on the prometheus source: unchanged too. */
        snapshot_unref(fsnap[FB_PROM]);
        fsnap[FB_PROM] = NULL;
        d = fallback_vd(fs, fsnap, 0);
        tlines_init(&l);
        view_kafka_preamble(&d, &l);
        line(&l, 0, buf, sizeof buf);
        assert_string_equal(buf, "kraft  brokers 1/1 up  no groups  age 2s  quorum unavailable: "
                            "DescribeQuorum (API 55) not supported: ZooKeeper mode?");
        tlines_done(&l);

        snapshot_unref(fsnap[FB_KAFKA]);
}

static void test_columns(void **state)
{
        (void)state;
        assert_int_equal(table_ncols(view_kafka_columns(VIEW_KAFKA_SHOW_GROUPS)), KVG__COUNT);
        assert_int_equal(table_ncols(view_kafka_columns(VIEW_KAFKA_SHOW_BROKERS)), KVB__COUNT);
        assert_int_equal(table_ncols(view_kafka_columns(VIEW_KAFKA_SHOW_TOPICS)), KVT__COUNT);
        assert_ptr_equal(view_find("kafka"), &view_kafka_ops);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_groups_cells),
                cmocka_unit_test(test_groups_sort),
                cmocka_unit_test(test_brokers_quorum_rows),
                cmocka_unit_test(test_topics_rows),
                cmocka_unit_test(test_preamble),
                cmocka_unit_test(test_group_detail),
                cmocka_unit_test(test_topic_and_node_detail),
                cmocka_unit_test(test_quorum_from_prometheus),
                cmocka_unit_test(test_quorum_prometheus_without_quorum),
                cmocka_unit_test(test_columns),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
