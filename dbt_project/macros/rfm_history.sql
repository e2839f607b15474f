{# What a daily build of the RFM history marts recomputes. customer_rfm_history
   holds one row per customer and history day (a day a build ran for), indexed
   on as_of_date: the marts read it a few days at a time, never whole, except
   on a full refresh. A build for the as-of date d has just (re)written d's
   rows, which can change only:
   - segment changes on d (against the history day before d) and on the next
     history day after d (whose day before d now is);
   - the flow of the periods containing d (d may be their last day, or the
     history's first day) and of the next period holding history days (whose
     "before" d may be the last day of).
   Each macro below returns those days or periods; the models delete them (a
   pre-hook) and insert them again, so a past date re-run leaves no stale row,
   and a full refresh computes every day or period with the same SQL. #}

{# The history days whose segment changes are recomputed: `changed_on`, null
   when d is the last history day. #}
{% macro rfm_change_days_to_redo(history) -%}
    select {{ as_of_date() }} as changed_on
    union all
    select min(as_of_date) as changed_on
    from {{ history }}
    where as_of_date > {{ as_of_date() }}
{%- endmacro %}

{# The periods of `grain` whose flow is recomputed: `period_grain`,
   `period_start` (null when the history has no day after d's period). #}
{% macro rfm_flow_periods_to_redo(history, grain) -%}
    {%- set period_of_as_of = dbt.date_trunc(grain, as_of_date()) -%}
    select '{{ grain }}' as period_grain, cast({{ period_of_as_of }} as date) as period_start
    union all
    select '{{ grain }}' as period_grain, cast({{ dbt.date_trunc(grain, 'min(as_of_date)') }} as date) as period_start
    from {{ history }}
    where as_of_date >= cast({{ dbt.dateadd(grain, 1, period_of_as_of) }} as date)
{%- endmacro %}

{# Pre-hooks of the incremental models: delete the rows about to be recomputed. #}
{% macro delete_rfm_changes_to_redo(history) -%}
    delete from {{ this }}
    where changed_on in (
        select changed_on from ({{ rfm_change_days_to_redo(history) }}) as days_to_redo
    )
{%- endmacro %}

{% macro delete_rfm_flow_periods_to_redo(history, grains) -%}
    delete from {{ this }}
    where (period_grain, period_start) in (
        {% for grain in grains -%}
        select period_grain, period_start from ({{ rfm_flow_periods_to_redo(history, grain) }}) as {{ grain }}_periods
        {% if not loop.last %}union all{% endif %}
        {% endfor -%}
    )
{%- endmacro %}
