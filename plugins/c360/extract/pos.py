"""Store POS file drops: one CSV (or .csv.gz) per store and day in a landing
folder. Files are recognised by checksum, so a file delivered twice is loaded
once, and each row keeps the file and line it came from."""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
from datetime import date
from pathlib import Path

import pandas as pd

from c360 import untrusted
from c360.loader import Batch, BatchRejected, BatchResult, loaded_checksums, publish_batch
from c360.parsing import RowFailure
from c360.raw_tables import RAW_TABLES

SOURCE = "pos"
FILE_DATE = re.compile(r"_(\d{4}-\d{2}-\d{2})\.csv(\.gz)?$")
NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, as surrogateescape keeps them


def drop_files(landing: Path, as_of: date) -> list[Path]:
    """Files in the landing folder dated on or before the as-of day, oldest first.
    A link leading out of the folder is refused, not followed."""
    dated = []
    for path in landing.rglob("*.csv*"):
        match = FILE_DATE.search(path.name)
        if match and date.fromisoformat(match.group(1)) <= as_of:
            dated.append((match.group(1), str(path), untrusted.inside(path, landing, "POS drop")))
    return [path for *_, path in sorted(dated)]


def read_drop(path: Path, name: str) -> tuple[pd.DataFrame, list[RowFailure]]:
    """All lines of a drop as text, with lineage; lines of the wrong width or not in
    UTF-8 are kept and flagged (their bytes that are not UTF-8 become U+FFFD)."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    # undecodable bytes survive as lone surrogates, so one bad line does not sink the file
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="surrogateescape"), newline=""))
    header = next(reader, [])
    rows, failures = [], []
    for fields in reader:
        line_no = reader.line_num  # a quoted field may span lines: the record's last one
        if any(NOT_UTF8.search(f) for f in fields):
            failures.append(RowFailure(len(rows), "encoding", f"line {line_no} is not UTF-8 text"))
            fields = [NOT_UTF8.sub("\ufffd", f) for f in fields]
        if len(fields) != len(header):
            failures.append(RowFailure(len(rows), "malformed_line",
                                       f"line {line_no} has {len(fields)} fields, expected {len(header)}"))
            fields = (fields + [""] * len(header))[: len(header)]
        rows.append(fields + [name, line_no])
    frame = pd.DataFrame(rows, columns=header + ["_source_file", "_source_line"], dtype="string")
    frame["_source_line"] = frame["_source_line"].astype("Int64")
    return frame, failures


def extract_pos(warehouse, landing: Path, as_of: date) -> list[BatchResult]:
    """Load every new drop; a rejected file does not hold back the others, but fails the
    extraction once they are in (and again on every run until the file is fixed)."""
    table = RAW_TABLES["pos_receipts"]
    loaded = loaded_checksums(warehouse, SOURCE)
    results, rejected = [], []
    for path in drop_files(landing, as_of):
        checksum = hashlib.sha256(path.read_bytes()).hexdigest()
        if checksum in loaded:
            continue
        name = str(path.relative_to(landing))
        frame, failures = read_drop(path, name)
        try:
            results.append(publish_batch(warehouse, Batch(
                SOURCE, table, frame, as_of, source_file=(name, checksum), read_failures=failures,
            )))
        except BatchRejected as err:
            rejected.append(f"{name}: {err}")
        loaded.add(checksum)
    if rejected:
        raise BatchRejected(f"{len(rejected)} POS file(s) rejected, {len(results)} loaded:\n" + "\n".join(rejected))
    return results
