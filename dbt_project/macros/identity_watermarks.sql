{# Where a daily build of an identity model (the walk, the resolved keys) left off:
   the newest record load it took in (loaded_through: against int_identity_records'
   loaded_at and the moves the staging tables noted), and when its build started
   (built_at: against the stamps the other identity models leave on what they
   change, the ambiguity check's changed_at and the walk's walked_at), and the
   settings it was built with (a build with other settings redoes everything). A
   row per model, written by its post-hook in the transaction that writes its rows,
   so a build that failed catches up on everything since. #}
{% macro identity_watermarks() -%}
    {{ return(bookkeeping_table('identity_watermarks')) }}
{%- endmacro %}

{# Created when a dbt command starts (on-run-start), before any model reads it. #}
{% macro create_identity_watermarks() -%}
    create table if not exists {{ identity_watermarks() }} (
        model text primary key,
        loaded_through timestamptz not null,
        built_at {{ dbt.type_timestamp() }} not null,
        settings text
    )
{%- endmacro %}

{# This model's `column` watermark as a literal; -infinity before its first build. #}
{% macro identity_watermark(column, type) -%}
    {{ literal_from_query("select coalesce(max(" ~ column ~ "), '-infinity') from " ~ identity_watermarks()
                          ~ " where model = '" ~ this ~ "'", type) }}
{%- endmacro %}

{# The settings this model was last built with; none before its first build, or
   when not executing. #}
{% macro identity_watermark_settings() -%}
    {%- if execute -%}
        {%- set found = run_query("select settings from " ~ identity_watermarks() ~ " where model = '" ~ this ~ "'") -%}
        {{ return(found.columns[0].values()[0] if found.rows else none) }}
    {%- endif -%}
{%- endmacro %}

{# The time this build started, which it stamps on the rows it changes. #}
{% macro identity_build_started() -%}
    cast('{{ run_started_at.isoformat() }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{# Records that may have changed since this model's last build: loaded since then
   (new, or with new rows), or left by a corrected row (possibly gone: the staging
   tables note the records their moved rows leave). Every move is taken: the facts
   note lookup ids, which are record ids too, or app devices, which match no record;
   moves are rare. Looks back var('incremental_lookback_hours') like the facts do
   (loaded_since_last_build). #}
{% macro identity_records_changed_since_last_build(records) -%}
    {%- set since = identity_loaded_since() -%}
    select record_id from {{ records }} where loaded_at > {{ since }}
    union
    {{ identity_records_left_since_last_build(since) }}
{%- endmacro %}

{# `since`: identity_loaded_since(), when the caller has it already (each reads the watermarks) #}
{% macro identity_records_left_since_last_build(since=none) -%}
    select customer_lookup_id from {{ fact_lookup_moves() }}
    where loaded_at > {{ since if since is not none else identity_loaded_since() }}
{%- endmacro %}

{% macro identity_loaded_since() -%}
    {{ identity_watermark('loaded_through', 'timestamptz') }} - interval '{{ var("incremental_lookback_hours") }} hours'
{%- endmacro %}

{# Post-hook: delete this model's rows of the records gone from their source since
   its last build. Only a record a corrected row left, or an imported one (a new
   version of the file replaces the old), can go: a daily build reads no others. #}
{% macro delete_identity_records_gone(records) -%}
    {{ delete_for_each('built', [
        'built.record_id in (' ~ identity_records_left_since_last_build() ~ ')',
        "built.record_id like 'import:%'",
    ], 'not exists (select from ' ~ records ~ ' as records where records.record_id = built.record_id)') }}
{%- endmacro %}

{# Post-hook: this model has taken in every record load up to now, with `settings`. #}
{% macro record_identity_watermark(records, settings=none) -%}
    insert into {{ identity_watermarks() }} (model, loaded_through, built_at, settings)
    select '{{ this }}', coalesce(max(loaded_at), '-infinity'), {{ identity_build_started() }},
        {{ "'" ~ settings ~ "'" if settings is not none else 'null' }}
    from {{ records }}
    on conflict (model) do update
    set loaded_through = excluded.loaded_through, built_at = excluded.built_at, settings = excluded.settings
{%- endmacro %}
