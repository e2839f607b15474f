"""Bring your own data: `c360 import-transactions`, then `c360 run` on that file alone."""
from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c360.cli import main
from c360.imports import TransactionsFileError, TransactionsImport, read_transactions
from conftest import RESET_SQL, query

HEADER = "Customer,Date,Order,Total\n"


def spec_for(path: Path, **overrides) -> TransactionsImport:
    settings = dict(source="shop_export", path=path, customer_id="Customer", ordered_at="Date", amount="Total",
                    order_id="Order")
    return TransactionsImport(**{**settings, **overrides})


def write(tmp_path: Path, text: str, name: str = "tx.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_lines_become_orders_and_returns(tmp_path):
    path = write(tmp_path, HEADER + "ann,2026-05-01,A1,20.00\nann,2026-05-01,A1,5.50\nbob,2026-05-03,,12\n"
                                    "bob,2026-05-03,,12\nbob,2026-06-11T09:30:00+02:00,,-12.00\n")
    frame = read_transactions(spec_for(path))
    assert list(frame["customer_id"]) == ["ann", "ann", "bob", "bob", "bob"]
    assert list(frame["_source_line"]) == [2, 3, 4, 5, 6]
    assert [Decimal(str(a)) for a in frame["amount"]] == [Decimal("20"), Decimal("5.5"), 12, 12, -12]
    assert frame["ordered_at"].iloc[4] == pd.Timestamp("2026-06-11T07:30:00Z")  # zones become UTC
    assert frame["transaction_id"].is_unique  # two identical lines stay two transactions


def test_quantity_times_unit_price_and_a_date_format(tmp_path):
    path = write(tmp_path, "cust;when;qty;price\nx;30/06/2026;3;2.50\n".replace(";", ","))
    frame = read_transactions(spec_for(path, customer_id="cust", ordered_at="when", amount=None, quantity="qty",
                                       unit_price="price", order_id=None, date_format="%d/%m/%Y"))
    assert frame["amount"].tolist() == [7.5] and frame["ordered_at"].tolist() == [pd.Timestamp("2026-06-30", tz="UTC")]


def test_parquet_files_are_read_too(tmp_path):
    path = tmp_path / "tx.parquet"
    pd.DataFrame({"Customer": ["a", "b"], "Date": ["2026-01-01", "2026-01-02"], "Order": ["1", None],
                  "Total": [10.0, 20.0]}).to_parquet(path)
    frame = read_transactions(spec_for(path))
    assert frame["amount"].tolist() == [10.0, 20.0] and frame["order_id"].isna().tolist() == [False, True]


def test_transaction_ids_survive_a_fuller_export(tmp_path):
    first = read_transactions(spec_for(write(tmp_path, HEADER + "a,2026-01-01,1,5\na,2026-01-01,1,5\n")))
    fuller = read_transactions(spec_for(write(tmp_path, HEADER + "a,2026-01-01,1,5\na,2026-01-01,1,5\nb,2026-01-02,,7\n")))
    assert fuller["transaction_id"].tolist()[:2] == first["transaction_id"].tolist()


@pytest.mark.parametrize("text, message", [
    ("Client,Date,Order,Total\na,2026-01-01,1,5\n", "no column(s) 'Customer'; the file has 'Client'"),
    (HEADER + "a,2026-01-01,1,5\nb,2026-13-01,2,5\n", "line 3, column 'Date': '2026-13-01' is not a date"),
    (HEADER + "a,2026-01-01,1,five\n", "line 2, column 'Total': 'five' is not a number"),
    (HEADER + "a,2026-01-01,1,inf\n", "line 2, column 'Total': 'inf' is not a number"),
    (HEADER + ",2026-01-01,1,5\n", "line 2, column 'Customer': '' is empty"),
    (HEADER + "".join(f"a,bad{i},1,5\n" for i in range(12)), "... and 2 more"),
])
def test_bad_files_name_the_line_and_column(tmp_path, text, message):
    with pytest.raises(TransactionsFileError) as failure:
        read_transactions(spec_for(write(tmp_path, text)))
    assert message in str(failure.value)


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_bytes(HEADER.encode() + "José,2026-01-01,1,5\n".encode("latin-1"))
    with pytest.raises(TransactionsFileError, match="not UTF-8"):
        read_transactions(spec_for(path))


@pytest.mark.parametrize("overrides, message", [
    ({"amount": None}, "either an amount column"),
    ({"quantity": "q"}, "either an amount column"),
    ({"source": "Shop Export"}, "source name"),
    ({"path": Path("relative.csv")}, "absolute"),
    ({"path": Path("/data/tx.xlsx")}, ".csv or .parquet"),
    ({"order_id": "Order\nDROP"}, "not a column name"),
])
def test_bad_settings_are_refused(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        spec_for(overrides.pop("path", tmp_path / "tx.csv"), **overrides)


cells = st.one_of(st.text(max_size=12), st.sampled_from(["", "2026-01-01", "-3.5", "1e3", "nan", "00", " x "]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(cells, cells, cells, cells), min_size=1, max_size=8))
def test_any_file_is_read_whole_or_refused_with_a_reason(tmp_path, rows):
    path = tmp_path / "fuzz.csv"
    pd.DataFrame(rows, columns=["Customer", "Date", "Order", "Total"]).to_csv(path, index=False)
    try:
        frame = read_transactions(spec_for(path))
    except TransactionsFileError as err:
        assert "line" in str(err) or "cannot be read" in str(err)
        return
    assert len(frame) == len(rows)  # nothing dropped
    assert frame["customer_id"].notna().all() and np.isfinite(frame["amount"]).all()


# --- a new user's file, end to end ---------------------------------------------------------------

AS_OF = date(2026, 6, 30)


def realistic_export(n_customers: int = 40, seed: int = 3) -> pd.DataFrame:
    """A year of a small brand's order lines: multi-line orders, single-line sales, returns."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        for o in range(int(rng.integers(1, 7))):
            day = date(2025, 7, 1) + timedelta(days=int(rng.integers(0, 400)))  # some after AS_OF
            order = f"SO-{c:03d}-{o}" if rng.random() < 0.7 else ""
            for _ in range(int(rng.integers(1, 4)) if order else 1):
                rows.append((f"CUST{c:04d}", day.isoformat(), order, round(float(rng.uniform(5, 120)), 2)))
            if order and rng.random() < 0.15:
                rows.append((f"CUST{c:04d}", (day + timedelta(days=5)).isoformat(), order, -10.0))
    return pd.DataFrame(rows, columns=["Customer", "Date", "Order", "Total"])


def expected_rfm(export: pd.DataFrame, as_of: date) -> dict[str, tuple[int, Decimal]]:
    """Per customer: (orders, net amount) on or before the as-of day, from the file itself."""
    upto = export[pd.to_datetime(export["Date"]).dt.date <= as_of]
    out = {}
    for customer, rows in upto.groupby("Customer"):
        sales = rows[rows["Total"] > 0]
        orders = sales["Order"].where(sales["Order"] != "", "line" + sales.index.astype(str)).nunique()
        out[f"shop_export:{hashlib.sha256(customer.encode()).hexdigest()}"] = (orders, sum((Decimal(str(t)) for t in rows["Total"]), Decimal(0)))
    return out


@pytest.fixture(scope="module")
def imported(warehouse, workspace, tmp_path_factory):
    """The session workspace emptied, then given nothing but the user's file."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        cur.execute(RESET_SQL)
    for folder in (workspace.simulator, workspace.landing, workspace.exports):
        shutil.rmtree(folder, ignore_errors=True)
    workspace.sources_file.unlink(missing_ok=True)
    export = realistic_export()
    path = tmp_path_factory.mktemp("mine") / "orders.csv"
    export.to_csv(path, index=False)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["import-transactions", str(path), "--customer-id", "Customer", "--ordered-at", "Date",
                     "--amount", "Total", "--order-id", "Order", "--source", "shop_export"]) == 0
        assert main(["run", "--as-of", AS_OF.isoformat()]) == 0
    return export, path, printed.getvalue()


def rfm_by_source_id(warehouse) -> dict[str, tuple[int, Decimal]]:
    return {source_id: (frequency, monetary) for source_id, frequency, monetary in query(
        warehouse, "select m.source_customer_id, r.frequency, r.monetary from marts.customer_rfm r"
                   " join marts.customer_identity_map m using (customer_key)")}


def test_the_marts_hold_exactly_the_customers_of_the_file(imported, warehouse):
    export, _, printed = imported
    assert "Registered" in printed and "c360 run --as-of" in printed
    expected = expected_rfm(export, AS_OF)
    assert rfm_by_source_id(warehouse) == expected
    assert query(warehouse, "select distinct source from marts.customer_identity_map") == [("import",)]
    (lifecycle,), = query(warehouse, "select count(*) from marts.customer_lifecycle l join marts.customer_rfm r"
                                     " using (customer_key)")
    assert lifecycle == len(expected)
    assert query(warehouse, "select count(*) from raw.shop_orders") == [(0,)]  # nothing simulated mixed in


def test_a_fuller_export_next_day_adds_only_what_is_new(imported, warehouse):
    export, path, _ = imported
    fuller = pd.concat([export, pd.DataFrame([("CUST9999", "2026-07-01", "NEW-1", 42.0)], columns=export.columns)])
    fuller.to_csv(path, index=False)
    next_day = AS_OF + timedelta(days=1)
    assert main(["run", "--as-of", next_day.isoformat()]) == 0
    assert rfm_by_source_id(warehouse) == expected_rfm(fuller, next_day)
    (lines,), = query(warehouse, "select count(*) from staging.stg_imports__transactions")
    assert lines == (pd.to_datetime(fuller["Date"]).dt.date <= next_day).sum()


def test_a_file_broken_after_registration_stops_the_run_and_loads_nothing(imported, warehouse):
    _, path, _ = imported
    before = query(warehouse, "select count(*) from raw.imported_transactions")
    path.write_text(path.read_text() + "CUST0001,not-a-date,X,1\n")
    try:
        assert main(["run", "--as-of", (AS_OF + timedelta(days=2)).isoformat()]) == 1
    finally:
        path.write_text(path.read_text().replace("CUST0001,not-a-date,X,1\n", ""))
    assert query(warehouse, "select count(*) from raw.imported_transactions") == before


def test_a_corrected_export_replaces_the_lines_it_changed_or_dropped(imported, warehouse):
    _, path, _ = imported
    current = pd.read_csv(path, keep_default_na=False)
    loaded = current.index[(pd.to_datetime(current["Date"]).dt.date <= AS_OF) & (current["Total"] > 0)]
    corrected = current.drop(index=loaded[3]).copy()  # a line taken out
    corrected.loc[loaded[0], "Total"] += 100  # a line fixed
    corrected.to_csv(path, index=False)
    day = AS_OF + timedelta(days=3)
    assert main(["run", "--as-of", day.isoformat()]) == 0
    assert rfm_by_source_id(warehouse) == expected_rfm(corrected, day)
    (lines,), = query(warehouse, "select count(*) from staging.stg_imports__transactions")
    assert lines == (pd.to_datetime(corrected["Date"]).dt.date <= day).sum()
