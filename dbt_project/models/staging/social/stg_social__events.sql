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
        coalesce(seconds_read, 0) as seconds_read,
        _loaded_at as loaded_at
    from source
)

select * from renamed
