{{ config(
    materialized='incremental',
    unique_key=['merged_key', 'merged_on'],
    incremental_strategy='delete+insert',
) }}
{# When new data shows that two known people are one, the person keeps the
   older key (int_identity_resolved) and the other key is retired: one row per
   retired key, the key it went into, and the build day it happened. Read from
   customer_identity_map as the previous build left it, so this model runs
   before that mart is rebuilt (it declares the dependency). #}
{%- set previous_map = adapter.get_relation(this.database, this.schema, 'customer_identity_map') %}
with

int_identity_resolved as not materialized (select * from {{ ref('int_identity_resolved') }}),

{% if previous_map is not none %}
moved as (
    select distinct
        previous_map.customer_key as merged_key,
        int_identity_resolved.customer_key as into_key
    from {{ previous_map }} as previous_map
    inner join int_identity_resolved
        on previous_map.source = int_identity_resolved.source
        and previous_map.source_customer_id = int_identity_resolved.source_customer_id
    where previous_map.customer_key <> int_identity_resolved.customer_key
),
{% else %}
moved as (  -- the first build: nobody was known before
    select cast(null as text) as merged_key, cast(null as text) as into_key
    where false
),
{% endif %}

final as (
    select
        moved.merged_key,
        moved.into_key,
        {{ as_of_date() }} as merged_on
    from moved
    where not exists (
        select 1 from int_identity_resolved where int_identity_resolved.customer_key = moved.merged_key
    )
)

select * from final
