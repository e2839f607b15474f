{{ config(
    materialized='incremental',
    unique_key='order_key',
    incremental_strategy='delete_insert_noting_moves',
    indexes=[{'columns': ['order_key'], 'unique': True}, {'columns': ['customer_lookup_id']}, {'columns': ['loaded_at']}],
    post_hook=["{{ delete_vanished_imports('order_key', ref('int_orders_unioned')) }}",
               "{{ rekey_facts(ref('int_customer_key_changes')) }}"],
) }}
{# The orders as BI sees them (int_orders_unioned does the work). Incremental:
   a daily build copies the orders rebuilt upstream since its last build. #}
with

int_orders_unioned as (select * from {{ ref('int_orders_unioned') }}),
int_customer_lookup as (select * from {{ ref('int_customer_lookup') }}),

final as (
    {% if is_incremental() %}
    select * from int_orders_unioned where {{ loaded_since_last_build() }}
    {% else %}
    select * from int_orders_unioned
    {% endif %}
)

select * from final
