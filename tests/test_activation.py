"""Audience syncs against the real warehouse: consent, holdout, diffs, re-runs."""
import csv
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c360.access import ACTIVATION
from c360.activation.audiences import parse_audience
from c360.activation.sync import in_holdout, sync_audience
from conftest import query
from fixtures import seed_audience_inputs as seed

DAY1, DAY2 = date(2026, 3, 1), date(2026, 3, 2)
AUDIENCE = parse_audience({"name": "at_risk_buyers", "where": {"lifecycle_stage": {"in": ["at_risk"]},
                                                               "purchase_decile": {"gte": 8}}})


def read_changes(path):
    with open(path, newline="") as f:
        return [(r["action"], r["customer_key"]) for r in csv.DictReader(f)]


def test_sync_sends_changes_only_and_reruns_are_idempotent(fresh_warehouse, workspace):
    people = [(f"c{i}", True, "at_risk", 9, f"h{i}") for i in range(40)]
    seed(fresh_warehouse, people, DAY1)
    first = sync_audience(fresh_warehouse.as_role(ACTIVATION), workspace, AUDIENCE, DAY1)
    held = {k for k, *_ in people if in_holdout(AUDIENCE.name, k, 10)}
    assert first.in_audience == 40 and first.holdout == len(held) and first.added == 40 - len(held)

    # day 2: c0..c4 leave the audience, c100 joins, c5's hashed e-mail changes
    day2 = [p for p in people if p[0] not in {f"c{i}" for i in range(5)}] + [("c100", True, "at_risk", 10, "h100")]
    day2 = [(k, c, s, d, "changed" if k == "c5" else e) for k, c, s, d, e in day2]
    seed(fresh_warehouse, day2, DAY2)
    second = sync_audience(fresh_warehouse.as_role(ACTIVATION), workspace, AUDIENCE, DAY2)
    changes = read_changes(second.location)
    expected_removed = {f"c{i}" for i in range(5)} - held
    assert {k for a, k in changes if a == "remove"} == expected_removed
    assert {k for a, k in changes if a == "add"} == ({"c100"} - {k for k in ["c100"] if in_holdout(AUDIENCE.name, k, 10)})
    assert {k for a, k in changes if a == "update"} == ({"c5"} - held)

    again = sync_audience(fresh_warehouse.as_role(ACTIVATION), workspace, AUDIENCE, DAY2)
    assert read_changes(again.location) == changes
    assert query(fresh_warehouse, "select count(*) from ops.sync_log") == [(2,)]


people_strategy = st.lists(
    st.tuples(st.booleans(), st.sampled_from(["at_risk", "active", "churned"]), st.integers(1, 10)),
    min_size=1, max_size=30,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people_strategy)
def test_opted_out_and_holdout_people_never_reach_a_destination(fresh_warehouse, workspace, flags):
    people = [(f"p{i}", consent, stage, decile, f"h{i}") for i, (consent, stage, decile) in enumerate(flags)]
    seed(fresh_warehouse, people, DAY1)
    with fresh_warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("delete from activation.audience_members")  # each example starts with no earlier sync
    result = sync_audience(fresh_warehouse.as_role(ACTIVATION), workspace, AUDIENCE, DAY1)
    sent = {k for _, k in read_changes(result.location)}
    for key, consent, stage, decile, _ in people:
        if not consent or in_holdout(AUDIENCE.name, key, 10):
            assert key not in sent
        elif stage == "at_risk" and decile >= 8:
            assert key in sent
