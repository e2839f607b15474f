{# Historical value of every customer with an order on or before the as-of date:
   what they bought, what came back, how long they have been buying. #}
with

int_customer_transactions as (select * from {{ ref('int_customer_transactions') }}),

to_date as (
    select * from int_customer_transactions
    where occurred_on <= {{ as_of_date() }}
),

per_customer as (
    select
        customer_key,
        count(distinct case when transaction_type = 'order' then order_key end) as orders_count,
        coalesce(sum(case when transaction_type = 'order' then amount end), 0) as gross_revenue,
        -coalesce(sum(case when transaction_type <> 'order' then amount end), 0) as returned_amount,
        sum(amount) as net_revenue,
        min(case when transaction_type = 'order' then occurred_on end) as first_order_on,
        max(case when transaction_type = 'order' then occurred_on end) as last_order_on
    from to_date
    group by customer_key
),

final as (
    select
        customer_key,
        {{ as_of_date() }} as as_of_date,
        orders_count,
        cast(gross_revenue as numeric(14, 2)) as gross_revenue,
        cast(returned_amount as numeric(14, 2)) as returned_amount,
        cast(net_revenue as numeric(14, 2)) as net_revenue,
        cast(net_revenue / orders_count as numeric(14, 2)) as average_order_value,
        first_order_on,
        last_order_on,
        {{ as_of_date() }} - first_order_on as tenure_days,
        cast(date_trunc('month', first_order_on) as date) as first_order_month
    from per_customer
    where orders_count > 0
)

select * from final
