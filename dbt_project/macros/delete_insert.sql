{# delete+insert, as every incremental model here runs it. dbt's own deletes
   `where (key) in (select distinct key from <new rows>)`: PostgreSQL hashes the new
   rows for the distinct, then again to join them to the table. Joining on the key
   hashes them once: deleting fct_campaign_touches' 324,000 redone rows (of 701,000,
   at 1,000,000 customers) took 0.69 s against 1.28 s. Aliases are dbt's, so
   incremental_predicates read as they do in dbt's. #}
{% macro postgres__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- if unique_key %}
    {{ delete_rows_replaced(target, source, unique_key, incremental_predicates) }};
    {%- endif %}
    {{ insert_replacements(target, source, dest_columns) }}
{%- endmacro %}

{% macro delete_rows_replaced(target, source, unique_key, predicates=none) -%}
    delete from {{ target }} as DBT_INTERNAL_DEST
    using {{ source }} as DBT_INTERNAL_SOURCE
    where {% for key in ([unique_key] if unique_key is string else unique_key) -%}
        {{ 'and ' if not loop.first }}DBT_INTERNAL_DEST.{{ key }} = DBT_INTERNAL_SOURCE.{{ key }}
    {% endfor -%}
    {%- for predicate in predicates or [] %} and {{ predicate }}{% endfor %}
{%- endmacro %}

{% macro insert_replacements(target, source, dest_columns) -%}
    {%- set columns = get_quoted_csv(dest_columns | map(attribute='name')) -%}
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{%- endmacro %}
