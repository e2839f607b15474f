{# The lifecycle rules, in one place. Thresholds are project variables
   (dbt_project.yml), documented there and in the README. First match wins:
     prospect    known (social, a shop account) but no order yet
     churned     no order for more than lifecycle_churn_days
     at_risk     overdue: the gap since the last order exceeds
                 lifecycle_at_risk_factor x the customer's own average gap
                 (never less than lifecycle_new_days), or
                 lifecycle_at_risk_default_days for one-order customers
     reactivated ordered recently after a gap longer than lifecycle_churn_days
                 (previous_order_on: the order day before the last order's day)
     new         one order, placed within lifecycle_new_days
     loyal       at least lifecycle_loyal_min_orders orders
     active      everyone else who buys #}
{% macro lifecycle_stage(orders, first_order_on, last_order_on, previous_order_on, as_of) -%}
    {%- set days_since_last = dbt.datediff(last_order_on, as_of, 'day') -%}
    case
        when {{ orders }} = 0 then 'prospect'
        when {{ days_since_last }} > {{ var('lifecycle_churn_days') }} then 'churned'
        when {{ days_since_last }} > {{ lifecycle_overdue_after_days(orders, first_order_on, last_order_on) }}
            then 'at_risk'
        when {{ orders }} > 1
            and {{ dbt.datediff(previous_order_on, last_order_on, 'day') }} > {{ var('lifecycle_churn_days') }}
            and {{ days_since_last }} <= {{ var('lifecycle_new_days') }} then 'reactivated'
        when {{ orders }} = 1 and {{ days_since_last }} <= {{ var('lifecycle_new_days') }} then 'new'
        when {{ orders }} >= {{ var('lifecycle_loyal_min_orders') }} then 'loyal'
        else 'active'
    end
{%- endmacro %}

{# Days without an order after which a buyer is at risk (a number, maybe fractional). #}
{% macro lifecycle_overdue_after_days(orders, first_order_on, last_order_on) -%}
    case
        when {{ orders }} > 1 then greatest(
            {{ var('lifecycle_at_risk_factor') }} * {{ dbt.datediff(first_order_on, last_order_on, 'day') }}
                / ({{ orders }} - 1.0),
            {{ var('lifecycle_new_days') }})
        else {{ var('lifecycle_at_risk_default_days') }}
    end
{%- endmacro %}

{# The rules' thresholds and version as one string: a spell built under other
   thresholds or an older version of the rules is rebuilt. Raise the version
   when the rules' SQL changes what they decide (2: the gap before a
   reactivation runs from the previous order day, not a same-day order). #}
{% macro lifecycle_rules_fingerprint() -%}
    {%- set names = ['lifecycle_new_days', 'lifecycle_loyal_min_orders', 'lifecycle_at_risk_factor',
                     'lifecycle_at_risk_default_days', 'lifecycle_churn_days'] -%}
    {%- set values = ['rules=2'] -%}
    {%- for name in names -%}{%- do values.append(name ~ '=' ~ var(name)) -%}{%- endfor -%}
    {{ return(values | join(';')) }}
{%- endmacro %}

{# Spells delete+insert does not replace (it only replaces the customers it
   rebuilt spells for): those of keys retired by a merge, and those after the
   as-of date when an earlier date is re-run. Run as a post-hook.
   Two statements, as the subquery convention in dbt_project.yml says: under an `or`
   the `not exists` is no anti-join (a full build at 100,000 customers stalled
   there for minutes). #}
{% macro delete_stale_spells(customers) -%}
    delete from {{ this }} where started_on > {{ as_of_date() }};

    delete from {{ this }} as spells
    where not exists (select 1 from {{ customers }} as current_customers
                      where current_customers.customer_key = spells.customer_key)
{%- endmacro %}
