{# dbt's own get_where_subquery, plus one placeholder: __as_of_date__ in a test's
   `where` config becomes the as_of_date macro's day when the test runs. Test
   configs are rendered when dbt parses and cannot call project macros; the
   placeholder keeps the day's rule in one place and out of the parsed project. #}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = (config.get('where') or '') | replace('__as_of_date__', as_of_date()) -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
