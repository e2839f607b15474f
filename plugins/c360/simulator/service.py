"""Channel 6: the customer-service desk's daily export of tickets.

Tickets follow purchases (a delivery gone wrong, a return, a faulty product),
more often for people about to churn; a few come out of the blue; and the
world's complaints arrive on their day with the score that made some of those
people leave (see world.py). A ticket is closed within a week and then often
rated 1-5, worse the longer it took. People give their e-mail, their phone
or both, written as they write them.

Each day's export holds the tickets opened or closed that day, as they stand at
its end (a ticket opened and closed the same day appears once, closed): JSON
on weekdays, CSV from the weekend shift's tool.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from c360.simulator.pos import write_atomically
from c360.simulator.tables import Table, concat, csv_text, take
from c360.simulator.world import (
    DAY, EMAIL_VARIANT_P, PHONE_FORMATS, DayPurchases, Stream, World, day_rng, day_start, digits,
    email_variant, format_phone, iso_utc,
)

COLUMNS = ["ticket_id", "category", "contact_channel", "email", "phone", "opened_at", "closed_at",
           "satisfaction_score", "updated_at"]
CATEGORIES = ["delivery", "return", "product", "account", "billing", "complaint", "other"]
AFTER_PURCHASE = (0.03, 0.08)  # share of purchases followed by a ticket: (others, churn-prone)
AFTER_PURCHASE_DAYS = (1, 5)
MAX_OPEN_DAYS = 7
RATED_SHARE = 0.6
CONTACT_CHANNELS = ["email", "phone", "chat"]


def file_name(day: date) -> str:
    return f"service_tickets_{day.isoformat()}." + ("csv" if day.weekday() >= 5 else "json")


class ServiceDesk:
    """Tickets by the day they were opened, cached over the week a ticket may stay open."""

    def __init__(self, world: World, purchases: Callable[[date], DayPurchases]):
        self.world = world
        self.purchases = purchases
        self._after_purchases: dict[date, Table] = {}
        self._opened: dict[date, Table] = {}

    def write_day(self, day: date, landing: Path) -> dict[str, int]:
        tickets = self.tickets_on(day)
        path = Path(landing) / file_name(day)
        if path.suffix == ".csv":
            data = csv_text(tickets, COLUMNS)
        else:
            rows = (json.dumps(dict(zip(COLUMNS, values))) for values in zip(*(tickets[c].tolist() for c in COLUMNS)))
            data = "[\n" + ",\n".join(rows) + "\n]\n"
        write_atomically(path, data.encode())
        for cache in (self._after_purchases, self._opened):
            for old in [d for d in cache if d < day - timedelta(days=2 * (MAX_OPEN_DAYS + AFTER_PURCHASE_DAYS[1]))]:
                del cache[old]
        return {"tickets_opened": int(np.strings.startswith(tickets["opened_at"], day.isoformat()).sum()),
                "tickets_closed": int(np.not_equal(tickets["closed_at"], None).sum())}

    def tickets_on(self, day: date) -> Table:
        """Tickets opened or closed on the day, as they stand at its end, in ticket order."""
        start, end = day_start(day), day_start(day) + DAY
        lags = range(min(MAX_OPEN_DAYS, (day - self.world.settings.start_date).days) + 1)
        tickets = concat(*(self._opened_on(day - timedelta(days=lag)) for lag in lags))
        touched = (tickets["opened_at"] >= start) | ((tickets["closed_at"] >= start) & (tickets["closed_at"] < end))
        tickets = take(tickets, np.flatnonzero(touched))
        closed = tickets["closed_at"] < end
        return {
            **{c: tickets[c] for c in ("ticket_id", "category", "contact_channel", "email", "phone")},
            "opened_at": iso_utc(tickets["opened_at"]),
            "closed_at": np.where(closed, iso_utc(np.minimum(tickets["closed_at"], end)), None),
            "satisfaction_score": np.where(closed & (tickets["score"] > 0), tickets["score"], None),
            "updated_at": iso_utc(np.where(closed, tickets["closed_at"], tickets["opened_at"])),
        }

    def _from_purchases(self, day: date) -> Table:
        """Which of a day's purchases lead to a ticket, and how many days later."""
        if day not in self._after_purchases:
            w, p = self.world, self.purchases(day)
            rng = day_rng(w.settings.seed, day, Stream.SERVICE)
            m = p.person.size
            share = np.where(w.is_churn_prone[p.person], AFTER_PURCHASE[1], AFTER_PURCHASE[0])
            follows = rng.random(m) < share
            lag = rng.integers(AFTER_PURCHASE_DAYS[0], AFTER_PURCHASE_DAYS[1] + 1, m)
            # tills have no deliveries: a store purchase's ticket is a return or the product
            category = np.where(p.in_store, rng.integers(1, 3, m), rng.integers(0, 3, m))
            keep = np.flatnonzero(follows)
            self._after_purchases[day] = {"person": p.person[keep], "lag": lag[keep], "category": category[keep]}
        return self._after_purchases[day]

    def _opened_on(self, day: date) -> Table:
        if day not in self._opened:
            self._opened[day] = self._open(day)
        return self._opened[day]

    def _open(self, day: date) -> Table:
        """The tickets opened on a day, with when each is closed and how it is rated."""
        w, start = self.world, day_start(day)
        rng = np.random.default_rng([w.settings.seed, day.toordinal(), int(Stream.SERVICE), 1])
        followed = concat(*(take(t, np.flatnonzero(t["lag"] == lag)) for lag in range(*AFTER_PURCHASE_DAYS)
                            for t in [self._from_purchases(day - timedelta(days=lag))]))
        blue = np.flatnonzero(rng.random(w.size) < w.ticket_rate)
        complaints = np.flatnonzero((w.complaint_at >= start) & (w.complaint_at < start + DAY))
        person = np.concatenate([followed["person"], blue, complaints])
        category = np.concatenate([followed["category"], rng.choice([3, 4, 6], blue.size),
                                   np.full(complaints.size, CATEGORIES.index("complaint"))])
        n, is_complaint = person.size, np.arange(person.size) >= person.size - complaints.size
        opened_at = np.where(is_complaint, w.complaint_at[person], start + rng.integers(8 * 3600, 20 * 3600, n))
        via = rng.choice(len(CONTACT_CHANNELS), n, p=[0.5, 0.3, 0.2])
        # an e-mail gives the address and maybe a phone in the signature; a call the number; a chat asks for both
        gives_email = (via != 1) | (rng.random(n) < 0.2)
        gives_phone = (via >= 1) | (rng.random(n) < 0.3)
        email = email_variant(w.email[person], rng.choice(len(EMAIL_VARIANT_P), n, p=EMAIL_VARIANT_P))
        phone = format_phone(w.phone[person], rng.integers(0, PHONE_FORMATS, n))
        open_for = np.minimum(600 + rng.exponential(1.5 * DAY, n).astype(np.int64), MAX_OPEN_DAYS * DAY - 1)
        mood = 4.3 - 0.35 * open_for / DAY - 0.6 * w.is_churn_prone[person] + rng.normal(0, 0.9, n)
        rated = rng.random(n) < RATED_SHARE
        score = np.where(is_complaint, w.complaint_score[person], np.where(rated, np.clip(np.rint(mood), 1, 5), 0))
        order = np.lexsort((person, opened_at))
        tickets = take({
            "category": np.array(CATEGORIES)[category],
            "contact_channel": np.array(CONTACT_CHANNELS)[via],
            "email": np.where(gives_email, email, None),
            "phone": np.where(gives_phone, phone, None),
            "opened_at": opened_at,
            "closed_at": opened_at + open_for,
            "score": score.astype(np.int64),
        }, order)
        tickets["ticket_id"] = np.strings.add(f"T{day:%Y%m%d}", digits(np.arange(1, n + 1), 5))
        return tickets
