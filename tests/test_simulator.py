"""The simulated brand: determinism, no future leaks, channel formats, the
social API's paging, and identity overlaps in the truth file.

One world is advanced twice against a real PostgreSQL: in one jump, and day
by day (checking after every day that nothing from the future is visible).
"""
from __future__ import annotations

import gzip
import io
import json
import re
import sqlite3
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import psycopg2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from c360.simulator import (
    SimulationSettings, advance_world, last_simulated_day, load_settings, read_truth, save_settings,
    serve_social_api,
)
from c360.simulator.campaigns import EFFECT_DAYS
from c360.simulator.world import NEVER, World, email_variant, format_phone, purchases_on

START = date(2024, 3, 20)  # clocks go forward on 2024-03-31: POS offsets change from +00:00 to +01:00
DAYS = 60
THROUGH = START + timedelta(days=DAYS - 1)
MID = START + timedelta(days=29)
SETTINGS = SimulationSettings(customers=600, seed=7, start_date=START)
TOKEN = "test-token"
POS_HEADER = "receipt_id,store_id,purchased_at,member_card_no,phone,total_amount,transaction_type,original_receipt_id"
SHOP_TABLES = ["products", "customers", "orders", "order_items", "sim.accounts", "sim.order_fates", "sim.progress"]


# --- fixtures -----------------------------------------------------------------------------------


@dataclass
class Run:
    state: Path
    dsn: str
    landing: Path

    def query(self, sql: str, params=None) -> list[tuple]:
        with psycopg2.connect(self.dsn) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        conn.close()
        return rows

    def frame(self, sql: str) -> pd.DataFrame:
        with psycopg2.connect(self.dsn) as conn, conn.cursor() as cur:
            cur.execute(sql)
            frame = pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])
        conn.close()
        return frame

    def social(self, sql: str) -> list[tuple]:
        with sqlite3.connect(self.state / "social" / "social.sqlite") as conn:
            return conn.execute(sql).fetchall()


def _new_run(postgres, tmp_path_factory, name: str) -> Run:
    base = tmp_path_factory.mktemp(name)
    run = Run(base / "state", postgres(f"shop_{name}"), base / "landing")
    save_settings(run.state, SETTINGS)
    return run


@pytest.fixture(scope="module")
def jump(postgres, tmp_path_factory) -> Run:
    run = _new_run(postgres, tmp_path_factory, "jump")
    report = advance_world(run.state, run.dsn, run.landing, THROUGH)
    assert report.first_day == START and report.last_day == THROUGH and report.days == DAYS
    return run


@dataclass
class Stepwise:
    run: Run
    latest: dict[date, dict[str, datetime | None]]  # newest timestamp per source after advancing to the day
    mid_orders: pd.DataFrame  # the orders table right after advancing to MID


@pytest.fixture(scope="module")
def stepwise(postgres, tmp_path_factory) -> Stepwise:
    run = _new_run(postgres, tmp_path_factory, "stepwise")
    latest, mid_orders = {}, None
    for k in range(DAYS):
        day = START + timedelta(days=k)
        advance_world(run.state, run.dsn, run.landing, day)
        (shop,) = run.query(
            "select (select max(updated_at) from customers), (select max(updated_at) from orders),"
            " (select max(cancelled_at) from orders), (select max(refunded_at) from orders),"
            " (select max(updated_at) from order_items)"
        )
        (social,) = run.social("select (select max(updated_at) from followers), (select max(occurred_at) from events)")
        latest[day] = dict(zip(["customers", "orders", "cancelled", "refunded", "items"], shop))
        latest[day].update({k: v and datetime.fromisoformat(v) for k, v in zip(["followers", "events"], social)})
        newest_file = max(p.name.split("_")[2][:10] for p in run.landing.rglob("pos_*"))
        latest[day]["pos_files"] = datetime.fromisoformat(newest_file).replace(tzinfo=timezone.utc)
        if day == MID:
            mid_orders = run.frame("select * from orders")
    return Stepwise(run, latest, mid_orders)


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)


def _shop_dump(run: Run) -> dict[str, list[str]]:
    dump = {}
    with psycopg2.connect(run.dsn) as conn, conn.cursor() as cur:
        for table in SHOP_TABLES:
            out = io.StringIO()
            cur.copy_expert(f"copy {table} to stdout with (format csv)", out)
            dump[table] = sorted(out.getvalue().splitlines())
    conn.close()
    return dump


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _pos_receipts(landing: Path) -> pd.DataFrame:
    frames = []
    for path in sorted(landing.rglob("pos_*")):
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode()
        assert text.splitlines()[0] == POS_HEADER, path
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        frames.append(frame.assign(file=path.name, folder=path.parent.name))
    return pd.concat(frames, ignore_index=True)


def national(phone: str) -> str:
    """What an identity resolver must do: any written form -> 10 national digits."""
    digits = re.sub(r"\D", "", phone)
    return digits[2:] if digits.startswith("44") else digits.lstrip("0")


# --- settings and progress ------------------------------------------------------------------------


def test_settings_round_trip_and_missing_settings_are_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="save_settings"):
        load_settings(tmp_path)
    with pytest.raises(FileNotFoundError):
        advance_world(tmp_path, "dbname=unused", tmp_path / "landing", START)
    save_settings(tmp_path, SETTINGS)
    assert load_settings(tmp_path) == SETTINGS
    assert json.loads((tmp_path / "settings.json").read_text())["start_date"] == START.isoformat()


def test_advancing_to_a_done_day_does_nothing(jump):
    before = _files(jump.landing), _shop_dump(jump)
    for day in (THROUGH, MID, START - timedelta(days=1)):
        report = advance_world(jump.state, jump.dsn, jump.landing, day)
        assert report.first_day is None and report.days == 0 and report.last_day == THROUGH
        assert report.shop == report.pos == report.social == {}
    assert (_files(jump.landing), _shop_dump(jump)) == before
    assert last_simulated_day(jump.state) == THROUGH


# --- determinism ----------------------------------------------------------------------------------


def test_one_jump_and_day_by_day_give_identical_channels(jump, stepwise):
    step = stepwise.run
    assert last_simulated_day(step.state) == last_simulated_day(jump.state) == THROUGH
    jump_files, step_files = _files(jump.landing), _files(step.landing)
    per_channel = pd.Series([name.split("/")[0] for name in jump_files]).value_counts().to_dict()
    assert per_channel == {"pos": DAYS * SETTINGS.stores, "app": DAYS, "campaigns": DAYS, "service": DAYS}
    assert jump_files == step_files  # byte for byte, gzip included
    assert _shop_dump(jump) == _shop_dump(step)
    for table in ("followers", "events"):
        assert jump.social(f"select * from {table} order by 1") == step.social(f"select * from {table} order by 1")
    for truth in ("people.csv", "campaigns.csv"):
        assert (jump.state / "truth" / truth).read_bytes() == (step.state / "truth" / truth).read_bytes()


def test_a_new_shop_database_is_replayed_from_the_first_day(postgres, jump, tmp_path):
    """A channel that is behind (here: a fresh shop database) catches up on its own."""
    state = tmp_path / "state"
    save_settings(state, SETTINGS)
    advance_world(state, postgres("shop_first"), tmp_path / "landing", MID)
    (state / "progress.json").unlink()  # forget the progress, keep the social store
    replay = Run(state, postgres("shop_replayed"), tmp_path / "landing")
    report = advance_world(replay.state, replay.dsn, replay.landing, THROUGH)
    assert report.shop["orders_created"] > 0
    assert _shop_dump(replay) == _shop_dump(jump)
    assert replay.social("select * from events order by 1") == jump.social("select * from events order by 1")


# --- the shop database ----------------------------------------------------------------------------


def test_nothing_from_the_future_is_visible_after_any_day(stepwise):
    for day, latest in stepwise.latest.items():
        for source, newest in latest.items():
            assert newest is None or newest < _end_of(day), (day, source, newest)
    assert stepwise.latest[START]["orders"] is not None


def test_order_status_changes_appear_only_on_their_day(jump, stepwise):
    final = jump.frame("select order_id, status, refunded_at, cancelled_at from orders").set_index("order_id")
    mid = stepwise.mid_orders.set_index("order_id")
    cutoff = _end_of(MID)
    later_refunds = final[(final["refunded_at"] >= cutoff)].index.intersection(mid.index)
    assert len(later_refunds) > 0, "the test needs orders refunded after MID that were placed before"
    assert set(mid.loc[later_refunds, "status"]) <= {"paid", "shipped"}
    assert mid.loc[later_refunds, "refunded_at"].isna().all()
    # and what had happened by MID is already there
    done = final[final["refunded_at"] < cutoff].index
    assert (mid.loc[done, "status"] == "refunded").all()
    assert (mid.loc[final[final["cancelled_at"] < cutoff].index, "status"] == "cancelled").all()


def test_order_lifecycle_and_totals(jump):
    orders = jump.frame("select * from orders")
    assert set(orders["status"]) == {"paid", "shipped", "cancelled", "refunded"}
    assert (orders["currency"] == "GBP").all()
    age = orders["updated_at"] - orders["ordered_at"]
    shipped = orders[orders["status"] == "shipped"]
    ship_age = (shipped["updated_at"].dt.floor("D") - shipped["ordered_at"].dt.floor("D")).dt.days
    assert ship_age.between(1, 3).all()
    cancelled = orders[orders["status"] == "cancelled"]
    assert (cancelled["cancelled_at"] == cancelled["updated_at"]).all()
    assert ((cancelled["cancelled_at"] - cancelled["ordered_at"]) <= pd.Timedelta(days=1)).all()
    refunded = orders[orders["status"] == "refunded"]
    assert (refunded["refunded_at"] == refunded["updated_at"]).all()
    assert age[orders["status"] == "refunded"].dt.days.between(5, 23).all()
    # only orders old enough to have met their fate count for the shares
    settled = orders[orders["ordered_at"] < _end_of(THROUGH - timedelta(days=24))]
    assert 0.01 < (settled["status"] == "cancelled").mean() < 0.06
    assert 0.02 < (settled["status"] == "refunded").mean() < 0.09
    assert (orders.loc[orders["status"] == "paid", "ordered_at"] >= _end_of(THROUGH - timedelta(days=4))).all()

    mismatched = jump.query(
        "select count(*) from orders o join (select order_id, sum(quantity * unit_price) as total"
        " from order_items group by order_id) i using (order_id) where i.total <> o.total_amount"
    )
    assert mismatched == [(0,)]
    assert jump.query("select count(*) from orders where order_id not in (select order_id from order_items)") == [(0,)]
    assert jump.query("select count(*) from order_items where product_id not in (select product_id from products)") \
        == [(0,)]


def test_customer_accounts(jump):
    customers = jump.frame("select * from customers")
    first_orders = jump.frame("select customer_id, min(ordered_at) as first_order from orders group by 1")
    joined = customers.merge(first_orders, on="customer_id")
    assert (joined["created_at"] <= joined["first_order"]).all()
    assert (customers["updated_at"] >= customers["created_at"]).all()
    assert customers["member_card_no"].dropna().str.fullmatch(r"M\d{8}").all()
    assert customers["member_card_no"].dropna().is_unique
    assert 0.05 < customers["phone"].isna().mean() < 0.4  # some members have no phone
    emails = customers["email"]
    assert (emails != emails.str.strip()).any() and (emails.str.strip() != emails.str.strip().str.lower()).any()


# --- POS file drops -------------------------------------------------------------------------------


def test_pos_files(jump):
    paths = sorted(p for p in (jump.landing / "pos").rglob("*") if p.is_file())
    assert not [p for p in jump.landing.rglob(".*")], "temporary files left behind"
    stores = sorted(p.name for p in (jump.landing / "pos").iterdir())
    assert stores == [f"S{i:02d}" for i in range(1, SETTINGS.stores + 1)]
    pattern = re.compile(r"pos_(S\d\d)_(\d{4}-\d\d-\d\d)\.csv(\.gz)?")
    names = [pattern.fullmatch(p.name) for p in paths]
    assert all(names)
    assert all(m.group(1) == p.parent.name for m, p in zip(names, paths))
    assert {(m.group(1), m.group(2)) for m in names} == {
        (s, (START + timedelta(days=k)).isoformat()) for s in stores for k in range(DAYS)}
    assert 0.1 < np.mean([bool(m.group(3)) for m in names]) < 0.3

    receipts = _pos_receipts(jump.landing)
    counts = receipts.groupby("file").size().reindex([p.name for p in paths], fill_value=0)
    assert (counts == 0).any(), "a store without sales still writes a header-only file"
    assert receipts["receipt_id"].is_unique
    assert (receipts["store_id"] == receipts["folder"]).all()
    assert receipts["total_amount"].str.fullmatch(r"\d+\.\d\d").all()

    at = receipts["purchased_at"]
    assert at.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d").all()
    file_day = receipts["file"].str.slice(8, 18)
    assert (at.str.slice(0, 10) == file_day).all()
    assert set(at[file_day < "2024-03-31"].str.slice(19)) == {"+00:00"}
    assert set(at[file_day > "2024-03-31"].str.slice(19)) == {"+01:00"}

    sales = receipts[receipts["transaction_type"] == "sale"]
    returns = receipts[receipts["transaction_type"] == "return"]
    assert set(receipts["transaction_type"]) == {"sale", "return"}
    anonymous = (sales["member_card_no"] == "") & (sales["phone"] == "")
    assert 0.08 < anonymous.mean() < 0.25
    assert (sales["original_receipt_id"] == "").all()
    assert 0.015 < len(returns) / len(sales) < 0.08
    original = returns.merge(sales, left_on="original_receipt_id", right_on="receipt_id", suffixes=("", "_sale"))
    assert len(original) == len(returns)
    for column in ("store_id", "member_card_no", "phone", "total_amount"):
        assert (original[column] == original[f"{column}_sale"]).all(), column
    lag = (pd.to_datetime(original["purchased_at"], utc=True) - pd.to_datetime(original["purchased_at_sale"], utc=True))
    assert lag.dt.days.between(1, 7).all() and (lag > pd.Timedelta(days=1)).all()


# --- the social platform's API --------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(jump):
    with serve_social_api(jump.state, TOKEN) as base_url:
        yield base_url


def _get(base_url: str, path: str, token: str | None = TOKEN, **params) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base_url}{path}?{urlencode(params)}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _all_pages(base_url: str, path: str, cursor: str | None = None, **params) -> tuple[list[dict], str | None, int]:
    """Every item from the cursor on; the resume cursor of the last page; the number of pages."""
    items, pages = [], 0
    while True:
        status, body = _get(base_url, path, **params, **({"cursor": cursor} if cursor else {}))
        assert status == 200, body
        items += body["data"]
        pages += 1
        if body["next_cursor"] is None:
            return items, body["resume_cursor"], pages
        assert body["next_cursor"] == body["resume_cursor"] and len(body["data"]) == params["limit"]
        cursor = body["next_cursor"]


def test_api_requires_the_bearer_token(api):
    for token in (None, "wrong"):
        status, body = _get(api, "/v1/followers", token=token)
        assert status == 401 and "token" in body["error"]
    assert _get(api, "/v1/events")[0] == 200


@pytest.mark.parametrize("path, params", [
    ("/v1/followers", {"limit": 0}),
    ("/v1/followers", {"limit": 1001}),
    ("/v1/events", {"limit": "ten"}),
    ("/v1/events", {"cursor": "not-a-cursor"}),
    ("/v1/events", {"until": "yesterday"}),
    ("/v1/events", {"page": 2}),
])
def test_api_rejects_bad_parameters(api, path, params):
    status, body = _get(api, path, **params)
    assert status == 400 and body["error"]


def test_api_cursor_of_one_listing_is_refused_by_another(api):
    _, body = _get(api, "/v1/followers", limit=1)
    status, _ = _get(api, "/v1/events", cursor=body["next_cursor"])
    assert status == 400
    assert _get(api, "/v1/nothing")[0] == 404


def test_api_pages_return_every_follower_once_in_order(api, jump):
    followers, resume, pages = _all_pages(api, "/v1/followers", limit=7)
    stored = jump.social("select openid from followers")
    assert pages > 10
    assert sorted(f["openid"] for f in followers) == sorted(openid for (openid,) in stored)
    positions = [(f["updated_at"], f["openid"]) for f in followers]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert set(followers[0]) == {"openid", "unionid", "bound_phone", "nickname", "followed_at", "unfollowed_at",
                                 "follower_count", "updated_at"}
    assert all(f["updated_at"].endswith("Z") for f in followers)
    # the resume cursor is a watermark: nothing new since
    status, body = _get(api, "/v1/followers", cursor=resume, limit=7)
    assert status == 200 and body == {"data": [], "next_cursor": None, "resume_cursor": resume}


def test_api_events_respect_until_and_resume_from_the_watermark(api, jump):
    until, stored_until = _end_of(MID).isoformat(), f"{_end_of(MID):%Y-%m-%dT%H:%M:%SZ}"
    early, watermark, _ = _all_pages(api, "/v1/events", limit=250, until=until)
    expected_early = jump.social(f"select event_id from events where occurred_at <= '{stored_until}'")
    assert [e["event_id"] for e in early] == sorted(i for (i,) in expected_early)
    assert all(e["occurred_at"] <= stored_until for e in early)

    later, _, _ = _all_pages(api, "/v1/events", cursor=watermark, limit=1000)
    events = early + later
    assert {e["event_type"] for e in events} == {"follow", "unfollow", "like", "comment", "share", "read"}
    assert all((e["seconds_read"] is None) == (e["event_type"] != "read") for e in events)
    ids = [e["event_id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert ids == [i for (i,) in jump.social("select event_id from events order by event_id")]


def test_api_serves_an_empty_platform_before_the_first_advance(tmp_path):
    save_settings(tmp_path, SETTINGS)
    with serve_social_api(tmp_path, TOKEN) as base_url:
        assert _get(base_url, "/v1/followers") == (200, {"data": [], "next_cursor": None, "resume_cursor": None})


# --- the truth and identity overlaps --------------------------------------------------------------


@given(st.integers(7_400_000_000, 7_999_999_999), st.integers(0, 5))
def test_every_phone_format_is_the_same_number(number, fmt):
    written = format_phone(np.array([str(number)]), np.array([fmt]))[0]
    assert national(written) == str(number)


@given(st.integers(0, 4))
def test_every_email_variant_is_the_same_address(variant):
    written = email_variant(np.array(["jane.smith12@example.com"]), np.array([variant]))[0]
    assert written.strip().lower() == "jane.smith12@example.com"


def test_truth_links_every_source_identifier_to_one_person(jump):
    truth = read_truth(jump.state)
    assert len(truth) == SETTINGS.customers and truth["person_id"].is_unique
    assert (truth["as_of"] == THROUGH.isoformat()).all()
    accounts = truth.explode("customer_ids").dropna(subset=["customer_ids"])
    customers = jump.frame("select customer_id, email, phone, member_card_no from customers")
    assert sorted(accounts["customer_ids"].astype(int)) == sorted(customers["customer_id"])
    linked = customers.merge(accounts.astype({"customer_ids": int}), left_on="customer_id", right_on="customer_ids",
                             suffixes=("", "_truth"))
    assert (linked["email"].str.strip().str.lower() == linked["email_truth"]).all()
    assert (linked["email"] != linked["email_truth"]).any()  # ...but not always as written
    with_phone = linked.dropna(subset=["phone"])
    assert (with_phone["phone"].map(national) == with_phone["phone_e164"].str.slice(3)).all()
    carded = linked.dropna(subset=["member_card_no"])
    assert (carded["member_card_no"] == carded["member_card_no_truth"]).all()

    prospects = truth[truth["is_prospect"]]
    assert 0.05 < len(prospects) / len(truth) < 0.15
    assert prospects["customer_ids"].map(len).eq(0).all() and (prospects["member_card_no"] == "").all()
    assert (prospects["expected_purchases_30d"] == 0).all()
    buyers = truth.loc[~truth["is_prospect"], "expected_purchases_30d"]
    assert buyers.max() > 5 * buyers.median()  # heavy-tailed: most buy rarely, a few often

    openids = {o for (o,) in jump.social("select openid from followers")}
    assert openids == set(truth.loc[truth["openid"] != "", "openid"])


def test_identity_overlaps_are_present(jump):
    truth = read_truth(jump.state)
    # families sharing one phone
    sharing = truth[truth["household_id"] != ""].groupby("phone_e164")["person_id"].nunique()
    assert len(sharing) > 0 and sharing.between(3, 4).all()
    # people with two shop accounts whose e-mails differ as written
    two = truth[truth["customer_ids"].map(len) == 2]
    assert len(two) > 0
    customers = jump.frame("select customer_id, email from customers").set_index("customer_id")["email"]
    for ids in two["customer_ids"]:
        first, second = customers[ids[0]], customers[ids[1]]
        assert first != second and first.strip().lower() == second.strip().lower()

    # one person, one number, written differently in the shop, at the tills and on social
    by_card = truth[truth["member_card_no"] != ""].set_index("member_card_no")
    receipts = _pos_receipts(jump.landing)
    carded = receipts[(receipts["member_card_no"] != "") & (receipts["phone"] != "")]
    assert set(carded["member_card_no"]) <= set(by_card.index)
    owners = by_card.loc[carded["member_card_no"], "phone_e164"].str.slice(3).to_numpy()
    assert (carded["phone"].map(national).to_numpy() == owners).all()
    phones = receipts.loc[receipts["phone"] != "", "phone"]
    assert set(phones.map(national)) <= set(truth["phone_e164"].str.slice(3))
    assert (phones.groupby(phones.map(national)).nunique() > 1).any()  # one number, several ways of writing it

    bound = pd.DataFrame(jump.social("select openid, bound_phone from followers where bound_phone is not null"),
                         columns=["openid", "bound_phone"]).merge(truth, on="openid")
    assert 0.4 < len(bound) / (truth["openid"] != "").sum() < 0.8
    assert (bound["bound_phone"].map(national) == bound["phone_e164"].str.slice(3)).all()
    shop_phones = jump.frame("select customer_id, phone from customers where phone is not null")
    accounts = truth.explode("customer_ids").dropna(subset=["customer_ids"]).astype({"customer_ids": int})
    shop_phones = shop_phones.merge(accounts[["customer_ids", "person_id"]], left_on="customer_id",
                                    right_on="customer_ids")
    across = bound.merge(shop_phones, on="person_id")
    assert (across["bound_phone"] != across["phone"]).any()
    assert (across["bound_phone"].map(national) == across["phone"].map(national)).all()


# --- app, campaigns and service exports -----------------------------------------------------------


def _app_events(landing: Path) -> pd.DataFrame:
    return pd.concat([pd.read_json(p, lines=True, dtype=False) for p in sorted((landing / "app").glob("*.jsonl"))
                      if p.stat().st_size], ignore_index=True)


def test_app_devices_are_anonymous_until_a_login_ties_them_to_the_customer(jump):
    events, truth = _app_events(jump.landing), read_truth(jump.state)
    assert events["event_id"].is_unique
    assert set(events["event_type"]) == {"session_start", "login", "product_view", "cart_add"}
    owner = truth.assign(device_id=truth["app_device_ids"].str.split(";")).explode("device_id")
    owner = owner[owner["device_id"] != ""].set_index("device_id")
    assert set(events["device_id"]) <= set(owner.index)
    assert owner.groupby("person_id").size().between(1, 3).all() and owner["uses_app"].all()

    owner = owner[["customer_ids", "email"]].rename(columns={"email": "true_email"})
    logins = events[events["event_type"] == "login"].join(owner, on="device_id")
    assert logins["customer_id"].notna().any() and logins["email"].notna().any()
    assert (logins["customer_id"].notna() != logins["email"].notna()).all()  # one or the other
    by_id = logins.dropna(subset=["customer_id"])
    assert all(int(c) in ids for c, ids in zip(by_id["customer_id"], by_id["customer_ids"]))
    by_email = logins.dropna(subset=["email"])
    assert (by_email["email"].str.strip().str.lower() == by_email["true_email"]).all()
    first_login = logins.groupby("device_id")["occurred_at"].min()
    before = events.join(first_login.rename("first_login"), on="device_id")
    anonymous = before[before["occurred_at"] < before["first_login"]]
    assert len(anonymous) > 0 and (anonymous["customer_id"].isna() & anonymous["email"].isna()).all()


def test_campaign_holdouts_are_never_sent_and_unsubscribers_get_nothing_more(jump):
    events = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False)
                        for p in sorted((jump.landing / "campaigns").glob("*.csv"))], ignore_index=True)
    assert events["event_id"].is_unique
    assert set(events["event_type"]) == {"holdout", "send", "delivery", "open", "click", "unsubscribe", "conversion"}
    held = events[events["event_type"] == "holdout"]
    sent = events[events["event_type"] == "send"]
    assert (held["is_holdout"] == "True").all() and (sent["is_holdout"] == "False").all()
    assert held.merge(sent, on=["campaign_id", "contact_id"]).empty
    share = len(held) / (len(held) + len(sent))
    assert 0.06 < share < 0.14
    assert (sent["cost_per_send"] != "").all() and (held["cost_per_send"] == "").all()
    unsubscribed = events[events["event_type"] == "unsubscribe"].groupby("contact_id")["occurred_at"].min()
    later = sent.join(unsubscribed.rename("unsubscribed_at"), on="contact_id", how="inner")
    assert len(unsubscribed) > 0 and (later["occurred_at"] < later["unsubscribed_at"]).all()
    contacts = read_truth(jump.state).set_index("contact_id")
    emailed = events[events["email"] != ""]
    assert (emailed["email"].str.strip().str.lower() == contacts.loc[emailed["contact_id"], "email"].to_numpy()).all()
    texted = events[events["phone"] != ""]
    assert (texted["phone"].map(national).to_numpy() == contacts.loc[texted["contact_id"], "phone_e164"].str.slice(3)).all()


def test_service_tickets_come_as_json_and_csv_with_the_customers_contacts(jump):
    files = sorted((jump.landing / "service").iterdir())
    assert {p.suffix for p in files} == {".json", ".csv"}
    tickets = pd.concat([pd.DataFrame(json.loads(p.read_text())) if p.suffix == ".json"
                         else pd.read_csv(p, dtype=str) for p in files], ignore_index=True)
    latest = tickets.sort_values("updated_at").groupby("ticket_id").last()
    assert latest["email"].notna().any() and latest["phone"].notna().any()
    assert (latest["email"].notna() | latest["phone"].notna()).all()
    closed = latest.dropna(subset=["closed_at"])
    assert (closed["closed_at"] >= closed["opened_at"]).all()
    scores = pd.to_numeric(closed["satisfaction_score"]).dropna()
    assert scores.between(1, 5).all() and scores.nunique() == 5
    emails = set(read_truth(jump.state)["email"])
    assert set(latest["email"].dropna().str.strip().str.lower()) <= emails


def test_a_campaign_send_really_raises_the_purchases_of_responsive_people():
    """Against the holdout: responsive people a campaign with an effect reached buy more in the
    week after than responsive people it held out; campaigns without an effect change nothing."""
    world = World.build(SimulationSettings(customers=10_000, seed=5, start_date=date(2024, 1, 1)))
    campaigns = world.campaigns.sent_between(date(2024, 1, 1), date(2024, 6, 30))
    bought = {}
    rates = {}  # (has effect, treated) -> [purchases, people]
    for campaign in campaigns:
        week = [campaign.send_day + timedelta(days=k) for k in range(1, EFFECT_DAYS + 1)]
        counts = sum(bought.setdefault(day, np.bincount(purchases_on(world, day).person, minlength=world.size))
                     for day in week)
        responsive = world.is_responsive[campaign.person]
        reached = (campaign.delivered_at < NEVER) & responsive
        for treated, mask in ((True, reached), (False, campaign.is_holdout & responsive)):
            entry = rates.setdefault((campaign.lift > 0, treated), [0, 0])
            entry[0] += counts[campaign.person[mask]].sum()
            entry[1] += mask.sum()
    per_person = {key: bought_ / people for key, (bought_, people) in rates.items()}
    assert per_person[(True, True)] > 1.4 * per_person[(True, False)]
    assert 0.7 < per_person[(False, True)] / per_person[(False, False)] < 1.4
    lifts = [c.lift for c in campaigns]
    assert len(campaigns) > 12 and 0 < lifts.count(0.0) < len(lifts)
