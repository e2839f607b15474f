{{ config(materialized='table') }}
{# Every dated thing a known customer did, one row per event, with its channel:
   orders (web, store, imported), social interactions, app events on a device
   someone logged in on, campaign messages, service tickets. Up to the as-of date. #}
with

int_identity_resolved as (select * from {{ ref('int_identity_resolved') }}),
int_orders_unioned as (select * from {{ ref('int_orders_unioned') }}),
stg_social__events as (select * from {{ ref('stg_social__events') }}),
stg_app__events as (select * from {{ ref('stg_app__events') }}),
int_app_devices_resolved as (select * from {{ ref('int_app_devices_resolved') }}),
stg_campaigns__message_events as (select * from {{ ref('stg_campaigns__message_events') }}),
stg_service__tickets as (select * from {{ ref('stg_service__tickets') }}),

orders as (
    select customer_key, source as channel, ordered_at as occurred_at
    from int_orders_unioned
    where customer_key is not null
),

social as (
    select int_identity_resolved.customer_key, 'social' as channel, stg_social__events.occurred_at
    from stg_social__events
    inner join int_identity_resolved
        on int_identity_resolved.source = 'social' and int_identity_resolved.source_customer_id = stg_social__events.openid
),

app as (
    select int_app_devices_resolved.customer_key, 'app' as channel, stg_app__events.occurred_at
    from stg_app__events
    inner join int_app_devices_resolved on stg_app__events.device_id = int_app_devices_resolved.device_id
    where int_app_devices_resolved.customer_key is not null
),

campaigns as (
    select int_identity_resolved.customer_key, 'campaigns' as channel, stg_campaigns__message_events.occurred_at
    from stg_campaigns__message_events
    inner join int_identity_resolved
        on int_identity_resolved.record_id = 'campaigns:' || stg_campaigns__message_events.contact_id
),

service as (
    select int_identity_resolved.customer_key, 'service' as channel, stg_service__tickets.opened_at as occurred_at
    from stg_service__tickets
    inner join int_identity_resolved
        on int_identity_resolved.record_id = 'service:' || stg_service__tickets.service_customer_id
),

final as (
    select * from (
        select * from orders
        union all select * from social
        union all select * from app
        union all select * from campaigns
        union all select * from service
    ) as events
    where cast(occurred_at as date) <= {{ as_of_date() }}
)

select * from final
