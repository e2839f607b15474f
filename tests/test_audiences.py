"""Audience definitions: validated, and never a way to inject SQL."""
import pytest
import yaml

from c360.activation.audiences import load_definitions, parse_audience
from c360.activation.rules import ContactRules
from c360.config import Workspace
from c360.activation.sync import in_holdout


def spec(**overrides):
    base = {"name": "winback", "where": {"lifecycle_stage": {"in": ["at_risk"]}, "purchase_decile": {"gte": 8}}}
    return {**base, **overrides}


def test_conditions_become_parameterised_sql():
    sql, params = parse_audience(spec()).where_sql()
    assert sql == "lifecycle.lifecycle_stage in (%(where_0)s) and scores.score_decile >= %(where_1)s"
    assert params == {"where_0": "at_risk", "where_1": 8}


def test_shipped_audiences_and_contact_rules_are_valid(workspace):
    definitions = load_definitions(workspace)
    assert {a.name for a in definitions.audiences} >= {"winback_likely_buyers"}
    assert definitions.contact_rules == ContactRules(max_contacts=2, per_days=7, pause_after_unanswered=3)


@pytest.mark.parametrize("rules, message", [
    ({"max_contacts": 0}, "at least 1"),
    ({"max_contacts": "2"}, "at least 1"),
    ({"per_day": 7}, "contact_rules takes"),
    ("2 in 7 days", "contact_rules takes"),
])
def test_contact_rules_are_validated(tmp_path, rules, message):
    (tmp_path / "audiences.yml").write_text(yaml.safe_dump({"audiences": [spec()], "contact_rules": rules}))
    with pytest.raises(ValueError, match=message):
        load_definitions(Workspace(tmp_path))


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
    (spec(destination={"type": "webhook", "url": "file:///etc/passwd"}), "http"),
    (spec(destination={"type": "webhook", "url": "https://tool", "token": "s3cret"}), "unsupported destination"),
    (spec(destination={"type": "webhook", "url": "https://tool", "token_env": "X; rm -rf /"}), "token_env"),
    (spec(destination={"type": "webhook", "url": "https://tool", "batch_size": 0}), "batch_size"),
    ("winback", "is a mapping"),
    (spec(sql="select 1"), "unknown key"),
])
def test_hostile_or_broken_definitions_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        parse_audience(bad)


def test_hostile_values_are_only_ever_parameters():
    hostile = "x'); drop table marts.dim_customers; --"
    sql, params = parse_audience(spec(where={"rfm_segment": {"eq": hostile}})).where_sql()
    assert hostile not in sql and list(params.values()) == [hostile]


def test_holdout_is_deterministic_and_near_its_share():
    keys = [f"customer-{i}" for i in range(5000)]
    first = [in_holdout("winback", k, 10) for k in keys]
    assert first == [in_holdout("winback", k, 10) for k in keys]
    assert 0.08 < sum(first) / len(keys) < 0.12
    # each audience draws its own holdout
    assert first != [in_holdout("other", k, 10) for k in keys]
