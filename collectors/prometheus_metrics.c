/*
 * prometheus_metrics: the Prometheus source's figures for /metrics
 * (collector_ops.metrics; docs/metrics.md lists them). The queries' values
 * are not exported again: they are already in that Prometheus, and a copy
 * under another name would only be scraped back into it. What lambdaops
 * adds is exported: whether each configured query answers, and the KRaft
 * quorum it derives from the raft metrics (leader, epoch, high watermark,
 * each member's lag).
 */
#include "collectors/prometheus.h"

#include <stdio.h>
#include <string.h>

#include "core/promtext.h"
#include "core/snapshot.h"

static void prometheus_metrics_declare(struct promtext *p)
{
        promtext_declare(p, "lambdaops_prometheus_query_ok", PROMTEXT_GAUGE,
                         "1 when the configured query answered at the last poll, 0 when it "
                         "failed (bad PromQL, a server error).");
        promtext_declare(p, "lambdaops_prometheus_quorum_available", PROMTEXT_GAUGE,
                         "1 when raft metrics gave a KRaft quorum, 0 when not.");
        promtext_declare(p, "lambdaops_prometheus_quorum_leader_id", PROMTEXT_GAUGE,
                         "Node id of the KRaft quorum's leader, from the raft metrics.");
        promtext_declare(p, "lambdaops_prometheus_quorum_leader_epoch", PROMTEXT_GAUGE,
                         "The KRaft quorum's leader epoch, from the raft metrics.");
        promtext_declare(p, "lambdaops_prometheus_quorum_high_watermark", PROMTEXT_GAUGE,
                         "The metadata log's high watermark, from the raft metrics.");
        promtext_declare(p, "lambdaops_prometheus_quorum_member_lag", PROMTEXT_GAUGE,
                         "Records a quorum voter or observer is behind the leader's log end "
                         "offset (instance: job/instance of its metrics).");
}

static void prometheus_metrics_members(struct promtext *p, const char *s,
                                       const struct prom_member *m, size_t n, const char *role)
{
        for (size_t i = 0; i < n; i++) {
                char id[24];

                if (m[i].lag < 0)
                        continue;
                if (m[i].id >= 0)
                        snprintf(id, sizeof id, "%lld", (long long)m[i].id);
                else
                        id[0] = '\0';
                promtext_add(p, "lambdaops_prometheus_quorum_member_lag", (double)m[i].lag,
                             "source", s, "instance", m[i].instance, "node", id, "role", role,
                             NULL);
        }
}

void prometheus_metrics(const struct snapshot *snap, const struct source_cfg *src,
                        struct promtext *p)
{
        const struct prom_data *d = snap->data;
        const struct prom_quorum *q = &d->quorum;
        const char *s = src->name;

        prometheus_metrics_declare(p);
        /* One sample per configured query, not per series: a query with many
         * series answers or fails as a whole. */
        for (size_t i = 0; i < d->n_series; i++) {
                bool first = true;

                for (size_t j = 0; j < i && first; j++)
                        first = strcmp(d->series[j].query, d->series[i].query) != 0;
                if (first)
                        promtext_add(p, "lambdaops_prometheus_query_ok",
                                     d->series[i].error ? 0 : 1, "source", s,
                                     "query", d->series[i].query, NULL);
        }
        if (!d->quorum_asked)
                return;
        promtext_add(p, "lambdaops_prometheus_quorum_available", q->available ? 1 : 0,
                     "source", s, NULL);
        if (!q->available)
                return;
        if (q->leader_id >= 0)
                promtext_add(p, "lambdaops_prometheus_quorum_leader_id", (double)q->leader_id,
                             "source", s, NULL);
        if (q->leader_epoch >= 0)
                promtext_add(p, "lambdaops_prometheus_quorum_leader_epoch",
                             (double)q->leader_epoch, "source", s, NULL);
        if (q->high_watermark >= 0)
                promtext_add(p, "lambdaops_prometheus_quorum_high_watermark",
                             (double)q->high_watermark, "source", s, NULL);
        prometheus_metrics_members(p, s, q->voters, q->n_voters, "voter");
        prometheus_metrics_members(p, s, q->observers, q->n_observers, "observer");
}
