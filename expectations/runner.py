"""Validate a batch with its Great Expectations suite and keep the results.

Column expectations that fail point at rows: with severity ``error`` those
rows are quarantined with the rule's name; table expectations that fail reject
the whole batch. ``warn`` failures are only recorded. Every outcome goes to
``ops.dq_results`` so data quality can be charted over time. Values of columns
holding personal data are never quoted in results or reasons.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import time
from dataclasses import dataclass, field

import pandas as pd

from c360.config import Workspace
from c360.parsing import RowFailure
from c360.raw_tables import RAW_TABLES
from expectations.catalog import raw_suite
from expectations.common import BatchWindow
from expectations.row_counts import RowCountBounds, row_count_expectation
from expectations.severities import apply_overrides, load_overrides

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    observed: str | None
    unexpected_count: int | None
    failed_rows: tuple[int, ...] = ()
    reason: str | None = None  # what the expectation wanted, when its arguments do not say (learned bounds)


@dataclass
class Validation:
    suite: str
    outcomes: list[Outcome] = field(default_factory=list)
    personal: frozenset[str] = frozenset()  # columns whose values are never quoted
    result: dict | None = None  # GX's own result, as Data Docs render it (no personal values, no row lists)
    seconds: float | None = None  # what validating took: GX's cost per batch

    @property
    def success(self) -> bool:
        return all(o.success or o.severity != "error" for o in self.outcomes)

    @property
    def batch_failures(self) -> list[str]:
        return [
            f"{o.expectation}" + (f" on {o.column}" if o.column else "") + (f": {o.observed}" if o.observed else "")
            + (f" ({o.reason})" if o.reason else "")
            for o in self.outcomes
            if not o.success and o.severity == "error" and not o.failed_rows
        ]

    def row_failures(self, frame: pd.DataFrame) -> list[RowFailure]:
        """Rows that failed an error-severity column expectation, with the value that failed."""
        failures = []
        for o in self.outcomes:
            if o.success or o.severity != "error":
                continue
            values = frame[o.column] if o.column in frame.columns and o.column not in self.personal else None
            for row in o.failed_rows:
                value = "" if values is None else f"={values.iloc[row]!s:.80}"
                failures.append(RowFailure(row, f"{o.expectation}:{o.column}", f"{o.column}{value} failed {o.expectation}"))
        return failures


@functools.lru_cache(maxsize=1)
def _context():
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    return context


def _batch_for(frame: pd.DataFrame):
    context = _context()
    try:
        source = context.data_sources.get("c360_batches")
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas("c360_batches")
    try:
        asset = source.get_asset("frame")
    except (LookupError, ValueError):
        asset = source.add_dataframe_asset("frame")
    try:
        definition = asset.get_batch_definition("whole")
    except (KeyError, ValueError):
        definition = asset.add_batch_definition_whole_dataframe("whole")
    return definition.get_batch(batch_parameters={"dataframe": frame})


def suite_with_severities(suite_name: str, expectations: list):
    """The suite, with the severities the workspace's ``expectations.yml`` sets."""
    import great_expectations as gx

    overrides = load_overrides(Workspace.from_env().home)
    return gx.ExpectationSuite(name=suite_name, expectations=apply_overrides(suite_name, expectations, overrides))


# per-row lists are large and only mean something while the batch is in memory
ROW_LISTS = ("unexpected_list", "unexpected_index_list", "unexpected_index_query")
SAMPLES = ("partial_unexpected_list", "partial_unexpected_counts")


def _kept_result(result, personal: frozenset[str]) -> dict:
    """GX's result as stored for Data Docs: without row lists, nor samples of personal columns."""
    document = result.to_json_dict()
    for r in document["results"]:
        column = r["expectation_config"]["kwargs"].get("column")
        for key in ROW_LISTS + (SAMPLES if column in personal else ()):
            (r.get("result") or {}).pop(key, None)
    return document


def validate_frame(suite_name: str, expectations: list, frame: pd.DataFrame,
                   personal: frozenset[str] = frozenset()) -> Validation:
    started = time.perf_counter()
    suite = suite_with_severities(suite_name, expectations)
    result = _batch_for(frame).validate(suite, result_format={"result_format": "COMPLETE"})
    return validation_from_result(suite_name, result, personal, time.perf_counter() - started)


def _samples(values: list) -> str:
    """A few failing values as a reader writes them: 'zombie', 9, 2026-03-30."""
    return "e.g. " + ", ".join(repr(v) if isinstance(v, str) else str(v) for v in dict.fromkeys(values[:3]))


def validation_from_result(suite_name: str, result, personal: frozenset[str] = frozenset(),
                           seconds: float | None = None) -> Validation:
    """Each expectation's outcome, with the severity it was validated with."""
    validation = Validation(suite_name, personal=personal, result=_kept_result(result, personal), seconds=seconds)
    for r in result.results:
        config = r.expectation_config
        res = r.result or {}
        errored = bool(r.exception_info and r.exception_info.get("raised_exception"))
        observed = res.get("observed_value")
        if errored:
            observed = r.exception_info.get("exception_message")
        elif observed is None and res.get("partial_unexpected_list"):
            observed = (f"{res.get('unexpected_count')} value(s), not shown: personal data"
                        if config.kwargs.get("column") in personal else _samples(res["partial_unexpected_list"]))
        validation.outcomes.append(Outcome(
            expectation=config.type,
            column=config.kwargs.get("column"),
            severity=(config.meta or {}).get("severity", "error"),
            success=bool(r.success),
            observed=None if observed is None else str(observed)[:500],
            unexpected_count=res.get("unexpected_count"),
            failed_rows=tuple(int(i) for i in res.get("unexpected_index_list") or ()),
            reason=(config.meta or {}).get("reason"),
        ))
    return validation


def validate_raw_batch(table_name: str, frame: pd.DataFrame, window: BatchWindow,
                       bounds: RowCountBounds | None = None) -> Validation:
    """Validate a typed batch of ``raw.<table_name>`` with its suite module, and its
    row count against the bounds learned from recent batches (if any)."""
    expectations = raw_suite(table_name, window) + ([row_count_expectation(bounds)] if bounds else [])
    return validate_frame(f"raw.{table_name}", expectations, frame, frozenset(RAW_TABLES[table_name].personal))


def record_results(cur, run_id: str, batch_id: str | None, validation: Validation, as_of) -> None:
    """One row per expectation in ops.dq_results (for charting), and the whole result in
    ops.dq_runs (for the day's gate and Data Docs)."""
    cur.execute(
        "insert into ops.dq_runs (run_id, suite, batch_id, as_of_date, success, seconds, result)"
        " values (%s, %s, %s, %s, %s, %s, %s)",
        (run_id, validation.suite, batch_id, as_of, validation.success, validation.seconds,
         json.dumps(validation.result)),
    )
    rows = [
        (run_id, batch_id, validation.suite, o.expectation, o.column, o.severity, o.success, o.observed,
         o.unexpected_count)
        for o in validation.outcomes
    ]
    cur.executemany(
        "insert into ops.dq_results (run_id, batch_id, suite, expectation, column_name, severity, success,"
        " observed_value, unexpected_count) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        rows,
    )
