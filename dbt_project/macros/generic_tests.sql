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
