{{ config(**incremental_staging_config('event_id', 'campaigns', 'contact_id')) }}
with

source as (
    {{ latest_loaded_version_of_events(source('campaigns', 'campaign_events')) }}
),

renamed as (
    select
        event_id,
        campaign_id,
        campaign_name,
        channel,
        contact_id,
        {{ normalize_email('email') }} as email_normalized,
        {{ normalize_phone('phone') }} as phone_e164,
        event_type,
        occurred_at,
        cast(occurred_at as date) as occurred_on,
        is_holdout,
        cost_per_send,
        conversion_amount,
        _source_file as source_file,
        _source_line as source_line,
        _loaded_at as loaded_at
    from source
)

select * from renamed
