{{ config(**incremental_staging_config('openid')) }}
with

source as (
    {{ latest_version_of_changed_entities(source('social', 'social_followers'), 'openid', 'updated_at') }}
),

renamed as (
    select
        openid,
        nullif(trim(unionid), '') as unionid,
        {{ normalize_phone('bound_phone') }} as phone_e164,
        nickname,
        followed_at,
        unfollowed_at,
        unfollowed_at is not null as has_unfollowed,
        coalesce(follower_count, 0) as follower_count,
        updated_at,
        _loaded_at as loaded_at
    from source
)

select * from renamed
