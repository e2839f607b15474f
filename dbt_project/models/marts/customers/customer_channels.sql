{# One row per customer and channel they are active in: when they were first and
   last seen there and how many dated events (orders, interactions, messages,
   tickets) it holds, up to the as-of date. #}
with

int_customer_channel_activity as (select * from {{ ref('int_customer_channel_activity') }}),

final as (
    select
        customer_key,
        channel,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as events
    from int_customer_channel_activity
    group by customer_key, channel
)

select * from final
