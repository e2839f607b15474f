"""Audience syncs against the real warehouse: contact rules, holdout, diffs,
re-runs, and a webhook marketing tool on localhost that fails on demand."""
import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c360.access import ACTIVATION
from c360.activation.audiences import Definitions, parse_audience
from c360.activation.destinations import DeliveryFailed, WebhookDestination
from c360.activation.rules import ContactRules
from c360.activation.sync import SyncsFailed, in_holdout, sync_audience, sync_audiences
from c360.cli import main
from conftest import query
from fixtures import seed_audience_inputs as seed
from marketing_tool import MarketingTool

DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)
RULES = ContactRules(max_contacts=2, per_days=7, pause_after_unanswered=3)
SPEC = {"name": "at_risk_buyers", "where": {"lifecycle_stage": {"in": ["at_risk"]}, "purchase_decile": {"gte": 8}}}
AUDIENCE = parse_audience(SPEC)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def file_changes(workspace, audience: str, day: date) -> list[tuple[str, str]]:
    """Every change written to the audience's files for the day, batch after batch."""
    changes = []
    for path in sorted((workspace.exports / audience).glob(f"{audience}_{day}_*.csv")):
        with path.open(newline="") as f:
            changes += [(r["action"], r["customer_key"]) for r in csv.DictReader(f)]
    return changes


def sync(warehouse, workspace, audience=AUDIENCE, day=DAY1, rules=RULES, sender=None):
    return sync_audience(warehouse.as_role(ACTIVATION), workspace, audience, day, rules, sender)


def test_sync_sends_changes_only_and_reruns_are_idempotent(fresh_warehouse, workspace):
    shutil.rmtree(workspace.exports / AUDIENCE.name, ignore_errors=True)
    people = [(f"c{i}", True, "at_risk", 9, f"h{i}") for i in range(40)]
    seed(fresh_warehouse, people, DAY1)
    first = sync(fresh_warehouse, workspace)
    held = {k for k, *_ in people if in_holdout(AUDIENCE.name, k, 10)}
    assert first.in_audience == 40 and first.holdout == len(held) and first.added == 40 - len(held)

    # day 2: c0..c4 leave the audience, c100 joins, c5's hashed e-mail changes
    day2 = [p for p in people if p[0] not in {f"c{i}" for i in range(5)}] + [("c100", True, "at_risk", 10, "h100")]
    day2 = [(k, c, s, d, "changed" if k == "c5" else e) for k, c, s, d, e in day2]
    seed(fresh_warehouse, day2, DAY2)
    second = sync(fresh_warehouse, workspace, day=DAY2)
    changes = file_changes(workspace, AUDIENCE.name, DAY2)
    assert {k for a, k in changes if a == "remove"} == {f"c{i}" for i in range(5)} - held
    assert {k for a, k in changes if a == "add"} == {"c100"} - held
    assert {k for a, k in changes if a == "update"} == {"c5"} - held
    assert (second.added, second.updated, second.removed) == (len({"c100"} - held), len({"c5"} - held),
                                                               len({f"c{i}" for i in range(5)} - held))

    again = sync(fresh_warehouse, workspace, day=DAY2)  # nothing new to send; the day's log is unchanged
    assert file_changes(workspace, AUDIENCE.name, DAY2) == changes
    assert (again.added, again.updated, again.removed) == (second.added, second.updated, second.removed)
    assert query(fresh_warehouse, "select count(*) from ops.sync_log") == [(2,)]


def entries(warehouse) -> dict[str, tuple]:
    return {k: (on, holdout) for k, on, holdout in query(
        warehouse, "select customer_key, entered_on, is_holdout from activation.audience_entries")}


def entries_from_members(warehouse) -> dict[str, tuple]:
    """Each person's first day among the members of every sync day, and whether held out that day."""
    firsts = {}
    for key, day, holdout in query(warehouse, "select customer_key, as_of_date, is_holdout"
                                              " from activation.audience_members order by as_of_date"):
        firsts.setdefault(key, (day, holdout))
    return firsts


def test_entries_stay_each_persons_first_membership_when_an_earlier_day_is_synced_again(fresh_warehouse, workspace):
    members = {DAY1: [f"c{i}" for i in range(10)], DAY2: [f"c{i}" for i in range(5, 15)]}
    for day, keys in members.items():
        seed(fresh_warehouse, [(k, True, "at_risk", 9, f"h{k}") for k in keys], day)
        sync(fresh_warehouse, workspace, day=day)
    assert entries(fresh_warehouse) == entries_from_members(fresh_warehouse)
    assert {k for k, (on, _) in entries(fresh_warehouse).items() if on == DAY2} == {f"c{i}" for i in range(10, 15)}

    # day 1 again, half held out now, without c0 (a member on no other day) and c5 (a member on day 2), with c20
    again = [f"c{i}" for i in range(1, 10) if i != 5] + ["c20"]
    seed(fresh_warehouse, [(k, True, "at_risk", 9, f"h{k}") for k in again], DAY1)
    sync(fresh_warehouse, workspace, audience=replace(AUDIENCE, holdout_percent=50), day=DAY1)
    after = entries(fresh_warehouse)
    assert after == entries_from_members(fresh_warehouse)
    assert "c0" not in after and after["c5"][0] == DAY2 and after["c20"][0] == DAY1
    assert {k: holdout for k, (on, holdout) in after.items() if on == DAY1} == {
        k: in_holdout(AUDIENCE.name, k, 50) for k in again}

    # a warehouse whose syncs predate the entries gets them from the members when it is set up
    with fresh_warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("truncate activation.audience_entries")
    fresh_warehouse.bootstrap()
    assert entries(fresh_warehouse) == after


person = st.fixed_dictionaries({
    "consent": st.booleans(), "unsubscribed": st.booleans(), "suppressed": st.booleans(),
    "unanswered": st.integers(0, 4), "recent_answered": st.integers(0, 3),
    "stage": st.sampled_from(["at_risk", "active"]), "decile": st.integers(6, 10),
})


def seed_rules_world(warehouse, people: list[dict], day: date) -> None:
    """people[i] as customer p<i>: unanswered sends 20+ days ago, answered sends yesterday;
    an unsubscribe is the profile's (has_opted_out), with no send behind it."""
    touches = []
    for i, p in enumerate(people):
        key = f"p{i}"
        touches += [(key, at(day - timedelta(days=20 - n)), False, False) for n in range(p["unanswered"])]
        touches += [(key, at(day - timedelta(days=1), 8 + n), True, False) for n in range(p["recent_answered"])]
    seed(warehouse, [(f"p{i}", p["consent"], p["stage"], p["decile"], f"h{i}") for i, p in enumerate(people)], day,
         touches=touches, opted_out={f"p{i}" for i, p in enumerate(people) if p["unsubscribed"]})
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("delete from activation.suppressions")
        cur.executemany("insert into activation.suppressions (kind, value, reason) values ('customer_key', %s, 'test')",
                        [(f"p{i}",) for i, p in enumerate(people) if p["suppressed"]])


def expected_at_destination(people: list[dict], held_before: set[str], added_before: set[str]) -> set[str]:
    """The contact rules, worked out independently of the SQL."""
    wanted = set()
    for i, p in enumerate(people):
        key = f"p{i}"
        paused = p["unanswered"] >= RULES.pause_after_unanswered and p["recent_answered"] == 0
        contacts = p["recent_answered"] + (key in added_before)
        capped = key not in held_before and contacts >= RULES.max_contacts
        if (not p["consent"] or p["unsubscribed"] or p["suppressed"] or paused or capped or p["stage"] != "at_risk"
                or p["decile"] < 8 or in_holdout(AUDIENCE.name, key, AUDIENCE.holdout_percent)):
            continue
        wanted.add(key)
    return wanted


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(person, person), min_size=1, max_size=25))
def test_the_contact_rules_hold_whatever_the_data(fresh_warehouse, workspace, pairs):
    """Over two days: opted-out, unconsented, suppressed, paused and held-out people
    never reach the destination, and are removed from it when they become so; people
    at their contact cap are not newly added; everyone else is there."""
    with fresh_warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("truncate activation.destination_state, activation.sync_batches, activation.contacts,"
                    " activation.audience_members, activation.audience_entries, ops.sync_log")
    shutil.rmtree(workspace.exports / AUDIENCE.name, ignore_errors=True)
    held, added = set(), set()
    for day, people in ((DAY1, [a for a, _ in pairs]), (DAY2, [b for _, b in pairs])):
        seed_rules_world(fresh_warehouse, people, day)
        result = sync(fresh_warehouse, workspace, day=day)
        expected = expected_at_destination(people, held, added)
        at_destination = {k for k, in query(fresh_warehouse, "select customer_key from activation.destination_state")}
        assert at_destination == expected
        changes = file_changes(workspace, AUDIENCE.name, day)
        assert {k for a, k in changes if a == "add"} == expected - held
        assert {k for a, k in changes if a == "remove"} == held - expected
        assert result.added == len(expected - held) and result.removed == len(held - expected)
        added |= expected - held
        held = expected


def test_the_sync_log_counts_exclusions_by_rule(fresh_warehouse, workspace):
    people = [{"consent": False, "unsubscribed": False, "suppressed": False, "unanswered": 0, "recent_answered": 0},
              {"consent": True, "unsubscribed": True, "suppressed": False, "unanswered": 0, "recent_answered": 0},
              {"consent": True, "unsubscribed": False, "suppressed": True, "unanswered": 0, "recent_answered": 0},
              {"consent": True, "unsubscribed": False, "suppressed": False, "unanswered": 3, "recent_answered": 0},
              {"consent": True, "unsubscribed": False, "suppressed": False, "unanswered": 0, "recent_answered": 2}]
    people = [p | {"stage": "at_risk", "decile": 9} for p in people]
    seed_rules_world(fresh_warehouse, people, DAY1)
    audience = parse_audience({**SPEC, "holdout_percent": 0})
    result = sync(fresh_warehouse, workspace, audience)
    assert {k: v for k, v in result.excluded.items() if v} == {
        "no_consent": 1, "opted_out": 1, "suppressed": 1, "paused": 1, "capped": 1}
    (logged,), = query(fresh_warehouse, "select rows_excluded from ops.sync_log")
    assert logged == result.excluded and result.added == 0


def webhook_audience(url: str, **settings) -> object:
    return parse_audience({**SPEC, "holdout_percent": 0,
                           "destination": {"type": "webhook", "url": url, "token_env": "C360_TEST_TOOL_TOKEN",
                                           "batch_size": 5, **settings}})


@pytest.fixture
def tool(monkeypatch):
    monkeypatch.setenv("C360_TEST_TOOL_TOKEN", "s3cret")
    with MarketingTool(token="s3cret") as tool:
        yield tool


def fast(audience):
    """The audience's webhook with retries that wait milliseconds, not seconds."""
    return WebhookDestination(audience.destination, backoff_seconds=0.01)


def test_the_webhook_gets_batches_retries_politely_and_rejected_rows_come_back(fresh_warehouse, workspace, tool):
    people = [(f"w{i:02d}", True, "at_risk", 9, f"h{i}") for i in range(12)]
    seed(fresh_warehouse, people, DAY1)
    audience = webhook_audience(tool.url)
    tool.fail_with.extend([(503, {}), (429, {"Retry-After": "0"})])
    tool.reject = {"w03"}
    first = sync(fresh_warehouse, workspace, audience, sender=fast(audience))
    assert set(tool.members["at_risk_buyers"]) == {k for k, *_ in people} - {"w03"}
    assert tool.requests == 2 + 3  # two refusals, then three batches of at most five
    assert (first.added, first.rejected) == (11, 1)
    assert query(fresh_warehouse, "select rejected from activation.sync_batches where rejected <> '[]'") == [
        ([{"customer_key": "w03", "reason": "no matching user"}],)]

    tool.reject = set()  # the tool now knows w03: the next sync sends it again, and only it
    seed(fresh_warehouse, people, DAY2)
    second = sync(fresh_warehouse, workspace, audience, day=DAY2, sender=fast(audience))
    assert (second.added, second.updated, second.removed, second.rejected) == (1, 0, 0, 0)
    assert set(tool.members["at_risk_buyers"]) == {k for k, *_ in people}
    assert set(tool.applied.values()) == {1}


def test_a_refusing_webhook_fails_the_sync_and_its_batch_is_resent_next_time(fresh_warehouse, workspace, tool,
                                                                          monkeypatch):
    seed(fresh_warehouse, [(f"w{i}", True, "at_risk", 9, f"h{i}") for i in range(3)], DAY1)
    audience = webhook_audience(tool.url)
    monkeypatch.setenv("C360_TEST_TOOL_TOKEN", "wrong")
    with pytest.raises(DeliveryFailed, match="HTTP 401"):
        sync(fresh_warehouse, workspace, audience, sender=fast(audience))
    assert query(fresh_warehouse, "select status from activation.sync_batches") == [("pending",)]
    tool.fail_with.extend([(503, {})] * 3)
    monkeypatch.setenv("C360_TEST_TOOL_TOKEN", "s3cret")
    with pytest.raises(DeliveryFailed, match="after 3 attempts"):
        sync(fresh_warehouse, workspace, webhook_audience(tool.url, max_attempts=3),
             sender=fast(webhook_audience(tool.url, max_attempts=3)))

    result = sync(fresh_warehouse, workspace, audience, sender=fast(audience))
    assert set(tool.members["at_risk_buyers"]) == {"w0", "w1", "w2"} and set(tool.applied.values()) == {1}
    assert result.added == 3 and query(fresh_warehouse, "select status from activation.sync_batches") == [
        ("delivered",)]


KILLABLE_SYNC = """
import json, sys
from datetime import date
from c360.access import ACTIVATION
from c360.activation.audiences import Definitions, parse_audience
from c360.activation.rules import ContactRules
from c360.activation.sync import sync_audience
from c360.config import Workspace
from c360.warehouse import open_warehouse
workspace = Workspace.from_env()
sync_audience(open_warehouse(workspace, role=ACTIVATION), workspace, parse_audience(json.loads(sys.argv[1])),
              date.fromisoformat(sys.argv[2]), ContactRules())
"""


def test_a_sync_killed_halfway_and_rerun_delivers_every_change_exactly_once(fresh_warehouse, workspace, tool):
    day1 = [(f"k{i:02d}", True, "at_risk", 9, f"h{i}") for i in range(20)]
    seed(fresh_warehouse, day1, DAY1)
    audience = webhook_audience(tool.url)
    sync(fresh_warehouse, workspace, audience, sender=fast(audience))

    # day 2: k00-k09 leave, k20-k29 join, k10-k14 change e-mail: 25 changes, 5 batches
    day2 = [(k, c, s, d, "new" if k < "k15" else e) for k, c, s, d, e in day1[10:]]
    day2 += [(f"k{i:02d}", True, "at_risk", 9, f"h{i}") for i in range(20, 30)]
    seed(fresh_warehouse, day2, DAY2)
    tool.hold_after = len(tool.answers) + 2  # apply day 2's second batch, then stall before answering
    spec = json.dumps({**SPEC, "holdout_percent": 0, "destination": audience.destination})
    killed = subprocess.Popen([sys.executable, "-c", KILLABLE_SYNC, spec, DAY2.isoformat()], env=os.environ.copy())
    try:
        assert tool.held.wait(timeout=120), "the sync never reached its second batch"
        os.kill(killed.pid, signal.SIGKILL)
    finally:
        killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    tool.hold_after = None
    tool.release.set()
    assert query(fresh_warehouse, "select count(*) from activation.sync_batches where status = 'pending'") == [(1,)]

    result = sync(fresh_warehouse, workspace, audience, day=DAY2, sender=fast(audience))
    assert set(tool.members["at_risk_buyers"]) == {k for k, *_ in day2}
    assert all(tool.members["at_risk_buyers"][k][0] == "new" for k in ("k10", "k14"))
    assert set(tool.applied.values()) == {1}  # every change applied once, removes included
    removed = {k for (_, action, k) in tool.applied if action == "remove"}
    assert removed == {f"k{i:02d}" for i in range(10)}
    assert tool.replays == 1  # the batch applied before the kill was resent, and recognised
    assert (result.added, result.updated, result.removed) == (10, 5, 10)


def test_a_suppression_file_keeps_people_out_by_key_email_or_phone(fresh_warehouse, workspace, tmp_path):
    email_hash = hashlib.sha256(b"ann@example.com").hexdigest()
    phone_hash = hashlib.sha256(b"+447700900123").hexdigest()
    seed(fresh_warehouse, [("s1", True, "at_risk", 9, email_hash), ("s2", True, "at_risk", 9, "other"),
                           ("s3", True, "at_risk", 9, "third"), ("s4", True, "at_risk", 9, "fourth")], DAY1)
    with fresh_warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("update marts.dim_customers set phone_sha256 = %s where customer_key = 's2'", (phone_hash,))
    listed = tmp_path / "complaints.csv"
    listed.write_text("email,phone,customer_key,reason\n Ann@Example.com ,,,complaint\n,+447700900123,,\n,,s3,staff\n")
    assert main(["suppress", str(listed)]) == 0
    result = sync(fresh_warehouse, workspace, parse_audience({**SPEC, "holdout_percent": 0}))
    assert result.excluded["suppressed"] == 3
    assert query(fresh_warehouse, "select customer_key from activation.destination_state") == [("s4",)]
    assert query(fresh_warehouse, "select count(*) from activation.suppressions where value like '%%@%%'"
                                  " or value like '+%%'") == [(0,)]  # no clear text kept

    listed.write_text("phone\n07700 900123\n")
    assert main(["suppress", str(listed)]) == 2


def test_a_failing_destination_does_not_hold_back_the_other_audiences(fresh_warehouse, workspace, tool):
    seed(fresh_warehouse, [(f"f{i}", True, "at_risk", 9, f"h{i}") for i in range(4)], DAY1)
    down = webhook_audience(tool.url, max_attempts=1)
    to_file = parse_audience({**SPEC, "name": "to_file", "holdout_percent": 0})
    tool.fail_with.append((503, {}))
    with pytest.raises(SyncsFailed, match=r"1 of 2 audience\(s\) not synced: at_risk_buyers: .*HTTP 503"):
        sync_audiences(fresh_warehouse.as_role(ACTIVATION), workspace, Definitions([down, to_file], RULES), DAY1)
    assert query(fresh_warehouse, "select audience, rows_added from ops.sync_log") == [("to_file", 4)]
