{{ config(materialized='table') }}
{# One row per order: web-shop orders, store sales and imported orders, with
   what was later cancelled or returned. Store returns are receipts of their
   own, matched to the sale they reverse; an imported return is matched to its
   order by order id. #}
with

stg_shop__orders as (select * from {{ ref('stg_shop__orders') }}),
stg_shop__order_items as (select * from {{ ref('stg_shop__order_items') }}),
stg_pos__receipts as (select * from {{ ref('stg_pos__receipts') }}),
stg_imports__transactions as (select * from {{ ref('stg_imports__transactions') }}),
int_identity_resolved as (select * from {{ ref('int_identity_resolved') }}),

shop_item_counts as (
    select order_id, sum(quantity) as item_count
    from stg_shop__order_items
    group by order_id
),

shop_orders as (
    select
        'shop:' || cast(stg_shop__orders.order_id as {{ dbt.type_string() }}) as order_key,
        'shop' as source,
        cast(stg_shop__orders.order_id as {{ dbt.type_string() }}) as source_order_id,
        int_identity_resolved.customer_key,
        stg_shop__orders.ordered_at,
        stg_shop__orders.status,
        stg_shop__orders.total_amount as gross_amount,
        stg_shop__orders.cancelled_at,
        stg_shop__orders.refunded_at as returned_at,
        case when stg_shop__orders.refunded_at is not null then stg_shop__orders.total_amount else 0 end
            as returned_amount,
        cast(null as {{ dbt.type_string() }}) as store_id,
        shop_item_counts.item_count
    from stg_shop__orders
    left join shop_item_counts
        on stg_shop__orders.order_id = shop_item_counts.order_id
    left join int_identity_resolved
        on int_identity_resolved.source = 'shop'
        and int_identity_resolved.source_customer_id = cast(stg_shop__orders.customer_id as {{ dbt.type_string() }})
),

pos_returns_by_sale as (
    select original_receipt_id, max(purchased_at) as returned_at, sum(total_amount) as returned_amount
    from stg_pos__receipts
    where transaction_type = 'return' and original_receipt_id is not null
    group by original_receipt_id
),

pos_sales as (
    select
        'pos:' || sales.receipt_id as order_key,
        'pos' as source,
        sales.receipt_id as source_order_id,
        int_identity_resolved.customer_key,
        sales.purchased_at as ordered_at,
        case when pos_returns_by_sale.returned_at is not null then 'returned' else 'completed' end as status,
        sales.total_amount as gross_amount,
        cast(null as {{ dbt.type_timestamp() }}) as cancelled_at,
        pos_returns_by_sale.returned_at,
        coalesce(pos_returns_by_sale.returned_amount, 0) as returned_amount,
        sales.store_id,
        cast(null as bigint) as item_count
    from stg_pos__receipts as sales
    left join pos_returns_by_sale
        on sales.receipt_id = pos_returns_by_sale.original_receipt_id
    left join int_identity_resolved
        on int_identity_resolved.source = 'pos'
        and int_identity_resolved.source_customer_id = sales.pos_customer_id
    where sales.transaction_type = 'sale'
),

import_lines as (
    select
        order_key,
        import_customer_id,
        min(case when transaction_type = 'sale' then ordered_at end) as ordered_at,
        sum(case when transaction_type = 'sale' then amount else 0 end) as gross_amount,
        max(case when transaction_type = 'return' then ordered_at end) as returned_at,
        -sum(case when transaction_type = 'return' then amount else 0 end) as returned_amount,
        count(case when transaction_type = 'sale' then 1 end) as line_count,
        max(coalesce(order_id, transaction_id)) as source_order_id
    from stg_imports__transactions
    group by order_key, import_customer_id
),

import_orders as (
    select
        import_lines.order_key,
        'import' as source,
        import_lines.source_order_id,
        int_identity_resolved.customer_key,
        import_lines.ordered_at,
        case when import_lines.returned_at is not null then 'returned' else 'completed' end as status,
        import_lines.gross_amount,
        cast(null as {{ dbt.type_timestamp() }}) as cancelled_at,
        import_lines.returned_at,
        import_lines.returned_amount,
        cast(null as {{ dbt.type_string() }}) as store_id,
        cast(null as bigint) as item_count
    from import_lines
    left join int_identity_resolved
        on int_identity_resolved.source = 'import'
        and int_identity_resolved.source_customer_id = import_lines.import_customer_id
    where import_lines.line_count > 0
),

unioned as (
    select * from shop_orders
    union all
    select * from pos_sales
    union all
    select * from import_orders
),

final as (
    select
        order_key,
        source,
        source_order_id,
        customer_key,
        ordered_at,
        cast(ordered_at as date) as ordered_on,
        status,
        gross_amount,
        cancelled_at,
        returned_at,
        returned_amount,
        gross_amount
            - returned_amount
            - case when cancelled_at is not null then gross_amount else 0 end as net_amount,
        store_id,
        item_count
    from unioned
)

select * from final
