{{ config(unique_key=['customer_key', 'as_of_date'], incremental_strategy='delete+insert') }}
{# Propensity features of every customer known on the as-of date, one row per
   customer and date. Point-in-time: only data dated on or before the as-of
   date is read, and only from models that do not themselves depend on the
   as-of variable (a view bakes in the date of the build that created it). #}
with

int_identity_resolved as (select * from {{ ref('int_identity_resolved') }}),
int_customer_transactions as (select * from {{ ref('int_customer_transactions') }}),
fct_interactions as (select * from {{ ref('fct_interactions') }}),
customer_lifecycle_history as (select * from {{ ref('customer_lifecycle_history') }}),

known_records as (
    select * from int_identity_resolved
    where cast(first_seen_at as date) <= {{ as_of_date() }}
),

customers as (
    select
        customer_key,
        cast(min(first_seen_at) as date) as first_seen_on,
        max(case when source = 'shop' then 1 else 0 end) as has_shop_account,
        max(case when source = 'pos' then 1 else 0 end) as has_store_purchases,
        max(case when source = 'social' then 1 else 0 end) as is_social_follower
    from known_records
    group by customer_key
),

transactions_to_date as (
    select * from int_customer_transactions
    where occurred_on <= {{ as_of_date() }}
),

{% set days_before = "(" ~ dbt.datediff('occurred_on', as_of_date(), 'day') ~ ")" %}
order_stats as (
    select
        customer_key,
        count(*) as frequency,
        min(occurred_on) as first_order_on,
        max(occurred_on) as last_order_on,
        sum(case when {{ days_before }} < 30 then 1 else 0 end) as orders_30d,
        sum(case when {{ days_before }} < 90 then 1 else 0 end) as orders_90d,
        sum(case when {{ days_before }} < 180 then 1 else 0 end) as orders_180d
    from transactions_to_date
    where transaction_type = 'order'
    group by customer_key
),

money as (
    select
        customer_key,
        sum(amount) as monetary,
        sum(case when {{ days_before }} < 90 then amount else 0 end) as net_amount_90d,
        sum(case when transaction_type <> 'order' then 1 else 0 end) as returns_and_cancellations
    from transactions_to_date
    group by customer_key
),

social as (
    select
        customer_key,
        count(*) as social_interactions_90d,
        sum(engagement_seconds) as social_seconds_read_90d
    from fct_interactions
    where channel = 'social'
        and customer_key is not null
        and occurred_on <= {{ as_of_date() }}
        and {{ dbt.datediff('occurred_on', as_of_date(), 'day') }} < 90
    group by customer_key
),

final as (
    select
        customers.customer_key,
        {{ as_of_date() }} as as_of_date,
        {{ dbt.datediff('customers.first_seen_on', as_of_date(), 'day') }} as tenure_days,
        {{ dbt.datediff('order_stats.last_order_on', as_of_date(), 'day') }} as days_since_last_order,
        coalesce(order_stats.frequency, 0) as frequency,
        coalesce(money.monetary, 0) as monetary,
        coalesce(order_stats.orders_30d, 0) as orders_30d,
        coalesce(order_stats.orders_90d, 0) as orders_90d,
        coalesce(order_stats.orders_180d, 0) as orders_180d,
        coalesce(money.net_amount_90d, 0) as net_amount_90d,
        case when order_stats.frequency > 1
            then {{ dbt.datediff('order_stats.first_order_on', 'order_stats.last_order_on', 'day') }}
                 / (order_stats.frequency - 1.0)
        end as avg_days_between_orders,
        coalesce(money.returns_and_cancellations, 0) as returns_and_cancellations,
        coalesce(social.social_interactions_90d, 0) as social_interactions_90d,
        coalesce(social.social_seconds_read_90d, 0) as social_seconds_read_90d,
        customers.has_shop_account,
        customers.has_store_purchases,
        customers.is_social_follower,
        coalesce(customer_lifecycle_history.lifecycle_stage, 'unknown') as lifecycle_stage
    from customers
    left join order_stats on customers.customer_key = order_stats.customer_key
    left join money on customers.customer_key = money.customer_key
    left join social on customers.customer_key = social.customer_key
    left join customer_lifecycle_history
        on customers.customer_key = customer_lifecycle_history.customer_key
        and customer_lifecycle_history.as_of_date = {{ as_of_date() }}
)

select * from final
