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

final as (
    select
        on_day.customer_key,
        on_day.as_of_date as changed_on,
        on_day_before.rfm_segment as from_segment,
        on_day.rfm_segment as to_segment
    from days
    inner join {{ history }} as on_day
        on on_day.as_of_date = days.on_date
    inner join {{ history }} as on_day_before
        on on_day_before.as_of_date = days.day_before
        and on_day_before.customer_key = on_day.customer_key
    where on_day.rfm_segment <> on_day_before.rfm_segment
)

select * from final
