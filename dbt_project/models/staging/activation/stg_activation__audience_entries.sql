{# When each customer first entered each audience (as of the run's date), and
   whether they are in its holdout. #}
with

audience_members as (select * from {{ source('activation', 'audience_members') }}),

final as (
    select
        audience,
        customer_key,
        min(as_of_date) as entered_on,
        bool_or(is_holdout) as is_holdout
    from audience_members
    where as_of_date <= {{ as_of_date() }}
    group by audience, customer_key
)

select * from final
