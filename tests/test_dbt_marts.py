"""dbt builds the marts from a hand-made brand; every number is checked by hand."""
import hashlib
import json
import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml

from c360.access import TRANSFORMER
from c360.cli import main
from c360.transform import DBT_PROJECT, DbtFailed, build_warehouse, run_dbt
from conftest import assert_printed_cut_points_freeze_the_scores, query
from fixtures import AS_OF, load_small_brand


@pytest.fixture(scope="module")
def built(warehouse, workspace):
    from conftest import empty_warehouse

    empty_warehouse(warehouse)
    load_small_brand(warehouse)
    build_warehouse(warehouse, workspace, AS_OF)  # raises if any model, contract or dbt test fails
    return warehouse


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def keys_by_source(warehouse):
    return {(s, i): k for k, s, i in query(warehouse, "select customer_key, source, source_customer_id from marts.customer_identity_map")}


def test_phones_normalise_to_e164(built, workspace):
    """Every way the channels write a UK number gives one E.164 value; no digits, no phone."""
    written = {"+44 (0) 20 7946 0000": "+442079460000", "0044 20 7946 0000": "+442079460000",
               "442079460000": "+442079460000", "020 7946 0000": "+442079460000", "20 7946 0000": "+442079460000",
               "(0)7700-900 002": "+447700900002", "4412345678": "+444412345678", "0033 1 23": "+44033123",
               "n/a": None, "": None}
    rows = ", ".join(f"('{phone}')" for phone in written)
    output = run_dbt(["show", "--output", "json", "--limit", str(len(written)), "--inline",
                      f"select phone, {{{{ normalize_phone('phone') }}}} as e164 from (values {rows}) as t (phone)"],
                     built, workspace)
    shown = json.loads(output[output.index("{"):])["show"]
    assert {row["phone"]: row["e164"] for row in shown} == written


def test_identity_merges_across_channels_on_normalised_identifiers(built):
    keys = keys_by_source(built)
    assert keys[("shop", "1")] == keys[("pos", "card:M1")]
    assert keys[("shop", "2")] == keys[("pos", f"phone:{sha256('+447700900002')}")] == keys[("social", "o1")]
    assert keys[("shop", "1")] != keys[("shop", "2")]


def test_app_campaign_and_service_records_join_their_shop_profile(built):
    keys = keys_by_source(built)
    ann, bob, cy, di = (keys[("shop", str(i))] for i in range(1, 5))
    assert keys[("app", "customer:1")] == ann  # a login with the shop customer id
    assert keys[("app", f"email:{sha256('bob@x.com')}")] == keys[("app", "customer:2")] == bob  # or the e-mail
    assert (keys[("campaigns", "K1")], keys[("campaigns", "K2")], keys[("campaigns", "K3")]) == (ann, bob, cy)
    assert keys[("service", f"email:{sha256('ann@x.com')}")] == keys[("service", f"phone:{sha256('+447700900001')}")] \
        == ann
    assert keys[("service", f"email:{sha256('di@x.com')}")] == di
    channels = dict(query(built, "select customer_key, channels from marts.dim_customers"))
    assert channels[ann] == "shop pos app campaigns service"


def test_app_devices_are_credited_to_the_person_who_logged_in(built):
    keys = keys_by_source(built)
    devices = dict(query(built, "select device_id, customer_key from intermediate.int_app_devices_resolved"))
    assert devices == {"D1": keys[("shop", "1")], "D2": keys[("shop", "2")]}  # D3 never logged in


def test_a_shared_family_phone_does_not_merge_people(built):
    keys = keys_by_source(built)
    assert keys[("shop", "3")] != keys[("shop", "4")]
    assert query(built, "select identifier_type, identifier_value from intermediate.int_identity_ambiguous_identifiers"
                        " where reason is not null") == [("phone", "+447700900009")]


def test_dim_customers_has_one_row_per_person_with_hashed_contacts(built):
    assert query(built, "select count(*) from marts.dim_customers") == [(5,)]
    (email_hash,), = query(built, "select email_sha256 from marts.dim_customers d join marts.customer_identity_map m"
                                  " using (customer_key) where m.source = 'shop' and m.source_customer_id = '1'")
    assert email_hash == sha256("ann@x.com")


def test_clear_text_contacts_are_only_in_pii(built):
    contacts = query(built, "select email_normalized, phone_e164, last_name from pii.customer_contacts"
                            " where email_normalized = 'ann@x.com'")
    assert contacts and contacts[0][1] and contacts[0][2]
    email, phone, last_name = contacts[0]
    national = phone.replace("+44", "")  # "7700…": the digits any phone format shares
    for schema in ("marts", "ml"):
        tables = query(built, "select table_name from information_schema.tables where table_schema = %s", (schema,))
        assert tables
        for (table,) in tables:
            flat = " ".join(str(v) for row in query(built, f'select * from {schema}."{table}"') for v in row).lower()
            for clear_text in (email, national, last_name.lower()):
                assert clear_text not in flat, f"{clear_text!r} in {schema}.{table}"


def test_rfm_follows_the_conventions(built):
    keys = keys_by_source(built)
    rfm = {row[0]: row[1:] for row in query(
        built, "select customer_key, recency_days, frequency, monetary, as_of_date from marts.customer_rfm")}
    # Ann: orders on 01-02 (50), 02-01 store (15.50), 03-02 (20, refunded 03-20)
    assert rfm[keys[("shop", "1")]] == (29, 3, pytest.approx(65.5), AS_OF)
    # Bob: store sale 03-01 (40, returned 03-05), web order 03-10 (30, cancelled): two orders, nothing kept
    assert rfm[keys[("shop", "2")]] == (21, 2, pytest.approx(0), AS_OF)
    assert len(rfm) == 2  # prospects and anonymous receipts have no RFM row


def test_rfm_scores_and_segments_are_valid(built):
    for r, f, m, segment, tier, erfm in query(
            built, "select r_score, f_score, m_score, rfm_segment, value_tier, erfm_score from marts.customer_rfm"):
        assert {r, f, m} <= {1, 2, 3, 4, 5}
        assert segment and tier in {"high", "medium", "low"} and 1 <= erfm <= 5


def test_lifecycle_stages(built):
    keys = keys_by_source(built)
    stages = {k: (stage, prev) for k, stage, prev in query(
        built, "select customer_key, lifecycle_stage, previous_stage from marts.customer_lifecycle")}
    assert stages[keys[("social", "o2")]] == ("prospect", None)
    assert stages[keys[("shop", "3")]] == ("prospect", None)
    assert stages[keys[("shop", "1")]] == ("active", "new")


def test_lifecycle_spells_transitions_and_flow(built):
    ann = keys_by_source(built)[("shop", "1")]
    assert query(built, "select transitioned_on, from_stage, to_stage from marts.fct_lifecycle_transitions"
                        " where customer_key = %s order by 1", (ann,)) == [
        (date(2026, 1, 2), "prospect", "new"), (date(2026, 2, 1), "new", "active")]
    assert query(built, "select lifecycle_stage, started_on, ended_on from marts.customer_lifecycle_spells"
                        " where customer_key = %s and is_current", (ann,)) == [("active", date(2026, 2, 1), None)]
    monthly = query(built, "select period_start, from_stage, to_stage, customers from marts.lifecycle_flow"
                           " where period_grain = 'month' order by 1, 2, 3")
    # every customer known by a month's end is in its flow exactly once
    for month in {m for m, *_ in monthly}:
        known = query(built, "select count(distinct customer_key) from marts.customer_lifecycle_spells"
                             " where started_on < %s + interval '1 month'", (month,))[0][0]
        assert sum(n for m, *_, n in monthly if m == month) == known
    assert (date(2026, 2, 1), "new", "active", 1) in monthly


def test_lifecycle_spells_follow_the_as_of_date_forward_and_back(built, workspace):
    """200 days on, time alone moves customers on (a daily build equals a full one);
    re-running the first date gives back exactly the spells it had."""
    from datetime import timedelta

    spells = "select * from marts.customer_lifecycle_spells order by customer_key, spell_number"
    on_as_of, later = query(built, spells), AS_OF + timedelta(days=200)
    try:
        run_dbt(["run", "--select", "customer_lifecycle_spells+"], built, workspace, later)
        incremental = query(built, spells)
        run_dbt(["run", "--full-refresh", "--select", "customer_lifecycle_spells"], built, workspace, later)
        assert query(built, spells) == incremental
        assert query(built, "select count(*) from marts.customer_lifecycle where lifecycle_stage = 'churned'")[0][0] > 0
        assert len(incremental) > len(on_as_of)
    finally:
        run_dbt(["run", "--select", "customer_lifecycle_spells+"], built, workspace, AS_OF)
    assert query(built, spells) == on_as_of


def test_customer_value_and_cohorts(built):
    keys = keys_by_source(built)
    value = {row[0]: row[1:] for row in query(
        built, "select customer_key, orders_count, gross_revenue, returned_amount, net_revenue, average_order_value,"
               " tenure_days, first_order_month from marts.customer_value")}
    assert value[keys[("shop", "1")]] == (3, Decimal("85.50"), Decimal("20.00"), Decimal("65.50"), Decimal("21.83"),
                                          88, date(2026, 1, 1))
    assert value[keys[("shop", "2")]] == (2, Decimal("70.00"), Decimal("70.00"), Decimal("0.00"), Decimal("0.00"),
                                          30, date(2026, 3, 1))
    assert query(built, "select cohort_month, months_since_first_order, cohort_customers, active_customers,"
                        " net_revenue, cumulative_revenue_per_customer from marts.cohort_retention order by 1, 2") == [
        (date(2026, 1, 1), 0, 1, 1, Decimal("50.00"), Decimal("50.00")),
        (date(2026, 1, 1), 1, 1, 1, Decimal("15.50"), Decimal("65.50")),
        (date(2026, 1, 1), 2, 1, 1, Decimal("0.00"), Decimal("65.50")),
        (date(2026, 3, 1), 0, 1, 1, Decimal("0.00"), Decimal("0.00")),
    ]


def test_cohort_months_are_complete_once_they_have_ended(built, workspace):
    """AS_OF is March's last day, so March is complete; a day earlier it is still running."""
    months = "select cohort_month, months_since_first_order, is_complete_month from marts.cohort_retention order by 1, 2"
    assert [complete for *_, complete in query(built, months)] == [True] * 4
    try:
        run_dbt(["run", "--select", "customer_value+"], built, workspace, date(2026, 3, 30))
        assert query(built, months) == [(date(2026, 1, 1), 0, True), (date(2026, 1, 1), 1, True),
                                        (date(2026, 1, 1), 2, False), (date(2026, 3, 1), 0, False)]
    finally:
        run_dbt(["run", "--select", "customer_value+"], built, workspace, AS_OF)


def test_frozen_rfm_cut_points_score_by_fixed_thresholds(built, workspace):
    cuts = {"recency_days": [7, 14, 21, 28], "frequency": [1, 2, 3, 4], "monetary": [10, 20, 40, 80]}
    run_dbt(["run", "--select", "customer_rfm"], built, workspace, AS_OF, extra_vars={"rfm_cut_points": cuts})
    try:
        keys = keys_by_source(built)
        scores = {k: (r, f, m) for k, r, f, m in query(built, "select customer_key, r_score, f_score, m_score"
                                                              " from marts.customer_rfm")}
        assert scores[keys[("shop", "1")]] == (1, 3, 4)  # 29 days, 3 orders, 65.50
        assert scores[keys[("shop", "2")]] == (3, 2, 1)  # 21 days (not more than 21), 2 orders, 0
        with pytest.raises(DbtFailed, match="four ascending numbers"):
            run_dbt(["run", "--select", "customer_rfm"], built, workspace, AS_OF,
                    extra_vars={"rfm_cut_points": {"frequency": [3, 2, 1, 0]}})
    finally:
        run_dbt(["run", "--select", "customer_rfm"], built, workspace, AS_OF)


def test_printed_cut_points_freeze_todays_scores(built, workspace):
    """Two buyers (R 1 and 3): nobody at R 5 or 4, whose cut points lie below everyone's days."""
    assert query(built, "select max(r_score) from marts.customer_rfm") == [(3,)]
    assert_printed_cut_points_freeze_the_scores(built, workspace, AS_OF)


def test_cut_points_are_not_printed_from_an_empty_rfm(built, workspace):
    """Printed from no customers, the cut points would be empty lists, which the var ignores."""
    before_any_order = date(2025, 1, 1)
    try:
        run_dbt(["run", "--select", "customer_rfm"], built, workspace, before_any_order)
        assert query(built, "select count(*) from marts.customer_rfm") == [(0,)]
        with pytest.raises(DbtFailed, match="no customers to take cut points from"):
            run_dbt(["run-operation", "print_rfm_cut_points"], built, workspace, before_any_order)
    finally:
        run_dbt(["run", "--select", "customer_rfm"], built, workspace, AS_OF)


def test_rfm_history_and_segment_changes(built, workspace):
    """Two days 40 days apart, on fixed cut points: both customers' recency scores fall."""
    from datetime import timedelta

    later = AS_OF + timedelta(days=40)
    frozen = {"rfm_cut_points": {"recency_days": [30, 60, 90, 120]}}
    try:
        for day in (AS_OF, later):
            run_dbt(["run", "--select", "customer_rfm+"], built, workspace, day, extra_vars=frozen)
        assert query(built, "select distinct as_of_date from marts.customer_rfm_history order by 1") == [
            (AS_OF,), (later,)]
        segments = {(k, d): s for k, d, s in query(
            built, "select customer_key, as_of_date, rfm_segment from marts.customer_rfm_history")}
        moved = {(k, later, segments[k, AS_OF], s) for (k, d), s in segments.items()
                 if d == later and segments[k, AS_OF] != s}
        assert len(moved) == 2
        assert set(query(built, "select customer_key, changed_on, from_segment, to_segment"
                                " from marts.fct_rfm_segment_changes")) == moved
    finally:
        restore_rfm_history(built, workspace)


def restore_rfm_history(warehouse, workspace):
    """Back to the module's warehouse: the history holds AS_OF alone. Deleting history
    days by hand is no daily build's business, so the marts read from it are rebuilt."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute("delete from marts.customer_rfm_history where as_of_date <> %s", (AS_OF,))
    run_dbt(["run", "--select", "customer_rfm+"], warehouse, workspace, AS_OF)
    run_dbt(["run", "--full-refresh", "--select", "fct_rfm_segment_changes", "rfm_segment_flow"],
            warehouse, workspace, AS_OF)


def expected_rfm_changes_and_flow(history: pd.DataFrame) -> tuple[set, set]:
    """fct_rfm_segment_changes and rfm_segment_flow worked out from the whole history
    (customer_key, as_of_date, rfm_segment): a change is a segment different from the
    one on the history day before; a period flows from the last history day before it
    (the history's first day in its first period) to its last history day."""
    segment = {(k, d): s for k, d, s in history.itertuples(index=False)}
    days = sorted(history["as_of_date"].unique())
    on_day = {d: set(history.loc[history["as_of_date"] == d, "customer_key"]) for d in days}
    changes = {(k, day, segment[k, before], segment[k, day])
               for before, day in zip(days, days[1:]) for k in on_day[day] & on_day[before]
               if segment[k, before] != segment[k, day]}
    starts = {"week": lambda d: d - timedelta(days=d.weekday()), "month": lambda d: d.replace(day=1)}
    flow = set()
    for grain, start_of in starts.items():
        for start in sorted({start_of(d) for d in days}):
            last = max(d for d in days if start_of(d) == start)
            before = max((d for d in days if d < start), default=days[0])
            counts = Counter((segment.get((k, before), "(entered)"), segment[k, last]) for k in on_day[last])
            flow |= {(grain, start, f, t, n) for (f, t), n in counts.items()}
    return changes, flow


def rfm_changes_and_flow(warehouse) -> tuple[set, set]:
    return (set(query(warehouse, "select customer_key, changed_on, from_segment, to_segment"
                                 " from marts.fct_rfm_segment_changes")),
            set(query(warehouse, "select period_grain, period_start, from_segment, to_segment, customers"
                                 " from marts.rfm_segment_flow")))


def test_daily_segment_changes_and_flow_equal_the_whole_historys(built, workspace):
    """Day after day across a month's and a week's end, then a past day re-run with other
    cut points, a day slotted in between and a day before the history began (Ann alone
    had ordered by then): after each build, the incremental marts equal the pandas
    reading of the whole history and a full refresh of theirs."""
    frozen = {"rfm_cut_points": {"recency_days": [25, 30, 35, 40]}}
    other_cuts = {"rfm_cut_points": {"recency_days": [1, 2, 3, 4]}}
    builds = [(date(2026, 4, 1), frozen), (date(2026, 4, 3), frozen), (date(2026, 4, 7), frozen),
              (date(2026, 4, 11), frozen),
              (date(2026, 4, 3), other_cuts),  # a past day re-run: its own and 7 April's changes move
              (date(2026, 4, 5), frozen),  # the last day of its week now: that week's and the next one's flow
              (date(2026, 2, 15), frozen)]  # the history's new first day (and first period)
    try:
        run_dbt(["run", "--select", "customer_rfm+"], built, workspace, AS_OF, extra_vars=frozen)
        seen_changes = set()
        for day, cuts in builds:
            run_dbt(["run", "--select", "customer_rfm+"], built, workspace, day, extra_vars=cuts)
            history = pd.DataFrame(query(built, "select customer_key, as_of_date, rfm_segment"
                                                " from marts.customer_rfm_history"),
                                   columns=["customer_key", "as_of_date", "rfm_segment"])
            incremental = rfm_changes_and_flow(built)
            assert incremental == expected_rfm_changes_and_flow(history), day
            run_dbt(["run", "--full-refresh", "--select", "fct_rfm_segment_changes", "rfm_segment_flow"],
                    built, workspace, day, extra_vars=cuts)
            assert rfm_changes_and_flow(built) == incremental, day
            seen_changes |= incremental[0]
        changes, flow = incremental
        assert len(history["as_of_date"].unique()) == 7
        assert {d for _, d, _, _ in seen_changes} >= {date(2026, 4, 3), date(2026, 4, 7), date(2026, 4, 11)}
        assert {d for _, d, _, _ in changes} >= {date(2026, 4, 3), date(2026, 4, 5)}
        # Bob had no order by 15 February: he enters in March; Ann comes from her first day's segment
        march = {(f, t): n for g, p, f, t, n in flow if (g, p) == ("month", date(2026, 3, 1))}
        assert sum(march.values()) == 2 and sum(n for (f, _), n in march.items() if f == "(entered)") == 1
        assert {f for g, p, f, t, n in flow if (g, p) == ("month", date(2026, 2, 1))} != {"(entered)"}
        # the week of 30 March ends on 5 April now, the week of 6 April comes from it
        history_days = set(history["as_of_date"])
        assert max(d for d in history_days if d < date(2026, 4, 6)) == date(2026, 4, 5)
    finally:
        restore_rfm_history(built, workspace)
    assert query(built, "select distinct as_of_date from marts.customer_rfm_history") == [(AS_OF,)]
    assert query(built, "select count(*) from marts.fct_rfm_segment_changes") == [(0,)]


def test_dbt_unit_tests_pass(built, workspace):
    """RFM scoring, the segment grid, the extended score, each lifecycle rule, the
    profile's flags and the contacts on hand-written rows (models/**/_*__unit_tests.yml);
    daily builds skip them."""
    try:
        output = run_dbt(["test", "--select", "test_type:unit"], built, workspace)
    except DbtFailed as failure:  # dbt's diff of the expected and actual rows says what broke
        raise AssertionError(str(failure)) from None
    defined = sum(len(yaml.safe_load(path.read_text())["unit_tests"])
                  for path in (DBT_PROJECT / "models").rglob("_*__unit_tests.yml"))
    assert defined >= 6
    assert len(re.findall(rf"\d+ of {defined} PASS \S+::", output)) == defined, output[-2000:]


def comments(warehouse, relation: str) -> dict[str, tuple]:
    """The relation's comment (under None) and its columns', with their pg_description row versions."""
    return {column: (text, version) for column, text, version in query(
        warehouse, "select attname, description, d.xmin::text from pg_description as d"
                   " left join pg_attribute on attrelid = d.objoid and attnum = d.objsubid"
                   " where d.objoid = %s::regclass and d.classoid = 'pg_class'::regclass", (relation,))}


def test_descriptions_are_the_relations_comments_written_again_only_when_they_differ(built, workspace):
    manifest = json.loads((workspace.dbt_target / "target" / "manifest.json").read_text())
    models = [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]
    for node in models:
        written = {column: text for column, (text, _) in comments(built, f"{node['schema']}.{node['alias']}").items()}
        expected = {column: c["description"] for column, c in node["columns"].items() if c["description"]}
        if node["description"]:
            expected[None] = node["description"]
        assert written == expected, node["name"]

    before = comments(built, "marts.fct_orders")
    with built.connect() as conn, conn.cursor() as cur:
        cur.execute("comment on table marts.fct_orders is 'stale'; comment on column marts.fct_orders.order_key is ''")
    run_dbt(["run", "--select", "fct_orders"], built, workspace, AS_OF)
    after = comments(built, "marts.fct_orders")
    assert {column: text for column, (text, _) in after.items()} == {c: text for c, (text, _) in before.items()}
    rewritten = {column for column in after if after[column][1] != before[column][1]}
    assert rewritten == {None, "order_key"}  # the two made stale; the others left as they were


def test_the_audience_entries_tests_fail_when_postgresql_stops_enforcing_what_they_read(built, workspace):
    """The source's key and NOT NULL tests read the catalogue, not the rows: each
    fails once the table lacks the constraint it stands for."""
    select = ["test", "--select", "source:activation.audience_entries"]
    run_dbt(select, built, workspace, AS_OF)
    with built.connect() as conn, conn.cursor() as cur:
        cur.execute("alter table activation.audience_entries drop constraint audience_entries_pkey,"
                    " alter column is_holdout drop not null")
    try:
        with pytest.raises(DbtFailed) as failed:
            run_dbt(select, built, workspace, AS_OF)
        output = str(failed.value)
        failures = set(re.findall(r"Failure in test source_(\w+?)_activation_audience_entries", output))
        assert failures == {"unique_index", "declared_not_null"}, output[-2000:]
        # one row each: the key's index, and is_holdout (the key's columns stay NOT NULL without it)
        assert re.findall(r"Got (\d+) results?", output) == ["1", "1"], output[-2000:]
    finally:
        with built.connect() as conn, conn.cursor() as cur:
            cur.execute("alter table activation.audience_entries add primary key (audience, customer_key),"
                        " alter column is_holdout set not null")
    run_dbt(select, built, workspace, AS_OF)


def test_the_interactions_relationships_test_reads_what_changed_since_it_last_passed(built, workspace):
    """fct_interactions' customer_key test does not read again a row it passed, but
    does a row written or re-keyed since, and every row once the fact or the key
    changes are rebuilt, or relationships_full_read_days (7) after it last did. A
    failing run keeps the last pass."""
    select = ["test", "--select", "fct_interactions,test_name:relationships_since_last_pass"]
    interactions = "'marts.fct_interactions'::regclass"
    passes = ("select fact_oid, changes_oid, loaded_through, rekeyed_through, passed_at"
              f" from intermediate.relationships_passes where fact_oid = {interactions}")
    fully_read = f"select fully_read_at from intermediate.relationships_passes where fact_oid = {interactions}"
    facts = ["marts.fct_interactions", "marts.fct_orders", "marts.fct_order_items", "marts.fct_service_tickets"]
    assert sorted(query(built, "select fact_oid::regclass::text from intermediate.relationships_passes")) \
        == sorted((fact,) for fact in facts)  # the build's pass of each fact's test
    [(*last_pass, passed_at)] = query(built, passes)
    # what the build's pass recorded: the tables, the newest load and the fact's own re-key watermark
    assert query(built, """
        select 'marts.fct_interactions'::regclass::oid, 'intermediate.int_customer_key_changes'::regclass::oid,
            (select max(loaded_at) from marts.fct_interactions),
            (select rekeyed_through from intermediate.rekey_watermarks where fact::regclass = 'marts.fct_interactions'::regclass)
    """) == [tuple(last_pass)]
    [(key, lookup_id, customer_key, loaded_at, key_changed_at)] = query(built, """
        select fact.interaction_key, fact.customer_lookup_id, fact.customer_key, fact.loaded_at, changed.key_changed_at
        from marts.fct_interactions as fact
        inner join intermediate.int_customer_key_changes as changed using (customer_lookup_id)
        where fact.customer_key is not null limit 1""")

    def failures() -> int:
        try:
            # no look-back: the fixture's rows were all loaded within it, so all would be read
            run_dbt(select, built, workspace, AS_OF, extra_vars={"incremental_lookback_hours": 0})
            return 0
        except DbtFailed as failed:
            found = re.search(r"Got (\d+) results?", str(failed))
            assert found, str(failed)[-2000:]
            return int(found.group(1))

    def run(*statements: str, params=()) -> None:
        with built.as_role(TRANSFORMER).connect() as conn, conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement, params)

    def set_row(key_of_row, loaded, changed) -> None:
        run("update marts.fct_interactions set customer_key = %s, loaded_at = %s where interaction_key = %s",
            params=(key_of_row, loaded, key))
        run("update intermediate.int_customer_key_changes set key_changed_at = %s where customer_lookup_id = %s",
            params=(changed, lookup_id))

    def rebuilt(table: str) -> int:
        """failures while `table` is a copy of itself: a new table, as a full rebuild makes"""
        run(f"alter table {table} rename to before_copy", f"create table {table} as table {table.split('.')[0]}.before_copy")
        try:
            return failures()
        finally:
            run(f"drop table {table}", f"alter table {table.split('.')[0]}.before_copy rename to {table.split('.')[1]}")

    a_day = timedelta(days=1)
    try:
        set_row("nobody", loaded_at, key_changed_at)
        assert failures() == 0  # written before the last pass, not re-keyed since: not read again
        [(*last_pass, _)] = query(built, passes)
        assert query(built, fully_read) == [(passed_at,)]  # still the build's, which read every row
        set_row("nobody", loaded_at, key_changed_at + a_day)
        assert failures() == 1  # its lookup id re-keyed since
        set_row("nobody", loaded_at + a_day, key_changed_at)
        assert failures() == 1  # written since
        assert [tuple(row[:4]) for row in query(built, passes)] == [tuple(last_pass)]  # no pass recorded
        set_row("nobody", loaded_at, key_changed_at)
        assert rebuilt("marts.fct_interactions") == 1
        assert rebuilt("intermediate.int_customer_key_changes") == 1
        # read every row last on the day 7 days before, at its last minute: less than 7 x 24 hours
        # ago, but relationships_full_read_days (7) counts days
        run("update intermediate.relationships_passes"
            " set fully_read_at = date_trunc('day', now()) - interval '7 days' + interval '23 hours 59 minutes'"
            f" where fact_oid = {interactions}")
        assert failures() == 1
    finally:
        set_row(customer_key, loaded_at, key_changed_at)
    assert failures() == 0
    [(*_, passed_again)] = query(built, passes)
    assert passed_again > passed_at
    assert query(built, fully_read) == [(passed_again,)]  # that pass read every row again


def test_c360_docs_generates_the_site_and_says_where(built, capsys):
    assert main(["docs"]) == 0
    site = Path(re.search(r"dbt docs: (\S+)", capsys.readouterr().out).group(1))
    assert site.name == "index.html" and site.exists()
    catalog = json.loads((site.parent / "catalog.json").read_text())
    assert "model.c360.customer_value" in catalog["nodes"]  # the catalog describes the built warehouse
    # the lineage graph is drawn from the site's manifest: RFM traces back to the raw deliveries
    parents = json.loads((site.parent / "manifest.json").read_text())["parent_map"]
    ancestors, todo = set(), ["model.c360.customer_rfm"]
    while todo:
        new = set(parents[todo.pop()]) - ancestors
        ancestors |= new
        todo += new
    assert {"source.c360.shop.shop_orders", "source.c360.pos.pos_receipts", "source.c360.social.social_events",
            "model.c360.int_identity_resolved"} <= ancestors


def test_campaign_performance_measures_uplift_against_the_holdout(built):
    """Campaign C1 (03-02 09:00): Ann sent and orders an hour later (20), Bob sent but his next
    order is 8 days later, Cy held out and does not order."""
    keys = keys_by_source(built)
    touches = {k: rest for k, *rest in query(built, "select customer_key, is_holdout, opened, ordered_in_window,"
                                                    " revenue_in_window from marts.fct_campaign_touches")}
    assert touches[keys[("shop", "1")]] == [False, True, True, Decimal("20.00")]
    assert touches[keys[("shop", "2")]] == [False, False, False, Decimal("0.00")]
    assert touches[keys[("shop", "3")]] == [True, False, False, Decimal("0.00")]
    (row,) = query(built, "select sent_contacts, holdout_contacts, opened, cost, conversions, revenue, conversion_rate,"
                          " holdout_conversion_rate, cost_per_acquisition, uplift, uplift_ci_low, uplift_ci_high"
                          " from marts.campaign_performance where campaign_id = 'C1'")
    margin = 1.96 * (0.5 * 0.5 / 2) ** 0.5
    assert row[:10] == (2, 1, 1, Decimal("0.02"), 1, Decimal("20.00"), Decimal("0.5"), Decimal("0"),
                        Decimal("0.02"), Decimal("0.5"))
    assert (float(row[10]), float(row[11])) == (pytest.approx(0.5 - margin, abs=1e-5), pytest.approx(0.5 + margin, abs=1e-5))


def test_the_profile_has_each_channel_service_and_home_store(built):
    ann = keys_by_source(built)[("shop", "1")]
    channels = {c: (first.date(), last.date(), n) for c, first, last, n in query(
        built, "select channel, first_seen_at, last_seen_at, events from marts.customer_channels"
               " where customer_key = %s", (ann,))}
    assert channels == {
        "shop": (date(2026, 1, 2), date(2026, 3, 2), 2), "pos": (date(2026, 2, 1), date(2026, 2, 1), 1),
        "app": (date(2026, 3, 1), date(2026, 3, 2), 2), "campaigns": (date(2026, 3, 2), date(2026, 3, 2), 2),
        "service": (date(2026, 3, 3), date(2026, 3, 3), 2)}
    assert query(built, "select last_seen_at::date, home_store_id, service_tickets_count, average_satisfaction"
                        " from marts.dim_customers where customer_key = %s", (ann,)) == [
        (date(2026, 3, 3), "S1", 2, Decimal("2.00"))]


def test_social_engagement_counts_every_event_and_the_extended_score_only_its_window(built, workspace):
    """Bob (o1) read for 30 s on 1 March, Eve (o2) liked on 2 March: the profile counts
    both; the extended RFM score's window of var('erfm_interaction_days') up to the
    as-of date (31 March) holds both at 90 days and only Eve's like at 30."""
    keys = keys_by_source(built)
    bob, eve = keys[("social", "o1")], keys[("social", "o2")]
    assert dict(query(built, "select customer_key, social_events_count from marts.dim_customers"
                             " where customer_key in (%s, %s)", (bob, eve))) == {bob: 1, eve: 1}

    def window():
        return {k: rest for k, *rest in query(
            built, "select customer_key, recent_interactions, recent_seconds_read, social_follower_count"
                   " from intermediate.int_customer_social_activity")}

    assert window() == {bob: [1, 30, 120], eve: [1, 0, 5]}
    run_dbt(["run", "--select", "int_customer_social_activity"], built, workspace, AS_OF,
            extra_vars={"erfm_interaction_days": 30})
    try:
        assert window() == {bob: [0, 0, 120], eve: [1, 0, 5]}
    finally:
        run_dbt(["run", "--select", "int_customer_social_activity"], built, workspace, AS_OF)


def test_a_second_build_for_the_next_day_keeps_keys_and_adds_one_history_day(built, workspace):
    from datetime import timedelta

    before = keys_by_source(built)
    run_dbt(["parse"], built, workspace, AS_OF)  # whatever --vars an earlier test passed
    output = build_warehouse(built, workspace, AS_OF + timedelta(days=1))
    # a new day re-parses only the files that read the date, and its tests check the new day
    assert "Unable to do partial parsing" not in output, output[:2000]
    manifest = json.loads((workspace.dbt_target / "target" / "manifest.json").read_text())
    history_tests = [node for node in manifest["nodes"].values()
                     if node["resource_type"] == "test" and node.get("attached_node") == "model.c360.customer_rfm_history"]
    assert len(history_tests) == 3
    for test in history_tests:
        assert f"where as_of_date >= cast('{AS_OF + timedelta(days=1)}' as date)" in test["compiled_code"]
    # the features keep every date too; their tests read the date built (the unique index costs nothing)
    feature_tests = {node["name"]: node["compiled_code"] for node in manifest["nodes"].values()
                     if node["resource_type"] == "test" and node.get("attached_node") == "model.c360.customer_features"}
    assert len(feature_tests) == 9
    for name, sql in feature_tests.items():
        if name not in ("not_null_customer_features_as_of_date", "unique_index_customer_features_customer_key__as_of_date"):
            assert f"where as_of_date in (cast('{AS_OF + timedelta(days=1)}' as date))" in sql, name
    assert keys_by_source(built) == before
    assert query(built, "select distinct as_of_date from marts.customer_rfm_history order by 1") == [
        (AS_OF,), (AS_OF + timedelta(days=1),)]
    assert query(built, "select distinct as_of_date from marts.customer_lifecycle") == [(AS_OF + timedelta(days=1),)]


def test_when_two_known_people_turn_out_to_be_one_the_merge_is_recorded(built, workspace):
    """Runs last: it changes the brand. Cy gives a new phone in the shop; Eve, known only on
    social, binds the same phone there: two known people turn out to be one."""
    from datetime import timedelta

    from c360.loader import Batch, publish_batch
    from c360.raw_tables import RAW_TABLES

    day = AS_OF + timedelta(days=2)
    before = keys_by_source(built)
    cy, eve = before[("shop", "3")], before[("social", "o2")]
    publish_batch(built, Batch("shop", RAW_TABLES["shop_customers"], pd.DataFrame([dict(
        customer_id=3, email="cy@x.com", phone="07700 900055", created_at="2026-01-05T00:00:00Z",
        updated_at="2026-04-02T00:00:00Z")]), day))
    publish_batch(built, Batch("social", RAW_TABLES["social_followers"], pd.DataFrame([dict(
        openid="o2", unionid="u2", bound_phone="+44 7700 900055", nickname="e", followed_at="2026-02-01T00:00:00Z",
        follower_count=5, updated_at="2026-04-02T00:00:00Z")]), day))
    build_warehouse(built, workspace, day)

    after = keys_by_source(built)
    assert after[("shop", "3")] == after[("social", "o2")] == cy  # the older key stays
    assert query(built, "select merged_key, into_key, merged_on from marts.customer_merges") == [(eve, cy, day)]
    assert {k: v for k, v in after.items() if v not in (cy, eve)} == {
        k: v for k, v in before.items() if v not in (cy, eve)}  # everyone else kept their key
    build_warehouse(built, workspace, day)  # re-running the day records the merge once
    assert query(built, "select count(*) from marts.customer_merges") == [(1,)]
