from dataclasses import replace

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from c360.parsing import parse_batch
from c360.raw_tables import RAW_TABLES
from expectations.runner import Outcome, Validation

POS = RAW_TABLES["pos_receipts"]


def pos_frame(**overrides):
    row = {"receipt_id": "R1", "store_id": "S1", "purchased_at": "2026-03-01T10:00:00+01:00",
           "member_card_no": "M1", "phone": "", "total_amount": "12.50", "transaction_type": "sale",
           "original_receipt_id": ""}
    row.update(overrides)
    return pd.DataFrame([row], dtype="string")


def test_values_are_typed_and_times_converted_to_utc():
    typed, failures = parse_batch(pos_frame(), POS)
    assert failures == []
    assert typed.loc[0, "total_amount"] == 12.5
    assert typed.loc[0, "purchased_at"] == pd.Timestamp("2026-03-01T09:00:00Z")
    assert pd.isna(typed.loc[0, "phone"])  # blank text is null, not ''


def test_unparseable_value_is_reported_with_column_and_value():
    typed, failures = parse_batch(pos_frame(total_amount="12,5O"), POS)
    assert len(failures) == 1
    assert failures[0].rule == "parse:total_amount"
    assert "'12,5O'" in failures[0].reason and "numeric" in failures[0].reason


def test_fractional_integer_is_a_failure_not_a_truncation():
    frame = pd.DataFrame([{"event_id": "1.5", "openid": "o", "event_type": "like",
                           "occurred_at": "2026-01-01T00:00:00Z"}], dtype="string")
    _, failures = parse_batch(frame, RAW_TABLES["social_events"])
    assert [f.rule for f in failures] == ["parse:event_id"]


def test_missing_required_column_is_left_out_for_the_batch_check():
    typed, _ = parse_batch(pos_frame().drop(columns=["store_id"]), POS)
    assert "store_id" not in typed.columns
    assert "phone" in typed.columns


def test_missing_optional_column_becomes_null():
    typed, failures = parse_batch(pos_frame().drop(columns=["phone"]), POS)
    assert failures == [] and typed["phone"].isna().all()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=30), st.text(max_size=8)), max_size=20))
def test_parsing_never_crashes_and_never_loses_a_row(rows):
    frame = pd.DataFrame([{"receipt_id": a, "store_id": "S", "purchased_at": b, "total_amount": c,
                           "transaction_type": "sale"} for a, b, c in rows], dtype="string")
    typed, failures = parse_batch(frame, POS)
    assert len(typed) == len(frame)
    assert all(0 <= f.row < len(frame) for f in failures)


def test_a_bad_value_in_a_personal_column_is_never_quoted():
    typed, failures = parse_batch(pos_frame(total_amount="07700 900123"), replace(POS, personal=("total_amount",)))
    assert [f.rule for f in failures] == ["parse:total_amount"]
    assert "07700" not in failures[0].reason and "not a valid numeric" in failures[0].reason
    validation = Validation("raw.pos_receipts", [Outcome("expect_x", "phone", "error", False, None, 1, (0,))],
                            personal=frozenset({"phone"}))
    frame = pd.DataFrame({"phone": ["07700 900123"]})
    assert [f.reason for f in validation.row_failures(frame)] == ["phone failed expect_x"]
