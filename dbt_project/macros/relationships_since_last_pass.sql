{# `relationships` for an incremental fact: every customer_key is a person of
   `to`. dbt's own test reads every row of the fact on every build (16 million
   interactions at 100,000 customers x 365 days, about 2 s), so the daily build
   would grow with history for ever. The fact is written only by its builds,
   which take the rows loaded since the last one (loaded_since_last_build) and
   re-key the rows whose lookup id int_customer_key_changes changed (rekey_facts).
   So only two kinds of row can have broken the test since it last passed on this
   table:
   - rows written since: loaded_at after the newest the table held then, less the
     look-back (builds and tests of one `dbt build` share it), by the fact's
     loaded_at index;
   - rows re-keyed since: those of the lookup ids changed after the fact's re-key
     watermark then, by the fact's customer_lookup_id index.
   A row read neither way holds the key it held then, a person then, and its lookup
   id's key (the builds write the lookup's key and re-key every change):
   int_customer_lookup's own test to `to` checks those keys now. A pass names the
   oids of the fact and of the key changes: a table rebuilt since is a new one, and
   the fact is then read whole once. It is read whole too from the day
   var('relationships_full_read_days') days after it last was, which bounds a miss
   of this bookkeeping (a clock stepping back, a test run with a shorter look-back
   than the builds'). The fact needs customer_lookup_id and loaded_at; the test
   takes no `where` config. #}
{% test relationships_since_last_pass(model, column_name, to, field) %}
    {%- if model is string -%}
        {{ exceptions.raise_compiler_error("relationships_since_last_pass reads the table itself:"
                                           " it takes no where config") }}
    {%- endif -%}
    {%- set changes = ref('int_customer_key_changes') -%}
    {%- set last_pass = last_relationships_pass(this.identifier, model, changes) if execute else none -%}
    with checked as (
    {%- if last_pass %}
        {%- set written_since = "cast('" ~ last_pass[0] ~ "' as timestamptz)" %}
        select {{ column_name }} as value from {{ model }}
        where loaded_at > {{ written_since }}
        union all
        select fact.{{ column_name }} from {{ model }} as fact
        inner join {{ changes }} as changed on changed.customer_lookup_id = fact.customer_lookup_id
        where changed.key_changed_at > cast('{{ last_pass[1] }}' as {{ dbt.type_timestamp() }})
          and fact.loaded_at <= {{ written_since }}
    {%- else %}
        -- every row
        select {{ column_name }} as value from {{ model }}
    {%- endif %}
    )
    select value as {{ column_name }} from checked
    where value is not null
      and not exists (select from {{ to }} as parent where parent.{{ field }} = checked.value)
{% endtest %}

{# (loaded_at to check after, key changes to check after) from the test's last
   pass on these very tables, as ISO 8601 text; none when it has not passed on
   them, or last read every row relationships_full_read_days days ago or more. #}
{% macro last_relationships_pass(test, fact, changes) -%}
    {%- set passes = relationships_passes() -%}
    {%- if not load_relation(passes) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set read -%}
        select to_json(loaded_through - interval '{{ var("incremental_lookback_hours") }} hours') #>> '{}',
            to_json(rekeyed_through) #>> '{}'
        from {{ passes }}
        where test = '{{ test }}' and fact_oid = to_regclass('{{ fact }}')
          and changes_oid = to_regclass('{{ changes }}')
          and cast(fully_read_at as date) > current_date - {{ var("relationships_full_read_days") }}
    {%- endset -%}
    {%- set rows = run_query(read).rows -%}
    {{ return(rows[0] if rows | length > 0 else none) }}
{%- endmacro %}

{% macro relationships_passes() -%}
    {{ return(bookkeeping_table('relationships_passes')) }}
{%- endmacro %}

{# Created when a dbt command starts (on-run-start), like the other bookkeeping tables. #}
{% macro create_relationships_passes() -%}
    create table if not exists {{ relationships_passes() }} (
        test text primary key,
        fact_oid oid not null,
        changes_oid oid not null,
        loaded_through timestamptz not null,
        rekeyed_through {{ dbt.type_timestamp() }} not null,
        passed_at timestamptz not null,
        fully_read_at timestamptz not null
    );
    {#- a table made before passes noted their full reads: its passes read every row next #}
    alter table {{ relationships_passes() }} add column if not exists fully_read_at timestamptz not null
        default '-infinity'
{%- endmacro %}

{# on-run-end: each relationships_since_last_pass test that passed with no failing
   row records what its tables held, which the builds do not change while tests
   run (a model's tests follow it; the warehouse DAG runs one build at a time). The
   re-key watermark is the fact's own: a key change it has not taken in yet is
   checked after it has. A test that failed or did not run keeps its last pass, so
   the next run checks everything since then. Whether it read every row is in its
   compiled SQL. #}
{% macro record_relationships_passes(results) -%}
    {%- set passed = [] -%}
    {%- for result in results
        if result.node.resource_type == 'test' and result.status == 'pass' and not result.failures
           and result.node.test_metadata and result.node.test_metadata.name == 'relationships_since_last_pass' -%}
        {%- do passed.append((result.node.alias, graph.nodes[result.node.attached_node].relation_name,
                              '-- every row' in result.node.compiled_code)) -%}
    {%- endfor -%}
    {%- if passed -%}
        {%- set changes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
                          | selectattr('name', 'equalto', 'int_customer_key_changes') | first -%}
        insert into {{ relationships_passes() }}
            (test, fact_oid, changes_oid, loaded_through, rekeyed_through, passed_at, fully_read_at)
        values
        {%- for test, fact, read_every_row in passed %}
            ('{{ test }}', to_regclass('{{ fact }}'), to_regclass('{{ changes.relation_name }}'),
             (select coalesce(max(loaded_at), '-infinity') from {{ fact }}),
             (select coalesce(max(rekeyed_through), '-infinity') from {{ rekey_watermarks(changes) }}
              where fact = '{{ fact }}'),
             now(), {{ 'now()' if read_every_row else "'-infinity'" }}){{ ',' if not loop.last }}
        {%- endfor %}
        on conflict (test) do update set fact_oid = excluded.fact_oid, changes_oid = excluded.changes_oid,
            loaded_through = excluded.loaded_through, rekeyed_through = excluded.rekeyed_through,
            passed_at = excluded.passed_at,
            fully_read_at = greatest(relationships_passes.fully_read_at, excluded.fully_read_at)
    {%- endif -%}
{%- endmacro %}
