"""Each role connects and can do its job; what it must not do fails on the server."""
import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import psycopg2
import psycopg2.errors
import pytest

from c360.access import ACTIVATION, BI, LOADER, ML, ROLES, TRANSFORMER, views_bypassing_grants
from c360.cli import main
from c360.config import AIRFLOW_DB, SHOP_DB
from c360.transform import UnsafeViews, build_warehouse
from c360.warehouse import SCHEMAS, ConnectionParams, Warehouse, WarehouseAccessError, open_warehouse
from conftest import query, required_passwords
from fixtures import AS_OF, build_small_brand


@pytest.fixture(scope="module")
def built(warehouse, workspace):
    """The hand-made brand loaded and built, so every schema holds real tables."""
    return build_small_brand(warehouse, workspace)


def attempt(warehouse, role, statement: str) -> None:
    """Run a statement as ``role`` and roll it back: only whether the server allows it matters."""
    conn = psycopg2.connect(**warehouse.as_role(role).params.libpq_kwargs())
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.rollback()
        conn.close()


SYNC_LOG_ROW = "insert into ops.sync_log (sync_id, audience, destination, as_of_date, status) values ('t', 'a', 'file', '2026-01-01', 'success')"

ALLOWED = [
    (LOADER, "insert into raw.pos_receipts select * from raw.pos_receipts limit 1"),
    (LOADER, "update ops.batches set message = message"),
    (TRANSFORMER, "select count(*) from raw.shop_customers"),
    (TRANSFORMER, "create table marts.scratch (x int)"),
    (TRANSFORMER, "select count(*) from activation.audience_entries"),  # marts.audience_uplift measures it
    (ML, "select count(*) from ml.customer_features"),
    (ML, "select count(*) from marts.fct_orders"),
    (ML, "delete from ml.propensity_scores"),
    (ACTIVATION, "select email_normalized from pii.customer_contacts"),
    (ACTIVATION, "select count(*) from marts.dim_customers join ml.propensity_scores using (customer_key)"),
    (ACTIVATION, "delete from activation.audience_members"),
    (ACTIVATION, SYNC_LOG_ROW),
    (BI, "select count(*) from marts.dim_customers"),
    (BI, "select count(*) from marts.customer_rfm join ml.propensity_scores using (customer_key)"),
]

FORBIDDEN = [
    (BI, "select * from raw.shop_customers"),
    (BI, "select * from pii.customer_contacts"),
    (BI, "select * from ops.batches"),
    (BI, "select * from activation.audience_members"),
    (BI, "select * from intermediate.int_identity_resolved"),
    (BI, "select * from staging.stg_shop__customers"),
    (BI, "select * from ml.customer_features"),
    (BI, "update marts.dim_customers set accepts_marketing = true"),
    (BI, "insert into marts.customer_rfm (customer_key) values ('x')"),
    (BI, "create table marts.bi_scratch (x int)"),
    (BI, "delete from ml.propensity_scores"),
    (ACTIVATION, "select * from raw.shop_customers"),
    (ACTIVATION, "select * from ops.batches"),
    (ACTIVATION, "delete from ops.sync_log"),
    (ACTIVATION, "select * from ml.model_registry"),
    (ACTIVATION, "update marts.dim_customers set accepts_marketing = true"),
    (LOADER, "update raw.shop_customers set email = null"),
    (LOADER, "delete from raw.shop_orders"),
    (LOADER, "truncate raw.shop_orders"),
    (LOADER, "drop table raw.shop_orders"),
    (LOADER, "select * from marts.dim_customers"),
    (LOADER, "select * from pii.customer_contacts"),
    (ML, "select * from raw.shop_customers"),
    (ML, "select * from pii.customer_contacts"),
    (ML, "select * from ops.batches"),
    (ML, "update marts.customer_rfm set r_score = 5"),
    (TRANSFORMER, "select * from ops.batches"),
    (TRANSFORMER, "update raw.shop_customers set email = null"),
    (TRANSFORMER, "delete from activation.audience_entries"),
    (TRANSFORMER, "select * from activation.audience_members"),
    (TRANSFORMER, "select * from activation.suppressions"),
    (TRANSFORMER, "select * from activation.destination_state"),
    (TRANSFORMER, "delete from ml.propensity_scores"),
]


@pytest.mark.parametrize("role, statement", ALLOWED, ids=lambda v: getattr(v, "name", v))
def test_each_role_can_do_its_job(built, role, statement):
    attempt(built, role, statement)


@pytest.mark.parametrize("role, statement", FORBIDDEN, ids=lambda v: getattr(v, "name", v))
def test_what_a_role_must_not_do_fails(built, role, statement):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        attempt(built, role, statement)


def test_tables_created_later_get_the_same_grants(built):
    with built.as_role(TRANSFORMER).connect() as conn, conn.cursor() as cur:
        cur.execute("create table marts.later as select 1 as x")
        cur.execute("create table pii.later as select 1 as x")
    try:
        assert query(built.as_role(BI), "select x from marts.later") == [(1,)]
        assert query(built.as_role(ACTIVATION), "select x from pii.later") == [(1,)]
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            query(built.as_role(BI), "select x from pii.later")
    finally:
        with built.as_role(TRANSFORMER).connect() as conn, conn.cursor() as cur:
            cur.execute("drop table marts.later, pii.later")


def test_bootstrap_is_idempotent_and_keeps_dbt_working(built, workspace):
    built.bootstrap()
    built.bootstrap()
    build_warehouse(built, workspace, AS_OF)  # the transformer still owns and may replace its tables
    assert query(built.as_role(BI), "select count(*) from marts.dim_customers") == [(5,)]


def test_no_role_is_privileged(built):
    rows = query(built, "select rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls from pg_roles"
                        " where rolname = any(%s)", ([role.name for role in ROLES],))
    assert len(rows) == len(ROLES)
    assert all(not any(flags) for _, *flags in rows)


def role_report(report: str, role) -> list[str]:
    """The indented lines under ``role``'s heading in `c360 warehouse roles`."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{role.name}:"))
    block = []
    for line in lines[start + 1:]:
        if not line.startswith("    "):
            break
        block.append(" ".join(line.split()))
    return block


def test_warehouse_roles_reports_the_grants_in_force(built, capsys):
    assert main(["warehouse", "roles"]) == 0
    report = capsys.readouterr().out
    assert role_report(report, BI) == ["marts read", "ml read: propensity_scores"]
    assert role_report(report, LOADER) == ["raw read, append", "ops read, write"]
    assert "pii read" in role_report(report, ACTIVATION) and "raw read" not in role_report(report, ACTIVATION)


def test_dsn_for_a_role_connects_as_that_role(built, capsys):
    assert main(["warehouse", "dsn", "--role", "bi"]) == 0
    uri = capsys.readouterr().out.strip()
    with psycopg2.connect(uri) as conn, conn.cursor() as cur:
        cur.execute("select current_user")
        assert cur.fetchone() == ("c360_bi",)


@contextlib.contextmanager
def statement_logging(warehouse):
    """Every statement any session runs goes to the server log meanwhile."""
    def set_log_statement(value: str) -> None:
        with warehouse.connect(autocommit=True) as conn, conn.cursor() as cur:
            cur.execute(f"alter system set log_statement = '{value}'")
            cur.execute("select pg_reload_conf()")

    set_log_statement("all")
    try:
        yield
    finally:
        set_log_statement("none")


def test_roles_log_in_with_their_passwords_and_the_server_never_sees_them_in_clear(built):
    log = built.embedded_pgdata / "log"
    log_start = log.stat().st_size
    with statement_logging(built), required_passwords(built) as passwords:
        for role in ROLES:
            assert query(open_warehouse(role=role), "select current_user") == [(role.name,)]
        (stored,), = query(built, "select rolpassword from pg_authid where rolname = 'c360_bi'")
        assert stored.startswith("SCRAM-SHA-256$")

        os.environ[BI.password_env] = "wrong"
        with pytest.raises(WarehouseAccessError, match=BI.password_env) as failure:
            query(open_warehouse(role=BI), "select 1")
        assert "wrong" not in str(failure.value)
    logged = log.read_bytes()[log_start:].decode(errors="replace")
    assert "alter role" in logged.lower()
    for password in passwords.values():
        assert password not in logged


def test_a_role_that_was_never_created_gets_a_hint(built):
    from c360.access import Role

    ghost = Role("c360_ghost", "not created by bootstrap")
    with pytest.raises(WarehouseAccessError, match="c360 warehouse start"):
        query(built.as_role(ghost), "select 1")


def test_a_managed_server_whose_admin_is_not_a_superuser(postgres, monkeypatch):
    """Like a cloud database: the DSN's user may create roles and owns the database, nothing more."""
    superuser_dsn = postgres("brand_wh")
    with psycopg2.connect(superuser_dsn) as conn, conn.cursor() as cur:
        cur.execute("create role brand_admin login createrole")
        cur.execute("alter database brand_wh owner to brand_admin")
        cur.execute("alter schema public owner to brand_admin")
    conn.close()
    monkeypatch.setenv("C360_WAREHOUSE_DSN", replace(ConnectionParams.parse(superuser_dsn), user="brand_admin").uri())

    warehouse = open_warehouse()
    warehouse.bootstrap()
    warehouse.bootstrap()
    attempt(warehouse, TRANSFORMER, "create table marts.customers_x as select 1 as x")
    attempt(warehouse, LOADER, "insert into raw.pos_receipts select * from raw.pos_receipts")
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        attempt(warehouse, BI, "select * from raw.pos_receipts")


def test_bootstrap_takes_back_what_others_granted_to_c360_roles(built):
    """Grants are a desired state: privileges and memberships added by hand are removed."""
    with built.connect() as conn, conn.cursor() as cur:
        cur.execute("alter role c360_bi createdb createrole")
        cur.execute("grant pg_read_all_data to c360_bi")
        cur.execute("grant create on database c360 to c360_bi")
        cur.execute("grant create on schema public to c360_bi")
    assert query(built.as_role(BI), "select count(*) from raw.shop_customers")  # pg_read_all_data at work
    built.bootstrap()
    test_no_role_is_privileged(built)
    assert query(built, "select count(*) from pg_auth_members where member = 'c360_bi'::regrole") == [(0,)]
    for statement in ("select * from raw.shop_customers", "create schema bi_own", "create table public.bi_scratch (x int)"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            attempt(built, BI, statement)


def test_the_embedded_servers_other_databases_admit_only_the_admin(built):
    for dbname in (SHOP_DB, AIRFLOW_DB):
        with pytest.raises(psycopg2.OperationalError, match="permission denied"):
            psycopg2.connect(**built.as_role(BI).database(dbname).libpq_kwargs()).close()


def test_views_cannot_lend_their_owners_privileges(built, workspace):
    with built.connect() as conn, conn.cursor() as cur:
        assert views_bypassing_grants(cur, SCHEMAS) == []  # every view dbt built runs as its reader
        cur.execute("select count(*) from pg_views where schemaname = 'staging'")
        assert cur.fetchone()[0] > 0
    with built.as_role(TRANSFORMER).connect() as conn, conn.cursor() as cur:
        cur.execute("create view marts.peek with (security_invoker = true) as select email from raw.shop_customers")
        cur.execute("create view marts.leak as select email from raw.shop_customers")
        cur.execute("create function marts.peek_fn() returns bigint language sql as 'select 1'")
    try:
        for statement in ("select * from marts.peek", "select marts.peek_fn()"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                attempt(built, BI, statement)
        with pytest.raises(UnsafeViews, match="marts.leak"):
            build_warehouse(built, workspace, AS_OF)
    finally:
        with built.as_role(TRANSFORMER).connect() as conn, conn.cursor() as cur:
            cur.execute("drop view marts.peek, marts.leak; drop function marts.peek_fn()")


def test_warehouse_roles_only_reads(built, capsys):
    """It reports grants as they are (a hand-made change shows) and changes nothing."""
    with built.connect() as conn, conn.cursor() as cur:
        cur.execute("grant update on marts.dim_customers to c360_bi")  # update without delete is not "write"
        cur.execute("grant insert on marts.customer_rfm to c360_bi")
    try:
        assert main(["warehouse", "roles"]) == 0
        report = role_report(capsys.readouterr().out, BI)
        assert report[0].endswith("; read, append: customer_rfm") and "write" not in report[0]
        assert query(built, "select has_table_privilege('c360_bi', 'marts.dim_customers', 'update')") == [(True,)]
    finally:
        built.bootstrap()


def test_bootstraps_of_two_databases_on_one_server_may_run_at_once(postgres):
    """Roles are server-wide; each database's bootstrap lock is not: collisions are retried."""
    warehouses = [Warehouse(ConnectionParams.parse(postgres(f"brand_{n}"))) for n in range(4)]
    with ThreadPoolExecutor(len(warehouses)) as pool:
        list(pool.map(lambda w: w.bootstrap(), warehouses))
    for warehouse in warehouses:
        assert query(warehouse, "select count(*) from pg_roles where rolname = any(%s)",
                     ([r.name for r in ROLES],)) == [(len(ROLES),)]
        assert query(warehouse.as_role(BI), "select current_user") == [(BI.name,)]


def test_bootstrap_drops_the_clear_text_contacts_view_of_older_versions(built):
    with built.connect() as conn, conn.cursor() as cur:
        cur.execute("create view intermediate.int_customer_contacts as select email from raw.shop_customers")
    built.bootstrap()
    assert query(built, "select to_regclass('intermediate.int_customer_contacts')") == [(None,)]
