{{ config(
    materialized='incremental',
    unique_key='record_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['record_id'], 'unique': True}],
    post_hook=[
        "{{ delete_identity_records_gone(ref('int_identity_records')) }}",
        "{{ record_identity_watermark(ref('int_identity_records')) }}",
    ],
) }}
{# Every source record with the customer_key of the person it belongs to.
   The key is a hash of the person's earliest-seen record, so it stays the
   same as new records join the person later.
   Incremental: a daily build redoes the people walked since its last build (see
   int_identity_components) and those with a record loaded since (its first_seen_at
   may have changed); the post-hook drops the records gone from their source. #}
with

int_identity_records as not materialized (select * from {{ ref('int_identity_records') }}),
int_identity_components as not materialized (select * from {{ ref('int_identity_components') }}),

{% if is_incremental() %}
redone_components as (
    select component_id from int_identity_components
    where walked_at > {{ identity_watermark('built_at', dbt.type_timestamp()) }}
    union
    select int_identity_components.component_id
    from ({{ identity_records_changed_since_last_build(ref('int_identity_records')) }}) as changed
    inner join int_identity_components on changed.record_id = int_identity_components.record_id
),

redone_records as (
    select int_identity_components.*
    from redone_components
    inner join int_identity_components on redone_components.component_id = int_identity_components.component_id
),
{% else %}
redone_records as (
    select * from int_identity_components
),
{% endif %}

records_in_components as (
    select
        int_identity_records.*,
        redone_records.component_id,
        row_number() over (
            partition by redone_records.component_id
            order by int_identity_records.first_seen_at, int_identity_records.record_id
        ) as seniority
    from int_identity_records
    inner join redone_records
        on int_identity_records.record_id = redone_records.record_id
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
