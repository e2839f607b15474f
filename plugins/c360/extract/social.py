"""The social platform's JSON API: cursor-paginated, token-authenticated.
Each endpoint's watermark is the ``resume_cursor`` of the last page read: the
position after the last item, from which the next run continues."""
from __future__ import annotations

from datetime import date

import pandas as pd

from c360.extract import end_of_day
from c360.extract.http import get_json
from c360.loader import Batch, BatchResult, publish_batch, read_watermark
from c360.raw_tables import RAW_TABLES

SOURCE = "social"
ENDPOINTS = {"social_followers": "/v1/followers", "social_events": "/v1/events"}
PAGE_SIZE = 1000


def fetch_since(base_url: str, path: str, token: str, cursor: str | None, until: str) -> tuple[list[dict], str | None]:
    """Every item after ``cursor`` up to ``until``, and the cursor to resume from."""
    items, resume = [], cursor
    while True:
        page = get_json(base_url + path, {"cursor": cursor, "limit": PAGE_SIZE, "until": until},
                        {"Authorization": f"Bearer {token}", "Accept": "application/json"})
        items += page["data"]
        resume = page.get("resume_cursor") or resume
        if not page.get("next_cursor"):
            return items, resume
        cursor = page["next_cursor"]


def extract_social(warehouse, base_url: str, token: str, as_of: date) -> list[BatchResult]:
    results = []
    for raw_name, path in ENDPOINTS.items():
        table = RAW_TABLES[raw_name]
        since = read_watermark(warehouse, SOURCE, raw_name)
        items, cursor = fetch_since(base_url, path, token, since, end_of_day(as_of).isoformat())
        # every field the API sends: ones the table does not know are kept in _extra
        frame = pd.DataFrame(items) if items else pd.DataFrame(columns=table.column_names)
        results.append(publish_batch(warehouse, Batch(
            SOURCE, table, frame, as_of, watermark_from=since,
            watermark_to=(raw_name, cursor) if cursor else None,
        )))
    return results
