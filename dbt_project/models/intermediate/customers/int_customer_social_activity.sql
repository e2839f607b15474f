{# Social engagement per customer up to the as-of date: the recent window
   feeds the extended RFM score, the totals feed the profile. #}
with

stg_social__events as (select * from {{ ref('stg_social__events') }}),
stg_social__followers as (select * from {{ ref('stg_social__followers') }}),
int_identity_resolved as (select * from {{ ref('int_identity_resolved') }}),

social_customers as (
    select customer_key, source_customer_id as openid
    from int_identity_resolved
    where source = 'social'
),

events as (
    select social_customers.customer_key, stg_social__events.*
    from stg_social__events
    inner join social_customers on stg_social__events.openid = social_customers.openid
    where stg_social__events.occurred_on <= {{ as_of_date() }}
),

reach as (
    select social_customers.customer_key, max(stg_social__followers.follower_count) as social_follower_count
    from stg_social__followers
    inner join social_customers on stg_social__followers.openid = social_customers.openid
    group by social_customers.customer_key
),

activity as (
    select
        customer_key,
        count(*) as social_events_count,
        sum(case when event_type = 'share' then 1 else 0 end) as social_shares_count,
        sum(case when occurred_on > {{ as_of_date() }} - {{ var('erfm_interaction_days') }} then 1 else 0 end)
            as recent_interactions,
        sum(case when occurred_on > {{ as_of_date() }} - {{ var('erfm_interaction_days') }} then seconds_read else 0 end)
            as recent_seconds_read,
        max(occurred_at) as last_social_event_at
    from events
    group by customer_key
),

final as (
    select
        reach.customer_key,
        reach.social_follower_count,
        coalesce(activity.social_events_count, 0) as social_events_count,
        coalesce(activity.social_shares_count, 0) as social_shares_count,
        coalesce(activity.recent_interactions, 0) as recent_interactions,
        coalesce(activity.recent_seconds_read, 0) as recent_seconds_read,
        activity.last_social_event_at
    from reach
    left join activity on reach.customer_key = activity.customer_key
)

select * from final
