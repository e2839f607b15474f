{{ config(
    materialized='table',
    indexes=[{'columns': ['from_record_id', 'to_record_id'], 'unique': True}],
) }}
{# The graph identity resolution walks: pairs of records (both ways round) that
   share an identifier the ambiguity check lets through. A table with an index on
   from_record_id, so that a daily build's walk from the few records whose links
   changed reads only their edges (see int_identity_components). #}
with

int_identity_identifiers as (select * from {{ ref('int_identity_identifiers') }}),
int_identity_ambiguous_identifiers as (select * from {{ ref('int_identity_ambiguous_identifiers') }}),

{# read twice, but not materialized: from the tables' statistics the planner sees
   that most identifiers name one or two records and hashes the self-join. As one
   copy in a CTE (and the ambiguity check a view computed inside it) it sorted both
   sides: 2.7 s against 0.75 s at 60,000 customers, the check 0.8 s on its own. #}
usable_identifiers as not materialized (
    select int_identity_identifiers.*
    from int_identity_identifiers
    left join int_identity_ambiguous_identifiers
        on int_identity_identifiers.identifier_type = int_identity_ambiguous_identifiers.identifier_type
        and int_identity_identifiers.identifier_value = int_identity_ambiguous_identifiers.identifier_value
        and int_identity_ambiguous_identifiers.reason is not null
    where int_identity_ambiguous_identifiers.identifier_value is null
),

final as (
    select distinct
        left_side.record_id as from_record_id,
        right_side.record_id as to_record_id
    from usable_identifiers as left_side
    inner join usable_identifiers as right_side
        on left_side.identifier_type = right_side.identifier_type
        and left_side.identifier_value = right_side.identifier_value
        and left_side.record_id <> right_side.record_id
)

select * from final
