-- ClickHouse speed layer, part 1: the database, on every replica.
-- Applied by the clickhouse-ddl Job (deploy/clickhouse/clickhouse.yaml) and
-- by tests/deploy.sh on ClickHouse 18.16 (statements marked `requires:`
-- run there rewritten or are skipped, and the test lists which).

-- requires: ClickHouse >= 21.8 (ON CLUSTER through ClickHouse Keeper; 18.16 would need ZooKeeper, not in the test)
-- on-18.16: rewrite
CREATE DATABASE IF NOT EXISTS speed ON CLUSTER speed;
