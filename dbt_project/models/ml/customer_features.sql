{{ config(incremental_strategy='append',
          indexes=[{'columns': ['as_of_date', 'customer_key'], 'unique': True},
                   {'columns': ['as_of_date'], 'type': 'brin'}],
          on_schema_change='sync_all_columns',
          pre_hook="{{ delete_dates_rebuilt(feature_dates()) }}") }}
{# Propensity features of every customer known on an as-of date, one row per
   customer and date (feature_dates(): the as-of date, or each of
   var('feature_dates')). Re-building a date replaces it.

   The table keeps every date. Each build appends its dates together at the
   end (or into space a rebuilt date freed), so a BRIN index on as_of_date
   (about 100 kB for 10 dates of 1,100,000 customers) finds a date's rows as
   a few ranges of the table: for the pre-hook's delete, the tests (which check
   the dates built) and the scoring's read of a date. PostgreSQL did not use
   the unique (as_of_date, customer_key) index for them: it prices a tenth of
   the table read through a two-column index above a scan of the whole. At
   those 10 dates: a date read 0.21-0.23 s against 0.71-0.83 s, its delete
   0.9-1.1 s against 2.0 s, the tests 1.2 s against 5.1 s; the scans grew with
   every date kept. A training build's several dates share their ranges, and
   ranges written since the last (auto)vacuum are read whole until summarised.

   Point-in-time: a feature for a date reads only what is dated on or before it
   (orders, money movements, interactions, sends, tickets opened), a ticket's
   closure and satisfaction only once it closed by then, an app device's events
   only once someone had logged in on it, and a follower's reach from the
   version of their profile known on that day. People are today's
   (customer_key): a record first seen after the date does not count.

   Cost: the windowed counts read each channel's interactions of its window
   by fct_interactions' (channel, occurred_on) index; the app's come
   from int_app_device_days (a row per device and day: a fifth of the rows).
   The social window does not always use it: its 90 days at 100,000 x 365
   (657,000 rows of 16 million) lie on a twentieth of the table, but the planner
   cannot see that a channel's days lie together, prices the bitmap read as a
   read of every page, and with this query's several bounds on occurred_on it
   scans the table instead: 0.96 s against 0.25 s (warm). No bound or cast tried
   tipped it; the scan grows with the table. An index on (channel, occurred_on,
   customer_key, event_type, engagement_seconds) makes it an index-only read
   (0.1 s), but weighs 725 MB against 109 MB there, for 2 s of a cold build: not taken.
   What looks past every window is one probe per lookup id: the last social
   interaction by fct_interactions' (customer_lookup_id, occurred_on) index,
   the last app event by int_app_device_days' unique (customer_lookup_id,
   occurred_on) index; a device's first login comes from
   int_app_devices_resolved; ever unsubscribed reads the campaign channel's
   days. So a daily build reads at most half a year of social interactions and
   app days, not all history (but for the scan above). #}
{%- set dates = feature_dates() %}
{%- set days_before = dbt.datediff('{column}', 'feature_dates.as_of_date', 'day') %}
with

int_identity_resolved as (select * from {{ ref('int_identity_resolved') }}),
int_customer_lookup as not materialized (select * from {{ ref('int_customer_lookup') }}),
int_app_devices_resolved as (select * from {{ ref('int_app_devices_resolved') }}),
int_app_device_days as not materialized (select * from {{ ref('int_app_device_days') }}),
int_customer_transactions as (select * from {{ ref('int_customer_transactions') }}),
fct_orders as not materialized (select * from {{ ref('fct_orders') }}),
fct_interactions as not materialized (select * from {{ ref('fct_interactions') }}),
fct_campaign_touches as (select * from {{ ref('fct_campaign_touches') }}),
fct_service_tickets as (select * from {{ ref('fct_service_tickets') }}),
stg_social__followers as (select * from {{ ref('stg_social__followers') }}),
{# staging keeps a profile's latest version only; reach on a past day needs the
   version known then, so it comes from the append-only raw history #}
social_follower_versions as (select * from {{ source('social', 'social_followers') }}),

{# not materialized: a CTE scan is parallel-restricted, so a part that joins the
   dates as one runs its join in the leader process only; inlined, a single date
   is a constant the planner also estimates each part's rows with #}
feature_dates as not materialized (
    {%- for day in dates %}
    select cast('{{ day }}' as date) as as_of_date
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
),

{# the columns read of a million records: the fewer, the cheaper their sort by person #}
known_records as (
    select
        feature_dates.as_of_date,
        int_identity_resolved.customer_key,
        int_identity_resolved.source,
        int_identity_resolved.source_customer_id,
        int_identity_resolved.first_seen_at
    from int_identity_resolved
    inner join feature_dates on cast(int_identity_resolved.first_seen_at as date) <= feature_dates.as_of_date
),

customers as (
    select
        as_of_date,
        customer_key,
        cast(min(first_seen_at) as date) as first_seen_on,
        max(case when source = 'shop' then 1 else 0 end) as has_shop_account,
        max(case when source = 'pos' and source_customer_id like 'card:%' then 1 else 0 end) as is_member,
        max(case when source = 'social' then 1 else 0 end) as is_social_follower,
        max(case when source = 'app' then 1 else 0 end) as has_app_account,
        max(case when source = 'campaigns' then 1 else 0 end) as is_campaign_contact
    from known_records
    group by as_of_date, customer_key
),

orders_to_date as (
    select
        feature_dates.as_of_date,
        fct_orders.customer_key,
        fct_orders.source,
        fct_orders.ordered_on,
        {{ days_before.format(column='fct_orders.ordered_on') }} as days_before,
        lag(fct_orders.ordered_on) over (
            partition by feature_dates.as_of_date, fct_orders.customer_key
            order by fct_orders.ordered_on, fct_orders.order_key
        ) as previous_ordered_on
    from fct_orders
    inner join feature_dates on fct_orders.ordered_on <= feature_dates.as_of_date
    where fct_orders.customer_key is not null
),

order_stats as (
    select
        as_of_date,
        customer_key,
        count(*) as frequency,
        min(ordered_on) as first_order_on,
        max(ordered_on) as last_order_on,
        {# the last order day before the last one: that day's later orders lag to itself #}
        max(previous_ordered_on) filter (where previous_ordered_on < ordered_on) as previous_order_on,
        sum(case when days_before < 30 then 1 else 0 end) as orders_30d,
        sum(case when days_before < 90 then 1 else 0 end) as orders_90d,
        sum(case when days_before >= 90 and days_before < 180 then 1 else 0 end) as orders_90_180d,
        sum(case when source = 'pos' then 1 else 0 end) as store_orders,
        stddev_samp({{ dbt.datediff('previous_ordered_on', 'ordered_on', 'day') }}) as stddev_days_between_orders
    from orders_to_date
    group by as_of_date, customer_key
),

money as (
    select
        feature_dates.as_of_date,
        int_customer_transactions.customer_key,
        sum(int_customer_transactions.amount) as monetary,
        sum(case when {{ days_before.format(column='int_customer_transactions.occurred_on') }} < 90
            then int_customer_transactions.amount else 0 end) as net_amount_90d,
        sum(case when int_customer_transactions.transaction_type <> 'order' then 1 else 0 end)
            as returns_and_cancellations
    from int_customer_transactions
    inner join feature_dates on int_customer_transactions.occurred_on <= feature_dates.as_of_date
    group by feature_dates.as_of_date, int_customer_transactions.customer_key
),

{# the interactions of the longest window (180 days); social counts look back
   90 days only (app counts read int_app_device_days). Inlined into each channel's
   reader, which filters on channel and occurred_on itself, so the
   (channel, occurred_on) index can read just its days (the social reader may
   scan instead: see the top of this file) #}
interactions_in_windows as not materialized (
    select
        feature_dates.as_of_date,
        fct_interactions.customer_key,
        fct_interactions.channel,
        fct_interactions.event_type,
        fct_interactions.engagement_seconds,
        fct_interactions.occurred_on,
        {{ days_before.format(column='fct_interactions.occurred_on') }} as days_before
    from fct_interactions
    inner join feature_dates
        on fct_interactions.occurred_on <= feature_dates.as_of_date
        and fct_interactions.occurred_on > {{ dbt.dateadd('day', -180, 'feature_dates.as_of_date') }}
    where fct_interactions.customer_key is not null
      {# the same days as literals, so a lookup id's index range covers only them #}
      and fct_interactions.occurred_on > {{ dbt.dateadd('day', -180, "cast('" ~ (dates | min) ~ "' as date)") }}
      and fct_interactions.occurred_on <= cast('{{ dates | max }}' as date)
),

{# past every window, per person: the last social interaction, read backwards
   from the end of each lookup id's range of the (customer_lookup_id, occurred_on) index #}
last_social_interactions as (
    select
        feature_dates.as_of_date,
        int_customer_lookup.customer_key,
        max((select max(fct_interactions.occurred_on) from fct_interactions
             where fct_interactions.customer_lookup_id = int_customer_lookup.customer_lookup_id
               and fct_interactions.occurred_on <= feature_dates.as_of_date
               and fct_interactions.event_type not in ('follow', 'unfollow'))) as last_social_interaction_on
    from int_customer_lookup
    cross join feature_dates
    where int_customer_lookup.customer_lookup_id like 'social:%'
    group by feature_dates.as_of_date, int_customer_lookup.customer_key
),

{# ever unsubscribed: the campaign channel's unsubscribes, read by the (channel,
   occurred_on) index, not a probe per contact. At 1,000,000 customers x 30 days
   that is under 0.1 s against 1.9 s for 315,000 probes; it grows with the
   channel's history, the probes with its contacts. #}
unsubscribes as (
    select feature_dates.as_of_date, fct_interactions.customer_key, 1 as has_unsubscribed
    from fct_interactions
    inner join feature_dates on fct_interactions.occurred_on <= feature_dates.as_of_date
    where fct_interactions.channel = 'campaigns' and fct_interactions.event_type = 'unsubscribe'
      and fct_interactions.customer_key is not null
      and fct_interactions.occurred_on <= cast('{{ dates | max }}' as date)
    group by feature_dates.as_of_date, fct_interactions.customer_key
),

social as (
    select
        as_of_date,
        customer_key,
        {# engagement now against the two months before: people who stop buying mostly stop engaging too #}
        sum(case when days_before < 30 and event_type not in ('follow', 'unfollow') then 1 else 0 end)
            as social_interactions_30d,
        sum(case when days_before >= 30 and days_before < 90 and event_type not in ('follow', 'unfollow')
            then 1 else 0 end) as social_interactions_30_90d,
        sum(case when days_before < 90 then coalesce(engagement_seconds, 0) else 0 end) as social_seconds_read_90d,
        sum(case when days_before < 90 and event_type = 'share' then 1 else 0 end) as social_shares_90d
    from interactions_in_windows
    where channel = 'social' and occurred_on > {{ dbt.dateadd('day', -90, 'as_of_date') }}
    group by as_of_date, customer_key
),

reach_versions as (
    select
        feature_dates.as_of_date,
        social_follower_versions.openid,
        social_follower_versions.follower_count,
        row_number() over (
            partition by feature_dates.as_of_date, social_follower_versions.openid
            order by social_follower_versions.updated_at desc, social_follower_versions._loaded_at desc
        ) as version_rank
    from social_follower_versions
    inner join feature_dates on cast(social_follower_versions.updated_at as date) <= feature_dates.as_of_date
),

social_profiles as (
    select
        known_records.as_of_date,
        known_records.customer_key,
        max(case when {{ follows_on('stg_social__followers', 'known_records.as_of_date') }} then 1 else 0 end)
            as is_following,
        max(reach_versions.follower_count) as social_follower_count
    from known_records
    inner join stg_social__followers on known_records.source_customer_id = stg_social__followers.openid
    left join reach_versions
        on stg_social__followers.openid = reach_versions.openid
        and known_records.as_of_date = reach_versions.as_of_date
        and reach_versions.version_rank = 1
    where known_records.source = 'social'
    group by known_records.as_of_date, known_records.customer_key
),

{# a device's events are someone's from its first login on; before that day nobody knew whose they were #}
device_first_logins as (
    select 'device:' || device_id as customer_lookup_id, customer_key, cast(first_login_at as date) as first_login_on
    from int_app_devices_resolved
    where customer_key is not null
),

last_app_events as (
    select
        feature_dates.as_of_date,
        device_first_logins.customer_key,
        max((select max(int_app_device_days.occurred_on) from int_app_device_days
             where int_app_device_days.customer_lookup_id = device_first_logins.customer_lookup_id
               and int_app_device_days.occurred_on <= feature_dates.as_of_date)) as last_event_on
    from device_first_logins
    inner join feature_dates on device_first_logins.first_login_on <= feature_dates.as_of_date
    group by feature_dates.as_of_date, device_first_logins.customer_key
),

{# a device's days in the 90-day windows, counted per type in int_app_device_days,
   from the device's first login on #}
app_days_in_windows as (
    select
        feature_dates.as_of_date,
        device_first_logins.customer_key,
        {{ days_before.format(column='int_app_device_days.occurred_on') }} as days_before,
        int_app_device_days.sessions,
        int_app_device_days.product_views,
        int_app_device_days.cart_adds
    from int_app_device_days
    inner join feature_dates
        on int_app_device_days.occurred_on <= feature_dates.as_of_date
        and int_app_device_days.occurred_on > {{ dbt.dateadd('day', -90, 'feature_dates.as_of_date') }}
    inner join device_first_logins
        on int_app_device_days.customer_lookup_id = device_first_logins.customer_lookup_id
        and device_first_logins.first_login_on <= feature_dates.as_of_date
    {# the same days as literals, so the planner estimates the days' rows from the column's statistics #}
    where int_app_device_days.occurred_on > {{ dbt.dateadd('day', -90, "cast('" ~ (dates | min) ~ "' as date)") }}
      and int_app_device_days.occurred_on <= cast('{{ dates | max }}' as date)
),

app as (
    select
        as_of_date,
        customer_key,
        sum(case when days_before < 30 then sessions else 0 end) as app_sessions_30d,
        sum(case when days_before >= 30 then sessions else 0 end) as app_sessions_30_90d,
        sum(case when days_before < 30 then product_views else 0 end) as app_product_views_30d,
        sum(case when days_before < 30 then cart_adds else 0 end) as app_cart_adds_30d
    from app_days_in_windows
    group by as_of_date, customer_key
),

campaign_responses as (
    select
        as_of_date,
        customer_key,
        sum(case when days_before < 180 and event_type = 'open' then 1 else 0 end) as campaign_opens_180d,
        sum(case when days_before < 180 and event_type = 'click' then 1 else 0 end) as campaign_clicks_180d,
        sum(case when days_before < 180 and event_type = 'conversion' then 1 else 0 end)
            as campaign_conversions_180d
    from interactions_in_windows
    where channel = 'campaigns'
    group by as_of_date, customer_key
),

sends_to_date as (
    select feature_dates.as_of_date, fct_campaign_touches.customer_key, fct_campaign_touches.touched_at,
        {{ days_before.format(column='fct_campaign_touches.touched_at') }} as days_before
    from fct_campaign_touches
    inner join feature_dates on cast(fct_campaign_touches.touched_at as date) <= feature_dates.as_of_date
    where fct_campaign_touches.customer_key is not null and not fct_campaign_touches.is_holdout
),

{# responsiveness: orders in the attribution window after a send, both on or before the as-of date #}
orders_after_sends as (
    select sends_to_date.as_of_date, sends_to_date.customer_key, count(*) as orders_after_sends_180d
    from sends_to_date
    inner join fct_orders
        on fct_orders.customer_key = sends_to_date.customer_key
        and fct_orders.ordered_at > sends_to_date.touched_at
        and fct_orders.ordered_at <= sends_to_date.touched_at + interval '{{ var("campaign_attribution_days") }} days'
        and fct_orders.ordered_on <= sends_to_date.as_of_date
    where sends_to_date.days_before < 180
    group by sends_to_date.as_of_date, sends_to_date.customer_key
),

campaign_sends as (
    select
        as_of_date,
        customer_key,
        sum(case when days_before < 180 then 1 else 0 end) as campaign_sends_180d,
        min(days_before) as days_since_campaign_send
    from sends_to_date
    group by as_of_date, customer_key
),

service as (
    select
        feature_dates.as_of_date,
        fct_service_tickets.customer_key,
        sum(case when {{ days_before.format(column='fct_service_tickets.opened_on') }} < 180 then 1 else 0 end)
            as tickets_180d,
        sum(case when {{ days_before.format(column='fct_service_tickets.opened_on') }} < 180
                  and fct_service_tickets.category = 'complaint' then 1 else 0 end) as complaints_180d,
        sum(case when fct_service_tickets.closed_at is null
                  or cast(fct_service_tickets.closed_at as date) > feature_dates.as_of_date then 1 else 0 end)
            as open_tickets,
        avg(case when cast(fct_service_tickets.closed_at as date) <= feature_dates.as_of_date
            then fct_service_tickets.satisfaction_score end) as avg_satisfaction,
        sum(case when cast(fct_service_tickets.closed_at as date) <= feature_dates.as_of_date
                  and fct_service_tickets.satisfaction_score <= 2 then 1 else 0 end) as low_satisfaction_tickets,
        min({{ days_before.format(column='fct_service_tickets.opened_on') }}) as days_since_ticket
    from fct_service_tickets
    inner join feature_dates on fct_service_tickets.opened_on <= feature_dates.as_of_date
    where fct_service_tickets.customer_key is not null
    group by feature_dates.as_of_date, fct_service_tickets.customer_key
),

final as (
    select
        customers.customer_key,
        customers.as_of_date,
        {{ dbt.datediff('customers.first_seen_on', 'customers.as_of_date', 'day') }} as days_since_first_seen,
        {{ dbt.datediff('order_stats.last_order_on', 'customers.as_of_date', 'day') }} as days_since_last_order,
        {{ dbt.datediff('order_stats.first_order_on', 'customers.as_of_date', 'day') }} as days_since_first_order,
        coalesce(order_stats.frequency, 0) as frequency,
        coalesce(money.monetary, 0) as monetary,
        coalesce(order_stats.orders_30d, 0) as orders_30d,
        coalesce(order_stats.orders_90d, 0) as orders_90d,
        coalesce(order_stats.orders_90_180d, 0) as orders_90_180d,
        coalesce(money.net_amount_90d, 0) as net_amount_90d,
        money.monetary / nullif(order_stats.frequency, 0) as average_order_value,
        coalesce(money.returns_and_cancellations, 0) as returns_and_cancellations,
        {# rhythm: the customer's own average gap, its spread, and how overdue they are against it #}
        case when order_stats.frequency > 1
            then {{ dbt.datediff('order_stats.first_order_on', 'order_stats.last_order_on', 'day') }}
                 / (order_stats.frequency - 1.0)
        end as avg_days_between_orders,
        order_stats.stddev_days_between_orders,
        case when order_stats.frequency > 1
            then {{ dbt.datediff('order_stats.last_order_on', 'customers.as_of_date', 'day') }}
                 * (order_stats.frequency - 1.0)
                 / nullif({{ dbt.datediff('order_stats.first_order_on', 'order_stats.last_order_on', 'day') }}, 0)
        end as overdue_ratio,
        {{ lifecycle_stage('coalesce(order_stats.frequency, 0)', 'order_stats.first_order_on',
                           'order_stats.last_order_on', 'order_stats.previous_order_on', 'customers.as_of_date') }}
            as lifecycle_stage,
        coalesce(social.social_interactions_30d, 0) as social_interactions_30d,
        coalesce(social.social_interactions_30_90d, 0) as social_interactions_30_90d,
        coalesce(social.social_seconds_read_90d, 0) as social_seconds_read_90d,
        coalesce(social.social_shares_90d, 0) as social_shares_90d,
        {{ dbt.datediff('last_social_interactions.last_social_interaction_on', 'customers.as_of_date', 'day') }}
            as days_since_social_interaction,
        coalesce(social_profiles.is_following, 0) as is_following,
        social_profiles.social_follower_count,
        coalesce(campaign_sends.campaign_sends_180d, 0) as campaign_sends_180d,
        coalesce(campaign_responses.campaign_opens_180d, 0) as campaign_opens_180d,
        coalesce(campaign_responses.campaign_clicks_180d, 0) as campaign_clicks_180d,
        coalesce(campaign_responses.campaign_conversions_180d, 0) as campaign_conversions_180d,
        coalesce(orders_after_sends.orders_after_sends_180d, 0) as orders_after_sends_180d,
        coalesce(unsubscribes.has_unsubscribed, 0) as has_unsubscribed,
        campaign_sends.days_since_campaign_send,
        coalesce(service.tickets_180d, 0) as tickets_180d,
        coalesce(service.complaints_180d, 0) as complaints_180d,
        coalesce(service.open_tickets, 0) as open_tickets,
        service.avg_satisfaction,
        coalesce(service.low_satisfaction_tickets, 0) as low_satisfaction_tickets,
        service.days_since_ticket,
        coalesce(app.app_sessions_30d, 0) as app_sessions_30d,
        coalesce(app.app_sessions_30_90d, 0) as app_sessions_30_90d,
        coalesce(app.app_product_views_30d, 0) as app_product_views_30d,
        coalesce(app.app_cart_adds_30d, 0) as app_cart_adds_30d,
        {{ dbt.datediff('last_app_events.last_event_on', 'customers.as_of_date', 'day') }} as days_since_app_event,
        {# channel mix #}
        coalesce(order_stats.store_orders, 0) * 1.0 / nullif(order_stats.frequency, 0) as store_order_share,
        customers.has_shop_account,
        customers.is_member,
        customers.is_social_follower,
        customers.has_app_account,
        customers.is_campaign_contact
    from customers
    left join order_stats
        on customers.customer_key = order_stats.customer_key and customers.as_of_date = order_stats.as_of_date
    left join money on customers.customer_key = money.customer_key and customers.as_of_date = money.as_of_date
    left join social on customers.customer_key = social.customer_key and customers.as_of_date = social.as_of_date
    left join last_social_interactions
        on customers.customer_key = last_social_interactions.customer_key
        and customers.as_of_date = last_social_interactions.as_of_date
    left join unsubscribes
        on customers.customer_key = unsubscribes.customer_key and customers.as_of_date = unsubscribes.as_of_date
    left join last_app_events
        on customers.customer_key = last_app_events.customer_key
        and customers.as_of_date = last_app_events.as_of_date
    left join social_profiles
        on customers.customer_key = social_profiles.customer_key
        and customers.as_of_date = social_profiles.as_of_date
    left join app on customers.customer_key = app.customer_key and customers.as_of_date = app.as_of_date
    left join campaign_sends
        on customers.customer_key = campaign_sends.customer_key
        and customers.as_of_date = campaign_sends.as_of_date
    left join campaign_responses
        on customers.customer_key = campaign_responses.customer_key
        and customers.as_of_date = campaign_responses.as_of_date
    left join orders_after_sends
        on customers.customer_key = orders_after_sends.customer_key
        and customers.as_of_date = orders_after_sends.as_of_date
    left join service on customers.customer_key = service.customer_key and customers.as_of_date = service.as_of_date
)

select * from final
