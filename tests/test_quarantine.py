"""`c360 quarantine list|replay` against the real warehouse: rows wait with reasons, and load once fixed."""
from datetime import date

import pandas as pd
import pytest

from c360.cli import main
from c360.loader import Batch, BatchRejected, publish_batch
from c360.raw_tables import RAW_TABLES
from conftest import query

AS_OF = date(2026, 3, 31)


def orders(*rows) -> Batch:
    base = {"customer_id": 7, "ordered_at": "2026-03-30T10:00:00Z", "status": "paid", "total_amount": 10.0,
            "currency": "GBP", "updated_at": "2026-03-30T10:00:00Z"}
    return Batch("shop", RAW_TABLES["shop_orders"], pd.DataFrame([{**base, **row} for row in rows]), AS_OF)


def customers(*emails) -> Batch:
    frame = pd.DataFrame([{"customer_id": n, "email": e, "updated_at": "2026-03-01T00:00:00Z"}
                          for n, e in enumerate(emails)])  # created_at is missing: the batch is rejected
    return Batch("shop", RAW_TABLES["shop_customers"], frame, AS_OF)


def accounted(warehouse) -> list[tuple]:
    return query(warehouse, "select count(*) from ops.batches where rows_extracted <> rows_loaded + rows_quarantined")


def test_list_shows_reasons_and_counts_per_rule_without_personal_values(fresh_warehouse, capsys):
    publish_batch(fresh_warehouse, orders({"order_id": 1}, {"order_id": 2, "status": "lost"},
                                          {"order_id": 3, "total_amount": "ten"}))
    with pytest.raises(BatchRejected, match=r"missing required column\(s\): created_at"):
        publish_batch(fresh_warehouse, customers("ann@example.com"))
    assert main(["quarantine", "list"]) == 0
    out = capsys.readouterr().out
    assert "row 1 [expect_column_values_to_be_in_set:status]: status=lost failed expect_column_values_to_be_in_set" in out
    assert "'ten' is not a valid numeric" in out
    assert '"email": "<personal>"' in out and "ann@example.com" not in out
    assert "3 row(s) in quarantine, by rule:" in out
    assert main(["quarantine", "list", "--table", "shop_orders", "--rule", "expect_column_values_to_be_in_set:status"]) == 0
    out = capsys.readouterr().out
    assert "1 row(s) in quarantine" in out and "lost" in out and "ten" not in out


def test_replay_loads_what_now_passes_once_and_keeps_the_rest(fresh_warehouse, severities_file, capsys):
    first = publish_batch(fresh_warehouse, orders({"order_id": 1}, {"order_id": 2, "status": "lost"},
                                                  {"order_id": 3, "total_amount": -5},
                                                  {"order_id": 4, "total_amount": "ten"}))
    assert first.rows_quarantined == 3

    # nothing changed: nothing passes, nothing loads
    assert main(["quarantine", "replay"]) == 0
    assert "0 row(s) loaded into raw, 3 still in quarantine" in capsys.readouterr().out

    # a rule fixed (an unknown status is only a warning now) and a record fixed by hand
    severities_file({"raw.shop_orders": {"expect_column_values_to_be_in_set": {"status": "warn"}}})
    with fresh_warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("update ops.quarantine set record = jsonb_set(record, '{total_amount}', '\"5\"')"
                    " where record->>'order_id' = '3'")
    assert main(["quarantine", "replay", "--table", "shop_orders"]) == 0
    assert "2 row(s) loaded into raw, 1 still in quarantine" in capsys.readouterr().out

    (replayed_id, logical_date, extracted, loaded, quarantined), = query(
        fresh_warehouse, "select batch_id, logical_date, rows_extracted, rows_loaded, rows_quarantined from ops.batches"
                         " where batch_id <> %s", (first.batch_id,))
    assert (logical_date, extracted, loaded, quarantined) == (AS_OF, 2, 2, 0)
    assert query(fresh_warehouse, "select order_id, status, total_amount, _batch_id from raw.shop_orders order by 1") == [
        (1, "paid", 10, first.batch_id), (2, "lost", 10, replayed_id), (3, "paid", 5, replayed_id)]
    assert query(fresh_warehouse, "select record->>'order_id', replayed_batch_id, rule from ops.quarantine order by 1") == [
        ("2", replayed_id, "expect_column_values_to_be_in_set:status"),
        ("3", replayed_id, "expect_column_values_to_be_between:total_amount"),
        ("4", None, "parse:total_amount")]
    assert accounted(fresh_warehouse) == [(0,)]

    # twice is once
    assert main(["quarantine", "replay"]) == 0
    assert "0 row(s) loaded into raw, 1 still in quarantine" in capsys.readouterr().out
    assert query(fresh_warehouse, "select count(*) from raw.shop_orders") == [(3,)]
    assert query(fresh_warehouse, "select count(*) from ops.batches") == [(2,)]


def test_rows_that_still_fail_keep_their_updated_reason(fresh_warehouse):
    with pytest.raises(BatchRejected):
        publish_batch(fresh_warehouse, customers("ann@example.com", "bob@example.com"))
    assert query(fresh_warehouse, "select distinct rule from ops.quarantine") == [("batch_rejected",)]
    assert main(["quarantine", "replay"]) == 0
    reasons = query(fresh_warehouse, "select distinct rule, reason from ops.quarantine")
    assert reasons == [("batch_rejected", "batch rejected: missing required column(s): created_at")]
    assert query(fresh_warehouse, "select count(*) from raw.shop_customers") == [(0,)]
