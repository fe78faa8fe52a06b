select
    id          as customer_id,
    email,
    country,
    created_at
from {{ source('raw', 'customers') }}
where not deleted
