"""A tiny hand-made brand whose marts we can work out by hand."""
from datetime import date

import pandas as pd

from c360.loader import Batch, publish_batch
from c360.raw_tables import RAW_TABLES

AS_OF = date(2026, 3, 31)


def _customer(customer_id, email, phone, card=None, marketing=True, created="2026-01-05T00:00:00Z"):
    name = email.strip().split("@")[0].capitalize()  # "Ann": clear text that must stay out of marts
    return dict(customer_id=customer_id, email=email, phone=phone, first_name=name, last_name="Testperson",
                member_card_no=card, accepts_marketing=marketing, created_at=created, updated_at=created)


def _order(order_id, customer_id, ordered_at, amount, status="shipped", cancelled_at=None, refunded_at=None):
    return dict(order_id=order_id, customer_id=customer_id, ordered_at=ordered_at, status=status,
                total_amount=amount, currency="GBP", cancelled_at=cancelled_at, refunded_at=refunded_at,
                updated_at=refunded_at or cancelled_at or ordered_at)


def _receipt(receipt_id, at, card, phone, amount, kind="sale", original=""):
    return dict(receipt_id=receipt_id, store_id="S1", purchased_at=at, member_card_no=card, phone=phone,
                total_amount=amount, transaction_type=kind, original_receipt_id=original,
                _source_file="S1/pos_S1.csv", _source_line=2)


def _app_event(event_id, device_id, event_type="session_start", customer_id=None, email=None,
               at="2026-03-01T10:00:00Z"):
    return dict(event_id=event_id, event_type=event_type, occurred_at=at, device_id=device_id, platform="ios",
                session_id=f"S{event_id}", customer_id=customer_id, email=email, product_id=None,
                _source_file="app_events.jsonl", _source_line=1)


def _message(event_id, contact_id, event_type, email=None, phone=None, holdout=False):
    return dict(event_id=event_id, campaign_id="C1", campaign_name="Spring", channel="sms" if phone else "email",
                contact_id=contact_id, email=email, phone=phone, event_type=event_type,
                occurred_at="2026-03-02T09:00:00Z", is_holdout=holdout, cost_per_send=None if holdout else "0.01",
                conversion_amount=None, _source_file="campaign_events.csv", _source_line=2)


def _ticket(ticket_id, email, phone, score=None):
    return dict(ticket_id=ticket_id, category="delivery", contact_channel="email", email=email, phone=phone,
                opened_at="2026-03-03T09:00:00Z", closed_at="2026-03-03T11:00:00Z", satisfaction_score=score,
                updated_at="2026-03-03T11:00:00Z", _source_file="service_tickets.json", _source_line=1)


def build_small_brand(warehouse, workspace):
    """An emptied warehouse with the hand-made brand below loaded and built for AS_OF."""
    from c360.access import LOADER
    from c360.transform import build_warehouse
    from conftest import empty_warehouse

    empty_warehouse(warehouse)
    load_small_brand(warehouse.as_role(LOADER))
    build_warehouse(warehouse, workspace, AS_OF)
    return warehouse


def load_small_brand(warehouse):
    """Ann: shop account + member card 'M1' (written ' m1 ' at the till): 3 orders, one refunded;
         an app device used anonymously, then logged in with her customer id; an e-mail campaign
         contact; service tickets by e-mail (with phone) and by phone alone.
    Bob: shop account, till phone and social phone in three formats: an order later cancelled,
         a store sale returned; an app login by e-mail, later by customer id; an SMS contact.
    Cy and Di: separate accounts sharing a family phone (not merged); Cy held out of a campaign,
         Di writes to the service desk giving the family phone.
    Eve: follows on social only (a prospect)."""
    t = RAW_TABLES
    batches = [
        Batch("shop", t["shop_customers"], pd.DataFrame([
            _customer(1, " Ann@X.com ", "07700 900001", card="M1", created="2026-01-01T00:00:00Z"),
            _customer(2, "bob@x.com", "+44 7700 900002", marketing=False),
            _customer(3, "cy@x.com", "07700 900009"),
            _customer(4, "di@x.com", "07700900009"),
        ]), AS_OF),
        Batch("shop", t["shop_orders"], pd.DataFrame([
            _order(10, 1, "2026-01-02T10:00:00Z", 50),
            _order(11, 1, "2026-03-02T10:00:00Z", 20, "refunded", refunded_at="2026-03-20T00:00:00Z"),
            _order(12, 2, "2026-03-10T10:00:00Z", 30, "cancelled", cancelled_at="2026-03-10T12:00:00Z"),
        ]), AS_OF),
        Batch("pos", t["pos_receipts"], pd.DataFrame([
            _receipt("R1", "2026-02-01T10:00:00+01:00", " m1 ", "", "15.50"),
            _receipt("R2", "2026-03-01T10:00:00Z", "", "(0)7700-900 002", "40"),
            _receipt("R3", "2026-03-05T10:00:00Z", "", "(0)7700-900 002", "40", "return", "R2"),
            _receipt("R4", "2026-03-05T10:00:00Z", "", "", "9"),
        ]), AS_OF, source_file=("S1/pos_S1.csv", "fixture")),
        Batch("social", t["social_followers"], pd.DataFrame([
            dict(openid="o1", unionid="u1", bound_phone="447700900002", nickname="b", followed_at="2026-01-01T00:00:00Z",
                 unfollowed_at=None, follower_count=120, updated_at="2026-01-01T00:00:00Z"),
            dict(openid="o2", unionid="u2", bound_phone=None, nickname="e", followed_at="2026-02-01T00:00:00Z",
                 unfollowed_at=None, follower_count=5, updated_at="2026-02-01T00:00:00Z"),
        ]), AS_OF),
        Batch("social", t["social_events"], pd.DataFrame([
            dict(event_id=1, openid="o1", event_type="read", occurred_at="2026-03-01T00:00:00Z", content_id="a",
                 seconds_read=30),
            dict(event_id=2, openid="o2", event_type="like", occurred_at="2026-03-02T00:00:00Z", content_id="a",
                 seconds_read=None),
        ]), AS_OF),
        Batch("app", t["app_events"], pd.DataFrame([
            _app_event("A1", "D1"),
            _app_event("A2", "D1", "login", customer_id=1, at="2026-03-02T10:00:00Z"),
            _app_event("A3", "D2", "login", email=" BOB@X.com"),
            _app_event("A4", "D2", "login", customer_id=2, at="2026-03-05T10:00:00Z"),
            _app_event("A5", "D3"),
        ]), AS_OF, source_file=("app_events.jsonl", "fixture")),
        Batch("campaigns", t["campaign_events"], pd.DataFrame([
            _message("E1", "K1", "send", email=" Ann@X.com"),
            _message("E2", "K1", "open", email=" Ann@X.com"),
            _message("E3", "K2", "send", phone="07700900002"),
            _message("E4", "K3", "holdout", email="cy@x.com", holdout=True),
        ]), AS_OF, source_file=("campaign_events.csv", "fixture")),
        Batch("service", t["service_tickets"], pd.DataFrame([
            _ticket("T1", "ANN@x.com ", "07700 900001", score=2),
            _ticket("T2", None, "+44 7700 900001"),
            _ticket("T3", "di@x.com", "07700900009", score=5),
        ]), AS_OF, source_file=("service_tickets.json", "fixture")),
    ]
    for b in batches:
        publish_batch(warehouse, b)


MARTS_DDL = """
create table marts.dim_customers (customer_key text, email_sha256 text, phone_sha256 text, accepts_marketing boolean,
    orders_count bigint, net_revenue numeric, is_member boolean, is_social_follower boolean, has_opted_out boolean);
create table marts.customer_lifecycle (customer_key text, lifecycle_stage text);
create table marts.customer_rfm (customer_key text, rfm_segment text, value_tier text, r_score int, f_score int,
    m_score int, erfm_score numeric);
create table marts.fct_campaign_touches (customer_key text, is_holdout boolean, touched_at timestamptz,
    opened boolean, clicked boolean, converted_per_tool boolean, unsubscribed boolean);
create table marts.fct_interactions (customer_key text, event_type text, occurred_at timestamptz);
create table marts.fct_orders (customer_key text, ordered_at timestamptz);
"""
SEEDED_MARTS = "marts.dim_customers, marts.customer_lifecycle, marts.customer_rfm, marts.fct_campaign_touches," \
               " marts.fct_interactions, marts.fct_orders"


def seed_audience_inputs(warehouse, people, day, touches=(), interactions=(), orders=(), opted_out=()):
    """Just the marts and scores an audience sync and its contact rules read.
    people: (key, accepts_marketing, stage, decile, email); touches: (key, touched_at,
    answered, unsubscribed: the mart's column, which the rules do not read); interactions
    and orders: (key, at); opted_out: the keys whose profile has_opted_out."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(f"drop table if exists {SEEDED_MARTS}")
        cur.execute(MARTS_DDL)
        cur.execute("delete from ml.propensity_scores where scored_for_date = %s", (day,))
        for key, consent, stage, decile, email in people:
            cur.execute("insert into marts.dim_customers values (%s, %s, null, %s, 1, 10, false, false, %s)",
                        (key, email, consent, key in opted_out))
            cur.execute("insert into marts.customer_lifecycle values (%s, %s)", (key, stage))
            cur.execute("insert into ml.propensity_scores (customer_key, model_name, model_version, scored_for_date,"
                        " score, score_decile) values (%s, 'purchase_30d', 'v1', %s, %s, %s)",
                        (key, day, decile / 10, decile))
        cur.executemany("insert into marts.fct_campaign_touches values (%s, false, %s, %s, false, false, %s)",
                        list(touches))
        cur.executemany("insert into marts.fct_interactions values (%s, 'click', %s)", list(interactions))
        cur.executemany("insert into marts.fct_orders values (%s, %s)", list(orders))
