{# What the extended RFM score reads of a customer's social life: interactions
   and reading time in the last var('erfm_interaction_days') up to the as-of date,
   and reach (the largest follower count of their social profiles); and whether
   one of their profiles follows the brand on the as-of date. Only the
   window's days are read: dim_customers counts all social events from
   customer_channels, rolled up from int_customer_channel_activity, which a daily
   build updates incrementally. #}
with

stg_social__events as (select * from {{ ref('stg_social__events') }}),
stg_social__followers as (select * from {{ ref('stg_social__followers') }}),
int_identity_resolved as (select * from {{ ref('int_identity_resolved') }}),

{# read twice, inlined (the CTE convention in dbt_project.yml): as a copy it
   was merged with the window's events read in openid order by the openid
   index, 16.2-16.8 s against 4.5-4.7 s at 1,000,000 customers x 90 days #}
social_customers as not materialized (
    select customer_key, source_customer_id as openid
    from int_identity_resolved
    where source = 'social'
),

reach as (
    select
        social_customers.customer_key,
        max(stg_social__followers.follower_count) as social_follower_count,
        bool_or({{ follows_on('stg_social__followers', as_of_date()) }}) as is_following
    from stg_social__followers
    inner join social_customers on stg_social__followers.openid = social_customers.openid
    group by social_customers.customer_key
),

recent as (
    select
        social_customers.customer_key,
        count(*) as recent_interactions,
        sum(stg_social__events.seconds_read) as recent_seconds_read
    from stg_social__events
    inner join social_customers on stg_social__events.openid = social_customers.openid
    where stg_social__events.occurred_on > {{ as_of_date() }} - {{ var('erfm_interaction_days') }}
      and stg_social__events.occurred_on <= {{ as_of_date() }}
    group by social_customers.customer_key
),

final as (
    select
        reach.customer_key,
        reach.social_follower_count,
        reach.is_following,
        coalesce(recent.recent_interactions, 0) as recent_interactions,
        coalesce(recent.recent_seconds_read, 0) as recent_seconds_read
    from reach
    left join recent on reach.customer_key = recent.customer_key
)

select * from final
