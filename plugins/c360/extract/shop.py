"""The web shop's own database, extracted incrementally on ``updated_at`` so
status changes, cancellations and refunds are picked up as new row versions."""
from __future__ import annotations

from datetime import date

import pandas as pd
import psycopg2

from c360.extract import end_of_day
from c360.loader import Batch, BatchResult, publish_batch, read_watermark
from c360.raw_tables import RAW_TABLES
from c360.warehouse import ConnectionParams, Warehouse

SOURCE = "shop"
# raw table -> table in the shop's database
TABLES = {"shop_customers": "customers", "shop_orders": "orders", "shop_order_items": "order_items"}
EPOCH = "1970-01-01T00:00:00+00:00"


def extract_shop(warehouse: Warehouse, shop_dsn: str, as_of: date) -> list[BatchResult]:
    results = []
    shop = ConnectionParams.parse(shop_dsn).libpq_kwargs()
    for raw_name, source_table in TABLES.items():
        table = RAW_TABLES[raw_name]
        since = read_watermark(warehouse, SOURCE, raw_name) or EPOCH
        with psycopg2.connect(**shop) as conn, conn.cursor() as cur:
            cur.execute(
                f"select {', '.join(table.column_names)} from {source_table}"
                " where updated_at > %s and updated_at < %s order by updated_at",
                (since, end_of_day(as_of)),
            )
            frame = pd.DataFrame(cur.fetchall(), columns=table.column_names)
        conn.close()
        until = frame["updated_at"].max().isoformat() if len(frame) else since
        results.append(publish_batch(warehouse, Batch(
            SOURCE, table, frame, as_of, watermark_from=since, watermark_to=(raw_name, until),
        )))
    return results
