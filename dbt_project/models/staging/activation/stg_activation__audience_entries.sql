with

source as (select * from {{ source('activation', 'audience_entries') }}),

renamed as (
    select
        audience,
        customer_key,
        entered_on,
        is_holdout
    from source
)

select * from renamed
