"""Train the purchase-propensity model on one as-of date, validate it out of
time on a later one, compare it with simple baselines and register it."""
from __future__ import annotations

import logging
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from c360.config import Workspace
from c360.warehouse import Warehouse
from ml import registry
from ml.dataset import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, build_features, load_features, purchase_labels

log = logging.getLogger(__name__)
MODEL_NAME = "purchase_30d"
HORIZON_DAYS = 30
# weekly snapshots stacked into one training set: more examples of each rhythm
TRAINING_SNAPSHOTS = 4
SEED = 7
MONEY_FEATURES = ["monetary", "net_amount_90d"]  # can be negative: scaled, not logged
# no order yet: treat as a year since the last one and no rhythm
NEVER_ORDERED_DAYS = 365


def make_pipeline() -> Pipeline:
    """One Pipeline: one-hot the stage, log-scale counts and durations, standardise, then a
    regularised logistic regression. On a few thousand customers it beats the tree ensembles
    we tried, which overfit (see the issue notes)."""
    counts = [c for c in NUMERIC_FEATURES if c not in MONEY_FEATURES]
    preprocess = ColumnTransformer(
        [
            ("stage", OneHotEncoder(handle_unknown="ignore", sparse_output=False), CATEGORICAL_FEATURES),
            ("counts", Pipeline([
                ("missing", SimpleImputer(strategy="constant", fill_value=NEVER_ORDERED_DAYS)),
                ("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
                ("scale", StandardScaler()),
            ]), counts),
            ("money", Pipeline([
                ("missing", SimpleImputer(strategy="constant", fill_value=0)),
                ("scale", StandardScaler()),
            ]), MONEY_FEATURES),
        ],
        verbose_feature_names_out=False,
    )
    classifier = LogisticRegression(C=0.5, max_iter=2000, random_state=SEED)
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


class NotEnoughHistory(ValueError):
    """The warehouse cannot yet show buyers and non-buyers in both windows."""


def _snapshot(warehouse: Warehouse, workspace: Workspace, day: date) -> tuple[pd.DataFrame, pd.Series]:
    build_features(warehouse, workspace, day)
    x = load_features(warehouse, day)
    return x, purchase_labels(warehouse, x, day, HORIZON_DAYS)


def train(warehouse: Warehouse, workspace: Workspace, as_of: date) -> registry.RegisteredModel:
    """Validate out of time at as_of - h (labels up to as_of); train on weekly snapshots
    whose labels all end by the validation date, the latest at as_of - 2h."""
    validation_as_of = as_of - timedelta(days=HORIZON_DAYS)
    train_as_of = validation_as_of - timedelta(days=HORIZON_DAYS)
    snapshots = [_snapshot(warehouse, workspace, train_as_of - timedelta(weeks=k)) for k in range(TRAINING_SNAPSHOTS)]
    x_train = pd.concat([x for x, _ in snapshots])
    y_train = pd.concat([y for _, y in snapshots])
    x_valid, y_valid = _snapshot(warehouse, workspace, validation_as_of)
    if y_train.nunique() < 2 or y_valid.nunique() < 2:
        raise NotEnoughHistory(f"not enough history to train {MODEL_NAME}: need buyers and non-buyers in"
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


def train_if_due(warehouse: Warehouse, workspace: Workspace, as_of: date) -> str:
    """The propensity DAG's weekly retraining; a workspace too young to train on gets a
    warning, not a failure (with no champion, scoring scores nobody and says so)."""
    if not training_due(warehouse, as_of):
        return "champion is recent; not retraining"
    try:
        model = train(warehouse, workspace, as_of)
    except NotEnoughHistory as err:
        log.warning("%s", err)
        return str(err)
    return f"trained {model.model_name} {model.model_version}"


def training_due(warehouse: Warehouse, as_of: date, every_days: int = 7) -> bool:
    """Weekly retraining: due when no model was trained for a date in the last ``every_days``."""
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
