/*
 * kafka_metrics: the Kafka source's figures for /metrics
 * (collector_ops.metrics; docs/metrics.md lists them): brokers, the KRaft
 * quorum (leader, epoch, high watermark, each voter's lag), topics
 * (partitions, under-replicated, offline, message rate) and consumer
 * groups with Burrow's verdicts (lag_eval.h): per group the lag, lag in
 * seconds and status; per partition the same. Unknown values (-1, NAN in
 * kafka_data) have no sample.
 */
#include "collectors/kafka/kafka.h"

#include <math.h>
#include <stdio.h>

#include "core/promtext.h"
#include "core/snapshot.h"

/* The group roll-up statuses, written as a full state set (0/1). */
static const enum lag_status kafka_group_statuses[] = {
        LAG_OK, LAG_WARN, LAG_ERR, LAG_UNKNOWN,
};

static void kafka_metrics_declare(struct promtext *p)
{
        promtext_declare(p, "lambdaops_kafka_broker_up", PROMTEXT_GAUGE,
                         "1 when the broker answered this poll, 0 when not; absent when never "
                         "contacted.");
        promtext_declare(p, "lambdaops_kafka_broker_rtt_seconds", PROMTEXT_GAUGE,
                         "Average request round trip to the broker (librdkafka statistics).");
        promtext_declare(p, "lambdaops_kafka_broker_leader_partitions", PROMTEXT_GAUGE,
                         "Partitions the broker leads.");
        promtext_declare(p, "lambdaops_kafka_brokers_up", PROMTEXT_GAUGE,
                         "Brokers that answered this poll.");
        promtext_declare(p, "lambdaops_kafka_quorum_available", PROMTEXT_GAUGE,
                         "1 when DescribeQuorum answered (KRaft), 0 when not.");
        promtext_declare(p, "lambdaops_kafka_quorum_leader_id", PROMTEXT_GAUGE,
                         "Node id of the KRaft controller quorum's leader.");
        promtext_declare(p, "lambdaops_kafka_quorum_leader_epoch", PROMTEXT_GAUGE,
                         "The quorum's leader epoch (grows at every election).");
        promtext_declare(p, "lambdaops_kafka_quorum_high_watermark", PROMTEXT_GAUGE,
                         "The metadata log's high watermark.");
        promtext_declare(p, "lambdaops_kafka_quorum_replica_lag", PROMTEXT_GAUGE,
                         "Records a voter or observer is behind the leader's log end offset.");
        promtext_declare(p, "lambdaops_kafka_quorum_replica_last_fetch_age_seconds",
                         PROMTEXT_GAUGE, "Seconds since the replica last fetched from the leader.");
        promtext_declare(p, "lambdaops_kafka_quorum_replica_last_caught_up_age_seconds",
                         PROMTEXT_GAUGE, "Seconds since the replica was last caught up.");
        promtext_declare(p, "lambdaops_kafka_partitions", PROMTEXT_GAUGE,
                         "Partitions of the watched topics.");
        promtext_declare(p, "lambdaops_kafka_under_replicated_partitions", PROMTEXT_GAUGE,
                         "Partitions with fewer in-sync replicas than replicas (watched topics).");
        promtext_declare(p, "lambdaops_kafka_offline_partitions", PROMTEXT_GAUGE,
                         "Partitions without a leader (watched topics).");
        promtext_declare(p, "lambdaops_kafka_topic_partitions", PROMTEXT_GAUGE,
                         "Partitions of the topic.");
        promtext_declare(p, "lambdaops_kafka_topic_under_replicated_partitions", PROMTEXT_GAUGE,
                         "The topic's partitions with fewer in-sync replicas than replicas.");
        promtext_declare(p, "lambdaops_kafka_topic_offline_partitions", PROMTEXT_GAUGE,
                         "The topic's partitions without a leader.");
        promtext_declare(p, "lambdaops_kafka_topic_messages_per_second", PROMTEXT_GAUGE,
                         "Messages produced to the topic per second (high watermark deltas).");
        promtext_declare(p, "lambdaops_kafka_group_lag", PROMTEXT_GAUGE,
                         "Messages the consumer group is behind, summed over its partitions "
                         "whose lag is known.");
        promtext_declare(p, "lambdaops_kafka_group_lag_seconds", PROMTEXT_GAUGE,
                         "How far behind the group is in time: its largest partition lag in "
                         "seconds.");
        promtext_declare(p, "lambdaops_kafka_group_status", PROMTEXT_GAUGE,
                         "1 for the group's Burrow-style status (ok, warn, err, unknown), 0 for "
                         "the others.");
        promtext_declare(p, "lambdaops_kafka_group_members", PROMTEXT_GAUGE,
                         "Members of the consumer group.");
        promtext_declare(p, "lambdaops_kafka_group_lag_growth_per_second", PROMTEXT_GAUGE,
                         "Slope of the group's lag over 5 minutes in messages/s (negative: "
                         "catching up).");
        promtext_declare(p, "lambdaops_kafka_group_partition_lag", PROMTEXT_GAUGE,
                         "Messages the group is behind on one partition.");
        promtext_declare(p, "lambdaops_kafka_group_partition_lag_seconds", PROMTEXT_GAUGE,
                         "How far behind the group is on one partition, in seconds.");
        promtext_declare(p, "lambdaops_kafka_group_partition_status", PROMTEXT_GAUGE,
                         "1 with the partition's Burrow-style status label (ok, warn, stop, "
                         "stall, rewind, unknown); one series per partition.");
}

static void kafka_metrics_replica(struct promtext *p, const char *s, const struct kafka_replica *r,
                                  const char *role)
{
        char id[16];

        snprintf(id, sizeof id, "%d", (int)r->id);
        if (r->lag >= 0)
                promtext_add(p, "lambdaops_kafka_quorum_replica_lag", (double)r->lag, "source", s,
                             "replica", id, "role", role, NULL);
        if (r->last_fetch_age_ms >= 0)
                promtext_add(p, "lambdaops_kafka_quorum_replica_last_fetch_age_seconds",
                             (double)r->last_fetch_age_ms / 1000.0, "source", s, "replica", id,
                             "role", role, NULL);
        if (r->last_caught_up_age_ms >= 0)
                promtext_add(p, "lambdaops_kafka_quorum_replica_last_caught_up_age_seconds",
                             (double)r->last_caught_up_age_ms / 1000.0, "source", s,
                             "replica", id, "role", role, NULL);
}

static void kafka_metrics_group(struct promtext *p, const char *s, const struct kafka_group *g)
{
        const char *n = g->name;

        if (g->lag >= 0)
                promtext_add(p, "lambdaops_kafka_group_lag", (double)g->lag, "source", s,
                             "group", n, NULL);
        promtext_add(p, "lambdaops_kafka_group_lag_seconds", g->lag_seconds, "source", s,
                     "group", n, NULL);
        for (size_t i = 0; i < sizeof kafka_group_statuses / sizeof *kafka_group_statuses; i++)
                promtext_add(p, "lambdaops_kafka_group_status",
                             g->status == kafka_group_statuses[i] ? 1 : 0, "source", s,
                             "group", n, "status", lag_status_name(kafka_group_statuses[i]), NULL);
        if (g->members >= 0)
                promtext_add(p, "lambdaops_kafka_group_members", g->members, "source", s,
                             "group", n, NULL);
        if (g->lag_hist.n >= 2)
                promtext_add(p, "lambdaops_kafka_group_lag_growth_per_second", g->trend.rate,
                             "source", s, "group", n, NULL);
        for (size_t i = 0; i < g->n_parts; i++) {
                const struct kafka_group_part *gp = &g->parts[i];
                char part[16];

                snprintf(part, sizeof part, "%d", (int)gp->partition);
                if (gp->lag >= 0)
                        promtext_add(p, "lambdaops_kafka_group_partition_lag", (double)gp->lag,
                                     "source", s, "group", n, "topic", gp->topic,
                                     "partition", part, NULL);
                promtext_add(p, "lambdaops_kafka_group_partition_lag_seconds", gp->lag_seconds,
                             "source", s, "group", n, "topic", gp->topic, "partition", part,
                             NULL);
                promtext_add(p, "lambdaops_kafka_group_partition_status", 1, "source", s,
                             "group", n, "topic", gp->topic, "partition", part,
                             "status", lag_status_name(gp->status), NULL);
        }
}

void kafka_metrics(const struct snapshot *snap, const struct source_cfg *src, struct promtext *p)
{
        const struct kafka_data *d = snap->data;
        const struct kafka_quorum *q = &d->quorum;
        const char *s = src->name;

        kafka_metrics_declare(p);
        for (size_t i = 0; i < d->n_brokers; i++) {
                const struct kafka_broker *b = &d->brokers[i];
                char id[16];

                snprintf(id, sizeof id, "%d", (int)b->id);
                if (b->up >= 0)
                        promtext_add(p, "lambdaops_kafka_broker_up", b->up, "source", s,
                                     "broker", id, NULL);
                promtext_add(p, "lambdaops_kafka_broker_rtt_seconds", b->rtt_ms / 1000.0,
                             "source", s, "broker", id, NULL);
                promtext_add(p, "lambdaops_kafka_broker_leader_partitions", b->leader_for,
                             "source", s, "broker", id, NULL);
        }
        promtext_add(p, "lambdaops_kafka_brokers_up", d->brokers_up, "source", s, NULL);
        promtext_add(p, "lambdaops_kafka_quorum_available", q->available ? 1 : 0, "source", s,
                     NULL);
        if (q->available) {
                if (q->leader_id >= 0)
                        promtext_add(p, "lambdaops_kafka_quorum_leader_id", q->leader_id,
                                     "source", s, NULL);
                if (q->leader_epoch >= 0)
                        promtext_add(p, "lambdaops_kafka_quorum_leader_epoch", q->leader_epoch,
                                     "source", s, NULL);
                if (q->high_watermark >= 0)
                        promtext_add(p, "lambdaops_kafka_quorum_high_watermark",
                                     (double)q->high_watermark, "source", s, NULL);
                for (size_t i = 0; i < q->n_voters; i++)
                        kafka_metrics_replica(p, s, &q->voters[i], "voter");
                for (size_t i = 0; i < q->n_observers; i++)
                        kafka_metrics_replica(p, s, &q->observers[i], "observer");
        }
        promtext_add(p, "lambdaops_kafka_partitions", (double)d->n_partitions, "source", s, NULL);
        promtext_add(p, "lambdaops_kafka_under_replicated_partitions", d->under_replicated,
                     "source", s, NULL);
        promtext_add(p, "lambdaops_kafka_offline_partitions", d->offline, "source", s, NULL);
        for (size_t i = 0; i < d->n_topics; i++) {
                const struct kafka_topic *t = &d->topics[i];

                promtext_add(p, "lambdaops_kafka_topic_partitions", t->partitions, "source", s,
                             "topic", t->name, NULL);
                promtext_add(p, "lambdaops_kafka_topic_under_replicated_partitions",
                             t->under_replicated, "source", s, "topic", t->name, NULL);
                promtext_add(p, "lambdaops_kafka_topic_offline_partitions", t->offline,
                             "source", s, "topic", t->name, NULL);
                promtext_add(p, "lambdaops_kafka_topic_messages_per_second", t->messages_per_sec,
                             "source", s, "topic", t->name, NULL);
        }
        for (size_t i = 0; i < d->n_groups; i++)
                kafka_metrics_group(p, s, &d->groups[i]);
}
