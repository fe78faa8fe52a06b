-- PostgreSQL bootstrap, part 2: deterministic seed data, so the first
-- reconciliation has known totals (tests/deploy_lint.py recomputes them):
--   1,000 customers; 10,000 orders, one every 10 s from 30 hours before
--   the current hour (so the last one is about 2 h 14 min old: inside the
--   reconcile check's 2-day window and past its 2 h settle time),
--   amount = (id * 37 % 50000) / 100.
\connect shop

INSERT INTO customers (id, email, country, created_at)
SELECT g, 'customer' || g || '@example.com',
       (ARRAY['DE', 'FR', 'US', 'IN', 'BR'])[1 + g % 5],
       timestamptz '2025-12-01 00:00:00+00' + g * interval '1 minute'
FROM generate_series(1, 1000) AS g;

INSERT INTO orders (id, customer_id, status, amount, created_at, updated_at)
SELECT g, 1 + g % 1000,
       (ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + g % 4],
       (g * 37 % 50000) / 100.0,
       date_trunc('hour', now()) - interval '30 hours' + (g - 1) * interval '10 seconds',
       date_trunc('hour', now()) - interval '30 hours' + (g - 1) * interval '10 seconds'
FROM generate_series(1, 10000) AS g;

-- Explicit ids above: move the sequence past them.
SELECT setval('orders_id_seq', (SELECT max(id) FROM orders));

INSERT INTO debezium_heartbeat (id, ts) VALUES (1, now());
