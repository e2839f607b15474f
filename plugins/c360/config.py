"""Where c360 keeps its state and how it reaches its warehouse.

Everything is read from the environment so Airflow workers, the CLI and the
tests agree without passing settings around:

- ``C360_HOME``: the workspace folder (default ``.c360/`` in the project).
- ``C360_WAREHOUSE_DSN``: a PostgreSQL URI; unset means the embedded server.
- ``C360_SHOP_DSN``: the simulated shop's own database (default: database
  ``c360_shop`` on the warehouse server).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WAREHOUSE_DB = "c360"
SHOP_DB = "c360_shop"
AIRFLOW_DB = "c360_airflow"


@dataclass(frozen=True)
class Workspace:
    """The folders of one c360 workspace; created on first use."""

    home: Path

    @classmethod
    def from_env(cls) -> "Workspace":
        home = Path(os.environ.get("C360_HOME") or PROJECT_ROOT / ".c360").resolve()
        return cls(home)

    @property
    def pgdata(self) -> Path:
        return self.home / "pg"

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def simulator(self) -> Path:
        return self.home / "simulator"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def dbt_target(self) -> Path:
        return self.home / "dbt"

    @property
    def models(self) -> Path:
        return self.home / "models"

    @property
    def exports(self) -> Path:
        return self.home / "exports"

    @property
    def quality_docs(self) -> Path:
        return self.home / "data_docs"

    @property
    def sources_file(self) -> Path:
        return self.home / "sources.yaml"

    def ensure(self) -> "Workspace":
        for folder in (self.home, self.landing, self.simulator, self.models, self.exports):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def warehouse_dsn_from_env() -> str | None:
    return os.environ.get("C360_WAREHOUSE_DSN") or None
