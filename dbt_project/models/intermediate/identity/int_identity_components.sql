{{ config(materialized='table') }}
{# Transitive merging: records linked through shared, unambiguous identifiers
   form one connected component (one person). The recursive walk visits every
   record reachable from each record; the component is named by the smallest
   record id reached. The edges are materialised once: inlined, PostgreSQL would
   recompute them (and the views beneath) at every step of the walk. #}
with recursive

int_identity_records as (select * from {{ ref('int_identity_records') }}),
int_identity_identifiers as (select * from {{ ref('int_identity_identifiers') }}),
int_identity_ambiguous_identifiers as (select * from {{ ref('int_identity_ambiguous_identifiers') }}),

usable_identifiers as (
    select int_identity_identifiers.*
    from int_identity_identifiers
    left join int_identity_ambiguous_identifiers
        on int_identity_identifiers.identifier_type = int_identity_ambiguous_identifiers.identifier_type
        and int_identity_identifiers.identifier_value = int_identity_ambiguous_identifiers.identifier_value
    where int_identity_ambiguous_identifiers.identifier_value is null
),

edges as materialized (
    select distinct
        left_side.record_id as from_record_id,
        right_side.record_id as to_record_id
    from usable_identifiers as left_side
    inner join usable_identifiers as right_side
        on left_side.identifier_type = right_side.identifier_type
        and left_side.identifier_value = right_side.identifier_value
        and left_side.record_id <> right_side.record_id
),

reachable (record_id, reached_record_id) as (
    select record_id, record_id from int_identity_records
    union
    select reachable.record_id, edges.to_record_id
    from reachable
    inner join edges on reachable.reached_record_id = edges.from_record_id
),

final as (
    select record_id, min(reached_record_id) as component_id
    from reachable
    group by record_id
)

select * from final
