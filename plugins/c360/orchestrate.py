"""Run the pipeline through Airflow: every DAG, in asset order, for one day.

Airflow's settings are derived from the workspace (its metadata lives in a
second database on the warehouse server), so the CLI, the UI and the tests
see the same DAG runs. Call ``configure_airflow`` before importing airflow.
"""
from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator, TextIO

from c360.config import AIRFLOW_DB, PROJECT_ROOT, Workspace
from c360.warehouse import Warehouse

DAGS_FOLDER = PROJECT_ROOT / "dags"
log = logging.getLogger(__name__)


class PipelineFailed(RuntimeError):
    pass


def airflow_settings(workspace: Workspace, warehouse: Warehouse) -> dict[str, str]:
    settings = {
        "AIRFLOW_HOME": str(workspace.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": warehouse.database(AIRFLOW_DB).sqlalchemy_url(),
        "C360_HOME": str(workspace.home),
    }
    # an explicit Airflow setting (docker-compose, a team's own) wins
    return {k: os.environ.get(k, v) for k, v in settings.items()}


def configure_airflow(workspace: Workspace, warehouse: Warehouse) -> None:
    workspace.airflow_home.mkdir(parents=True, exist_ok=True)
    os.environ.update(airflow_settings(workspace, warehouse))
    marker = workspace.airflow_home / ".db-migrated"
    if not marker.exists():
        airflow = Path(sys.executable).parent / "airflow"
        subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, text=True)
        marker.write_text(datetime.now(timezone.utc).isoformat())


def load_dags():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(DAGS_FOLDER))
    if bag.import_errors:
        raise PipelineFailed("DAGs failed to import:\n" + "\n".join(f"{k}: {v}" for k, v in bag.import_errors.items()))
    return bag.dags


def _asset_uris(condition) -> set[str]:
    """URIs of the assets in a schedule condition (assets combined with & and |)."""
    if condition is None:
        return set()
    if hasattr(condition, "uri"):
        return {condition.uri}
    return set().union(*(_asset_uris(part) for part in getattr(condition, "objects", ())))


def _consumed_assets(dag) -> set[str]:
    return _asset_uris(getattr(dag.timetable, "asset_condition", None))


def _produced_assets(dag) -> set[str]:
    return {outlet.uri for task in dag.tasks for outlet in task.outlets if hasattr(outlet, "uri")}


def asset_order(dags: dict) -> list:
    """DAGs sorted so each runs after the DAGs producing the assets it is scheduled on."""
    produced_by = {uri: dag_id for dag_id, dag in dags.items() for uri in _produced_assets(dag)}
    upstream = {dag_id: {produced_by[u] for u in _consumed_assets(dag) if u in produced_by}
                for dag_id, dag in dags.items()}
    ordered, done = [], set()
    while len(ordered) < len(dags):
        ready = sorted(d for d in dags if d not in done and upstream[d] <= done)
        if not ready:
            raise PipelineFailed(f"asset cycle between DAGs: {sorted(set(dags) - done)}")
        for dag_id in ready:
            ordered.append(dags[dag_id])
            done.add(dag_id)
    return ordered


@dataclass
class DagOutcome:
    dag_id: str
    state: str
    seconds: float
    failed_tasks: list[str]


@contextlib.contextmanager
def output_to(log_file: Path) -> Iterator[TextIO]:
    """Send everything written to stdout and stderr, by any library, to ``log_file``
    (at the file-descriptor level: Airflow's loggers hold their own stream
    handles); yields a stream to the original stdout for progress lines."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved[0]), "w", buffering=1)
    with log_file.open("a") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            terminal.close()


def run_dag(dag, as_of: date) -> DagOutcome:
    """Run one DAG in-process for the day, as ``airflow dags test`` does."""
    logical_date = datetime(as_of.year, as_of.month, as_of.day, tzinfo=timezone.utc)
    started = time.monotonic()
    dag_run = dag.test(logical_date=logical_date, run_conf={"as_of": as_of.isoformat()})
    failed = [ti.task_id for ti in dag_run.get_task_instances() if ti.state not in ("success", "skipped")]
    return DagOutcome(dag.dag_id, str(dag_run.state), time.monotonic() - started, failed)


def run_pipeline(workspace: Workspace, warehouse: Warehouse, as_of: date) -> list[DagOutcome]:
    """Run every DAG for the day, printing one line per DAG; task logs go to the workspace."""
    configure_airflow(workspace, warehouse)
    log_dir = workspace.home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"run_{as_of:%Y-%m-%d}.log"
    outcomes = []
    with output_to(log_file) as terminal:
        for dag in asset_order(load_dags()):
            outcome = run_dag(dag, as_of)
            outcomes.append(outcome)
            print(f"  {outcome.dag_id:<18} {outcome.state:<8} {outcome.seconds:6.1f}s", file=terminal)
            if outcome.state != "success":
                raise PipelineFailed(
                    f"{outcome.dag_id} failed for {as_of} (tasks: {', '.join(outcome.failed_tasks) or 'unknown'});"
                    f" its task logs are in {log_file}"
                )
    return outcomes
