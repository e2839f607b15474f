{# Every (R score, FM score) pair has exactly one segment: a gap would drop
   customers from customer_rfm (an inner join), a duplicate would count them twice. #}
with

cells as (
    select r_score, fm_score
    from generate_series(1, 5) as r_score
    cross join generate_series(1, 5) as fm_score
),

mapped as (
    select r_score, fm_score, count(*) as segments
    from {{ ref('rfm_segment_map') }}
    group by r_score, fm_score
)

select cells.r_score, cells.fm_score, coalesce(mapped.segments, 0) as segments
from cells
left join mapped using (r_score, fm_score)
where coalesce(mapped.segments, 0) <> 1
