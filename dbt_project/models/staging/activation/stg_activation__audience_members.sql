with

source as (select * from {{ source('activation', 'audience_members') }}),

renamed as (
    select
        audience,
        as_of_date as synced_on,
        customer_key,
        is_holdout
    from source
)

select * from renamed
