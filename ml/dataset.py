"""Point-in-time training data: features as of a date, labels from after it."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from c360.config import Workspace
from c360.transform import run_dbt
from c360.warehouse import Warehouse

NUMERIC_FEATURES = [
    "tenure_days", "days_since_last_order", "frequency", "monetary", "orders_30d", "orders_90d",
    "orders_180d", "net_amount_90d", "avg_days_between_orders", "returns_and_cancellations",
    "social_interactions_90d", "social_seconds_read_90d", "has_shop_account", "has_store_purchases",
    "is_social_follower",
]
CATEGORICAL_FEATURES = ["lifecycle_stage"]
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES


def build_features(warehouse: Warehouse, workspace: Workspace, as_of: date) -> None:
    """(Re)build ``ml.customer_features`` for one as-of date."""
    run_dbt(["run", "--select", "customer_features"], warehouse, workspace, as_of)


def load_features(warehouse: Warehouse, as_of: date) -> pd.DataFrame:
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(
            f"select customer_key, {', '.join(FEATURES)} from ml.customer_features where as_of_date = %s"
            " order by customer_key",
            (as_of,),
        )
        frame = pd.DataFrame(cur.fetchall(), columns=["customer_key", *FEATURES])
    frame[NUMERIC_FEATURES] = frame[NUMERIC_FEATURES].apply(pd.to_numeric).astype(float)
    return frame.set_index("customer_key")


def purchase_labels(warehouse: Warehouse, features: pd.DataFrame, as_of: date, horizon_days: int) -> pd.Series:
    """1 for customers with an order in (as_of, as_of + horizon], else 0, aligned to ``features``."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select distinct customer_key from marts.fct_orders"
            " where customer_key is not null and ordered_on > %s and ordered_on <= %s",
            (as_of, as_of + timedelta(days=horizon_days)),
        )
        buyers = {row[0] for row in cur.fetchall()}
    return pd.Series(features.index.isin(buyers).astype(int), index=features.index, name="purchased")
