-- ClickHouse speed layer, part 3: hourly order count and amount, kept up to
-- date at insert time by a materialized view. SummingMergeTree adds rows
-- of the same bucket when parts merge; readers still sum() per bucket
-- because unmerged parts may hold several rows for one hour. This is the
-- table lambdaops reconciles against the warehouse's marts.orders_hourly.

-- requires: ClickHouse >= 21.8 (ClickHouse Keeper for ON CLUSTER and ReplicatedSummingMergeTree)
-- on-18.16: rewrite
CREATE TABLE IF NOT EXISTS speed.orders_hourly_rt ON CLUSTER speed
(
    bucket  DateTime('UTC'),
    n       UInt64,
    amount  Decimal(38, 2)
)
ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/speed/orders_hourly_rt', '{replica}')
PARTITION BY toYYYYMM(bucket)
ORDER BY bucket;

-- requires: ClickHouse >= 21.8 (ON CLUSTER through ClickHouse Keeper)
-- on-18.16: rewrite
CREATE MATERIALIZED VIEW IF NOT EXISTS speed.orders_hourly_mv ON CLUSTER speed
TO speed.orders_hourly_rt
AS SELECT
    toStartOfHour(ts) AS bucket,
    count() AS n,
    sum(amount) AS amount
FROM speed.orders_rt
GROUP BY bucket;

-- Streaming progress as the speed job sees it (one row per micro-batch):
-- lets a reconcile check or a dashboard tell "no data" from "job stopped".
-- requires: ClickHouse >= 21.8 (ClickHouse Keeper for ON CLUSTER and ReplicatedMergeTree)
-- requires: ClickHouse >= 19.6 (TTL)
-- on-18.16: rewrite
CREATE TABLE IF NOT EXISTS speed.batches ON CLUSTER speed
(
    batch_id     UInt64,
    rows         UInt64,
    max_ts       DateTime('UTC'),
    written_at   DateTime('UTC') DEFAULT now()
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/speed/batches', '{replica}')
ORDER BY batch_id
TTL written_at + INTERVAL 30 DAY;
