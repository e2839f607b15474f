{# PostgreSQL plans from statistics, and a table dbt has just (re)built has none:
   it then guesses a few hundred rows, and a join of two large tables can become
   a nested loop that runs for minutes. Analysing every table a model writes
   (a second or so per build in all) keeps the plans of the models after it sane. #}
{% macro analyze_if_table() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
