{{ config(materialized='table') }}
{# Who each fact row belongs to today: a source record's id ('<source>:<id>'),
   or an app device ('device:<id>', once a login ties it to one person), and its
   current customer_key. Incremental facts keep the lookup id beside the key, so
   a daily build can find the rows whose person has changed since they were
   written (two people found to be one, a device's first login) and redo only those. #}
with

int_identity_resolved as (select * from {{ ref('int_identity_resolved') }}),
int_app_devices_resolved as (select * from {{ ref('int_app_devices_resolved') }}),

final as (
    select record_id as customer_lookup_id, customer_key
    from int_identity_resolved
    union all
    select 'device:' || device_id, customer_key
    from int_app_devices_resolved
    where customer_key is not null
)

select * from final
