{# Who moved from which RFM segment to which, and on which day (between two
   days the history holds). #}
with

spells as (
    {{ state_spells(ref('customer_rfm_history'), 'customer_key', 'as_of_date', 'rfm_segment') }}
),

final as (
    select
        entity_key as customer_key,
        started_on as changed_on,
        previous_state as from_segment,
        state as to_segment
    from spells
    where previous_state is not null
)

select * from final
