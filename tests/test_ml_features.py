"""Propensity features are point-in-time: data dated after an as-of date, of
every kind the features read, changes none of that date's features."""
import json
from datetime import date

import pandas as pd
import pytest

from c360.loader import Batch, publish_batch
from c360.raw_tables import RAW_TABLES
from c360.transform import build_warehouse
from conftest import empty_warehouse, query
from fixtures import AS_OF, _app_event, _customer, _message, _order, _receipt, _ticket, load_small_brand
from ml.dataset import FEATURES, build_features, load_features

DAY = date(2026, 3, 4)  # mid-way through the small brand's history: there is data on both sides
LATER = date(2026, 4, 10)
FAR = date(2027, 4, 10)  # a year after the last data: beyond every feature's window
T = RAW_TABLES


SOURCES = {"shop_orders": "shop", "shop_customers": "shop", "pos_receipts": "pos", "social_followers": "social",
           "social_events": "social", "app_events": "app", "campaign_events": "campaigns",
           "service_tickets": "service"}


def _batch(table: str, rows: list[dict], file: str | None = None) -> Batch:
    return Batch(SOURCES[table], T[table], pd.DataFrame(rows), LATER,
                 source_file=(file, f"checksum of {file}") if file else None)


def _open_ticket(ticket_id, email, opened_at, updated_at, closed_at=None, score=None):
    """A ticket as one version of it reads: open, or closed with its score."""
    return {**_ticket(ticket_id, email, None, score), "opened_at": opened_at, "closed_at": closed_at,
            "updated_at": updated_at}


FUTURE = [  # everything dated after DAY, none of it linking two known people
    _batch("shop_orders", [_order(13, 1, "2026-04-05T10:00:00Z", 80),
                           _order(10, 1, "2026-01-02T10:00:00Z", 50, "refunded", refunded_at="2026-04-06T00:00:00Z")]),
    _batch("shop_customers", [_customer(5, "fay@x.com", "07700 900005", created="2026-04-01T00:00:00Z")]),
    _batch("pos_receipts", [_receipt("R9", "2026-04-02T10:00:00Z", "M1", "", "25"),
                            _receipt("R10", "2026-04-03T10:00:00Z", "M1", "", "15.50", "return", "R1")],
           "S1/pos_S1_late.csv"),
    _batch("social_followers", [
        dict(openid="o1", unionid="u1", bound_phone="447700900002", nickname="b", followed_at="2026-01-01T00:00:00Z",
             unfollowed_at=None, follower_count=999, updated_at="2026-04-01T00:00:00Z"),
        dict(openid="o2", unionid="u2", bound_phone=None, nickname="e", followed_at="2026-02-01T00:00:00Z",
             unfollowed_at="2026-04-02T00:00:00Z", follower_count=7, updated_at="2026-04-02T00:00:00Z"),
    ]),
    _batch("social_events", [dict(event_id=3, openid="o1", event_type="share", occurred_at="2026-04-03T00:00:00Z",
                                  content_id="b", seconds_read=None)]),
    # a device used anonymously before DAY and first logged in after it: its old sessions were nobody's on DAY
    _batch("app_events", [_app_event("A6", "D4", at="2026-02-20T10:00:00Z"),
                          _app_event("A7", "D4", "login", customer_id=1, at="2026-04-03T10:00:00Z"),
                          _app_event("A8", "D1", at="2026-04-04T10:00:00Z")], "app_events_late.jsonl"),
    _batch("campaign_events", [{**_message("E5", "K1", "send", email=" Ann@X.com"), "campaign_id": "C2",
                                "occurred_at": "2026-04-02T09:00:00Z"},
                               {**_message("E6", "K1", "click", email=" Ann@X.com"), "campaign_id": "C2",
                                "occurred_at": "2026-04-02T10:00:00Z"},
                               {**_message("E7", "K1", "unsubscribe", email=" Ann@X.com"), "campaign_id": "C2",
                                "occurred_at": "2026-04-02T11:00:00Z"}], "campaign_events_late.csv"),
    # the open ticket closes, badly rated, after DAY
    _batch("service_tickets", [_open_ticket("T4", "ann@x.com", "2026-02-25T09:00:00Z", "2026-04-02T09:00:00Z",
                                            closed_at="2026-04-02T09:00:00Z", score=1)],
           "service_tickets_late.json"),
]


@pytest.fixture(scope="module")
def features_before_and_after(warehouse, workspace):
    empty_warehouse(warehouse)
    load_small_brand(warehouse)
    publish_batch(warehouse, _batch("service_tickets", [_open_ticket("T4", "ann@x.com", "2026-02-25T09:00:00Z",
                                                                     "2026-02-25T09:00:00Z")], "service_open.json"))
    build_warehouse(warehouse, workspace, AS_OF)
    build_features(warehouse, workspace, [DAY])
    before = load_features(warehouse, DAY)

    for batch in FUTURE:
        publish_batch(warehouse, batch)
    build_warehouse(warehouse, workspace, LATER)
    build_features(warehouse, workspace, [DAY, LATER, FAR])
    return before, load_features(warehouse, DAY), load_features(warehouse, LATER), load_features(warehouse, FAR)


def test_training_tests_the_features_of_each_date_it_built(features_before_and_after, workspace):
    """build_features tests what it built: the tests read those dates (and only those:
    the table keeps every date, so reading all would cost more with each build)."""
    results = json.loads((workspace.dbt_target / "target" / "run_results.json").read_text())
    tests = {result["unique_id"].split(".")[2]: result for result in results["results"]
             if result["unique_id"].startswith("test.")}
    assert len(tests) == 9 and {result["status"] for result in tests.values()} == {"pass"}
    dates = ", ".join(f"cast('{day}' as date)" for day in (DAY, LATER, FAR))
    assert f"where as_of_date in ({dates})" in tests["not_null_customer_features_frequency"]["compiled_code"]


def test_data_dated_after_the_as_of_date_changes_no_feature(features_before_and_after):
    before, after, *_ = features_before_and_after
    assert len(before) >= 5 and before.notna().sum().sum() > 0
    pd.testing.assert_frame_equal(before[FEATURES], after[FEATURES])


def test_the_later_data_did_reach_a_later_date(features_before_and_after, warehouse):
    """Not vacuous: the same rows change the features of a date after them."""
    before, _, later, _ = features_before_and_after
    (fay,), = query(warehouse, "select customer_key from marts.customer_identity_map"
                               " where source = 'shop' and source_customer_id = '5'")
    assert fay in later.index and fay not in before.index
    assert later["social_follower_count"].max() == 999 and before["social_follower_count"].max() == 120
    ann = before["open_tickets"].idxmax()
    assert before.loc[ann, "open_tickets"] == 1 and later.loc[ann, "open_tickets"] == 0
    assert later.loc[ann, "low_satisfaction_tickets"] == before.loc[ann, "low_satisfaction_tickets"] + 1
    assert later.loc[ann, "frequency"] > before.loc[ann, "frequency"]
    assert later.loc[ann, "campaign_clicks_180d"] == before.loc[ann, "campaign_clicks_180d"] + 1
    assert later.loc[ann, "has_unsubscribed"] == 1 and before.loc[ann, "has_unsubscribed"] == 0
    assert later.loc[ann, "app_sessions_30_90d"] == 2  # D1's on March 1st and D4's, once someone logged in on it


def test_what_looks_past_every_window_still_sees_the_old_interactions(features_before_and_after):
    """A year after the last data every windowed count is 0, while the days since the
    last social interaction and app event have grown by that year, and an unsubscribe
    is still known (these are read past the windows, from the end of each history)."""
    *_, later, far = features_before_and_after
    windowed = [column for column in FEATURES if column.endswith(("_30d", "_90d", "_180d"))]
    assert (far[windowed] == 0).all().all() and (later[windowed] != 0).any().any()
    gap = (FAR - LATER).days
    for column in ("days_since_social_interaction", "days_since_app_event"):
        seen = later[column].dropna()
        assert len(seen) >= 1
        pd.testing.assert_series_equal(far.loc[seen.index, column], seen + gap)
    assert later["has_unsubscribed"].sum() == 1
    pd.testing.assert_series_equal(far.loc[later.index, "has_unsubscribed"], later["has_unsubscribed"])
