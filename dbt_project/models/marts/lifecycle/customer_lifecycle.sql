{# Every customer's lifecycle stage on the as-of date: their current spell. #}
with

customer_lifecycle_spells as (select * from {{ ref('customer_lifecycle_spells') }}),
dim_customers as (select * from {{ ref('dim_customers') }}),

final as (
    select
        customer_lifecycle_spells.customer_key,
        {{ as_of_date() }} as as_of_date,
        customer_lifecycle_spells.lifecycle_stage,
        customer_lifecycle_spells.started_on as stage_entered_on,
        customer_lifecycle_spells.previous_stage
    from customer_lifecycle_spells
    inner join dim_customers on customer_lifecycle_spells.customer_key = dim_customers.customer_key
    where customer_lifecycle_spells.is_current
)

select * from final
