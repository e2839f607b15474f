{{ config(
    materialized='incremental',
    unique_key='order_item_key',
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['order_item_key'], 'unique': True}, {'columns': ['customer_lookup_id']}, {'columns': ['loaded_at']}],
    post_hook=["{{ delete_vanished_imports('order_item_key', ref('stg_imports__transactions'), 'transaction_key') }}",
               "{{ rekey_facts(ref('int_customer_key_changes')) }}"],
) }}
{# One row per order line: web-shop order items, and the lines of imported
   files (a negative line is a return). Store receipts carry totals only.
   Incremental: a daily build adds the lines loaded since its last build and
   re-keys the lines whose person changed. #}
with

stg_shop__order_items as (select * from {{ ref('stg_shop__order_items') }}),
stg_shop__orders as (select * from {{ ref('stg_shop__orders') }}),
stg_imports__transactions as (select * from {{ ref('stg_imports__transactions') }}),
int_customer_lookup as (select * from {{ ref('int_customer_lookup') }}),

shop_items as (
    select
        'shop:' || cast(items.order_item_id as {{ dbt.type_string() }}) as order_item_key,
        'shop:' || cast(items.order_id as {{ dbt.type_string() }}) as order_key,
        'shop' as source,
        'shop:' || cast(orders.customer_id as {{ dbt.type_string() }}) as customer_lookup_id,
        orders.ordered_at,
        cast(items.product_id as {{ dbt.type_string() }}) as product_id,
        items.quantity,
        items.unit_price,
        items.line_amount,
        greatest(items.loaded_at, orders.loaded_at) as loaded_at
    from stg_shop__order_items as items
    inner join stg_shop__orders as orders
        on items.order_id = orders.order_id
),

import_lines as (
    select
        transaction_key,
        order_key,
        'import',
        'import:' || import_customer_id,
        ordered_at,
        cast(null as {{ dbt.type_string() }}),
        cast(null as integer),
        cast(null as numeric),
        amount,
        loaded_at
    from stg_imports__transactions
),

lines as (
    select * from shop_items
    union all
    select * from import_lines
),

to_build as (
    {% if is_incremental() %}
    select * from lines where {{ loaded_since_last_build() }}
    {% else %}
    select * from lines
    {% endif %}
),

final as (
    select
        to_build.order_item_key,
        to_build.order_key,
        to_build.source,
        int_customer_lookup.customer_key,
        to_build.customer_lookup_id,
        to_build.ordered_at,
        cast(to_build.ordered_at as date) as ordered_on,
        to_build.product_id,
        to_build.quantity,
        to_build.unit_price,
        to_build.line_amount,
        to_build.line_amount < 0 as is_return,
        to_build.loaded_at
    from to_build
    left join int_customer_lookup
        on to_build.customer_lookup_id = int_customer_lookup.customer_lookup_id
)

select * from final
