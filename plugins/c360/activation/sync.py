"""Sync audiences: select members, apply the contact rules, hold out a control
group, diff against the last sync and send only the changes.

Re-running a date replaces that date's snapshot, file and log entry, so a
sync killed halfway and re-run sends the same changes once.
"""
from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from c360.activation.audiences import Audience
from c360.config import Workspace
from c360.warehouse import Warehouse

log = logging.getLogger(__name__)
SCORE_MODEL = "purchase_30d"

BASE_QUERY = """
select customers.customer_key, customers.email_sha256, customers.phone_sha256
from marts.dim_customers as customers
left join marts.customer_lifecycle as lifecycle on lifecycle.customer_key = customers.customer_key
left join marts.customer_rfm as rfm on rfm.customer_key = customers.customer_key
left join ml.propensity_scores as scores
    on scores.customer_key = customers.customer_key
    and scores.model_name = %s
    and scores.scored_for_date = %s
where {contact_rules}
  and {audience_rules}
"""

# Applied to every audience, whatever its definition says.
CONTACT_RULES = "customers.accepts_marketing and (customers.email_sha256 is not null or customers.phone_sha256 is not null)"


@dataclass
class SyncResult:
    audience: str
    in_audience: int
    holdout: int
    added: int
    updated: int
    removed: int
    location: str


def in_holdout(audience: str, customer_key: str, percent: float) -> bool:
    """Deterministic: the same person stays in (or out of) an audience's holdout on every run."""
    bucket = int(hashlib.sha256(f"{audience}:{customer_key}".encode()).hexdigest()[:8], 16) % 10_000
    return bucket < percent * 100


def _members(cur, audience: Audience, as_of: date) -> dict[str, tuple]:
    where, params = audience.where_sql()
    cur.execute(BASE_QUERY.format(contact_rules=CONTACT_RULES, audience_rules=where), [SCORE_MODEL, as_of, *params])
    return {key: (email, phone) for key, email, phone in cur.fetchall()}


def _previous_sync(cur, audience: str, as_of: date) -> dict[str, tuple]:
    cur.execute(
        "select customer_key, email_sha256, phone_sha256 from activation.audience_members"
        " where audience = %s and not is_holdout and as_of_date = ("
        "   select max(as_of_date) from activation.audience_members where audience = %s and as_of_date < %s)",
        (audience, audience, as_of),
    )
    return {key: (email, phone) for key, email, phone in cur.fetchall()}


def _write_changes(path: Path, fmt: str, changes: list[dict]) -> None:
    """Write atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="") as out:
        if fmt == "jsonl":
            for change in changes:
                out.write(json.dumps(change) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=["action", "customer_key", "email_sha256", "phone_sha256"])
            writer.writeheader()
            writer.writerows(changes)
    os.replace(tmp, path)


def sync_audience(warehouse: Warehouse, workspace: Workspace, audience: Audience, as_of: date) -> SyncResult:
    fmt = audience.destination.get("format", "csv")
    path = workspace.exports / audience.name / f"{audience.name}_{as_of:%Y-%m-%d}.{fmt}"
    with warehouse.connect() as conn, conn.cursor() as cur:
        members = _members(cur, audience, as_of)
        holdout = {k for k in members if in_holdout(audience.name, k, audience.holdout_percent)}
        synced = {k: v for k, v in members.items() if k not in holdout}
        previous = _previous_sync(cur, audience.name, as_of)

        changes = [{"action": "add", "customer_key": k, "email_sha256": v[0], "phone_sha256": v[1]}
                   for k, v in sorted(synced.items()) if k not in previous]
        changes += [{"action": "update", "customer_key": k, "email_sha256": v[0], "phone_sha256": v[1]}
                    for k, v in sorted(synced.items()) if k in previous and previous[k] != v]
        changes += [{"action": "remove", "customer_key": k, "email_sha256": v[0], "phone_sha256": v[1]}
                    for k, v in sorted(previous.items()) if k not in synced]
        _write_changes(path, fmt, changes)

        cur.execute("delete from activation.audience_members where audience = %s and as_of_date = %s",
                    (audience.name, as_of))
        cur.executemany(
            "insert into activation.audience_members values (%s, %s, %s, %s, %s, %s)",
            [(audience.name, as_of, k, k in holdout, v[0], v[1]) for k, v in members.items()],
        )
        counts = {a: sum(1 for c in changes if c["action"] == a) for a in ("add", "update", "remove")}
        cur.execute(
            "insert into ops.sync_log (sync_id, audience, destination, as_of_date, status, rows_in_audience,"
            " rows_added, rows_updated, rows_removed, holdout_size, location, finished_at)"
            " values (%s, %s, %s, %s, 'success', %s, %s, %s, %s, %s, %s, now())"
            " on conflict (sync_id) do update set status = excluded.status,"
            " rows_in_audience = excluded.rows_in_audience, rows_added = excluded.rows_added,"
            " rows_updated = excluded.rows_updated, rows_removed = excluded.rows_removed,"
            " holdout_size = excluded.holdout_size, location = excluded.location, finished_at = now()",
            (f"{audience.name}:file:{as_of}", audience.name, "file", as_of, len(members), counts["add"],
             counts["update"], counts["remove"], len(holdout), str(path)),
        )
    log.info("audience %s: %d members (%d held out), +%d ~%d -%d -> %s", audience.name, len(members), len(holdout),
             counts["add"], counts["update"], counts["remove"], path)
    return SyncResult(audience.name, len(members), len(holdout), counts["add"], counts["update"], counts["remove"],
                      str(path))
