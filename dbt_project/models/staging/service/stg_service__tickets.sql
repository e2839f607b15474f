{{ config(**incremental_staging_config('ticket_id', 'service', 'service_customer_id')) }}
with

source as (
    {{ latest_version_of_changed_entities(source('service', 'service_tickets'), 'ticket_id', 'updated_at') }}
),

normalized as (
    select
        *,
        {{ normalize_email('email') }} as email_normalized,
        {{ normalize_phone('phone') }} as phone_normalized
    from source
),

renamed as (
    select
        ticket_id,
        category,
        contact_channel,
        email_normalized,
        phone_normalized as phone_e164,
        {# the e-mail, else the phone (hashed: this id reaches marts.customer_identity_map) #}
        case
            when email_normalized is not null then 'email:' || {{ sha256_hex('email_normalized') }}
            when phone_normalized is not null then 'phone:' || {{ sha256_hex('phone_normalized') }}
        end as service_customer_id,
        opened_at,
        closed_at,
        closed_at is not null as is_closed,
        satisfaction_score,
        updated_at,
        _source_file as source_file,
        _source_line as source_line,
        _loaded_at as loaded_at
    from normalized
)

select * from renamed
