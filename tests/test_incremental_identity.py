"""Identity resolution's daily walk: after a day that splits one person, bridges two
others, lets a skipped phone through, skips a phone that linked two records and
leaves another person alone, the incrementally updated components and keys are what
a full walk gives, and the person left alone is not rewritten."""
import hashlib
from datetime import timedelta

import pandas as pd
import pytest

from c360.access import TRANSFORMER
from c360.loader import Batch, publish_batch
from c360.raw_tables import RAW_TABLES
from c360.transform import run_dbt
from conftest import empty_warehouse, query
from fixtures import AS_OF, _customer, _message

NEXT_DAY = AS_OF + timedelta(days=1)
IDENTITY = ["run", "--select", "+int_identity_resolved"]
COMPONENTS = "select record_id, component_id, neighbours_md5 from intermediate.int_identity_components order by 1"
RESOLVED = "select * from intermediate.int_identity_resolved order by record_id"
SKIPPED = "select identifier_value, reason is not null from intermediate.int_identity_ambiguous_identifiers order by 1"
ELI_AND_FAY_PHONE, GUS_PHONE = "07700 900005", "07700 900008"
# an imported file's customers, as identity names them (their ids are hashed)
IVY, JO = (f"import:mine:{hashlib.sha256(name.encode()).hexdigest()}" for name in ("ivy", "jo"))
RECORDS_AND_IDENTIFIERS = ("select * from intermediate.int_identity_records order by record_id",
                           "select * from intermediate.int_identity_identifiers order by 1, 2, 3")
IDENTITY_TABLES = (*RECORDS_AND_IDENTIFIERS, COMPONENTS, RESOLVED)


def campaign_contacts(events, day, file):
    return Batch("campaigns", RAW_TABLES["campaign_events"], pd.DataFrame(events), day,
                 source_file=(file, f"fixture-{file}"))


def imported_file(customers, day, sha):
    lines = pd.DataFrame([dict(source="mine", transaction_id=f"{customer}-1", order_id=None, customer_id=customer,
                               ordered_at="2026-03-01T10:00:00Z", amount="10", file_sha256=sha,
                               _source_file=f"mine-{sha}.csv", _source_line=line)
                          for line, customer in enumerate(customers, start=2)])
    return Batch("imports", RAW_TABLES["imported_transactions"], lines, day, source_file=(f"mine-{sha}.csv", sha))


def load_first_day(warehouse):
    """Ann (shop 1) is SMS contact K1 by phone and e-mail contact K2; Bob (shop 2) is
    contact K3; Cy (shop 3) is no contact; Di (shop 4) is contact K4. Eli and Fay
    (shops 5, 6) share a phone, too many shop accounts for it to merge SMS contact
    K7; Gus (shop 8) is SMS contact K8. An imported file names Ivy and Jo."""
    for batch in (
        Batch("shop", RAW_TABLES["shop_customers"], pd.DataFrame([
            _customer(1, "ann@x.com", "07700 900001"),
            _customer(2, "bob@x.com", None),
            _customer(3, "cy@x.com", None),
            _customer(4, "di@x.com", None),
            _customer(5, "eli@x.com", ELI_AND_FAY_PHONE),
            _customer(6, "fay@x.com", ELI_AND_FAY_PHONE),
            _customer(8, "gus@x.com", GUS_PHONE),
        ]), AS_OF),
        campaign_contacts([
            _message("E1", "K1", "send", phone="07700900001"),
            _message("E2", "K2", "send", email="ann@x.com"),
            _message("E3", "K3", "send", email="bob@x.com"),
            _message("E4", "K4", "send", email="di@x.com"),
            _message("E7", "K7", "send", phone=ELI_AND_FAY_PHONE.replace(" ", "")),
            _message("E8", "K8", "send", phone=GUS_PHONE.replace(" ", "")),
        ], AS_OF, "campaign_events.csv"),
        imported_file(["ivy", "jo"], AS_OF, "f1"),
    ):
        publish_batch(warehouse, batch)


def load_next_day(warehouse):
    """Ann's account changes phone (K1 is no longer hers: a split); new contact K5
    gives Cy's and Bob's e-mails (one person now); Fay changes phone, so K7 is Eli's
    (neither of them changed); new account Hal (shop 9) shares Gus's phone, which
    no longer links Gus to K8; the file's new version drops Jo; Di and K4 see nothing new."""
    changed = "2026-04-01T08:00:00Z"
    for batch in (
        Batch("shop", RAW_TABLES["shop_customers"], pd.DataFrame([
            _customer(1, "ann@x.com", "07700 900099") | dict(updated_at=changed),
            _customer(6, "fay@x.com", "07700 900066") | dict(updated_at=changed),
            _customer(9, "hal@x.com", GUS_PHONE, created=changed),
        ]), NEXT_DAY),
        campaign_contacts([
            _message("E5", "K5", "send", email="cy@x.com"),
            _message("E6", "K5", "open", email="bob@x.com"),
        ], NEXT_DAY, "campaign_events_next.csv"),
        imported_file(["ivy"], NEXT_DAY, "f2"),
    ):
        publish_batch(warehouse, batch)


def people(rows) -> set[frozenset[str]]:
    by_component: dict[str, set[str]] = {}
    for record_id, component_id, _ in rows:
        by_component.setdefault(component_id, set()).add(record_id)
    return {frozenset(records) for records in by_component.values()}


@pytest.fixture(scope="module")
def walked(warehouse, workspace):
    """(components after day 1, after the daily walk, after a full walk; Di's row
    versions before and after the daily walk; the resolved keys and the skipped
    identifiers after the daily walk, and after the full walk)."""
    empty_warehouse(warehouse)
    load_first_day(warehouse)
    run_dbt(IDENTITY, warehouse, workspace, AS_OF)
    di = ("select xmin::text from intermediate.int_identity_components where record_id in ('shop:4', 'campaigns:K4')"
          " union all select xmin::text from intermediate.int_identity_resolved"
          " where record_id in ('shop:4', 'campaigns:K4')")
    first, di_before = query(warehouse, COMPONENTS), query(warehouse, di)
    load_next_day(warehouse)
    run_dbt(IDENTITY, warehouse, workspace, NEXT_DAY, extra_vars={"incremental_lookback_hours": 0})
    daily, di_after = query(warehouse, COMPONENTS), query(warehouse, di)
    daily_keys = query(warehouse, RESOLVED), query(warehouse, SKIPPED)
    run_dbt([*IDENTITY, "--full-refresh"], warehouse, workspace, NEXT_DAY)
    full_keys = query(warehouse, RESOLVED), query(warehouse, SKIPPED)
    return first, daily, query(warehouse, COMPONENTS), di_before, di_after, daily_keys, full_keys


def test_the_first_day_finds_each_person(walked):
    first, *_ = walked
    assert people(first) == {frozenset({"shop:1", "campaigns:K1", "campaigns:K2"}),
                             frozenset({"shop:2", "campaigns:K3"}), frozenset({"shop:3"}),
                             frozenset({"shop:4", "campaigns:K4"}), frozenset({"shop:5"}), frozenset({"shop:6"}),
                             frozenset({"campaigns:K7"}), frozenset({"shop:8", "campaigns:K8"}),
                             frozenset({IVY}), frozenset({JO})}


def test_the_daily_walk_splits_and_bridges_people(walked):
    _, daily, *_ = walked
    assert people(daily) == {frozenset({"shop:1", "campaigns:K2"}), frozenset({"campaigns:K1"}),
                             frozenset({"shop:2", "campaigns:K3", "shop:3", "campaigns:K5"}),
                             frozenset({"shop:4", "campaigns:K4"}), frozenset({"shop:5", "campaigns:K7"}),
                             frozenset({"shop:6"}), frozenset({"shop:8"}), frozenset({"campaigns:K8"}),
                             frozenset({"shop:9"}), frozenset({IVY})}


def test_a_phone_let_through_again_keeps_its_row_without_a_reason(walked):
    *_, (_, daily_skipped), (_, full_skipped) = walked
    assert daily_skipped == [("+447700900005", False), ("+447700900008", True)]
    assert full_skipped == [("+447700900008", True)]


def test_the_daily_walk_resolves_the_keys_a_full_walk_does(walked):
    *_, (daily_keys, _), (full_keys, _) = walked
    assert daily_keys == full_keys


def test_the_daily_walk_equals_a_full_walk(walked):
    _, daily, full, *_ = walked
    assert daily == full


def test_a_person_whose_links_did_not_change_is_not_rewritten(walked):
    *_, di_before, di_after, _, _ = walked
    assert len(di_before) == 4
    assert di_after == di_before


@pytest.fixture(scope="module")
def relimited(walked, warehouse, workspace):
    """(people and skipped identifiers after a daily build with no new data that
    allows one record of a source per e-mail, not two; after a full walk with that limit)."""
    one_per_source = {"identity_max_records_per_source": {"default": 1, "email": 1}, "incremental_lookback_hours": 0}
    run_dbt(IDENTITY, warehouse, workspace, NEXT_DAY, extra_vars=one_per_source)
    daily = people(query(warehouse, COMPONENTS)), query(warehouse, SKIPPED)
    run_dbt([*IDENTITY, "--full-refresh"], warehouse, workspace, NEXT_DAY, extra_vars=one_per_source)
    return daily, (people(query(warehouse, COMPONENTS)), query(warehouse, SKIPPED))


def test_a_daily_build_with_a_lower_limit_checks_every_identifier_again(relimited):
    """Bob's e-mail is on contacts K3 and K5: one too many now, though neither
    changed. It no longer links Bob to either, so K5 is only Cy's."""
    (daily_people, daily_skipped), (full_people, full_skipped) = relimited
    assert ("bob@x.com", True) in daily_skipped
    assert {frozenset({"shop:2"}), frozenset({"campaigns:K3"}), frozenset({"shop:3", "campaigns:K5"})} <= daily_people
    assert daily_people == full_people
    assert [row for row in daily_skipped if row[1]] == full_skipped


@pytest.fixture(scope="module")
def upgraded(warehouse, workspace):
    """(records, identifiers, components and keys after the first daily build of
    tables made before they kept loaded_at, and before the walk and the keys kept
    watermarks; after a full rebuild). That day also moves Bob's campaign message
    E3 to a new contact K6, so K3 is left with nothing."""
    empty_warehouse(warehouse)
    load_first_day(warehouse)
    run_dbt(IDENTITY, warehouse, workspace, AS_OF)
    with warehouse.as_role(TRANSFORMER).connect() as conn, conn.cursor() as cur:
        for table in ("int_identity_records", "int_identity_identifiers"):
            cur.execute(f"alter table intermediate.{table} drop column loaded_at")
        cur.execute("alter table intermediate.int_identity_components drop column walked_at")
        cur.execute("alter table intermediate.int_identity_ambiguous_identifiers drop column changed_at")
        cur.execute("drop table intermediate.identity_watermarks")
    load_next_day(warehouse)
    publish_batch(warehouse, campaign_contacts([_message("E3", "K6", "send", email="bob@x.com")], NEXT_DAY,
                                               "campaign_events_fix.csv"))
    run_dbt(IDENTITY, warehouse, workspace, NEXT_DAY, extra_vars={"incremental_lookback_hours": 0})
    daily = [query(warehouse, sql) for sql in IDENTITY_TABLES]
    run_dbt([*IDENTITY, "--full-refresh"], warehouse, workspace, NEXT_DAY)
    return daily, [query(warehouse, sql) for sql in IDENTITY_TABLES]


def test_the_first_build_of_tables_made_before_loaded_at_and_watermarks_redoes_every_record_and_drops_the_gone(
        upgraded):
    daily, full = upgraded
    assert daily == full
    assert {"campaigns:K6"} <= {record_id for record_id, *_ in daily[0]}
    for table in daily:
        assert "campaigns:K3" not in {row[0] for row in table} | {row[1] for row in table}
