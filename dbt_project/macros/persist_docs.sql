{# persist_docs (dbt_project.yml) puts each model's description and its columns'
   on the relation as PostgreSQL comments, which BI tools show. dbt's own version
   runs four statements per model on every build, two of them catalogue reads, and
   writes every comment again each day; about a second of a daily build. This one
   statement writes only the comments that differ (all of them on a table or view
   built anew; few on an incremental table). A documented column the relation
   lacks is skipped, as before, without dbt's warning. #}
{% macro postgres__persist_docs(relation, model, for_relation, for_columns) -%}
    {%- set relation_docs = for_relation and config.persist_relation_docs() and model.description -%}
    {%- set columns = model.columns.values() | list if for_columns and config.persist_column_docs() else [] -%}
    {%- for text in [model.description] + columns | map(attribute='description') | list
            if '$persist_docs$' in (text or '') -%}
        {{ exceptions.raise_compiler_error(model.name ~ ": a description may not hold $persist_docs$") }}
    {%- endfor -%}
    {%- if relation_docs or columns -%}
        {%- set relation_type = 'materialized view' if relation.type == 'materialized_view' else relation.type -%}
        {%- call statement('persist_docs') -%}
        do $persist_docs$
        declare
            rel constant regclass := to_regclass('{{ relation }}');
            column_number smallint;
        begin
        {%- if relation_docs %}
            if obj_description(rel, 'pg_class') is distinct from {{ postgres_escape_comment(model.description) }} then
                comment on {{ relation_type }} {{ relation }} is {{ postgres_escape_comment(model.description) }};
            end if;
        {%- endif %}
        {%- for column in columns %}
            {%- set name = adapter.quote(column.name) if column.quote else column.name %}
            {%- set comment = postgres_escape_comment(column.description) %}
            select attnum into column_number from pg_catalog.pg_attribute
            where attrelid = rel and attname = '{{ column.name if column.quote else column.name | lower }}'
              and attnum > 0 and not attisdropped;
            if found and coalesce(col_description(rel, column_number), '') <> {{ comment }} then
                comment on column {{ relation }}.{{ name }} is {{ comment }};
            end if;
        {%- endfor %}
        end $persist_docs$
        {%- endcall -%}
    {%- endif -%}
{%- endmacro %}
