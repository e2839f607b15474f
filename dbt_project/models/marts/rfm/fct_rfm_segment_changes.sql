{{ config(
    materialized='incremental',
    incremental_strategy='append',
    indexes=[{'columns': ['changed_on']}],
    pre_hook="{% if is_incremental() %}{{ delete_rfm_changes_to_redo(ref('customer_rfm_history')) }}{% endif %}",
) }}
{# Who moved from which RFM segment to which, and on which day: a customer's
   segment on a history day against their segment on the history day before it
   (a customer not in the history that day, new or not, has no change). A daily
   build recomputes the as-of date and the next history day after it
   (macros/rfm_history.sql); a full refresh, every history day.
   The history is referred to directly, not through an import CTE: PostgreSQL
   materialises a CTE read more than once, i.e. the whole history. #}
{%- set history = ref('customer_rfm_history') %}
with

days_to_build as (
    {% if is_incremental() %}
    select changed_on as on_date
    from ({{ rfm_change_days_to_redo(history) }}) as days_to_redo
    where changed_on is not null
    {% else %}
    select distinct as_of_date as on_date
    from {{ history }}
    {% endif %}
),

{# `days` is read twice, so PostgreSQL computes it once; each side of the
   comparison is then one day of the history per row of `days`, found by the
   index on as_of_date, and the two sides are joined on the customer. #}
days as (
    select
        days_to_build.on_date,
        (
            select max(earlier.as_of_date)
            from {{ history }} as earlier
            where earlier.as_of_date < days_to_build.on_date
        ) as day_before
    from days_to_build
),

segments_on_day as (
    select days.on_date, on_day.customer_key, on_day.rfm_segment
    from days
    inner join {{ history }} as on_day
        on on_day.as_of_date = days.on_date
),

segments_on_day_before as (
    select days.on_date, on_day_before.customer_key, on_day_before.rfm_segment
    from days
    inner join {{ history }} as on_day_before
        on on_day_before.as_of_date = days.day_before
),

final as (
    select
        segments_on_day.customer_key,
        segments_on_day.on_date as changed_on,
        segments_on_day_before.rfm_segment as from_segment,
        segments_on_day.rfm_segment as to_segment
    from segments_on_day
    inner join segments_on_day_before
        on segments_on_day_before.on_date = segments_on_day.on_date
        and segments_on_day_before.customer_key = segments_on_day.customer_key
    where segments_on_day.rfm_segment <> segments_on_day_before.rfm_segment
)

select * from final
