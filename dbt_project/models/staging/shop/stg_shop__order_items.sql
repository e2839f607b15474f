{{ config(**incremental_staging_config('order_item_id')) }}
with

source as (
    {{ latest_version_of_changed_entities(source('shop', 'shop_order_items'), 'order_item_id', 'updated_at') }}
),

renamed as (
    select
        order_item_id,
        order_id,
        product_id,
        quantity,
        unit_price,
        quantity * unit_price as line_amount,
        _loaded_at as loaded_at
    from source
)

select * from renamed
