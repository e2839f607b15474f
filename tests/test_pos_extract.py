"""POS file drops: checksums, gzip, malformed lines, lineage."""
import gzip
from datetime import date

import pytest

from c360.extract.files import extract_files
from c360.loader import BatchRejected
from conftest import query

HEADER = "receipt_id,store_id,purchased_at,member_card_no,phone,total_amount,transaction_type,original_receipt_id\n"


def drop(folder, name, lines, gz=False):
    folder.mkdir(parents=True, exist_ok=True)
    data = (HEADER + "".join(lines)).encode()
    path = folder / (name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def test_files_load_once_with_lineage_and_malformed_lines_are_quarantined(fresh_warehouse, tmp_path):
    landing = tmp_path / "pos"
    drop(landing / "S1", "pos_S1_2026-03-01.csv", [
        "R1,S1,2026-03-01T10:00:00+00:00,M1,,10.00,sale,\n",
        "R2,S1,2026-03-01T11:00:00+00:00,,07700 900001,5.00,sale,,EXTRA\n",
    ])
    drop(landing / "S2", "pos_S2_2026-03-01.csv", ["R3,S2,2026-03-01T12:00:00+00:00,M2,,7.50,sale,\n"], gz=True)
    drop(landing / "S1", "pos_S1_2026-03-05.csv", ["R9,S1,2026-03-05T12:00:00+00:00,M2,,1.00,sale,\n"])

    results = extract_files(fresh_warehouse, "pos", landing, date(2026, 3, 1))
    assert sorted((r.rows_extracted, r.rows_loaded, r.rows_quarantined) for r in results) == [(1, 1, 0), (2, 1, 1)]
    assert query(fresh_warehouse, "select receipt_id, _source_file, _source_line from raw.pos_receipts order by 1") == [
        ("R1", "S1/pos_S1_2026-03-01.csv", 2), ("R3", "S2/pos_S2_2026-03-01.csv.gz", 2)]
    (reason,), = query(fresh_warehouse, "select reason from ops.quarantine")
    assert "line 3 has 9 fields, expected 8" in reason

    # the same file delivered again under another name is recognised by its checksum
    drop(landing / "S1", "pos_S1_2026-03-01 (copy).csv", [
        "R1,S1,2026-03-01T10:00:00+00:00,M1,,10.00,sale,\n",
        "R2,S1,2026-03-01T11:00:00+00:00,,07700 900001,5.00,sale,,EXTRA\n",
    ])
    assert extract_files(fresh_warehouse, "pos", landing, date(2026, 3, 1)) == []
    # a later day picks up only the new file
    later = extract_files(fresh_warehouse, "pos", landing, date(2026, 3, 5))
    assert [r.rows_loaded for r in later] == [1]
    assert query(fresh_warehouse, "select count(*) from raw.pos_receipts") == [(3,)]


def test_a_column_added_to_the_drops_is_kept_and_a_renamed_one_rejects_the_file(fresh_warehouse, tmp_path):
    landing = tmp_path / "pos"
    added = landing / "S1" / "pos_S1_2026-03-01.csv"
    added.parent.mkdir(parents=True)
    added.write_text(HEADER.strip() + ",cashier\nR1,S1,2026-03-01T10:00:00+00:00,M1,,10.00,sale,,Kim\n")
    [result] = extract_files(fresh_warehouse, "pos", landing, date(2026, 3, 1))
    assert (result.status, result.rows_loaded, result.message) == ("promoted", 1, "new column(s) kept in _extra: cashier")
    assert query(fresh_warehouse, "select _extra->>'cashier' from raw.pos_receipts") == [("Kim",)]

    renamed = landing / "S1" / "pos_S1_2026-03-02.csv"
    renamed.write_text(HEADER.replace("total_amount", "amount") + "R2,S1,2026-03-02T10:00:00+00:00,M1,,5.00,sale,\n")
    with pytest.raises(BatchRejected, match="missing required column.*total_amount"):
        extract_files(fresh_warehouse, "pos", landing, date(2026, 3, 2))
    assert query(fresh_warehouse, "select rows_extracted, rows_quarantined from ops.batches where status = 'rejected'") == [(1, 1)]
