"""Bring your own data: a CSV or Parquet file of transactions registered as a
source of the workspace (``c360 import-transactions``).

The user says which of their columns hold the customer, the time and the money
(an amount, or a quantity and a unit price). A row without an order id is an
order of its own; rows sharing an order id are one order; a negative amount is
a return. The whole file is checked when it is registered and again before each
load: any bad value stops it with the line and column named, and nothing of
the file is loaded until it is fixed.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from c360 import untrusted
from c360.extract import end_of_day

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
MAX_REPORTED = 10


class TransactionsFileError(ValueError):
    pass


@dataclass(frozen=True)
class TransactionsImport:
    """One registered file and how to read it (kept in sources.yaml under ``imports``)."""

    source: str
    path: Path
    customer_id: str
    ordered_at: str
    amount: str | None = None
    quantity: str | None = None
    unit_price: str | None = None
    order_id: str | None = None
    date_format: str | None = None

    def __post_init__(self):
        untrusted.name(self.source, "source name")
        untrusted.absolute_path(str(self.path), "transactions file")
        if Path(self.path).suffix.lower() not in SUFFIXES:
            raise TransactionsFileError(f"{self.path}: expected a .csv or .parquet file")
        if (self.amount is None) == (self.quantity is None and self.unit_price is None):
            raise TransactionsFileError("give either an amount column or both quantity and unit-price columns")
        if self.amount is None and (self.quantity is None or self.unit_price is None):
            raise TransactionsFileError("give both the quantity and the unit-price columns")
        for field_name, value in self.mapping().items():
            if not isinstance(value, str) or not value or any(ord(ch) < 32 for ch in value):
                raise TransactionsFileError(f"{field_name}: {value!r} is not a column name")
        if self.date_format is not None and (
                not isinstance(self.date_format, str) or "%" not in self.date_format
                or any(ord(ch) < 32 for ch in self.date_format)):
            raise TransactionsFileError(
                f"date format {self.date_format!r}: give strftime directives, for example %d/%m/%Y")

    def mapping(self) -> dict[str, str]:
        """Our field -> the user's column, for the columns that are given."""
        fields = ("customer_id", "ordered_at", "amount", "quantity", "unit_price", "order_id")
        return {f: getattr(self, f) for f in fields if getattr(self, f) is not None}

    def to_settings(self) -> dict:
        settings = {k: v for k, v in asdict(self).items() if v is not None and k != "source"}
        settings["path"] = str(self.path)
        return settings

    @classmethod
    def from_settings(cls, source: str, settings: object) -> "TransactionsImport":
        if not isinstance(settings, dict):
            raise TransactionsFileError(f"imports.{source}: expected a mapping of settings, got {type(settings).__name__}")
        known = {"path", "customer_id", "ordered_at", "amount", "quantity", "unit_price", "order_id", "date_format"}
        if set(settings) - known:
            raise TransactionsFileError(f"imports.{source}: unknown setting(s) {sorted(set(settings) - known)}")
        if "path" not in settings:
            raise TransactionsFileError(f"imports.{source}: no path")
        return cls(source=source, **{**settings, "path": Path(str(settings["path"]))})


def _read_raw(spec: TransactionsImport) -> tuple[pd.DataFrame, str]:
    """The file as text columns, and how its rows are called in messages ('line' or 'row')."""
    if not spec.path.is_file():
        raise TransactionsFileError(f"{spec.path}: no such file")
    try:
        if SUFFIXES[spec.path.suffix.lower()] == "parquet":
            frame = pd.read_parquet(spec.path)
            frame.index = frame.index + 1
            return frame, "row"
        frame = pd.read_csv(spec.path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise TransactionsFileError(f"{spec.path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except (ValueError, OSError) as err:  # pandas' parser errors name the line
        raise TransactionsFileError(f"{spec.path}: cannot be read: {err}") from None
    frame.index = frame.index + 2  # the header is line 1
    return frame, "line"


def read_transactions(spec: TransactionsImport) -> pd.DataFrame:
    """The file in our terms: one row per line, typed, with a stable ``transaction_id``;
    raises ``TransactionsFileError`` naming each bad line and column (the first few)."""
    raw, unit = _read_raw(spec)
    missing = [col for col in spec.mapping().values() if col not in raw.columns]
    if missing:
        raise TransactionsFileError(
            f"{spec.path}: no column(s) {', '.join(map(repr, missing))}; the file has {', '.join(map(repr, raw.columns))}")
    problems: list[tuple[int, str, str]] = []

    def text(field: str) -> pd.Series:
        return raw[spec.mapping()[field]].astype("string").str.strip().replace("", pd.NA)

    def check(values: pd.Series, bad: pd.Series, field: str, what: str) -> None:
        for line in values.index[bad.to_numpy()]:
            problems.append((int(line), spec.mapping()[field], f"{str(raw.at[line, spec.mapping()[field]])[:60]!r} {what}"))

    customer = text("customer_id")
    check(customer, customer.isna(), "customer_id", "is empty: every transaction needs a customer")

    when_text = text("ordered_at")
    if spec.date_format:
        when = pd.to_datetime(when_text, format=spec.date_format, errors="coerce")
    else:
        when = pd.to_datetime(when_text, format="ISO8601", errors="coerce", utc=True)
    if getattr(when.dt, "tz", None) is None:
        when = when.dt.tz_localize("UTC")  # a time without a zone is UTC
    when = when.dt.tz_convert("UTC")
    check(when_text, when.isna(), "ordered_at", f"is not a date{f' in the format {spec.date_format}' if spec.date_format else ' (YYYY-MM-DD, or give --date-format)'}")

    def number(field: str) -> pd.Series:
        values = pd.to_numeric(text(field), errors="coerce")
        check(values, values.isna() | ~np.isfinite(values.fillna(0)), field, "is not a number")
        return values

    if spec.amount:
        amount = number("amount")
    else:
        amount = number("quantity") * number("unit_price")
    order_id = text("order_id") if spec.order_id else pd.Series(pd.NA, index=raw.index, dtype="string")

    if problems:
        problems.sort()
        listed = "\n".join(f"  {unit} {n}, column {col!r}: {why}" for n, col, why in problems[:MAX_REPORTED])
        more = f"\n  ... and {len(problems) - MAX_REPORTED} more" if len(problems) > MAX_REPORTED else ""
        raise TransactionsFileError(f"{spec.path}: {len(problems)} bad value(s); nothing was imported:\n{listed}{more}")

    out = pd.DataFrame({
        "source": spec.source,
        "order_id": order_id,
        "customer_id": customer,
        "ordered_at": when,
        "amount": amount.round(2),
        "_source_file": spec.path.name,
        "_source_line": raw.index.astype("int64"),
    })
    out["transaction_id"] = _transaction_ids(out)
    return out.reset_index(drop=True)


def _transaction_ids(frame: pd.DataFrame) -> pd.Series:
    """Stable across re-imports of a grown file: a hash of the row's values and how
    many identical rows came before it (so true duplicates stay distinct)."""
    parts = [frame[c].astype("string").fillna("") for c in ("customer_id", "ordered_at", "amount", "order_id")]
    content = parts[0].str.cat(parts[1:], sep="|")
    digest = content.map(lambda text: hashlib.sha256(text.encode()).hexdigest()[:24])
    return digest + "-" + digest.groupby(digest).cumcount().astype(str)


def rows_through(frame: pd.DataFrame, after: str | None, as_of: date) -> pd.DataFrame:
    """The transactions a run for ``as_of`` has not loaded yet: after the previous
    bound, up to the end of the as-of day."""
    upper = pd.Timestamp(end_of_day(as_of))
    keep = frame["ordered_at"] < upper
    if after:
        keep &= frame["ordered_at"] >= pd.Timestamp(after)
    return frame[keep].reset_index(drop=True)
