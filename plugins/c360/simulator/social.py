"""Channel 3: the social platform's own store of followers and their events.

Follow, unfollow and phone-binding moments are traits of the world, so a
follower's profile on any day is a pure function of the world; the store
keeps the latest version of each profile (``updated_at`` = its last change)
and the event log. SQLite in WAL mode lets the API read while a day is written.
"""
from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import numpy as np

from c360.simulator.tables import Table, concat, nulls, records, take
from c360.simulator.world import DAY, Stream, World, day_rng, day_start, format_phone, iso_utc

EVENT_TYPES = np.array(["like", "comment", "share", "read"])
EVENT_TYPE_P = [0.25, 0.07, 0.08, 0.60]
CHURNED_ENGAGEMENT = 0.3  # people who stopped buying mostly stop engaging too
REACH_UPDATE_PER_DAY = 0.01
REACH_GROWTH_PER_DAY = 0.003

SCHEMA = """
create table if not exists followers (
    openid text primary key,
    unionid text not null,
    bound_phone text,
    nickname text not null,
    followed_at text not null,
    unfollowed_at text,
    follower_count integer not null,
    updated_at text not null
);
create index if not exists followers__updated_at on followers (updated_at, openid);
create table if not exists events (
    event_id integer primary key,
    openid text not null,
    event_type text not null,
    occurred_at text not null,
    content_id text,
    seconds_read integer
);
create table if not exists progress (
    singleton integer primary key check (singleton = 1),
    last_day text not null
);
"""
FOLLOWER_COLUMNS = ["openid", "unionid", "bound_phone", "nickname", "followed_at", "unfollowed_at",
                    "follower_count", "updated_at"]
EVENT_COLUMNS = ["event_id", "openid", "event_type", "occurred_at", "content_id", "seconds_read"]


def store_path(state_dir: Path) -> Path:
    return Path(state_dir) / "social" / "social.sqlite"


def open_store(path: Path) -> sqlite3.Connection:
    """The store, created if missing. Timestamps are 'YYYY-MM-DDTHH:MM:SSZ' text, so they sort as text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("pragma journal_mode = wal")
    conn.executescript(SCHEMA)
    return conn


class SocialStore:
    def __init__(self, path: Path, world: World):
        self.world = world
        self.conn = open_store(path)
        row = self.conn.execute("select last_day from progress").fetchone()
        self.last_day: date | None = date.fromisoformat(row[0]) if row else None
        self.next_event_id = self.conn.execute("select coalesce(max(event_id), 0) + 1 from events").fetchone()[0]

    def close(self) -> None:
        self.conn.close()

    def apply_day(self, day: date) -> dict[str, int]:
        rng = day_rng(self.world.settings.seed, day, Stream.SOCIAL)
        followers = follower_changes(self.world, day, rng)
        events = day_events(self.world, day, rng)
        events["event_id"] = self.next_event_id + np.arange(events["openid"].size, dtype=np.int64)
        with self.conn:  # one transaction per day
            self.conn.executemany(
                f"insert or replace into followers ({', '.join(FOLLOWER_COLUMNS)}) values ({', '.join('?' * 8)})",
                records(followers, FOLLOWER_COLUMNS),
            )
            self.conn.executemany(
                f"insert into events ({', '.join(EVENT_COLUMNS)}) values ({', '.join('?' * 6)})",
                records(events, EVENT_COLUMNS),
            )
            self.conn.execute("insert or replace into progress values (1, ?)", (day.isoformat(),))
        self.next_event_id += events["event_id"].size
        self.last_day = day
        return {"follower_changes": int(followers["openid"].size), "events": int(events["event_id"].size)}


def _on_day(times: np.ndarray, start: int) -> np.ndarray:
    return (times >= start) & (times < start + DAY)


def follower_changes(world: World, day: date, rng: np.random.Generator) -> Table:
    """Profiles that changed on the day, as they stand at its end."""
    w, start = world, day_start(day)
    end = start + DAY
    following = (w.follow_at < start) & (w.unfollow_at >= start)
    reach_update = following & (rng.random(w.size) < REACH_UPDATE_PER_DAY)
    reach_at = np.where(reach_update, start + rng.integers(0, DAY, w.size), -1)
    change_times = np.stack([
        np.where(_on_day(w.follow_at, start), w.follow_at, -1),
        np.where(_on_day(w.unfollow_at, start), w.unfollow_at, -1),
        np.where(_on_day(w.bind_at, start), w.bind_at, -1),
        reach_at,
    ])
    last_change = change_times.max(axis=0)
    who = np.flatnonzero(last_change >= 0)
    changed_at = last_change[who]
    days_following = (changed_at - w.follow_at[who]) / DAY
    return {
        "openid": w.openid[who],
        "unionid": w.unionid[who],
        "bound_phone": np.where(w.bind_at[who] < end, format_phone(w.phone[who], w.social_phone_format[who]), None),
        "nickname": w.nickname[who],
        "followed_at": iso_utc(w.follow_at[who]),
        # (minimum: NEVER is beyond what datetime64 can print)
        "unfollowed_at": np.where(w.unfollow_at[who] < end, iso_utc(np.minimum(w.unfollow_at[who], end)), None),
        "follower_count": (w.reach[who] * (1 + REACH_GROWTH_PER_DAY * days_following)).astype(np.int64),
        "updated_at": iso_utc(changed_at),
    }


def _lifecycle_events(kind: str, person: np.ndarray, at: np.ndarray) -> Table:
    return {"person": person, "event_type": np.full(person.size, kind), "occurred_at": at,
            "content_id": nulls(person.size), "seconds_read": nulls(person.size)}


def day_events(world: World, day: date, rng: np.random.Generator) -> Table:
    """Follows, unfollows and interactions with the brand's recent posts, in time order."""
    w, start = world, day_start(day)
    end = start + DAY
    following = np.flatnonzero((w.follow_at < start) & (w.unfollow_at >= end))
    churned = world.day_index(day) >= w.churn_day[following]
    rate = w.engagement[following] * np.where(churned, CHURNED_ENGAGEMENT, 1.0)
    person = np.repeat(following, rng.poisson(rate))
    n = person.size
    event_type = EVENT_TYPES[rng.choice(EVENT_TYPES.size, n, p=EVENT_TYPE_P)]
    # posts of the last week, the newest most read; three a day
    posted = np.datetime_as_string((start - np.minimum(rng.geometric(0.45, n) - 1, 6) * DAY).astype("datetime64[s]"))
    yyyymmdd = np.strings.add(np.strings.add(np.strings.slice(posted, 0, 4), np.strings.slice(posted, 5, 7)),
                              np.strings.slice(posted, 8, 10))
    content_id = np.strings.add(np.strings.add("c", yyyymmdd), np.strings.add("-", rng.integers(1, 4, n).astype(str)))
    seconds = np.clip(rng.lognormal(np.log(40), 0.9, n), 1, 3600).astype(np.int64)
    interactions = {
        "person": person,
        "event_type": event_type,
        "occurred_at": start + rng.integers(0, DAY, n),
        "content_id": content_id.astype(object),
        "seconds_read": np.where(event_type == "read", seconds, None),
    }
    follows = np.flatnonzero(_on_day(w.follow_at, start))
    unfollows = np.flatnonzero(_on_day(w.unfollow_at, start))
    events = concat(
        _lifecycle_events("follow", follows, w.follow_at[follows]),
        _lifecycle_events("unfollow", unfollows, w.unfollow_at[unfollows]),
        interactions,
    )
    events["openid"] = w.openid[events["person"]]
    events = take(events, np.lexsort((events["event_type"], events["openid"], events["occurred_at"])))
    events["occurred_at"] = iso_utc(events["occurred_at"])
    return events
