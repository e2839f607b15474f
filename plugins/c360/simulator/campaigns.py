"""Channel 5: the e-mail/SMS tool and the campaigns it sends.

A few campaigns a month go to people on the marketing list who have not
unsubscribed; each holds out a tenth of its target (listed, never sent). A
send delivered to a responsive person raises their purchase rate for a week by
the campaign's lift (zero for some campaigns): ``World.rate_on`` applies it,
so the uplift over the holdout is real in the purchases. Who is still
subscribed depends on the sends before, so campaigns are worked out in order,
a month at a time, and kept.

The tool exports one CSV a day of what happened that day: holdout listings,
sends (with their cost), deliveries, opens, clicks, unsubscribes, and
conversions (a web purchase within a week of a click, credited to the latest).

The tool also takes c360's audiences (the file destination's batches, matched
to people by hashed e-mail, else phone, as ad platforms match): the morning
after a sync it e-mails everyone newly added with ``AUDIENCE_LIFT``, so a
synced group's uplift over c360's holdout (never synced) is real. Those sends
leave the unsubscribe state of the planned campaigns alone, so the history
already exported stays what it was whenever the world is rebuilt.
"""
from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from c360.simulator.pos import write_atomically
from c360.simulator.tables import Table, concat, csv_text, nulls, take
from c360.simulator.world import (
    DAY, NEVER, DayPurchases, Stream, World, day_rng, day_start, digits, email_variant, format_phone, iso_utc, money,
)

COLUMNS = ["event_id", "campaign_id", "campaign_name", "channel", "contact_id", "email", "phone", "event_type",
           "occurred_at", "is_holdout", "cost_per_send", "conversion_amount"]
EVENT_TYPES = ["holdout", "send", "delivery", "open", "click", "unsubscribe", "conversion"]
THEMES = ["New season", "Weekend offer", "Loyalty points", "Back in stock", "Last chance", "Gift ideas"]
CAMPAIGNS_PER_MONTH = (2, 4)
SMS_SHARE = 0.3
NO_EFFECT_SHARE = 0.3  # campaigns that change nothing
EFFECT_DAYS = 7  # a send raises the rate on the days after it
HOLDOUT_SHARE = 0.10
BOUNCE = {"email": 0.03, "sms": 0.02}
OPEN = (0.15, 0.5)  # e-mail opens: (unresponsive, responsive)
CLICK = {"email": (0.08, 0.35), "sms": (0.03, 0.12)}  # of opened e-mails / delivered texts
CONVERSION_DAYS = 7  # a purchase this soon after a click converts
LOOKBACK_DAYS = 2 * CONVERSION_DAYS  # campaigns that may still produce events (clicks trail sends)
AUDIENCE_LIFT = 3.0  # a c360 audience's e-mail quadruples a responsive recipient's purchase rate for a week
AUDIENCE_SEND_HOUR = 9
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Campaign:
    """One campaign and each targeted person's fate (arrays aligned with ``person``)."""

    campaign_id: str
    name: str
    channel: str  # email | sms
    sent_at: int
    lift: float  # the true effect on a responsive recipient's purchase rate (0: none)
    cost_pence: int  # per send
    person: np.ndarray  # everyone targeted, holdout included
    is_holdout: np.ndarray
    delivered_at: np.ndarray  # NEVER: held out or bounced
    opened_at: np.ndarray
    clicked_at: np.ndarray
    unsubscribed_at: np.ndarray
    treated: np.ndarray  # people whose purchase rate it raises

    @property
    def send_day(self) -> date:
        return EPOCH + timedelta(days=int(self.sent_at // DAY))


class CampaignPlan:
    """Every campaign of the world in send order, planned lazily a month at a time."""

    def __init__(self, world: World):
        self.world = world
        self.campaigns: list[Campaign] = []
        self.audience_campaigns: list[Campaign] = []
        self._months = 0  # calendar months planned, from the start date's month
        self._sends = np.zeros(world.size, dtype=np.int64)
        self._unsubscribed_at = np.full(world.size, NEVER)

    def sent_between(self, first: date, last: date) -> list[Campaign]:
        """Campaigns sent from `first` through `last`, inclusive."""
        while _month_start(self.world.settings.start_date, self._months) <= last:
            self._plan_month()
        return sorted((c for c in self.campaigns + self.audience_campaigns if first <= c.send_day <= last),
                      key=lambda c: (c.sent_at, c.campaign_id))

    def receive_audiences(self, exports: Path) -> None:
        """Plan a send to the people each of c360's audience syncs added (see the module doc)."""
        self.audience_campaigns = []
        folders = sorted(p for p in Path(exports).glob("*") if p.is_dir() and any(p.glob("*.csv")))
        people = _people_by_contact_hash(self.world) if folders else {}  # a hash per person: only when needed
        for audience_dir in folders:
            held: set[int] = set()
            for sync_day, added in _adds_by_day(audience_dir, people):
                day = sync_day + timedelta(days=1)
                newly = np.array(sorted(added - held), dtype=np.int64)
                held |= added
                if newly.size and day >= self.world.settings.start_date:
                    at = day_start(day) + AUDIENCE_SEND_HOUR * 3600
                    self.audience_campaigns.append(self._send(
                        f"AUD{day:%Y%m%d}{audience_dir.name}"[:64], f"c360 audience {audience_dir.name}", "email",
                        at, AUDIENCE_LIFT, 1, 1.0, len(self.audience_campaigns), chosen=newly))

    def rate_factor(self, day: date) -> np.ndarray:
        factor = np.ones(self.world.size)
        for campaign in self.sent_between(day - timedelta(days=EFFECT_DAYS), day - timedelta(days=1)):
            factor[campaign.treated] *= 1 + campaign.lift
        return factor

    def _plan_month(self) -> None:
        start = self.world.settings.start_date
        first, following = _month_start(start, self._months), _month_start(start, self._months + 1)
        rng = day_rng(self.world.settings.seed, first, Stream.CAMPAIGNS)
        count = rng.integers(CAMPAIGNS_PER_MONTH[0], CAMPAIGNS_PER_MONTH[1] + 1)
        for slot, offset in enumerate(np.sort(rng.choice((following - first).days, count, replace=False))):
            day = first + timedelta(days=int(offset))
            channel = "sms" if rng.random() < SMS_SHARE else "email"
            lift = 0.0 if rng.random() < NO_EFFECT_SHARE else float(rng.uniform(0.5, 1.5))
            at = day_start(day) + int(rng.integers(8, 19)) * 3600
            target_share, theme = rng.uniform(0.5, 1.0), THEMES[rng.integers(len(THEMES))]
            cost = 1 if channel == "email" else int(rng.integers(3, 6))
            if day >= start:  # the first month's campaigns before the start are not simulated
                self.campaigns.append(self._send(
                    f"CMP{day:%Y%m%d}{slot + 1}", f"{theme} {day:%b %Y}", channel, at, lift, cost, target_share, slot))
        self._months += 1

    def _send(self, campaign_id: str, name: str, channel: str, at: int, lift: float, cost: int,
              target_share: float, slot: int, chosen: np.ndarray | None = None) -> Campaign:
        """A planned campaign targets a share of who is reachable and holds out a tenth;
        an audience's (``chosen``: c360 picked them and kept its own holdout) sends to
        the chosen who are reachable, and leaves the unsubscribe state alone."""
        w = self.world
        stream = int(Stream.CAMPAIGNS) if chosen is None else int(Stream.CAMPAIGNS) + 1000  # audiences draw apart
        rng = np.random.default_rng([w.settings.seed, at // DAY, stream, slot + 1])
        reachable = (w.list_joined_at <= at) & (self._unsubscribed_at > at) & ((channel == "email") | w.sms_opt_in)
        if chosen is None:
            person = np.flatnonzero(reachable & (rng.random(w.size) < target_share))
        else:
            person = chosen[reachable[chosen]]
        m, responsive = person.size, w.is_responsive[person]
        is_holdout = rng.random(m) < HOLDOUT_SHARE if chosen is None else np.zeros(m, dtype=bool)
        delivered = ~is_holdout & (rng.random(m) >= BOUNCE[channel])
        delivered_at = np.where(delivered, at + rng.integers(1, 120, m), NEVER)
        opened = delivered & (channel == "email") & (rng.random(m) < np.where(responsive, OPEN[1], OPEN[0]))
        opened_at = np.where(opened, delivered_at + (rng.exponential(4 * 3600, m)).astype(np.int64), NEVER)
        # a text has no open to track: its link is clicked straight from the delivery
        clickable, after = (opened, opened_at) if channel == "email" else (delivered, delivered_at)
        clicked = clickable & (rng.random(m) < np.where(responsive, CLICK[channel][1], CLICK[channel][0]))
        clicked_at = np.where(clicked, after + 30 + rng.exponential(1800, m).astype(np.int64), NEVER)
        # the send that exhausts someone's tolerance is their last
        leaves = delivered & (self._sends[person] + 1 >= w.send_tolerance[person]) & (chosen is None)
        unsubscribed_at = np.where(leaves, delivered_at + 300 + rng.exponential(6 * 3600, m).astype(np.int64), NEVER)
        if chosen is None:
            self._sends[person[~is_holdout]] += 1
            self._unsubscribed_at[person[leaves]] = unsubscribed_at[leaves]
        return Campaign(campaign_id, name, channel, at, lift, cost, person, is_holdout, delivered_at, opened_at,
                        clicked_at, unsubscribed_at, person[delivered & responsive] if lift else person[:0])


def _people_by_contact_hash(world: World) -> dict[str, int]:
    """SHA-256 of each person's normalised e-mail and E.164 phone -> person (what c360 sends)."""
    found = {}
    for i, (email, phone) in enumerate(zip(world.email.tolist(), world.phone.tolist())):
        found[hashlib.sha256(f"+44{phone}".encode()).hexdigest()] = i
        found[hashlib.sha256(email.strip().lower().encode()).hexdigest()] = i
    return found


def _adds_by_day(audience_dir: Path, people: dict[str, int]) -> list[tuple[date, set[int]]]:
    """The people each sync day's batches added, in batch order (files ``<audience>_<day>_<seq>.csv``)."""
    by_day: dict[date, set[int]] = {}
    for path in sorted(audience_dir.glob("*.csv"), key=lambda p: p.stem.rsplit("_", 1)[-1]):
        sync_day = date.fromisoformat(path.stem.rsplit("_", 2)[-2])
        with path.open(newline="") as f:
            for change in csv.DictReader(f):
                person = people.get(change["email_sha256"] or "", people.get(change["phone_sha256"] or ""))
                if change["action"] == "add" and person is not None:
                    by_day.setdefault(sync_day, set()).add(person)
    return sorted(by_day.items())


def _month_start(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def file_name(day: date) -> str:
    return f"campaign_events_{day.isoformat()}.csv"


class CampaignExports:
    """The tool's daily export of events."""

    def __init__(self, world: World, purchases: Callable[[date], DayPurchases]):
        self.world = world
        self.purchases = purchases

    def write_day(self, day: date, landing: Path) -> dict[str, int]:
        events = self.events_on(day)
        write_atomically(Path(landing) / file_name(day), csv_text(events, COLUMNS).encode())
        kinds, counts = np.unique(events["event_type"], return_counts=True)
        return {str(kind): int(count) for kind, count in zip(kinds, counts)}

    def events_on(self, day: date) -> Table:
        w, start = self.world, day_start(day)
        campaigns = w.campaigns.sent_between(day - timedelta(days=LOOKBACK_DAYS), day)
        parts = [self._conversions(day, campaigns)]
        for index, c in enumerate(campaigns):
            sent = np.full(c.person.size, c.sent_at >= start)
            for kind, at, on_day in (("holdout", c.sent_at, sent & c.is_holdout), ("send", c.sent_at, sent & ~c.is_holdout),
                                     ("delivery", c.delivered_at, None), ("open", c.opened_at, None),
                                     ("click", c.clicked_at, None), ("unsubscribe", c.unsubscribed_at, None)):
                at = np.broadcast_to(at, c.person.shape)
                on_day = (at >= start) & (at < start + DAY) if on_day is None else on_day
                cost = money(np.full(on_day.sum(), c.cost_pence)) if kind == "send" else None
                parts.append(_events(kind, index, c.person[on_day], at[on_day], c.is_holdout[on_day], cost=cost))
        events = concat(*parts)
        events = take(events, np.lexsort((events["kind"], events["person"], events["campaign"], events["at"])))
        return self._as_exported(day, campaigns, events)

    def _conversions(self, day: date, campaigns: list[Campaign]) -> Table:
        """Web purchases of the day, each credited to its buyer's latest click in the week before."""
        web = self.purchases(day).web()
        clicks = concat(_events("click", -1, np.zeros(0, dtype=np.int64), [], np.zeros(0, dtype=bool)), *(
            _events("click", i, c.person[c.clicked_at < NEVER], c.clicked_at[c.clicked_at < NEVER],
                    c.is_holdout[c.clicked_at < NEVER]) for i, c in enumerate(campaigns)))
        # person-major, time-ordered keys: the click just before a purchase is one search away
        clicks = take(clicks, np.lexsort((clicks["at"], clicks["person"])))
        before = np.searchsorted(clicks["person"] * 2**32 + clicks["at"], web.person * 2**32 + web.at) - 1
        hit = before >= 0
        hit[hit] = (clicks["person"][before[hit]] == web.person[hit]) & (
            web.at[hit] - clicks["at"][before[hit]] <= CONVERSION_DAYS * DAY)
        return _events("conversion", clicks["campaign"][before[hit]], web.person[hit], web.at[hit],
                       np.zeros(hit.sum(), dtype=bool), amount=money(web.pence[hit]))

    def _as_exported(self, day: date, campaigns: list[Campaign], events: Table) -> Table:
        w, person, n = self.world, events["person"], events["person"].size
        campaign = events["campaign"]
        channel = np.array([c.channel for c in campaigns] + [""])[campaign]
        return {
            "event_id": np.strings.add(f"EV{day:%Y%m%d}", digits(np.arange(1, n + 1), 7)),
            "campaign_id": np.array([c.campaign_id for c in campaigns] + [""])[campaign],
            "campaign_name": np.array([c.name for c in campaigns] + [""])[campaign],
            "channel": channel,
            "contact_id": np.strings.add("K", digits(w.contact_no[person], 8)),
            "email": np.where(channel == "email", email_variant(w.email[person], w.contact_email_variant[person]), None),
            "phone": np.where(channel == "sms", format_phone(w.phone[person], w.contact_phone_format[person]), None),
            "event_type": np.array(EVENT_TYPES)[events["kind"]],
            "occurred_at": iso_utc(events["at"]),
            "is_holdout": events["is_holdout"],
            "cost_per_send": events["cost_per_send"],
            "conversion_amount": events["conversion_amount"],
        }


def _events(kind: str, campaign, person: np.ndarray, at, is_holdout: np.ndarray,
            cost: np.ndarray | None = None, amount: np.ndarray | None = None) -> Table:
    """Events of one kind; ``campaign`` indexes the campaigns being exported."""
    n = person.size
    return {
        "kind": np.full(n, EVENT_TYPES.index(kind)), "campaign": np.broadcast_to(campaign, n).astype(np.int64),
        "person": person, "at": np.asarray(at, dtype=np.int64), "is_holdout": is_holdout,
        "cost_per_send": nulls(n) if cost is None else cost.astype(object),
        "conversion_amount": nulls(n) if amount is None else amount.astype(object),
    }
