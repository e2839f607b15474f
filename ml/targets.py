"""What the propensity models predict: a purchase within a horizon, and churn
(no purchase within a horizon) among recent buyers.

The horizons are settings (``C360_PURCHASE_HORIZON_DAYS``, default 30, and
``C360_CHURN_HORIZON_DAYS``, default 90) and part of the model's name, since a
different horizon is a different question: ``purchase_30d``, ``churn_90d``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd

RECENT_BUYER_DAYS = 90  # churn is asked of people who ordered within this many days
MAX_HORIZON_DAYS = 365


@dataclass(frozen=True)
class Target:
    kind: str  # purchase | churn
    horizon_days: int

    @property
    def model_name(self) -> str:
        return f"{self.kind}_{self.horizon_days}d"

    @property
    def is_churn(self) -> bool:
        return self.kind == "churn"

    def population(self, features: pd.DataFrame) -> pd.Series:
        """Who the model is for: every known customer, or for churn the recent buyers."""
        if self.is_churn:
            return features["days_since_last_order"] <= RECENT_BUYER_DAYS
        return pd.Series(True, index=features.index)

    def labels(self, bought: pd.Series) -> pd.Series:
        """From 'ordered within the horizon' (0/1) to this target's positive class."""
        return (1 - bought if self.is_churn else bought).rename(self.model_name)


def _horizon(variable: str, default: int) -> int:
    text = os.environ.get(variable, str(default))
    if not text.isdigit() or not 1 <= int(text) <= MAX_HORIZON_DAYS:
        raise ValueError(f"{variable} must be a whole number of days from 1 to {MAX_HORIZON_DAYS}, got {text!r}")
    return int(text)


HORIZONS = {"purchase": ("C360_PURCHASE_HORIZON_DAYS", 30), "churn": ("C360_CHURN_HORIZON_DAYS", 90)}


def target(kind: str) -> Target:
    """The purchase or churn target, with its horizon from the environment."""
    return Target(kind, _horizon(*HORIZONS[kind]))


def targets() -> list[Target]:
    return [target(kind) for kind in HORIZONS]
