"""The figures a model is judged by, the training schedule and the targets, on
numbers worked out by hand."""
from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml import evaluation
from ml.candidates import CANDIDATES, make_pipeline
from ml.dataset import FEATURES, NUMERIC_FEATURES
from ml.score import deciles
from ml.targets import Target, target
from ml.train import NotEnoughHistory, schedule


def test_top_decile_lift_and_capture():
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1] * 2)  # 4 positives in 20
    score = np.arange(20, 0, -1)  # the top two (the top tenth) are a positive and a negative
    lift, capture = evaluation.top_decile(y, score)
    assert lift == pytest.approx((1 / 2) / (4 / 20)) and capture == pytest.approx(1 / 4)


def test_top_decile_counts_ties_across_the_cut_in_proportion():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    flat = np.zeros(10)  # no ranking at all: the top tenth holds the average
    assert evaluation.top_decile(y, flat) == pytest.approx((1.0, 0.1))
    tied_top = np.array([2, 2, 1, 1, 1, 1, 1, 1, 1, 1])  # the cut (one customer) falls inside a tie of two positives
    assert evaluation.top_decile(y, tied_top) == pytest.approx((5.0, 0.5))


def test_calibration_table_bins_predictions_against_what_happened():
    y = np.array([0, 0, 1, 1, 1])
    p = np.array([0.05, 0.15, 0.15, 0.95, 1.0])
    assert evaluation.calibration_table(y, p) == [
        {"bin": "0.0-0.1", "count": 1, "mean_predicted": 0.05, "observed_rate": 0.0},
        {"bin": "0.1-0.2", "count": 2, "mean_predicted": pytest.approx(0.15), "observed_rate": 0.5},
        {"bin": "0.9-1.0", "count": 2, "mean_predicted": pytest.approx(0.975), "observed_rate": 1.0},
    ]


def test_quintiles_give_a_tie_the_score_of_its_first_position():
    assert evaluation.quintile(pd.Series([1, 1, 1, 2, 3, 4])).tolist() == [1, 1, 1, 3, 4, 5]
    assert evaluation.quintile(pd.Series([30, 10, 20, 50, 40])).tolist() == [3, 1, 2, 5, 4]


def test_rfm_baseline_sums_quintiles_and_ranks_non_buyers_last():
    features = pd.DataFrame({"days_since_last_order": [1, 10, 100, 50, 20, np.nan],
                             "frequency": [5, 4, 1, 2, 3, 0], "monetary": [500, 400, 100, 200, 300, 0]})
    rankings = evaluation.baseline_rankings(features)
    assert rankings["rfm"].tolist() == [15, 12, 3, 6, 9, 0]
    assert np.argsort(-rankings["recency"]).tolist() == [0, 1, 4, 3, 2, 5]


def test_psi_is_zero_on_the_training_distribution_and_large_when_scores_shift():
    rng = np.random.default_rng(1)
    training = rng.beta(2, 5, 20_000)
    reference = evaluation.score_reference(training)
    assert len(reference["edges"]) == 9 and reference["shares"] == pytest.approx([0.1] * 10, abs=1e-3)
    assert evaluation.psi(reference, rng.beta(2, 5, 20_000)) < 0.01
    assert evaluation.psi(reference, rng.beta(5, 2, 20_000)) > evaluation.PSI_WARNING


def test_deciles_are_equal_sized_even_when_scores_tie():
    assert np.bincount(deciles(np.zeros(1000)))[1:].tolist() == [100] * 10
    assert deciles(np.linspace(1, 0, 20)).tolist() == [d for d in range(10, 0, -1) for _ in (0, 1)]


def test_training_labels_end_before_validation_which_ends_by_the_as_of_date():
    plan = schedule(date(2026, 6, 30), 30, first_order_on=date(2026, 3, 1))
    assert plan.validation_as_of == date(2026, 5, 31)
    assert plan.train_dates == [date(2026, 4, 3), date(2026, 4, 10), date(2026, 4, 17), date(2026, 4, 24),
                                date(2026, 5, 1)]
    with pytest.raises(NotEnoughHistory, match="90-day horizon"):
        schedule(date(2026, 6, 30), 90, first_order_on=date(2026, 3, 1))


def test_churn_is_asked_of_recent_buyers_and_is_the_absence_of_a_purchase():
    features = pd.DataFrame({"days_since_last_order": [5, 200, np.nan]}, index=["a", "b", "c"])
    churn = Target("churn", 90)
    assert churn.population(features).tolist() == [True, False, False]
    assert churn.labels(pd.Series([1, 0, 0], index=features.index)).tolist() == [0, 1, 1]
    assert Target("purchase", 30).population(features).all()


def test_horizons_are_settings_and_name_the_model(monkeypatch):
    monkeypatch.setenv("C360_CHURN_HORIZON_DAYS", "60")
    assert target("churn").model_name == "churn_60d" and target("purchase").model_name == "purchase_30d"
    for bad in ("0", "-5", "ninety", "400"):
        monkeypatch.setenv("C360_PURCHASE_HORIZON_DAYS", bad)
        with pytest.raises(ValueError, match="C360_PURCHASE_HORIZON_DAYS"):
            target("purchase")


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_every_candidate_trains_on_a_brand_with_orders_only(name):
    """No social, app, campaign or service data: those features are all zero or all unknown."""
    rng = np.random.default_rng(3)
    n = 400
    features = pd.DataFrame(0.0, index=[f"c{i}" for i in range(n)], columns=NUMERIC_FEATURES)
    features["frequency"] = rng.poisson(2, n)
    features["days_since_last_order"] = np.where(features["frequency"] > 0, rng.integers(0, 120, n), np.nan)
    for never_known in ("social_follower_count", "avg_satisfaction", "days_since_app_event"):
        features[never_known] = np.nan
    features["lifecycle_stage"] = np.where(features["frequency"] > 0, "active", "prospect")
    bought = (rng.random(n) < 0.2 + 0.1 * features["frequency"].clip(upper=5)).astype(int)
    model = make_pipeline(name).fit(features[FEATURES], bought)
    scores = model.predict_proba(features[FEATURES])[:, 1]
    assert np.isfinite(scores).all() and evaluation.evaluate(bought, scores)["roc_auc"] > 0.6
