"""Row-count bounds learned from a table's recent batches.

A channel's batches are about the same size from one day to the next, so a
batch far outside what the recent ones brought (a file cut off, an export run
twice over a month) is rejected as a whole. The bounds come from the recent
promoted batches of the same source and table in ``ops.batches``, delivered on
earlier days; there is no bound until there are batches from enough days (a
first load's chunks all share one day, so they alone never set a bound).
Replayed quarantine is not a delivery and never teaches a bound.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import great_expectations.expectations as gxe

RECENT_BATCHES = 30  # how many of the latest batches to learn from
MIN_DAYS = 5  # distinct earlier days needed before a bound applies
FACTOR = 10  # how far outside the recent range a batch may fall
SMALL = 100  # below this many rows, counts are too noisy to bound from above tightly


@dataclass(frozen=True)
class RowCountBounds:
    min_value: int
    max_value: int
    batches: int
    first_day: date
    last_day: date

    def describe(self) -> str:
        return (f"expected {self.min_value} to {self.max_value} rows, learned from {self.batches} batches"
                f" of {self.first_day} to {self.last_day}")


def learn_bounds(cur, source: str, raw_table: str, as_of: date) -> RowCountBounds | None:
    """Bounds for a batch of ``raw_table`` from ``source`` delivered on ``as_of``, or None without enough history."""
    cur.execute(
        "select logical_date, rows_extracted from ops.batches"
        " where source = %s and raw_table = %s and status = 'promoted' and logical_date < %s"
        " and batch_id not in (select replayed_batch_id from ops.quarantine where replayed_batch_id is not null)"
        " order by logical_date desc, started_at desc limit %s",
        (source, raw_table, as_of, RECENT_BATCHES),
    )
    history = cur.fetchall()
    days = {day for day, _ in history}
    if len(days) < MIN_DAYS:
        return None
    counts = [n for _, n in history]
    return RowCountBounds(min_value=math.floor(min(counts) / FACTOR), max_value=max(max(counts), SMALL) * FACTOR,
                          batches=len(counts), first_day=min(days), last_day=max(days))


def row_count_expectation(bounds: RowCountBounds):
    return gxe.ExpectTableRowCountToBeBetween(min_value=bounds.min_value, max_value=bounds.max_value,
                                              meta={"reason": bounds.describe()})
