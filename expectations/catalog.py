"""Every suite c360 validates with, by name: what a severities file may refer to."""
from __future__ import annotations

import importlib
from datetime import date

from c360.raw_tables import RAW_TABLES
from expectations.common import BatchWindow
from expectations.row_counts import RowCountBounds, row_count_expectation

# learned bounds are only known per batch; any stand in for them here
_SAMPLE_BOUNDS = RowCountBounds(0, 1, 1, date.min, date.min)


def raw_suite(table_name: str, window: BatchWindow) -> list:
    return importlib.import_module(f"expectations.{table_name}").build(window)


def all_suites() -> dict[str, list]:
    """Each suite's expectations as built for today (arguments vary by day; types and columns do not)."""
    window = BatchWindow(date.today())
    return {f"raw.{name}": raw_suite(name, window) + [row_count_expectation(_SAMPLE_BOUNDS)] for name in RAW_TABLES}
