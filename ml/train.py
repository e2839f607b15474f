"""Train the purchase-propensity model on one as-of date, validate it out of
time on a later one, compare it with simple baselines and register it."""
from __future__ import annotations

import logging
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from c360.config import Workspace
from c360.warehouse import Warehouse
from ml import registry
from ml.dataset import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, build_features, load_features, purchase_labels

log = logging.getLogger(__name__)
MODEL_NAME = "purchase_30d"
HORIZON_DAYS = 30
SEED = 7


def make_pipeline() -> Pipeline:
    """One Pipeline: encode the stage, pass numbers through (the booster handles missing values)."""
    preprocess = ColumnTransformer(
        [("stage", OneHotEncoder(handle_unknown="ignore", sparse_output=False), CATEGORICAL_FEATURES)],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    classifier = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, l2_regularization=1.0, random_state=SEED,
    )
    return Pipeline([("preprocess", preprocess), ("classifier", classifier)])


def top_decile_lift(y: pd.Series, score: np.ndarray) -> float:
    order = np.argsort(-score, kind="stable")
    top = y.to_numpy()[order[: max(1, len(order) // 10)]]
    base = y.mean()
    return float(top.mean() / base) if base > 0 else float("nan")


def evaluate(y: pd.Series, score: np.ndarray) -> dict:
    return {
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
        "top_decile_lift": top_decile_lift(y, score),
    }


def baseline_scores(features: pd.DataFrame) -> dict[str, np.ndarray]:
    """Rankings a model must beat: recency alone, and an RFM-style sum of quintile ranks."""
    recency = -features["days_since_last_order"].fillna(10_000).to_numpy()
    ranks = [features[c].rank(pct=True).to_numpy() for c in ("frequency", "monetary")]
    rfm = pd.Series(recency).rank(pct=True).to_numpy() + ranks[0] + ranks[1]
    return {"recency": recency, "rfm": rfm}


def train(warehouse: Warehouse, workspace: Workspace, as_of: date) -> registry.RegisteredModel:
    """Fit on features at as_of - 2h (labels up to as_of - h), validate at as_of - h (labels up to as_of)."""
    validation_as_of = as_of - timedelta(days=HORIZON_DAYS)
    train_as_of = validation_as_of - timedelta(days=HORIZON_DAYS)
    registry.ensure_tables(warehouse)
    sets = {}
    for name, day in (("train", train_as_of), ("validation", validation_as_of)):
        build_features(warehouse, workspace, day)
        x = load_features(warehouse, day)
        sets[name] = (x, purchase_labels(warehouse, x, day, HORIZON_DAYS))
    x_train, y_train = sets["train"]
    x_valid, y_valid = sets["validation"]
    if y_train.nunique() < 2 or y_valid.nunique() < 2:
        raise ValueError(f"not enough history to train {MODEL_NAME}: need buyers and non-buyers in"
                         f" both windows ({train_as_of} and {validation_as_of})")

    model = make_pipeline().fit(x_train[FEATURES], y_train)
    predicted = model.predict_proba(x_valid[FEATURES])[:, 1]
    metrics = {
        "model": evaluate(y_valid, predicted) | {"brier": float(brier_score_loss(y_valid, predicted))},
        "baselines": {name: evaluate(y_valid, s) for name, s in baseline_scores(x_valid).items()},
        "train_rows": int(len(x_train)), "validation_rows": int(len(x_valid)),
        "train_positive_rate": float(y_train.mean()), "validation_positive_rate": float(y_valid.mean()),
    }
    best_baseline = max(b["roc_auc"] for b in metrics["baselines"].values())
    promote = metrics["model"]["roc_auc"] > best_baseline
    log.info("%s validation AUC %.3f vs best baseline %.3f: %s", MODEL_NAME, metrics["model"]["roc_auc"],
             best_baseline, "promoted" if promote else "not promoted")
    return registry.save_and_register(
        warehouse, workspace.models, model, model_name=MODEL_NAME, model_version=as_of.strftime("%Y%m%d"),
        train_as_of=train_as_of, validation_as_of=validation_as_of, horizon_days=HORIZON_DAYS,
        features=FEATURES, metrics=metrics, promote=promote,
    )


def training_due(warehouse: Warehouse, as_of: date, every_days: int = 7) -> bool:
    """Weekly retraining: due when no model was trained for a date in the last ``every_days``."""
    registry.ensure_tables(warehouse)
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select max(validation_as_of) from ml.model_registry where model_name = %s and is_champion",
            (MODEL_NAME,),
        )
        last_validation = cur.fetchone()[0]
    if last_validation is None:
        return True
    last_trained_for = last_validation + timedelta(days=HORIZON_DAYS)
    return not (0 <= (as_of - last_trained_for).days < every_days)
