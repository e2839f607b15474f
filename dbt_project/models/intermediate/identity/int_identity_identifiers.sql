{{ config(
    materialized='incremental',
    unique_key='record_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['record_id']}, {'columns': ['identifier_type', 'identifier_value']}],
    post_hook="delete from {{ this }} where loaded_at is null",
) }}
{# Which normalised identifiers each record carries. Two records that share
   one (and it is not ambiguous) are the same person. names_record marks an
   identifier a record is keyed by (a till customer known only by phone): it
   says nothing about how many people share it, so the ambiguity check skips it.
   loaded_at: when the newest source row carrying it was loaded.
   Incremental: a daily build redoes the touched records (see identity_records.sql). #}
{%- set only_touched = identity_rebuilds_touched_records() %}
with

stg_shop__customers as (select * from {{ ref('stg_shop__customers') }}),
stg_pos__receipts as (select * from {{ ref('stg_pos__receipts') }}),
stg_social__followers as (select * from {{ ref('stg_social__followers') }}),
int_app_logins as (select * from {{ ref('int_app_logins') }}),
stg_campaigns__message_events as not materialized (select * from {{ ref('stg_campaigns__message_events') }}),
stg_service__tickets as (select * from {{ ref('stg_service__tickets') }}),

{% if only_touched %}
touched_records as (
    {{ identity_touched_records(identity_record_sources()) }}
),
{% endif %}

shop_customers as not materialized (
    select *, 'shop:' || cast(customer_id as {{ dbt.type_string() }}) as record_id
    from stg_shop__customers
    where {{ is_touched_record(only_touched, 'shop', 'customer_id', dbt.type_bigint()) }}
),

shop_identifiers as (
    select record_id, 'email' as identifier_type, email_normalized as identifier_value, false as names_record, loaded_at from shop_customers
    union all
    select record_id, 'phone', phone_e164, false, loaded_at from shop_customers
    union all
    select record_id, 'member_card', member_card_no, false, loaded_at from shop_customers
    union all
    {# the app logs in with it; it names the account #}
    select record_id, 'shop_customer_id', cast(customer_id as {{ dbt.type_string() }}), true, loaded_at from shop_customers
),

pos_records as (
    select 'pos:' || pos_customer_id as record_id, member_card_no, phone_e164, loaded_at
    from stg_pos__receipts
    where pos_customer_id is not null and {{ is_touched_record(only_touched, 'pos', 'pos_customer_id') }}
),

pos_identifiers as (
    select record_id, 'member_card' as identifier_type, member_card_no as identifier_value, true as names_record, loaded_at from pos_records
    union all
    select record_id, 'phone', phone_e164, member_card_no is null, loaded_at from pos_records
),

social_followers as not materialized (
    select 'social:' || openid as record_id, unionid, phone_e164, loaded_at
    from stg_social__followers
    where {{ is_touched_record(only_touched, 'social', 'openid') }}
),

social_identifiers as (
    select record_id, 'unionid' as identifier_type, unionid as identifier_value, false as names_record, loaded_at from social_followers
    union all
    select record_id, 'phone', phone_e164, false, loaded_at from social_followers
),

app_logins as (
    select 'app:' || app_account_id as record_id, customer_id, email_normalized, max(loaded_at) as loaded_at
    from int_app_logins
    where app_account_id is not null and {{ is_touched_record(only_touched, 'app', 'app_account_id') }}
    group by app_account_id, customer_id, email_normalized
),

{# an app account is keyed by the shop customer id it logs in with, else its e-mail #}
app_identifiers as (
    select record_id, 'shop_customer_id' as identifier_type, cast(customer_id as {{ dbt.type_string() }}) as identifier_value, true as names_record, loaded_at from app_logins
    union all
    select record_id, 'email', email_normalized, customer_id is null, loaded_at from app_logins
),

campaign_messages as not materialized (
    select 'campaigns:' || contact_id as record_id, email_normalized, phone_e164, loaded_at
    from stg_campaigns__message_events
    where {{ is_touched_record(only_touched, 'campaigns', 'contact_id') }}
),

campaign_identifiers as (
    select record_id, 'email' as identifier_type, email_normalized as identifier_value, false as names_record, loaded_at from campaign_messages
    union all
    select record_id, 'phone', phone_e164, false, loaded_at from campaign_messages
),

service_contacts as (
    select 'service:' || service_customer_id as record_id, email_normalized, phone_e164, max(loaded_at) as loaded_at
    from stg_service__tickets
    where service_customer_id is not null and {{ is_touched_record(only_touched, 'service', 'service_customer_id') }}
    group by service_customer_id, email_normalized, phone_e164
),

{# a ticket's contact is keyed by its e-mail, else its phone #}
service_identifiers as (
    select record_id, 'email' as identifier_type, email_normalized as identifier_value, true as names_record, loaded_at from service_contacts
    union all
    select record_id, 'phone', phone_e164, email_normalized is null, loaded_at from service_contacts
),

identifiers as (
    select record_id, identifier_type, identifier_value, names_record, max(loaded_at) as loaded_at
    from (
        select * from shop_identifiers
        union all
        select * from pos_identifiers
        union all
        select * from social_identifiers
        union all
        select * from app_identifiers
        union all
        select * from campaign_identifiers
        union all
        select * from service_identifiers
    ) as all_identifiers
    where identifier_value is not null
    group by record_id, identifier_type, identifier_value, names_record
),

final as (
    {{ rows_of_touched_records(only_touched, 'identifiers', ['identifier_type', 'identifier_value', 'names_record', 'loaded_at']) }}
)

select * from final
