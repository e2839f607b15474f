{{ config(
    materialized='incremental',
    unique_key='event_key',
    incremental_strategy='delete_insert_noting_moves',
    indexes=[{'columns': ['event_key'], 'unique': True}, {'columns': ['customer_lookup_id']}, {'columns': ['loaded_at']}],
) }}
{# The campaign tool's own events about a contact: holdouts, sends and deliveries,
   every message event that is not the contact's response (responses are in
   fct_interactions; together the two hold every campaign message event).
   Kept beside fct_interactions so int_customer_channel_activity can recount one
   contact's campaign events without reading the whole campaign history.
   Incremental: a daily build adds what was loaded since the last one. No
   customer_key: who a contact is today is looked up when the counts are rolled up. #}
with

stg_campaigns__message_events as (select * from {{ ref('stg_campaigns__message_events') }}),

messages as (
    select
        'campaigns:' || event_id as event_key,
        'campaigns:' || contact_id as customer_lookup_id,
        event_type,
        occurred_at,
        loaded_at
    from stg_campaigns__message_events
    where event_type not in {{ campaign_response_types() }}
),

final as (
    select * from messages
    {% if is_incremental() %}
    where {{ loaded_since_last_build() }}
    {% endif %}
)

select * from final
