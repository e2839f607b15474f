"""The shop database changing under the extractor: a new column, a renamed one."""
import itertools
from datetime import date

import psycopg2
import pytest

from c360.extract.shop import extract_shop
from c360.loader import BatchRejected
from conftest import query

AS_OF = date(2026, 3, 31)
SHOPS = itertools.count()
SHOP_DDL = """
create table customers (customer_id bigint, email text, phone text, first_name text, last_name text,
    member_card_no text, accepts_marketing boolean, created_at timestamptz, updated_at timestamptz,
    loyalty_points int);
create table orders (order_id bigint, customer_id bigint, ordered_at timestamptz, status text,
    amount_total numeric, currency text, cancelled_at timestamptz, refunded_at timestamptz, updated_at timestamptz);
create table order_items (order_item_id bigint, order_id bigint, product_id bigint, quantity int,
    unit_price numeric, updated_at timestamptz);
insert into customers values (1, 'a@x', null, 'A', 'B', null, true, '2026-03-01', '2026-03-01', 120);
insert into orders values (10, 1, '2026-03-02', 'paid', 12.5, 'GBP', null, null, '2026-03-02');
insert into order_items values (100, 10, 7, 1, 12.5, '2026-03-02');
"""


@pytest.fixture
def drifted_shop(postgres):
    """A shop whose customers gained a column and whose orders renamed total_amount."""
    dsn = postgres(f"drifted_shop_{next(SHOPS)}")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(SHOP_DDL)
    conn.close()
    return dsn


def test_a_new_column_is_kept_and_a_renamed_one_rejects_only_its_table(fresh_warehouse, drifted_shop):
    with pytest.raises(BatchRejected, match=r"1 shop table\(s\) rejected, 2 batch\(es\) loaded:\norders: .*total_amount"):
        extract_shop(fresh_warehouse, drifted_shop, AS_OF)
    assert query(fresh_warehouse, "select customer_id, _extra from raw.shop_customers") == [(1, {"loyalty_points": "120"})]
    assert query(fresh_warehouse, "select order_item_id from raw.shop_order_items") == [(100,)]
    assert query(fresh_warehouse, "select count(*) from raw.shop_orders") == [(0,)]
    assert query(fresh_warehouse, "select raw_table, status, rows_extracted, rows_quarantined, message from ops.batches"
                                  " order by 1") == [
        ("shop_customers", "promoted", 1, 0, "new column(s) kept in _extra: loyalty_points"),
        ("shop_order_items", "promoted", 1, 0, None),
        ("shop_orders", "rejected", 1, 1, "missing required column(s): total_amount")]


def test_a_table_without_its_watermark_column_is_refused_clearly(fresh_warehouse, drifted_shop):
    with psycopg2.connect(drifted_shop) as conn, conn.cursor() as cur:
        cur.execute("alter table order_items rename column updated_at to modified_at")
    conn.close()
    with pytest.raises(BatchRejected, match="order_items table has no updated_at column"):
        extract_shop(fresh_warehouse, drifted_shop, AS_OF)


def test_changes_are_read_in_chunks_that_never_split_a_timestamp(fresh_warehouse, postgres):
    dsn = postgres(f"chunked_shop_{next(SHOPS)}")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(SHOP_DDL.replace("amount_total", "total_amount"))
        cur.execute("insert into customers (customer_id, created_at, updated_at)"
                    " select n, '2026-03-01', '2026-03-01'::timestamptz + (n / 3) * interval '1 hour'"
                    " from generate_series(2, 10) as n")  # three customers per updated_at
    conn.close()
    results = extract_shop(fresh_warehouse, dsn, AS_OF, chunk_rows=2)
    customers = [r for r in results if r.raw_table == "shop_customers"]
    assert query(fresh_warehouse, "select count(*), count(distinct customer_id) from raw.shop_customers") == [(10, 10)]
    # at 00:00 two customers, then three an hour, then two: a chunk takes all of the hour it reaches
    assert [r.rows_loaded for r in customers] == [2, 3, 3, 2]
