{{ config(
    materialized='incremental',
    unique_key='record_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['record_id'], 'unique': True}, {'columns': ['loaded_at']}],
    post_hook="delete from {{ this }} where loaded_at is null",
) }}
{# One row per person-like record in a source: a shop account, a POS member
   card (or a phone seen at the till without a card), a social follower, an app
   account a device logged in with, a contact of the e-mail/SMS tool, the
   e-mail (or else phone) a service ticket came from, a customer id of an
   imported transactions file. loaded_at: when its newest source row was loaded.
   Incremental: a daily build redoes the touched records (see identity_records.sql)
   and every imported one (a new version of the file replaces the old). #}
{%- set only_touched = identity_rebuilds_touched_records() %}
with

stg_shop__customers as (select * from {{ ref('stg_shop__customers') }}),
stg_pos__receipts as (select * from {{ ref('stg_pos__receipts') }}),
stg_social__followers as (select * from {{ ref('stg_social__followers') }}),
stg_social__events as (select * from {{ ref('stg_social__events') }}),
int_app_logins as (select * from {{ ref('int_app_logins') }}),
stg_campaigns__message_events as (select * from {{ ref('stg_campaigns__message_events') }}),
stg_service__tickets as (select * from {{ ref('stg_service__tickets') }}),
stg_imports__transactions as (select * from {{ ref('stg_imports__transactions') }}),

{% if only_touched %}
touched_records as (
    {{ identity_touched_records(identity_record_sources() + [('social', ref('stg_social__events'), 'openid')]) }}
    union
    select source, source_customer_id from {{ this }} where source = 'import'
    union
    select 'import', import_customer_id from stg_imports__transactions
),
{% endif %}

shop_records as (
    select
        'shop:' || cast(customer_id as {{ dbt.type_string() }}) as record_id,
        'shop' as source,
        cast(customer_id as {{ dbt.type_string() }}) as source_customer_id,
        created_at as first_seen_at,
        loaded_at
    from stg_shop__customers
    where {{ is_touched_record(only_touched, 'shop', 'customer_id', dbt.type_bigint()) }}
),

pos_records as (
    select
        'pos:' || pos_customer_id as record_id,
        'pos' as source,
        pos_customer_id as source_customer_id,
        min(purchased_at) as first_seen_at,
        max(loaded_at) as loaded_at
    from stg_pos__receipts
    where pos_customer_id is not null and {{ is_touched_record(only_touched, 'pos', 'pos_customer_id') }}
    group by pos_customer_id
),

social_followers as not materialized (
    select * from stg_social__followers
    where {{ is_touched_record(only_touched, 'social', 'openid') }}
),

{# a follower's first event dates them only when the follow has no date: read by the
   events' openid index for those followers alone (a third of the records' full build
   was the first event of every follower). Their events are then behind the record,
   so they count for its loaded_at too #}
social_records as (
    select
        'social:' || social_followers.openid as record_id,
        'social' as source,
        social_followers.openid as source_customer_id,
        coalesce(social_followers.followed_at, first_event.first_event_at, social_followers.updated_at)
            as first_seen_at,
        greatest(social_followers.loaded_at, first_event.loaded_at) as loaded_at
    from social_followers
    left join lateral (
        select min(stg_social__events.occurred_at) as first_event_at, max(stg_social__events.loaded_at) as loaded_at
        from stg_social__events
        where stg_social__events.openid = social_followers.openid and social_followers.followed_at is null
    ) as first_event on true
),

app_records as (
    select
        'app:' || app_account_id as record_id,
        'app' as source,
        app_account_id as source_customer_id,
        min(occurred_at) as first_seen_at,
        max(loaded_at) as loaded_at
    from int_app_logins
    where app_account_id is not null and {{ is_touched_record(only_touched, 'app', 'app_account_id') }}
    group by app_account_id
),

campaign_records as (
    select
        'campaigns:' || contact_id as record_id,
        'campaigns' as source,
        contact_id as source_customer_id,
        min(occurred_at) as first_seen_at,
        max(loaded_at) as loaded_at
    from stg_campaigns__message_events
    where {{ is_touched_record(only_touched, 'campaigns', 'contact_id') }}
    group by contact_id
),

service_records as (
    select
        'service:' || service_customer_id as record_id,
        'service' as source,
        service_customer_id as source_customer_id,
        min(opened_at) as first_seen_at,
        max(loaded_at) as loaded_at
    from stg_service__tickets
    where service_customer_id is not null and {{ is_touched_record(only_touched, 'service', 'service_customer_id') }}
    group by service_customer_id
),

import_records as (
    select
        'import:' || import_customer_id as record_id,
        'import' as source,
        import_customer_id as source_customer_id,
        min(ordered_at) as first_seen_at,
        max(loaded_at) as loaded_at
    from stg_imports__transactions
    group by import_customer_id
),

records as (
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
),

final as (
    {{ rows_of_touched_records(only_touched, 'records', ['source', 'source_customer_id', 'first_seen_at', 'loaded_at']) }}
)

select * from final
