"""The ``c360`` command line."""
from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from c360.access import ROLES_BY_SHORT_NAME
from c360.config import Workspace, warehouse_dsn_from_env
from c360.raw_tables import RAW_TABLES


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _faults(text: str) -> tuple[str, ...]:
    from c360.simulator.faults import parse_faults

    try:
        return parse_faults(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1-65535)")
    return value


def _today() -> date:
    return datetime.now(timezone.utc).date()


def cmd_simulate(args) -> int:
    from c360.simulator import SimulationSettings, save_settings
    from c360.sources import advance_simulation, write_simulated_sources
    from c360.warehouse import open_warehouse

    workspace = Workspace.from_env().ensure()
    end = args.end or _today()
    settings = SimulationSettings(customers=args.customers, seed=args.seed,
                                  start_date=end - timedelta(days=args.days - 1), faults=args.faults)
    save_settings(workspace.simulator, settings)
    write_simulated_sources(workspace)
    report = advance_simulation(workspace, open_warehouse(workspace), end)
    print(f"Simulated {args.customers} customers from {settings.start_date} to {end}:")
    for channel, counts in report.as_dict().items():
        if isinstance(counts, dict) and counts:
            print(f"  {channel:<10}" + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()))
    return 0


def _source_name(text: str) -> str:
    from c360.untrusted import UnsafeValue, name

    try:
        return name(text, "source name")
    except UnsafeValue as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def cmd_import_transactions(args) -> int:
    from c360.imports import TransactionsImport, read_transactions
    from c360.sources import CHANNELS, register_import

    workspace = Workspace.from_env().ensure()
    try:
        spec = TransactionsImport(
            source=args.source, path=args.file.resolve(), customer_id=args.customer_id, ordered_at=args.ordered_at,
            amount=args.amount, quantity=args.quantity, unit_price=args.unit_price, order_id=args.order_id,
            date_format=args.date_format,
        )
        frame = read_transactions(spec)
        sources = register_import(workspace, spec)
    except ValueError as err:
        print(f"c360: {err}", file=sys.stderr)
        return 2
    first, last = frame["ordered_at"].min(), frame["ordered_at"].max()
    print(f"Registered {spec.path} as source {spec.source!r} of {workspace.home}: {len(frame)} transactions,"
          f" {frame['customer_id'].nunique()} customers, {first:%Y-%m-%d} to {last:%Y-%m-%d}.")
    others = [c for c in CHANNELS if c in sources]
    if others:
        print(f"This workspace also has the channels {', '.join(others)}; to run on your file alone,"
              f" import it into a fresh workspace (C360_HOME).")
    print(f"Build the marts for a day with: c360 run --as-of {last:%Y-%m-%d}")
    return 0


def _ensure_sources(workspace: Workspace, args, as_of: date) -> None:
    if workspace.sources_file.exists():
        return
    print(f"No sources in {workspace.home}: simulating a brand with {args.customers} customers over {args.days} days.")
    cmd_simulate(argparse.Namespace(customers=args.customers, days=args.days, seed=args.seed, end=as_of, faults=()))


def cmd_run(args) -> int:
    from c360.data_docs import build_data_docs
    from c360.orchestrate import PipelineFailed, run_pipeline
    from c360.summary import pipeline_summary
    from c360.warehouse import open_warehouse

    from c360.activation.audiences import load_definitions
    from c360.sources import load_sources
    from expectations.severities import load_overrides

    workspace = Workspace.from_env().ensure()
    as_of = args.as_of or _today()
    _ensure_sources(workspace, args, as_of)
    try:  # refuse bad settings here, not halfway through the DAGs
        load_sources(workspace)
        load_definitions(workspace)
        load_overrides(workspace.home)
    except ValueError as err:
        print(f"c360: {err}", file=sys.stderr)
        return 2
    warehouse = open_warehouse(workspace)
    warehouse.bootstrap()
    print(f"Running c360 for {as_of} through Airflow (ingest -> warehouse -> propensity -> activation):")
    try:
        run_pipeline(workspace, warehouse, as_of)
    except PipelineFailed as err:
        print(f"\nFAILED: {err}", file=sys.stderr)
        print(f"data quality of the day (GX Data Docs): {build_data_docs(warehouse, workspace, as_of)}",
              file=sys.stderr)
        return 1
    build_data_docs(warehouse, workspace, as_of)  # the summary says where
    print()
    print(pipeline_summary(warehouse, workspace, as_of))
    return 0


def cmd_warehouse(args) -> int:
    from c360 import access
    from c360.warehouse import SCHEMAS, is_embedded_running, open_warehouse, stop_embedded

    workspace = Workspace.from_env()
    external = warehouse_dsn_from_env()
    if args.role and args.action != "dsn":
        print("--role goes with `c360 warehouse dsn`", file=sys.stderr)
        return 2
    if args.action == "start":
        warehouse = open_warehouse(workspace.ensure())
        warehouse.bootstrap()
        print(f"warehouse ready: {warehouse.params.uri()}")
    elif args.action == "stop":
        if external:
            print("C360_WAREHOUSE_DSN is set: c360 does not stop a server it did not start")
        else:
            print("stopped" if stop_embedded(workspace) else "not running")
    elif args.action == "status":
        if external:
            print("external warehouse (C360_WAREHOUSE_DSN)")
        else:
            state = "running" if is_embedded_running(workspace) else "stopped"
            print(f"embedded warehouse in {workspace.pgdata}: {state}")
    elif args.action == "dsn":
        role = access.ROLES_BY_SHORT_NAME[args.role] if args.role else None
        print(open_warehouse(workspace.ensure(), role=role).params.uri())
    elif args.action == "roles":  # reads the catalog only; `start` is what creates roles and grants
        with open_warehouse(workspace.ensure()).connect() as conn, conn.cursor() as cur:
            print(access.format_access(access.describe(cur, SCHEMAS)))
    return 0


def cmd_ui(args) -> int:
    """Airflow's own all-in-one dev server: API server + UI, scheduler, DAG processor, triggerer."""
    from c360.orchestrate import configure_airflow
    from c360.warehouse import open_warehouse

    workspace = Workspace.from_env().ensure()
    warehouse = open_warehouse(workspace)
    warehouse.bootstrap()  # DAGs triggered from the UI connect as c360's roles
    configure_airflow(workspace, warehouse)
    os.environ["AIRFLOW__API__PORT"] = str(args.port)
    # standalone starts its components as `airflow ...` subprocesses: find ours first
    bin_dir = os.path.dirname(sys.executable)
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    print(f"Airflow UI on http://localhost:{args.port}; log in as admin with the password Airflow prints below"
          f" (also in {workspace.airflow_home / 'simple_auth_manager_passwords.json.generated'}). Ctrl-C stops it.")
    return subprocess.call([os.path.join(bin_dir, "airflow"), "standalone"])


def cmd_dbt(args) -> int:
    """Any dbt command, connected to the workspace's warehouse (e.g. `c360 dbt docs generate`)."""
    from c360.transform import DBT_PROJECT, dbt_env
    from c360.warehouse import open_warehouse

    workspace = Workspace.from_env().ensure()
    env = dbt_env(open_warehouse(workspace), workspace)
    dbt = os.path.join(os.path.dirname(sys.executable), "dbt")
    return subprocess.call([dbt, *args.dbt_args, "--project-dir", str(DBT_PROJECT)], env=env, cwd=DBT_PROJECT)


def cmd_quarantine(args) -> int:
    """Quarantined rows with their reasons, or replay them with today's rules (as the loader)."""
    from c360 import quarantine
    from c360.access import LOADER
    from c360.warehouse import open_warehouse

    warehouse = open_warehouse(Workspace.from_env().ensure(), role=LOADER)
    if args.action == "list":
        print(quarantine.format_rows(quarantine.list_rows(warehouse, args.table, args.batch, args.rule)))
        return 0
    replays = quarantine.replay(warehouse, args.table, args.batch)
    for r in replays:
        loaded = f"{r.loaded} row(s) loaded as {r.replayed_batch_id}" if r.loaded else "nothing loaded"
        print(f"{r.batch_id}: {loaded}, {r.still_failing} still in quarantine")
    print(f"replayed {len(replays)} batch(es): {sum(r.loaded for r in replays)} row(s) loaded into raw,"
          f" {sum(r.still_failing for r in replays)} still in quarantine")
    return 0


def cmd_bench(args) -> int:
    from c360 import bench

    run = {"ingest": bench.bench_ingest, "warehouse": bench.bench_warehouse}[args.bench]
    try:
        print(run(args.customers, args.days, args.seed, args.keep))
    except bench.KeepFolderError as err:
        print(f"c360: {err}", file=sys.stderr)
        return 2
    return 0


def cmd_bench_ml(args) -> int:
    from ml.bench import bench_ml

    print(bench_ml(args.customers, args.days, args.seed, args.score_rows))
    return 0


def cmd_suppress(args) -> int:
    from c360.access import ACTIVATION
    from c360.activation.suppressions import SuppressionFileError, add_suppressions
    from c360.warehouse import open_warehouse

    workspace = Workspace.from_env().ensure()
    warehouse = open_warehouse(workspace)
    warehouse.bootstrap()
    try:
        added = add_suppressions(warehouse.as_role(ACTIVATION), args.file)
    except (OSError, SuppressionFileError) as err:
        print(f"c360: {err}", file=sys.stderr)
        return 2
    print(f"{added} identifier(s) on the suppression list (activation.suppressions); no audience will contact them.")
    return 0


def cmd_docs(args) -> int:
    """Generate the dbt docs site (models, columns, tests, lineage, the catalog of the
    warehouse as built) and say where it is and how to serve it."""
    from c360.transform import run_dbt
    from c360.warehouse import open_warehouse

    workspace = Workspace.from_env().ensure()
    run_dbt(["docs", "generate"], open_warehouse(workspace), workspace)
    site = workspace.dbt_target / "target"
    print(f"dbt docs: {site / 'index.html'}\n"
          f"serve them with: .venv/bin/c360 dbt docs serve --port 8081  (or python -m http.server -d {site})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="c360", description="Customer-data pipeline: ingest, warehouse, propensity, activation.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    def simulation_options(p):
        p.add_argument("--customers", type=_positive, default=2000, help="people in the simulated world (default 2000)")
        p.add_argument("--days", type=_positive, default=180, help="days of history (default 180)")
        p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")

    p = sub.add_parser("simulate", help="create a simulated brand's channels in the workspace")
    simulation_options(p)
    p.add_argument("--end", type=_date, help="last simulated day (default today, UTC)")
    p.add_argument("--faults", type=_faults, default=(), metavar="all|NAME,...",
                   help="inject the failures real feeds have into the file drops: all, or a comma-separated"
                        " list of names (README: Faults)")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("import-transactions", help="register a CSV or Parquet file of your own transactions as a source",
                       description="Register FILE as a source of the workspace. A row without an order id is one"
                                   " order; rows sharing an order id are one order; a negative amount is a return.")
    p.add_argument("file", type=Path, metavar="FILE", help="a .csv (UTF-8, header row) or .parquet file")
    p.add_argument("--customer-id", required=True, metavar="COL", help="column identifying the customer")
    p.add_argument("--ordered-at", required=True, metavar="COL", help="column with the date or time")
    money = p.add_mutually_exclusive_group(required=True)
    money.add_argument("--amount", metavar="COL", help="column with the transaction's amount")
    money.add_argument("--quantity", metavar="COL", help="column with the quantity (with --unit-price)")
    p.add_argument("--unit-price", metavar="COL", help="column with the unit price (with --quantity)")
    p.add_argument("--order-id", metavar="COL", help="column with an order id shared by an order's lines")
    p.add_argument("--source", type=_source_name, default="transactions",
                   help="a name for this source (default transactions)")
    p.add_argument("--date-format", metavar="FMT", help="strptime format of --ordered-at, e.g. %%d/%%m/%%Y"
                                                          " (default ISO 8601: 2026-06-30 or 2026-06-30T10:00:00Z)")
    p.set_defaults(func=cmd_import_transactions)

    p = sub.add_parser("run", help="run ingest -> warehouse -> propensity -> activation for a day")
    p.add_argument("--as-of", type=_date, help="the day to run for (default today, UTC)")
    simulation_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("warehouse", help="the embedded PostgreSQL warehouse, its roles and how to connect")
    p.add_argument("action", choices=["start", "stop", "status", "dsn", "roles"],
                   help="dsn: a URI for psql (never with a password: psql reads PGPASSWORD or prompts);"
                        " roles: what each c360 role can read and write")
    p.add_argument("--role", choices=sorted(ROLES_BY_SHORT_NAME), help="with dsn: connect as this c360 role")
    p.set_defaults(func=cmd_warehouse)

    p = sub.add_parser("dbt", help="run a dbt command against the workspace's warehouse")
    p.add_argument("dbt_args", nargs=argparse.REMAINDER, help="e.g. docs generate")
    p.set_defaults(func=cmd_dbt)

    p = sub.add_parser("bench", help="benchmarks that print figures, in a throwaway workspace")
    benches = p.add_subparsers(dest="bench", required=True)
    # the warehouse bench defaults to a year: with a month of history the daily
    # build is mostly dbt's fixed cost (parse, some 200 nodes) and nearly the full one
    for name, days, help_text in (
            ("ingest", 30, "rows per second for each channel's extract and load"),
            ("warehouse", 365, "full dbt build time, and the daily build's after one more day")):
        p = benches.add_parser(name, help=help_text)
        p.add_argument("--customers", type=_positive, default=10_000,
                       help="people in the simulated world (default 10000)")
        p.add_argument("--days", type=_positive, default=days, help=f"days of history (default {days})")
        p.add_argument("--seed", type=int, default=42)
        p.add_argument("--keep", type=Path, metavar="DIR",
                       help="keep the workspace (sources, warehouse, dbt target) in DIR, a new or empty folder,"
                            " to look into what the figures came from")
        p.set_defaults(func=cmd_bench)
    p = benches.add_parser("ml", help="propensity training time, and scoring throughput on resampled features")
    p.add_argument("--customers", type=_positive, default=3000, help="people in the simulated world (default 3000)")
    p.add_argument("--days", type=_positive, default=150, help="days of history (default 150; churn_90d needs 210)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--score-rows", type=_positive, default=1_000_000, help="customers to score (default 1000000)")
    p.set_defaults(func=cmd_bench_ml)

    p = sub.add_parser("suppress", help="add people to the suppression list (never contacted by any audience)")
    p.add_argument("file", type=Path, metavar="FILE",
                   help="CSV with a header of customer_key, email and/or phone (E.164), and optionally reason")
    p.set_defaults(func=cmd_suppress)

    p = sub.add_parser("quarantine", help="see quarantined rows with their reasons; replay them after a fix")
    actions = p.add_subparsers(dest="action", required=True)
    for name, help_text in (("list", "quarantined rows (personal values masked) and counts per rule"),
                            ("replay", "re-validate quarantined rows with the current rules and severities;"
                                       " load the ones that pass as a new batch")):
        q = actions.add_parser(name, help=help_text)
        q.add_argument("--table", choices=sorted(RAW_TABLES), help="only rows of this raw table")
        q.add_argument("--batch", metavar="BATCH_ID", help="only rows of this batch")
        if name == "list":
            q.add_argument("--rule", help="only rows that failed this rule, e.g. malformed_line")
        q.set_defaults(func=cmd_quarantine)

    p = sub.add_parser("docs", help="generate the dbt docs site and say where it is")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("ui", help="start the Airflow UI on localhost")
    p.add_argument("--port", type=_port, default=8080)
    p.set_defaults(func=cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
