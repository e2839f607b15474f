{# First-order-month cohorts: for each month since the first order, how many of
   the cohort ordered, what they spent net, and the cohort's cumulative revenue
   per customer. Months run up to the as-of date's month, which is_complete_month
   marks while it is still running: its fewer orders are not yet churn. #}
with

customer_value as not materialized (select * from {{ ref('customer_value') }}),
int_customer_transactions as (select * from {{ ref('int_customer_transactions') }}),

cohorts as (
    select first_order_month as cohort_month, count(*) as cohort_customers
    from customer_value
    group by first_order_month
),

activity as (
    select
        customer_value.first_order_month as cohort_month,
        {{ months_between('int_customer_transactions.occurred_on', 'customer_value.first_order_month') }}
            as months_since_first_order,
        count(distinct case when int_customer_transactions.transaction_type = 'order'
                            then int_customer_transactions.customer_key end) as active_customers,
        sum(int_customer_transactions.amount) as net_revenue
    from int_customer_transactions
    inner join customer_value on int_customer_transactions.customer_key = customer_value.customer_key
    where int_customer_transactions.occurred_on <= {{ as_of_date() }}
    group by 1, 2
),

months as (
    select
        cohorts.cohort_month,
        cohorts.cohort_customers,
        month_offset as months_since_first_order
    from cohorts
    cross join lateral generate_series(0, {{ months_between(as_of_date(), 'cohorts.cohort_month') }}) as month_offset
),

final as (
    select
        months.cohort_month,
        months.months_since_first_order,
        {# complete once the day after the as-of date lies in a later month #}
        months.months_since_first_order
            < {{ months_between(as_of_date() ~ ' + 1', 'months.cohort_month') }} as is_complete_month,
        months.cohort_customers,
        coalesce(activity.active_customers, 0) as active_customers,
        cast(coalesce(activity.active_customers, 0)::numeric / months.cohort_customers as numeric(6, 4))
            as retention_rate,
        cast(coalesce(activity.net_revenue, 0) as numeric(14, 2)) as net_revenue,
        cast(sum(coalesce(activity.net_revenue, 0)) over (
                partition by months.cohort_month order by months.months_since_first_order
            ) / months.cohort_customers as numeric(14, 2)) as cumulative_revenue_per_customer
    from months
    left join activity
        on months.cohort_month = activity.cohort_month
        and months.months_since_first_order = activity.months_since_first_order
)

select * from final
