"""A user's registered transactions file: each run loads the rows up to its as-of
day that earlier runs did not. When the file changes (a fuller export, a fixed
line, a line taken out), its rows up to the as-of day are loaded again, each
marked with the file's SHA-256, and staging keeps the latest version of the file
only: an edited or removed line is never counted twice."""
from __future__ import annotations

import hashlib
from datetime import date

import pandas as pd

from c360.extract import end_of_day
from c360.imports import TransactionsImport, read_transactions, rows_through
from c360.loader import Batch, BatchResult, publish_batch, read_watermark
from c360.raw_tables import RAW_TABLES

CURSOR = "file_and_bound"  # "<file sha256>|<ordered_at loaded up to, exclusive>"


def extract_import(warehouse, spec: TransactionsImport, as_of: date) -> BatchResult:
    frame = read_transactions(spec)  # a bad file stops here, naming line and column
    checksum = hashlib.sha256(spec.path.read_bytes()).hexdigest()
    source = f"import:{spec.source}"
    previous = read_watermark(warehouse, source, CURSOR)
    after = None
    if previous and previous.split("|")[0] == checksum:
        after = previous.split("|")[1]
    bound = end_of_day(as_of).isoformat()
    if after and pd.Timestamp(after) > pd.Timestamp(bound):
        bound = after  # a re-run for an earlier day: nothing new, and the bound does not move back
    rows = rows_through(frame, after, as_of).assign(file_sha256=checksum)
    return publish_batch(warehouse, Batch(
        source, RAW_TABLES["imported_transactions"], rows, as_of,
        watermark_from=after, watermark_to=(CURSOR, f"{checksum}|{bound}"), strict=True,
    ))
