"""The contact rules every audience obeys, whatever its definition says: the one
place that decides who may be contacted.

Consent and opt-outs are the profile's (``marts.dim_customers``, as of the last
build), so a sync replayed for an earlier day also leaves out whoever opted out
since. In order, a customer matching an audience is excluded when they
- ``no_consent``: never accepted marketing;
- ``opted_out``: unsubscribed from any campaign (``has_opted_out``; this wins over
  any consent), even one whose send the warehouse never received;
- ``no_contact``: have neither an e-mail nor a phone;
- ``suppressed``: are on the suppression list (by key, hashed e-mail or phone);
- ``paused``: were sent ``pause_after_unanswered`` campaigns in a row without
  answering (an open, click or conversion) and have not interacted since (any
  order, social or app event, campaign response); they return when they do;
- ``capped``: would be newly added to a destination although they already had
  ``max_contacts`` contacts in the last ``per_days`` days. Contacts are the
  campaign tool's sends (from the campaigns channel) plus every add c360
  delivered to any destination, so an add and the send it leads to may both
  count: the cap errs on the side of fewer messages. People already at a
  destination stay; the cap only holds back new adds.

Eligible customers are then split into the synced group and the holdout, so
the holdout holds only people who would have been sent.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

EXCLUSION_RULES = ("no_consent", "opted_out", "no_contact", "suppressed", "paused", "capped")


@dataclass(frozen=True)
class ContactRules:
    max_contacts: int = 2
    per_days: int = 7
    pause_after_unanswered: int = 3

    @classmethod
    def parse(cls, spec) -> "ContactRules":
        from c360.activation.audiences import AudienceError

        spec = spec or {}
        if not isinstance(spec, dict) or set(spec) - set(cls.__dataclass_fields__):
            raise AudienceError(f"contact_rules takes {sorted(cls.__dataclass_fields__)}, got {spec!r}")
        for name, value in spec.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise AudienceError(f"contact_rules.{name} must be a whole number of at least 1, got {value!r}")
        return cls(**spec)


# The audience's matches (its own conditions, spliced in as parameterised SQL by
# c360.activation.audiences) with the first rule that excludes each, if any.
MATCHES_QUERY = """
with

candidates as (
    select customers.customer_key, customers.email_sha256, customers.phone_sha256, customers.accepts_marketing,
        customers.has_opted_out
    from marts.dim_customers as customers
    left join marts.customer_lifecycle as lifecycle on lifecycle.customer_key = customers.customer_key
    left join marts.customer_rfm as rfm on rfm.customer_key = customers.customer_key
    left join ml.propensity_scores as scores
        on scores.customer_key = customers.customer_key
        and scores.model_name = %(score_model)s
        and scores.scored_for_date = %(as_of)s
    where {audience_rules}
),

sends as (
    select touches.customer_key, touches.touched_at,
        touches.opened or touches.clicked or touches.converted_per_tool as answered
    from marts.fct_campaign_touches as touches
    inner join candidates on candidates.customer_key = touches.customer_key
    where not touches.is_holdout and touches.touched_at < %(day_after)s
),

last_interaction as (
    select customer_key, max(at) as at
    from (
        select customer_key, touched_at as at from sends where answered
        union all
        select interactions.customer_key, interactions.occurred_at
        from marts.fct_interactions as interactions
        inner join candidates on candidates.customer_key = interactions.customer_key
        where interactions.event_type <> 'unsubscribe' and interactions.occurred_at < %(day_after)s
        union all
        select orders.customer_key, orders.ordered_at
        from marts.fct_orders as orders
        inner join candidates on candidates.customer_key = orders.customer_key
        where orders.ordered_at < %(day_after)s
    ) as interactions
    group by customer_key
),

send_history as (
    select
        sends.customer_key,
        count(*) filter (where not sends.answered
                         and sends.touched_at > coalesce(last_interaction.at, '-infinity')) as unanswered_in_a_row,
        count(*) filter (where sends.touched_at >= %(window_start)s) as recent_sends
    from sends
    left join last_interaction on last_interaction.customer_key = sends.customer_key
    group by sends.customer_key
),

delivered_adds as (
    select contacts.customer_key, count(*) as recent_adds
    from activation.contacts as contacts
    inner join candidates on candidates.customer_key = contacts.customer_key
    where contacts.contacted_on >= %(window_start)s and contacts.contacted_on <= %(as_of)s
    group by contacts.customer_key
)

select
    candidates.customer_key,
    candidates.email_sha256,
    candidates.phone_sha256,
    case
        when not coalesce(candidates.accepts_marketing, false) then 'no_consent'
        when candidates.has_opted_out is not false then 'opted_out'
        when candidates.email_sha256 is null and candidates.phone_sha256 is null then 'no_contact'
        when exists (
            select 1 from activation.suppressions
            where (kind, value) in (('customer_key', candidates.customer_key),
                                    ('email_sha256', candidates.email_sha256),
                                    ('phone_sha256', candidates.phone_sha256))
        ) then 'suppressed'
        when coalesce(send_history.unanswered_in_a_row, 0) >= %(pause_after)s then 'paused'
    end as excluded_by,
    coalesce(send_history.recent_sends, 0) + coalesce(delivered_adds.recent_adds, 0) as recent_contacts
from candidates
left join send_history on send_history.customer_key = candidates.customer_key
left join delivered_adds on delivered_adds.customer_key = candidates.customer_key
"""


def matches_query(audience_rules: str, rules: ContactRules, as_of: date, score_model: str,
                  audience_params: dict) -> tuple[str, dict]:
    """The SQL and parameters that list an audience's matches with their exclusion."""
    window_start = as_of - timedelta(days=rules.per_days - 1)
    params = {"as_of": as_of, "day_after": as_of + timedelta(days=1), "window_start": window_start,
              "pause_after": rules.pause_after_unanswered, "score_model": score_model, **audience_params}
    return MATCHES_QUERY.format(audience_rules=audience_rules), params
