"""Write-audit-publish against the real embedded PostgreSQL."""
from datetime import date

import pandas as pd
import pytest

from c360 import loader
from c360.loader import Batch, BatchRejected, publish_batch, read_watermark
from c360.raw_tables import RAW_TABLES
from conftest import query

AS_OF = date(2026, 3, 31)
ORDERS = RAW_TABLES["shop_orders"]


def orders(*rows):
    base = {"order_id": 1, "customer_id": 7, "ordered_at": "2026-03-30T10:00:00Z", "status": "paid",
            "total_amount": 10.0, "currency": "GBP", "updated_at": "2026-03-30T10:00:00Z"}
    return pd.DataFrame([{**base, **row} for row in rows])


def batch(frame, watermark="2026-03-30T10:00:00Z"):
    return Batch("shop", ORDERS, frame, AS_OF, watermark_from="1970-01-01", watermark_to=("shop_orders", watermark))


def test_good_rows_load_and_bad_rows_are_quarantined_with_reasons(fresh_warehouse):
    frame = orders({"order_id": 1}, {"order_id": 2, "status": "lost"}, {"order_id": 3, "total_amount": -5},
                   {"order_id": 4, "ordered_at": "2031-01-01T00:00:00Z"}, {"order_id": 5, "total_amount": "ten"})
    result = publish_batch(fresh_warehouse, batch(frame))

    assert (result.rows_extracted, result.rows_loaded, result.rows_quarantined) == (5, 1, 4)
    assert query(fresh_warehouse, "select order_id from raw.shop_orders") == [(1,)]
    reasons = dict(query(fresh_warehouse, "select record->>'order_id', reason from ops.quarantine"))
    assert "status=lost failed expect_column_values_to_be_in_set" in reasons["2"]
    assert "total_amount=-5" in reasons["3"]
    assert "ordered_at" in reasons["4"] and "be_between" in reasons["4"]
    assert "'ten' is not a valid numeric" in reasons["5"]
    (extracted, loaded, quarantined), = query(
        fresh_warehouse, "select rows_extracted, rows_loaded, rows_quarantined from ops.batches")
    assert extracted == loaded + quarantined
    failed = query(fresh_warehouse, "select expectation, column_name from ops.dq_results where not success order by 2")
    assert failed == [("expect_column_values_to_be_between", "ordered_at"),
                      ("expect_column_values_to_be_in_set", "status"),
                      ("expect_column_values_to_be_between", "total_amount")]
    assert read_watermark(fresh_warehouse, "shop", "shop_orders") == "2026-03-30T10:00:00Z"


def test_a_batch_delivered_twice_is_loaded_once(fresh_warehouse):
    first = publish_batch(fresh_warehouse, batch(orders({"order_id": 1}, {"order_id": 2})))
    again = publish_batch(fresh_warehouse, batch(orders({"order_id": 1}, {"order_id": 2})))
    assert again.batch_id == first.batch_id
    assert query(fresh_warehouse, "select count(*) from raw.shop_orders") == [(2,)]
    assert query(fresh_warehouse, "select count(*) from ops.batches") == [(1,)]


def test_missing_required_column_rejects_the_batch_and_keeps_every_row(fresh_warehouse):
    frame = orders({"order_id": 1}, {"order_id": 2}).drop(columns=["status"])
    with pytest.raises(BatchRejected, match="missing required column.*status"):
        publish_batch(fresh_warehouse, batch(frame))
    assert query(fresh_warehouse, "select count(*) from raw.shop_orders") == [(0,)]
    assert query(fresh_warehouse, "select status, rows_quarantined from ops.batches") == [("rejected", 2)]
    assert read_watermark(fresh_warehouse, "shop", "shop_orders") is None
    # re-running fails the same way and quarantines nothing twice
    with pytest.raises(BatchRejected):
        publish_batch(fresh_warehouse, batch(frame))
    assert query(fresh_warehouse, "select count(*) from ops.quarantine") == [(2,)]


def test_a_load_killed_halfway_leaves_no_trace_and_rerun_matches(fresh_warehouse, monkeypatch):
    frame = orders({"order_id": 1}, {"order_id": 2, "status": "lost"})

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("worker killed after COPY")

    monkeypatch.setattr(loader, "_quarantine", crash)
    with pytest.raises(KeyboardInterrupt):
        publish_batch(fresh_warehouse, batch(frame))
    assert query(fresh_warehouse, "select count(*) from raw.shop_orders") == [(0,)]
    assert query(fresh_warehouse, "select count(*) from ops.batches") == [(0,)]
    assert read_watermark(fresh_warehouse, "shop", "shop_orders") is None

    monkeypatch.undo()
    result = publish_batch(fresh_warehouse, batch(frame))
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert query(fresh_warehouse, "select order_id from raw.shop_orders") == [(1,)]


def test_an_empty_batch_is_recorded(fresh_warehouse):
    result = publish_batch(fresh_warehouse, batch(orders().iloc[0:0]))
    assert result.status == "empty"
    assert query(fresh_warehouse, "select status, rows_extracted from ops.batches") == [("empty", 0)]


def test_new_columns_are_kept_in_extra_and_reported(fresh_warehouse):
    frame = orders({"order_id": 1, "channel": "app", "coupon": None}, {"order_id": 2, "channel": None, "coupon": None})
    result = publish_batch(fresh_warehouse, batch(frame))
    assert result.rows_loaded == 2 and result.message == "new column(s) kept in _extra: channel, coupon"
    assert query(fresh_warehouse, "select order_id, _extra from raw.shop_orders order by 1") == [
        (1, {"channel": "app"}), (2, None)]
    assert query(fresh_warehouse, "select status, message from ops.batches") == [
        ("promoted", "new column(s) kept in _extra: channel, coupon")]


def test_data_quality_results_never_quote_personal_data(fresh_warehouse):
    customers = pd.DataFrame([{"customer_id": n, "email": f"ann.{n} at example.com", "created_at": "2026-03-01T00:00:00Z",
                               "updated_at": "2026-03-01T00:00:00Z"} for n in (1, 2)])
    result = publish_batch(fresh_warehouse, Batch("shop", RAW_TABLES["shop_customers"], customers, AS_OF,
                                                  watermark_to=("shop_customers", "2026-03-01T00:00:00Z")))
    assert result.rows_loaded == 2  # a malformed e-mail is a warning, not a lost customer
    (observed,), = query(fresh_warehouse, "select observed_value from ops.dq_results where column_name = 'email'"
                                          " and not success")
    assert observed == "2 value(s), not shown: personal data"


def orders_on(day, first_id: int, count: int) -> Batch:
    frame = orders(*({"order_id": first_id + n, "ordered_at": f"{day}T10:00:00Z", "updated_at": f"{day}T10:00:00Z"}
                     for n in range(count)))
    return Batch("shop", ORDERS, frame, day)


def test_a_batch_far_outside_the_recent_row_counts_is_rejected_naming_the_learned_range(fresh_warehouse):
    days = [date(2026, 3, d) for d in range(1, 7)]
    for n, day in enumerate(days[:4]):
        publish_batch(fresh_warehouse, orders_on(day, 1000 * n, 40 + n))
    # four days of history is not enough to learn from: a batch of any size loads
    assert publish_batch(fresh_warehouse, orders_on(days[4], 10_000, 1500)).rows_loaded == 1500

    # five days are: 40..1500 rows, so from 4 to 15000
    assert publish_batch(fresh_warehouse, orders_on(days[5], 20_000, 5)).status == "promoted"
    with pytest.raises(BatchRejected, match=r"expect_table_row_count_to_be_between: 3 \(expected 4 to 15000 rows,"
                                            r" learned from 5 batches of 2026-03-01 to 2026-03-05\)"):
        publish_batch(fresh_warehouse, orders_on(days[5], 30_000, 3))
    with pytest.raises(BatchRejected, match="expect_table_row_count_to_be_between: 15001 "):
        publish_batch(fresh_warehouse, orders_on(days[5], 40_000, 15_001))

    # rejected batches lose no row, and teach no bound
    assert query(fresh_warehouse, "select rows_extracted, rows_loaded, rows_quarantined from ops.batches"
                                  " where status = 'rejected' order by 1") == [(3, 0, 3), (15_001, 0, 15_001)]
    reasons = query(fresh_warehouse, "select distinct rule, reason from ops.quarantine")
    assert len(reasons) == 2 and all(rule == "batch_rejected" and "learned from 5 batches" in reason
                                     for rule, reason in reasons)
    assert query(fresh_warehouse, "select severity, success from ops.dq_results"
                                  " where expectation = 'expect_table_row_count_to_be_between' order by validated_at") == [
        ("error", True), ("error", False), ("error", False)]
