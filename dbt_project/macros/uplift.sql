{# Half the 95% interval of a difference of two proportions (normal
   approximation): the margin around an uplift of a treated group's rate over
   its holdout's. #}
{% macro uplift_margin(treated_rate, treated_count, holdout_rate, holdout_count) -%}
    1.96 * sqrt(
        {{ treated_rate }} * (1 - {{ treated_rate }}) / nullif({{ treated_count }}, 0)
        + {{ holdout_rate }} * (1 - {{ holdout_rate }}) / nullif({{ holdout_count }}, 0)
    )
{%- endmacro %}
