-- One row per live order, typed and renamed; deleted orders are dropped.
select
    id                              as order_id,
    customer_id,
    status,
    cast(amount as numeric(12, 2))  as amount,
    created_at,
    updated_at
from {{ source('raw', 'orders') }}
where not deleted
