/*
 * tu_kafka: an in-process librdkafka mock cluster for tests and a few
 * client helpers to drive it (produce known message counts, commit known
 * offsets for a group). Test-only.
 *
 * The cluster lives on its own rd_kafka_t (rd_kafka_mock_cluster_new) with
 * brokers 1..N on 127.0.0.1 and random ports; the collector under test
 * connects to tu_kafka.bootstraps like any other client. Producing uses one
 * producer handle; committing uses one consumer handle per group with
 * enable.auto.commit=false and explicit offsets (no subscribe, so no group
 * join and its ~3 s delay). Every wait is bounded. Call from one thread.
 */
#ifndef LO_TESTS_TU_KAFKA_H
#define LO_TESTS_TU_KAFKA_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

struct tu_kafka_committer {
        char       *group;      /* owned */
        rd_kafka_t *rk;
};

struct tu_kafka {
        rd_kafka_t *rk;                 /* owns the mock cluster */
        rd_kafka_mock_cluster_t *mc;
        char        bootstraps[512];    /* "127.0.0.1:p1,127.0.0.1:p2,..." */
        int         n_brokers;
        rd_kafka_t *producer;           /* created on first produce */
        struct tu_kafka_committer *cs;
        int         n_cs;
};

/* Starts a cluster of n brokers. 0, or -1 (message on stderr). */
int tu_kafka_start(struct tu_kafka *k, int n);
/* Destroys every handle and the cluster. NULL-safe, idempotent. */
void tu_kafka_stop(struct tu_kafka *k);

/* Creates a topic; with leaders != NULL, partition i is led by broker
 * leaders[i] (else the mock picks). 0 or -1. */
int tu_kafka_topic(struct tu_kafka *k, const char *topic, int partitions, int rf,
                   const int *leaders);
/* Produces n one-byte messages to one partition and waits (up to 10 s) until
 * all are acknowledged. 0 or -1. */
int tu_kafka_produce(struct tu_kafka *k, const char *topic, int partition, int n);
/* Commits `offset` for group on one partition, with optional commit
 * metadata (NULL: none), synchronously. 0 or -1. */
int tu_kafka_commit(struct tu_kafka *k, const char *group, const char *topic, int partition,
                    int64_t offset, const char *metadata);
/* Makes broker `id` the coordinator of group. 0 or -1. */
int tu_kafka_coordinator(struct tu_kafka *k, const char *group, int id);
/* Takes a broker down or up (rd_kafka_mock_broker_set_down/_up). 0 or -1. */
int tu_kafka_broker_down(struct tu_kafka *k, int id);
int tu_kafka_broker_up(struct tu_kafka *k, int id);
/* Port of broker id (1-based, in bootstrap order), or -1. */
int tu_kafka_port(const struct tu_kafka *k, int id);

#endif
