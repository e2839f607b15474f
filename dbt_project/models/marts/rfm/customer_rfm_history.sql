{{ config(
    materialized='incremental',
    incremental_strategy='append',
    indexes=[{'columns': ['as_of_date']}],
    full_refresh=false,
    pre_hook="{{ delete_dates_rebuilt([as_of_date_iso()]) }}",
) }}
{# customer_rfm of every day a build ran for: the daily history that segment
   changes and flows are read from, a few days at a time (hence the index).
   Re-running a date replaces all of that date's rows (a customer no longer
   there that day, e.g. merged into another, leaves the history too). A
   --full-refresh leaves it alone: past days cannot be rebuilt from today's
   data. #}
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
