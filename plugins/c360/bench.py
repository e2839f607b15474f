"""Benchmarks that print figures (``c360 bench <what>``); never assertions.

Each runs in a throwaway workspace with its own embedded PostgreSQL, so it
neither needs nor touches the user's warehouse, and removes it afterwards
(unless told to keep it, to look at what a figure came from).
"""
from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

from c360.config import Workspace
from c360.warehouse import Warehouse, open_warehouse, stop_embedded

WORKSPACES_UNDER = Path("/tmp")  # short: the server's socket path must stay under ~100 characters


@dataclass(frozen=True)
class ChannelFigures:
    channel: str
    batches: int
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


class KeepFolderError(ValueError):
    """The folder asked to keep a bench's workspace in cannot take it."""


def _kept_home(keep: Path) -> Path:
    """`keep`, made and empty, or a clear error before any work starts."""
    home = keep.resolve()
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise KeepFolderError(f"{keep} is not an empty folder: keep a bench's workspace in a new one")
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise KeepFolderError(f"cannot keep a bench's workspace in {keep}: {err.strerror}") from err
    return home


@contextlib.contextmanager
def throwaway_workspace(keep: Path | None = None) -> Iterator[tuple[Workspace, Warehouse]]:
    """A fresh workspace and embedded warehouse, bootstrapped; both gone afterwards,
    or, with `keep`, the workspace left in that folder with its server stopped."""
    home = _kept_home(keep) if keep else Path(tempfile.mkdtemp(prefix="c360b", dir=WORKSPACES_UNDER))
    home.chmod(0o755)  # as root, the server runs as the unprivileged `pgserver` user
    # never the user's warehouse or shop database
    saved = {name: os.environ.pop(name) for name in ("C360_WAREHOUSE_DSN", "C360_SHOP_DSN") if name in os.environ}
    workspace = Workspace(home).ensure()
    try:
        warehouse = open_warehouse(workspace)
        warehouse.bootstrap()
        yield workspace, warehouse
    finally:
        stop_embedded(workspace)
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
        os.environ.update(saved)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def simulated_brand(workspace: Workspace, customers: int, days: int, seed: int, start: date) -> None:
    """Make the workspace's sources a simulated brand of `customers` people whose history starts on `start`."""
    from c360.simulator import SimulationSettings, save_settings
    from c360.sources import write_simulated_sources

    save_settings(workspace.simulator, SimulationSettings(customers=customers, seed=seed, start_date=start))
    write_simulated_sources(workspace)


def build_simulated_warehouse(workspace: Workspace, warehouse: Warehouse, customers: int, days: int, seed: int,
                              end: date) -> None:
    """A simulated brand's history up to `end`, ingested and built into the marts."""
    from c360.ingest import ingest_channel
    from c360.sources import CHANNELS, advance_simulation
    from c360.transform import build_warehouse

    simulated_brand(workspace, customers, days, seed, start=end - timedelta(days=days - 1))
    advance_simulation(workspace, warehouse, end)
    for channel in CHANNELS:
        ingest_channel(channel, end, workspace)
    build_warehouse(warehouse, workspace, end)


def kept_note(keep: Path | None) -> list[str]:
    """How to look inside a kept workspace (its server is stopped)."""
    if not keep:
        return []
    return [f"workspace kept in {keep.resolve()}: env -u C360_WAREHOUSE_DSN C360_HOME={keep.resolve()}"
            " c360 warehouse start, then c360 warehouse dsn for psql, or c360 dbt ... against it"]


def bench_ingest(customers: int, days: int, seed: int = 42, keep: Path | None = None) -> str:
    """Simulate a brand, then extract and load each channel in turn, timing each."""
    from c360.ingest import ingest_channel
    from c360.sources import CHANNELS, advance_simulation

    end = date.today()
    with throwaway_workspace(keep) as (workspace, warehouse):
        simulated_brand(workspace, customers, days, seed, start=end - timedelta(days=days - 1))
        started = time.perf_counter()
        advance_simulation(workspace, warehouse, end)
        simulated = time.perf_counter() - started
        figures = []
        for channel in CHANNELS:
            started = time.perf_counter()
            results = ingest_channel(channel, end, workspace)
            figures.append(ChannelFigures(channel, len(results), sum(r.rows_extracted for r in results),
                                          time.perf_counter() - started))
        validated = validation_cost(warehouse)
    lines = [f"c360 bench ingest: {customers} customers, {days} days (simulated in {simulated:.1f} s)",
             f"{'channel':<10} {'batches':>8} {'rows':>10} {'seconds':>8} {'rows/s':>9}"]
    lines += [f"{f.channel:<10} {f.batches:>8} {f.rows:>10} {f.seconds:>8.1f} {f.rows_per_second:>9.0f}" for f in figures]
    total = ChannelFigures("all", sum(f.batches for f in figures), sum(f.rows for f in figures),
                           sum(f.seconds for f in figures))
    lines.append(f"{total.channel:<10} {total.batches:>8} {total.rows:>10} {total.seconds:>8.1f}"
                 f" {total.rows_per_second:>9.0f}")
    lines.append(validated)
    lines.append(f"peak memory of this process: {peak_rss_mb():.0f} MB")
    return "\n".join(lines + kept_note(keep))


def validation_cost(warehouse: Warehouse) -> str:
    """GX's share of the loads: seconds per batch and per 100k rows (ops.dq_runs times each validation)."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("select count(*), coalesce(sum(r.seconds), 0), coalesce(sum(b.rows_extracted), 0)"
                    " from ops.dq_runs r join ops.batches b using (batch_id)")
        batches, seconds, rows = (float(v) for v in cur.fetchone())
    if not batches:
        return "GX validation: no batch validated"
    return (f"GX validation: {seconds:.1f} s for {batches:.0f} batches: {seconds / batches:.3f} s per batch,"
            f" {seconds / rows * 100_000:.1f} s per 100k rows")


def dbt_node_seconds(workspace: Workspace) -> dict[str, float]:
    """Seconds per model, seed and test of the last dbt invocation (its run_results.json)."""
    results = json.loads((workspace.dbt_target / "target" / "run_results.json").read_text())
    return {r["unique_id"]: r["execution_time"] for r in results["results"]}


def _by_resource_type(seconds: dict[str, float]) -> str:
    """'models 12.3 s, tests 4.5 s, ...': a build's time by dbt resource type."""
    totals: dict[str, float] = {}
    for unique_id, took in seconds.items():
        kind = unique_id.split(".", 1)[0]
        totals[kind] = totals.get(kind, 0.0) + took
    return ", ".join(f"{kind}s {took:.1f} s" for kind, took in sorted(totals.items(), key=lambda item: -item[1]))


def _slowest(seconds: dict[str, float], count: int = 8) -> list[str]:
    ranked = sorted(seconds.items(), key=lambda item: -item[1])[:count]
    return [f"    {name.split('.', 2)[-1]:<48} {took:>7.1f} s" for name, took in ranked]


def vacuum_analyze(warehouse: Warehouse) -> float:
    """Seconds to vacuum and analyze the whole warehouse, as autovacuum does between daily builds."""
    started = time.perf_counter()
    with warehouse.connect(autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("vacuum (analyze)")
    return time.perf_counter() - started


def bench_warehouse(customers: int, days: int, seed: int = 42, keep: Path | None = None) -> str:
    """The full `dbt build` of a brand's history, then the daily build after one more
    day of data (what the warehouse DAG runs every day), and that day built again with
    nothing new (after the same vacuum), which splits the daily build's time into what
    every day costs and what the day's rows cost; with the slowest nodes of each. Every
    build runs without the incremental look-back (see below)."""
    from c360.ingest import ingest_channel
    from c360.quality import WAREHOUSE_SUITES, validate_tables
    from c360.sources import CHANNELS, advance_simulation
    from c360.transform import build_warehouse

    today = date.today()
    yesterday = today - timedelta(days=1)
    timings = {}
    with throwaway_workspace(keep) as (workspace, warehouse):

        def timed_build(as_of: date) -> tuple[float, dict[str, float]]:
            started = time.perf_counter()
            # the day arrives minutes after the history here, not a day later: a look-back
            # (which catches loads that commit late) would redo the whole history
            build_warehouse(warehouse, workspace, as_of, extra_vars={"incremental_lookback_hours": 0})
            return time.perf_counter() - started, dbt_node_seconds(workspace)

        simulated_brand(workspace, customers, days, seed, start=yesterday - timedelta(days=days - 1))
        for label, as_of in (("full", yesterday), ("daily", today)):
            advance_simulation(workspace, warehouse, as_of)
            rows = sum(r.rows_loaded for channel in CHANNELS for r in ingest_channel(channel, as_of, workspace))
            if label == "daily":
                vacuum_seconds = vacuum_analyze(warehouse)
            timings[label] = (rows, *timed_build(as_of))
            marts = validate_tables(warehouse, as_of, WAREHOUSE_SUITES)
        # the same day again, nothing new loaded: what a daily build costs whatever the day brings
        vacuum_analyze(warehouse)
        again, again_nodes = timed_build(today)
    (full_rows, full, full_nodes), (daily_rows, daily, daily_nodes) = timings["full"], timings["daily"]
    lines = [f"c360 bench warehouse: {customers} customers, {days} days",
             f"full build  ({full_rows:>9} rows loaded, as of {yesterday}): {full:7.1f} s",
             f"daily build ({daily_rows:>9} rows loaded, as of {today}): {daily:7.1f} s"
             f"  = {daily / full:.0%} of the full build",
             f"the same day again (nothing new): {again:.1f} s, dbt's own cost and the marts about every customer;"
             f" the day's rows cost the rest, {daily - again:.1f} s = {(daily - again) / full:.0%} of the full build",
             f"vacuum (analyze) before the daily build: {vacuum_seconds:.1f} s, not timed"
             " (a daily build follows the last one by a day, when autovacuum has long processed what it wrote)",
             f"mart suites (GX in PostgreSQL) after the daily build: {sum(v.seconds for v in marts):.1f} s"
             f" for {customers} customers (" + ", ".join(f"{v.suite} {v.seconds:.1f} s" for v in marts) + ")",
             f"full build by node type:  {_by_resource_type(full_nodes)}",
             f"daily build by node type: {_by_resource_type(daily_nodes)}",
             "slowest nodes of the full build:", *_slowest(full_nodes),
             "slowest nodes of the daily build:", *_slowest(daily_nodes),
             "slowest nodes of the same day again:", *_slowest(again_nodes), *kept_note(keep)]
    return "\n".join(lines)
