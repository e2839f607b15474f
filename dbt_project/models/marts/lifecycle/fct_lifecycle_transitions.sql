{{ config(materialized='view') }}
{# Every change of lifecycle stage: who moved, on which day, from which stage to
   which. A view: it is the spells' starts, kept in step with them for free. #}
with

customer_lifecycle_spells as (select * from {{ ref('customer_lifecycle_spells') }}),

final as (
    select
        customer_key,
        started_on as transitioned_on,
        previous_stage as from_stage,
        lifecycle_stage as to_stage
    from customer_lifecycle_spells
    where previous_stage is not null
)

select * from final
