"""`c360 simulate --faults`: every injected fault is caught, reported and loses no row.

Each fault is injected into every file of a small world (``fault_rate=1``) and
the drops are extracted into the warehouse; what was loaded, quarantined and
reported is compared with the same world delivered without faults.
"""
from __future__ import annotations

import gzip
import io
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from c360.extract.files import FILE_CHANNELS, extract_files
from c360.loader import BatchRejected
from c360.simulator import SimulationSettings, advance_world, save_settings
from c360.simulator.faults import FAULTS, parse_faults
from conftest import query

START = date(2024, 3, 28)  # the stores' clocks go forward on 2024-03-31
THROUGH = START + timedelta(days=4)


def simulate(postgres, tmp_path_factory, faults: tuple[str, ...], through: date = THROUGH, stepwise: bool = False,
             name: str | None = None, rate: float = 1.0) -> Path:
    name = name or ("all" if faults == FAULTS else "_".join(faults) or "clean") + ("_steps" if stepwise else "")
    base = tmp_path_factory.mktemp(name)
    save_settings(base / "state", SimulationSettings(customers=3000, seed=11, start_date=START, faults=faults,
                                                     fault_rate=rate))
    dsn = postgres(f"shop_{name}")
    days = [START + timedelta(days=k) for k in range((through - START).days + 1)] if stepwise else [through]
    for day in days:
        advance_world(base / "state", dsn, base / "landing", day)
    return base


def receipts(landing: Path) -> pd.DataFrame:
    """Every line of the clean drops, keyed by receipt id."""
    frames = []
    for path in sorted(landing.rglob("pos_*.csv*")):
        data = path.read_bytes()
        frames.append(pd.read_csv(io.BytesIO(gzip.decompress(data) if path.suffix == ".gz" else data), dtype=str))
    return pd.concat(frames).set_index("receipt_id")


@pytest.fixture(scope="module")
def clean(postgres, tmp_path_factory) -> pd.DataFrame:
    return receipts(simulate(postgres, tmp_path_factory, ()) / "landing" / "pos")


@pytest.fixture(scope="module")
def faulted(postgres, tmp_path_factory):
    cache = {}

    def world(fault: str) -> Path:
        if fault not in cache:
            cache[fault] = simulate(postgres, tmp_path_factory, (fault,))
        return cache[fault]
    return world


def extract_pos(warehouse, landing: Path, as_of: date) -> None:
    extract_files(warehouse, "pos", landing / "pos", as_of)


def loaded_ids(warehouse) -> set[str]:
    return {r for (r,) in query(warehouse, "select receipt_id from raw.pos_receipts")}


def accounted(warehouse) -> tuple[int, int, int]:
    (row,) = query(warehouse, "select sum(rows_extracted), sum(rows_loaded), sum(rows_quarantined) from ops.batches")
    return tuple(int(v or 0) for v in row)


def quarantined(warehouse, rule: str) -> list[tuple]:
    """Quarantined rows that failed ``rule`` (among others: a row keeps every reason it failed)."""
    return query(warehouse, "select record->>'receipt_id', reason from ops.quarantine"
                            " where %s = any(string_to_array(rule, ', '))", (rule,))


def test_fault_names_are_checked():
    assert parse_faults("all") == FAULTS
    assert parse_faults("late_file, bad_encoding") == ("late_file", "bad_encoding")
    with pytest.raises(ValueError, match="unknown fault.*typo"):
        parse_faults("late_file,typo")


def test_a_faulted_world_is_as_deterministic_as_a_clean_one(postgres, tmp_path_factory):
    jump = simulate(postgres, tmp_path_factory, FAULTS)
    steps = simulate(postgres, tmp_path_factory, FAULTS, stepwise=True)

    def files(base: Path) -> dict[str, bytes]:
        return {str(p.relative_to(base)): p.read_bytes() for p in base.rglob("*") if p.is_file()
                and ("landing" in p.parts or "held" in p.parts)}
    assert files(jump) == files(steps) and len(files(jump)) > 0


def test_a_file_delivered_twice_is_loaded_once(fresh_warehouse, faulted, clean):
    landing = faulted("duplicate_file") / "landing" / "pos"
    originals = [p for p in landing.rglob("pos_*") if "resent" not in p.parts]
    assert len(list(landing.rglob("resent/pos_*"))) == len(originals)
    extract_files(fresh_warehouse, "pos", landing, THROUGH)
    assert loaded_ids(fresh_warehouse) == set(clean.index)
    distinct_contents = len({p.read_bytes() for p in originals})  # two empty drops are one delivery
    assert query(fresh_warehouse, "select count(*) from ops.batches") == [(distinct_contents,)]


def test_a_late_file_is_loaded_by_the_run_after_it_arrives(fresh_warehouse, postgres, tmp_path_factory, clean):
    base = simulate(postgres, tmp_path_factory, ("late_file",))
    extract_pos(fresh_warehouse, base / "landing", THROUGH)
    assert loaded_ids(fresh_warehouse) < set(clean.index)  # some of the days' files are still held back

    later = THROUGH + timedelta(days=4)
    advance_world(base / "state", postgres("shop_late_file_later"), base / "landing", later)
    extract_pos(fresh_warehouse, base / "landing", later)
    assert set(clean.index) <= loaded_ids(fresh_warehouse)
    extracted, loaded, held = accounted(fresh_warehouse)
    assert extracted == loaded and held == 0


def test_malformed_lines_are_quarantined_and_the_rest_loads(fresh_warehouse, faulted, clean):
    extract_pos(fresh_warehouse, faulted("malformed_rows") / "landing", THROUGH)
    bad = quarantined(fresh_warehouse, "malformed_line")
    assert bad and all("fields, expected 8" in reason for _, reason in bad)
    assert loaded_ids(fresh_warehouse) | {r for r, _ in bad} == set(clean.index)
    extracted, loaded, rows_quarantined = accounted(fresh_warehouse)
    assert extracted == len(clean) == loaded + rows_quarantined


def test_an_added_column_is_kept_and_reported(fresh_warehouse, faulted, clean):
    extract_pos(fresh_warehouse, faulted("added_column") / "landing", THROUGH)
    assert loaded_ids(fresh_warehouse) == set(clean.index)
    messages = query(fresh_warehouse, "select distinct message from ops.batches")
    assert messages == [("new column(s) kept in _extra: loyalty_tier",)]
    tiers = {t for (t,) in query(fresh_warehouse, "select _extra->>'loyalty_tier' from raw.pos_receipts")}
    assert {"gold", "silver"} <= tiers


def test_a_renamed_column_rejects_each_file_naming_it_and_keeps_every_row(fresh_warehouse, faulted, clean):
    with pytest.raises(BatchRejected, match="missing required column.*receipt_id") as failure:
        extract_pos(fresh_warehouse, faulted("renamed_column") / "landing", THROUGH)
    (files,) = query(fresh_warehouse, "select count(*) from ops.batches where status = 'rejected'")[0]
    assert f"{files} pos file(s) rejected, 0 loaded" in str(failure.value)
    assert loaded_ids(fresh_warehouse) == set()
    extracted, loaded, rows_quarantined = accounted(fresh_warehouse)
    assert extracted == rows_quarantined == len(clean) and loaded == 0
    assert query(fresh_warehouse, "select count(*) from ops.quarantine where record ? 'ReceiptId'") == [(len(clean),)]


def test_mixed_time_zones_load_as_the_same_instants(fresh_warehouse, faulted, clean):
    landing = faulted("mixed_timezones") / "landing"
    assert not receipts(landing / "pos")["purchased_at"].equals(clean["purchased_at"])  # the texts did change
    extract_pos(fresh_warehouse, landing, THROUGH)
    loaded = dict(query(fresh_warehouse, "select receipt_id, purchased_at from raw.pos_receipts"))
    expected = pd.to_datetime(clean["purchased_at"], format="ISO8601", utc=True)
    assert {k: pd.Timestamp(v) for k, v in loaded.items()} == expected.to_dict()


def test_lines_that_are_not_utf8_are_quarantined_and_the_rest_loads(fresh_warehouse, faulted, clean):
    extract_pos(fresh_warehouse, faulted("bad_encoding") / "landing", THROUGH)
    bad = quarantined(fresh_warehouse, "encoding")
    assert bad and all("is not UTF-8 text" in reason for _, reason in bad)
    assert loaded_ids(fresh_warehouse) | {r for r, _ in bad} == set(clean.index)
    assert not loaded_ids(fresh_warehouse) & {r for r, _ in bad}
    extracted, loaded, rows_quarantined = accounted(fresh_warehouse)
    assert extracted == len(clean) == loaded + rows_quarantined


def test_every_file_channel_takes_every_fault_without_losing_a_row(fresh_warehouse, postgres, tmp_path_factory):
    """JSON lines, JSON arrays and CSV alike: each batch reconciles, rejected files say why."""
    landing = simulate(postgres, tmp_path_factory, FAULTS, name="all_extracted", rate=0.4) / "landing"
    for channel in FILE_CHANNELS:
        try:
            extract_files(fresh_warehouse, channel, landing / channel, THROUGH)
        except BatchRejected as rejected:
            assert f"{channel} file(s) rejected" in str(rejected) and "missing required column" in str(rejected)
    by_table = query(fresh_warehouse, "select raw_table, count(*), sum(rows_extracted), sum(rows_loaded),"
                                      " sum(rows_quarantined) from ops.batches group by 1")
    assert {t for t, *_ in by_table} == {FILE_CHANNELS[c].raw_table for c in FILE_CHANNELS}
    for table, batches, extracted, loaded, quarantined in by_table:
        assert extracted == loaded + quarantined and loaded > 0, table
    rules = {r for (rule,) in query(fresh_warehouse, "select distinct rule from ops.quarantine") for r in rule.split(", ")}
    assert {"malformed_line", "encoding", "batch_rejected"} <= rules
