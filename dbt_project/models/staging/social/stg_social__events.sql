{{ config(**incremental_staging_config('event_id', 'social', 'openid')) }}
with

source as (
    {{ latest_loaded_version_of_events(source('social', 'social_events')) }}
),

renamed as (
    select
        event_id,
        openid,
        event_type,
        occurred_at,
        cast(occurred_at as date) as occurred_on,
        content_id,
        seconds_read,  -- a read's; null for the other events, to which it does not apply
        _loaded_at as loaded_at
    from source
)

select * from renamed
