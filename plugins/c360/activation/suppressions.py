"""The suppression list: people never to contact, whatever an audience says
(complaints, legal requests, staff, test accounts), in ``activation.suppressions``.

``c360 suppress FILE`` adds a CSV with a header naming one or more of
``customer_key``, ``email``, ``phone`` (E.164, e.g. +447700900123) and an
optional ``reason``. E-mail and phone are stored only as the SHA-256 of their
normalised value, the form the marts carry, so the list holds no clear text.
"""
from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

from psycopg2.extras import execute_values

from c360.warehouse import Warehouse

IDENTIFIERS = {"customer_key": "customer_key", "email": "email_sha256", "phone": "phone_sha256"}
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class SuppressionFileError(ValueError):
    pass


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _entries(row: dict, line: int) -> list[tuple[str, str]]:
    entries = []
    for column, kind in IDENTIFIERS.items():
        value = (row.get(column) or "").strip()
        if not value:
            continue
        if column == "email":
            value = _sha256(value.lower())  # normalize_email in dbt: lower(trim(...))
        elif column == "phone":
            if not E164.fullmatch(value):
                raise SuppressionFileError(f"line {line}: phone must be E.164 like +447700900123 (the form the"
                                           " warehouse hashes), not as written")
            value = _sha256(value)
        entries.append((kind, value))
    return entries


def add_suppressions(warehouse: Warehouse, path: Path) -> int:
    """Add every identifier in the file (a re-import updates reasons); returns how many."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not set(reader.fieldnames or ()) & set(IDENTIFIERS):
            raise SuppressionFileError(f"{path}: the header needs one of {', '.join(IDENTIFIERS)}")
        rows = {}
        for line, row in enumerate(reader, start=2):
            reason = (row.get("reason") or "").strip()[:200] or f"suppression list {path.name}"
            for kind, value in _entries(row, line):
                rows[(kind, value)] = (kind, value, reason)
    with warehouse.connect() as conn, conn.cursor() as cur:
        execute_values(cur, "insert into activation.suppressions (kind, value, reason) values %s on conflict"
                            " (kind, value) do update set reason = excluded.reason", list(rows.values()))
    return len(rows)
