{{ config(materialized='table') }}
{# Which normalised identifiers each record carries. Two records that share
   one (and it is not ambiguous) are the same person. names_record marks an
   identifier a record is keyed by (a till customer known only by phone): it
   says nothing about how many people share it, so the ambiguity check skips it. #}
with

stg_shop__customers as (select * from {{ ref('stg_shop__customers') }}),
stg_pos__receipts as (select * from {{ ref('stg_pos__receipts') }}),
stg_social__followers as (select * from {{ ref('stg_social__followers') }}),
int_app_logins as (select * from {{ ref('int_app_logins') }}),
stg_campaigns__message_events as not materialized (select * from {{ ref('stg_campaigns__message_events') }}),
stg_service__tickets as (select * from {{ ref('stg_service__tickets') }}),

shop_identifiers as (
    select 'shop:' || cast(customer_id as {{ dbt.type_string() }}) as record_id, 'email' as identifier_type, email_normalized as identifier_value, false as names_record from stg_shop__customers
    union all
    select 'shop:' || cast(customer_id as {{ dbt.type_string() }}), 'phone', phone_e164, false from stg_shop__customers
    union all
    select 'shop:' || cast(customer_id as {{ dbt.type_string() }}), 'member_card', member_card_no, false from stg_shop__customers
    union all
    {# the app logs in with it; it names the account #}
    select 'shop:' || cast(customer_id as {{ dbt.type_string() }}), 'shop_customer_id', cast(customer_id as {{ dbt.type_string() }}), true from stg_shop__customers
),

pos_records as (
    select 'pos:' || pos_customer_id as record_id, member_card_no, phone_e164
    from stg_pos__receipts
    where pos_customer_id is not null
),

pos_identifiers as (
    select record_id, 'member_card' as identifier_type, member_card_no as identifier_value, true as names_record from pos_records
    union all
    select record_id, 'phone', phone_e164, member_card_no is null from pos_records
),

social_identifiers as (
    select 'social:' || openid as record_id, 'unionid' as identifier_type, unionid as identifier_value, false as names_record from stg_social__followers
    union all
    select 'social:' || openid, 'phone', phone_e164, false from stg_social__followers
),

app_logins as (
    select distinct 'app:' || app_account_id as record_id, customer_id, email_normalized
    from int_app_logins
    where app_account_id is not null
),

{# an app account is keyed by the shop customer id it logs in with, else its e-mail #}
app_identifiers as (
    select record_id, 'shop_customer_id' as identifier_type, cast(customer_id as {{ dbt.type_string() }}) as identifier_value, true as names_record from app_logins
    union all
    select record_id, 'email', email_normalized, customer_id is null from app_logins
),

campaign_identifiers as (
    select 'campaigns:' || contact_id as record_id, 'email' as identifier_type, email_normalized as identifier_value, false as names_record from stg_campaigns__message_events
    union all
    select 'campaigns:' || contact_id, 'phone', phone_e164, false from stg_campaigns__message_events
),

service_contacts as (
    select distinct 'service:' || service_customer_id as record_id, email_normalized, phone_e164
    from stg_service__tickets
    where service_customer_id is not null
),

{# a ticket's contact is keyed by its e-mail, else its phone #}
service_identifiers as (
    select record_id, 'email' as identifier_type, email_normalized as identifier_value, true as names_record from service_contacts
    union all
    select record_id, 'phone', phone_e164, email_normalized is null from service_contacts
),

final as (
    select distinct record_id, identifier_type, identifier_value, names_record
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
)

select * from final
