{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{% if is_incremental() %}{{ delete_rfm_flow_periods_to_redo(ref('customer_rfm_history'), flow_grains()) }}{% endif %}",
) }}
{# Customers moving between RFM segments per week and per month. For each
   period with history days: every customer in the history on the period's last
   history day (the as-of date for the current period), by their segment on the
   last history day before the period ('(entered)' if not in the history that
   day) and their segment on that last day; staying counts too. In the history's
   first period, "before" is the history's first day. A daily build recomputes
   the periods containing the as-of date and the next periods holding history
   days (macros/rfm_history.sql), reading three history days per period; a full
   refresh, every period. The history is referred to directly, not through an
   import CTE: PostgreSQL materialises a CTE read more than once. #}
{%- set history = ref('customer_rfm_history') %}
with

periods_to_build as (
    {% for grain in flow_grains() %}
    select
        period_grain,
        period_start,
        cast({{ dbt.dateadd(grain, 1, 'period_start') }} as date) as next_period_start
    from (
        {% if is_incremental() %}
        {{ rfm_flow_periods_to_redo(history, grain) }}
        {% else %}
        select distinct '{{ grain }}' as period_grain, cast({{ dbt.date_trunc(grain, 'as_of_date') }} as date) as period_start
        from {{ history }}
        {% endif %}
    ) as {{ grain }}_periods
    where period_start is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

periods as (
    select
        periods_to_build.period_grain,
        periods_to_build.period_start,
        (
            select max(in_period.as_of_date)
            from {{ history }} as in_period
            where in_period.as_of_date >= periods_to_build.period_start
                and in_period.as_of_date < periods_to_build.next_period_start
        ) as last_day,
        coalesce(
            (
                select max(earlier.as_of_date)
                from {{ history }} as earlier
                where earlier.as_of_date < periods_to_build.period_start
            ),
            (select min(first_day.as_of_date) from {{ history }} as first_day)
        ) as day_before
    from periods_to_build
),

{# `periods` is read twice, so PostgreSQL computes it once; each side is then
   one day of the history per period, found by the index on as_of_date, and
   the two are joined on the customer. #}
segments_on_last_day as (
    select periods.period_grain, periods.period_start, on_last_day.customer_key, on_last_day.rfm_segment
    from periods
    inner join {{ history }} as on_last_day
        on on_last_day.as_of_date = periods.last_day
),

segments_on_day_before as (
    select periods.period_grain, periods.period_start, on_day_before.customer_key, on_day_before.rfm_segment
    from periods
    inner join {{ history }} as on_day_before
        on on_day_before.as_of_date = periods.day_before
),

customer_flows as (
    select
        segments_on_last_day.period_grain,
        segments_on_last_day.period_start,
        coalesce(segments_on_day_before.rfm_segment, '(entered)') as from_segment,
        segments_on_last_day.rfm_segment as to_segment
    from segments_on_last_day
    left join segments_on_day_before
        on segments_on_day_before.period_grain = segments_on_last_day.period_grain
        and segments_on_day_before.period_start = segments_on_last_day.period_start
        and segments_on_day_before.customer_key = segments_on_last_day.customer_key
),

final as (
    select
        period_grain,
        period_start,
        from_segment,
        to_segment,
        count(*) as customers
    from customer_flows
    group by period_grain, period_start, from_segment, to_segment
)

select * from final
