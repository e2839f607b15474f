{# A bookkeeping table: what the incremental builds and tests have taken in so
   far (fact_lookup_moves, identity_watermarks, relationships_passes), in the
   intermediate schema. Each is created on-run-start, never by a model, so it
   outlives full refreshes. A Relation: it renders as its quoted name, and
   adapter.get_relation can look it up. #}
{% macro bookkeeping_table(name) -%}
    {{ return(api.Relation.create(database=target.database, schema=generate_schema_name('intermediate', none),
                                  identifier=name)) }}
{%- endmacro %}
