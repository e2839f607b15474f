{# Whether a follower profile (a row of stg_social__followers) followed the brand
   on `day` and had not unfollowed by then: followed_at and unfollowed_at are
   dated, so the latest profile answers for past days too. An unfollow before
   the latest follow is one the person took back. #}
{% macro follows_on(followers, day) -%}
    (cast({{ followers }}.followed_at as date) <= {{ day }}
     and ({{ followers }}.unfollowed_at is null
          or {{ followers }}.unfollowed_at < {{ followers }}.followed_at
          or cast({{ followers }}.unfollowed_at as date) > {{ day }}))
{%- endmacro %}
