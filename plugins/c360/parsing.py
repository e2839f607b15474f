"""Typing a batch: turn extracted values into the raw table's column types.

A value that is present but does not parse is a row-level failure with a
reason that names the column and the value (unless the column holds personal
data); it is never silently nulled.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from c360.raw_tables import RawTable

_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


@dataclass(frozen=True)
class RowFailure:
    row: int  # position in the batch
    rule: str
    reason: str


def _is_blank(values: pd.Series) -> pd.Series:
    return values.isna() | values.astype("string").str.strip().eq("").fillna(True)


def _coerce(values: pd.Series, kind: str) -> pd.Series:
    if kind in ("bigint", "int"):
        numbers = pd.to_numeric(values, errors="coerce")
        whole = numbers.where(np.isclose(numbers.fillna(0) % 1, 0))
        return whole.astype("Int64")
    if kind == "numeric":
        return pd.to_numeric(values, errors="coerce").round(2)
    if kind == "timestamptz":
        as_text = values.astype("string").str.strip()
        return pd.to_datetime(as_text, errors="coerce", utc=True, format="ISO8601")
    if kind == "boolean":
        if pd.api.types.is_bool_dtype(values):
            return values.astype("boolean")
        lowered = values.astype("string").str.strip().str.lower()
        return lowered.map(lambda v: True if v in _TRUE else False if v in _FALSE else pd.NA).astype("boolean")
    return values.astype("string")


def parse_batch(frame: pd.DataFrame, table: RawTable) -> tuple[pd.DataFrame, list[RowFailure]]:
    """Typed copy of ``frame`` with exactly the table's columns, plus parse failures.

    Missing optional columns become null; a missing required column stays
    missing, so the table-level expectation rejects the batch and names it.
    """
    typed = pd.DataFrame(index=frame.index)
    failures: list[RowFailure] = []
    for column in table.columns:
        if column.name not in frame.columns:
            if column.required:
                continue
            typed[column.name] = pd.Series(pd.NA, index=frame.index, dtype="object")
            typed[column.name] = _coerce(typed[column.name], column.kind)
            continue
        raw = frame[column.name]
        blank = _is_blank(raw)
        coerced = _coerce(raw.where(~blank, None), column.kind)
        if column.kind == "text":
            coerced = coerced.where(~blank, pd.NA)
        bad = coerced.isna() & ~blank
        for pos in np.flatnonzero(bad.to_numpy()):
            shown = "the value" if column.name in table.personal else repr(str(raw.iloc[pos])[:80])
            failures.append(RowFailure(
                int(pos), f"parse:{column.name}", f"column {column.name}: {shown} is not a valid {column.kind}",
            ))
        typed[column.name] = coerced
    return typed.reset_index(drop=True), failures
