"""Mart and score validations with GX inside PostgreSQL, on a real dbt build of the
hand-made brand, and the gate that keeps audiences from bad marts (a real DAG run)."""
import contextlib
import re
from datetime import datetime, timezone

import pandas as pd
import pytest

from c360.access import ACTIVATION, LOADER, ML, TRANSFORMER
from c360.data_docs import build_data_docs
from c360.loader import Batch, publish_batch
from c360.orchestrate import configure_airflow, load_dags
from c360.quality import (GATE_SUITES, SCORE_SUITES, WAREHOUSE_SUITES, QualityFailed, check_gate, validate_or_fail,
                          validate_tables)
from c360.raw_tables import RAW_TABLES
from conftest import query, required_passwords
from fixtures import AS_OF, build_small_brand

MARTS = ("dim_customers", "customer_rfm", "customer_lifecycle")


@pytest.fixture(scope="module")
def built(warehouse, workspace):
    return build_small_brand(warehouse, workspace)


@contextlib.contextmanager
def broken(warehouse, *statements: str):
    """The marts changed behind dbt's back (as the admin) for the duration, then put back."""
    with warehouse.connect() as conn, conn.cursor() as cur:
        for table in MARTS:
            cur.execute(f"create table ops.saved_{table} as select * from marts.{table}")
        for statement in statements:
            cur.execute(statement)
    try:
        yield
    finally:
        with warehouse.connect() as conn, conn.cursor() as cur:
            for table in MARTS:
                cur.execute(f"truncate marts.{table}; insert into marts.{table} select * from ops.saved_{table};"
                            f" drop table ops.saved_{table}")


FIRST = "(select min(customer_key) from marts.{})"
BREAK_RFM = f"update marts.customer_rfm set r_score = 9 where customer_key = {FIRST.format('customer_rfm')}"


def test_good_marts_pass_and_are_recorded_for_the_day(built):
    validations = validate_tables(built.as_role(TRANSFORMER), AS_OF, WAREHOUSE_SUITES)
    assert {v.suite: v.success for v in validations} == dict.fromkeys(WAREHOUSE_SUITES, True)
    run_ids = {r for r, in query(built, "select run_id from ops.dq_runs where batch_id is null")}
    assert len(run_ids) == 1
    assert query(built, "select suite, success, as_of_date from ops.dq_runs where batch_id is null order by 1") == [
        (suite, True, AS_OF) for suite in sorted(WAREHOUSE_SUITES)]
    counts = dict(query(built, "select suite, count(*) from ops.dq_results where run_id = %s group by 1",
                        (run_ids.pop(),)))
    assert counts == {"marts.customer_lifecycle": 5, "marts.customer_rfm": 8, "marts.dim_customers": 3}
    # nobody scored (no model): nothing to sync, nothing wrong
    assert validate_or_fail(built.as_role(ML), AS_OF, SCORE_SUITES) == {"ml.propensity_scores": True}


@pytest.mark.parametrize("statement, reasons", [
    (BREAK_RFM, ["marts.customer_rfm: expect_column_values_to_be_between on r_score: e.g. 9"]),
    ("update marts.customer_rfm set rfm_segment = 'Whales'",
     ["marts.customer_rfm: expect_column_values_to_be_in_set on rfm_segment: e.g. 'Whales'"]),
    (f"update marts.customer_lifecycle set lifecycle_stage = 'zombie', as_of_date = date '{AS_OF}' - 1"
     f" where customer_key = {FIRST.format('customer_lifecycle')}",
     ["marts.customer_lifecycle: expect_column_values_to_be_in_set on lifecycle_stage: e.g. 'zombie'",
      "marts.customer_lifecycle: expect_column_values_to_be_in_set on as_of_date: e.g. 2026-03-30"]),
    ("insert into marts.dim_customers select * from marts.dim_customers limit 1",
     ["marts.dim_customers: expect_column_values_to_be_unique on customer_key: e.g. "]),
    ("delete from marts.dim_customers",
     ["marts.dim_customers: expect_table_row_count_to_be_between: 0"]),
])
def test_broken_marts_fail_naming_what_is_wrong(built, statement, reasons):
    with broken(built, statement), pytest.raises(QualityFailed) as failure:
        validate_or_fail(built.as_role(TRANSFORMER), AS_OF, WAREHOUSE_SUITES)
    lines = str(failure.value).splitlines()
    assert lines[0] == f"data quality of {AS_OF} failed:"
    assert len(lines) == 1 + len(reasons)
    for line, reason in zip(lines[1:], reasons):
        assert line.strip().startswith(reason), line


def test_scores_out_of_range_fail(built):
    with built.connect() as conn, conn.cursor() as cur:
        cur.execute("alter table ml.propensity_scores drop constraint propensity_scores_score_decile_check")
        cur.execute("insert into ml.propensity_scores (customer_key, model_name, model_version, scored_for_date,"
                    " score, score_decile) values ('k1', 'purchase_30d', 'v1', %s, 0.5, 11),"
                    " ('k1', 'purchase_30d', 'v1', %s, 0.5, 0)", (AS_OF, AS_OF.replace(day=1)))
    try:  # the other day's decile 0 is not this day's concern: only 11 is named
        with pytest.raises(QualityFailed, match=r"failed:\n  ml.propensity_scores: expect_column_values_to_be_between"
                                                r" on score_decile: e.g. 11$"):
            validate_or_fail(built.as_role(ML), AS_OF, SCORE_SUITES)
    finally:
        with built.connect() as conn, conn.cursor() as cur:
            cur.execute("delete from ml.propensity_scores")
            cur.execute("alter table ml.propensity_scores add constraint propensity_scores_score_decile_check"
                        " check (score_decile between 1 and 10)")


def test_the_gate_needs_every_suite_validated_for_the_day(built):
    with pytest.raises(QualityFailed) as closed:
        check_gate(built.as_role(ACTIVATION), AS_OF.replace(day=1))
    assert str(closed.value).splitlines()[1:] == [f"  {suite}: not validated for 2026-03-01" for suite in GATE_SUITES]


def run_activation(workspace, warehouse) -> dict[str, str]:
    """The activation DAG run for AS_OF with dag.test(), as `c360 run` does: each task's final state."""
    configure_airflow(workspace, warehouse)
    dag = load_dags()["c360_activation"]
    run = dag.test(logical_date=datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=timezone.utc),
                   run_conf={"as_of": AS_OF.isoformat()})
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def test_a_failed_mart_validation_stops_the_audience_sync(built, workspace, capfd):
    validate_tables(built.as_role(ML), AS_OF, SCORE_SUITES)
    with broken(built, BREAK_RFM):
        validate_tables(built.as_role(TRANSFORMER), AS_OF, WAREHOUSE_SUITES)  # as the warehouse DAG does
        states = run_activation(workspace, built)
    assert states == {"quality_gate": "failed", "sync_audiences": "upstream_failed"}
    assert "marts.customer_rfm: expect_column_values_to_be_between on r_score: e.g. 9" in capfd.readouterr().out
    assert query(built, "select count(*) from ops.sync_log where as_of_date = %s", (AS_OF,)) == [(0,)]
    assert not list(workspace.exports.rglob(f"*_{AS_OF}_*.csv"))

    # the marts fixed and validated again: the gate opens and the audiences are synced
    validate_tables(built.as_role(TRANSFORMER), AS_OF, WAREHOUSE_SUITES)
    check_gate(built.as_role(ACTIVATION), AS_OF)
    assert run_activation(workspace, built) == {"quality_gate": "success", "sync_audiences": "success"}
    assert query(built, "select count(*) from ops.sync_log where as_of_date = %s", (AS_OF,))[0][0] > 0


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub("<[^>]+>", " ", re.sub(r"(?s)<(script|style).*?</\1>", "", html)))


def test_data_docs_show_the_days_validations_without_personal_values(built, workspace):
    bad_emails = pd.DataFrame([{"customer_id": 90 + n, "email": f"zed.{n} at example.com",
                                "created_at": "2026-03-01T00:00:00Z", "updated_at": "2026-03-01T00:00:00Z"}
                               for n in range(2)])
    publish_batch(built.as_role(LOADER), Batch("shop", RAW_TABLES["shop_customers"], bad_emails, AS_OF))
    validate_tables(built.as_role(TRANSFORMER), AS_OF, WAREHOUSE_SUITES)

    index = build_data_docs(built, workspace, AS_OF)
    pages = {p: p.read_text() for p in index.parent.rglob("*.html")}
    suites = {s for s, in query(built, "select distinct suite from ops.dq_runs where as_of_date = %s", (AS_OF,))}
    assert {"raw.shop_customers", "marts.customer_rfm"} <= suites
    for suite in suites:
        assert suite in pages[index], suite
    (runs,), = query(built, "select count(*) from ops.dq_runs where as_of_date = %s", (AS_OF,))
    assert len([p for p in pages if "validations" in p.parts]) == runs
    customers_pages = [visible_text(text) for p, text in pages.items() if "validations" in p.parts and "shop_customers" in str(p)]
    assert any("Status: Failed" in t and "Unsuccessful Expectations 1" in t for t in customers_pages)
    assert not any("zed.0" in text for text in pages.values())


def test_suites_connect_as_a_role_that_needs_its_password(built):
    with required_passwords(built):
        validations = validate_tables(built.as_role(TRANSFORMER), AS_OF, WAREHOUSE_SUITES)
    assert all(v.success for v in validations), [v.batch_failures for v in validations]
