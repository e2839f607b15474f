{# a table: as a view, the lookup and each test of it would join the logins to the people again #}
{{ config(materialized='table') }}
with

int_app_logins as (select * from {{ ref('int_app_logins') }}),
int_identity_resolved as (select * from {{ ref('int_identity_resolved') }}),

logins as (
    select
        int_app_logins.device_id,
        int_app_logins.occurred_at,
        int_identity_resolved.customer_key
    from int_app_logins
    inner join int_identity_resolved
        on int_identity_resolved.record_id = 'app:' || int_app_logins.app_account_id
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
