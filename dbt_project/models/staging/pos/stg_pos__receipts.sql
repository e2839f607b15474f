{{ config(**incremental_staging_config('receipt_id', 'pos', 'pos_customer_id')) }}
with

source as (
    {{ latest_version_of_changed_entities(source('pos', 'pos_receipts'), 'receipt_id', '_source_file') }}
),

normalized as (
    select
        *,
        nullif(upper(trim(member_card_no)), '') as member_card_normalized,
        {{ normalize_phone('phone') }} as phone_normalized
    from source
),

renamed as (
    select
        receipt_id,
        store_id,
        purchased_at,
        cast(purchased_at as date) as purchased_on,
        member_card_normalized as member_card_no,
        phone_normalized as phone_e164,
        {# how the till names its customer: the member card, else the phone (hashed,
           since this id reaches marts.customer_identity_map); null when anonymous #}
        case
            when member_card_normalized is not null then 'card:' || member_card_normalized
            when phone_normalized is not null then 'phone:' || {{ sha256_hex('phone_normalized') }}
        end as pos_customer_id,
        total_amount,
        transaction_type,
        nullif(trim(original_receipt_id), '') as original_receipt_id,
        _source_file as source_file,
        _source_line as source_line,
        _loaded_at as loaded_at
    from normalized
)

select * from renamed
