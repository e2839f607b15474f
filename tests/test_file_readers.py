"""The file-drop readers never crash and never lose a line, whatever the bytes."""
import csv
import gzip
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c360.extract.files import read_drop

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# lines as feeds garble them: quotes, separators, braces, stray bytes that are not UTF-8
pieces = st.sampled_from(['"', ",", "{", "}", ":", "[", "]", "\\", "a", "1", " ", "\t", "é", "\r"])
garbled_line = st.lists(st.one_of(pieces, st.text(max_size=4)), max_size=12).map("".join)


def drop(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return read_drop(path, name)


@FUZZ
@given(st.lists(garbled_line, max_size=10), st.binary(max_size=3))
def test_jsonl_keeps_every_non_blank_line_as_a_row(tmp_path, lines, noise):
    data = "\n".join(lines).encode() + noise
    frame, failures = drop(tmp_path, "app_events_2026-01-01.jsonl", data)
    text_lines = data.decode("utf-8-sig", errors="surrogateescape").splitlines()
    assert len(frame) == sum(1 for line in text_lines if line.strip())
    assert all(0 <= f.row < len(frame) for f in failures)


@FUZZ
@given(st.lists(st.lists(garbled_line, min_size=1, max_size=4), max_size=10), st.booleans())
def test_csv_keeps_every_record_and_flags_exactly_the_misfits(tmp_path, rows, gzipped):
    text = "a,b,c\n" + "\n".join(",".join(fields) for fields in rows) + "\n"
    data = gzip.compress(text.encode(), mtime=0) if gzipped else text.encode()
    frame, failures = drop(tmp_path, "pos_S1_2026-01-01.csv" + (".gz" if gzipped else ""), data)
    records = list(csv.reader(io.StringIO(text, newline="")))[1:]  # what a CSV parser makes of it
    assert len(frame) == len(records)
    assert {f.row for f in failures if f.rule == "malformed_line"} == {
        n for n, fields in enumerate(records) if len(fields) != 3}
    assert frame["_source_line"].is_monotonic_increasing


@FUZZ
@given(st.one_of(st.binary(max_size=200), st.lists(garbled_line, max_size=5).map(lambda x: ("[" + ",".join(x) + "]").encode())))
def test_a_json_array_is_read_record_by_record_or_quarantined_whole(tmp_path, data):
    frame, failures = drop(tmp_path, "service_tickets_2026-01-01.json", data)
    try:
        document = json.loads(data.decode("utf-8-sig", errors="surrogateescape"))
    except ValueError:
        document = None
    if isinstance(document, list):
        assert len(frame) == len(document)
    else:  # unreadable as a whole: one row says so
        assert len(frame) == 1 and [f.row for f in failures] == [0]
