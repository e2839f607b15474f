{{ config(
    materialized='incremental',
    unique_key=['identifier_type', 'identifier_value'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['identifier_type', 'identifier_value'], 'unique': True}, {'columns': ['changed_at']}],
    post_hook="{{ record_identity_watermark(ref('int_identity_records'), tojson(var('identity_max_records_per_source'), sort_keys=True)) }}",
) }}
{# Identifiers that are not used to merge, and why (this model shows what was skipped):
   - shared by more records of one source than var('identity_max_records_per_source')
     allows for their type: a family phone on three shop accounts, a store's default e-mail;
   - a phone carried by records with different e-mail addresses: a family's phone
     seen once in each of several channels, which would chain its members together.
   An identifier skipped once and used again since (its carriers changed, or the
   limits did) keeps its row with a null reason. changed_at: when its reason last
   changed, so that the daily walk relinks the records carrying the identifiers
   skipped or let through since its last build (int_identity_components).
   Incremental: a daily build checks again the identifiers skipped now and those
   carried by the records changed since its last build (see identity_watermarks.sql):
   the others keep their carriers, so they are still let through. It writes only
   the rows whose reason changed. A build with other limits checks every identifier. #}
-- depends_on: {{ ref('int_identity_records') }}
{%- set limits = var('identity_max_records_per_source') %}
{%- set check_only_changes = is_incremental()
    and identity_watermark_settings() == tojson(limits, sort_keys=True) %}
with

int_identity_identifiers as not materialized (select * from {{ ref('int_identity_identifiers') }}),

{% if check_only_changes %}
rechecked as materialized (
    select int_identity_identifiers.identifier_type, int_identity_identifiers.identifier_value
    from ({{ identity_records_changed_since_last_build(ref('int_identity_records')) }}) as changed_records
    inner join int_identity_identifiers on changed_records.record_id = int_identity_identifiers.record_id
    union
    select identifier_type, identifier_value from {{ this }} where reason is not null
),

{# every record carrying one, by the identifiers' (type, value) index #}
carried as not materialized (
    select int_identity_identifiers.*
    from rechecked
    inner join int_identity_identifiers using (identifier_type, identifier_value)
),
{% else %}
carried as not materialized (
    select * from int_identity_identifiers
),
{% endif %}

{# a record id is '<source>:<id>': its source without a join with the records #}
records_per_source as (
    select
        identifier_type,
        identifier_value,
        split_part(record_id, ':', 1) as source,
        count(*) filter (where not names_record) as record_count
    from carried
    group by 1, 2, 3
),

shared_within_a_source as (
    select
        identifier_type,
        identifier_value,
        'shared by ' || max(record_count) || ' records of one source' as reason
    from records_per_source
    group by 1, 2
    having max(record_count) > case identifier_type
        {%- for identifier_type, limit in limits.items() if identifier_type != 'default' %}
        when '{{ identifier_type }}' then {{ limit }}
        {%- endfor %}
        else {{ limits['default'] }}
    end
),

phones_of_several_emails as (
    select
        phones.identifier_type,
        phones.identifier_value,
        'carried by records with ' || count(distinct emails.identifier_value) || ' different e-mails' as reason
    from carried as phones
    inner join int_identity_identifiers as emails
        on phones.record_id = emails.record_id
        and emails.identifier_type = 'email'
    where phones.identifier_type = 'phone'
    group by 1, 2
    having count(distinct emails.identifier_value) > 1
),

checked as (
    select identifier_type, identifier_value, string_agg(reason, '; ' order by reason) as reason
    from (
        select * from shared_within_a_source
        union all
        select * from phones_of_several_emails
    ) as skipped
    group by 1, 2
),

{% if is_incremental() %}
changed as (
    select
        coalesce(checked.identifier_type, before.identifier_type) as identifier_type,
        coalesce(checked.identifier_value, before.identifier_value) as identifier_value,
        checked.reason
    from checked
    full outer join {{ this }} as before
        on checked.identifier_type = before.identifier_type
        and checked.identifier_value = before.identifier_value
    where checked.reason is distinct from before.reason
),
{% else %}
changed as (
    select * from checked
),
{% endif %}

final as (
    select identifier_type, identifier_value, reason, {{ identity_build_started() }} as changed_at
    from changed
)

select * from final
