{# Incremental facts about customers carry `customer_lookup_id` (see
   int_customer_lookup), `customer_key` and `loaded_at` (when the newest source
   row behind the fact was loaded). A daily build redoes the facts whose source
   rows were loaded since the last build, and those whose person changed. #}

{# Loads of several channels run in parallel, and a row becomes visible when its
   load commits, not when it was stamped: looking back var('incremental_lookback_hours')
   before the newest row already built catches a load that committed late.
   Rows seen twice are simply rebuilt (the facts have unique keys). #}
{% macro loaded_since_last_build(loaded_at='loaded_at') -%}
    {{ loaded_at }} > (
        select coalesce(max(loaded_at), '-infinity') - interval '{{ var("incremental_lookback_hours") }} hours'
        from {{ this }}
    )
{%- endmacro %}

{# `lookup`: the model's CTE over int_customer_lookup (a ref here would hide the dependency from dbt) #}
{% macro facts_whose_customer_changed(unique_key, lookup='int_customer_lookup') -%}
    select built.{{ unique_key }}
    from {{ this }} as built
    left join {{ lookup }} as current_keys
        on current_keys.customer_lookup_id = built.customer_lookup_id
    where current_keys.customer_key is distinct from built.customer_key
{%- endmacro %}

{# An imported file replaces its source's earlier version (stg_imports__transactions
   keeps only the latest file), so a line dropped from the new version must leave
   the fact too: delete+insert only replaces what is rebuilt. Run as a post-hook. #}
{% macro delete_vanished_imports(unique_key, current, current_key=none) -%}
    delete from {{ this }}
    where source = 'import'
      and {{ unique_key }} not in (select {{ current_key or unique_key }} from {{ current }})
{%- endmacro %}

{# The rows of `rows` (a CTE with the fact's columns) an incremental build redoes:
   those loaded since the last build, and those whose person changed. Two disjoint
   branches, not `or ... in (subquery)`: PostgreSQL would run that subquery once
   per row. #}
{% macro new_or_rekeyed(rows, unique_key, lookup='int_customer_lookup') -%}
    select {{ rows }}.* from {{ rows }}
    where {{ loaded_since_last_build() }}
    union all
    select {{ rows }}.* from {{ rows }}
    inner join ({{ facts_whose_customer_changed(unique_key, lookup) }}) as rekeyed
        on rekeyed.{{ unique_key }} = {{ rows }}.{{ unique_key }}
    where not ({{ loaded_since_last_build(rows ~ '.loaded_at') }})
{%- endmacro %}

{# The campaign message events that are a contact's response: fct_interactions
   holds these, int_campaign_messages_sent the others (holdouts, sends, deliveries). #}
{% macro campaign_response_types() -%}
    ('open', 'click', 'unsubscribe', 'conversion')
{%- endmacro %}

{# int_customer_channel_activity: a lookup id none of whose fact rows is left (an
   imported customer missing from the new version of the file) leaves it too. #}
{% macro delete_vanished_activity() -%}
    delete from {{ this }} as activity
    where activity.channel = 'import'
      and not exists (
          select 1 from {{ ref('fct_orders') }} as fct_orders
          where fct_orders.customer_lookup_id = activity.customer_lookup_id
      )
{%- endmacro %}
