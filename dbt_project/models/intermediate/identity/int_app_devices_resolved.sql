{# a table: as a view, the lookup and each test of it would read every app event again #}
{{ config(materialized='table') }}
with

stg_app__events as (select * from {{ ref('stg_app__events') }}),
int_identity_resolved as (select * from {{ ref('int_identity_resolved') }}),

logins as (
    select
        stg_app__events.device_id,
        stg_app__events.occurred_at,
        int_identity_resolved.customer_key
    from stg_app__events
    inner join int_identity_resolved
        on int_identity_resolved.record_id = 'app:' || stg_app__events.app_account_id
),

final as (
    select
        device_id,
        case when count(distinct customer_key) = 1 then min(customer_key) end as customer_key,
        min(occurred_at) as first_login_at
    from logins
    group by device_id
)

select * from final
