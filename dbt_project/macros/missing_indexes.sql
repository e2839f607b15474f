{# dbt creates a model's configured indexes only when it creates the table, so an
   index added to an incremental model's config later would never reach a warehouse
   that already holds the table (the re-key and the feature probes depend on theirs).
   On every build of an incremental model this creates each configured index the
   table lacks: same columns in the same order, and the same uniqueness. #}
{% macro create_missing_indexes() -%}
    {%- set indexes = config.get('indexes') or [] -%}
    {%- if config.get('materialized') == 'incremental' and indexes -%}
        do $indexes$ begin
        {%- for index in indexes %}
            if not exists (
                select 1 from pg_catalog.pg_index
                where indrelid = '{{ this }}'::regclass
                  and indisunique = {{ 'true' if index.get('unique') else 'false' }}
                  and indpred is null and indexprs is null
                  and array(select attribute.attname::text
                            from unnest(cast(indkey as smallint[])) with ordinality as key (attnum, position)
                            inner join pg_catalog.pg_attribute as attribute
                                on attribute.attrelid = indrelid and attribute.attnum = key.attnum
                            order by key.position)
                      = array[{% for column in index['columns'] %}'{{ column }}'{{ ', ' if not loop.last }}{% endfor %}]
            ) then
                execute 'create {{ "unique " if index.get("unique") }}index on {{ this }} ({{ index["columns"] | join(", ") }})';
            end if;
        {%- endfor %}
        end $indexes$
    {%- endif -%}
{%- endmacro %}
