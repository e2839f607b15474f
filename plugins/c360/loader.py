"""Write, audit, publish: one extracted batch into ``raw``, all or nothing.

A batch is typed, validated with its Great Expectations suite, and then, in a
single transaction, its good rows are copied into ``raw.<table>``, its bad rows
go to ``ops.quarantine`` with the reason, and its counts, data-quality results
and the source's new watermark are recorded. A task killed halfway leaves no
trace, so re-running it gives the same warehouse. Batch ids are derived from
the content, so a batch delivered twice is recognised and loaded once.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from c360.parsing import RowFailure, parse_batch
from c360.raw_tables import RawTable
from c360.warehouse import Warehouse
from expectations.common import BatchWindow
from expectations.row_counts import RowCountBounds, learn_bounds
from expectations.runner import Validation, record_results, validate_raw_batch

log = logging.getLogger(__name__)


class BatchRejected(RuntimeError):
    """A batch failed a batch-level rule; its rows are quarantined, nothing was loaded."""


@dataclass
class Batch:
    source: str
    table: RawTable
    frame: pd.DataFrame
    as_of: date
    watermark_from: str | None = None
    # advanced only when the batch is published: (cursor name, new value)
    watermark_to: tuple[str, str] | None = None
    # file drops: (file name, checksum) recorded in the manifest with the batch
    source_file: tuple[str, str] | None = None
    # rows the extractor could not read properly (e.g. a line with too many fields)
    read_failures: list[RowFailure] = field(default_factory=list)
    # all or nothing (a user's import): one bad row rejects the batch
    strict: bool = False

    def checksum(self) -> str:
        digest = hashlib.sha256()
        digest.update(f"{self.table.name}|{self.as_of}|{self.watermark_from}|".encode())
        if self.source_file:
            digest.update(self.source_file[1].encode())
        else:
            digest.update(self.frame.to_csv(index=False).encode())
        return digest.hexdigest()


@dataclass
class BatchResult:
    batch_id: str
    raw_table: str
    status: str
    rows_extracted: int
    rows_loaded: int
    rows_quarantined: int
    message: str | None = None
    failures: list[RowFailure] = field(default_factory=list)


def _existing(cur, batch_id: str) -> BatchResult | None:
    cur.execute(
        "select raw_table, status, rows_extracted, rows_loaded, rows_quarantined, message"
        " from ops.batches where batch_id = %s",
        (batch_id,),
    )
    row = cur.fetchone()
    return BatchResult(batch_id, *row) if row else None


def _missing_required(batch: Batch) -> list[str]:
    return [c.name for c in batch.table.columns if c.required and c.name not in batch.frame.columns]


def audit(batch: Batch, bounds: RowCountBounds | None = None
          ) -> tuple[pd.DataFrame, list[RowFailure], list[str], Validation | None]:
    """Type and validate a batch: (typed rows, row failures, batch failures, GX results)."""
    missing = _missing_required(batch)
    if missing:
        return batch.frame.iloc[0:0], [], [f"missing required column(s): {', '.join(missing)}"], None
    typed, failures = parse_batch(batch.frame, batch.table)
    failures = batch.read_failures + failures
    parsed_ok = sorted(set(range(len(typed))) - {f.row for f in failures})
    clean = typed.iloc[parsed_ok].reset_index(drop=True)
    validation = validate_raw_batch(batch.table.name, clean, BatchWindow(batch.as_of), bounds)
    failures += [RowFailure(parsed_ok[f.row], f.rule, f.reason) for f in validation.row_failures(clean)]
    return typed, failures, validation.batch_failures, validation


def _extras(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Each row's values of the columns the table does not know, as a JSON object (or null)."""
    values = frame[columns].astype("string")
    return pd.Series(
        [json.dumps({k: v for k, v in row.items() if not pd.isna(v)}) for row in values.to_dict("records")],
        index=frame.index,
    ).where(values.notna().any(axis=1), None)


def by_row(failures: list[RowFailure]) -> dict[int, list[RowFailure]]:
    """Each failing row's failures, by row position."""
    grouped: dict[int, list[RowFailure]] = {}
    for failure in failures:
        grouped.setdefault(failure.row, []).append(failure)
    return grouped


def rows_to_load(batch: Batch, typed: pd.DataFrame, failed_rows) -> pd.DataFrame:
    """The typed rows that did not fail, with their lineage and the columns the table does not know."""
    good = typed.drop(index=list(failed_rows))
    if batch.table.file_lineage:
        good = good.join(batch.frame[batch.table.lineage_columns])
    drift = batch.table.unknown_columns(batch.frame.columns)
    return good.assign(_extra=_extras(batch.frame, drift).reindex(good.index) if drift else None)


def copy_rows(cur, table: RawTable, rows: pd.DataFrame, batch_id: str) -> None:
    columns = table.column_names + table.lineage_columns + ["_extra"]
    cur.execute("select now()")  # the transaction's time: one _loaded_at for the whole batch
    out = rows[columns].copy()
    out["_batch_id"] = batch_id
    out["_loaded_at"] = cur.fetchone()[0].isoformat()
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, header=False, na_rep="\\N")
    buffer.seek(0)
    cur.copy_expert(
        f"copy {table.qualified} ({', '.join(columns + ['_batch_id', '_loaded_at'])}) from stdin"
        " with (format csv, null '\\N')",
        buffer,
    )


def _quarantine(cur, batch: Batch, batch_id: str, failures_by_row: dict[int, list[RowFailure]]) -> None:
    records = batch.frame.astype("string").where(batch.frame.notna(), None)
    rows = []
    for pos, failures in sorted(failures_by_row.items()):
        record = {k: v for k, v in records.iloc[pos].to_dict().items() if v is not None}
        rows.append((
            batch_id, batch.table.name, pos, json.dumps(record, default=str),
            ", ".join(sorted({f.rule for f in failures})), "; ".join(f.reason for f in failures),
        ))
    cur.executemany(
        "insert into ops.quarantine (batch_id, raw_table, row_number, record, rule, reason)"
        " values (%s, %s, %s, %s::jsonb, %s, %s)",
        rows,
    )


def _where(batch: Batch, failure: RowFailure) -> str:
    """A failure located in its file when the batch has lineage."""
    if "_source_line" in batch.frame.columns:
        return f"line {batch.frame['_source_line'].iloc[failure.row]}: {failure.reason}"
    return failure.reason


def publish_batch(warehouse: Warehouse, batch: Batch) -> BatchResult:
    """Validate and publish one batch; raise BatchRejected after recording a rejection."""
    batch_id = f"{batch.table.name}-{batch.as_of:%Y%m%d}-{batch.checksum()[:12]}"
    with warehouse.connect() as conn, conn.cursor() as cur:
        if (previous := _existing(cur, batch_id)) is not None:
            log.info("batch %s already recorded as %s; not loading it again", batch_id, previous.status)
            if previous.status == "rejected":
                raise BatchRejected(f"{batch_id} was rejected: {previous.message}")
            return previous
        bounds = learn_bounds(cur, batch.source, batch.table.name, batch.as_of)

    extracted = len(batch.frame)
    drift = batch.table.unknown_columns(batch.frame.columns)
    typed, failures, batch_failures, validation = audit(batch, bounds) if extracted else (batch.frame, [], [], None)
    if batch.strict and failures and not batch_failures:
        batch_failures = [f"{len({f.row for f in failures})} bad row(s), e.g. {_where(batch, failures[0])}"]
    if batch_failures:
        # a file that could not be read at all (say, JSON that is no array) says why
        status, message = "rejected", "; ".join(batch_failures + [f.reason for f in batch.read_failures[:1]])
        failures = [RowFailure(pos, "batch_rejected", f"batch rejected: {message}") for pos in range(extracted)]
    else:
        status, message = ("promoted" if extracted else "empty"), None
        if drift:
            message = f"new column(s) kept in _extra: {', '.join(map(str, drift))}"
            log.warning("%s: %s", batch.table.name, message)
    failures_by_row = by_row(failures)
    good = rows_to_load(batch, typed, failures_by_row) if status == "promoted" else typed.iloc[0:0]

    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "insert into ops.batches (batch_id, source, raw_table, logical_date, status, rows_extracted,"
            " rows_loaded, rows_quarantined, checksum, watermark_from, watermark_to, message)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (batch_id, batch.source, batch.table.name, batch.as_of, status, extracted, len(good),
             len(failures_by_row), batch.checksum(), batch.watermark_from,
             batch.watermark_to[1] if batch.watermark_to else None, message),
        )
        if len(good):
            copy_rows(cur, batch.table, good, batch_id)
        if failures_by_row:
            _quarantine(cur, batch, batch_id, failures_by_row)
        if validation is not None:
            record_results(cur, batch_id, batch_id, validation, batch.as_of)
        if status != "rejected" and batch.watermark_to:
            cur.execute(
                "insert into ops.watermarks (source, cursor_name, value, batch_id) values (%s, %s, %s, %s)"
                " on conflict (source, cursor_name) do update"
                " set value = excluded.value, batch_id = excluded.batch_id, updated_at = now()",
                (batch.source, batch.watermark_to[0], batch.watermark_to[1], batch_id),
            )
        if batch.source_file:
            cur.execute(
                "insert into ops.file_manifest (source, checksum, file_name, batch_id) values (%s, %s, %s, %s)",
                (batch.source, batch.source_file[1], batch.source_file[0], batch_id),
            )
        cur.execute("update ops.batches set finished_at = now() where batch_id = %s", (batch_id,))

    result = BatchResult(batch_id, batch.table.name, status, extracted, len(good), len(failures_by_row), message,
                         failures)
    if status == "rejected":
        raise BatchRejected(f"{batch_id} rejected, {extracted} rows quarantined: {message}")
    return result


def read_watermark(warehouse: Warehouse, source: str, cursor_name: str) -> str | None:
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("select value from ops.watermarks where source = %s and cursor_name = %s", (source, cursor_name))
        row = cur.fetchone()
        return row[0] if row else None


def loaded_checksums(warehouse: Warehouse, source: str) -> set[str]:
    """Checksums of files already published; a rejected file is not among them, so it keeps failing."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select m.checksum from ops.file_manifest m join ops.batches b using (batch_id)"
            " where m.source = %s and b.status <> 'rejected'",
            (source,),
        )
        return {row[0] for row in cur.fetchall()}
