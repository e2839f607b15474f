"""The failures real file feeds have, injected into a day's delivered files
(``c360 simulate --faults``).

Each fault strikes each file of a day with probability ``fault_rate``, drawn
from the day's own random stream and the file's name, so a world with faults
is as deterministic as one without. What each fault does, and what the
pipeline is expected to make of it:

- ``duplicate_file``: the file is delivered again under ``resent/`` -> loaded once.
- ``late_file``: the file arrives 2-4 days after its date -> loaded by a later run.
- ``malformed_rows``: a few lines lose or gain a field (JSON lines are cut
  short) -> those lines are quarantined, the rest load (a JSON array with a
  record cut short is unreadable as a whole: the file is quarantined).
- ``added_column``: a column the table does not know -> kept in ``_extra``, reported.
- ``renamed_column``: the first column is renamed -> the batch is rejected
  naming the missing column; every row is kept in quarantine.
- ``mixed_timezones``: some timestamps are written in other UTC offsets ->
  the same instants load.
- ``bad_encoding``: the file is re-saved as Windows-1252 with a pound sign
  before some amounts -> the lines that are not UTF-8 are quarantined.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import re
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

FAULTS = ("duplicate_file", "late_file", "malformed_rows", "added_column", "renamed_column", "mixed_timezones",
          "bad_encoding")
HELD = Path("held")  # late files wait in the state folder: held/<release day>/<landing>/<relative path>
LINE_SHARE = 0.05  # of a struck file's lines, how many a line-level fault touches (at least one)
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})")
AMOUNT = re.compile(r"-?\d+\.\d{2}")
OFFSETS = (timezone.utc, timezone(timedelta(hours=-5)), timezone(timedelta(hours=9)))


def parse_faults(text: str) -> tuple[str, ...]:
    """'all', or fault names separated by commas."""
    names = FAULTS if text.strip() == "all" else tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = sorted(set(names) - set(FAULTS))
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; choose from {', '.join(FAULTS)} or all")
    return names


def inject_faults(seed: int, faults: tuple[str, ...], rate: float, day: date, landing: Path, state_dir: Path) -> dict[str, int]:
    """Strike the files of ``day`` in ``landing`` with ``faults``; release held files due today."""
    counts = dict.fromkeys(faults, 0)
    for path in sorted(landing.rglob(f"*_{day.isoformat()}.*")):
        if HELD in path.relative_to(landing).parents or "resent" in path.parts:
            continue
        rng = np.random.default_rng([seed, day.toordinal(), *path.name.encode()])
        content_faults = [f for f in LINE_FAULTS if f in faults and rng.random() < rate]
        if content_faults:
            _rewrite(path, content_faults, rng)
        for fault in content_faults:
            counts[fault] += 1
        if "duplicate_file" in faults and rng.random() < rate:
            resent = path.parent / "resent" / path.name
            resent.parent.mkdir(exist_ok=True)
            shutil.copyfile(path, resent)
            counts["duplicate_file"] += 1
        if "late_file" in faults and rng.random() < rate:
            release = day + timedelta(days=int(rng.integers(2, 5)))
            held = state_dir / HELD / release.isoformat() / landing.name / path.relative_to(landing)
            held.parent.mkdir(parents=True, exist_ok=True)
            path.replace(held)
            counts["late_file"] += 1
    _release(day, landing, state_dir)
    return {f"{name} files": n for name, n in counts.items() if n}


def _release(day: date, landing: Path, state_dir: Path) -> None:
    for folder in sorted((state_dir / HELD).glob("*")):
        if date.fromisoformat(folder.name) > day or not (folder / landing.name).exists():
            continue
        for held in sorted(p for p in (folder / landing.name).rglob("*") if p.is_file()):
            target = landing / held.relative_to(folder / landing.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            held.replace(target)
        shutil.rmtree(folder / landing.name)


def _rewrite(path: Path, faults: list[str], rng: np.random.Generator) -> None:
    data = path.read_bytes()
    gzipped = path.suffix == ".gz"
    text = (gzip.decompress(data) if gzipped else data).decode("utf-8")
    array = ".json" in path.suffixes  # a JSON array of records: faulted record by record, like JSON lines
    jsonl = array or ".jsonl" in path.suffixes
    lines = [json.dumps(record) for record in json.loads(text)] if array else text.splitlines()
    for fault in faults:
        lines = LINE_FAULTS[fault](lines, rng, jsonl)
    body = "[\n" + ",\n".join(lines) + "\n]" if array else "\n".join(lines)
    out = (body + "\n").encode("cp1252" if "bad_encoding" in faults else "utf-8")
    path.write_bytes(gzip.compress(out, mtime=0) if gzipped else out)


def _some(n: int, rng: np.random.Generator) -> np.ndarray:
    """Indexes of the lines a line-level fault touches (data lines only: index 0 may be a header)."""
    return rng.choice(np.arange(1, n), size=max(1, int(LINE_SHARE * (n - 1))), replace=False) if n > 1 else np.array([], int)


def _csv_line(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


def _malformed(lines: list[str], rng, jsonl: bool) -> list[str]:
    for i in _some(len(lines), rng):
        if jsonl:
            lines[i] = lines[i][: len(lines[i]) // 2]
        else:
            fields = next(csv.reader([lines[i]]))
            lines[i] = _csv_line(fields[:-1] if rng.random() < 0.5 else fields + ["?"])
    return lines


def _added_column(lines: list[str], rng, jsonl: bool) -> list[str]:
    tiers = ["gold", "silver", ""]
    if jsonl:
        return [json.dumps({**json.loads(line), "loyalty_tier": tiers[k % 3]}) for k, line in enumerate(lines)]
    return [lines[0] + ",loyalty_tier"] + [f"{line},{tiers[k % 3]}" for k, line in enumerate(lines[1:])]


def _renamed_column(lines: list[str], rng, jsonl: bool) -> list[str]:
    """A vendor's new export format: the first column in CamelCase."""
    def camel(name: str) -> str:
        return "".join(part.title() for part in name.split("_"))

    if jsonl:
        renamed = []
        for line in lines:
            record = json.loads(line)
            first = next(iter(record))
            renamed.append(json.dumps({camel(first) if k == first else k: v for k, v in record.items()}))
        return renamed
    header = next(csv.reader([lines[0]]))
    return [_csv_line([camel(header[0]), *header[1:]])] + lines[1:]


def _mixed_timezones(lines: list[str], rng, jsonl: bool) -> list[str]:
    def shift(match: re.Match) -> str:
        moment = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
        zone = OFFSETS[int(rng.integers(0, len(OFFSETS)))]
        return moment.astimezone(zone).isoformat().replace("+00:00", "Z")

    return [TIMESTAMP.sub(shift, line) if k and rng.random() < 0.5 else line for k, line in enumerate(lines)]


def _bad_encoding(lines: list[str], rng, jsonl: bool) -> list[str]:
    """Pound signs before some amounts; _rewrite then saves the file as Windows-1252."""
    for i in _some(len(lines), rng):
        lines[i] = AMOUNT.sub(lambda m: "£" + m.group(0), lines[i], count=1)
    return lines


# in the order they are applied: JSON lines are cut short last, after the others have parsed them
LINE_FAULTS = {
    "added_column": _added_column,
    "renamed_column": _renamed_column,
    "mixed_timezones": _mixed_timezones,
    "bad_encoding": _bad_encoding,
    "malformed_rows": _malformed,
}
