{# The generic tests we need, written here because dbt packages
   (dbt_utils) cannot be installed offline. #}

{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{% test value_between(model, column_name, min_value=none, max_value=none) %}
    select *
    from {{ model }}
    where {{ column_name }} is not null
      and (
        false
        {% if min_value is not none %} or {{ column_name }} < {{ min_value }} {% endif %}
        {% if max_value is not none %} or {{ column_name }} > {{ max_value }} {% endif %}
      )
{% endtest %}

{# Uniqueness of a large incremental table, enforced by PostgreSQL: passes when
   the table has a valid unique index on exactly these columns, which every insert
   is checked against (and a build that would break it fails). Where `unique`
   scans the whole history on every daily build, this reads the catalogue. #}
{% test unique_index(model, column_name=none, columns=none) %}
    {%- set wanted = columns or [column_name] %}
    select '{{ model }}' as relation, '{{ wanted | join(", ") }}' as missing_unique_index_on
    where not {{ index_exists(model, wanted, unique=true, in_order=false) }}
{% endtest %}

{# NOT NULL enforced by PostgreSQL on these columns (of a table c360 writes
   outside dbt, where a model contract cannot say so): read from the catalogue,
   so it costs nothing however large the table. Fails naming each column that
   may hold nulls or is missing. #}
{% test declared_not_null(model, column_name=none, columns=none) %}
    select '{{ model }}' as relation, wanted.column_name as nullable_or_missing_column
    from unnest({{ text_array(columns or [column_name]) }}) as wanted (column_name)
    where not exists (
        select 1 from pg_catalog.pg_attribute
        where attrelid = to_regclass('{{ model }}') and attname = wanted.column_name
          and attnotnull and not attisdropped
    )
{% endtest %}
