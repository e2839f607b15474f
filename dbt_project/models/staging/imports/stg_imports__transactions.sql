{# A changed file is loaded again in full (up to the as-of day): only the rows of
   each source's latest file count, so a line edited or removed since is gone. #}
with

loaded as (
    {{ latest_version(source('imports', 'imported_transactions'), 'source, transaction_id', '_loaded_at') }}
),

latest_file as (
    select distinct on (source) source, file_sha256
    from {{ source('imports', 'imported_transactions') }}
    order by source, _loaded_at desc
),

source as (
    select loaded.*
    from loaded
    inner join latest_file using (source, file_sha256)
),

renamed as (
    select
        source as import_source,
        transaction_id,
        'import:' || source || ':' || transaction_id as transaction_key,
        order_id,
        'import:' || source || ':'
            || case when order_id is not null then 'order:' || order_id else 'line:' || transaction_id end
            as order_key,
        {# hashed: a file's customer id is often an e-mail, and this id reaches the marts #}
        source || ':' || {{ sha256_hex('customer_id') }} as import_customer_id,
        ordered_at,
        cast(ordered_at as date) as ordered_on,
        amount,
        case when amount < 0 then 'return' else 'sale' end as transaction_type,
        _source_file as source_file,
        _source_line as source_line,
        _loaded_at as loaded_at
    from source
)

select * from renamed
