{{ config(materialized='table') }}
{# Every money movement of a known customer, signed: orders add, returns and
   cancellations subtract on the day they happened and are not orders
   themselves. RFM and value marts aggregate this as of a date. #}
with

int_orders_unioned as not materialized (select * from {{ ref('int_orders_unioned') }}),
stg_pos__receipts as (select * from {{ ref('stg_pos__receipts') }}),
stg_imports__transactions as (select * from {{ ref('stg_imports__transactions') }}),
int_identity_resolved as not materialized (select * from {{ ref('int_identity_resolved') }}),

orders as (
    select customer_key, order_key, 'order' as transaction_type, ordered_at as occurred_at, gross_amount as amount
    from int_orders_unioned
    where customer_key is not null
),

cancellations as (
    select customer_key, order_key, 'cancellation', cancelled_at, -gross_amount
    from int_orders_unioned
    where customer_key is not null and cancelled_at is not null
),

shop_refunds as (
    select customer_key, order_key, 'return', returned_at, -returned_amount
    from int_orders_unioned
    where customer_key is not null and source = 'shop' and returned_at is not null
),

{# store returns are their own receipts, linked to the sale when it is known #}
pos_returns as (
    select
        int_identity_resolved.customer_key,
        'pos:' || stg_pos__receipts.receipt_id as order_key,
        'return',
        stg_pos__receipts.purchased_at,
        -stg_pos__receipts.total_amount
    from stg_pos__receipts
    inner join int_identity_resolved
        on int_identity_resolved.source = 'pos'
        and int_identity_resolved.source_customer_id = stg_pos__receipts.pos_customer_id
    where stg_pos__receipts.transaction_type = 'return'
),

{# an imported return is a negative line: it subtracts on its own date #}
import_returns as (
    select
        int_identity_resolved.customer_key,
        stg_imports__transactions.order_key,
        'return',
        stg_imports__transactions.ordered_at,
        stg_imports__transactions.amount
    from stg_imports__transactions
    inner join int_identity_resolved
        on int_identity_resolved.source = 'import'
        and int_identity_resolved.source_customer_id = stg_imports__transactions.import_customer_id
    where stg_imports__transactions.transaction_type = 'return'
),

unioned as (
    select * from orders
    union all
    select * from cancellations
    union all
    select * from shop_refunds
    union all
    select * from pos_returns
    union all
    select * from import_returns
),

final as (
    select
        customer_key,
        order_key,
        transaction_type,
        occurred_at,
        cast(occurred_at as date) as occurred_on,
        amount
    from unioned
)

select * from final
