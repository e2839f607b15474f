{# Every customer's lifecycle stage on the as-of date, when they entered it
   and the stage before. Spells are read from the daily history, so a stage
   entered before the history starts shows the history's first day. #}
with

customer_lifecycle_history as (select * from {{ ref('customer_lifecycle_history') }}),
dim_customers as (select * from {{ ref('dim_customers') }}),

history_to_date as (
    select
        customer_key,
        as_of_date,
        lifecycle_stage,
        lag(lifecycle_stage) over (partition by customer_key order by as_of_date) as stage_before
    from customer_lifecycle_history
    where as_of_date <= {{ as_of_date() }}
),

spell_starts as (
    select
        customer_key,
        as_of_date as stage_entered_on,
        stage_before as previous_stage,
        row_number() over (partition by customer_key order by as_of_date desc) as recency_rank
    from history_to_date
    where stage_before is null or stage_before <> lifecycle_stage
),

final as (
    select
        history_to_date.customer_key,
        history_to_date.as_of_date,
        history_to_date.lifecycle_stage,
        spell_starts.stage_entered_on,
        spell_starts.previous_stage
    from history_to_date
    inner join dim_customers on history_to_date.customer_key = dim_customers.customer_key
    inner join spell_starts
        on history_to_date.customer_key = spell_starts.customer_key
        and spell_starts.recency_rank = 1
    where history_to_date.as_of_date = {{ as_of_date() }}
)

select * from final
