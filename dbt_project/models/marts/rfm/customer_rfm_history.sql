{{ config(
    materialized='incremental',
    unique_key=['customer_key', 'as_of_date'],
    incremental_strategy='delete+insert',
) }}
{# customer_rfm of every day a build ran for: the daily history that segment
   migration is read from. Re-running a date replaces that date's rows. #}
with

customer_rfm as (select * from {{ ref('customer_rfm') }}),

final as (
    select
        customer_key,
        as_of_date,
        recency_days,
        frequency,
        monetary,
        r_score,
        f_score,
        m_score,
        rfm_segment,
        erfm_score,
        value_tier
    from customer_rfm
)

select * from final
