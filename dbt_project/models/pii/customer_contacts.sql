{# The best-known contact details of each customer, in clear text: each of
   e-mail, phone, name, consent and member card from the most recently updated
   shop account that has it, else a phone bound on social. Only this schema (pii) and raw hold
   clear-text contacts; marts hash them. #}
with

stg_shop__customers as (select * from {{ ref('stg_shop__customers') }}),
stg_social__followers as (select * from {{ ref('stg_social__followers') }}),
int_identity_resolved as not materialized (select * from {{ ref('int_identity_resolved') }}),

candidates as (
    select
        int_identity_resolved.customer_key,
        stg_shop__customers.email_normalized,
        stg_shop__customers.phone_e164,
        stg_shop__customers.first_name,
        stg_shop__customers.last_name,
        stg_shop__customers.accepts_marketing,
        stg_shop__customers.member_card_no,
        stg_shop__customers.updated_at,
        1 as preference
    from stg_shop__customers
    inner join int_identity_resolved
        on int_identity_resolved.source = 'shop'
        and int_identity_resolved.source_customer_id = cast(stg_shop__customers.customer_id as {{ dbt.type_string() }})
    union all
    select
        int_identity_resolved.customer_key,
        null,
        stg_social__followers.phone_e164,
        null,
        null,
        null,
        null,
        stg_social__followers.updated_at,
        2
    from stg_social__followers
    inner join int_identity_resolved
        on int_identity_resolved.source = 'social'
        and int_identity_resolved.source_customer_id = stg_social__followers.openid
),

{# each detail from the most preferred record that has it (the name as a pair):
   a shop account without a phone leaves the phone to another account or to social #}
{%- set has_name = 'coalesce(first_name, last_name)' %}
final as (
    select
        customer_key,
        {%- for detail, present in [('email_normalized', 'email_normalized'), ('phone_e164', 'phone_e164'),
                                    ('first_name', has_name), ('last_name', has_name),
                                    ('accepts_marketing', 'accepts_marketing'), ('member_card_no', 'member_card_no')] %}
        (array_agg({{ detail }} order by preference, updated_at desc) filter (where {{ present }} is not null))[1]
            as {{ detail }}{{ ',' if not loop.last }}
        {%- endfor %}
    from candidates
    group by customer_key
)

select * from final
