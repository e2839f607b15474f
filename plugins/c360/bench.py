"""Benchmarks that print figures (``c360 bench <what>``); never assertions.

Each runs in a throwaway workspace with its own embedded PostgreSQL, so it
neither needs nor touches the user's warehouse, and removes it afterwards.
"""
from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def throwaway_workspace() -> Iterator[tuple[Workspace, Warehouse]]:
    """A fresh workspace and embedded warehouse, bootstrapped; both gone afterwards."""
    home = Path(tempfile.mkdtemp(prefix="c360b", dir=WORKSPACES_UNDER))
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
        shutil.rmtree(home, ignore_errors=True)
        os.environ.update(saved)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_ingest(customers: int, days: int, seed: int = 42) -> str:
    """Simulate a brand, then extract and load each channel in turn, timing each."""
    from c360.ingest import ingest_channel
    from c360.simulator import SimulationSettings, save_settings
    from c360.sources import CHANNELS, advance_simulation, write_simulated_sources

    end = date.today()
    with throwaway_workspace() as (workspace, warehouse):
        save_settings(workspace.simulator, SimulationSettings(customers=customers, seed=seed,
                                                              start_date=end - timedelta(days=days - 1)))
        write_simulated_sources(workspace)
        started = time.perf_counter()
        advance_simulation(workspace, warehouse, end)
        simulated = time.perf_counter() - started
        figures = []
        for channel in CHANNELS:
            started = time.perf_counter()
            results = ingest_channel(channel, end, workspace)
            figures.append(ChannelFigures(channel, len(results), sum(r.rows_extracted for r in results),
                                          time.perf_counter() - started))
    lines = [f"c360 bench ingest: {customers} customers, {days} days (simulated in {simulated:.1f} s)",
             f"{'channel':<10} {'batches':>8} {'rows':>10} {'seconds':>8} {'rows/s':>9}"]
    lines += [f"{f.channel:<10} {f.batches:>8} {f.rows:>10} {f.seconds:>8.1f} {f.rows_per_second:>9.0f}" for f in figures]
    total = ChannelFigures("all", sum(f.batches for f in figures), sum(f.rows for f in figures),
                           sum(f.seconds for f in figures))
    lines.append(f"{total.channel:<10} {total.batches:>8} {total.rows:>10} {total.seconds:>8.1f}"
                 f" {total.rows_per_second:>9.0f}")
    lines.append(f"peak memory of this process: {peak_rss_mb():.0f} MB")
    return "\n".join(lines)
