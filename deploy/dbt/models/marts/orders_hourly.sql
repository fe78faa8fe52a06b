-- The batch layer's hourly orders: what lambdaops reconciles against
-- ClickHouse speed.orders_hourly_rt (deploy/lambdaops.yaml, orders-hourly).
select
    bucket,
    n,
    amount
from {{ ref('int_orders_hourly') }}
