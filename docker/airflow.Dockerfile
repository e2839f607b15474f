# syntax=docker/dockerfile:1
#
# The image of every Airflow service in docker-compose.yml (api-server,
# scheduler, dag-processor, triggerer, Celery workers, init).
#
# It bakes in c360's dependencies (dbt-core + dbt-postgres, Great Expectations,
# astronomer-cosmos, scikit-learn, ...) by installing the project itself. The
# compose file mounts the live source folders on top and puts them first on
# PYTHONPATH, so editing plugins/, ml/, expectations/, dags/ or dbt_project/
# needs no rebuild; changing dependencies in pyproject.toml does:
#
#   docker compose build
#
# Build context: the repository root (see `build:` in docker-compose.yml).
FROM apache/airflow:3.3.2-python3.11

# Folders that docker-compose.yml mounts named volumes on. A fresh named volume
# copies the ownership of the image folder it is mounted over, so creating them
# here as airflow (group 0, group-writable) makes the volumes writable from
# their first start.
USER root
RUN install -d -o airflow -g 0 -m 0775 /opt/c360 /opt/c360/workspace /opt/airflow/auth
USER airflow

# The installable project: the package directories pyproject.toml maps
# (plugins/c360 -> c360, ml, expectations) plus the files setuptools reads.
COPY --chown=airflow:0 pyproject.toml README.md /opt/c360/
COPY --chown=airflow:0 plugins/ /opt/c360/plugins/
COPY --chown=airflow:0 ml/ /opt/c360/ml/
COPY --chown=airflow:0 expectations/ /opt/c360/expectations/

# Pinning apache-airflow to the image's own version (AIRFLOW_VERSION is set by
# the base image) keeps pip from swapping the Airflow the image ships while it
# resolves c360's dependencies.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" /opt/c360

# Fail the build, not the first DAG run, if something the workers need is
# missing: the distributions, and the dbt executable next to the interpreter
# (c360.transform runs <dir of sys.executable>/dbt).
RUN python - <<'PY'
import sys
from importlib.metadata import version
from pathlib import Path

for dist in ("c360", "apache-airflow", "apache-airflow-providers-celery", "dbt-core", "dbt-postgres",
             "great-expectations", "astronomer-cosmos", "scikit-learn"):
    print(f"{dist}=={version(dist)}")
dbt = Path(sys.executable).parent / "dbt"
if not dbt.exists():
    sys.exit(f"dbt is not installed next to {sys.executable}")
PY
