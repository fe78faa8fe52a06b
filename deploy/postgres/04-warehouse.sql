-- PostgreSQL bootstrap, part 4: the stand-in warehouse (batch_target:
-- postgres). The Spark batch job loads raw.orders; dbt builds staging,
-- intermediate and marts; lambdaops reconciles marts.orders_hourly against
-- ClickHouse speed.orders_hourly_rt.
\connect warehouse

SET ROLE dbt;
CREATE SCHEMA raw;
CREATE SCHEMA staging;
CREATE SCHEMA intermediate;
CREATE SCHEMA marts;

CREATE TABLE raw.orders (
        id              bigint PRIMARY KEY,
        customer_id     bigint NOT NULL,
        status          text NOT NULL,
        amount          numeric(12, 2) NOT NULL,
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL,
        deleted         boolean NOT NULL DEFAULT false,
        source_lsn      bigint,
        loaded_at       timestamptz NOT NULL DEFAULT now()
);
-- The batch job's landing table: one day's changed rows, then merged into
-- raw.orders by one INSERT ... ON CONFLICT (MERGE on Snowflake).
CREATE TABLE raw.orders_stage (
        id              bigint NOT NULL,
        customer_id     bigint NOT NULL,
        status          text NOT NULL,
        amount          numeric(12, 2) NOT NULL,
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL,
        deleted         boolean NOT NULL,
        source_lsn      bigint
);
CREATE TABLE raw.customers (
        id              bigint PRIMARY KEY,
        email           text NOT NULL,
        country         char(2) NOT NULL,
        created_at      timestamptz NOT NULL,
        deleted         boolean NOT NULL DEFAULT false,
        source_lsn      bigint,
        loaded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE raw.customers_stage (
        id              bigint NOT NULL,
        email           text NOT NULL,
        country         char(2) NOT NULL,
        created_at      timestamptz NOT NULL,
        deleted         boolean NOT NULL,
        source_lsn      bigint
);
RESET ROLE;

GRANT USAGE ON SCHEMA raw TO spark;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON raw.orders, raw.orders_stage, raw.customers,
        raw.customers_stage TO spark;
GRANT USAGE ON SCHEMA raw TO dbt;
GRANT CONNECT ON DATABASE warehouse TO spark, lambdaops;
GRANT USAGE ON SCHEMA marts TO lambdaops;
-- Tables dbt creates later in marts are readable by lambdaops too.
ALTER DEFAULT PRIVILEGES FOR ROLE dbt IN SCHEMA marts GRANT SELECT ON TABLES TO lambdaops;
