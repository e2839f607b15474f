"""Score customers with a target's champion into ``ml.propensity_scores``.

Re-scoring a date replaces that model's scores for it (one transaction: delete,
then COPY). Each run is recorded in ``ml.scoring_runs`` with the PSI of the
day's scores against training's; drift warns, it does not fail the run.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from c360.config import Workspace
from c360.warehouse import Warehouse
from ml import evaluation, registry
from ml.dataset import build_features, copy_in, load_features
from ml.targets import Target

log = logging.getLogger(__name__)
SCORE_COLUMNS = ["customer_key", "model_name", "model_version", "scored_for_date", "score", "score_decile"]


@dataclass(frozen=True)
class ScoringRun:
    model_name: str
    model_version: str | None  # None: no champion, nobody scored
    customers: int
    psi: float | None

    @property
    def drifted(self) -> bool:
        return self.psi is not None and self.psi > evaluation.PSI_WARNING


def deciles(scores: np.ndarray) -> np.ndarray:
    """1-10, 10 = highest scores; equal-sized by rank so ties cannot empty a decile."""
    ranks = pd.Series(scores).rank(method="first").to_numpy()
    return np.ceil(ranks * 10 / len(scores)).clip(1, 10).astype(int)


def write_scores(warehouse: Warehouse, scores: pd.DataFrame, run: ScoringRun, as_of: date) -> None:
    """Replace the model's scores for the date and record the run, set-based."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("delete from ml.propensity_scores where model_name = %s and scored_for_date = %s",
                    (run.model_name, as_of))
        copy_in(cur, "ml.propensity_scores", scores[SCORE_COLUMNS])
        cur.execute(
            "insert into ml.scoring_runs (model_name, scored_for_date, model_version, customers, psi, drifted)"
            " values (%s, %s, %s, %s, %s, %s) on conflict (model_name, scored_for_date) do update set"
            " model_version = excluded.model_version, customers = excluded.customers, psi = excluded.psi,"
            " drifted = excluded.drifted, scored_at = now()",
            (run.model_name, as_of, run.model_version, run.customers, run.psi, run.drifted),
        )


def score_features(warehouse: Warehouse, as_of: date, target: Target) -> ScoringRun:
    """Score the target's population from ``ml.customer_features`` as built for the date.
    With no champion (no candidate beat the baselines yet) score nobody: a model no
    better than RFM must not choose whom marketing contacts."""
    entry = registry.champion(warehouse, target.model_name)
    if entry is None:
        log.warning("no champion %s in ml.model_registry (no candidate beat the baselines); nothing scored",
                    target.model_name)
        return ScoringRun(target.model_name, None, 0, None)
    model = registry.load_artifact(entry)
    features = load_features(warehouse, as_of)
    features = features[target.population(features)]
    probability = model.predict_proba(features[entry.features])[:, 1].clip(0, 1)
    reference = entry.metrics.get("score_reference")
    run = ScoringRun(target.model_name, entry.model_version, len(features),
                     evaluation.psi(reference, probability) if reference and len(features) else None)
    scores = pd.DataFrame({"customer_key": features.index, "model_name": entry.model_name,
                           "model_version": entry.model_version, "scored_for_date": as_of.isoformat(),
                           "score": probability, "score_decile": deciles(probability) if len(features) else []})
    write_scores(warehouse, scores, run, as_of)
    if run.drifted:
        log.warning("%s %s scores for %s drifted from training: PSI %.3f > %.1f (ml.scoring_runs)",
                    run.model_name, run.model_version, as_of, run.psi, evaluation.PSI_WARNING)
    log.info("scored %d customers with %s %s for %s (PSI %s)", run.customers, run.model_name, run.model_version,
             as_of, "n/a" if run.psi is None else f"{run.psi:.3f}")
    return run


def score(warehouse: Warehouse, workspace: Workspace, as_of: date, targets: list[Target]) -> list[ScoringRun]:
    """(Re)build the date's features, then score them with each target's champion."""
    build_features(warehouse, workspace, [as_of])
    return [score_features(warehouse, as_of, target) for target in targets]
