"""The whole pipeline through Airflow on a small simulated brand, checked
against the source systems themselves."""
from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import os
import re
import secrets
import shutil
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pandas as pd
import psycopg2
import pytest
import yaml

from c360.cli import main
from c360.config import PROJECT_ROOT, SHOP_DB
from c360.extract.files import drop_files
from c360.identity_quality import identity_quality
from conftest import RESET_SQL, assert_printed_cut_points_freeze_the_scores, query, required_passwords
from ml.evaluation import quintile
from secret_scan import find_secrets

AS_OF = date(2026, 6, 30)
# identity resolution against the simulator's truth (measured: precision 1.000, 0.996 of the linkable pairs)
PRECISION_AT_LEAST, LINKABLE_RECALL_AT_LEAST = 0.98, 0.95
NEXT_DAY = AS_OF + timedelta(days=1)


def e164(raw: str | None) -> str | None:
    """UK phone to E.164, written independently of the dbt macro it checks."""
    digits = re.sub(r"\D", "", (raw or "").replace("(0)", ""))
    if not digits:
        return None
    if digits.startswith("0044"):
        return "+" + digits[2:]
    if digits.startswith("44") and len(digits) > 10:
        return "+" + digits
    return "+44" + (digits[1:] if digits.startswith("0") else digits)


def source_movements(warehouse, workspace, as_of: date) -> pd.DataFrame:
    """Every order and every reversal up to as_of, read from the shop database and the
    POS files themselves: member (source, source_customer_id), day, is_order, signed amount."""
    end = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
    rows = []
    with psycopg2.connect(**warehouse.database(SHOP_DB).libpq_kwargs()) as conn, conn.cursor() as cur:
        cur.execute("select customer_id, ordered_at, total_amount, cancelled_at, refunded_at from orders")
        for customer_id, ordered_at, amount, cancelled_at, refunded_at in cur.fetchall():
            if ordered_at >= end:
                continue
            member = ("shop", str(customer_id))
            rows.append((member, ordered_at.date(), True, amount))
            rows += [(member, at.date(), False, -amount) for at in (cancelled_at, refunded_at) if at and at < end]
    for path in drop_files(workspace.landing / "pos", as_of, ("csv",)):
        data = path.read_bytes()
        text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8-sig")
        for row in csv.DictReader(io.StringIO(text)):
            at = datetime.fromisoformat(row["purchased_at"])
            card, phone = row["member_card_no"].strip().upper(), e164(row["phone"])
            if at >= end or not (card or phone):
                continue  # later, or an anonymous receipt
            member = ("pos", f"card:{card}" if card else f"phone:{hashlib.sha256(phone.encode()).hexdigest()}")
            sale = row["transaction_type"] == "sale"
            amount = Decimal(row["total_amount"])
            rows.append((member, at.astimezone(timezone.utc).date(), sale, amount if sale else -amount))
    return pd.DataFrame(rows, columns=["member", "day", "is_order", "amount"])


def source_truth(warehouse, workspace, as_of: date) -> dict[tuple[str, str], list]:
    """(source, source_customer_id) -> [orders, net amount]."""
    movements = source_movements(warehouse, workspace, as_of)
    totals = movements.groupby("member").agg(orders=("is_order", "sum"), amount=("amount", "sum"))
    return {member: [int(orders), amount] for member, orders, amount in totals.itertuples()}


def orders_per_person(brand, workspace, as_of: date) -> pd.DataFrame:
    """The source movements of each person the identity map found (customer_key)."""
    movements = source_movements(brand, workspace, as_of)
    keys = {(s, i): k for k, s, i in query(brand, "select customer_key, source, source_customer_id"
                                                  " from marts.customer_identity_map")}
    return movements.assign(customer_key=movements["member"].map(keys))


def expected_stage(days: list[date], as_of: date, rules: dict) -> str:
    """The lifecycle rules of the README, for one buyer's order days."""
    days = sorted(days)
    orders, since_last = len(days), (as_of - days[-1]).days
    if since_last > rules["lifecycle_churn_days"]:
        return "churned"
    overdue_after = (max(rules["lifecycle_at_risk_factor"] * (days[-1] - days[0]).days / (orders - 1),
                         rules["lifecycle_new_days"]) if orders > 1 else rules["lifecycle_at_risk_default_days"])
    if since_last > overdue_after:
        return "at_risk"
    recent = since_last <= rules["lifecycle_new_days"]
    earlier = [day for day in days if day < days[-1]]  # the gap runs from the previous order *day*
    if earlier and (days[-1] - earlier[-1]).days > rules["lifecycle_churn_days"] and recent:
        return "reactivated"
    if orders == 1 and recent:
        return "new"
    return "loyal" if orders >= rules["lifecycle_loyal_min_orders"] else "active"


def expected_spells(first_seen: date, order_days: list[date], as_of: date, rules: dict) -> list[tuple]:
    """(started_on, stage, previous stage) of each spell, from the rules applied on
    every day from the first record or first order to the as-of date."""
    order_days, spells, day = sorted(order_days), [], min([first_seen, *order_days])
    while day <= as_of:
        so_far = [d for d in order_days if d <= day]
        stage = expected_stage(so_far, day, rules) if so_far else "prospect"
        if not spells or spells[-1][1] != stage:
            spells.append((day, stage, spells[-1][1] if spells else None))
        day += timedelta(days=1)
    return spells


@pytest.fixture(scope="module")
def passwords(warehouse):
    """Every c360 role must log in with its password for this module's runs, and the
    admin is given by a DSN with a password (which the embedded server ignores)."""
    admin_password = secrets.token_urlsafe(18)
    os.environ["C360_WAREHOUSE_DSN"] = replace(warehouse.params, password=admin_password).uri(with_password=True)
    try:
        with required_passwords(warehouse) as passwords:
            yield {**passwords, "C360_WAREHOUSE_DSN password": admin_password}
    finally:
        del os.environ["C360_WAREHOUSE_DSN"]


@pytest.fixture(scope="module")
def brand(warehouse, workspace, passwords):
    """A fresh workspace with no sources (its warehouse and shop database emptied)."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(RESET_SQL)
    with warehouse.connect("postgres", autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(f"drop database if exists {SHOP_DB} with (force)")
    warehouse.ensure_database(SHOP_DB)
    for folder in (workspace.simulator, workspace.landing, workspace.exports, workspace.models):
        shutil.rmtree(folder, ignore_errors=True)
    workspace.sources_file.unlink(missing_ok=True)
    workspace.ensure()
    return warehouse


@pytest.fixture(scope="module")
def first_run(brand):
    """What `c360 run` printed for AS_OF, on a workspace without sources: a newcomer's
    `make run`, which simulates the brand first."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["run", "--as-of", AS_OF.isoformat(), "--customers", "300", "--days", "120", "--seed", "11"]) == 0
    return printed.getvalue()


def test_first_run_simulates_a_brand(first_run):
    assert "No sources in" in first_run
    assert "Simulated 300 customers" in first_run


def test_run_prints_a_summary(first_run):
    assert f"c360 pipeline for {AS_OF}" in first_run
    for heading in ("Ingest", "RFM segments", "Lifecycle stages", "Audiences", "Look next"):
        assert heading in first_run
    docs = re.search(r"data quality: +(\S+index\.html)", first_run).group(1)
    assert "marts.customer_rfm" in open(docs).read()


def test_no_secret_in_what_the_run_printed_or_logged(first_run, passwords, workspace, warehouse):
    outputs = {"printed summary": first_run}
    for folder in (workspace.home / "logs", workspace.airflow_home / "logs", workspace.dbt_target / "logs",
                   workspace.exports, warehouse.embedded_pgdata / "log"):
        for path in [folder] if folder.is_file() else folder.rglob("*"):
            if path.is_file():
                outputs[str(path)] = path.read_text(errors="replace")
    # the logs are there to scan: the run's (with every task's), dbt's, the server's, the exports
    for folder in (workspace.home / "logs", workspace.dbt_target / "logs", warehouse.embedded_pgdata / "log",
                   workspace.exports):
        assert any(name.startswith(str(folder)) for name in outputs), folder
    assert sum(map(len, outputs.values())) > 100_000
    findings = {name: found for name, text in outputs.items()
                if (found := find_secrets(text, known=tuple(passwords.values())))}
    assert findings == {}


def test_every_batch_reconciles(first_run, brand):
    assert query(brand, "select count(*) from ops.batches where rows_extracted <> rows_loaded + rows_quarantined") == [(0,)]
    assert query(brand, "select count(*) from ops.batches where status = 'promoted'")[0][0] > 0


def test_every_rfm_customer_is_a_known_person(first_run, brand):
    assert query(brand, "select count(*) from marts.customer_rfm r left join marts.dim_customers d"
                        " using (customer_key) where d.customer_key is null") == [(0,)]
    assert query(brand, "select count(distinct as_of_date), min(as_of_date) from marts.customer_rfm") == [(1, AS_OF)]


def assert_rfm_matches_sources(brand, workspace, as_of):
    truth = source_truth(brand, workspace, as_of)
    members = defaultdict(list)
    for key, source, source_id in query(brand, "select customer_key, source, source_customer_id from marts.customer_identity_map"):
        members[key].append((source, source_id))
    rfm = query(brand, "select customer_key, frequency, monetary from marts.customer_rfm")
    assert len(rfm) > 100
    for key, frequency, monetary in rfm:
        expected_orders = sum(truth[m][0] for m in members[key] if m in truth)
        expected_amount = sum((truth[m][1] for m in members[key] if m in truth), Decimal(0))
        assert (frequency, monetary) == (expected_orders, expected_amount), key
    buyers_in_sources = {m for m, (orders, _) in truth.items() if orders}
    buyers_in_rfm = {m for key, *_ in rfm for m in members[key]}
    assert buyers_in_sources <= buyers_in_rfm


def test_identity_resolution_finds_the_simulators_true_people(first_run, brand, workspace):
    with brand.connect() as conn, conn.cursor() as cur:
        quality = identity_quality(cur, workspace.simulator)
    print(f"identity: {quality}")
    assert quality.records > 300
    assert quality.precision >= PRECISION_AT_LEAST and quality.linkable_recall >= LINKABLE_RECALL_AT_LEAST, quality
    assert f"identity vs the simulator's true people: {quality}" in first_run


def test_frequency_and_monetary_match_the_source_systems(first_run, brand, workspace):
    assert_rfm_matches_sources(brand, workspace, AS_OF)


def test_rfm_scores_and_segments_match_pandas(first_run, brand, workspace):
    orders = orders_per_person(brand, workspace, AS_OF)
    buys = orders[orders["is_order"]].groupby("customer_key").agg(last_order_on=("day", "max"),
                                                                   frequency=("day", "size"))
    people = buys.join(orders.groupby("customer_key")["amount"].sum().rename("monetary"))
    scores = pd.DataFrame({"r": quintile(pd.to_datetime(people["last_order_on"])),
                           "f": quintile(people["frequency"]),
                           "m": quintile(people["monetary"].astype(float))}, index=people.index)
    scores["fm"] = (scores["f"] + scores["m"] + 1) // 2  # the rounded mean, halves up
    segments = pd.read_csv(PROJECT_ROOT / "dbt_project" / "seeds" / "rfm_segment_map.csv")
    segment_of = {(r, fm): name for r, fm, name in segments.itertuples(index=False)}
    expected = {key: (s.r, s.f, s.m, segment_of[(s.r, s.fm)]) for key, s in scores.iterrows()}
    built = {key: rest for key, *rest in query(brand, "select customer_key, r_score, f_score, m_score, rfm_segment"
                                                      " from marts.customer_rfm")}
    assert len(built) > 100
    assert {key: tuple(v) for key, v in built.items()} == expected
    # the one-time buyers, more than a fifth of the buyers here, share the lowest F
    one_time_buyers = people.index[people["frequency"] == 1]
    assert len(one_time_buyers) > len(people) / 5
    assert {built[key][1] for key in one_time_buyers} == {1}


def test_printed_cut_points_freeze_todays_scores(first_run, brand, workspace):
    """Ties as a simulated brand has them: more than a fifth of the buyers bought once."""
    assert_printed_cut_points_freeze_the_scores(brand, workspace, AS_OF)


def test_lifecycle_stages_match_pandas(first_run, brand, workspace):
    rules = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    orders = orders_per_person(brand, workspace, AS_OF)
    order_days = orders[orders["is_order"]].groupby("customer_key")["day"].apply(list)
    expected = {key: expected_stage(days, AS_OF, rules) for key, days in order_days.items()}
    built = dict(query(brand, "select customer_key, lifecycle_stage from marts.customer_lifecycle"))
    assert {key: built[key] for key in expected} == expected
    assert {stage for key, stage in built.items() if key not in expected} == {"prospect"}
    assert len(set(expected.values())) >= 4  # the brand exercises most rules


def spells_day_by_day(brand, workspace) -> dict[str, list[tuple]]:
    """Every known person's spells (expected_spells) from the source systems' orders."""
    rules = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    orders = orders_per_person(brand, workspace, AS_OF)
    order_days = orders[orders["is_order"]].groupby("customer_key")["day"].apply(list).to_dict()
    # the lifecycle runs from the first record (an app device's earlier events were nobody's yet)
    first_seen = dict(query(brand, "select customer_key, min(first_seen_at)::date from marts.customer_identity_map"
                                   " group by customer_key"))
    return {key: expected_spells(first_seen[key], order_days.get(key, []), AS_OF, rules) for key in first_seen}


def stage_on(spells: list[tuple], day: date) -> str | None:
    """The stage of the last spell started by `day`; None before the person was known."""
    started = [stage for started_on, stage, _ in spells if started_on <= day]
    return started[-1] if started else None


def test_lifecycle_spells_match_the_rules_applied_day_by_day(first_run, brand, workspace):
    expected = spells_day_by_day(brand, workspace)
    built = defaultdict(list)
    for key, *spell in query(brand, "select customer_key, started_on, lifecycle_stage, previous_stage"
                                    " from marts.customer_lifecycle_spells order by customer_key, spell_number"):
        built[key].append(tuple(spell))
    assert dict(built) == expected
    assert sum(len(spells) for spells in expected.values()) > 2 * len(expected)  # most customers move


def test_lifecycle_flow_counts_each_person_once_per_period_from_their_stage_before_it_to_their_stage_at_its_end(
        first_run, brand, workspace):
    """Per ISO week and calendar month: the stage on the day before the period
    ('(entered)' if not yet known) against the stage on its last day (the as-of date
    for the current one), of everyone known by then, from the day-by-day spells."""
    spells = spells_day_by_day(brand, workspace)
    first_day = min(person[0][0] for person in spells.values())
    expected = Counter()
    for grain in ("week", "month"):
        start = first_day - timedelta(days=first_day.weekday()) if grain == "week" else first_day.replace(day=1)
        while start <= AS_OF:
            following = (start + timedelta(weeks=1) if grain == "week"
                         else (start.replace(day=28) + timedelta(days=4)).replace(day=1))
            for person in spells.values():
                if to_stage := stage_on(person, min(following - timedelta(days=1), AS_OF)):
                    expected[grain, start, stage_on(person, start - timedelta(days=1)) or "(entered)", to_stage] += 1
            start = following
    built = {tuple(flow): customers for *flow, customers in query(
        brand, "select period_grain, period_start, from_stage, to_stage, customers from marts.lifecycle_flow")}
    assert built == dict(expected)
    # some people start two spells within a month: their flow skips the stage between
    assert any(len({started_on.replace(day=1) for started_on, *_ in person}) < len(person)
               for person in spells.values())


def test_app_campaign_and_service_people_join_their_shop_profile(first_run, brand):
    keys = {(s, i): k for k, s, i in query(brand, "select customer_key, source, source_customer_id"
                                                  " from marts.customer_identity_map")}
    app_logins = [i for s, i in keys if s == "app" and i.startswith("customer:")]
    assert app_logins and all(keys[("app", i)] == keys[("shop", i.removeprefix("customer:"))] for i in app_logins)
    shop_people = {k for (s, _), k in keys.items() if s == "shop"}
    for source in ("campaigns", "service"):
        people = [k for (s, _), k in keys.items() if s == source]
        assert people and sum(k in shop_people for k in people) / len(people) > 0.5, source
    assert query(brand, "select count(*) from marts.dim_customers where channels like %s", ("%app campaigns%",))[0][0] > 0


def test_profiles_say_who_follows_and_who_opted_out_as_the_deliveries_do(first_run, brand):
    """Following is the latest delivered profile's (followed, and not unfollowed since
    or by the day after AS_OF); opted out is any unsubscribe delivered for the person."""
    profiles = {key: (follows, out) for key, follows, out in query(
        brand, "select customer_key, is_social_follower, has_opted_out from marts.dim_customers")}
    following = dict(query(brand, """
        select m.customer_key, bool_or(f.followed_at < %(day_after)s
                                       and (f.unfollowed_at is null or f.unfollowed_at < f.followed_at
                                            or f.unfollowed_at >= %(day_after)s))
        from (select distinct on (openid) * from raw.social_followers
              order by openid, updated_at desc, _loaded_at desc) as f
        inner join marts.customer_identity_map as m on (m.source, m.source_customer_id) = ('social', f.openid)
        group by m.customer_key""", {"day_after": AS_OF + timedelta(days=1)}))
    opted_out = {key for key, in query(brand, """
        select m.customer_key from raw.campaign_events as e
        inner join marts.customer_identity_map as m on (m.source, m.source_customer_id) = ('campaigns', e.contact_id)
        where e.event_type = 'unsubscribe'""")}
    # the brand has each case
    assert True in following.values(), "nobody follows"
    assert False in following.values(), "nobody has unfollowed"
    assert opted_out, "nobody unsubscribed"
    assert {key: following.get(key, False) for key in profiles} == {key: f for key, (f, _) in profiles.items()}
    assert {key for key, (_, out) in profiles.items() if out} == opted_out


def test_scores_and_audiences(first_run, brand, workspace):
    (customers,), = query(brand, "select count(*) from marts.dim_customers")
    champion = query(brand, "select model_version from ml.model_registry where is_champion")
    scored = query(brand, "select count(*), min(score_decile), max(score_decile) from ml.propensity_scores"
                          " where scored_for_date = %s", (AS_OF,))
    assert scored == ([(customers, 1, 10)] if champion else [(0, None, None)])
    consented = {k for k, in query(brand, "select customer_key from marts.dim_customers"
                                          " where accepts_marketing and not has_opted_out")}
    synced = query(brand, "select audience, location, rows_added from ops.sync_log where as_of_date = %s", (AS_OF,))
    assert {a for a, *_ in synced} >= {"winback_likely_buyers", "champions_high_value"}
    for audience, location, added in synced:
        rows = []
        for batch in sorted(Path(location).glob(f"{audience}_{AS_OF}_*.csv")):
            with batch.open(newline="") as f:
                rows += list(csv.DictReader(f))
        assert len(rows) == added
        assert {r["customer_key"] for r in rows} <= consented
        assert all(re.fullmatch(r"[0-9a-f]{64}", r["email_sha256"] or "0" * 64) for r in rows)


RAW_KEYS = {"shop_customers": "customer_id, updated_at", "shop_orders": "order_id, updated_at",
            "shop_order_items": "order_item_id, updated_at", "pos_receipts": "receipt_id",
            "social_followers": "openid, updated_at", "social_events": "event_id", "app_events": "event_id",
            "campaign_events": "event_id", "service_tickets": "ticket_id, updated_at"}
MART_KEYS = {"marts.dim_customers": "customer_key", "marts.customer_rfm": "customer_key",
             "marts.customer_lifecycle": "customer_key", "marts.fct_orders": "order_key",
             "marts.customer_identity_map": "source, source_customer_id"}


def row_counts(warehouse) -> dict[str, int]:
    return {t: query(warehouse, f"select count(*) from raw.{t}")[0][0] for t in RAW_KEYS}


def assert_no_duplicates(warehouse):
    for table, key in RAW_KEYS.items():
        assert query(warehouse, f"select count(*) - count(distinct ({key})) from raw.{table}") == [(0,)], table
    for table, key in MART_KEYS.items():
        assert query(warehouse, f"select count(*) - count(distinct ({key})) from {table}") == [(0,)], table


def test_the_next_day_adds_only_new_data_and_a_rerun_changes_nothing(first_run, brand, workspace):
    before = row_counts(brand)
    assert main(["run", "--as-of", NEXT_DAY.isoformat()]) == 0
    after = row_counts(brand)
    assert sum(after.values()) > sum(before.values())
    assert_no_duplicates(brand)
    assert query(brand, "select distinct as_of_date from marts.customer_rfm") == [(NEXT_DAY,)]
    # the day's batches hold only rows changed that day
    new_orders = query(brand, "select min(updated_at) from raw.shop_orders where _batch_id in"
                              " (select batch_id from ops.batches where logical_date = %s)", (NEXT_DAY,))[0][0]
    assert new_orders is None or new_orders.date() >= NEXT_DAY

    assert main(["run", "--as-of", NEXT_DAY.isoformat()]) == 0
    assert row_counts(brand) == after
    assert_no_duplicates(brand)
    assert_rfm_matches_sources(brand, workspace, NEXT_DAY)
