{{ config(**incremental_staging_config('event_id')) }}
with

source as (
    {{ latest_loaded_version_of_events(source('app', 'app_events')) }}
),

normalized as (
    select
        *,
        {{ normalize_email('email') }} as email_normalized
    from source
),

renamed as (
    select
        event_id,
        event_type,
        occurred_at,
        cast(occurred_at as date) as occurred_on,
        device_id,
        platform,
        session_id,
        customer_id,
        email_normalized,
        {# the account a login names: the shop customer id, else the e-mail (hashed,
           since this id reaches marts.customer_identity_map) #}
        case
            when customer_id is not null then 'customer:' || cast(customer_id as {{ dbt.type_string() }})
            when email_normalized is not null then 'email:' || {{ sha256_hex('email_normalized') }}
        end as app_account_id,
        product_id,
        _source_file as source_file,
        _source_line as source_line,
        _loaded_at as loaded_at
    from normalized
)

select * from renamed
