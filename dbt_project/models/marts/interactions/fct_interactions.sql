{{ config(
    materialized='incremental',
    unique_key='interaction_key',
    incremental_strategy='delete_insert_noting_moves',
    meta={'moves_note_day': 'occurred_on'},
    indexes=[{'columns': ['interaction_key'], 'unique': True},
             {'columns': ['customer_lookup_id', 'occurred_on', 'channel', 'occurred_at', 'loaded_at']},
             {'columns': ['channel', 'occurred_on']}, {'columns': ['loaded_at']}],
    post_hook="{{ rekey_facts(ref('int_customer_key_changes')) }}",
) }}
{# One row per thing a person did on a channel other than buying: social
   follows, likes, comments, shares and reads; app sessions, logins, product
   views and cart adds; responses to campaign messages (opens, clicks,
   unsubscribes, conversions; sends are in fct_campaign_touches). customer_key is
   null while the actor is not tied to a known person (an app device nobody has
   logged in on). Incremental: a daily build adds what was loaded since the last
   one and re-keys the rows whose person changed.

   Indexes: a lookup id's rows by day (the re-key, customer_features' probes), with
   what int_customer_channel_activity counts of them, so its daily recount of the
   active lookup ids reads the index alone; a channel's days (customer_features'
   windows); the day's loads. #}
with

stg_social__events as (select * from {{ ref('stg_social__events') }}),
stg_app__events as (select * from {{ ref('stg_app__events') }}),
stg_campaigns__message_events as (select * from {{ ref('stg_campaigns__message_events') }}),
int_customer_lookup as (select * from {{ ref('int_customer_lookup') }}),

social as (
    select
        'social:' || cast(event_id as {{ dbt.type_string() }}) as interaction_key,
        'social' as channel,
        event_type,
        occurred_at,
        content_id as subject_id,
        seconds_read as engagement_seconds,
        'social:' || openid as customer_lookup_id,
        loaded_at
    from stg_social__events
),

app as (
    select
        'app:' || event_id,
        'app',
        event_type,
        occurred_at,
        cast(product_id as {{ dbt.type_string() }}),
        cast(null as integer),
        'device:' || device_id,
        loaded_at
    from stg_app__events
),

campaign_responses as (
    select
        'campaigns:' || event_id,
        'campaigns',
        event_type,
        occurred_at,
        campaign_id,
        cast(null as integer),
        'campaigns:' || contact_id,
        loaded_at
    from stg_campaigns__message_events
    where event_type in {{ campaign_response_types() }}
),

interactions as (
    select * from social
    union all
    select * from app
    union all
    select * from campaign_responses
),

to_build as (
    {% if is_incremental() %}
    select * from interactions where {{ loaded_since_last_build() }}
    {% else %}
    select * from interactions
    {% endif %}
),

final as (
    select
        to_build.interaction_key,
        to_build.channel,
        to_build.event_type,
        int_customer_lookup.customer_key,
        to_build.customer_lookup_id,
        to_build.occurred_at,
        cast(to_build.occurred_at as date) as occurred_on,
        to_build.subject_id,
        to_build.engagement_seconds,
        to_build.loaded_at
    from to_build
    left join int_customer_lookup
        on to_build.customer_lookup_id = int_customer_lookup.customer_lookup_id
)

select * from final
