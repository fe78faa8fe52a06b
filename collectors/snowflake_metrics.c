/*
 * snowflake_metrics: the Snowflake source's figure for /metrics
 * (collector_ops.metrics; docs/metrics.md): the round trip of its probe
 * statement, polls included.
 */
#include "collectors/snowflake.h"

#include "core/promtext.h"
#include "core/snapshot.h"

void snowflake_metrics(const struct snapshot *snap, const struct source_cfg *src,
                       struct promtext *p)
{
        const struct sf_data *d = snap->data;

        promtext_declare(p, "lambdaops_snowflake_probe_latency_seconds", PROMTEXT_GAUGE,
                         "Round trip of the SELECT CURRENT_VERSION() probe, polls included.");
        if (d->latency_ms >= 0)
                promtext_add(p, "lambdaops_snowflake_probe_latency_seconds",
                             (double)d->latency_ms / 1000.0, "source", src->name, NULL);
}
