/*
 * kafka_connect_metrics: the Kafka Connect source's figures for /metrics
 * (collector_ops.metrics; docs/metrics.md lists them): each connector's
 * state and each task's, as labelled gauges (state="RUNNING" 1), and the
 * failed and running task counts per connector.
 */
#include "collectors/kafka_connect.h"

#include <stdio.h>

#include "core/promtext.h"
#include "core/snapshot.h"

void kafka_connect_metrics(const struct snapshot *snap, const struct source_cfg *src,
                           struct promtext *p)
{
        const struct kc_data *d = snap->data;
        const char *s = src->name;

        promtext_declare(p, "lambdaops_kafka_connect_connector_state", PROMTEXT_GAUGE,
                         "1 with the connector's state label (RUNNING, PAUSED, STOPPED, FAILED, "
                         "UNASSIGNED, RESTARTING) and its type (source, sink).");
        promtext_declare(p, "lambdaops_kafka_connect_task_state", PROMTEXT_GAUGE,
                         "1 with the task's state label.");
        promtext_declare(p, "lambdaops_kafka_connect_connector_failed_tasks", PROMTEXT_GAUGE,
                         "The connector's tasks in FAILED.");
        promtext_declare(p, "lambdaops_kafka_connect_connector_running_tasks", PROMTEXT_GAUGE,
                         "The connector's tasks in RUNNING.");
        for (size_t i = 0; i < d->n_conns; i++) {
                const struct kc_connector *c = &d->conns[i];

                if (c->state)
                        promtext_add(p, "lambdaops_kafka_connect_connector_state", 1,
                                     "source", s, "connector", c->name,
                                     "type", c->type ? c->type : "", "state", c->state, NULL);
                for (size_t j = 0; j < c->n_tasks; j++) {
                        char id[16];

                        if (!c->tasks[j].state)
                                continue;
                        snprintf(id, sizeof id, "%d", c->tasks[j].id);
                        promtext_add(p, "lambdaops_kafka_connect_task_state", 1, "source", s,
                                     "connector", c->name, "task", id,
                                     "state", c->tasks[j].state, NULL);
                }
                if (c->n_tasks || c->state) {
                        promtext_add(p, "lambdaops_kafka_connect_connector_failed_tasks",
                                     c->failed_tasks, "source", s, "connector", c->name, NULL);
                        promtext_add(p, "lambdaops_kafka_connect_connector_running_tasks",
                                     c->running_tasks, "source", s, "connector", c->name, NULL);
                }
        }
}
