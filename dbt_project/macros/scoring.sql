{# Min-max scale an expression over all rows of the query to [low, high].
   A dimension with no spread carries no information: everyone gets the middle.
   Numeric arithmetic: integer inputs (days, counts) must not divide as integers. #}
{% macro min_max_scale(expression, low=1, high=5) -%}
    {%- set value = 'cast(' ~ expression ~ ' as numeric)' -%}
    coalesce(
        {{ low }} + ({{ high }} - {{ low }}) * ({{ value }} - min({{ value }}) over ())
            / nullif(max({{ value }}) over () - min({{ value }}) over (), 0),
        ({{ low }} + {{ high }}) / 2.0
    )
{%- endmacro %}

{# Quantile score 1..5 by position in the ordering, fifths of the rows: the
   first fifth gets 1, the last 5. Ties share the score of the tie's first row,
   so the lowest value always scores 1: the one-time buyers, often more than a
   fifth of the buyers, all get F 1 (sharing the tie's last row's score instead
   gave them 2 or 3, and the segments of F 1, New Customers, Promising and
   Lost, were left empty). Integer division: exact at the boundaries. #}
{% macro quintile_score(order_by) -%}
    cast(1 + 5 * (rank() over (order by {{ order_by }}) - 1) / count(*) over () as integer)
{%- endmacro %}

{# The day the marts describe (UTC): C360_AS_OF_DATE, which the pipeline sets
   (the warehouse DAG's logical date), else today. An environment variable, not
   a dbt var: any change of --vars makes dbt re-parse the whole project on every
   build, while a changed environment variable re-parses only the files that
   read it (loading the project: 5.0 s -> 2.5 s). #}
{% macro as_of_date_iso() -%}
    {{ return(env_var('C360_AS_OF_DATE', run_started_at.strftime('%Y-%m-%d'))) }}
{%- endmacro %}

{% macro as_of_date() -%}
    cast('{{ as_of_date_iso() }}' as date)
{%- endmacro %}

{# The dates ml.customer_features builds: each of var('feature_dates') (a list,
   so training builds its past dates in one run), else the as-of date. #}
{% macro feature_dates() -%}
    {%- set dates = [] %}
    {%- for day in var('feature_dates', none) or [as_of_date_iso()] %}
        {%- do dates.append(modules.datetime.date.fromisoformat(day | string)) %}
    {%- endfor %}
    {{ return(dates) }}
{%- endmacro %}

{# `dates` as a comma-separated list of SQL date literals, for an `in (...)`. #}
{% macro date_literals(dates) -%}
    {%- for day in dates %}cast('{{ day }}' as date){{ ', ' if not loop.last }}{% endfor %}
{%- endmacro %}

{# Pre-hook of a model that appends whole as-of dates (customer_rfm_history,
   ml.customer_features): delete the `dates` it is about to build again, through
   its as_of_date index. A delete+insert on the key would join the new rows to
   every date the table holds, a date more with each daily build (1.4 s for the
   features with one date of 800,000 customers). #}
{% macro delete_dates_rebuilt(dates) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where as_of_date in ({{ date_literals(dates) }})
    {%- endif -%}
{%- endmacro %}

{# The periods the flow marts (lifecycle_flow, rfm_segment_flow) count per:
   ISO weeks and calendar months. #}
{% macro flow_grains() -%}
    {{ return(['week', 'month']) }}
{%- endmacro %}

{# Whole calendar months from `earlier` to `later` (dates; days are ignored). #}
{% macro months_between(later, earlier) -%}
    cast((extract(year from {{ later }}) - extract(year from {{ earlier }})) * 12
         + extract(month from {{ later }}) - extract(month from {{ earlier }}) as integer)
{%- endmacro %}

{# An R, F or M score 1-5. Quintiles of the day's customers by default; with
   var('rfm_cut_points') set for the dimension, fixed cut points instead, so
   segments do not drift when the population changes. Four ascending cut
   points c1..c4: frequency and monetary score 1 + how many cut points the
   value exceeds; recency_days (fewer is better) scores 5 - that count.
   `c360 dbt run-operation print_rfm_cut_points` prints today's quintiles in
   this form, ready to freeze. #}
{% macro rfm_score(dimension, value, quantile_order_by) -%}
    {%- set cuts = (var('rfm_cut_points', none) or {}).get(dimension) -%}
    {%- if not cuts -%}
        {{ quintile_score(quantile_order_by) }}
    {%- else -%}
        {%- if cuts | length != 4 or cuts != cuts | sort -%}
            {{ exceptions.raise_compiler_error("rfm_cut_points." ~ dimension ~ " needs four ascending numbers, got " ~ cuts) }}
        {%- endif -%}
        {%- set exceeded -%}
            ({% for cut in cuts %}case when {{ value }} > {{ cut }} then 1 else 0 end{% if not loop.last %} + {% endif %}{% endfor %})
        {%- endset -%}
        {{ '5 - ' if dimension == 'recency_days' else '1 + ' }}{{ exceeded }}
    {%- endif -%}
{%- endmacro %}

{# Print the cut points today's quintiles use, as YAML for var('rfm_cut_points'),
   so that freezing them scores today's customers as today: cut point k is the
   largest value scoring k or worse (for recency, the most days scoring 6 - k or
   better). A score nobody got (a tie spanning it) repeats the cut before it, and
   stays empty while the cuts are frozen; nobody at R 5 (the latest day's buyers
   more than a fifth) puts its cut below every customer's days. #}
{% macro print_rfm_cut_points() %}
    {%- set scores_at_most_k = {'recency_days': 'r_score >= 6 - k', 'frequency': 'f_score <= k',
                                'monetary': 'm_score <= k'} %}
    {# as one JSON value: run_query's table would turn an array into the text of a list #}
    {% set query %}
        with rfm as (select * from {{ ref('customer_rfm') }})
        select cast(json_build_object(
        {%- for column, scored in scores_at_most_k.items() %}
            '{{ column }}', array(
                select coalesce(max({{ column }}) filter (where {{ scored }}), min({{ column }}) - 1)
                from generate_series(1, 4) as k cross join rfm group by k order by k)
            {{- ',' if not loop.last }}
        {%- endfor %}) as text)
    {% endset %}
    {% set cuts = fromjson(run_query(query).rows[0][0]) %}
    {% if not cuts['frequency'] %}
        {{ exceptions.raise_compiler_error("marts.customer_rfm has no customers to take cut points from: build it first") }}
    {% endif %}
    {{ print(toyaml({'rfm_cut_points': cuts})) }}
{% endmacro %}
