{# dbt writes a contract's constraints only when it creates the table, as it does
   indexes: an incremental table built before a constraint was declared would never
   get it, and the tests it replaced would be gone. On every build of an incremental
   model with an enforced contract this adds each declared NOT NULL (found by column)
   and CHECK (found by name, so checks are declared on the model and named) the table
   lacks. Adding one validates the table's rows once; a present one costs a catalogue
   read. A check found by name is not compared: give a changed check a new name. #}
{% macro create_missing_constraints() -%}
    {%- if config.get('materialized') == 'incremental' and model.contract.enforced -%}
        {%- set not_null = [] -%}
        {%- for column in model.columns.values() -%}
            {%- set types = column.constraints | map(attribute='type') | list -%}
            {%- if 'check' in types -%}
                {{ exceptions.raise_compiler_error(model.name ~ "." ~ column.name ~ ": declare its check constraint"
                                                   ~ " on the model, named (create_missing_constraints finds it by name)") }}
            {%- endif -%}
            {%- if 'not_null' in types -%}
                {%- do not_null.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set checks = model.constraints | selectattr('type', 'equalto', 'check') | list -%}
        {%- for check in checks if not check.name -%}
            {{ exceptions.raise_compiler_error(model.name ~ ": name its check constraint " ~ check.expression
                                               ~ " (create_missing_constraints finds it by name)") }}
        {%- endfor -%}
        {%- if not_null or checks -%}
        do $constraints$ begin
        {%- for column in not_null %}
            if exists (select 1 from pg_catalog.pg_attribute
                       where attrelid = to_regclass('{{ this }}') and attname = '{{ column }}' and not attnotnull) then
                execute 'alter table {{ this }} alter column {{ column }} set not null';
            end if;
        {%- endfor %}
        {%- for check in checks %}
            if not exists (select 1 from pg_catalog.pg_constraint
                           where conrelid = to_regclass('{{ this }}') and conname = '{{ check.name }}') then
                execute $ddl$alter table {{ this }} add constraint {{ check.name }} check ({{ check.expression }})$ddl$;
            end if;
        {%- endfor %}
        end $constraints$
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
