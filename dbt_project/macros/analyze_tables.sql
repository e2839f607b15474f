{# PostgreSQL plans from statistics, and a table dbt has just (re)built has none:
   it then guesses a few hundred rows, and a join of two large tables can become
   a nested loop that runs for minutes. Analysing every table a model writes
   keeps the plans of the models after it sane. An incremental table's daily
   increment barely moves its statistics, and analysing it reads a sample of the
   whole table: it is analysed when it has no column statistics yet (new, or
   rebuilt) or, as autovacuum would, once a tenth of its rows changed since the
   last analyse (changes of earlier builds: this one's are counted at commit). #}
{% macro analyze_if_table() -%}
    {%- if config.get('materialized') == 'table' -%}
        analyze {{ this }}
    {%- elif config.get('materialized') == 'incremental' -%}
        do $analyze$ begin
            if not exists (select 1 from pg_stats
                           where schemaname = '{{ this.schema }}' and tablename = '{{ this.identifier }}')
               or (select stats.n_mod_since_analyze > 50 + 0.1 * greatest(class.reltuples, 0)
                   from pg_class as class
                   inner join pg_stat_user_tables as stats on stats.relid = class.oid
                   where class.oid = '{{ this }}'::regclass) then
                analyze {{ this }};
            end if;
        end $analyze$
    {%- endif -%}
{%- endmacro %}
