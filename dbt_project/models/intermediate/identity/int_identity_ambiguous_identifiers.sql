{# Identifiers held by more records of one source than
   var('identity_max_records_per_source') allows for their type: a family
   phone, a store's default e-mail. They are not used to merge; this model
   shows what was skipped. #}
{%- set limits = var('identity_max_records_per_source') %}
with

int_identity_identifiers as (select * from {{ ref('int_identity_identifiers') }}),
int_identity_records as (select * from {{ ref('int_identity_records') }}),

records_per_source as (
    select
        int_identity_identifiers.identifier_type,
        int_identity_identifiers.identifier_value,
        int_identity_records.source,
        count(*) filter (where not int_identity_identifiers.names_record) as record_count
    from int_identity_identifiers
    inner join int_identity_records
        on int_identity_identifiers.record_id = int_identity_records.record_id
    group by 1, 2, 3
),

final as (
    select
        identifier_type,
        identifier_value,
        max(record_count) as max_records_in_one_source,
        sum(record_count) as total_records
    from records_per_source
    group by 1, 2
    having max(record_count) > case identifier_type
        {%- for identifier_type, limit in limits.items() if identifier_type != 'default' %}
        when '{{ identifier_type }}' then {{ limit }}
        {%- endfor %}
        else {{ limits['default'] }}
    end
)

select * from final
