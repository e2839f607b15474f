{# Identity's records and identifiers, rebuilt by a daily build for the touched
   records only: those with source rows loaded since the model's last build, and
   those a corrected row left (the staging tables note it in fact_lookup_moves, see
   incremental_staging_config). A touched record is recomputed from all its rows,
   read by its staging table's record index; one with no rows left comes out as a
   row with a null loaded_at, which replaces what the table held of it and which
   the model's post-hook then deletes. #}

{# The staging tables (or intermediate ones) whose rows make identity's records, as
   (source, relation, the column naming the record). #}
{% macro identity_record_sources() -%}
    {{ return([
        ('shop', ref('stg_shop__customers'), 'customer_id'),
        ('pos', ref('stg_pos__receipts'), 'pos_customer_id'),
        ('social', ref('stg_social__followers'), 'openid'),
        ('app', ref('int_app_logins'), 'app_account_id'),
        ('campaigns', ref('stg_campaigns__message_events'), 'contact_id'),
        ('service', ref('stg_service__tickets'), 'service_customer_id'),
    ]) }}
{%- endmacro %}

{# Whether this build rebuilds only the touched records: not the first build, nor
   the first of a table made before loaded_at was kept. That one rebuilds every
   record; the column it adds is null in the rows it leaves, those of records gone
   from the sources, so the post-hook deletes them too. #}
{% macro identity_rebuilds_touched_records() -%}
    {{ return(is_incremental() and 'loaded_at' in adapter.get_columns_in_relation(this) | map(attribute='name')) }}
{%- endmacro %}

{# The touched records' (source, source_customer_id), of `sources` (see identity_record_sources). #}
{% macro identity_touched_records(sources) -%}
    {%- set since = loaded_since_last_build() -%}
    select distinct source, source_customer_id
    from (
        {%- for source, relation, column in sources %}
        select '{{ source }}' as source, cast({{ column }} as {{ dbt.type_string() }}) as source_customer_id
        from {{ relation }}
        where {{ since }} and {{ column }} is not null
        union all
        {%- endfor %}
        select split_part(customer_lookup_id, ':', 1), substr(customer_lookup_id, strpos(customer_lookup_id, ':') + 1)
        from {{ fact_lookup_moves() }}
        where {{ since }}
          and fact in ({% for _, relation, _ in sources %}'{{ relation.schema }}.{{ relation.identifier }}'{{ ', ' if not loop.last }}{% endfor %})
    ) as touched
{%- endmacro %}

{# Whether a `source` row, whose record `column` names, belongs to a touched record
   (CTE touched_records); always true when every record is rebuilt. `= any(array(..))`:
   the planner expects few values and reads them by the column's index, where a join
   with the CTE, of unknown size, made it scan the whole table. #}
{% macro is_touched_record(only_touched, source, column, type=dbt.type_string()) -%}
    {%- if only_touched -%}
        {{ column }} = any(array(
            select cast(source_customer_id as {{ type }}) from touched_records where source = '{{ source }}'))
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{# The model's final rows: `rows` (a CTE with record_id and `columns`), and when only
   the touched records are redone, a row of nulls but its id for a touched record
   left with none, which replaces the table's rows of it and is then deleted
   (post-hook). #}
{% macro rows_of_touched_records(only_touched, rows, columns) -%}
    {%- if only_touched -%}
    select
        touched.record_id,
        {%- for column in columns %}
        {{ rows }}.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (select source || ':' || source_customer_id as record_id from touched_records) as touched
    left join {{ rows }} on touched.record_id = {{ rows }}.record_id
    {%- else -%}
    select * from {{ rows }}
    {%- endif -%}
{%- endmacro %}
