-- Orders per UTC hour of creation: the same buckets as the speed layer's
-- speed.orders_hourly_rt (toStartOfHour(ts) in UTC), and the same
-- population: every order ever created (a later cancel or delete does not
-- remove it from its creation hour in either layer).
select
    date_trunc('hour', created_at)  as bucket,
    count(*)                        as n,
    sum(amount)                     as amount
from {{ source('raw', 'orders') }}
group by 1
