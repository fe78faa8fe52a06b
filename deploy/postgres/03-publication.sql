-- PostgreSQL bootstrap, part 3: what Debezium may read.
-- The publication is created here, not by Debezium
-- (publication.autocreate.mode=disabled), so the connector's role needs no
-- ownership of the tables. The slot `debezium_shop` is created by the
-- connector on its first start.
\connect shop

CREATE PUBLICATION dbz_publication
        FOR TABLE public.customers, public.orders, public.debezium_heartbeat;

GRANT USAGE ON SCHEMA public TO debezium;
GRANT SELECT ON public.customers, public.orders, public.debezium_heartbeat TO debezium;
GRANT INSERT, UPDATE ON public.debezium_heartbeat TO debezium;

-- The load generator inserts orders (deploy/loadgen/order.sql).
GRANT USAGE ON SCHEMA public TO loadgen;
GRANT SELECT, INSERT ON public.orders TO loadgen;
GRANT USAGE ON SEQUENCE public.orders_id_seq TO loadgen;
GRANT CONNECT ON DATABASE shop TO loadgen;

-- lambdaops reads the slot views (pg_monitor) and nothing of the data.
GRANT CONNECT ON DATABASE shop TO lambdaops;
