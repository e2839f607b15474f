"""Point-in-time training data: features as of a date (``ml.customer_features``,
built by dbt), labels from the orders after it."""
from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Iterable

import pandas as pd
import pyarrow
import pyarrow.csv

from c360.config import Workspace
from c360.transform import run_dbt
from c360.warehouse import Warehouse

NUMERIC_FEATURES = [
    # recency, frequency, money and their recent trend
    "days_since_last_order", "days_since_first_order", "frequency", "monetary", "orders_30d", "orders_90d",
    "orders_90_180d", "net_amount_90d", "average_order_value", "returns_and_cancellations",
    # rhythm
    "avg_days_between_orders", "stddev_days_between_orders", "overdue_ratio",
    # social engagement and reach
    "social_interactions_30d", "social_interactions_30_90d", "social_seconds_read_90d", "social_shares_90d", "days_since_social_interaction",
    "is_following", "social_follower_count",
    # campaign responsiveness
    "campaign_sends_180d", "campaign_opens_180d", "campaign_clicks_180d", "campaign_conversions_180d",
    "orders_after_sends_180d", "has_unsubscribed", "days_since_campaign_send",
    # service
    "tickets_180d", "complaints_180d", "open_tickets", "avg_satisfaction", "low_satisfaction_tickets", "days_since_ticket",
    # app
    "app_sessions_30d", "app_sessions_30_90d", "app_product_views_30d", "app_cart_adds_30d", "days_since_app_event",
    # channel mix and tenure
    "store_order_share", "has_shop_account", "is_member", "is_social_follower", "has_app_account",
    "is_campaign_contact", "days_since_first_seen",
]
CATEGORICAL_FEATURES = ["lifecycle_stage"]
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES


def build_features(warehouse: Warehouse, workspace: Workspace, dates: Iterable[date]) -> None:
    """(Re)build ``ml.customer_features`` for each date and test those dates, in one dbt build."""
    dates = sorted(set(dates))
    run_dbt(["build", "--select", "customer_features"], warehouse, workspace, dates[-1],
            extra_vars={"feature_dates": [d.isoformat() for d in dates]})


def copy_out(warehouse: Warehouse, query: str, params: tuple = (), text_columns: Iterable[str] = ()) -> pd.DataFrame:
    """A query's rows through COPY (set-based, far faster than fetching rows at scale)."""
    buffer = io.BytesIO()
    with warehouse.connect() as conn, conn.cursor() as cur:
        statement = cur.mogrify(query, params).decode()
        cur.copy_expert(f"copy ({statement}) to stdout with (format csv, header)", buffer)
    buffer.seek(0)
    types = {column: pyarrow.string() for column in text_columns}
    return pyarrow.csv.read_csv(buffer, convert_options=pyarrow.csv.ConvertOptions(column_types=types)).to_pandas()


def copy_in(cur, table: str, frame: pd.DataFrame) -> None:
    """Append a frame's rows to a table with COPY (columns by name; NaN is null)."""
    buffer = io.BytesIO()
    pyarrow.csv.write_csv(pyarrow.Table.from_pandas(frame, preserve_index=False), buffer,
                          write_options=pyarrow.csv.WriteOptions(include_header=False))
    buffer.seek(0)
    cur.copy_expert(f"copy {table} ({', '.join(frame.columns)}) from stdin with (format csv)", buffer)


def load_features(warehouse: Warehouse, as_of: date) -> pd.DataFrame:
    """Every customer's features for the date, indexed by customer_key (sorted)."""
    frame = copy_out(
        warehouse,
        f"select customer_key, {', '.join(FEATURES)} from ml.customer_features where as_of_date = %s",
        (as_of,),
        text_columns=["customer_key", *CATEGORICAL_FEATURES],
    )
    frame[NUMERIC_FEATURES] = frame[NUMERIC_FEATURES].astype(float)
    return frame.set_index("customer_key").sort_index()  # sorted here: cheaper than in the server


def bought_within(warehouse: Warehouse, index: pd.Index, as_of: date, horizon_days: int) -> pd.Series:
    """1 for customers with an order in (as_of, as_of + horizon], else 0, aligned to ``index``."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select distinct customer_key from marts.fct_orders"
            " where customer_key is not null and ordered_on > %s and ordered_on <= %s",
            (as_of, as_of + timedelta(days=horizon_days)),
        )
        buyers = {row[0] for row in cur.fetchall()}
    return pd.Series(index.isin(buyers).astype(int), index=index, name="bought")


def first_order_date(warehouse: Warehouse) -> date | None:
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("select min(ordered_on) from marts.fct_orders")
        return cur.fetchone()[0]
