{# Per audience and entry date: the people who entered the audience that day,
   split into those synced to its destination and its holdout (never synced),
   and how many of each ordered (any channel) in the
   var('campaign_attribution_days') days after. Uplift is the difference of the
   two order rates, with its 95% interval: what syncing the audience (and what
   the marketing tool did with it) was worth. Also the order rates in the same
   number of days before entry: the two groups should match there, since the
   holdout is drawn at random. #}
{%- set window_days = var('campaign_attribution_days') %}
with

stg_activation__audience_entries as (select * from {{ ref('stg_activation__audience_entries') }}),
int_customer_transactions as (select * from {{ ref('int_customer_transactions') }}),

{# an entry is the first sync date a person was a member, held out or not that
   day: as of an earlier date, only the entries made by then #}
entries as (
    select audience, customer_key, entered_on, is_holdout
    from stg_activation__audience_entries
    where entered_on <= {{ as_of_date() }}
),

entry_orders as (
    select
        entries.audience,
        entries.customer_key,
        entries.entered_on,
        entries.is_holdout,
        count(*) filter (where orders.occurred_on > entries.entered_on) > 0 as ordered_after,
        count(*) filter (where orders.occurred_on <= entries.entered_on) > 0 as ordered_before
    from entries
    left join int_customer_transactions as orders
        on orders.customer_key = entries.customer_key
        and orders.transaction_type = 'order'
        and orders.occurred_on > entries.entered_on - {{ window_days }}
        and orders.occurred_on <= entries.entered_on + {{ window_days }}
        and orders.occurred_on <= {{ as_of_date() }}
    group by entries.audience, entries.customer_key, entries.entered_on, entries.is_holdout
),

groups as (
    select
        audience,
        entered_on,
        count(*) filter (where not is_holdout) as synced_customers,
        count(*) filter (where is_holdout) as holdout_customers,
        count(*) filter (where not is_holdout and ordered_after) as synced_ordered,
        count(*) filter (where is_holdout and ordered_after) as holdout_ordered,
        avg(case when ordered_before then 1.0 else 0.0 end) filter (where not is_holdout) as synced_order_rate_before,
        avg(case when ordered_before then 1.0 else 0.0 end) filter (where is_holdout) as holdout_order_rate_before
    from entry_orders
    group by audience, entered_on
),

rates as (
    select
        *,
        synced_ordered::numeric / nullif(synced_customers, 0) as synced_order_rate,
        holdout_ordered::numeric / nullif(holdout_customers, 0) as holdout_order_rate
    from groups
),

with_margin as (
    select
        *,
        {{ uplift_margin('synced_order_rate', 'synced_customers', 'holdout_order_rate', 'holdout_customers') }}
            as margin
    from rates
),

final as (
    select
        audience,
        entered_on,
        entered_on + {{ window_days }} <= {{ as_of_date() }} as window_closed,
        synced_customers,
        holdout_customers,
        synced_ordered,
        holdout_ordered,
        cast(synced_order_rate as numeric(8, 5)) as synced_order_rate,
        cast(holdout_order_rate as numeric(8, 5)) as holdout_order_rate,
        cast(synced_order_rate - holdout_order_rate as numeric(8, 5)) as uplift,
        cast(synced_order_rate - holdout_order_rate - margin as numeric(8, 5)) as uplift_ci_low,
        cast(synced_order_rate - holdout_order_rate + margin as numeric(8, 5)) as uplift_ci_high,
        cast((synced_order_rate - holdout_order_rate) * synced_customers as numeric(10, 1)) as incremental_buyers,
        cast(synced_order_rate_before as numeric(8, 5)) as synced_order_rate_before,
        cast(holdout_order_rate_before as numeric(8, 5)) as holdout_order_rate_before
    from with_margin
)

select * from final
