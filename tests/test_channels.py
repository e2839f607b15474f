"""The app, campaigns and service channels: the simulated exports load whole into
raw (extracted = loaded + quarantined), once however often a file is delivered,
and an unreadable or invalid row is quarantined with its reason."""
from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from datetime import date, timedelta

import pytest

from c360.extract.files import FILE_CHANNELS, drop_files, extract_files, read_drop
from c360.loader import BatchRejected
from c360.simulator import SimulationSettings, advance_world, save_settings
from c360.sources import FILE_CHANNELS as CONFIGURED_FILE_CHANNELS
from conftest import query

START = date(2024, 5, 1)
THROUGH = START + timedelta(days=34)
NEW_CHANNELS = ["app", "campaigns", "service"]


@pytest.fixture(scope="module")
def landing(postgres, tmp_path_factory):
    base = tmp_path_factory.mktemp("channels")
    save_settings(base / "state", SimulationSettings(customers=500, seed=5, start_date=START))
    advance_world(base / "state", postgres("shop_channels"), base / "landing", THROUGH)
    return base / "landing"


def rows_in_files(folder, channel: str) -> int:
    return sum(len(read_drop(path, path.name)[0]) for path in drop_files(folder, THROUGH, FILE_CHANNELS[channel].formats))


def test_every_configurable_file_channel_has_an_extractor():
    assert set(FILE_CHANNELS) == set(CONFIGURED_FILE_CHANNELS)


@pytest.mark.parametrize("channel", NEW_CHANNELS)
def test_a_channel_loads_every_row_once(fresh_warehouse, landing, tmp_path, channel):
    folder = tmp_path / channel
    shutil.copytree(landing / channel, folder)
    table = FILE_CHANNELS[channel].raw_table
    expected = rows_in_files(folder, channel)
    assert expected > 20

    results = extract_files(fresh_warehouse, channel, folder, THROUGH)
    distinct_files = {hashlib.sha256(p.read_bytes()).digest() for p in folder.iterdir()}  # days with nothing are alike
    assert len(results) == len(distinct_files) > 10 and {r.status for r in results} <= {"promoted", "empty"}
    assert sum(r.rows_loaded for r in results) == expected and sum(r.rows_quarantined for r in results) == 0
    assert query(fresh_warehouse, f"select count(*), count(distinct _source_file) from raw.{table}")[0][0] == expected
    assert query(fresh_warehouse, "select count(*) from ops.batches where rows_extracted <> rows_loaded + rows_quarantined"
                                  " or source <> %s", (channel,)) == [(0,)]

    # delivered again (a re-run, a copy under another name): recognised by checksum, not loaded
    first = sorted(folder.iterdir())[0]
    shutil.copy(first, first.with_name("resent_" + first.name))
    assert extract_files(fresh_warehouse, channel, folder, THROUGH) == []
    assert query(fresh_warehouse, f"select count(*) from raw.{table}") == [(expected,)]


def test_app_lines_that_are_not_json_objects_are_quarantined(fresh_warehouse, tmp_path):
    good = {"event_id": "A1", "event_type": "session_start", "occurred_at": "2026-03-01T10:00:00Z",
            "device_id": "D1", "platform": "ios", "session_id": "S1"}
    lines = [json.dumps(good), '{"event_id": "A2", "event_type": "login", ', "[1, 2]",
             json.dumps({**good, "event_id": "A3", "event_type": "teleport"}), ""]
    path = tmp_path / "app_events_2026-03-01.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode(), mtime=0))

    [result] = extract_files(fresh_warehouse, "app", tmp_path, date(2026, 3, 1))
    assert (result.rows_extracted, result.rows_loaded, result.rows_quarantined) == (4, 1, 3)
    assert query(fresh_warehouse, "select event_id, _source_line from raw.app_events") == [("A1", 1)]
    reasons = dict(query(fresh_warehouse, "select (record->>'_source_line')::int, reason from ops.quarantine"))
    assert reasons[2].startswith("line 2: not valid JSON")
    assert reasons[3] == "line 3: a JSON list, not an object"
    assert "event_type=teleport failed expect_column_values_to_be_in_set" in reasons[4]


def test_campaign_rows_with_a_bad_flag_or_width_are_quarantined(fresh_warehouse, tmp_path):
    header = ("event_id,campaign_id,campaign_name,channel,contact_id,email,phone,event_type,occurred_at,is_holdout,"
              "cost_per_send,conversion_amount\n")
    (tmp_path / "campaign_events_2026-03-01.csv").write_text(
        header
        + "E1,C1,Spring,email,K1,ann@x.com,,send,2026-03-01T09:00:00Z,false,0.01,\n"
        + "E2,C1,Spring,email,K2,bob@x.com,,holdout,2026-03-01T09:00:00Z,maybe,,\n"
        + "E3,C1,Spring,email,K3,cy@x.com,,send,2026-03-01T09:00:00Z,false\n"
    )
    [result] = extract_files(fresh_warehouse, "campaigns", tmp_path, date(2026, 3, 1))
    assert (result.rows_extracted, result.rows_loaded, result.rows_quarantined) == (3, 1, 2)
    reasons = dict(query(fresh_warehouse, "select record->>'event_id', reason from ops.quarantine"))
    assert "is_holdout" in reasons["E2"] and "not a valid boolean" in reasons["E2"]
    assert reasons["E3"] == "line 4 has 10 fields, expected 12"


def test_service_json_and_csv_exports_load_and_bad_records_are_quarantined(fresh_warehouse, tmp_path):
    ticket = {"ticket_id": "T1", "category": "delivery", "contact_channel": "email", "email": "ann@x.com",
              "phone": None, "opened_at": "2026-03-01T10:00:00Z", "closed_at": "2026-03-01T12:00:00Z",
              "satisfaction_score": 4, "updated_at": "2026-03-01T12:00:00Z"}
    (tmp_path / "service_tickets_2026-03-01.json").write_text(json.dumps([
        ticket, {**ticket, "ticket_id": "T2", "satisfaction_score": 9}, "T3", {**ticket, "ticket_id": "T4", "mood": "ok"}]))
    (tmp_path / "service_tickets_2026-03-02.csv").write_text(
        ",".join(ticket) + "\nT5,return,phone,,07700 900001,2026-03-02T09:00:00Z,,,2026-03-02T09:00:00Z\n")
    (tmp_path / "service_tickets_2026-03-03.json").write_text('{"tickets": []}')

    results = extract_files(fresh_warehouse, "service", tmp_path, date(2026, 3, 2))
    assert [(r.rows_extracted, r.rows_loaded, r.rows_quarantined) for r in results] == [(4, 2, 2), (1, 1, 0)]
    assert results[0].message == "new column(s) kept in _extra: mood"
    assert query(fresh_warehouse, "select ticket_id, satisfaction_score, _extra->>'mood' from raw.service_tickets"
                                  " order by 1") == [("T1", 4, None), ("T4", 4, "ok"), ("T5", None, None)]
    reasons = [r for r, in query(fresh_warehouse, "select reason from ops.quarantine order by row_number")]
    assert "satisfaction_score=9 failed expect_column_values_to_be_between" in reasons[0]
    assert reasons[1] == "line 3: a JSON str, not an object"

    # a file that is not the array of tickets it should be is rejected whole, saying why
    with pytest.raises(BatchRejected, match="not a JSON array of records"):
        extract_files(fresh_warehouse, "service", tmp_path, date(2026, 3, 3))
    assert query(fresh_warehouse, "select rows_extracted, rows_quarantined from ops.batches where status = 'rejected'"
                 ) == [(1, 1)]
