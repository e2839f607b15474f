{{ config(**incremental_staging_config('customer_id')) }}
with

source as (
    {{ latest_version_of_changed_entities(source('shop', 'shop_customers'), 'customer_id', 'updated_at') }}
),

renamed as (
    select
        customer_id,
        {{ normalize_email('email') }} as email_normalized,
        {{ normalize_phone('phone') }} as phone_e164,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(upper(trim(member_card_no)), '') as member_card_no,
        coalesce(accepts_marketing, false) as accepts_marketing,
        created_at,
        updated_at,
        _loaded_at as loaded_at
    from source
)

select * from renamed
