{# One row per person-like record in a source: a shop account, a POS member
   card (or a phone seen at the till without a card), a social follower, a
   customer id of an imported transactions file. #}
with

stg_shop__customers as (select * from {{ ref('stg_shop__customers') }}),
stg_pos__receipts as (select * from {{ ref('stg_pos__receipts') }}),
stg_social__followers as (select * from {{ ref('stg_social__followers') }}),
stg_social__events as (select * from {{ ref('stg_social__events') }}),
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
    select * from import_records
)

select * from final
