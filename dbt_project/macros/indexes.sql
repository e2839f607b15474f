{# The columns of the pg_index row `index`, as text[]: in their order, unless
   in_order is false (then sorted). #}
{% macro index_columns(index='pg_index', in_order=true) -%}
    array(select attribute.attname::text collate "C"
          from unnest(cast({{ index }}.indkey as smallint[])) with ordinality as key (attnum, position)
          inner join pg_catalog.pg_attribute as attribute
              on attribute.attrelid = {{ index }}.indrelid and attribute.attnum = key.attnum
          order by {{ 'key.position' if in_order else 'attribute.attname::text collate "C"' }})
{%- endmacro %}

{% macro text_array(values) -%}
    array[{% for value in values %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor %}]::text[]
{%- endmacro %}

{# The access method (btree, brin, ...) of the pg_index row `index`. #}
{% macro index_type(index='pg_index') -%}
    (select access_method.amname::text from pg_catalog.pg_class as class
     inner join pg_catalog.pg_am as access_method on access_method.oid = class.relam
     where class.oid = {{ index }}.indexrelid)
{%- endmacro %}

{# Whether `relation` has a valid, whole-column index of this type on exactly
   `columns` (in their order, unless in_order is false) with this uniqueness:
   read from the catalogue, so it costs nothing however large the table. #}
{% macro index_exists(relation, columns, unique, in_order=true, type='btree') -%}
    exists (
        select 1 from pg_catalog.pg_index
        where indrelid = to_regclass('{{ relation }}')
          and indisunique = {{ 'true' if unique else 'false' }}
          and {{ index_type() }} = '{{ type }}'
          and indisvalid and indpred is null and indexprs is null
          and {{ index_columns(in_order=in_order) }} = {{ text_array(columns if in_order else columns | sort) }}
    )
{%- endmacro %}

{# dbt creates a model's configured indexes only when it creates the table, so an
   index added to an incremental model's config later would never reach a warehouse
   that already holds the table (the re-key and the feature probes depend on theirs),
   and one taken out of it (superseded by a wider one) would stay, costing every
   insert. On every build of an incremental model this creates each configured index
   the table lacks and drops each index it has that is not configured: the same
   columns, uniqueness and type (access method, btree unless configured). All of a
   model's indexes come from its config; those backing a constraint stay. #}
{% macro sync_configured_indexes() -%}
    {%- set indexes = [] -%}
    {%- for index in config.get('indexes') or [] -%}
        {%- do indexes.append({'columns': index['columns'], 'unique': index.get('unique', false),
                               'type': (index.get('type') or 'btree') | lower}) -%}
    {%- endfor -%}
    {%- if config.get('materialized') == 'incremental' and indexes -%}
        do $indexes$
        declare
            stale regclass;
        begin
        {%- for index in indexes %}
            if not {{ index_exists(this, index.columns, index.unique, type=index.type) }} then
                execute 'create {{ "unique " if index.unique }}index on {{ this }} using {{ index.type }} ({{ index.columns | join(", ") }})';
            end if;
        {%- endfor %}
            for stale in
                select indexrelid::regclass from pg_catalog.pg_index
                where indrelid = to_regclass('{{ this }}')
                  and not exists (select 1 from pg_catalog.pg_constraint where conindid = indexrelid)
                  and not (indisvalid and indpred is null and indexprs is null
                           and (indisunique, {{ index_type() }}, {{ index_columns() }}) in (
                    {%- for index in indexes %}
                               ({{ 'true' if index.unique else 'false' }}, '{{ index.type }}', {{ text_array(index.columns) }})
                               {{- ', ' if not loop.last }}
                    {%- endfor %}))
            loop
                execute format('drop index %s', stale);
            end loop;
        end $indexes$
    {%- endif -%}
{%- endmacro %}
