{# One row per person across channels. E-mail and phone appear only as
   SHA-256 of their normalised values. Order, activity and service figures are
   as of the as-of date; per-channel first and last seen are in customer_channels. #}
with

int_identity_resolved as not materialized (select * from {{ ref('int_identity_resolved') }}),
int_customer_transactions as (select * from {{ ref('int_customer_transactions') }}),
customer_contacts as (select * from {{ ref('customer_contacts') }}),
int_customer_social_activity as (select * from {{ ref('int_customer_social_activity') }}),
customer_channels as (select * from {{ ref('customer_channels') }}),
int_orders_unioned as (select * from {{ ref('int_orders_unioned') }}),
stg_service__tickets as (select * from {{ ref('stg_service__tickets') }}),
fct_interactions as (select * from {{ ref('fct_interactions') }}),

records as (
    select
        customer_key,
        min(first_seen_at) as first_seen_at,
        count(*) as source_records,
        max(case when source = 'shop' then 1 else 0 end) = 1 as has_shop_account,
        max(case when source = 'pos' then 1 else 0 end) = 1 as has_store_purchases,
        max(case when source = 'social' then 1 else 0 end) = 1 as is_known_on_social,
        max(case when source = 'pos' and source_customer_id like 'card:%' then 1 else 0 end) = 1 as is_member,
        max(case when source = 'import' then 1 else 0 end) = 1 as has_imported_transactions,
        max(case when source = 'app' then 1 else 0 end) = 1 as uses_app,
        max(case when source = 'campaigns' then 1 else 0 end) = 1 as is_campaign_contact,
        max(case when source = 'service' then 1 else 0 end) = 1 as has_service_tickets
    from int_identity_resolved
    group by customer_key
),

orders as (
    select
        customer_key,
        count(distinct case when transaction_type = 'order' then order_key end) as orders_count,
        sum(amount) as net_revenue,
        min(case when transaction_type = 'order' then occurred_on end) as first_order_on,
        max(case when transaction_type = 'order' then occurred_on end) as last_order_on
    from int_customer_transactions
    where occurred_on <= {{ as_of_date() }}
    group by customer_key
),

{# the first and last event on any channel, and the social events: the person's
   channels rolled up. An app device's events count from before the login that
   tied it to them, so they can precede their first record. #}
activity as (
    select
        customer_key,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        cast(sum(case when channel = 'social' then events end) as bigint) as social_events_count
    from customer_channels
    group by customer_key
),

{# the store they buy in most (ties: the one they bought in last) #}
home_stores as (
    select distinct on (customer_key) customer_key, store_id as home_store_id
    from int_orders_unioned
    where source = 'pos' and customer_key is not null and ordered_at < {{ as_of_date() }} + 1
    group by customer_key, store_id
    order by customer_key, count(*) desc, max(ordered_at) desc
),

{# an unsubscribe from any campaign; it wins over the shop account's consent.
   Read by fct_interactions' (channel, occurred_on) index: the campaign channel's days #}
opt_outs as (
    select customer_key
    from fct_interactions
    where channel = 'campaigns' and event_type = 'unsubscribe' and customer_key is not null
      and occurred_on <= {{ as_of_date() }}
    group by customer_key
),

service as (
    select
        int_identity_resolved.customer_key,
        count(distinct stg_service__tickets.ticket_id) as service_tickets_count,
        avg(stg_service__tickets.satisfaction_score) as average_satisfaction
    from stg_service__tickets
    inner join int_identity_resolved
        on int_identity_resolved.record_id = 'service:' || stg_service__tickets.service_customer_id
    where cast(stg_service__tickets.opened_at as date) <= {{ as_of_date() }}
    group by int_identity_resolved.customer_key
),

final as (
    select
        records.customer_key,
        least(records.first_seen_at, activity.first_seen_at) as first_seen_at,
        activity.last_seen_at,
        records.source_records,
        trim({{ dbt.concat([
            "case when records.has_shop_account then 'shop ' else '' end",
            "case when records.has_store_purchases then 'pos ' else '' end",
            "case when records.is_known_on_social then 'social ' else '' end",
            "case when records.uses_app then 'app ' else '' end",
            "case when records.is_campaign_contact then 'campaigns ' else '' end",
            "case when records.has_service_tickets then 'service ' else '' end",
            "case when records.has_imported_transactions then 'import' else '' end"]) }}) as channels,
        records.has_shop_account,
        records.has_store_purchases,
        coalesce(int_customer_social_activity.is_following, false) as is_social_follower,
        records.is_member or customer_contacts.member_card_no is not null as is_member,
        {{ sha256_hex('customer_contacts.email_normalized') }} as email_sha256,
        {{ sha256_hex('customer_contacts.phone_e164') }} as phone_sha256,
        coalesce(customer_contacts.accepts_marketing, false) as accepts_marketing,
        opt_outs.customer_key is not null as has_opted_out,
        coalesce(orders.orders_count, 0) as orders_count,
        coalesce(orders.net_revenue, 0) as net_revenue,
        orders.first_order_on,
        orders.last_order_on,
        coalesce(int_customer_social_activity.social_follower_count, 0) as social_follower_count,
        coalesce(activity.social_events_count, 0) as social_events_count,
        home_stores.home_store_id,
        coalesce(service.service_tickets_count, 0) as service_tickets_count,
        cast(service.average_satisfaction as numeric(4, 2)) as average_satisfaction
    from records
    left join orders on records.customer_key = orders.customer_key
    left join customer_contacts on records.customer_key = customer_contacts.customer_key
    left join int_customer_social_activity on records.customer_key = int_customer_social_activity.customer_key
    left join activity on records.customer_key = activity.customer_key
    left join home_stores on records.customer_key = home_stores.customer_key
    left join opt_outs on records.customer_key = opt_outs.customer_key
    left join service on records.customer_key = service.customer_key
)

select * from final
