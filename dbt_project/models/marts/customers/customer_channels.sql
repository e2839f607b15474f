{# One row per customer and channel they are active in: when they were first and
   last seen there and how many dated events (orders, interactions, messages,
   tickets) it holds, up to the as-of date. Rolls each source record's figures
   (int_customer_channel_activity) up to the person it belongs to today: a pass
   over records, not events. #}
with

int_customer_channel_activity as (select * from {{ ref('int_customer_channel_activity') }}),
int_customer_lookup as (select * from {{ ref('int_customer_lookup') }}),

final as (
    select
        int_customer_lookup.customer_key,
        int_customer_channel_activity.channel,
        min(int_customer_channel_activity.first_seen_at) as first_seen_at,
        max(int_customer_channel_activity.last_seen_at) as last_seen_at,
        cast(sum(int_customer_channel_activity.events) as bigint) as events
    from int_customer_channel_activity
    inner join int_customer_lookup
        on int_customer_channel_activity.customer_lookup_id = int_customer_lookup.customer_lookup_id
    where int_customer_channel_activity.events > 0
    group by int_customer_lookup.customer_key, int_customer_channel_activity.channel
)

select * from final
