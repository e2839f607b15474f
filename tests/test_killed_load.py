"""A load killed halfway (SIGKILL in the middle of a COPY) and run again leaves
`raw` and the batches in `ops.batches` exactly as one uninterrupted run does."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest

from c360.access import LOADER
from c360.extract.files import extract_files
from c360.extract.shop import extract_shop
from c360.simulator import SimulationSettings, advance_world, save_settings
from conftest import empty_warehouse, query

START = date(2024, 3, 1)
THROUGH = START + timedelta(days=6)
CHUNK_ROWS = 150

# Runs one channel's extraction; the Nth COPY writes its rows, says so, and hangs
# inside its open transaction until the test kills the process.
HANGING_LOAD = """
import sys, time
from datetime import date
from pathlib import Path

from c360 import loader
from c360.access import LOADER
from c360.extract.files import extract_files
from c360.extract.shop import extract_shop
from c360.warehouse import open_warehouse

channel, source, as_of, hang_at, signal_file, chunk_rows = sys.argv[1:]
copy_rows, copies = loader.copy_rows, []

def copy_then_hang(*args):
    copy_rows(*args)
    copies.append(1)
    if len(copies) == int(hang_at):
        Path(signal_file).write_text("rows copied, not committed")
        time.sleep(600)

loader.copy_rows = copy_then_hang
warehouse = open_warehouse(start=False, role=LOADER)
if channel == "shop":
    extract_shop(warehouse, source, date.fromisoformat(as_of), chunk_rows=int(chunk_rows))
else:
    extract_files(warehouse, channel, Path(source), date.fromisoformat(as_of))
"""


@pytest.fixture(scope="module")
def world(postgres, tmp_path_factory):
    base = tmp_path_factory.mktemp("killed")
    save_settings(base / "state", SimulationSettings(customers=1500, seed=5, start_date=START))
    dsn = postgres("shop_killed")
    advance_world(base / "state", dsn, base / "landing", THROUGH)
    return dsn, base / "landing"


def load(warehouse, channel: str, source) -> None:
    if channel == "shop":
        extract_shop(warehouse.as_role(LOADER), source, THROUGH, chunk_rows=CHUNK_ROWS)
    else:
        extract_files(warehouse.as_role(LOADER), channel, source, THROUGH)


def snapshot(warehouse) -> dict[str, list]:
    """Every raw row (but its load time) and every batch that held rows (a re-run also
    records the tables it found nothing new in, as every run does)."""
    tables = ["shop_customers", "shop_orders", "shop_order_items", "pos_receipts"]
    out = {t: sorted(map(repr, query(warehouse, f"select to_jsonb(r) - '_loaded_at' from raw.{t} r"))) for t in tables}
    out["batches"] = sorted(query(warehouse, "select batch_id, raw_table, status, rows_extracted, rows_loaded,"
                                             " rows_quarantined, watermark_to from ops.batches"
                                             " where status <> 'empty'"))
    return out


def kill_during_copy(channel: str, source, hang_at: int, tmp_path) -> None:
    signal_file = tmp_path / f"{channel}.copied"
    process = subprocess.Popen([sys.executable, "-c", HANGING_LOAD, channel, str(source), THROUGH.isoformat(),
                                str(hang_at), str(signal_file), str(CHUNK_ROWS)])
    try:
        deadline = time.monotonic() + 300
        while not signal_file.exists():
            assert process.poll() is None, f"the load ended before its COPY number {hang_at}"
            assert time.monotonic() < deadline, "the load never reached its COPY"
            time.sleep(0.1)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize("channel", ["shop", "pos"])
def test_a_load_killed_during_a_copy_and_run_again_matches_an_uninterrupted_one(warehouse, world, channel, tmp_path):
    dsn, landing = world
    source = dsn if channel == "shop" else landing / "pos"

    empty_warehouse(warehouse)
    load(warehouse, channel, source)
    uninterrupted = snapshot(warehouse)
    assert len(uninterrupted["batches"]) > 3  # enough batches that the kill lands in the middle

    empty_warehouse(warehouse)
    kill_during_copy(channel, source, hang_at=3, tmp_path=tmp_path)
    killed = snapshot(warehouse)
    # the batches before the kill are whole; nothing of the one being copied
    assert 2 <= len(killed["batches"]) < len(uninterrupted["batches"])
    assert all(rows in uninterrupted[table] for table in killed if table != "batches" for rows in killed[table])
    load(warehouse, channel, source)
    assert snapshot(warehouse) == uninterrupted
