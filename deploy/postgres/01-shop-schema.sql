-- PostgreSQL bootstrap, part 1: the source schema (database `shop`).
\connect shop

CREATE TABLE customers (
        id              bigint PRIMARY KEY,
        email           text NOT NULL UNIQUE,
        country         char(2) NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
        id              bigserial PRIMARY KEY,
        customer_id     bigint NOT NULL REFERENCES customers (id),
        status          text NOT NULL DEFAULT 'new'
                        CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
        amount          numeric(12, 2) NOT NULL CHECK (amount >= 0),
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_created_at_idx ON orders (created_at);
CREATE INDEX orders_customer_idx ON orders (customer_id);

-- Debezium heartbeat: the connector upserts the single row every
-- heartbeat.interval.ms (heartbeat.action.query in
-- deploy/connect/connectors/debezium-shop.json). The write goes through the
-- publication, so the slot's confirmed_flush_lsn advances even when the
-- captured tables are idle and WAL does not pile up behind the slot.
CREATE TABLE debezium_heartbeat (
        id              int PRIMARY KEY CHECK (id = 1),
        ts              timestamptz NOT NULL
);
