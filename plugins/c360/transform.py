"""Run the dbt project against the warehouse for an as-of date."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from c360.access import TRANSFORMER, views_bypassing_grants
from c360.config import PROJECT_ROOT, Workspace
from c360.warehouse import SCHEMAS, Warehouse

log = logging.getLogger(__name__)
DBT_PROJECT = PROJECT_ROOT / "dbt_project"


class DbtFailed(RuntimeError):
    pass


class UnsafeViews(RuntimeError):
    pass


def dbt_env(warehouse: Warehouse, workspace: Workspace) -> dict[str, str]:
    """The environment profiles.yml reads, plus where dbt writes its artefacts.
    dbt always connects as the transformer, whoever calls it."""
    p = warehouse.as_role(TRANSFORMER).params
    return {
        **os.environ,
        "C360_PG_HOST": p.host or "localhost",
        "C360_PG_PORT": p.port or "5432",
        "C360_PG_USER": p.user,
        "C360_PG_PASSWORD": p.password,
        "C360_PG_DBNAME": p.dbname,
        "DBT_TARGET_PATH": str(workspace.dbt_target / "target"),
        "DBT_LOG_PATH": str(workspace.dbt_target / "logs"),
        "DBT_PROFILES_DIR": str(DBT_PROJECT),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def run_dbt(command: list[str], warehouse: Warehouse, workspace: Workspace, as_of: date | None = None,
            extra_vars: dict | None = None) -> str:
    """Run a dbt command in the project; raise DbtFailed with dbt's output if it fails.
    The as-of date travels as C360_AS_OF_DATE rather than in --vars, so that a new
    day does not defeat dbt's partial parsing (see the as_of_date macro)."""
    args = [str(Path(sys.executable).parent / "dbt"), *command, "--project-dir", str(DBT_PROJECT)]
    if extra_vars:
        args += ["--vars", json.dumps(extra_vars)]
    env = dbt_env(warehouse, workspace)
    if as_of is not None:
        env["C360_AS_OF_DATE"] = as_of.isoformat()
    completed = subprocess.run(args, env=env, capture_output=True, text=True, cwd=DBT_PROJECT)
    if completed.returncode != 0:
        raise DbtFailed(f"dbt {' '.join(command)} failed:\n{completed.stdout[-6000:]}\n{completed.stderr[-2000:]}")
    log.info("dbt %s:\n%s", " ".join(command), completed.stdout[-3000:])
    return completed.stdout


def build_warehouse(warehouse: Warehouse, workspace: Workspace, as_of: date, extra_vars: dict | None = None) -> str:
    """Seed, run and test every model for the as-of date (``dbt build``), then make
    sure no view in the warehouse lets a role read past its grants. Unit tests
    check the SQL, not the day's data: CI runs them (`dbt test --select test_type:unit`)."""
    output = run_dbt(["build", "--exclude-resource-type", "unit_test"], warehouse, workspace, as_of, extra_vars)
    with warehouse.as_role(TRANSFORMER).connect() as conn, conn.cursor() as cur:
        unsafe = views_bypassing_grants(cur, SCHEMAS)
    if unsafe:
        raise UnsafeViews(
            f"view(s) {', '.join(unsafe)} run with their owner's privileges, so their readers would see tables"
            " they were never granted: recreate them `with (security_invoker = true)` or drop them")
    return output
