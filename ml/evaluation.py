"""How good a propensity score is, next to the baselines it must beat, and how
far today's scores have drifted from training's.

Baselines are the rankings marketing would use without a model: the RFM score
(the sum of the R, F and M quintile scores, as in ``marts.customer_rfm``) and
recency alone. Each is turned into a probability by an isotonic fit on the
training rows, so its Brier score and calibration are comparable too.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from ml.targets import Target

CALIBRATION_BINS = 10
PSI_BINS = 10
PSI_WARNING = 0.2  # the usual rule of thumb: above 0.2 the population has shifted materially
NEVER_ORDERED_DAYS = 10_000  # ranks people who never ordered below everyone who did


def top_decile(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """Lift (positive rate in the top tenth over the overall rate) and capture (share of
    all positives found there). Scores tied across the cut count in proportion, so a
    coarse ranking such as RFM is not flattered or punished by the order of its ties."""
    y, score = np.asarray(y, dtype=float), np.asarray(score, dtype=float)
    cut = len(y) / 10
    values, inverse = np.unique(-score, return_inverse=True)  # best first
    counts = np.bincount(inverse)
    positives = np.bincount(inverse, weights=y)
    before = np.concatenate([[0], np.cumsum(counts)[:-1]])
    taken = np.clip(cut - before, 0, counts) / counts
    found = float((taken * positives).sum())
    total = y.sum()
    if total == 0:
        return float("nan"), float("nan")
    return found / cut / y.mean(), found / total


def calibration_table(y: np.ndarray, probability: np.ndarray) -> list[dict]:
    """Predicted against observed, in ten equal-width probability bins (empty ones left out)."""
    y, probability = np.asarray(y, dtype=float), np.asarray(probability, dtype=float)
    bins = np.minimum((probability * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    return [
        {"bin": f"{b / CALIBRATION_BINS:.1f}-{(b + 1) / CALIBRATION_BINS:.1f}", "count": int((bins == b).sum()),
         "mean_predicted": float(probability[bins == b].mean()), "observed_rate": float(y[bins == b].mean())}
        for b in range(CALIBRATION_BINS) if (bins == b).any()
    ]


def evaluate(y: pd.Series, probability: np.ndarray) -> dict:
    lift, capture = top_decile(y, probability)
    return {
        "roc_auc": float(roc_auc_score(y, probability)),
        "pr_auc": float(average_precision_score(y, probability)),
        "brier": float(brier_score_loss(y, probability)),
        "top_decile_lift": lift,
        "top_decile_capture": capture,
        "calibration": calibration_table(y, probability),
    }


def quintile(values: pd.Series) -> np.ndarray:
    """1-5 by position in fifths of the values, ties sharing their first position's (lower)
    score: dbt's ``quintile_score``, which scores RFM."""
    first_position = values.rank(method="min").to_numpy(dtype=np.int64) - 1
    return 1 + 5 * first_position // len(values)


def baseline_rankings(features: pd.DataFrame) -> dict[str, np.ndarray]:
    """Higher = more likely to buy. RFM scores only buyers; people who never ordered rank last."""
    recency = -features["days_since_last_order"].fillna(NEVER_ORDERED_DAYS)
    buyers = features["frequency"] > 0
    rfm = pd.Series(0.0, index=features.index)
    if buyers.any():
        b = features[buyers]
        rfm[buyers] = (quintile(-b["days_since_last_order"]) + quintile(b["frequency"])
                       + quintile(b["monetary"]))
    return {"rfm": rfm.to_numpy(), "recency": recency.to_numpy()}


def baseline_probabilities(train: pd.DataFrame, y_train: pd.Series, valid: pd.DataFrame,
                           target: Target) -> dict[str, np.ndarray]:
    """Each baseline's validation probabilities: its ranking mapped to the rate it had in training."""
    sign = -1 if target.is_churn else 1  # the baselines rank buyers first; churners are the opposite
    fitted, applied = baseline_rankings(train), baseline_rankings(valid)
    return {
        name: IsotonicRegression(out_of_bounds="clip").fit(sign * fitted[name], y_train).predict(sign * applied[name])
        for name in fitted
    }


def compare(y: pd.Series, model_probability: np.ndarray, baselines: dict[str, np.ndarray]) -> dict:
    return {"model": evaluate(y, model_probability),
            "baselines": {name: evaluate(y, probability) for name, probability in baselines.items()}}


def best_baseline_auc(metrics: dict) -> float:
    return max(b["roc_auc"] for b in metrics["baselines"].values())


def score_reference(scores: np.ndarray) -> dict:
    """The training scores' decile edges and shares: what PSI compares a day's scores with."""
    edges = np.unique(np.quantile(scores, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
    return {"edges": edges.tolist(), "shares": _shares(scores, edges).tolist()}


def _shares(scores: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.bincount(np.searchsorted(edges, scores, side="right"), minlength=len(edges) + 1) / len(scores)


def psi(reference: dict, scores: np.ndarray) -> float:
    """Population stability index of the scores against the reference bins."""
    expected = np.maximum(np.asarray(reference["shares"]), 1e-4)
    actual = np.maximum(_shares(scores, np.asarray(reference["edges"])), 1e-4)
    return float(((actual - expected) * np.log(actual / expected)).sum())


def format_report(model_name: str, metrics: dict) -> str:
    """The validation figures of a model and its baselines, as a table, then the model's calibration."""
    columns = {"model": metrics["model"], **metrics["baselines"]}
    lines = [f"{model_name}: out-of-time validation on {metrics['validation_as_of']}"
             f" ({metrics['validation_rows']} customers, positive rate {metrics['validation_positive_rate']:.3f});"
             f" classifier {metrics['classifier']}",
             f"  {'':<20}" + "".join(f"{name:>10}" for name in columns)]
    for key in ("roc_auc", "pr_auc", "brier", "top_decile_lift", "top_decile_capture"):
        lines.append(f"  {key:<20}" + "".join(f"{m[key]:>10.3f}" for m in columns.values()))
    lines.append("  calibration (model): bin, customers, mean predicted, observed")
    lines += [f"    {c['bin']}  {c['count']:>7}  {c['mean_predicted']:.3f}  {c['observed_rate']:.3f}"
              for c in metrics["model"]["calibration"]]
    return "\n".join(lines)
