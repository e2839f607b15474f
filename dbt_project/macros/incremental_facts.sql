{# Incremental facts about customers carry `customer_lookup_id` (see
   int_customer_lookup), `customer_key` and `loaded_at` (when the newest source
   row behind the fact was loaded). A daily build redoes the facts whose source
   rows were loaded since the last build, and re-keys those whose person changed.
   Each has an index on its unique key: delete+insert deletes by it, and without
   one every daily build would scan the whole table. The marts' facts also index
   loaded_at: `loaded_since_last_build` reads its newest, and their customer_key
   tests (relationships_since_last_pass) the rows loaded since they last passed. #}

{# The value of a one-value query, read now (when the model or hook is compiled:
   in a build, just before it runs; `dbt compile` and `dbt docs generate` read it
   too) and written into the SQL as a literal of `type`. The planner estimates a
   literal from the column's statistics; given a subquery it cannot know the value
   and assumes a third of the rows qualify, so it plans sequential scans and hash
   joins over the whole history where an index reads the few new rows. JSON renders
   the value in ISO 8601 whatever the session's DateStyle, so it reads back exactly. #}
{% macro literal_from_query(sql, type) -%}
    {%- set as_text -%} select to_json(({{ sql }})) #>> '{}' {%- endset -%}
    {%- set value = run_query(as_text).columns[0].values()[0] if execute else none -%}
    cast({{ "'" ~ value ~ "'" if value is not none else 'null' }} as {{ type }})
{%- endmacro %}

{# Loads of several channels run in parallel, and a row becomes visible when its
   load commits, not when it was stamped: looking back var('incremental_lookback_hours')
   before the newest row already built catches a load that committed late.
   Rows seen twice are simply rebuilt (the facts have unique keys). A literal
   watermark took int_customer_channel_activity's daily build from 3.5-4.2 s to
   1.8-1.9 s at 30,000 customers x 365 days. #}
{% macro loaded_since_last_build(loaded_at='loaded_at') -%}
    {%- set watermark -%}
        select coalesce(max(loaded_at), '-infinity') - interval '{{ var("incremental_lookback_hours") }} hours'
        from {{ this }}
    {%- endset -%}
    {{ loaded_at }} > {{ literal_from_query(watermark, 'timestamptz') }}
{%- endmacro %}

{# Staging tables are incremental (but imported transactions): as views they sorted
   and normalised their whole raw table on every read, by the facts, identity and tests.
   A table whose rows belong to an identity record of `record_source` through
   `record_column` (a receipt to its till customer) indexes that column, so identity
   can re-read one record's rows, and notes the record a corrected row leaves. #}
{% macro incremental_staging_config(key, record_source=none, record_column=none) -%}
    {%- set config = {
        'materialized': 'incremental',
        'unique_key': key,
        'incremental_strategy': 'delete+insert',
        'indexes': [{'columns': [key], 'unique': True}, {'columns': ['loaded_at']}],
    } -%}
    {%- if record_source -%}
        {%- do config.update({
            'incremental_strategy': 'delete_insert_noting_moves',
            'meta': {'moves_note_record': [record_source, record_column]},
        }) -%}
        {%- do config['indexes'].append({'columns': [record_column]}) -%}
    {%- endif -%}
    {{ return(config) }}
{%- endmacro %}

{# The newest version of each event in an append-only raw event stream, whose
   version is its load time. So the rows loaded since the last build hold the
   newest version of every event the staging table lacks or holds an older
   version of: an incremental build reads only those (by the loaded_at index)
   and replaces the events they carry (delete+insert on `key`). #}
{% macro latest_loaded_version_of_events(relation, key='event_id') -%}
    {{ latest_version(relation, key, '_loaded_at',
                      where=loaded_since_last_build('_loaded_at') if is_incremental() else none) }}
{%- endmacro %}

{# The newest version of each entity in an append-only raw table whose versions
   are ordered by `version_column` and may arrive out of order (a late row, an
   older file re-sent): an incremental build re-reads every version of the
   entities loaded since the last build, by the raw key index. #}
{% macro latest_version_of_changed_entities(relation, key, version_column) -%}
    {%- set changed = none -%}
    {%- if is_incremental() -%}
        {%- set changed -%}
            {{ key }} in (select {{ key }} from {{ relation }} where {{ loaded_since_last_build('_loaded_at') }})
        {%- endset -%}
    {%- endif -%}
    {{ latest_version(relation, key, version_column, where=changed) }}
{%- endmacro %}

{# A fact row's person can change after it was written (two people found to be
   one, a device's first login, a record that left): only its customer_key
   changes then, so a post-hook updates the keys in place instead of rebuilding
   those rows from their sources. It reads only the lookup ids re-keyed since
   this fact's last re-key (int_customer_key_changes, by its key_changed_at
   index) and their fact rows by the fact's customer_lookup_id index, so a daily
   build costs the day's merges, not the fact's size. That takes the watermark as
   a literal: given a subquery, the planner hashed every row of fct_interactions
   (1.24 s, against 3 ms, at 30,000 customers x 365 days). Each fact's watermark is a
   row of `rekey_watermarks` beside the changes, written in the same transaction
   as the re-key: a fact whose build failed catches up on every change since. #}
{% macro rekey_facts(changes) -%}
    {% if is_incremental() -%}
    update {{ this }} as built
    set customer_key = changed.customer_key
    from {{ changes }} as changed
    where changed.key_changed_at > {{ rekeyed_through(changes) }}
      and changed.customer_lookup_id = built.customer_lookup_id
      and changed.customer_key is distinct from built.customer_key;
    {% endif -%}
    {{ record_rekeyed_through(changes) }}
{%- endmacro %}

{# This model's re-key watermark, as a literal: the newest key change it has
   taken in (-infinity before its first build). #}
{% macro rekeyed_through(changes) -%}
    {{ literal_from_query("select coalesce(max(rekeyed_through), '-infinity') from " ~ rekey_watermarks(changes)
                          ~ " where fact = '" ~ this ~ "'", dbt.type_timestamp()) }}
{%- endmacro %}

{# Run as a post-hook, after the model took in every change up to now: a full
   build joined today's lookup, an incremental one the changes since its watermark. #}
{% macro record_rekeyed_through(changes) -%}
    insert into {{ rekey_watermarks(changes) }} (fact, rekeyed_through)
    select '{{ this }}', coalesce(max(key_changed_at), '-infinity') from {{ changes }}
    on conflict (fact) do update set rekeyed_through = excluded.rekeyed_through
{%- endmacro %}

{# The facts' re-key watermarks, beside int_customer_key_changes, which creates
   the table (once, before any fact runs: the facts depend on it). #}
{% macro rekey_watermarks(changes) -%}
    {{ return(adapter.quote(changes.schema) ~ '.rekey_watermarks') }}
{%- endmacro %}

{% macro create_rekey_watermarks() -%}
    create table if not exists {{ rekey_watermarks(this) }} (
        fact text primary key,
        rekeyed_through {{ dbt.type_timestamp() }} not null
    )
{%- endmacro %}

{# A corrected fact row can move to another lookup id (an order re-sent under another
   customer, an event under another device or contact) or, for a fact that names its
   day column (meta `moves_note_day`), to another day. A model that recounts the lookup
   ids (or their days) with rows loaded since its last build then sees the new one
   only, and the old one keeps counting the row. So the facts it reads are built
   with this strategy: delete+insert that notes, in `fact_lookup_moves`, the lookup
   id (and day) each row it deletes leaves for its replacement, stamped with the replacing row's
   loaded_at, so a reader takes the moves by the same watermark as the rows
   (`loaded_since_last_build`). The note is in the transaction that moves the row.
   A staging table has no lookup id column: it names the record its rows belong to
   (meta `moves_note_record`: source and column, see incremental_staging_config).
   Moves are rare corrections; the table is never pruned. #}
{% macro get_incremental_delete_insert_noting_moves_sql(arg_dict) -%}
    {%- set unique_key, fact, new_rows = arg_dict['unique_key'], arg_dict['target_relation'], arg_dict['temp_relation'] -%}
    {%- set day = config.meta_get('moves_note_day') -%}
    {%- set record = config.meta_get('moves_note_record') -%}
    {%- set lookup = "'" ~ record[0] ~ ":' || {row}." ~ record[1] if record else '{row}.customer_lookup_id' -%}
    {%- set left_lookup = lookup | replace('{row}', 'DBT_INTERNAL_DEST') -%}
    {%- set new_lookup = lookup | replace('{row}', 'DBT_INTERNAL_SOURCE') -%}
    {{ drop_unchanged_rows(fact, new_rows, unique_key, arg_dict['dest_columns']) }}
    {#- noted from the rows the delete returns: one join of the fact to the new rows, not two #}
    {%- set delete_noting_moves %}
    with replaced as (
        {{ delete_rows_replaced(fact, new_rows, unique_key, arg_dict['incremental_predicates']) }}
        returning {{ left_lookup }} as left_lookup_id,
            {{ 'DBT_INTERNAL_DEST.' ~ day if day else 'cast(null as date)' }} as left_on,
            DBT_INTERNAL_SOURCE.loaded_at,
            {{ left_lookup }} is distinct from {{ new_lookup }}
            {%- if day %} or DBT_INTERNAL_DEST.{{ day }} is distinct from DBT_INTERNAL_SOURCE.{{ day }}{% endif %}
                as moved
    )
    insert into {{ fact_lookup_moves() }} (fact, customer_lookup_id, occurred_on, loaded_at)
    select distinct '{{ fact.schema }}.{{ fact.identifier }}', left_lookup_id, left_on, loaded_at
    from replaced
    where left_lookup_id is not null and moved
    {%- endset %}
    {{ probing_the_key_index(fact, new_rows, unique_key, delete_noting_moves) }};
    {{ insert_replacements(fact, new_rows, arg_dict['dest_columns']) }}
{%- endmacro %}

{% macro fact_lookup_moves() -%}
    {{ return(bookkeeping_table('fact_lookup_moves')) }}
{%- endmacro %}

{# Created when a dbt command starts (on-run-start), once before any model notes a
   move, so parallel models never race to. occurred_on is null for a table that notes
   no day, and in moves noted before days were. #}
{% macro create_fact_lookup_moves() -%}
    create table if not exists {{ fact_lookup_moves() }} (
        fact text not null,
        customer_lookup_id text not null,
        occurred_on date,
        loaded_at timestamptz not null
    );
    alter table {{ fact_lookup_moves() }} add column if not exists occurred_on date
{%- endmacro %}

{# An imported file replaces its source's earlier version (stg_imports__transactions
   keeps only the latest file), so a line dropped from the new version must leave
   the fact too: delete+insert only replaces what is rebuilt. Run as a post-hook.
   `not exists`, not `not in` (the subquery convention in dbt_project.yml). #}
{% macro delete_vanished_imports(unique_key, current, current_key=none) -%}
    delete from {{ this }} as built
    where built.source = 'import'
      and not exists (select 1 from {{ current }} as current_rows
                      where current_rows.{{ current_key or unique_key }} = built.{{ unique_key }})
{%- endmacro %}

{# The campaign message events that are a contact's response: fct_interactions
   holds these, int_campaign_messages_sent the others (holdouts, sends, deliveries). #}
{% macro campaign_response_types() -%}
    ('open', 'click', 'unsubscribe', 'conversion')
{%- endmacro %}

{# Post-hook: delete from this model the rows that meet any of `candidates` and
   `condition`, one statement per candidate, never the candidates or'ed
   (the subquery convention in dbt_project.yml). #}
{% macro delete_for_each(alias, candidates, condition) -%}
    {%- for candidate in candidates %}
    delete from {{ this }} as {{ alias }}
    where {{ candidate }}
      and {{ condition }}{{ ';' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{# int_customer_channel_activity: a lookup id none of whose fact rows is left leaves
   it too: an imported customer missing from the new version of the file, or a
   record whose only rows were corrections that moved to another lookup id (the
   recount finds no rows of it, so writes nothing over its old counts). #}
{% macro delete_vanished_activity() -%}
    {%- set no_fact_row_left -%}
      {%- for fact in [ref('fct_orders'), ref('fct_interactions'), ref('int_campaign_messages_sent'),
                       ref('fct_service_tickets')] %}
      {{ 'and ' if not loop.first }}not exists (select from {{ fact }} as fact where fact.customer_lookup_id = activity.customer_lookup_id)
      {%- endfor %}
    {%- endset -%}
    {{ delete_for_each('activity', [
        "activity.channel = 'import'",
        'activity.customer_lookup_id in (select customer_lookup_id from ' ~ fact_lookup_moves() ~ ')',
    ], no_fact_row_left) }}
{%- endmacro %}

{# fct_campaign_touches: a touch whose contact a corrected message moved away from,
   and which has no send or holdout left on or before the as-of date, is no touch. #}
{% macro delete_vanished_touches() -%}
    delete from {{ this }} as touch
    where 'campaigns:' || touch.contact_id in (select customer_lookup_id from {{ fact_lookup_moves() }})
      and not exists (
          select from {{ ref('stg_campaigns__message_events') }} as message
          where message.campaign_id = touch.campaign_id and message.contact_id = touch.contact_id
            and message.event_type in ('send', 'holdout') and message.occurred_on <= {{ as_of_date() }}
      )
{%- endmacro %}
