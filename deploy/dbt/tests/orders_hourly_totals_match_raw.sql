-- Singular test: the hourly mart adds up to the raw table (no order lost or
-- counted twice between raw and marts). Returns rows only on a mismatch.
with mart as (
    select sum(n) as n, sum(amount) as amount from {{ ref('orders_hourly') }}
), raw as (
    select count(*) as n, sum(amount) as amount from {{ source('raw', 'orders') }}
)
select mart.n, raw.n, mart.amount, raw.amount
from mart, raw
where mart.n <> raw.n or mart.amount <> raw.amount
