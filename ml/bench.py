"""``c360 bench ml``: training time and scoring throughput of the propensity
models, in a throwaway workspace (``c360.bench``), printed, never asserted.

Training runs on a simulated brand built the way the pipeline builds it
(simulate, ingest every channel, ``dbt build``). Scoring is timed at a size no
simulated warehouse here reaches quickly: the last day's real feature rows are
resampled into ``ml.customer_features`` under new keys for a further day (say
1,000,000), then scored end to end as the daily task does: features read with
COPY, predicted, scores replaced with COPY.
"""
from __future__ import annotations

import time
from datetime import date, timedelta

import numpy as np

from c360.bench import build_simulated_warehouse, throwaway_workspace
from c360.warehouse import Warehouse
from ml import evaluation, registry
from ml.dataset import FEATURES, copy_in, load_features
from ml.score import score_features
from ml.targets import target, targets
from ml.train import NotEnoughHistory, train


def synthetic_features(warehouse: Warehouse, source_day: date, day: date, rows: int, seed: int) -> None:
    """`rows` feature rows for `day`, resampled from `source_day`'s, written with COPY."""
    real = load_features(warehouse, source_day)
    sample = real.iloc[np.random.default_rng(seed).integers(0, len(real), rows)].reset_index(drop=True)
    sample.insert(0, "as_of_date", day.isoformat())
    sample.insert(0, "customer_key", [f"synthetic{i:09d}" for i in range(rows)])
    with warehouse.connect() as conn, conn.cursor() as cur:
        copy_in(cur, "ml.customer_features", sample)


def bench_ml(customers: int, days: int, seed: int = 42, score_rows: int = 1_000_000) -> str:
    end = date.today()
    lines = [f"c360 bench ml: {customers} customers, {days} days"]
    with throwaway_workspace() as (workspace, warehouse):
        started = time.perf_counter()
        build_simulated_warehouse(workspace, warehouse, customers, days, seed, end)
        lines.append(f"simulated, ingested and built the warehouse in {time.perf_counter() - started:.0f} s")
        for each in targets():
            try:
                model = train(warehouse, workspace, end, each)
            except NotEnoughHistory as err:
                lines.append(f"{each.model_name}: not trained: {err}")
                continue
            champion = registry.champion(warehouse, each.model_name)
            role = "champion" if champion and champion.model_version == model.model_version else "challenger"
            lines += [f"{each.model_name}: trained in {model.metrics['training_seconds']:.1f} s (features for"
                      f" {len(model.metrics['train_dates']) + 1} dates, candidate selection, calibrated fit,"
                      f" evaluation); {role}",
                      evaluation.format_report(each.model_name, model.metrics)]

        purchase = target("purchase")
        if registry.champion(warehouse, purchase.model_name) is None:
            lines.append("scoring: no champion to score with")
            return "\n".join(lines)
        day = end + timedelta(days=1)
        synthetic_features(warehouse, end, day, score_rows, seed)
        model = registry.load_artifact(registry.champion(warehouse, purchase.model_name))
        features = load_features(warehouse, day)
        started = time.perf_counter()
        model.predict_proba(features[FEATURES])
        predicting = time.perf_counter() - started
        started = time.perf_counter()
        run = score_features(warehouse, day, purchase)
        scoring = time.perf_counter() - started
    lines += [f"scoring {run.customers:,} customers (synthetic: {customers} real feature rows resampled) with"
              f" {run.model_name} {run.model_version}:",
              f"  end to end (read features with COPY, predict, replace scores with COPY): {scoring:.1f} s,"
              f" {run.customers / scoring:,.0f} customers/s",
              f"  of which predicting alone: {predicting:.1f} s, {run.customers / predicting:,.0f} customers/s"]
    return "\n".join(lines)
