{# Whether `relation` has a valid, whole-column index on exactly `columns` (in
   their order, unless in_order is false) with this uniqueness: read from the
   catalogue, so it costs nothing however large the table. #}
{% macro index_exists(relation, columns, unique, in_order=true) -%}
    exists (
        select 1 from pg_catalog.pg_index
        where indrelid = to_regclass('{{ relation }}')
          and indisunique = {{ 'true' if unique else 'false' }}
          and indisvalid and indpred is null and indexprs is null
          and array(select attribute.attname::text collate "C"
                    from unnest(cast(indkey as smallint[])) with ordinality as key (attnum, position)
                    inner join pg_catalog.pg_attribute as attribute
                        on attribute.attrelid = indrelid and attribute.attnum = key.attnum
                    order by {{ 'key.position' if in_order else 'attribute.attname::text collate "C"' }})
              = array[{% for column in (columns if in_order else columns | sort) -%}
                    '{{ column }}'{{ ', ' if not loop.last }}
                {%- endfor %}]
    )
{%- endmacro %}

{# dbt creates a model's configured indexes only when it creates the table, so an
   index added to an incremental model's config later would never reach a warehouse
   that already holds the table (the re-key and the feature probes depend on theirs).
   On every build of an incremental model this creates each configured index the
   table lacks. #}
{% macro create_missing_indexes() -%}
    {%- set indexes = config.get('indexes') or [] -%}
    {%- if config.get('materialized') == 'incremental' and indexes -%}
        do $indexes$ begin
        {%- for index in indexes %}
            if not {{ index_exists(this, index['columns'], index.get('unique', false)) }} then
                execute 'create {{ "unique " if index.get("unique") }}index on {{ this }} ({{ index["columns"] | join(", ") }})';
            end if;
        {%- endfor %}
        end $indexes$
    {%- endif -%}
{%- endmacro %}
