"""Sync audiences: select members, apply the contact rules, hold out a control
group, and send each destination only what changed since what it holds.

What a destination holds is ``activation.destination_state``, updated as each
batch is acknowledged. Every batch is written to ``activation.sync_batches``
(status ``pending``) before it is sent and marked ``delivered`` in the same
transaction that updates the state. So a sync killed anywhere and re-run first
resends its unacknowledged batch under the same idempotency key (the
destination ignores it if it had arrived), then sends the rest once: every
change is delivered exactly once. Rows a destination rejects are recorded on
their batch and, not being in the state, are sent again by the next sync.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date

from psycopg2.extras import execute_values

from c360.activation.audiences import Audience
from c360.activation.destinations import Batch, DeliveryFailed, destination_for
from c360.activation.rules import EXCLUSION_RULES, ContactRules, matches_query
from c360.config import Workspace
from c360.ddl import audience_entries_from_members
from c360.warehouse import Warehouse

log = logging.getLogger(__name__)
SCORE_MODEL = "purchase_30d"


@dataclass
class SyncResult:
    audience: str
    destination: str
    in_audience: int  # eligible members: synced and held out
    holdout: int
    added: int
    updated: int
    removed: int
    rejected: int
    excluded: dict[str, int] = field(default_factory=dict)


def in_holdout(audience: str, customer_key: str, percent: float) -> bool:
    """Deterministic: the same person stays in (or out of) an audience's holdout on every run."""
    bucket = int(hashlib.sha256(f"{audience}:{customer_key}".encode()).hexdigest()[:8], 16) % 10_000
    return bucket < percent * 100


@dataclass(frozen=True)
class Selection:
    synced: dict[str, tuple]  # customer_key -> (email_sha256, phone_sha256)
    holdout: dict[str, tuple]
    excluded: dict[str, int]


def select_members(cur, audience: Audience, rules: ContactRules, as_of: date, held: set[str]) -> Selection:
    """The audience's matches split into synced, held out and excluded (by rule).
    ``held``: who the destination holds already; the contact cap only stops new adds."""
    where, params = audience.where_sql()
    cur.execute(*matches_query(where, rules, as_of, SCORE_MODEL, params))
    synced, holdout, excluded = {}, {}, dict.fromkeys(EXCLUSION_RULES, 0)
    for key, email, phone, excluded_by, recent_contacts in cur.fetchall():
        if excluded_by is None and key not in held and recent_contacts >= rules.max_contacts:
            excluded_by = "capped"  # before the split: the holdout must be people who would have been sent
        if excluded_by is not None:
            excluded[excluded_by] += 1
        elif in_holdout(audience.name, key, audience.holdout_percent):
            holdout[key] = (email, phone)
        else:
            synced[key] = (email, phone)
    return Selection(synced, holdout, excluded)


def _held(cur, audience: str, destination: str) -> dict[str, tuple]:
    cur.execute("select customer_key, email_sha256, phone_sha256 from activation.destination_state"
                " where audience = %s and destination = %s", (audience, destination))
    return {key: (email, phone) for key, email, phone in cur.fetchall()}


def diff(wanted: dict[str, tuple], held: dict[str, tuple]) -> list[dict]:
    """Adds, updates and removes that turn what is held into what is wanted, in a stable order."""
    def change(action, key, contact):
        return {"action": action, "customer_key": key, "email_sha256": contact[0], "phone_sha256": contact[1]}

    return ([change("add", k, v) for k, v in sorted(wanted.items()) if k not in held]
            + [change("update", k, v) for k, v in sorted(wanted.items()) if k in held and held[k] != v]
            + [change("remove", k, v) for k, v in sorted(held.items()) if k not in wanted])


def _record_pending(warehouse: Warehouse, audience: str, destination: str, as_of: date, changes: list[dict]) -> Batch:
    """Write the batch down before sending it: the key a re-run resends it under."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("select coalesce(max(sequence), 0) + 1 from activation.sync_batches"
                    " where audience = %s and destination = %s", (audience, destination))
        sequence = cur.fetchone()[0]
        key = hashlib.sha256(f"{audience}|{destination}|{sequence}".encode()).hexdigest()
        cur.execute("insert into activation.sync_batches (audience, destination, sequence, idempotency_key,"
                    " as_of_date, changes, status) values (%s, %s, %s, %s, %s, %s, 'pending')",
                    (audience, destination, sequence, key, as_of, json.dumps(changes)))
    return Batch(audience, sequence, key, as_of.isoformat(), changes)


def _pending(warehouse: Warehouse, audience: str, destination: str) -> list[Batch]:
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("select sequence, idempotency_key, as_of_date, changes from activation.sync_batches"
                    " where audience = %s and destination = %s and status = 'pending' order by sequence",
                    (audience, destination))
        return [Batch(audience, seq, key, day.isoformat(), changes) for seq, key, day, changes in cur.fetchall()]


def _deliver(warehouse: Warehouse, sender, destination: str, batch: Batch) -> None:
    """Send one batch; on acknowledgement, apply what was accepted to the state, count
    the adds as contacts and mark the batch delivered, in one transaction."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("update activation.sync_batches set attempts = attempts + 1 where idempotency_key = %s",
                    (batch.idempotency_key,))
    rejected = sender.send(batch)
    refused = {r.customer_key for r in rejected}
    accepted = [c for c in batch.changes if c["customer_key"] not in refused]
    upserts = [(batch.audience, destination, c["customer_key"], c["email_sha256"], c["phone_sha256"], batch.as_of)
               for c in accepted if c["action"] != "remove"]
    removes = [(batch.audience, destination, c["customer_key"]) for c in accepted if c["action"] == "remove"]
    with warehouse.connect() as conn, conn.cursor() as cur:
        execute_values(
            cur, "insert into activation.destination_state values %s"
            " on conflict (audience, destination, customer_key) do update set email_sha256 = excluded.email_sha256,"
            " phone_sha256 = excluded.phone_sha256, synced_on = excluded.synced_on", upserts, page_size=10_000)
        execute_values(cur, "delete from activation.destination_state as state using (values %s) as gone (a, d, k)"
                            " where (state.audience, state.destination, state.customer_key) = (gone.a, gone.d, gone.k)",
                       removes, page_size=10_000)
        execute_values(cur, "insert into activation.contacts values %s on conflict do nothing",
                       [(c["customer_key"], batch.audience, batch.as_of) for c in accepted if c["action"] == "add"],
                       page_size=10_000)
        cur.execute("update activation.sync_batches set status = 'delivered', delivered_at = now(), rejected = %s"
                    " where idempotency_key = %s",
                    (json.dumps([vars(r) for r in rejected]), batch.idempotency_key))
    if rejected:
        log.warning("%s rejected %d row(s) of batch %d of %s (resent by the next sync), e.g. %s",
                    destination, len(rejected), batch.sequence, batch.audience, rejected[0])


def _record_members(cur, audience: str, as_of: date, selection: Selection) -> None:
    """The day's members (replacing a sync of the same day), and the entries they make:
    a person's entry is the first day they were a member, held out or not that day."""
    cur.execute("delete from activation.audience_members where audience = %s and as_of_date = %s", (audience, as_of))
    synced_before = cur.rowcount > 0
    execute_values(cur, "insert into activation.audience_members values %s",
                   [(audience, as_of, k, k in selection.holdout, v[0], v[1])
                    for k, v in (selection.synced | selection.holdout).items()], page_size=10_000)
    cur.execute(
        "insert into activation.audience_entries"
        " select audience, customer_key, as_of_date, is_holdout from activation.audience_members"
        " where audience = %(audience)s and as_of_date = %(as_of)s"
        " on conflict (audience, customer_key) do update"
        " set entered_on = excluded.entered_on, is_holdout = excluded.is_holdout"
        # an earlier entry stands, untouched; the entry day synced again may change who is held out
        " where excluded.entered_on < audience_entries.entered_on or (excluded.entered_on = audience_entries.entered_on"
        "     and excluded.is_holdout <> audience_entries.is_holdout)",
        {"audience": audience, "as_of": as_of})
    if synced_before:  # people who entered that day and are no longer in it enter on their next day, if any
        cur.execute(
            "delete from activation.audience_entries as e"
            " where audience = %(audience)s and entered_on = %(as_of)s and not exists ("
            "     select from activation.audience_members as m"
            "     where m.audience = e.audience and m.as_of_date = e.entered_on and m.customer_key = e.customer_key)"
            " returning customer_key",
            {"audience": audience, "as_of": as_of})
        left_out = [k for k, in cur.fetchall()]
        if left_out:
            cur.execute("insert into activation.audience_entries "
                        + audience_entries_from_members("audience = %s and customer_key = any(%s)"),
                        (audience, left_out))


def _log_sync(cur, audience: str, destination: str, location: str, as_of: date, selection: Selection) -> SyncResult:
    """ops.sync_log for the audience, destination and date, counted from the batches
    delivered for that date (changes the destination accepted, and rows it rejected),
    so a re-run (or a resumed kill) never counts a row twice."""
    cur.execute(
        "select count(*) filter (where change->>'action' = 'add'), count(*) filter (where change->>'action' = 'update'),"
        " count(*) filter (where change->>'action' = 'remove'),"
        " (select coalesce(sum(jsonb_array_length(rejected)), 0) from activation.sync_batches"
        "  where audience = %(audience)s and destination = %(destination)s and as_of_date = %(as_of)s)"
        " from activation.sync_batches, jsonb_array_elements(changes) as change"
        " where audience = %(audience)s and destination = %(destination)s and as_of_date = %(as_of)s"
        " and status = 'delivered' and not rejected @> jsonb_build_array("
        "     jsonb_build_object('customer_key', change->>'customer_key'))",
        {"audience": audience, "destination": destination, "as_of": as_of})
    added, updated, removed, rejected = cur.fetchone()
    members = len(selection.synced) + len(selection.holdout)
    cur.execute(
        "insert into ops.sync_log (sync_id, audience, destination, as_of_date, status, rows_in_audience, rows_added,"
        " rows_updated, rows_removed, rows_rejected, holdout_size, rows_excluded, location, finished_at)"
        " values (%s, %s, %s, %s, 'success', %s, %s, %s, %s, %s, %s, %s, %s, now())"
        " on conflict (sync_id) do update set status = excluded.status, rows_in_audience = excluded.rows_in_audience,"
        " rows_added = excluded.rows_added, rows_updated = excluded.rows_updated, rows_removed = excluded.rows_removed,"
        " rows_rejected = excluded.rows_rejected, holdout_size = excluded.holdout_size,"
        " rows_excluded = excluded.rows_excluded, location = excluded.location, finished_at = now()",
        (f"{audience}:{destination}:{as_of}", audience, destination, as_of, members, added, updated, removed,
         rejected, len(selection.holdout), json.dumps(selection.excluded), location),
    )
    return SyncResult(audience, destination, members, len(selection.holdout), added, updated, removed, rejected,
                      selection.excluded)


def sync_audience(warehouse: Warehouse, workspace: Workspace, audience: Audience, as_of: date,
                  rules: ContactRules, sender=None) -> SyncResult:
    sender = sender or destination_for(audience, workspace.exports)
    destination = sender.identity
    for batch in _pending(warehouse, audience.name, destination):  # left by a killed or failed sync
        log.info("resending pending batch %d of %s to %s", batch.sequence, audience.name, destination)
        _deliver(warehouse, sender, destination, batch)

    with warehouse.connect() as conn, conn.cursor() as cur:
        held = _held(cur, audience.name, destination)
        selection = select_members(cur, audience, rules, as_of, set(held))
    changes = diff(selection.synced, held)
    for start in range(0, len(changes), sender.batch_size):
        batch = _record_pending(warehouse, audience.name, destination, as_of, changes[start:start + sender.batch_size])
        _deliver(warehouse, sender, destination, batch)

    with warehouse.connect() as conn, conn.cursor() as cur:
        _record_members(cur, audience.name, as_of, selection)
        result = _log_sync(cur, audience.name, destination, sender.describe(), as_of, selection)
    log.info("audience %s -> %s: %d members (%d held out), +%d ~%d -%d, %d rejected; excluded %s", audience.name,
             destination, result.in_audience, result.holdout, result.added, result.updated, result.removed,
             result.rejected, {k: v for k, v in result.excluded.items() if v})
    return result


class SyncsFailed(RuntimeError):
    pass


def sync_audiences(warehouse: Warehouse, workspace: Workspace, definitions, as_of: date) -> dict[str, SyncResult]:
    """Every audience in turn; a destination that fails does not hold back the others'
    syncs, and the run fails afterwards naming it (its open batch is resent next time)."""
    results, failures = {}, []
    for audience in definitions.audiences:
        try:
            results[audience.name] = sync_audience(warehouse, workspace, audience, as_of, definitions.contact_rules)
        except DeliveryFailed as err:
            log.error("audience %s not synced: %s", audience.name, err)
            failures.append(f"{audience.name}: {err}")
    if failures:
        raise SyncsFailed(f"{len(failures)} of {len(definitions.audiences)} audience(s) not synced: "
                          + "; ".join(failures))
    return results
