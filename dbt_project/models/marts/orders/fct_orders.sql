{{ config(
    materialized='incremental',
    unique_key='order_key',
    incremental_strategy='delete_insert_noting_moves',
    indexes=[{'columns': ['order_key'], 'unique': True}, {'columns': ['customer_lookup_id']}, {'columns': ['loaded_at']}],
    post_hook=["{{ delete_vanished_imports('order_key', ref('int_orders_unioned')) }}",
               "{{ rekey_facts(ref('int_customer_key_changes')) }}"],
) }}
{# The orders as BI sees them (int_orders_unioned does the work). Incremental:
   a daily build copies the orders rebuilt upstream since its last build. The key
   is the lookup's, as in the other facts, not the copy's: a build of this model
   alone would otherwise copy a key int_orders_unioned has not re-keyed yet. #}
with

int_orders_unioned as (select * from {{ ref('int_orders_unioned') }}),
int_customer_lookup as (select * from {{ ref('int_customer_lookup') }}),

final as (
    select
        int_orders_unioned.order_key,
        int_orders_unioned.source,
        int_orders_unioned.source_order_id,
        int_customer_lookup.customer_key,
        int_orders_unioned.customer_lookup_id,
        int_orders_unioned.ordered_at,
        int_orders_unioned.ordered_on,
        int_orders_unioned.status,
        int_orders_unioned.gross_amount,
        int_orders_unioned.cancelled_at,
        int_orders_unioned.returned_at,
        int_orders_unioned.returned_amount,
        int_orders_unioned.net_amount,
        int_orders_unioned.store_id,
        int_orders_unioned.item_count,
        int_orders_unioned.loaded_at
    from int_orders_unioned
    left join int_customer_lookup
        on int_orders_unioned.customer_lookup_id = int_customer_lookup.customer_lookup_id
    {% if is_incremental() %}
    where {{ loaded_since_last_build('int_orders_unioned.loaded_at') }}
    {% endif %}
)

select * from final
