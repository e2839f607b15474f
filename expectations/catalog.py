"""Every suite c360 validates with, by name: what a severities file may refer to."""
from __future__ import annotations

import importlib
from datetime import date

from c360.raw_tables import RAW_TABLES
from expectations.common import BatchWindow
from expectations.row_counts import RowCountBounds, row_count_expectation

# learned bounds are only known per batch; any stand in for them here
_SAMPLE_BOUNDS = RowCountBounds(0, 1, 1, date.min, date.min)


# mart and score suites: name -> module (TABLE, build(as_of), optional DATE_COLUMN holding the day)
MART_SUITES = {
    "marts.dim_customers": "expectations.marts_dim_customers",
    "marts.customer_rfm": "expectations.marts_customer_rfm",
    "marts.customer_lifecycle": "expectations.marts_customer_lifecycle",
    "ml.propensity_scores": "expectations.ml_propensity_scores",
}


def mart_suite(name: str):
    return importlib.import_module(MART_SUITES[name])


def raw_suite(table_name: str, window: BatchWindow) -> list:
    return importlib.import_module(f"expectations.{table_name}").build(window)


def all_suites() -> dict[str, list]:
    """Each suite's expectations as built for today (arguments vary by day; types and columns do not)."""
    window = BatchWindow(date.today())
    suites = {f"raw.{name}": raw_suite(name, window) + [row_count_expectation(_SAMPLE_BOUNDS)] for name in RAW_TABLES}
    return suites | {name: mart_suite(name).build(window.as_of) for name in MART_SUITES}
