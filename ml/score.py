"""Score every customer with the champion model into ``ml.propensity_scores``.
Re-scoring a date replaces that date's scores."""
from __future__ import annotations

import io
import logging
from datetime import date

import numpy as np
import pandas as pd

from c360.config import Workspace
from c360.warehouse import Warehouse
from ml import registry
from ml.dataset import build_features, load_features

log = logging.getLogger(__name__)


def deciles(scores: pd.Series) -> pd.Series:
    """1-10, 10 = highest scores; equal-sized by rank so ties cannot empty a decile."""
    ranks = scores.rank(method="first")
    return np.ceil(ranks * 10 / len(scores)).clip(1, 10).astype(int)


def score(warehouse: Warehouse, workspace: Workspace, as_of: date, model_name: str) -> int:
    """Score with the champion; with none (no candidate beat the baselines yet) score nobody:
    a model no better than RFM must not choose whom marketing contacts."""
    model_entry = registry.champion(warehouse, model_name)
    if model_entry is None:
        log.warning("no champion %s in ml.model_registry (no candidate beat the baselines); nothing scored", model_name)
        return 0
    model = registry.load_artifact(model_entry)
    build_features(warehouse, workspace, as_of)
    features = load_features(warehouse, as_of)
    scores = pd.DataFrame({
        "customer_key": features.index,
        "model_name": model_entry.model_name,
        "model_version": model_entry.model_version,
        "scored_for_date": as_of.isoformat(),
        "score": model.predict_proba(features[model_entry.features])[:, 1].clip(0, 1),
    })
    scores["score_decile"] = deciles(scores["score"]).to_numpy()
    buffer = io.StringIO()
    scores.to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("delete from ml.propensity_scores where model_name = %s and scored_for_date = %s",
                    (model_name, as_of))
        cur.copy_expert(
            "copy ml.propensity_scores (customer_key, model_name, model_version, scored_for_date, score,"
            " score_decile) from stdin with (format csv)",
            buffer,
        )
    log.info("scored %d customers with %s %s for %s", len(scores), model_name, model_entry.model_version, as_of)
    return len(scores)
