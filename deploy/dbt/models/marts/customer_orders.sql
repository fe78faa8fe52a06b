-- Per customer: live orders and revenue (excluding cancelled orders).
select
    c.customer_id,
    c.country,
    count(o.order_id)                                           as orders,
    coalesce(sum(case when o.status <> 'cancelled' then o.amount end), 0) as revenue
from {{ ref('stg_customers') }} c
left join {{ ref('stg_orders') }} o on o.customer_id = c.customer_id
group by 1, 2
