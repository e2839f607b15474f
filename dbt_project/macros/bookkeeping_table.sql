{# A bookkeeping table of the incremental builds and tests, in the intermediate
   schema: the rows the facts moved (fact_lookup_moves), how far identity got
   (identity_watermarks), the tests' last passes (relationships_passes). Each is
   created on-run-start, never by a model, so it outlives full refreshes.
   (rekey_watermarks is not one of them: int_customer_key_changes creates it
   beside itself.) A Relation: it renders as its quoted name, and
   load_relation can look it up. #}
{% macro bookkeeping_table(name) -%}
    {{ return(api.Relation.create(database=target.database, schema=generate_schema_name('intermediate', none),
                                  identifier=name)) }}
{%- endmacro %}
