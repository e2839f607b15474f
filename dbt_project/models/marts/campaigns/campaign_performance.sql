{# Per campaign: the funnel (sends, deliveries, opens, clicks, unsubscribes), the
   tool's own conversions, cost, and what the warehouse saw: orders within the
   attribution window by the sent group and by the holdout group. Uplift is the
   difference of their order rates, with a 95% confidence interval (normal
   approximation for a difference of two proportions). #}
with

fct_campaign_touches as (select * from {{ ref('fct_campaign_touches') }}),

groups as (
    select
        campaign_id,
        min(campaign_name) as campaign_name,
        min(channel) as channel,
        min(touched_at) as first_sent_at,
        bool_and(window_closed) as window_closed,
        count(*) filter (where not is_holdout) as sent_contacts,
        count(*) filter (where is_holdout) as holdout_contacts,
        count(*) filter (where not is_holdout and delivered) as delivered,
        count(*) filter (where not is_holdout and opened) as opened,
        count(*) filter (where not is_holdout and clicked) as clicked,
        count(*) filter (where not is_holdout and unsubscribed) as unsubscribed,
        count(*) filter (where not is_holdout and converted_per_tool) as tool_conversions,
        sum(tool_conversion_amount) filter (where not is_holdout) as tool_conversion_revenue,
        sum(cost) as cost,
        count(*) filter (where not is_holdout and ordered_in_window) as sent_ordered,
        count(*) filter (where is_holdout and ordered_in_window) as holdout_ordered,
        sum(revenue_in_window) filter (where not is_holdout) as sent_revenue
    from fct_campaign_touches
    group by campaign_id
),

rates as (
    select
        *,
        sent_ordered::numeric / nullif(sent_contacts, 0) as sent_order_rate,
        holdout_ordered::numeric / nullif(holdout_contacts, 0) as holdout_order_rate
    from groups
),

with_margin as (
    select
        *,
        {{ uplift_margin('sent_order_rate', 'sent_contacts', 'holdout_order_rate', 'holdout_contacts') }} as margin
    from rates
),

final as (
    select
        campaign_id,
        campaign_name,
        channel,
        first_sent_at,
        window_closed,
        sent_contacts,
        holdout_contacts,
        delivered,
        opened,
        clicked,
        unsubscribed,
        tool_conversions,
        cast(coalesce(tool_conversion_revenue, 0) as numeric(14, 2)) as tool_conversion_revenue,
        cast(cost as numeric(14, 2)) as cost,
        sent_ordered as conversions,
        cast(coalesce(sent_revenue, 0) as numeric(14, 2)) as revenue,
        cast(sent_order_rate as numeric(8, 5)) as conversion_rate,
        cast(holdout_order_rate as numeric(8, 5)) as holdout_conversion_rate,
        cast(cost / nullif(sent_ordered, 0) as numeric(14, 2)) as cost_per_acquisition,
        cast(sent_order_rate - holdout_order_rate as numeric(8, 5)) as uplift,
        cast(sent_order_rate - holdout_order_rate - margin as numeric(8, 5)) as uplift_ci_low,
        cast(sent_order_rate - holdout_order_rate + margin as numeric(8, 5)) as uplift_ci_high,
        cast((sent_order_rate - holdout_order_rate) * sent_contacts as numeric(10, 1)) as incremental_conversions
    from with_margin
)

select * from final
