{# Which normalised identifiers each record carries. Two records that share
   one (and it is not ambiguous) are the same person. #}
with

stg_shop__customers as (select * from {{ ref('stg_shop__customers') }}),
stg_pos__receipts as (select * from {{ ref('stg_pos__receipts') }}),
stg_social__followers as (select * from {{ ref('stg_social__followers') }}),
stg_app__events as (select * from {{ ref('stg_app__events') }}),
stg_campaigns__message_events as (select * from {{ ref('stg_campaigns__message_events') }}),
stg_service__tickets as (select * from {{ ref('stg_service__tickets') }}),

shop_identifiers as (
    select 'shop:' || cast(customer_id as {{ dbt.type_string() }}) as record_id, 'email' as identifier_type, email_normalized as identifier_value from stg_shop__customers
    union all
    select 'shop:' || cast(customer_id as {{ dbt.type_string() }}), 'phone', phone_e164 from stg_shop__customers
    union all
    select 'shop:' || cast(customer_id as {{ dbt.type_string() }}), 'member_card', member_card_no from stg_shop__customers
    union all
    {# the app logs in with it #}
    select 'shop:' || cast(customer_id as {{ dbt.type_string() }}), 'shop_customer_id', cast(customer_id as {{ dbt.type_string() }}) from stg_shop__customers
),

pos_records as (
    select 'pos:' || pos_customer_id as record_id, member_card_no, phone_e164
    from stg_pos__receipts
    where pos_customer_id is not null
),

pos_identifiers as (
    select record_id, 'member_card' as identifier_type, member_card_no as identifier_value from pos_records
    union all
    select record_id, 'phone', phone_e164 from pos_records
),

social_identifiers as (
    select 'social:' || openid as record_id, 'unionid' as identifier_type, unionid as identifier_value from stg_social__followers
    union all
    select 'social:' || openid, 'phone', phone_e164 from stg_social__followers
),

app_logins as (
    select distinct 'app:' || app_account_id as record_id, customer_id, email_normalized
    from stg_app__events
    where app_account_id is not null
),

app_identifiers as (
    select record_id, 'shop_customer_id' as identifier_type, cast(customer_id as {{ dbt.type_string() }}) as identifier_value from app_logins
    union all
    select record_id, 'email', email_normalized from app_logins
),

campaign_identifiers as (
    select 'campaigns:' || contact_id as record_id, 'email' as identifier_type, email_normalized as identifier_value from stg_campaigns__message_events
    union all
    select 'campaigns:' || contact_id, 'phone', phone_e164 from stg_campaigns__message_events
),

service_contacts as (
    select distinct 'service:' || service_customer_id as record_id, email_normalized, phone_e164
    from stg_service__tickets
    where service_customer_id is not null
),

phones_of_phone_only_records as (
    select distinct phone_e164 from service_contacts where email_normalized is null
),

{# a phone that also has a record of its own (tickets giving just the phone) is
   left to that record: written on the e-mail's record too, it would look shared
   by two records and merge neither #}
service_identifiers as (
    select record_id, 'email' as identifier_type, email_normalized as identifier_value from service_contacts
    union all
    select service_contacts.record_id, 'phone', service_contacts.phone_e164
    from service_contacts
    left join phones_of_phone_only_records
        on service_contacts.phone_e164 = phones_of_phone_only_records.phone_e164
    where service_contacts.email_normalized is null or phones_of_phone_only_records.phone_e164 is null
),

final as (
    select distinct record_id, identifier_type, identifier_value
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
