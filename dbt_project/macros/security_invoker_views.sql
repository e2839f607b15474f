{#- Every view dbt creates runs with the privileges of whoever queries it, not of
    its owner (the transformer): otherwise a view in a schema the BI role can read
    would hand it rows from raw or pii. PostgreSQL 15+; see access.views_bypassing_grants. -#}
{% macro postgres__create_view_as(relation, sql) -%}
  {%- set sql_header = config.get('sql_header', none) -%}

  {{ sql_header if sql_header is not none }}
  create view {{ relation.render() }}
    with (security_invoker = true)
    {% set contract_config = config.get('contract') %}
    {% if contract_config.enforced %}
      {{ get_assert_columns_equivalent(sql) }}
    {%- endif %}
  as (
    {{ sql }}
  );
{%- endmacro %}
