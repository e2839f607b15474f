{{ config(materialized='table') }}
{# Every source record with the customer_key of the person it belongs to.
   The key is a hash of the person's earliest-seen record, so it stays the
   same as new records join the person later. #}
with

int_identity_records as (select * from {{ ref('int_identity_records') }}),
int_identity_components as (select * from {{ ref('int_identity_components') }}),

records_in_components as (
    select
        int_identity_records.*,
        int_identity_components.component_id,
        row_number() over (
            partition by int_identity_components.component_id
            order by int_identity_records.first_seen_at, int_identity_records.record_id
        ) as seniority
    from int_identity_records
    inner join int_identity_components
        on int_identity_records.record_id = int_identity_components.record_id
),

representatives as (
    select component_id, md5(record_id) as customer_key
    from records_in_components
    where seniority = 1
),

final as (
    select
        representatives.customer_key,
        records_in_components.record_id,
        records_in_components.source,
        records_in_components.source_customer_id,
        records_in_components.first_seen_at
    from records_in_components
    inner join representatives
        on records_in_components.component_id = representatives.component_id
)

select * from final
