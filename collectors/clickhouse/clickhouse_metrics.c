/*
 * clickhouse_metrics: the ClickHouse source's figures for /metrics
 * (collector_ops.metrics; docs/metrics.md lists them): query latency
 * quantiles per window (from query_log), query, failure and insert rates,
 * memory, parts per table and partition, merges, replica queues and delay.
 * Unknown values (-1, NAN in ch_data) have no sample.
 */
#include "collectors/clickhouse/clickhouse.h"

#include <math.h>

#include "core/promtext.h"
#include "core/snapshot.h"

static const char *const ch_windows[CH_NWIN] = { "1m", "5m", "15m" };

static void clickhouse_metrics_declare(struct promtext *p)
{
        promtext_declare(p, "lambdaops_clickhouse_uptime_seconds", PROMTEXT_GAUGE,
                         "Server uptime.");
        /* One family per quantile: a "quantile" label belongs to summaries,
         * and these are ClickHouse's quantiles() over a window, not one. */
        promtext_declare(p, "lambdaops_clickhouse_query_p50_seconds", PROMTEXT_GAUGE,
                         "Median duration of the queries finished in the window (1m, 5m, 15m; "
                         "query_log, lambdaops's own queries excluded).");
        promtext_declare(p, "lambdaops_clickhouse_query_p95_seconds", PROMTEXT_GAUGE,
                         "95th percentile of the durations of the queries finished in the window.");
        promtext_declare(p, "lambdaops_clickhouse_query_p99_seconds", PROMTEXT_GAUGE,
                         "99th percentile of the durations of the queries finished in the window.");
        promtext_declare(p, "lambdaops_clickhouse_window_queries", PROMTEXT_GAUGE,
                         "Finished queries in the window the quantiles are computed over.");
        promtext_declare(p, "lambdaops_clickhouse_queries_per_second", PROMTEXT_GAUGE,
                         "Queries per second (last minute of query_log, or system.events deltas).");
        promtext_declare(p, "lambdaops_clickhouse_failed_queries_per_second", PROMTEXT_GAUGE,
                         "Failed queries per second.");
        promtext_declare(p, "lambdaops_clickhouse_inserted_rows_per_second", PROMTEXT_GAUGE,
                         "Rows inserted per second.");
        promtext_declare(p, "lambdaops_clickhouse_inserted_bytes_per_second", PROMTEXT_GAUGE,
                         "Bytes inserted per second.");
        promtext_declare(p, "lambdaops_clickhouse_memory_bytes", PROMTEXT_GAUGE,
                         "Memory the server tracks (MemoryTracking).");
        promtext_declare(p, "lambdaops_clickhouse_parts_to_delay_insert", PROMTEXT_GAUGE,
                         "The MergeTree setting: active parts in one partition at which inserts "
                         "are delayed.");
        promtext_declare(p, "lambdaops_clickhouse_merges", PROMTEXT_GAUGE,
                         "Merges in progress.");
        promtext_declare(p, "lambdaops_clickhouse_table_active_parts", PROMTEXT_GAUGE,
                         "Active parts of the table.");
        promtext_declare(p, "lambdaops_clickhouse_table_max_partition_parts", PROMTEXT_GAUGE,
                         "Active parts in the table's partition that has the most.");
        promtext_declare(p, "lambdaops_clickhouse_replica_readonly", PROMTEXT_GAUGE,
                         "1 when the replicated table is read-only (lost its ZooKeeper session).");
        promtext_declare(p, "lambdaops_clickhouse_replica_queue_size", PROMTEXT_GAUGE,
                         "Entries in the replica's replication queue.");
        promtext_declare(p, "lambdaops_clickhouse_replica_delay_seconds", PROMTEXT_GAUGE,
                         "How far the replica is behind (absolute_delay).");
}

void clickhouse_metrics(const struct snapshot *snap, const struct source_cfg *src,
                        struct promtext *p)
{
        const struct ch_data *d = snap->data;
        const char *s = src->name;

        clickhouse_metrics_declare(p);
        if (d->uptime_s >= 0)
                promtext_add(p, "lambdaops_clickhouse_uptime_seconds", (double)d->uptime_s,
                             "source", s, NULL);
        for (int w = 0; w < CH_NWIN; w++) {
                const struct ch_latency *l = &d->lat[w];

                if (l->count < 0)
                        continue;
                promtext_add(p, "lambdaops_clickhouse_window_queries", (double)l->count,
                             "source", s, "window", ch_windows[w], NULL);
                if (l->count == 0)
                        continue;
                promtext_add(p, "lambdaops_clickhouse_query_p50_seconds", l->p50 / 1000.0,
                             "source", s, "window", ch_windows[w], NULL);
                promtext_add(p, "lambdaops_clickhouse_query_p95_seconds", l->p95 / 1000.0,
                             "source", s, "window", ch_windows[w], NULL);
                promtext_add(p, "lambdaops_clickhouse_query_p99_seconds", l->p99 / 1000.0,
                             "source", s, "window", ch_windows[w], NULL);
        }
        promtext_add(p, "lambdaops_clickhouse_queries_per_second", d->queries_per_sec,
                     "source", s, NULL);
        promtext_add(p, "lambdaops_clickhouse_failed_queries_per_second", d->failed_per_sec,
                     "source", s, NULL);
        promtext_add(p, "lambdaops_clickhouse_inserted_rows_per_second", d->inserted_rows_per_sec,
                     "source", s, NULL);
        promtext_add(p, "lambdaops_clickhouse_inserted_bytes_per_second",
                     d->inserted_bytes_per_sec, "source", s, NULL);
        if (d->memory_bytes >= 0)
                promtext_add(p, "lambdaops_clickhouse_memory_bytes", (double)d->memory_bytes,
                             "source", s, NULL);
        promtext_add(p, "lambdaops_clickhouse_parts_to_delay_insert",
                     (double)d->parts_to_delay_insert, "source", s, NULL);
        if (d->merges >= 0)
                promtext_add(p, "lambdaops_clickhouse_merges", d->merges, "source", s, NULL);
        for (size_t i = 0; i < d->n_tables; i++) {
                const struct ch_table *t = &d->tables[i];

                promtext_add(p, "lambdaops_clickhouse_table_active_parts", (double)t->active_parts,
                             "source", s, "database", t->database, "table", t->table, NULL);
                promtext_add(p, "lambdaops_clickhouse_table_max_partition_parts",
                             (double)t->max_parts_per_partition, "source", s,
                             "database", t->database, "table", t->table, NULL);
        }
        for (size_t i = 0; i < d->n_replicas; i++) {
                const struct ch_replica *r = &d->replicas[i];

                promtext_add(p, "lambdaops_clickhouse_replica_readonly", r->is_readonly ? 1 : 0,
                             "source", s, "database", r->database, "table", r->table, NULL);
                promtext_add(p, "lambdaops_clickhouse_replica_queue_size", (double)r->queue_size,
                             "source", s, "database", r->database, "table", r->table, NULL);
                if (r->absolute_delay_s >= 0)
                        promtext_add(p, "lambdaops_clickhouse_replica_delay_seconds",
                                     (double)r->absolute_delay_s, "source", s,
                                     "database", r->database, "table", r->table, NULL);
        }
}
