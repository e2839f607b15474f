{# Recency, frequency and monetary value of every customer with at least one
   order on or before the as-of date, their 1-5 scores (quintiles; ties share
   the lower score), the named segment, and the extended score that adds social
   engagement with the weights in var('erfm_weights'). Scores are quintiles
   unless var('rfm_cut_points') freezes them (macros/scoring.sql). #}
with

int_customer_transactions as (select * from {{ ref('int_customer_transactions') }}),
int_customer_social_activity as (select * from {{ ref('int_customer_social_activity') }}),
rfm_segment_map as (select * from {{ ref('rfm_segment_map') }}),

transactions_to_date as (
    select * from int_customer_transactions
    where occurred_on <= {{ as_of_date() }}
),

per_customer as (
    select
        customer_key,
        max(case when transaction_type = 'order' then occurred_on end) as last_order_on,
        count(distinct case when transaction_type = 'order' then order_key end) as frequency,
        sum(amount) as monetary
    from transactions_to_date
    group by customer_key
    having count(distinct case when transaction_type = 'order' then order_key end) > 0
),

scored as (
    select
        per_customer.customer_key,
        {{ as_of_date() }} as as_of_date,
        {{ dbt.datediff('per_customer.last_order_on', as_of_date(), 'day') }} as recency_days,
        per_customer.frequency,
        per_customer.monetary,
        {{ rfm_score('recency_days', as_of_date() ~ ' - per_customer.last_order_on', 'per_customer.last_order_on') }}
            as r_score,
        {{ rfm_score('frequency', 'per_customer.frequency', 'per_customer.frequency') }} as f_score,
        {{ rfm_score('monetary', 'per_customer.monetary', 'per_customer.monetary') }} as m_score,
        coalesce(int_customer_social_activity.recent_interactions, 0) as interaction_frequency,
        coalesce(int_customer_social_activity.recent_seconds_read, 0) as interaction_seconds,
        coalesce(int_customer_social_activity.social_follower_count, 0) as social_influence
    from per_customer
    left join int_customer_social_activity
        on per_customer.customer_key = int_customer_social_activity.customer_key
),

{% set w = var('erfm_weights') %}
extended as (
    select
        scored.*,
        cast(floor((f_score + m_score) / 2.0 + 0.5) as integer) as fm_score,
        {# rounded before the tiers read it, so a score shown as 2.000 is never low #}
        cast(
            {{ w['recency'] }} * {{ min_max_scale('-recency_days') }}
            + {{ w['frequency'] }} * {{ min_max_scale('frequency') }}
            + {{ w['monetary'] }} * {{ min_max_scale('monetary') }}
            + {{ w['interaction_frequency'] }} * {{ min_max_scale('interaction_frequency') }}
            + {{ w['interaction_time'] }} * {{ min_max_scale('interaction_seconds') }}
            + {{ w['social_influence'] }} * {{ min_max_scale('social_influence') }}
        as numeric(6, 3)) as erfm_score
    from scored
),

final as (
    select
        extended.customer_key,
        extended.as_of_date,
        extended.recency_days,
        extended.frequency,
        extended.monetary,
        extended.r_score,
        extended.f_score,
        extended.m_score,
        rfm_segment_map.rfm_segment,
        extended.erfm_score,
        case
            when extended.erfm_score > 4 then 'high'
            when extended.erfm_score >= 2 then 'medium'
            else 'low'
        end as value_tier
    from extended
    inner join rfm_segment_map
        on extended.r_score = rfm_segment_map.r_score
        and extended.fm_score = rfm_segment_map.fm_score
)

select * from final
