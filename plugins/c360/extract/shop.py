"""The web shop's own database, extracted incrementally on ``updated_at`` so
status changes, cancellations and refunds are picked up as new row versions.

Every column the shop's table has is extracted: one the raw table does not
know is kept in ``_extra`` and reported; a required one that is gone rejects
the batch naming it (see the loader).

Changes are read in chunks of about ``chunk_rows`` rows, each published as a
batch of its own that moves the watermark, so memory stays bounded on a first
load of a large shop and a load killed halfway resumes where it stopped. A
chunk never splits rows that share an ``updated_at``: the next chunk starts
after it."""
from __future__ import annotations

from datetime import date

import pandas as pd
import psycopg2

from c360.extract import end_of_day
from c360.loader import Batch, BatchRejected, BatchResult, publish_batch, read_watermark
from c360.raw_tables import RAW_TABLES
from c360.warehouse import ConnectionParams, Warehouse

SOURCE = "shop"
# raw table -> table in the shop's database
TABLES = {"shop_customers": "customers", "shop_orders": "orders", "shop_order_items": "order_items"}
EPOCH = "1970-01-01T00:00:00+00:00"
CHUNK_ROWS = 100_000


def extract_shop(warehouse: Warehouse, shop_dsn: str, as_of: date, chunk_rows: int = CHUNK_ROWS) -> list[BatchResult]:
    """Each table's changes since its watermark, in batches of about ``chunk_rows``. A
    rejected table does not hold back the others, but fails the extraction once they are in."""
    results, rejected = [], []
    shop = ConnectionParams.parse(shop_dsn).libpq_kwargs()
    for raw_name, source_table in TABLES.items():
        try:
            results += _extract_table(warehouse, shop, raw_name, source_table, as_of, chunk_rows)
        except BatchRejected as err:
            rejected.append(f"{source_table}: {err}")
    if rejected:
        raise BatchRejected(f"{len(rejected)} shop table(s) rejected, {len(results)} batch(es) loaded:\n"
                            + "\n".join(rejected))
    return results


def _extract_table(warehouse: Warehouse, shop: dict, raw_name: str, source_table: str, as_of: date,
                   chunk_rows: int) -> list[BatchResult]:
    table = RAW_TABLES[raw_name]
    results = []
    with psycopg2.connect(**shop) as conn, conn.cursor() as cur:
        cur.execute("select column_name from information_schema.columns where table_name = %s"
                    " and table_schema = current_schema()", (source_table,))
        if ("updated_at",) not in cur.fetchall():
            raise BatchRejected(f"the shop's {source_table} table has no updated_at column any more:"
                                " c360 extracts changes by it")
        while True:
            since = read_watermark(warehouse, SOURCE, raw_name) or EPOCH
            frame = _read_chunk(cur, source_table, since, end_of_day(as_of), chunk_rows)
            if results and frame.empty:
                break  # the last chunk ended exactly at the end: no empty batch to record
            until = frame["updated_at"].max().isoformat() if len(frame) else since
            results.append(publish_batch(warehouse, Batch(
                SOURCE, table, frame, as_of, watermark_from=since, watermark_to=(raw_name, until),
            )))
            if len(frame) < chunk_rows:
                break
    conn.close()
    return results


def _read_chunk(cur, source_table: str, since: str, end, chunk_rows: int) -> pd.DataFrame:
    """The next ``chunk_rows`` changes after ``since``, plus any that share the last one's
    updated_at (fewer than ``chunk_rows`` only when nothing is left after them)."""
    cur.execute(
        f"""
        select * from {source_table}
        where updated_at > %(since)s and updated_at < %(end)s
          and updated_at <= coalesce(
              (select updated_at from {source_table} where updated_at > %(since)s and updated_at < %(end)s
               order by updated_at offset %(last)s limit 1),
              %(end)s)
        order by updated_at
        """,
        {"since": since, "end": end, "last": chunk_rows - 1},
    )
    return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])
