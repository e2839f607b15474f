{# Turning a daily history of a state (a lifecycle stage, an RFM segment) into
   spells, changes and period flows. `relation` has one row per entity and day. #}

{# One row per entity and unbroken run of one state: when it started, the last
   day it was seen, and the state before it (null for the first one known). #}
{% macro state_spells(relation, key, date_column, state_column) -%}
    with

    days as (
        select
            {{ key }} as entity_key,
            {{ date_column }} as on_date,
            {{ state_column }} as state,
            lag({{ state_column }}) over (partition by {{ key }} order by {{ date_column }}) as state_before
        from {{ relation }}
    ),

    numbered as (
        select
            *,
            sum(case when state_before is distinct from state then 1 else 0 end)
                over (partition by entity_key order by on_date) as spell_number
        from days
    ),

    history_bounds as (
        select min({{ date_column }}) as first_day, max({{ date_column }}) as last_day from {{ relation }}
    )

    select
        numbered.entity_key,
        numbered.spell_number,
        min(numbered.state) as state,
        max(case when numbered.state_before is distinct from numbered.state then numbered.state_before end)
            as previous_state,
        min(numbered.on_date) as started_on,
        max(numbered.on_date) as last_seen_on,
        max(numbered.on_date) - min(numbered.on_date) + 1 as days_in_state,
        max(numbered.on_date) = max(history_bounds.last_day) as is_current,
        -- the spell may have begun before the history does
        min(numbered.on_date) = min(history_bounds.first_day) as started_before_history
    from numbered
    cross join history_bounds
    group by numbered.entity_key, numbered.spell_number
{%- endmacro %}

{# Per period (ISO week and calendar month) how many entities went from each
   state to each other (or stayed): the state at the end of the previous period
   against the state on the period's last day seen. An entity first seen during
   a period comes from '(entered)'; in the history's first period, entities
   already there come from their state on its first day. Drawn as a Sankey or
   a matrix by BI tools. #}
{% macro state_flow(relation, key, date_column, state_column, grains=('week', 'month')) -%}
    with

    history_start as (
        select min({{ date_column }}) as first_day from {{ relation }}
    ),

    {% for grain in grains %}
    by_{{ grain }} as (
        select distinct
            '{{ grain }}' as period_grain,
            cast(date_trunc('{{ grain }}', {{ date_column }}) as date) as period_start,
            {{ key }} as entity_key,
            min({{ date_column }}) over entity_period = history_start.first_day as seen_from_history_start,
            first_value({{ state_column }}) over entity_period as first_state,
            last_value({{ state_column }}) over entity_period as to_state
        from {{ relation }}
        cross join history_start
        window entity_period as (
            partition by {{ key }}, date_trunc('{{ grain }}', {{ date_column }})
            order by {{ date_column }}
            rows between unbounded preceding and unbounded following
        )
    ),
    {% endfor %}

    periods as (
        {% for grain in grains %}
        select * from by_{{ grain }}
        {% if not loop.last %}union all{% endif %}
        {% endfor %}
    ),

    flows as (
        select
            period_grain,
            period_start,
            coalesce(
                lag(to_state) over (partition by entity_key, period_grain order by period_start),
                case when seen_from_history_start then first_state else '(entered)' end
            ) as from_state,
            to_state
        from periods
    )

    select period_grain, period_start, from_state, to_state, count(*) as entities
    from flows
    group by period_grain, period_start, from_state, to_state
{%- endmacro %}
