"""Expectations every raw table shares, derived from its column spec."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import great_expectations.expectations as gxe

from c360.raw_tables import RAW_TABLES

WARN = {"severity": "warn"}


@dataclass(frozen=True)
class BatchWindow:
    """The time a batch may talk about: not in the future of its as-of day,
    not absurdly old."""

    as_of: date
    oldest: date = date(2000, 1, 1)

    @property
    def latest(self) -> datetime:
        # one day of slack for clocks and time zones ahead of UTC
        return datetime.combine(self.as_of + timedelta(days=2), time.min, tzinfo=timezone.utc)

    @property
    def earliest(self) -> datetime:
        return datetime.combine(self.oldest, time.min, tzinfo=timezone.utc)


def key_expectations(table_name: str) -> list:
    """Required columns present and not null; the key unique within the batch."""
    table = RAW_TABLES[table_name]
    required = [c.name for c in table.columns if c.required]
    checks: list = [gxe.ExpectTableColumnsToMatchSet(column_set=required, exact_match=False)]
    checks += [gxe.ExpectColumnValuesToNotBeNull(column=name) for name in required]
    if len(table.key) == 1:
        checks.append(gxe.ExpectColumnValuesToBeUnique(column=table.key[0]))
    return checks


def timestamps_in_window(columns: list[str], window: BatchWindow) -> list:
    return [
        gxe.ExpectColumnValuesToBeBetween(column=c, min_value=window.earliest, max_value=window.latest)
        for c in columns
    ]


def key_columns(key: str) -> list:
    """A mart's key: on every row, once."""
    return [gxe.ExpectColumnValuesToNotBeNull(column=key), gxe.ExpectColumnValuesToBeUnique(column=key)]
