{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete_insert_noting_moves',
    indexes=[{'columns': ['ticket_id'], 'unique': True}, {'columns': ['customer_lookup_id']}, {'columns': ['loaded_at']}],
    post_hook="{{ rekey_facts(ref('int_customer_key_changes')) }}",
) }}
{# One row per customer-service ticket, as it stands in its latest version
   (a ticket is closed and scored after it was opened). customer_key is null for
   a ticket whose contact matches nobody known. Incremental: a daily build redoes
   the tickets loaded or changed since the last one, and re-keys the rows whose
   person changed. #}
with

stg_service__tickets as (select * from {{ ref('stg_service__tickets') }}),
int_customer_lookup as (select * from {{ ref('int_customer_lookup') }}),

tickets as (
    select *, 'service:' || service_customer_id as customer_lookup_id
    from stg_service__tickets
),

to_build as (
    {% if is_incremental() %}
    select * from tickets where {{ loaded_since_last_build() }}
    {% else %}
    select * from tickets
    {% endif %}
),

final as (
    select
        to_build.ticket_id,
        int_customer_lookup.customer_key,
        to_build.customer_lookup_id,
        to_build.category,
        to_build.contact_channel,
        to_build.opened_at,
        cast(to_build.opened_at as date) as opened_on,
        to_build.closed_at,
        to_build.is_closed,
        cast(extract(epoch from to_build.closed_at - to_build.opened_at) / 3600 as numeric(10, 1)) as hours_to_close,
        to_build.satisfaction_score,
        to_build.loaded_at
    from to_build
    left join int_customer_lookup
        on to_build.customer_lookup_id = int_customer_lookup.customer_lookup_id
)

select * from final
