{{ config(
    materialized='incremental',
    unique_key='customer_lookup_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['customer_lookup_id'], 'unique': True}, {'columns': ['key_changed_at']}],
    post_hook="{{ create_rekey_watermarks() }}",
) }}
{# When each lookup id last got the customer_key it has now (int_customer_lookup),
   so the incremental facts re-key only the rows whose person changed since they
   last looked (rekey_facts), not all their rows. A lookup id that left the lookup
   (a record that vanished) stays here with a null key: its facts lose their person.
   Incremental: a daily build compares today's lookup with this table and
   rewrites the ids that are new, re-keyed or gone, stamped with the build's start
   and with the key they had before (previous_customer_key: the person they left,
   whose other records are fewer now). #}
with

int_customer_lookup as (select * from {{ ref('int_customer_lookup') }}),

{% if is_incremental() %}
changed as (
    select
        coalesce(int_customer_lookup.customer_lookup_id, previous.customer_lookup_id) as customer_lookup_id,
        int_customer_lookup.customer_key,
        previous.customer_key as previous_customer_key
    from int_customer_lookup
    full outer join {{ this }} as previous
        on int_customer_lookup.customer_lookup_id = previous.customer_lookup_id
    where int_customer_lookup.customer_key is distinct from previous.customer_key
),
{% else %}
changed as (
    select customer_lookup_id, customer_key, cast(null as {{ dbt.type_string() }}) as previous_customer_key
    from int_customer_lookup
),
{% endif %}

final as (
    select
        customer_lookup_id,
        customer_key,
        previous_customer_key,
        cast('{{ run_started_at.isoformat() }}' as {{ dbt.type_timestamp() }}) as key_changed_at
    from changed
)

select * from final
