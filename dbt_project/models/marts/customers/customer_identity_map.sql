{# Which source ids were merged into which person. #}
-- customer_merges reads this mart as the previous build left it: it must run first
-- depends_on: {{ ref('customer_merges') }}
with

int_identity_resolved as (select * from {{ ref('int_identity_resolved') }}),

final as (
    select customer_key, source, source_customer_id, first_seen_at
    from int_identity_resolved
)

select * from final
