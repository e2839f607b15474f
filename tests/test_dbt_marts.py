"""dbt builds the marts from a hand-made brand; every number is checked by hand."""
import hashlib

import pytest

from c360.transform import build_warehouse
from conftest import query
from fixtures import AS_OF, load_small_brand


@pytest.fixture(scope="module")
def built(warehouse, workspace):
    from conftest import RESET_SQL

    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(RESET_SQL)
    warehouse.bootstrap()
    load_small_brand(warehouse)
    build_warehouse(warehouse, workspace, AS_OF)  # raises if any model, contract or dbt test fails
    return warehouse


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def keys_by_source(warehouse):
    return {(s, i): k for k, s, i in query(warehouse, "select customer_key, source, source_customer_id from marts.customer_identity_map")}


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
    assert query(built, "select identifier_type, identifier_value from intermediate.int_identity_ambiguous_identifiers") == [
        ("phone", "+447700900009")]


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


def test_a_second_build_for_the_next_day_keeps_keys_and_adds_one_history_day(built, workspace):
    from datetime import timedelta

    before = keys_by_source(built)
    build_warehouse(built, workspace, AS_OF + timedelta(days=1))
    assert keys_by_source(built) == before
    assert query(built, "select max(as_of_date) from marts.customer_lifecycle_history") == [(AS_OF + timedelta(days=1),)]
    assert query(built, "select count(*) from (select customer_key, as_of_date from marts.customer_lifecycle_history"
                        " group by 1, 2 having count(*) > 1) d") == [(0,)]
