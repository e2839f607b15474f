"""One throwaway workspace with a real embedded PostgreSQL for the whole session.

Airflow reads its configuration when first imported, so the workspace and
Airflow's settings are fixed here, before any test module imports airflow.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# a short path: the server's Unix socket lives in it (~100 characters at most)
WORKSPACE = Path(tempfile.mkdtemp(prefix="c360t", dir="/tmp"))
WORKSPACE.chmod(0o755)  # the server runs as the unprivileged `pgserver` user when we are root
os.environ["C360_HOME"] = str(WORKSPACE)
os.environ.pop("C360_WAREHOUSE_DSN", None)
os.environ.pop("C360_SHOP_DSN", None)

from c360.config import AIRFLOW_DB, Workspace  # noqa: E402
from c360.orchestrate import airflow_settings  # noqa: E402
from c360.warehouse import ConnectionParams, Warehouse, open_warehouse, stop_embedded  # noqa: E402

_socket_params = ConnectionParams(dbname="c360", host=str(WORKSPACE / "pg"))
os.environ.update(airflow_settings(Workspace(WORKSPACE), Warehouse(_socket_params)))
assert os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith(f"/{AIRFLOW_DB}?host={WORKSPACE}/pg")

RESET_SQL = """
drop schema if exists raw, ops, staging, intermediate, marts, pii, ml, activation cascade;
"""


@pytest.fixture(scope="session")
def workspace() -> Workspace:
    return Workspace.from_env().ensure()


@pytest.fixture(scope="session")
def warehouse(workspace):
    warehouse = open_warehouse(workspace)
    warehouse.bootstrap()
    yield warehouse
    stop_embedded(workspace)
    shutil.rmtree(WORKSPACE, ignore_errors=True)


@pytest.fixture
def fresh_warehouse(warehouse, workspace):
    """The warehouse emptied of everything c360 wrote, for tests that count rows."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(RESET_SQL)
    warehouse.bootstrap()
    return warehouse


def query(warehouse, sql: str, params=()) -> list[tuple]:
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()
