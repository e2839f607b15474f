"""Materialise simulated days into the channels, and write down the truth.

State folder layout:

- ``settings.json``: the SimulationSettings (see settings.py)
- ``progress.json``: ``{"last_day": "YYYY-MM-DD"}``, the last day materialised
- ``social/social.sqlite``: the social platform's store
- ``truth/people.csv``: one row per person, hidden traits and source ids (see write_truth)
- ``truth/campaigns.csv``: one row per campaign sent, with its true effect

The file channels write into ``<landing>/<channel>/``: pos, app, campaigns, service.

Each day is drawn from its own random streams, so advancing day by day or in
one jump gives the same result. Each channel also records the last day it
holds, so a channel left behind (a crash, a fresh shop database) is replayed
from its own last day.
"""
from __future__ import annotations

import fcntl
import json
from collections import Counter
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import psycopg2

from c360.simulator.app import AppExports, device_ids
from c360.simulator.campaigns import CampaignExports
from c360.simulator.faults import inject_faults
from c360.simulator.pos import RETURN_AFTER_DAYS, PosDrops, store_ids
from c360.simulator.service import ServiceDesk
from c360.simulator.settings import load_settings
from c360.simulator.shop import Shop
from c360.simulator.social import SocialStore, store_path
from c360.simulator.tables import csv_text
from c360.simulator.world import DAY, NEVER, NEVER_DAY, World, day_start, digits, iso_utc, money, purchases_on

PROGRESS_FILE = "progress.json"
TRUTH_FILE = Path("truth") / "people.csv"
CAMPAIGN_TRUTH_FILE = Path("truth") / "campaigns.csv"
CHANNELS = ("shop", "pos", "social", "app", "campaigns", "service")
FILE_CHANNELS = ("pos", "app", "campaigns", "service")  # delivered as file drops, so --faults can strike them


@dataclass(frozen=True)
class AdvanceReport:
    """What one call wrote. first_day is None when there was nothing to do."""

    first_day: date | None
    last_day: date | None  # the last simulated day after the call
    shop: dict[str, int] = field(default_factory=dict)
    pos: dict[str, int] = field(default_factory=dict)
    social: dict[str, int] = field(default_factory=dict)
    app: dict[str, int] = field(default_factory=dict)
    campaigns: dict[str, int] = field(default_factory=dict)
    service: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)  # files each injected fault struck

    @property
    def days(self) -> int:
        return 0 if self.first_day is None else (self.last_day - self.first_day).days + 1

    def as_dict(self) -> dict:
        return {
            "first_day": self.first_day and self.first_day.isoformat(),
            "last_day": self.last_day and self.last_day.isoformat(),
            "days": self.days, **{channel: getattr(self, channel) for channel in CHANNELS}, "faults": self.faults,
        }


def last_simulated_day(state_dir: Path) -> date | None:
    path = Path(state_dir) / PROGRESS_FILE
    if not path.exists():
        return None
    return date.fromisoformat(json.loads(path.read_text())["last_day"])


def _record_progress(state_dir: Path, day: date) -> None:
    tmp = state_dir / f".{PROGRESS_FILE}.tmp"
    tmp.write_text(json.dumps({"last_day": day.isoformat()}) + "\n")
    tmp.replace(state_dir / PROGRESS_FILE)


@contextmanager
def _exclusive(state_dir: Path) -> Iterator[None]:
    """One advance at a time per state folder (two would both write the same days)."""
    with open(state_dir / ".advance.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def advance_world(state_dir: Path, shop_dsn: str, landing: Path, through: date,
                  audiences: Path | None = None) -> AdvanceReport:
    """Materialise every simulated day from the last one done (or start_date) through `through`, inclusive.
    `audiences`: c360's audience file drops, which the simulated campaign tool acts on.

    Idempotent: calling again with the same or an earlier date does nothing.
    """
    state_dir, landing = Path(state_dir), Path(landing)
    settings = load_settings(state_dir)
    with _exclusive(state_dir):
        done = last_simulated_day(state_dir)
        first = settings.start_date if done is None else done + timedelta(days=1)
        if through < first:
            return AdvanceReport(None, done)

        world = World.build(settings)
        if audiences is not None:
            world.campaigns.receive_audiences(audiences)
        # the POS looks back a week for the sales that come back as returns
        purchases = lru_cache(maxsize=RETURN_AFTER_DAYS[1] + 2)(partial(purchases_on, world))
        pos, app = PosDrops(world, purchases), AppExports(world)
        campaigns, service = CampaignExports(world, purchases), ServiceDesk(world, purchases)
        totals = {channel: Counter() for channel in (*CHANNELS, "faults")}
        with closing(psycopg2.connect(shop_dsn)) as conn, closing(SocialStore(store_path(state_dir), world)) as social:
            shop = Shop(conn, world)
            channels = {"shop": shop, "social": social}
            next_day = {name: settings.start_date if c.last_day is None else c.last_day + timedelta(days=1)
                        for name, c in channels.items()}
            day = min(first, *next_day.values())
            while day <= through:
                if day >= next_day["shop"]:
                    totals["shop"].update(shop.apply_day(day, purchases(day)))
                totals["pos"].update(pos.write_day(day, landing / "pos"))
                # after the shop's day: a login uses the shop account if it is open by then
                totals["app"].update(app.write_day(day, landing / "app", shop.primary, shop.primary_opened_at))
                totals["campaigns"].update(campaigns.write_day(day, landing / "campaigns"))
                totals["service"].update(service.write_day(day, landing / "service"))
                for channel in FILE_CHANNELS if settings.faults else ():
                    totals["faults"].update(inject_faults(settings.seed, settings.faults, settings.fault_rate, day,
                                                          landing / channel, state_dir))
                if day >= next_day["social"]:
                    totals["social"].update(social.apply_day(day))
                day += timedelta(days=1)
            write_truth(state_dir, world, shop.primary, shop.duplicate, through)
        _record_progress(state_dir, through)
        return AdvanceReport(first, through, *(dict(totals[c]) for c in (*CHANNELS, "faults")))


def _times(seconds: np.ndarray, unit: str = "s") -> np.ndarray:
    """ISO texts (dates with unit='D'), '' where the moment never comes."""
    known = seconds < NEVER
    text = np.full(seconds.size, "", dtype="<U20")
    moments = seconds[known].astype("datetime64[s]").astype(f"datetime64[{unit}]")
    text[known] = np.datetime_as_string(moments, timezone="UTC" if unit == "s" else "naive")
    return text


def write_truth(state_dir: Path, world: World, primary: np.ndarray, duplicate: np.ndarray, as_of: date) -> None:
    """truth/people.csv: every person's hidden traits (future moments included: they are
    the truth) and the source identifiers they own as of `as_of`:

    - customer_ids: shop customer_id(s), ';'-separated (a few people have two accounts)
    - member_card_no: the loyalty card, once issued (links POS receipts and shop accounts)
    - openid / unionid: the social account, once they followed
    - phone_e164 / email: the canonical forms; every source shows them in varied formats
    - expected_purchases_30d: true expected web + store purchases in the 30 days after as_of
      (campaign sends included)
    - app_device_ids: the devices installed by as_of, ';'-separated
    - is_responsive: a campaign send with an effect raises their purchase rate
    - contact_id: the e-mail/SMS tool's contact, once they joined its list

    and truth/campaigns.csv (see write_campaign_truth).
    """
    w = world
    end = day_start(as_of) + DAY
    customer_ids = np.where(primary > 0, primary.astype(str), "")
    customer_ids = np.where(duplicate > 0, np.strings.add(np.strings.add(customer_ids, ";"), duplicate.astype(str)),
                            customer_ids)
    followed = w.follow_at < end
    churn_at = np.where(w.churn_day < NEVER_DAY, w.start + w.churn_day * DAY, NEVER)
    truth = {
        "person_id": w.person_id,
        "first_name": w.first_name,
        "last_name": w.last_name,
        "email": w.email,
        "phone_e164": np.strings.add("+44", w.phone),
        "household_id": np.where(w.household_id > 0, w.household_id.astype(str), ""),
        "is_prospect": w.is_prospect,
        "purchase_rate_per_day": w.rate.round(6),
        "churn_on": _times(churn_at, "D"),
        "store_share": w.store_share.round(4),
        "home_store_id": np.array(store_ids(w.settings.stores))[w.home_store],
        "is_member": w.is_member,
        "member_since": _times(w.signup_at),
        "second_account_at": _times(w.duplicate_at),
        "follows_social": w.follows,
        "followed_at": _times(w.follow_at),
        "unfollowed_at": _times(w.unfollow_at),
        "engagement_per_day": w.engagement.round(6),
        "as_of": np.full(w.size, as_of.isoformat()),
        "expected_purchases_30d": w.expected_purchases(as_of).round(6),
        "customer_ids": customer_ids,
        "member_card_no": np.where(w.signup_at < end, w.member_card_no, ""),
        "openid": np.where(followed, w.openid, ""),
        "unionid": np.where(followed, w.unionid, ""),
        "uses_app": w.uses_app,
        "app_device_ids": _devices_by_person(w, end),
        "is_responsive": w.is_responsive,
        "contact_id": np.where(w.list_joined_at < end, np.strings.add("K", digits(w.contact_no, 8)), ""),
    }
    _write_text(state_dir / TRUTH_FILE, csv_text(truth, list(truth)))
    write_campaign_truth(state_dir, world, as_of)


def _devices_by_person(world: World, end: int) -> np.ndarray:
    installed = world.device_installed_at < end
    devices = pd.Series(device_ids(world.device_no[installed])).groupby(world.device_person[installed]).agg(";".join)
    joined = np.full(world.size, "", dtype=object)
    joined[devices.index.to_numpy()] = devices.to_numpy()
    return joined


def write_campaign_truth(state_dir: Path, world: World, as_of: date) -> None:
    """truth/campaigns.csv: each campaign sent by as_of, its true lift on a responsive
    recipient's purchase rate for the week after the send (0: no effect), and its counts."""
    campaigns = world.campaigns.sent_between(world.settings.start_date, as_of)
    truth = pd.DataFrame(
        [(c.campaign_id, c.channel, c.sent_at, round(c.lift, 6), c.cost_pence, c.person.size, int(c.is_holdout.sum()),
          int((c.delivered_at < NEVER).sum()), c.treated.size) for c in campaigns],
        columns=["campaign_id", "channel", "sent_at", "lift", "cost_per_send", "targeted", "held_out", "delivered",
                 "treated"],
    )
    truth["sent_at"] = iso_utc(truth["sent_at"].to_numpy(dtype=np.int64))
    truth["cost_per_send"] = money(truth["cost_per_send"].to_numpy(dtype=np.int64))
    _write_text(state_dir / CAMPAIGN_TRUTH_FILE, truth.to_csv(index=False, lineterminator="\n"))


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def read_truth(state_dir: Path) -> pd.DataFrame:
    """truth/people.csv with identifiers as text (empty = none) and lists split."""
    truth = pd.read_csv(Path(state_dir) / TRUTH_FILE, dtype=str, keep_default_na=False)
    truth["person_id"] = truth["person_id"].astype(np.int64)
    for column in ("is_prospect", "is_member", "follows_social", "uses_app", "is_responsive"):
        truth[column] = truth[column] == "True"
    for column in ("purchase_rate_per_day", "store_share", "engagement_per_day", "expected_purchases_30d"):
        truth[column] = truth[column].astype(float)
    truth["customer_ids"] = truth["customer_ids"].map(lambda ids: [int(i) for i in ids.split(";")] if ids else [])
    return truth
