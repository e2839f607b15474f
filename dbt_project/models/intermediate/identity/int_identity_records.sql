{# One row per person-like record in a source: a shop account, a POS member
   card (or a phone seen at the till without a card), a social follower. #}
with

stg_shop__customers as (select * from {{ ref('stg_shop__customers') }}),
stg_pos__receipts as (select * from {{ ref('stg_pos__receipts') }}),
stg_social__followers as (select * from {{ ref('stg_social__followers') }}),
stg_social__events as (select * from {{ ref('stg_social__events') }}),

shop_records as (
    select
        'shop:' || cast(customer_id as {{ dbt.type_string() }}) as record_id,
        'shop' as source,
        cast(customer_id as {{ dbt.type_string() }}) as source_customer_id,
        created_at as first_seen_at
    from stg_shop__customers
),

pos_identified as (
    select
        case
            when member_card_no is not null then 'card:' || member_card_no
            else 'phone:' || phone_e164
        end as source_customer_id,
        purchased_at
    from stg_pos__receipts
    where member_card_no is not null or phone_e164 is not null
),

pos_records as (
    select
        'pos:' || source_customer_id as record_id,
        'pos' as source,
        source_customer_id,
        min(purchased_at) as first_seen_at
    from pos_identified
    group by source_customer_id
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

final as (
    select * from shop_records
    union all
    select * from pos_records
    union all
    select * from social_records
)

select * from final
