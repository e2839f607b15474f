"""Tables as dicts of equal-length numpy arrays.

A simulated day is many small batches; pandas' fixed cost per operation
dominated at 2,000 people. Plain arrays stay cheap there and vectorised at
a million. ``None`` in an object column is a missing value.
"""
from __future__ import annotations

import csv
import io

import numpy as np

Table = dict[str, np.ndarray]


def length(table: Table) -> int:
    return len(next(iter(table.values())))


def concat(*tables: Table) -> Table:
    return {name: np.concatenate([t[name] for t in tables]) for name in tables[0]}


def take(table: Table, index: np.ndarray) -> Table:
    return {name: values[index] for name, values in table.items()}


def nulls(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


def csv_text(table: Table, columns: list[str], header: bool = True) -> str:
    """CSV with '\\n' line ends; None is an empty field."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(columns)
    writer.writerows(zip(*(table[c].tolist() for c in columns)))  # Python values format much faster
    return out.getvalue()


def records(table: Table, columns: list[str]) -> list[tuple]:
    """Rows of plain Python values (sqlite3 binds no numpy scalars)."""
    return list(zip(*(table[c].tolist() for c in columns)))
