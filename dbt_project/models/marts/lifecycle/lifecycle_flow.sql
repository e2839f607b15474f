{# Customers moving between lifecycle stages per ISO week and calendar month:
   the stage on the day before the period (or '(entered)' for customers first
   known during it) against the stage on its last day, or on the as-of date for
   the current period. Staying counts too.

   Read from the spells, never per customer and period: those who changed stage
   during a period are counted from the spells that started in it, everyone
   else from how many customers each stage held when it began. #}
{%- set period_of = "date_trunc(grains.period_grain, cast({} as timestamp))".format %}
with

customer_lifecycle_spells as not materialized (select * from {{ ref('customer_lifecycle_spells') }}),

grains as (
    select period_grain
    from (values {% for grain in flow_grains() %}('{{ grain }}'){{ ', ' if not loop.last }}{% endfor %})
        as grains (period_grain)
),

periods as (
    select grains.period_grain, cast(period_start as date) as period_start
    from grains
    cross join lateral generate_series(
        date_trunc(grains.period_grain, (select min(started_on) from customer_lifecycle_spells)),
        {{ as_of_date() }},
        cast('1 ' || grains.period_grain as interval)
    ) as period_start
),

{# each spell beside the start of its customer's previous one #}
spells as (
    select
        customer_key,
        lifecycle_stage,
        coalesce(previous_stage, '(entered)') as from_stage,
        started_on,
        ended_on,
        lag(started_on) over (partition by customer_key order by started_on) as previous_started_on
    from customer_lifecycle_spells
),

{# per grain, whether a spell is the first and the last of its customer's spells
   that started in its period (a spell ends the day the next one starts).
   Truncated as timestamps: a date would be truncated as a timestamptz, in the
   session's time zone, for twice the cost. #}
spells_in_periods as (
    select
        grains.period_grain,
        cast({{ period_of('spells.started_on') }} as date) as period_start,
        spells.customer_key,
        spells.from_stage,
        spells.lifecycle_stage,
        spells.previous_started_on is null
            or {{ period_of('spells.previous_started_on') }} < {{ period_of('spells.started_on') }} as opens_period,
        spells.ended_on is null
            or {{ period_of('spells.ended_on') }} > {{ period_of('spells.started_on') }} as closes_period
    from spells
    cross join grains
),

{# one row per customer and period in which their stage changed: from the stage
   before the period's first spell to its last spell's stage. Most such periods
   hold one spell; only the others pair their first and last. #}
moves as (
    select period_grain, period_start, from_stage, lifecycle_stage as to_stage
    from spells_in_periods
    where opens_period and closes_period
    union all
    select opening.period_grain, opening.period_start, opening.from_stage, closing.lifecycle_stage
    from spells_in_periods as opening
    inner join spells_in_periods as closing
        on closing.customer_key = opening.customer_key
        and closing.period_grain = opening.period_grain
        and closing.period_start = opening.period_start
    where opening.opens_period and not opening.closes_period
      and closing.closes_period and not closing.opens_period
),

move_counts as (
    select period_grain, period_start, from_stage, to_stage, count(*) as customers
    from moves
    group by 1, 2, 3, 4
),

{# how many customers each stage holds from a day until its next change #}
stage_changes as (
    select lifecycle_stage, started_on as on_day, 1 as change from customer_lifecycle_spells
    union all
    select lifecycle_stage, ended_on, -1 from customer_lifecycle_spells where ended_on is not null
),

stage_counts as (
    select
        lifecycle_stage,
        on_day,
        lead(on_day) over (partition by lifecycle_stage order by on_day) as next_change_on,
        sum(sum(change)) over (partition by lifecycle_stage order by on_day) as customers
    from stage_changes
    group by lifecycle_stage, on_day
),

held_before as (
    select periods.period_grain, periods.period_start, stage_counts.lifecycle_stage, stage_counts.customers
    from periods
    inner join stage_counts
        on stage_counts.on_day < periods.period_start
        and (stage_counts.next_change_on >= periods.period_start or stage_counts.next_change_on is null)
),

moved_out as (
    select period_grain, period_start, from_stage, sum(customers) as customers
    from move_counts
    group by 1, 2, 3
),

stayed as (
    select
        held_before.period_grain,
        held_before.period_start,
        held_before.lifecycle_stage as from_stage,
        held_before.lifecycle_stage as to_stage,
        held_before.customers - coalesce(moved_out.customers, 0) as customers
    from held_before
    left join moved_out
        on moved_out.period_grain = held_before.period_grain
        and moved_out.period_start = held_before.period_start
        and moved_out.from_stage = held_before.lifecycle_stage
),

flows as (
    select * from move_counts
    union all
    select * from stayed
),

final as (
    select period_grain, period_start, from_stage, to_stage, cast(sum(customers) as bigint) as customers
    from flows
    group by 1, 2, 3, 4
    having sum(customers) > 0
)

select * from final
