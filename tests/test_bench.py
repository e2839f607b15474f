"""`c360 bench` runs in a throwaway workspace, or one it is told to keep, and prints figures (it asserts none)."""
import re
import shutil
import tempfile
from pathlib import Path

from c360 import bench
from c360.cli import main


def test_bench_ingest_prints_a_row_per_channel_and_keeps_its_workspace_when_told(capsys, monkeypatch):
    parent = Path(tempfile.mkdtemp(prefix="b", dir="/tmp"))
    monkeypatch.setattr(bench, "WORKSPACES_UNDER", parent)
    kept = parent / "kept"
    assert main(["bench", "ingest", "--customers", "300", "--days", "3", "--keep", str(kept)]) == 0
    out = capsys.readouterr().out
    rows = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in re.finditer(
        r"^(\w+) +(\d+) +(\d+) +[\d.]+ +\d+$", out, re.MULTILINE)}
    assert set(rows) == {"shop", "social", "pos", "app", "campaigns", "service", "all"}
    assert rows["all"][1] == sum(rows[c][1] for c in rows if c != "all") > 0
    assert "peak memory" in out
    per_batch = re.search(r"GX validation: [\d.]+ s for (\d+) batches: [\d.]+ s per batch, [\d.]+ s per 100k rows", out)
    assert per_batch and int(per_batch.group(1)) > 0
    assert f"workspace kept in {kept}: env -u C360_WAREHOUSE_DSN C360_HOME={kept} c360 warehouse start" in out
    assert list(parent.iterdir()) == [kept]  # no throwaway workspace beside it
    assert (kept / "pg" / "PG_VERSION").exists() and not (kept / "pg" / "postmaster.pid").exists()
    assert any((kept / "landing").rglob("*")), "the extracted batches are kept"
    shutil.rmtree(parent)


def test_bench_refuses_to_keep_its_workspace_in_a_folder_in_use(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["bench", "warehouse", "--customers", "300", "--days", "3", "--keep", str(tmp_path)]) == 2
    assert "is not an empty folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert main(["bench", "ingest", "--keep", str(tmp_path / "notes.txt" / "kept")]) == 2
    assert "cannot keep a bench's workspace in" in capsys.readouterr().err


def test_bench_warehouse_prints_the_full_daily_and_repeated_builds_and_where_the_time_goes(capsys, monkeypatch):
    parent = Path(tempfile.mkdtemp(prefix="b", dir="/tmp"))
    monkeypatch.setattr(bench, "WORKSPACES_UNDER", parent)
    assert main(["bench", "warehouse", "--customers", "300", "--days", "10"]) == 0
    out = capsys.readouterr().out
    full = re.search(r"^full build +\( *(\d+) rows loaded.*: +([\d.]+) s$", out, re.MULTILINE)
    daily = re.search(r"^daily build +\( *(\d+) rows loaded.*: +([\d.]+) s += (\d+)% of the full build$", out,
                      re.MULTILINE)
    assert full and daily and 0 < int(daily.group(1)) < int(full.group(1))
    # the percentage comes from the unrounded times: allow the printed rounding
    assert abs(int(daily.group(3)) - 100 * float(daily.group(2)) / float(full.group(2))) <= 1
    again = re.search(r"^the same day again \(nothing new\): ([\d.]+) s, .*; the day's rows cost the rest,"
                      r" (-?[\d.]+) s = -?\d+% of the full build$", out, re.MULTILINE)
    assert again and abs(float(again.group(1)) + float(again.group(2)) - float(daily.group(2))) <= 0.15
    assert re.search(r"^vacuum \(analyze\) before the daily build: [\d.]+ s, not timed", out, re.MULTILINE)
    for build in ("full", "daily"):
        by_type = re.search(rf"^{build} build by node type: (.*)$", out, re.MULTILINE).group(1)
        assert {"models", "tests", "seeds"} <= set(re.findall(r"(\w+) [\d.]+ s", by_type))
    for build in ("full build", "daily build", "same day again"):
        slowest = out.split(f"slowest nodes of the {build}:\n")[1].split("slowest nodes")[0]
        assert len(re.findall(r"^    \S+ +[\d.]+ s$", slowest, re.MULTILINE)) == 8
    assert "workspace kept" not in out
    assert list(parent.iterdir()) == []  # the workspace and its server are gone
    parent.rmdir()
