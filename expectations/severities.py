"""Severities a user sets: ``$C360_HOME/expectations.yml``.

Each expectation carries a severity in its suite: ``error`` (rows failing it
are quarantined, a failing table-level one rejects the batch or, on a mart,
stops the audience sync) or ``warn`` (recorded only). The file overrides them
by suite and expectation type, for every column or for one:

    raw.app_events:
      expect_column_values_to_be_in_set:
        platform: error          # one column
    raw.shop_orders:
      expect_table_row_count_to_be_between: warn    # every expectation of the type

No file means the suites' own severities. The file is checked against the
suites: an unknown suite, expectation, column or severity is an error naming it.
"""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

from expectations.catalog import all_suites

SEVERITIES = ("warn", "error")
FILE_NAME = "expectations.yml"

# (suite, expectation type, column or None for every column) -> severity
Overrides = dict[tuple[str, str, str | None], str]


class SeveritiesError(ValueError):
    pass


def _severity(value, where: str) -> str:
    if value not in SEVERITIES:
        raise SeveritiesError(f"{where}: severity {value!r} is not one of {', '.join(SEVERITIES)}")
    return value


def parse_overrides(document, source: str = FILE_NAME) -> Overrides:
    """Check a severities document against the suites and return its overrides."""
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise SeveritiesError(f"{source}: expected a mapping of suite names, got {type(document).__name__}")
    suites = {name: {(e.expectation_type, getattr(e, "column", None)) for e in expectations}
              for name, expectations in all_suites().items()}
    overrides: Overrides = {}
    for suite, by_type in document.items():
        if suite not in suites:
            raise SeveritiesError(f"{source}: unknown suite {suite!r}; the suites are {', '.join(sorted(suites))}")
        if not isinstance(by_type, dict):
            raise SeveritiesError(f"{source}: {suite}: expected expectation types, got {by_type!r}")
        for kind, setting in by_type.items():
            columns = {column for k, column in suites[suite] if k == kind}
            if not columns:
                known = sorted({k for k, _ in suites[suite]})
                raise SeveritiesError(f"{source}: {suite} has no expectation {kind!r}; it has {', '.join(known)}")
            where = f"{source}: {suite}.{kind}"
            if not isinstance(setting, dict):
                overrides[(suite, kind, None)] = _severity(setting, where)
                continue
            for column, severity in setting.items():
                if column not in columns:
                    raise SeveritiesError(f"{where} has no column {column!r}; its columns are"
                                          f" {', '.join(sorted(c for c in columns if c))}")
                overrides[(suite, kind, column)] = _severity(severity, f"{where}.{column}")
    return overrides


@functools.lru_cache(maxsize=4)
def _read(path: Path, modified_ns: int) -> Overrides:
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise SeveritiesError(f"{path} is not valid YAML: {err}") from None
    return parse_overrides(document, str(path))


def load_overrides(home: Path) -> Overrides:
    """The workspace's overrides (none without a file); read again when the file changes."""
    path = home / FILE_NAME
    return _read(path, path.stat().st_mtime_ns) if path.exists() else {}


def apply_overrides(suite: str, expectations: list, overrides: Overrides) -> list:
    """The expectations with their severities as the user set them (a column's own setting wins)."""
    for e in expectations:
        kind, column = e.expectation_type, getattr(e, "column", None)
        severity = overrides.get((suite, kind, column)) or overrides.get((suite, kind, None))
        if severity:
            e.meta = {**(e.meta or {}), "severity": severity}
    return expectations
