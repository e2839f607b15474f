{{ config(
    materialized='incremental',
    unique_key='customer_lookup_id',
    incremental_strategy='delete+insert',
    indexes=[{'columns': ['customer_lookup_id']}],
    post_hook="{{ delete_vanished_activity() }}",
) }}
{# Each source record's (or app device's) dated events per channel, up to the as-of
   date: when first and last seen there and how many events. The events are the
   facts' rows: orders (web, store, imported), social and app interactions,
   campaign messages (responses in fct_interactions, holdouts, sends and deliveries
   in int_campaign_messages_sent) and service tickets. Keyed by customer_lookup_id,
   not customer_key: customer_channels rolls these rows up to today's person
   through int_customer_lookup (and dim_customers reads it), so two people found to
   be one, or a device's first login, change no row here.

   Incremental: a daily build recounts, from all their fact rows, only the lookup
   ids with fact rows loaded since its last build, so a re-delivered row is counted
   once, and those a corrected row moved away from (fact_lookup_moves). A row also
   holds next_seen_at, its first event after the as-of date: a build for a later
   date recounts the rows whose next event it now includes, and a build for an
   earlier date (re-running a past day) those whose last event it now excludes.
   So any date gives what a full rebuild for that date gives, as long as the
   facts still hold what was loaded after it (they do: only the as-of filter here
   depends on the date). Rows with events only after the as-of date are kept
   (events = 0) and left out of the roll-ups. #}
with

fct_orders as not materialized (select * from {{ ref('fct_orders') }}),
fct_interactions as not materialized (select * from {{ ref('fct_interactions') }}),
int_campaign_messages_sent as not materialized (select * from {{ ref('int_campaign_messages_sent') }}),
fct_service_tickets as not materialized (select * from {{ ref('fct_service_tickets') }}),

{# referenced twice in a daily build: inlined (not materialized) so each use reads
   only the rows it needs through the facts' indexes #}
events as not materialized (
    select customer_lookup_id, source as channel, ordered_at as occurred_at, loaded_at from fct_orders
    union all
    select customer_lookup_id, channel, occurred_at, loaded_at from fct_interactions
    union all
    select customer_lookup_id, 'campaigns', occurred_at, loaded_at from int_campaign_messages_sent
    union all
    select customer_lookup_id, 'service', opened_at, loaded_at from fct_service_tickets
),

events_as_of as not materialized (
    select customer_lookup_id, channel, occurred_at, occurred_at < {{ as_of_date() }} + 1 as is_as_of, loaded_at
    from events
),

{#- what a row holds, from its lookup id's events on its channel #}
{%- set counted_per_channel %}
        channel,
        min(case when is_as_of then occurred_at end) as first_seen_at,
        max(case when is_as_of then occurred_at end) as last_seen_at,
        count(case when is_as_of then 1 end) as events,
        min(case when not is_as_of then occurred_at end) as next_seen_at,
        max(loaded_at) as loaded_at
{%- endset %}

{% if is_incremental() %}
{#- one watermark query for both tests #}
{%- set loaded_since = loaded_since_last_build() %}
{# the as-of tests compare the columns themselves, so the planner can tell from their
   statistics that few rows qualify #}
lookup_ids_to_recount as (
    select customer_lookup_id from events
    where {{ loaded_since }}
    union
    {# a corrected row that moved away leaves its old lookup id one event short #}
    select customer_lookup_id from {{ fact_lookup_moves() }}
    where {{ loaded_since }}
    union
    select customer_lookup_id from {{ this }}
    where next_seen_at < {{ as_of_date() }} + 1
       or last_seen_at >= {{ as_of_date() }} + 1
),

{# one lookup id at a time: the active ones are the heavy users (about 5% of lookup
   ids, a third of all fact rows), and fct_interactions' (customer_lookup_id, ...)
   index holds every column read here, so each is an index-only range scan where a
   join over all ids read the whole fact #}
final as (
    select recount.customer_lookup_id, counted.*
    from lookup_ids_to_recount as recount
    cross join lateral (
        select {{ counted_per_channel }}
        from events_as_of
        where events_as_of.customer_lookup_id = recount.customer_lookup_id
        group by channel
    ) as counted
)
{% else %}
final as (
    select customer_lookup_id, {{ counted_per_channel }}
    from events_as_of
    where customer_lookup_id is not null
    group by customer_lookup_id, channel
)
{% endif %}

select * from final
