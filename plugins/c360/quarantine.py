"""Quarantined rows: see them with their reasons, and replay them once a rule or the data is fixed
(``c360 quarantine list|replay``).

Replay re-validates the rows still waiting in ``ops.quarantine`` with the
current suites and severities, grouped by the batch they came in. The rows that
now pass are loaded into ``raw`` as a new batch (in ``ops.batches``:
extracted = loaded, its logical date the original's) and linked to it through
``ops.quarantine.replayed_batch_id``; the rows that still fail stay with their
updated rule and reason. All of it is one transaction per original batch, and a
replayed row is never picked again, so replaying twice loads nothing twice.

Rows that could not be read from their file (``malformed_line``, ``encoding``)
are not replayed: their record is a best guess at a broken line; deliver the
file again, fixed.
"""
from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from c360.loader import Batch, audit, by_row, copy_rows, rows_to_load
from c360.parsing import RowFailure
from c360.raw_tables import RAW_TABLES
from c360.warehouse import Warehouse
from expectations.runner import record_results

log = logging.getLogger(__name__)
UNREADABLE = ("malformed_line", "encoding")


@dataclass(frozen=True)
class QuarantinedRow:
    batch_id: str
    raw_table: str
    row_number: int
    rule: str
    reason: str
    record: dict
    replayed_batch_id: str | None

    def shown(self) -> dict:
        """The record with personal values masked (they stay whole in ops.quarantine for replay)."""
        personal = set(RAW_TABLES[self.raw_table].personal) if self.raw_table in RAW_TABLES else set()
        return {k: ("<personal>" if k in personal else v) for k, v in self.record.items()}


def _filters(table: str | None, batch: str | None, rule: str | None = None) -> tuple[str, list]:
    """A where clause on ops.quarantine (as ``q``) and its parameters."""
    clauses, params = [], []
    for clause, value in (("q.raw_table = %s", table), ("q.batch_id = %s", batch),
                          ("%s = any(string_to_array(q.rule, ', '))", rule)):
        if value:
            clauses.append(clause)
            params.append(value)
    return (" and ".join(clauses) or "true"), params


def list_rows(warehouse: Warehouse, table: str | None = None, batch: str | None = None,
              rule: str | None = None) -> list[QuarantinedRow]:
    where, params = _filters(table, batch, rule)
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("select batch_id, raw_table, row_number, rule, reason, record, replayed_batch_id"
                    f" from ops.quarantine q where {where} order by quarantined_at, batch_id, row_number", params)
        return [QuarantinedRow(*row) for row in cur.fetchall()]


def format_rows(rows: list[QuarantinedRow]) -> str:
    waiting = [r for r in rows if r.replayed_batch_id is None]
    lines = [f"{r.batch_id} row {r.row_number} [{r.rule}]: {r.reason}\n    {json.dumps(r.shown())}" for r in waiting]
    per_rule = Counter(part for r in waiting for part in r.rule.split(", "))
    lines += ["", f"{len(waiting)} row(s) in quarantine" + (", by rule:" if per_rule else "")]
    lines += [f"  {rule:<48} {n:>8}" for rule, n in per_rule.most_common()]
    if replayed := len(rows) - len(waiting):
        lines.append(f"{replayed} more row(s) were replayed into raw (ops.quarantine.replayed_batch_id)")
    return "\n".join(lines)


@dataclass(frozen=True)
class Replay:
    batch_id: str  # the batch the rows came in
    replayed_batch_id: str | None  # the new batch the passing rows were loaded as
    loaded: int
    still_failing: int


def _waiting(cur, table: str | None, batch: str | None) -> dict[str, list[tuple]]:
    where, params = _filters(table, batch)
    cur.execute(
        "select q.batch_id, q.row_number, q.record, b.source, b.raw_table, b.logical_date"
        " from ops.quarantine q join ops.batches b using (batch_id)"
        f" where q.replayed_batch_id is null and not string_to_array(q.rule, ', ') && %s and {where}"
        " order by q.batch_id, q.row_number",
        [list(UNREADABLE), *params],
    )
    by_batch: dict[str, list[tuple]] = {}
    for row in cur.fetchall():
        by_batch.setdefault(row[0], []).append(row[1:])
    return by_batch


def replay(warehouse: Warehouse, table: str | None = None, batch: str | None = None) -> list[Replay]:
    """Re-validate the waiting rows of each original batch; load the ones that pass."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        batches = _waiting(cur, table, batch)
    return [_replay_batch(warehouse, batch_id, rows) for batch_id, rows in batches.items()]


def _replay_batch(warehouse: Warehouse, batch_id: str, rows: list[tuple]) -> Replay:
    row_numbers = [row_number for row_number, *_ in rows]
    _, _, source, raw_table, as_of = rows[0]
    frame = pd.DataFrame([record for _, record, *_ in rows], dtype="string")
    batch = Batch(source, RAW_TABLES[raw_table], frame, as_of)
    typed, failures, batch_failures, validation = audit(batch)
    if batch_failures:
        failures = [RowFailure(pos, "batch_rejected", f"batch rejected: {'; '.join(batch_failures)}")
                    for pos in range(len(frame))]
    failed = by_row(failures)
    good = typed.iloc[0:0] if batch_failures else rows_to_load(batch, typed, failed)
    digest = hashlib.sha256(f"{batch_id}|{good.index.map(row_numbers.__getitem__).tolist()}".encode()).hexdigest()
    new_id = f"{raw_table}-replay-{as_of:%Y%m%d}-{digest[:12]}" if len(good) else None

    with warehouse.connect() as conn, conn.cursor() as cur:
        if new_id:
            cur.execute(
                "insert into ops.batches (batch_id, source, raw_table, logical_date, status, rows_extracted,"
                " rows_loaded, rows_quarantined, checksum, message, finished_at)"
                " values (%s, %s, %s, %s, 'promoted', %s, %s, 0, %s, %s, now())",
                (new_id, source, raw_table, as_of, len(good), len(good), digest,
                 f"replay of {len(good)} quarantined row(s) of {batch_id}"),
            )
            copy_rows(cur, batch.table, good, new_id)
            cur.execute("update ops.quarantine set replayed_batch_id = %s where batch_id = %s and row_number = any(%s)",
                        (new_id, batch_id, [row_numbers[pos] for pos in good.index]))
        cur.executemany(
            "update ops.quarantine set rule = %s, reason = %s where batch_id = %s and row_number = %s",
            [(", ".join(sorted({f.rule for f in fs})), "; ".join(f.reason for f in fs), batch_id, row_numbers[pos])
             for pos, fs in failed.items()],
        )
        if validation is not None:
            record_results(cur, f"replay-{uuid.uuid4().hex[:12]}", new_id, validation, as_of)
    log.info("replayed %s: %d loaded as %s, %d still failing", batch_id, len(good), new_id, len(failed))
    return Replay(batch_id, new_id, len(good), len(failed))
