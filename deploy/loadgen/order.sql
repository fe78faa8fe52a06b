-- One new order: the load generator's pgbench transaction (deploy/loadgen).
-- Random customer of the seed's 1,000 and an amount up to 500.00.
INSERT INTO public.orders (customer_id, amount)
VALUES (1 + floor(random() * 1000)::int, round((random() * 500)::numeric, 2));
