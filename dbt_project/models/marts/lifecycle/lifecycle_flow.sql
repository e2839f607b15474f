{# Customers moving between lifecycle stages per week and per month (stage at the
   previous period's end -> stage at this one's; staying counts too). #}
with

flow as (
    {{ state_flow(ref('customer_lifecycle_history'), 'customer_key', 'as_of_date', 'lifecycle_stage') }}
),

final as (
    select
        period_grain,
        period_start,
        from_state as from_stage,
        to_state as to_stage,
        entities as customers
    from flow
)

select * from final
