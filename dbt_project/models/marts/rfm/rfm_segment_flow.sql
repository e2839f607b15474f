{# Customers moving between RFM segments per week and per month (segment at the
   previous period's end -> segment at this one's; staying counts too). #}
with

flow as (
    {{ state_flow(ref('customer_rfm_history'), 'customer_key', 'as_of_date', 'rfm_segment') }}
),

final as (
    select
        period_grain,
        period_start,
        from_state as from_segment,
        to_state as to_segment,
        entities as customers
    from flow
)

select * from final
