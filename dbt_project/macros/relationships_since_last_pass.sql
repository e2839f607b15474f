{# `relationships` for a fact of event scale: every customer_key is a person of
   `to`. dbt's own test reads every row of the fact on every build, 16 million at
   100,000 customers x 365 days (2.0 s), so the daily build would grow with
   history for ever. Only two kinds of row can have broken it since the test last
   passed on this table:
   - rows the builds wrote since: loaded_at after the newest the table held then,
     less the look-back (loaded_since_last_build's rule, which chose them), read
     by the fact's loaded_at index;
   - rows re-keyed since: those of the lookup ids int_customer_key_changes
     changed after the fact's re-key watermark then (rekey_facts), read by the
     fact's customer_lookup_id index.
   A key that left `to` took its lookup ids with it (they are key changes), and
   int_customer_lookup's own test to `to` checks every lookup id's key.
   The table's oid is part of the pass: a full rebuild writes a new table, whose
   rows are all checked once. The fact needs customer_lookup_id and loaded_at,
   and the test no `where` config (it names the table). #}
{% test relationships_since_last_pass(model, column_name, to, field) %}
    {%- set changes = ref('int_customer_key_changes') -%}
    {%- set last_pass = last_relationships_pass(this.identifier, model) if execute else none -%}
    with checked as (
    {%- if last_pass %}
        select {{ column_name }} as value from {{ model }}
        where loaded_at > cast('{{ last_pass[0] }}' as timestamptz)
        union all
        select fact.{{ column_name }} from {{ model }} as fact
        inner join {{ changes }} as changed on changed.customer_lookup_id = fact.customer_lookup_id
        where changed.key_changed_at > cast('{{ last_pass[1] }}' as {{ dbt.type_timestamp() }})
    {%- else %}
        select {{ column_name }} as value from {{ model }}
    {%- endif %}
    )
    select value as {{ column_name }} from checked
    where value is not null
      and not exists (select from {{ to }} as parent where parent.{{ field }} = checked.value)
{% endtest %}

{# (loaded_at to check after, key changes to check after) from the test's last
   pass on this very table, as ISO 8601 text; none when it has not passed on it. #}
{% macro last_relationships_pass(test, fact) -%}
    {%- set passes = relationships_passes() -%}
    {%- if not adapter.get_relation(database=target.database, schema=passes.schema, identifier=passes.identifier) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set read -%}
        select to_json(loaded_through - interval '{{ var("incremental_lookback_hours") }} hours') #>> '{}',
            to_json(rekeyed_through) #>> '{}'
        from {{ passes }}
        where test = '{{ test }}' and fact_oid = to_regclass('{{ fact }}')
    {%- endset -%}
    {%- set rows = run_query(read).rows -%}
    {{ return(rows[0] if rows | length > 0 else none) }}
{%- endmacro %}

{% macro relationships_passes() -%}
    {{ return(api.Relation.create(database=target.database, schema=generate_schema_name('intermediate', none),
                                  identifier='relationships_passes')) }}
{%- endmacro %}

{# Created when a dbt command starts (on-run-start), like the other bookkeeping tables. #}
{% macro create_relationships_passes() -%}
    create table if not exists {{ relationships_passes() }} (
        test text primary key,
        fact_oid oid not null,
        loaded_through timestamptz not null,
        rekeyed_through {{ dbt.type_timestamp() }} not null,
        passed_at timestamptz not null
    )
{%- endmacro %}

{# on-run-end: each relationships_since_last_pass test that passed records what its
   table held, which the builds do not change while tests run (a model's tests
   follow it). The re-key watermark is the fact's own: a key change it has not
   taken in yet is checked after it has. A test that failed or did not run keeps
   its last pass, so the next run checks everything since then. #}
{% macro record_relationships_passes(results) -%}
    {%- set passed = [] -%}
    {%- for result in results
        if result.node.resource_type == 'test' and result.status == 'pass' and result.node.test_metadata
           and result.node.test_metadata.name == 'relationships_since_last_pass' -%}
        {%- set fact = graph.nodes[result.node.attached_node] -%}
        {%- do passed.append((result.node.alias,
                              api.Relation.create(database=fact.database, schema=fact.schema, identifier=fact.alias))) -%}
    {%- endfor -%}
    {%- if passed -%}
        {%- set changes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
                          | selectattr('name', 'equalto', 'int_customer_key_changes') | first -%}
        {%- set watermarks = rekey_watermarks(api.Relation.create(database=changes.database, schema=changes.schema)) -%}
        insert into {{ relationships_passes() }} (test, fact_oid, loaded_through, rekeyed_through, passed_at)
        values
        {%- for test, fact in passed %}
            ('{{ test }}', to_regclass('{{ fact }}'),
             (select coalesce(max(loaded_at), '-infinity') from {{ fact }}),
             (select coalesce(max(rekeyed_through), '-infinity') from {{ watermarks }} where fact = '{{ fact }}'),
             now()){{ ',' if not loop.last }}
        {%- endfor %}
        on conflict (test) do update set fact_oid = excluded.fact_oid, loaded_through = excluded.loaded_through,
            rekeyed_through = excluded.rekeyed_through, passed_at = excluded.passed_at
    {%- endif -%}
{%- endmacro %}
