"""Channel 4: the brand's app, exported as one JSON-lines file of events a day.

App users have one to three devices. A device is used anonymously from its
install until its first login, which ties it to the customer: by shop
customer id when the person has a shop account by then, else by the e-mail
they signed up with, typed as they type it. Now and then a session starts
with a fresh login (it had expired). Sessions hold product views and cart adds.

Logins read the shop's accounts as they stood at the moment of the login, so
a day's file is the same whenever it is (re)written.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from c360.simulator.pos import write_atomically
from c360.simulator.tables import Table, concat, nulls, take
from c360.simulator.world import (
    DAY, EMAIL_VARIANT_P, Stream, World, day_rng, day_start, digits, email_variant, iso_utc,
)

COLUMNS = ["event_id", "event_type", "occurred_at", "device_id", "platform", "session_id", "customer_id", "email",
           "product_id"]
EVENT_TYPES = ["session_start", "login", "product_view", "cart_add"]
RELOGIN_SHARE = 0.03  # sessions that start with a login because the last one expired
VIEWS_PER_SESSION = 2.5
CART_ADD_SHARE = 0.12
CHURNED_ACTIVITY = 0.3  # people who stopped buying mostly stop opening the app too


def file_name(day: date) -> str:
    return f"app_events_{day.isoformat()}.jsonl"


def device_ids(device_no: np.ndarray) -> np.ndarray:
    return np.strings.add("D", digits(device_no, 16))


class AppExports:
    def __init__(self, world: World):
        self.world = world
        self.devices_per_person = np.bincount(world.device_person, minlength=world.size)

    def write_day(self, day: date, landing: Path, customer_id: np.ndarray, account_opened_at: np.ndarray) -> dict[str, int]:
        """``customer_id`` / ``account_opened_at``: each person's shop account (0 / NEVER: none yet)."""
        events = self.events_on(day, customer_id, account_opened_at)
        lines = pd.DataFrame(events, columns=COLUMNS).to_json(orient="records", lines=True) if events["event_id"].size else ""
        write_atomically(Path(landing) / file_name(day), lines.encode())
        kinds = events["event_type"]
        return {"sessions": int((kinds == "session_start").sum()), "logins": int((kinds == "login").sum()),
                "events": int(kinds.size)}

    def _sessions(self, day: date, rng: np.random.Generator) -> Table:
        """The day's sessions per device: the install's, the first login's, and the habitual ones."""
        w, start = self.world, day_start(day)
        end = start + DAY
        device = np.flatnonzero(w.device_installed_at < end)
        person = w.device_person[device]
        churned = w.day_index(day) >= w.churn_day[person]
        rate = w.app_activity[person] / self.devices_per_person[person] * np.where(churned, CHURNED_ACTIVITY, 1.0)
        habitual = np.repeat(device, rng.poisson(rate))
        opened = np.maximum(start, w.device_installed_at[habitual])
        installs = device[w.device_installed_at[device] >= start]
        logins = device[(w.device_login_at[device] >= start) & (w.device_login_at[device] < end)]
        sessions = concat(
            {"device": installs, "at": w.device_installed_at[installs], "login": np.zeros(installs.size, dtype=bool)},
            {"device": logins, "at": w.device_login_at[logins], "login": np.ones(logins.size, dtype=bool)},
            {"device": habitual, "at": opened + (rng.random(habitual.size) * (end - opened)).astype(np.int64),
             "login": np.zeros(habitual.size, dtype=bool)},
        )
        relogin = (sessions["at"] > w.device_login_at[sessions["device"]]) & (rng.random(sessions["at"].size) < RELOGIN_SHARE)
        sessions["login"] |= relogin
        sessions = take(sessions, np.lexsort((sessions["device"], sessions["at"])))
        sessions["session_id"] = np.strings.add(f"S{day:%Y%m%d}", digits(np.arange(1, sessions["at"].size + 1), 7))
        return sessions

    def events_on(self, day: date, customer_id: np.ndarray, account_opened_at: np.ndarray) -> Table:
        w = self.world
        rng = day_rng(w.settings.seed, day, Stream.APP)
        sessions = self._sessions(day, rng)
        k = sessions["at"].size
        views = rng.poisson(VIEWS_PER_SESSION, k)
        view_session = np.repeat(np.arange(k), views)
        nth_view = np.arange(view_session.size) - np.repeat(np.cumsum(views) - views, views)
        view_at = sessions["at"][view_session] + 10 + 40 * nth_view + rng.integers(0, 40, view_session.size)
        catalog = w.catalog
        product = catalog["product_id"].to_numpy()[
            rng.choice(len(catalog), view_session.size, p=catalog["weight"].to_numpy())]
        added = rng.random(view_session.size) < CART_ADD_SHARE
        login = np.flatnonzero(sessions["login"])
        login_at = sessions["at"][login] + 5
        person = w.device_person[sessions["device"][login]]
        has_account = account_opened_at[person] <= login_at
        typed = email_variant(w.email[person], rng.choice(len(EMAIL_VARIANT_P), person.size, p=EMAIL_VARIANT_P))
        events = concat(
            _events("session_start", np.arange(k), sessions["at"]),
            _events("login", login, login_at, customer_id=np.where(has_account, customer_id[person], None),
                    email=np.where(has_account, None, typed)),
            _events("product_view", view_session, view_at, product=product),
            _events("cart_add", view_session[added], view_at[added] + 5, product=product[added]),
        )
        events = take(events, np.lexsort((events["kind"], events["session"], events["at"])))
        device = sessions["device"][events["session"]]
        return {
            "event_id": np.strings.add(f"A{day:%Y%m%d}", digits(np.arange(1, events["at"].size + 1), 8)),
            "event_type": np.array(EVENT_TYPES)[events["kind"]],
            "occurred_at": iso_utc(events["at"]),
            "device_id": device_ids(w.device_no[device]),
            "platform": w.device_platform[device],
            "session_id": sessions["session_id"][events["session"]],
            "customer_id": events["customer_id"],
            "email": events["email"],
            "product_id": events["product_id"],
        }


def _events(kind: str, session: np.ndarray, at: np.ndarray, customer_id=None, email=None, product=None) -> Table:
    n = session.size
    return {
        "kind": np.full(n, EVENT_TYPES.index(kind)), "session": session, "at": np.asarray(at, dtype=np.int64),
        "customer_id": nulls(n) if customer_id is None else customer_id.astype(object),
        "email": nulls(n) if email is None else email.astype(object),
        "product_id": nulls(n) if product is None else product.astype(object),
    }
