{# Normalised identifiers, the same in every model that matches people.
   Dispatched so another adapter can supply its own regex functions. #}

{% macro normalize_email(column) -%}
    {{ return(adapter.dispatch('normalize_email', 'c360')(column)) }}
{%- endmacro %}

{% macro default__normalize_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

{# E.164 for the brand's home country (var phone_country_code, default 44):
   keep digits, drop a trunk 0 (also written as "(0)"), prefix the country. #}
{% macro normalize_phone(column) -%}
    {{ return(adapter.dispatch('normalize_phone', 'c360')(column)) }}
{%- endmacro %}

{# One regex maps every form to the country code: an international 00cc prefix,
   a leading cc in a number of more than ten digits, a trunk 0, or nothing
   (the longest alternative matches). Each reference to a staging column
   repeats its expression, so this costs two regex calls, not one per case. #}
{% macro default__normalize_phone(column) -%}
    {%- set cc = var('phone_country_code', '44') | string -%}
    '+' || regexp_replace(
        nullif(regexp_replace(replace({{ column }}, '(0)', ''), '[^0-9]', '', 'g'), ''),
        '^(?:00{{ cc }}|(?=[0-9]{11}){{ cc }}|0)?', '{{ cc }}')
{%- endmacro %}

{# Hex SHA-256 of a text value: how marts and audiences carry e-mail and phone. #}
{% macro sha256_hex(column) -%}
    {{ return(adapter.dispatch('sha256_hex', 'c360')(column)) }}
{%- endmacro %}

{% macro default__sha256_hex(column) -%}
    encode(sha256(convert_to({{ column }}, 'UTF8')), 'hex')
{%- endmacro %}

{# Latest version of each entity in an append-only raw table. `distinct on`, not
   a row_number() = 1 filter: PostgreSQL estimates the rows a filter on a window
   result keeps at a fraction of a percent, and joins to such a view then become
   nested loops over tens of thousands of rows (30 s for store receipts at
   30,000 customers); for `distinct on` it uses the key's distinct count. #}
{% macro latest_version(relation, key, version_column, where=none) -%}
    select distinct on ({{ key }}) *
    from {{ relation }}
    {% if where is not none -%}
    where {{ where }}
    {% endif -%}
    order by {{ key }}, {{ version_column }} desc, _loaded_at desc
{%- endmacro %}
