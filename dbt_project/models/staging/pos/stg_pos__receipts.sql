with

source as (
    {{ latest_version(source('pos', 'pos_receipts'), 'receipt_id', '_source_file') }}
),

renamed as (
    select
        receipt_id,
        store_id,
        purchased_at,
        cast(purchased_at as date) as purchased_on,
        nullif(upper(trim(member_card_no)), '') as member_card_no,
        {{ normalize_phone('phone') }} as phone_e164,
        total_amount,
        transaction_type,
        nullif(trim(original_receipt_id), '') as original_receipt_id,
        _source_file as source_file,
        _source_line as source_line
    from source
)

select * from renamed
