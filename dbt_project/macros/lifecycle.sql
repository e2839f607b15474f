{# The lifecycle rules, in one place. Thresholds are project variables
   (dbt_project.yml), documented there and in the README. First match wins:
     prospect    known (social, a shop account) but no order yet
     churned     no order for more than lifecycle_churn_days
     at_risk     overdue: the gap since the last order exceeds
                 lifecycle_at_risk_factor x the customer's own average gap
                 (never less than lifecycle_new_days), or
                 lifecycle_at_risk_default_days for one-order customers
     reactivated ordered recently after a gap longer than lifecycle_churn_days
     new         one order, placed within lifecycle_new_days
     loyal       at least lifecycle_loyal_min_orders orders
     active      everyone else who buys #}
{% macro lifecycle_stage(orders, first_order_on, last_order_on, previous_order_on, as_of) -%}
    {%- set days_since_last = dbt.datediff(last_order_on, as_of, 'day') -%}
    {%- set tenure_days = dbt.datediff(first_order_on, last_order_on, 'day') -%}
    case
        when {{ orders }} = 0 then 'prospect'
        when {{ days_since_last }} > {{ var('lifecycle_churn_days') }} then 'churned'
        when {{ days_since_last }} > case
                when {{ orders }} > 1 then greatest(
                    {{ var('lifecycle_at_risk_factor') }} * {{ tenure_days }} / ({{ orders }} - 1.0),
                    {{ var('lifecycle_new_days') }})
                else {{ var('lifecycle_at_risk_default_days') }}
            end then 'at_risk'
        when {{ orders }} > 1
            and {{ dbt.datediff(previous_order_on, last_order_on, 'day') }} > {{ var('lifecycle_churn_days') }}
            and {{ days_since_last }} <= {{ var('lifecycle_new_days') }} then 'reactivated'
        when {{ orders }} = 1 and {{ days_since_last }} <= {{ var('lifecycle_new_days') }} then 'new'
        when {{ orders }} >= {{ var('lifecycle_loyal_min_orders') }} then 'loyal'
        else 'active'
    end
{%- endmacro %}

{# Days the lifecycle history must (re)build on this run: on a first run the
   last lifecycle_history_days up to the as-of date; afterwards the days since
   the last one built, or just the as-of date when re-running the past. #}
{% macro lifecycle_history_window() -%}
    {%- set as_of = modules.datetime.date.fromisoformat(var('as_of_date')) -%}
    {%- set earliest = as_of - modules.datetime.timedelta(days=var('lifecycle_history_days')) -%}
    {%- set start = earliest -%}
    {%- if is_incremental() and execute -%}
        {%- set last = run_query("select max(as_of_date) from " ~ this).columns[0].values()[0] -%}
        {%- if last is not none -%}
            {%- set start = as_of if last >= as_of else [last + modules.datetime.timedelta(days=1), earliest] | max -%}
        {%- endif -%}
    {%- endif -%}
    {{ return((start, as_of)) }}
{%- endmacro %}
