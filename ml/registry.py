"""The model registry: ``ml.model_registry`` rows (table made by ``c360.ddl``) and
artifacts on disk (``<models>/<model_name>/<version>.joblib``).

Each model name has at most one champion, the model that scores; a model
trained since that was not promoted is the challenger, kept with its figures.
An artifact is loaded only if its SHA-256 matches the registry, since
unpickling a tampered file would run its code.
"""
from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from pathlib import Path

import joblib

from c360.warehouse import Warehouse


class ArtifactTampered(RuntimeError):
    pass


@dataclass(frozen=True)
class RegisteredModel:
    model_name: str
    model_version: str
    artifact_path: str
    artifact_sha256: str
    features: list[str]
    metrics: dict


def library_versions() -> dict:
    import numpy
    import pandas
    import sklearn

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "pandas": pandas.__version__,
            "numpy": numpy.__version__, "joblib": joblib.__version__}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_and_register(warehouse: Warehouse, models_dir: Path, model, *, model_name: str, model_version: str,
                      train_from, train_as_of, validation_as_of, horizon_days: int, features: list[str],
                      metrics: dict, promote: bool) -> RegisteredModel:
    path = models_dir / model_name / f"{model_version}.joblib"
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    digest = sha256_of(path)
    with warehouse.connect() as conn, conn.cursor() as cur:
        if promote:
            cur.execute("update ml.model_registry set is_champion = false where model_name = %s", (model_name,))
        cur.execute(
            "insert into ml.model_registry (model_name, model_version, train_from, train_as_of, validation_as_of,"
            " horizon_days, features, metrics, library_versions, artifact_path, artifact_sha256, is_champion)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " on conflict (model_name, model_version) do update set train_from = excluded.train_from,"
            " train_as_of = excluded.train_as_of, validation_as_of = excluded.validation_as_of,"
            " features = excluded.features, metrics = excluded.metrics, library_versions = excluded.library_versions,"
            " artifact_path = excluded.artifact_path, artifact_sha256 = excluded.artifact_sha256,"
            " is_champion = excluded.is_champion, trained_at = now()",
            (model_name, model_version, train_from, train_as_of, validation_as_of, horizon_days, json.dumps(features),
             json.dumps(metrics), json.dumps(library_versions()), str(path), digest, promote),
        )
    return RegisteredModel(model_name, model_version, str(path), digest, features, metrics)


def _newest(warehouse: Warehouse, where: str, params: tuple) -> RegisteredModel | None:
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("select model_name, model_version, artifact_path, artifact_sha256, features, metrics"
                    f" from ml.model_registry where {where} order by trained_at desc limit 1", params)
        row = cur.fetchone()
    return RegisteredModel(*row) if row else None


def champion(warehouse: Warehouse, model_name: str) -> RegisteredModel | None:
    return _newest(warehouse, "model_name = %s and is_champion", (model_name,))


def challenger(warehouse: Warehouse, model_name: str) -> RegisteredModel | None:
    """The newest model trained after the champion (or with none) that was not promoted."""
    return _newest(warehouse, "model_name = %s and not is_champion and trained_at > coalesce((select max(trained_at)"
                              " from ml.model_registry where model_name = %s and is_champion), '-infinity')",
                   (model_name, model_name))


def load_artifact(model: RegisteredModel):
    path = Path(model.artifact_path)
    if not path.exists():
        raise FileNotFoundError(f"artifact of {model.model_name} {model.model_version} is missing: {path}")
    if sha256_of(path) != model.artifact_sha256:
        raise ArtifactTampered(f"{path} does not match the SHA-256 in ml.model_registry; refusing to load it")
    return joblib.load(path)
