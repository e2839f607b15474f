{# One row per customer and lifecycle spell (an unbroken run of one stage) in
   the daily history: when it started, the last day seen, the stage before. #}
with

spells as (
    {{ state_spells(ref('customer_lifecycle_history'), 'customer_key', 'as_of_date', 'lifecycle_stage') }}
),

final as (
    select
        entity_key as customer_key,
        spell_number,
        state as lifecycle_stage,
        previous_state as previous_stage,
        started_on,
        last_seen_on,
        days_in_state as days_in_stage,
        is_current,
        started_before_history
    from spells
)

select * from final
