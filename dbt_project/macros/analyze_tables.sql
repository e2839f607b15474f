{# PostgreSQL plans from statistics, and a table dbt has just (re)built has none:
   it then guesses a few hundred rows, and a join of two large tables can become
   a nested loop that runs for minutes. Analysing every table a model writes
   keeps the plans of the models after it sane. An incremental table's daily
   increment barely moves its statistics, and analysing it reads a sample of the
   whole table: it is analysed when new (never analysed: reltuples < 0) or, as
   autovacuum would, once a tenth of its rows changed since the last analyse. #}
{% macro analyze_if_table() -%}
    {%- if config.get('materialized') == 'table' -%}
        analyze {{ this }}
    {%- elif config.get('materialized') == 'incremental' -%}
        do $analyze$ begin
            if (select class.reltuples < 0 or stats.n_mod_since_analyze > 50 + 0.1 * class.reltuples
                from pg_class as class
                inner join pg_stat_user_tables as stats on stats.relid = class.oid
                where class.oid = '{{ this }}'::regclass) then
                analyze {{ this }};
            end if;
        end $analyze$
    {%- endif -%}
{%- endmacro %}
