"""Audience definitions: validated, and never a way to inject SQL."""
import pytest

from c360.activation.audiences import load_audiences, parse_audience
from c360.activation.sync import in_holdout


def spec(**overrides):
    base = {"name": "winback", "where": {"lifecycle_stage": {"in": ["at_risk"]}, "purchase_decile": {"gte": 8}}}
    return {**base, **overrides}


def test_conditions_become_parameterised_sql():
    sql, params = parse_audience(spec()).where_sql()
    assert sql == "lifecycle.lifecycle_stage in (%s) and scores.score_decile >= %s"
    assert params == ["at_risk", 8]


def test_shipped_audiences_are_valid(workspace):
    assert {a.name for a in load_audiences(workspace)} >= {"winback_likely_buyers"}


@pytest.mark.parametrize("bad, message", [
    (spec(name="x; drop table marts.dim_customers"), "audience name"),
    (spec(name="../../etc/passwd"), "audience name"),
    (spec(name="winback\n"), "audience name"),
    (spec(name="winback'"), "audience name"),
    (spec(where={"lifecycle_stage = '' or 1=1 --": {"eq": "x"}}), "unknown field"),
    (spec(where={"lifecycle_stage": {"like": "%"}}), "unknown operator"),
    (spec(where={"purchase_decile": {"gte": "8 or true"}}), "number values"),
    (spec(where={"lifecycle_stage": {"in": []}}), "non-empty list"),
    (spec(where={"is_member": {"eq": "true"}}), "boolean values"),
    (spec(holdout_percent=100), "holdout_percent"),
    (spec(destination={"type": "ftp"}), "unsupported destination"),
    (spec(destination={"type": "file", "format": "csv", "path": "../../../etc/cron.d/x"}), "unsupported destination"),
    (spec(destination="file"), "unsupported destination"),
    ("winback", "is a mapping"),
    (spec(sql="select 1"), "unknown key"),
])
def test_hostile_or_broken_definitions_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        parse_audience(bad)


def test_hostile_values_are_only_ever_parameters():
    hostile = "x'); drop table marts.dim_customers; --"
    sql, params = parse_audience(spec(where={"rfm_segment": {"eq": hostile}})).where_sql()
    assert hostile not in sql and params == [hostile]


def test_holdout_is_deterministic_and_near_its_share():
    keys = [f"customer-{i}" for i in range(5000)]
    first = [in_holdout("winback", k, 10) for k in keys]
    assert first == [in_holdout("winback", k, 10) for k in keys]
    assert 0.08 < sum(first) / len(keys) < 0.12
    # each audience draws its own holdout
    assert first != [in_holdout("other", k, 10) for k in keys]
