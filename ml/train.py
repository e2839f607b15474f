"""Train a propensity model on past as-of dates, validate it out of time on a
later one next to the baselines, and register it: champion if it beats the best
baseline and the current champion on the same validation date, else challenger."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, cross_val_score

from c360.config import Workspace
from c360.warehouse import Warehouse
from ml import evaluation, registry
from ml.candidates import CANDIDATES, make_pipeline
from ml.dataset import FEATURES, bought_within, build_features, first_order_date, load_features
from ml.targets import Target

log = logging.getLogger(__name__)
# weekly snapshots stacked into one training set: more examples of each rhythm. Five, not
# more: on a 150-day simulated brand, older snapshots have too little history behind them to
# look like today's customers (nine ranked the truth worse than four or five)
TRAINING_SNAPSHOTS = 5
SNAPSHOT_EVERY_DAYS = 7
MIN_HISTORY_DAYS = 28  # a snapshot needs this much order history behind it to say anything
SELECTION_FOLDS = 3
RETRAIN_EVERY_DAYS = 7


class NotEnoughHistory(ValueError):
    """The warehouse cannot yet show positives and negatives in both windows."""


@dataclass(frozen=True)
class Schedule:
    """Training snapshots and the validation date. Every training label ends by the
    validation date, and the validation labels end by the as-of date: out of time."""

    train_dates: list[date]
    validation_as_of: date


def schedule(as_of: date, horizon_days: int, first_order_on: date | None) -> Schedule:
    validation_as_of = as_of - timedelta(days=horizon_days)
    latest = validation_as_of - timedelta(days=horizon_days)
    earliest = first_order_on + timedelta(days=MIN_HISTORY_DAYS) if first_order_on else latest + timedelta(days=1)
    train_dates = [d for k in range(TRAINING_SNAPSHOTS)
                   if (d := latest - timedelta(days=k * SNAPSHOT_EVERY_DAYS)) >= earliest]
    if not train_dates:
        raise NotEnoughHistory(f"a {horizon_days}-day horizon needs order history from {latest - timedelta(days=MIN_HISTORY_DAYS)}"
                               f" to validate on {validation_as_of}; it starts {first_order_on}")
    return Schedule(sorted(train_dates), validation_as_of)


def snapshot(warehouse: Warehouse, day: date, target: Target) -> tuple[pd.DataFrame, pd.Series]:
    """The target's population on a day, and their labels."""
    features = load_features(warehouse, day)
    features = features[target.population(features)]
    return features, target.labels(bought_within(warehouse, features.index, day, target.horizon_days))


def select_classifier(x: pd.DataFrame, y: pd.Series) -> dict[str, float]:
    """Each candidate's ROC AUC over folds of the training rows that never split a
    customer (their weekly snapshots are near copies), best first."""
    folds = GroupKFold(n_splits=SELECTION_FOLDS)
    aucs = {name: float(np.mean(cross_val_score(make_pipeline(name, calibrated=False), x[FEATURES], y,
                                                groups=x.index, cv=folds, scoring="roc_auc")))
            for name in CANDIDATES}
    return dict(sorted(aucs.items(), key=lambda item: -item[1]))


def champion_auc(warehouse: Warehouse, target: Target, version: str, x: pd.DataFrame, y: pd.Series) -> float | None:
    """The current champion's ROC AUC on this validation date, for a like-for-like comparison
    (none to beat when it is the version being retrained, or it reads features no longer built)."""
    entry = registry.champion(warehouse, target.model_name)
    if entry is None or entry.model_version == version or not set(entry.features) <= set(x.columns):
        return None
    model = registry.load_artifact(entry)
    return evaluation.evaluate(y, model.predict_proba(x[entry.features])[:, 1])["roc_auc"]


def train(warehouse: Warehouse, workspace: Workspace, as_of: date, target: Target) -> registry.RegisteredModel:
    started = time.perf_counter()
    version = as_of.strftime("%Y%m%d")  # one per as-of date: retraining a date replaces it
    plan = schedule(as_of, target.horizon_days, first_order_date(warehouse))
    build_features(warehouse, workspace, [*plan.train_dates, plan.validation_as_of])
    snapshots = [snapshot(warehouse, day, target) for day in plan.train_dates]
    x_train = pd.concat([x for x, _ in snapshots])
    y_train = pd.concat([y for _, y in snapshots])
    x_valid, y_valid = snapshot(warehouse, plan.validation_as_of, target)
    if y_train.nunique() < 2 or y_valid.nunique() < 2:
        raise NotEnoughHistory(f"not enough history to train {target.model_name}: need positives and negatives"
                               f" on {plan.train_dates[-1]} and {plan.validation_as_of}")

    selection = select_classifier(x_train, y_train)
    classifier = next(iter(selection))
    model = make_pipeline(classifier).fit(x_train[FEATURES], y_train)
    predicted = model.predict_proba(x_valid[FEATURES])[:, 1]
    baselines = evaluation.baseline_probabilities(x_train, y_train, x_valid, target)
    metrics = evaluation.compare(y_valid, predicted, baselines) | {
        "classifier": classifier, "selection_roc_auc": selection,
        "train_dates": [d.isoformat() for d in plan.train_dates], "validation_as_of": plan.validation_as_of.isoformat(),
        "train_rows": int(len(x_train)), "validation_rows": int(len(x_valid)),
        "train_positive_rate": float(y_train.mean()), "validation_positive_rate": float(y_valid.mean()),
        # the newest training population's scores: what a day's scores are checked against for drift
        "score_reference": evaluation.score_reference(model.predict_proba(snapshots[-1][0][FEATURES])[:, 1]),
        "champion_roc_auc": champion_auc(warehouse, target, version, x_valid, y_valid),
    }
    auc, best_baseline = metrics["model"]["roc_auc"], evaluation.best_baseline_auc(metrics)
    promote = auc > best_baseline and auc >= (metrics["champion_roc_auc"] or 0)
    metrics["training_seconds"] = time.perf_counter() - started
    log.info("%s\n%s: %s (ROC AUC %.3f; best baseline %.3f; champion %s)", evaluation.format_report(
        target.model_name, metrics), target.model_name, "champion" if promote else "challenger", auc, best_baseline,
        "none" if metrics["champion_roc_auc"] is None else f"{metrics['champion_roc_auc']:.3f}")
    return registry.save_and_register(
        warehouse, workspace.models, model, model_name=target.model_name, model_version=version,
        train_from=plan.train_dates[0], train_as_of=plan.train_dates[-1], validation_as_of=plan.validation_as_of,
        horizon_days=target.horizon_days, features=FEATURES, metrics=metrics, promote=promote,
    )


def training_due(warehouse: Warehouse, as_of: date, target: Target) -> bool:
    """Weekly: due when no model of this target was trained for a date in the last week."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("select max(validation_as_of + horizon_days) from ml.model_registry where model_name = %s",
                    (target.model_name,))
        last_trained_for = cur.fetchone()[0]
    return last_trained_for is None or not 0 <= (as_of - last_trained_for).days < RETRAIN_EVERY_DAYS


def train_if_due(warehouse: Warehouse, workspace: Workspace, as_of: date, target: Target) -> str:
    """The propensity DAG's weekly retraining; a workspace too young to train on gets a
    warning, not a failure (with no champion, scoring scores nobody and says so)."""
    if not training_due(warehouse, as_of, target):
        return f"{target.model_name}: trained within the week; not retraining"
    try:
        model = train(warehouse, workspace, as_of, target)
    except NotEnoughHistory as err:
        log.warning("%s", err)
        return str(err)
    return f"trained {model.model_name} {model.model_version}"
