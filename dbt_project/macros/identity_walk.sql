{# Pieces of identity's daily walk (int_identity_components). #}

{# A fingerprint of a record's neighbours, its rows of `edges` (grouped by record). #}
{% macro neighbours_md5(edges) -%}
    md5(coalesce(string_agg({{ edges }}.to_record_id, chr(31) order by {{ edges }}.to_record_id), ''))
{%- endmacro %}

{# For a lateral join: the records the walk last put in one component with the
   record `outer`.record_id, by index (offset 0 keeps the planner from flattening it). #}
{% macro records_of_the_component_of(outer) -%}
    select same_component.record_id
    from {{ this }} as before
    inner join {{ this }} as same_component on before.component_id = same_component.component_id
    where before.record_id = {{ outer }}.record_id
    offset 0
{%- endmacro %}
