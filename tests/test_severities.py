"""`$C360_HOME/expectations.yml`: users set severities; the file is checked against the suites."""
from datetime import date

import pandas as pd
import pytest
from c360.loader import Batch, publish_batch
from c360.raw_tables import RAW_TABLES
from conftest import query
from expectations.severities import FILE_NAME, SeveritiesError, load_overrides, parse_overrides

AS_OF = date(2026, 3, 31)


def test_overrides_by_type_or_by_column():
    overrides = parse_overrides({
        "raw.app_events": {"expect_column_values_to_be_in_set": {"platform": "error"}},
        "raw.shop_orders": {"expect_table_row_count_to_be_between": "warn"},
    })
    assert overrides == {("raw.app_events", "expect_column_values_to_be_in_set", "platform"): "error",
                         ("raw.shop_orders", "expect_table_row_count_to_be_between", None): "warn"}
    assert parse_overrides(None) == {}


@pytest.mark.parametrize("document, message", [
    (["raw.app_events"], "expected a mapping of suite names"),
    ({"raw.nope": {}}, "unknown suite 'raw.nope'; the suites are .*raw.app_events"),
    ({"raw.app_events": {"expect_column_to_exist": "warn"}},
     "raw.app_events has no expectation 'expect_column_to_exist'; it has .*expect_column_values_to_be_in_set"),
    ({"raw.app_events": {"expect_column_values_to_be_in_set": {"colour": "warn"}}},
     "raw.app_events.expect_column_values_to_be_in_set has no column 'colour'; its columns are event_type, platform"),
    ({"raw.app_events": {"expect_column_values_to_be_in_set": "fatal"}}, "severity 'fatal' is not one of warn, error"),
    ({"raw.app_events": "warn"}, "raw.app_events: expected expectation types"),
])
def test_a_bad_file_is_a_clear_error(document, message):
    with pytest.raises(SeveritiesError, match=message):
        parse_overrides(document)


def test_the_workspace_file_is_read_and_checked(workspace, severities_file):
    assert load_overrides(workspace.home) == {}
    severities_file({"raw.shop_orders": {"expect_column_values_to_be_in_set": "warn"}})
    assert load_overrides(workspace.home) == {("raw.shop_orders", "expect_column_values_to_be_in_set", None): "warn"}
    (workspace.home / FILE_NAME).write_text("raw.shop_orders: [unclosed")
    with pytest.raises(SeveritiesError, match="is not valid YAML"):
        load_overrides(workspace.home)


def app_events(platform: str) -> Batch:
    frame = pd.DataFrame([dict(event_id=f"E{platform}", event_type="session_start", occurred_at="2026-03-30T10:00:00Z",
                               device_id="D1", platform=platform, session_id="S1", _source_file="a.jsonl",
                               _source_line=1)])
    return Batch("app", RAW_TABLES["app_events"], frame, AS_OF, source_file=("a.jsonl", platform))


def test_a_user_severity_decides_what_is_quarantined(fresh_warehouse, severities_file):
    # by default an unknown platform is a warning: the event loads
    web = publish_batch(fresh_warehouse, app_events("web"))
    assert web.rows_loaded == 1
    severities_file({"raw.app_events": {"expect_column_values_to_be_in_set": {"platform": "error"}}})
    result = publish_batch(fresh_warehouse, app_events("tv"))
    assert (result.rows_loaded, result.rows_quarantined) == (0, 1)
    assert query(fresh_warehouse, "select rule from ops.quarantine") == [
        ("expect_column_values_to_be_in_set:platform",)]
    assert query(fresh_warehouse, "select batch_id, severity from ops.dq_results where column_name = 'platform'"
                                  " and not success order by validated_at") == [
        (web.batch_id, "warn"), (result.batch_id, "error")]
