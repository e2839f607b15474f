{# Which source ids were merged into which person. #}
with

int_identity_resolved as (select * from {{ ref('int_identity_resolved') }}),

final as (
    select customer_key, source, source_customer_id, first_seen_at
    from int_identity_resolved
)

select * from final
