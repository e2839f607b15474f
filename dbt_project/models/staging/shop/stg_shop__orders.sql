{{ config(**incremental_staging_config('order_id')) }}
with

source as (
    {{ latest_version_of_changed_entities(source('shop', 'shop_orders'), 'order_id', 'updated_at') }}
),

renamed as (
    select
        order_id,
        customer_id,
        ordered_at,
        cast(ordered_at as date) as ordered_on,
        status,
        total_amount,
        coalesce(currency, 'GBP') as currency,
        cancelled_at,
        refunded_at,
        updated_at,
        _loaded_at as loaded_at
    from source
)

select * from renamed
