"""One throwaway workspace with a real embedded PostgreSQL for the whole session.

Airflow reads its configuration when first imported, so the workspace and
Airflow's settings are fixed here, before any test module imports airflow.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import psycopg2
import pytest

# a short path: the server's Unix socket lives in it (~100 characters at most)
WORKSPACE = Path(tempfile.mkdtemp(prefix="c360t", dir="/tmp"))
WORKSPACE.chmod(0o755)  # the server runs as the unprivileged `pgserver` user when we are root
os.environ["C360_HOME"] = str(WORKSPACE)
os.environ.pop("C360_WAREHOUSE_DSN", None)
os.environ.pop("C360_SHOP_DSN", None)

from c360.access import ROLES  # noqa: E402
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


def empty_warehouse(warehouse) -> None:
    """Drop everything c360 wrote, then set the warehouse up again, empty."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(RESET_SQL)
    warehouse.bootstrap()


@pytest.fixture
def fresh_warehouse(warehouse, workspace):
    """The warehouse emptied of everything c360 wrote, for tests that count rows."""
    empty_warehouse(warehouse)
    return warehouse


@pytest.fixture
def severities_file(workspace):
    """Write the workspace's expectations.yml for one test."""
    import yaml

    from expectations.severities import FILE_NAME

    path = workspace.home / FILE_NAME

    def write(document) -> None:
        path.write_text(yaml.safe_dump(document))
    yield write
    path.unlink(missing_ok=True)


def query(warehouse, sql: str, params=()) -> list[tuple]:
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def assert_printed_cut_points_freeze_the_scores(warehouse, workspace, as_of) -> None:
    """Frozen at what `print_rfm_cut_points` prints, every customer keeps the day's quintile scores."""
    from itertools import takewhile

    import yaml

    from c360.transform import run_dbt

    scores = "select customer_key, r_score, f_score, m_score from marts.customer_rfm order by 1"
    quintiles = query(warehouse, scores)
    assert quintiles, "no customer to score"
    printed = run_dbt(["run-operation", "print_rfm_cut_points"], warehouse, workspace, as_of).splitlines()
    start = printed.index("rfm_cut_points:")
    block = [printed[start], *takewhile(lambda line: line.startswith(" "), printed[start + 1:])]
    frozen = yaml.safe_load("\n".join(block))
    assert sorted(frozen["rfm_cut_points"]) == ["frequency", "monetary", "recency_days"]
    assert all(len(cuts) == 4 for cuts in frozen["rfm_cut_points"].values()), frozen
    try:
        run_dbt(["run", "--select", "customer_rfm"], warehouse, workspace, as_of, extra_vars=frozen)
        assert query(warehouse, scores) == quintiles
    finally:
        run_dbt(["run", "--select", "customer_rfm"], warehouse, workspace, as_of)


@contextlib.contextmanager
def required_passwords(warehouse):
    """Make the embedded server demand SCRAM passwords from c360's roles (it trusts its
    socket otherwise), with a fresh random password per role in the environment."""
    hba = warehouse.embedded_pgdata / "pg_hba.conf"
    original = hba.read_text()
    passwords = {role.password_env: secrets.token_urlsafe(18) for role in ROLES}
    roles = ",".join(role.name for role in ROLES)
    saved = {name: os.environ.get(name) for name in passwords}
    os.environ.update(passwords)
    try:
        warehouse.bootstrap()  # sets the passwords
        hba.write_text(f"local all {roles} scram-sha-256\nhost all {roles} 127.0.0.1/32 scram-sha-256\n" + original)
        query(warehouse, "select pg_reload_conf()")
        yield passwords
    finally:
        hba.write_text(original)
        query(warehouse, "select pg_reload_conf()")
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server; yields a function that creates a fresh database and returns its DSN."""
    import pgserver

    pgdata = tempfile.mkdtemp(prefix="pg", dir="/tmp")  # short: the socket path is limited to ~100 chars
    os.chmod(pgdata, 0o755)  # as root, pgserver runs the server as user 'pgserver'
    server = pgserver.get_server(pgdata, cleanup_mode=None)

    def new_database(name: str) -> str:
        conn = psycopg2.connect(server.get_uri("postgres"))
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"create database {name}")
        conn.close()
        return server.get_uri(name)

    yield new_database
    from pgserver._commands import pg_ctl

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user="pgserver" if os.geteuid() == 0 else None)
    shutil.rmtree(pgdata, ignore_errors=True)
