-- ClickHouse speed layer, part 2: order events written by the Structured
-- Streaming job (deploy/spark/speed_job.py), one row per created order.
-- ReplicatedMergeTree: both replicas hold every part; an identical insert
-- block retried by Spark after a failure is dropped by block
-- deduplication (insert_deduplicate, on by default for Replicated tables).

-- requires: ClickHouse >= 21.8 (ClickHouse Keeper for ON CLUSTER and ReplicatedMergeTree; 18.16 would need ZooKeeper)
-- requires: ClickHouse >= 19.6 (TTL)
-- on-18.16: rewrite
CREATE TABLE IF NOT EXISTS speed.orders_rt ON CLUSTER speed
(
    id           UInt64,
    customer_id  UInt64,
    status       String,
    amount       Decimal(12, 2),
    ts           DateTime('UTC'),
    source_lsn   UInt64,
    ingested_at  DateTime('UTC') DEFAULT now()
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/speed/orders_rt', '{replica}')
PARTITION BY toYYYYMMDD(ts)
ORDER BY (ts, id)
TTL ts + INTERVAL 7 DAY
SETTINGS index_granularity = 8192;
