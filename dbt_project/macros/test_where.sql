{# dbt's own get_where_subquery, plus two placeholders in a test's `where` config,
   replaced when the test runs: __as_of_date__ by the as_of_date macro's day,
   __feature_dates__ by the dates ml.customer_features builds (feature_dates()).
   Test configs are rendered when dbt parses and cannot call project macros; the
   placeholders keep the days' rules in one place and out of the parsed project. #}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = (config.get('where') or '') | replace('__as_of_date__', as_of_date()) -%}
    {%- if '__feature_dates__' in where -%}
        {%- set where = where | replace('__feature_dates__', date_literals(feature_dates())) -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
