"""File drops: dated exports in a landing folder (``<name>_YYYY-MM-DD.<format>``,
optionally gzipped). Files are recognised by checksum, so a file delivered
twice is loaded once, and each row keeps the file and line it came from (for a
JSON array, the record's position in it). A line or record that cannot be read
(the wrong width, not JSON, not UTF-8) is kept as a row of its own and
quarantined with the reason; a file rejected as a whole does not hold back the
others."""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from c360 import untrusted
from c360.loader import Batch, BatchRejected, BatchResult, loaded_checksums, publish_batch
from c360.parsing import RowFailure
from c360.raw_tables import RAW_TABLES

FILE_DATE = re.compile(r"_(\d{4}-\d{2}-\d{2})\.(csv|jsonl|json)(\.gz)?$")
LINEAGE = ["_source_file", "_source_line"]
NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, as surrogateescape keeps them


@dataclass(frozen=True)
class FileChannel:
    raw_table: str
    formats: tuple[str, ...]  # csv (header row), jsonl (an object a line), json (an array of objects)


FILE_CHANNELS = {
    "pos": FileChannel("pos_receipts", ("csv",)),  # a file per store and day from the tills
    "app": FileChannel("app_events", ("jsonl",)),
    "campaigns": FileChannel("campaign_events", ("csv",)),  # the e-mail/SMS tool's daily export
    "service": FileChannel("service_tickets", ("json", "csv")),  # tickets opened or closed that day
}


def drop_files(landing: Path, as_of: date, formats: tuple[str, ...]) -> list[Path]:
    """Files of these formats in the landing folder dated on or before the as-of day,
    oldest first. A link leading out of the folder is refused, not followed."""
    dated = []
    for path in Path(landing).rglob("*"):
        match = FILE_DATE.search(path.name)
        if match and match.group(2) in formats and date.fromisoformat(match.group(1)) <= as_of:
            dated.append((match.group(1), str(path), untrusted.inside(path, landing, "dropped file")))
    return [path for *_, path in sorted(dated)]


def read_drop(path: Path, name: str) -> tuple[pd.DataFrame, list[RowFailure]]:
    """All rows of a file as extracted, with lineage, and the ones that could not be read."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    # undecodable bytes survive as lone surrogates, so one bad line does not sink the file
    text = data.decode("utf-8-sig", errors="surrogateescape")
    reader = {"csv": _csv_rows, "jsonl": _jsonl_rows, "json": _json_rows}[FILE_DATE.search(path.name).group(2)]
    columns, rows, failures = reader(text)
    failures += _not_utf8(rows)
    frame = pd.DataFrame([[_utf8(v) for v in values] + [name, line] for values, line in rows],
                         columns=[_utf8(c) for c in columns] + LINEAGE, dtype="string")
    frame["_source_line"] = frame["_source_line"].astype("Int64")
    return frame, failures


def _csv_rows(text: str) -> tuple[list[str], list, list[RowFailure]]:
    """Lines as text ('' when empty); a line of the wrong width is kept (padded or cut) and flagged."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    rows, failures = [], []
    for fields in reader:
        line_no = reader.line_num  # a quoted field may span lines: the record's last one
        if len(fields) != len(header):
            failures.append(RowFailure(len(rows), "malformed_line",
                                       f"line {line_no} has {len(fields)} fields, expected {len(header)}"))
            fields = (fields + [""] * len(header))[: len(header)]
        rows.append((fields, line_no))
    return header, rows, failures


def _not_utf8(rows: list) -> list[RowFailure]:
    return [RowFailure(position, "encoding", f"line {line} is not UTF-8 text")
            for position, (values, line) in enumerate(rows)
            if any(value is not None and NOT_UTF8.search(value) for value in values)]


def _utf8(value: str | None) -> str | None:
    """The text with its undecodable bytes as U+FFFD (the row itself is quarantined)."""
    return value if value is None else NOT_UTF8.sub("\ufffd", value)


def _jsonl_rows(text: str) -> tuple[list[str], list, list[RowFailure]]:
    return _records((_json_line(line), line_no) for line_no, line in enumerate(text.splitlines(), start=1)
                    if line.strip())


def _json_rows(text: str) -> tuple[list[str], list, list[RowFailure]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        return _records([(ValueError(f"the file is not valid JSON: {err}"), 1)])
    if not isinstance(document, list):
        return _records([(ValueError("the file is not a JSON array of records"), 1)])
    return _records((record, position) for position, record in enumerate(document, start=1))


def _json_line(line: str) -> object:
    """A line's JSON value, or the error that stopped it being read."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as err:
        return ValueError(f"not valid JSON: {err}")


def _records(records) -> tuple[list[str], list, list[RowFailure]]:
    """Rows from (JSON value, line) pairs: every key any object has is a column, every value
    text as in a CSV (numbers and nested values as JSON); anything but an object is a row
    with no values and a failure naming the line."""
    objects, failures = [], []
    for record, line in records:
        if not isinstance(record, dict):
            reason = record if isinstance(record, ValueError) else f"a JSON {type(record).__name__}, not an object"
            failures.append(RowFailure(len(objects), "malformed_line", f"line {line}: {reason}"))
            record = {}
        objects.append((record, line))
    columns = list(dict.fromkeys(key for record, _ in objects for key in record))
    return columns, [([_text(record.get(c)) for c in columns], line) for record, line in objects], failures


def _text(value: object) -> str | None:
    return value if value is None or isinstance(value, str) else json.dumps(value)


def extract_files(warehouse, channel: str, landing: Path, as_of: date) -> list[BatchResult]:
    """Load each file not loaded before as one batch. A rejected file does not hold back
    the others, but fails the extraction once they are in (and again on every run until
    the file is fixed)."""
    spec = FILE_CHANNELS[channel]
    table = RAW_TABLES[spec.raw_table]
    loaded = loaded_checksums(warehouse, channel)
    results, rejected = [], []
    for path in drop_files(landing, as_of, spec.formats):
        checksum = hashlib.sha256(path.read_bytes()).hexdigest()
        if checksum in loaded:
            continue
        name = str(path.relative_to(landing))
        frame, failures = read_drop(path, name)
        try:
            results.append(publish_batch(warehouse, Batch(
                channel, table, frame, as_of, source_file=(name, checksum), read_failures=failures,
            )))
        except BatchRejected as err:
            rejected.append(f"{name}: {err}")
        loaded.add(checksum)
    if rejected:
        raise BatchRejected(f"{len(rejected)} {channel} file(s) rejected, {len(results)} loaded:\n" + "\n".join(rejected))
    return results
