{{ config(materialized='table') }}
{# One row per person-like record in a source: a shop account, a POS member
   card (or a phone seen at the till without a card), a social follower, an app
   account a device logged in with, a contact of the e-mail/SMS tool, the
   e-mail (or else phone) a service ticket came from, a customer id of an
   imported transactions file. #}
with

stg_shop__customers as (select * from {{ ref('stg_shop__customers') }}),
stg_pos__receipts as (select * from {{ ref('stg_pos__receipts') }}),
stg_social__followers as (select * from {{ ref('stg_social__followers') }}),
stg_social__events as (select * from {{ ref('stg_social__events') }}),
int_app_logins as (select * from {{ ref('int_app_logins') }}),
stg_campaigns__message_events as (select * from {{ ref('stg_campaigns__message_events') }}),
stg_service__tickets as (select * from {{ ref('stg_service__tickets') }}),
stg_imports__transactions as (select * from {{ ref('stg_imports__transactions') }}),

shop_records as (
    select
        'shop:' || cast(customer_id as {{ dbt.type_string() }}) as record_id,
        'shop' as source,
        cast(customer_id as {{ dbt.type_string() }}) as source_customer_id,
        created_at as first_seen_at
    from stg_shop__customers
),

pos_records as (
    select
        'pos:' || pos_customer_id as record_id,
        'pos' as source,
        pos_customer_id as source_customer_id,
        min(purchased_at) as first_seen_at
    from stg_pos__receipts
    where pos_customer_id is not null
    group by pos_customer_id
),

first_social_event as (
    select openid, min(occurred_at) as first_event_at
    from stg_social__events
    group by openid
),

social_records as (
    select
        'social:' || stg_social__followers.openid as record_id,
        'social' as source,
        stg_social__followers.openid as source_customer_id,
        coalesce(stg_social__followers.followed_at, first_social_event.first_event_at,
                 stg_social__followers.updated_at) as first_seen_at
    from stg_social__followers
    left join first_social_event
        on stg_social__followers.openid = first_social_event.openid
),

app_records as (
    select
        'app:' || app_account_id as record_id,
        'app' as source,
        app_account_id as source_customer_id,
        min(occurred_at) as first_seen_at
    from int_app_logins
    where app_account_id is not null
    group by app_account_id
),

campaign_records as (
    select
        'campaigns:' || contact_id as record_id,
        'campaigns' as source,
        contact_id as source_customer_id,
        min(occurred_at) as first_seen_at
    from stg_campaigns__message_events
    group by contact_id
),

service_records as (
    select
        'service:' || service_customer_id as record_id,
        'service' as source,
        service_customer_id as source_customer_id,
        min(opened_at) as first_seen_at
    from stg_service__tickets
    where service_customer_id is not null
    group by service_customer_id
),

import_records as (
    select
        'import:' || import_customer_id as record_id,
        'import' as source,
        import_customer_id as source_customer_id,
        min(ordered_at) as first_seen_at
    from stg_imports__transactions
    group by import_customer_id
),

final as (
    select * from shop_records
    union all
    select * from pos_records
    union all
    select * from social_records
    union all
    select * from app_records
    union all
    select * from campaign_records
    union all
    select * from service_records
    union all
    select * from import_records
)

select * from final
