{{ config(
    materialized='incremental',
    unique_key=['customer_key', 'as_of_date'],
    incremental_strategy='delete+insert',
) }}
{# Each known customer's lifecycle stage on each day. Re-running a date
   replaces that date's rows. #}
{%- set start_on, end_on = lifecycle_history_window() %}
with

int_customer_transactions as (select * from {{ ref('int_customer_transactions') }}),
int_identity_resolved as (select * from {{ ref('int_identity_resolved') }}),

days as (
    {{ dbt.date_spine('day', "cast('" ~ start_on ~ "' as date)",
                      dbt.dateadd('day', 1, "cast('" ~ end_on ~ "' as date)")) }}
),

customers as (
    select customer_key, cast(min(first_seen_at) as date) as first_seen_on
    from int_identity_resolved
    group by customer_key
),

customer_orders as (
    select
        customer_key,
        occurred_on as ordered_on,
        lag(occurred_on) over (partition by customer_key order by occurred_on, order_key) as previous_ordered_on
    from int_customer_transactions
    where transaction_type = 'order'
),

customer_days as (
    select customers.customer_key, cast(days.date_day as date) as as_of_date
    from customers
    cross join days
    where customers.first_seen_on <= cast(days.date_day as date)
),

order_history as (
    select
        customer_days.customer_key,
        customer_days.as_of_date,
        count(customer_orders.ordered_on) as orders_to_date,
        min(customer_orders.ordered_on) as first_order_on,
        max(customer_orders.ordered_on) as last_order_on,
        max(customer_orders.previous_ordered_on) as previous_order_on
    from customer_days
    left join customer_orders
        on customer_days.customer_key = customer_orders.customer_key
        and customer_orders.ordered_on <= customer_days.as_of_date
    group by customer_days.customer_key, customer_days.as_of_date
),

final as (
    select
        customer_key,
        as_of_date,
        {{ lifecycle_stage('orders_to_date', 'first_order_on', 'last_order_on', 'previous_order_on', 'as_of_date') }}
            as lifecycle_stage,
        orders_to_date,
        last_order_on
    from order_history
)

select * from final
