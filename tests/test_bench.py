"""`c360 bench` runs in a throwaway workspace and prints figures (it asserts none)."""
import re
import tempfile
from pathlib import Path

from c360 import bench
from c360.cli import main


def test_bench_ingest_prints_a_row_per_channel_and_leaves_nothing_behind(capsys, monkeypatch):
    parent = Path(tempfile.mkdtemp(prefix="b", dir="/tmp"))
    monkeypatch.setattr(bench, "WORKSPACES_UNDER", parent)
    assert main(["bench", "ingest", "--customers", "300", "--days", "3"]) == 0
    out = capsys.readouterr().out
    rows = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in re.finditer(
        r"^(\w+) +(\d+) +(\d+) +[\d.]+ +\d+$", out, re.MULTILINE)}
    assert set(rows) == {"shop", "social", "pos", "app", "campaigns", "service", "all"}
    assert rows["all"][1] == sum(rows[c][1] for c in rows if c != "all") > 0
    assert "peak memory" in out
    per_batch = re.search(r"GX validation: [\d.]+ s for (\d+) batches: [\d.]+ s per batch, [\d.]+ s per 100k rows", out)
    assert per_batch and int(per_batch.group(1)) > 0
    assert list(parent.iterdir()) == []  # the workspace and its server are gone
    parent.rmdir()
