"""Channel 2: the stores' tills drop one CSV per store per day.

A day's file is a pure function of the world and the week before it (returns
point back at sales up to a week earlier), so files are simply rewritten,
byte for byte, whenever a day is (re)materialised. Receipt numbers run per
store and day in time order, across sales and returns.
"""
from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from c360.simulator.tables import Table, concat, csv_text, take
from c360.simulator.world import (
    DAY, PHONE_FORMATS, STORE_CLOSES, STORE_OPENS, DayPurchases, Stream, World,
    day_rng, day_start, digits, format_phone, money, store_utc_offset,
)

COLUMNS = ["receipt_id", "store_id", "purchased_at", "member_card_no", "phone", "total_amount",
           "transaction_type", "original_receipt_id"]
ANONYMOUS_SHARE = 0.15
SHOWS_CARD = 0.95  # a member who identifies usually shows the card...
ALSO_PHONE = 0.35  # ...and sometimes gives the phone number too
RETURN_SHARE = 0.04
RETURN_AFTER_DAYS = (2, 7)
GZIP_SHARE = 0.2


def store_ids(stores: int) -> list[str]:
    return [f"S{i:02d}" for i in range(1, stores + 1)]


def file_name(store_id: str, day: date, gzipped: bool) -> str:
    return f"pos_{store_id}_{day.isoformat()}.csv" + (".gz" if gzipped else "")


def _offset_text(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    return f"{sign}{abs(seconds) // 3600:02d}:{abs(seconds) % 3600 // 60:02d}"


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class PosDrops:
    """Store sales and returns per day, with receipt numbers, cached over a sliding fortnight."""

    def __init__(self, world: World, purchases: Callable[[date], DayPurchases]):
        self.world = world
        self.purchases = purchases
        self.stores = np.array(store_ids(world.settings.stores))
        self._sales: dict[date, Table] = {}
        self._numbered: dict[date, Table] = {}

    def write_day(self, day: date, landing: Path) -> dict[str, int]:
        tx = self._receipts(day)
        rng = np.random.default_rng([self.world.settings.seed, day.toordinal(), int(Stream.POS_FILES)])
        gzipped = rng.random(self.stores.size) < GZIP_SHARE
        for store, store_id in enumerate(self.stores):
            text = csv_text(take(tx, tx["store"] == store), COLUMNS).encode()
            data = gzip.compress(text, mtime=0) if gzipped[store] else text  # mtime=0: same bytes every time
            write_atomically(Path(landing) / store_id / file_name(store_id, day, gzipped[store]), data)
        for cache in (self._sales, self._numbered):
            for old in [d for d in cache if d < day - timedelta(days=2 * RETURN_AFTER_DAYS[1])]:
                del cache[old]
        returns = int(tx["is_return"].sum())
        sales = int(tx["is_return"].size) - returns
        return {"files_written": int(self.stores.size), "sales": sales, "returns": returns}

    def _receipts(self, day: date) -> Table:
        """The day's transactions as they appear in the files, in receipt order."""
        tx = self._numbered_day(day)
        tx = take(tx, np.argsort(tx["receipt_id"], kind="stable"))
        offset = store_utc_offset(day)
        local = np.datetime_as_string((tx["at"] + offset).astype("datetime64[s]"))
        original = np.full(tx["at"].size, None, dtype=object)
        for origin_day in np.unique(tx["origin_day"][tx["is_return"]]):
            mine = tx["is_return"] & (tx["origin_day"] == origin_day)
            sale_ids = self._numbered_day(date.fromordinal(int(origin_day)))["receipt_id"]
            original[mine] = sale_ids[tx["origin_row"][mine]]
        return {
            **tx,
            "store_id": self.stores[tx["store"]],
            "purchased_at": np.strings.add(local, _offset_text(offset)),
            "total_amount": money(tx["pence"]),
            "transaction_type": np.where(tx["is_return"], "return", "sale"),
            "original_receipt_id": original,
        }

    def _numbered_day(self, day: date) -> Table:
        """Sales (rows 0..n-1, in _sales_day order) then returns of the day, with receipt ids."""
        if day not in self._numbered:
            sales = self._sales_day(day)
            n = sales["at"].size
            tx = concat(
                {**sales, "is_return": np.zeros(n, dtype=bool),
                 "origin_day": np.full(n, day.toordinal()), "origin_row": np.arange(n)},
                *(self._returns_from(day - timedelta(days=lag), lag)
                  for lag in range(RETURN_AFTER_DAYS[0], RETURN_AFTER_DAYS[1] + 1)),
            )
            order = np.lexsort((tx["person"], tx["is_return"], tx["at"], tx["store"]))
            store = tx["store"][order]
            seq = np.arange(order.size) - np.searchsorted(store, store) + 1
            receipt_id = np.empty(order.size, dtype=object)
            receipt_id[order] = np.strings.add(np.strings.add(self.stores[store], f"-{day:%Y%m%d}-"), digits(seq, 5))
            self._numbered[day] = {**tx, "receipt_id": receipt_id}
        return self._numbered[day]

    def _returns_from(self, sale_day: date, lag: int) -> Table:
        sales = self._sales_day(sale_day)
        back = np.flatnonzero(sales["return_lag"] == lag)
        returned = take(sales, back)
        return {**returned, "at": returned["return_at"], "is_return": np.ones(back.size, dtype=bool),
                "origin_day": np.full(back.size, sale_day.toordinal()), "origin_row": back}

    def _sales_day(self, day: date) -> Table:
        if day not in self._sales:
            self._sales[day] = self._draw_sales(day)
        return self._sales[day]

    def _draw_sales(self, day: date) -> Table:
        """Store sales of one day, how the customer identified, and whether (and when) it comes back."""
        w = self.world
        p = self.purchases(day).store_sales()
        person, at, m = p.person, p.at, p.person.size
        rng = day_rng(w.settings.seed, day, Stream.POS)
        anonymous = rng.random(m) < ANONYMOUS_SHARE
        carded = w.is_member[person] & (w.signup_at[person] <= at)
        shows_card = ~anonymous & carded & (rng.random(m) < SHOWS_CARD)
        shows_phone = ~anonymous & (~shows_card | (rng.random(m) < ALSO_PHONE))
        phone = format_phone(w.phone[person], rng.integers(0, PHONE_FORMATS, m))
        lag = np.where(rng.random(m) < RETURN_SHARE, rng.integers(RETURN_AFTER_DAYS[0], RETURN_AFTER_DAYS[1] + 1, m), 0)
        offsets = np.array([store_utc_offset(day + timedelta(days=k)) for k in range(RETURN_AFTER_DAYS[1] + 1)])
        return_at = day_start(day) + lag * DAY + rng.integers(STORE_OPENS, STORE_CLOSES, m) - offsets[lag]
        return {
            "store": p.store,
            "person": person,
            "at": at,
            "member_card_no": np.where(shows_card, w.member_card_no[person], None),
            "phone": np.where(shows_phone, phone, None),
            "pence": p.pence,
            "return_lag": lag,
            "return_at": return_at,
        }
