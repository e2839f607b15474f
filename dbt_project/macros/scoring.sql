{# Min-max scale an expression over all rows of the query to [low, high].
   A dimension with no spread carries no information: everyone gets the middle. #}
{% macro min_max_scale(expression, low=1, high=5) -%}
    coalesce(
        {{ low }} + ({{ high }} - {{ low }}) * ({{ expression }} - min({{ expression }}) over ())
            / nullif(max({{ expression }}) over () - min({{ expression }}) over (), 0),
        ({{ low }} + {{ high }}) / 2.0
    )
{%- endmacro %}

{# Quantile score 1..5: the top fifth of the ordering gets 5. Ties share a score. #}
{% macro quintile_score(order_by) -%}
    cast(ceil(5 * cume_dist() over (order by {{ order_by }})) as integer)
{%- endmacro %}

{% macro as_of_date() -%}
    cast('{{ var("as_of_date") }}' as date)
{%- endmacro %}
