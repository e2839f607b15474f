with

int_orders_unioned as (select * from {{ ref('int_orders_unioned') }}),

final as (
    select * from int_orders_unioned
)

select * from final
