"""Every DAG imports cleanly, reads like config and is wired by assets."""
import ast
from pathlib import Path

import pytest

from c360.orchestrate import DAGS_FOLDER, asset_order, load_dags

EXPECTED = ["c360_ingest", "c360_warehouse", "c360_propensity", "c360_activation"]


@pytest.fixture(scope="module")
def dags():
    return load_dags()  # raises with the import errors if any DAG fails to import


def test_all_dags_import(dags):
    assert sorted(dags) == sorted(EXPECTED)


def test_dags_run_in_asset_order(dags):
    assert [d.dag_id for d in asset_order(dags)] == EXPECTED


@pytest.mark.parametrize("dag_id", EXPECTED)
def test_every_task_retries_and_the_dag_is_documented(dags, dag_id):
    dag = dags[dag_id]
    assert dag.doc_md and dag.doc_md.strip().startswith("###")
    assert dag.catchup is False
    for task in dag.tasks:
        assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


@pytest.mark.parametrize("path", sorted(DAGS_FOLDER.glob("*.py")), ids=lambda p: p.name)
def test_dag_files_stay_thin(path: Path):
    """Heavy and warehouse imports happen inside tasks, never when the scheduler parses the file."""
    tree = ast.parse(path.read_text())
    top_level = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    modules = {(n.module if isinstance(n, ast.ImportFrom) else n.names[0].name) for n in top_level}
    assert modules <= {"pendulum", "airflow.sdk", "c360.assets"}, modules
