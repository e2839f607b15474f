"""The warehouse: an embedded PostgreSQL from the ``pgserver`` wheel, or any
server given by ``C360_WAREHOUSE_DSN``.

The embedded server listens on a Unix socket in the workspace only (no TCP
port to collide with), keeps running between commands so Airflow tasks,
dbt and the CLI share it, and is stopped by ``c360 warehouse stop``.

The DSN's user is the admin: it bootstraps schemas, tables and roles. Each
part of the pipeline then connects as its own role (``Warehouse.as_role``).
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, urlencode

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from c360.access import Role
from c360.config import AIRFLOW_DB, SHOP_DB, WAREHOUSE_DB, Workspace, warehouse_dsn_from_env

SCHEMAS = ("raw", "ops", "staging", "intermediate", "marts", "pii", "ml", "activation")


@dataclass(frozen=True)
class ConnectionParams:
    """libpq connection parameters, convertible to every form our tools want."""

    dbname: str
    user: str = "postgres"
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def parse(cls, dsn: str) -> "ConnectionParams":
        p = psycopg2.extensions.parse_dsn(dsn)
        return cls(
            dbname=p.get("dbname", "postgres"),
            user=p.get("user", "postgres"),
            password=p.get("password", ""),
            host=p.get("host", ""),
            port=str(p.get("port", "")),
        )

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")

    def with_database(self, dbname: str) -> "ConnectionParams":
        return replace(self, dbname=dbname)

    def _url(self, scheme: str, socket_host: str, with_password: bool) -> str:
        auth = quote(self.user, safe="")
        if self.password and with_password:
            auth += ":" + quote(self.password, safe="")
        query = {}
        if self.is_socket:
            # URI hosts cannot hold a path: pass the socket folder as a parameter
            netloc = f"{auth}@{socket_host}"
            query["host"] = self.host
        else:
            netloc = f"{auth}@{self.host or 'localhost'}" + (f":{self.port}" if self.port else "")
        if self.is_socket and self.port:
            query["port"] = self.port
        suffix = f"?{urlencode(query, safe='/', quote_via=quote)}" if query else ""
        return f"{scheme}://{netloc}/{quote(self.dbname, safe='')}{suffix}"

    def uri(self, with_password: bool = False) -> str:
        """A URI that psql and psycopg accept. Without the password unless asked,
        so it can be printed: psql then reads PGPASSWORD or prompts."""
        return self._url("postgresql", "", with_password)

    def sqlalchemy_url(self) -> str:
        """A SQLAlchemy URL, password included; Great Expectations and Airflow reject an empty host."""
        return self._url("postgresql+psycopg2", "localhost", with_password=True)

    def libpq_kwargs(self) -> dict[str, str]:
        kw = {"dbname": self.dbname, "user": self.user}
        for key in ("password", "host", "port"):
            if getattr(self, key):
                kw[key] = getattr(self, key)
        return kw


class WarehouseAccessError(RuntimeError):
    pass


class Warehouse:
    """Connections to the warehouse database and its sibling databases, as the
    admin or (after ``as_role``) as one of c360's roles."""

    def __init__(self, params: ConnectionParams, embedded_pgdata: Path | None = None, role: Role | None = None):
        self.params = params
        self.embedded_pgdata = embedded_pgdata
        self.role = role

    def as_role(self, role: Role) -> "Warehouse":
        """The same warehouse, reached as ``role`` with the password from its environment variable."""
        return Warehouse(replace(self.params, user=role.name, password=role.password()), self.embedded_pgdata, role)

    @property
    def is_embedded(self) -> bool:
        return self.embedded_pgdata is not None

    def database(self, dbname: str) -> ConnectionParams:
        return self.params.with_database(dbname)

    @contextlib.contextmanager
    def connect(self, dbname: str | None = None, autocommit: bool = False) -> Iterator[psycopg2.extensions.connection]:
        """A connection that commits on success and rolls back on error."""
        params = self.params if dbname is None else self.database(dbname)
        try:
            conn = psycopg2.connect(**params.libpq_kwargs())
        except psycopg2.OperationalError as err:
            if self.role is None:
                raise
            raise WarehouseAccessError(
                f"cannot connect as {self.role.name}: {str(err).strip()}\n"
                f"c360 creates its roles when it bootstraps the warehouse (`c360 warehouse start`, run as the"
                f" admin of C360_WAREHOUSE_DSN); the role's password comes from {self.role.password_env}."
            ) from None
        conn.autocommit = autocommit
        try:
            yield conn
            if not autocommit:
                conn.commit()
        except BaseException:
            if not autocommit:
                conn.rollback()
            raise
        finally:
            conn.close()

    def ensure_database(self, dbname: str) -> None:
        """Create `dbname` if missing, sorting text bytewise (libc collation C): the builds
        sort, group and index by text keys, which PostgreSQL then compares with memcmp
        rather than strcoll (even C.UTF-8, the same order, takes twice as long)."""
        with self.connect("postgres", autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (dbname,))
            if cur.fetchone() is None:
                provider = " locale_provider libc" if conn.server_version >= 150000 else ""  # not ICU's C
                cur.execute(sql.SQL("create database {} template template0 lc_collate 'C'" + provider)
                            .format(sql.Identifier(dbname)))

    def bootstrap(self) -> None:
        """As the admin: create the schemas, c360's own tables, the raw tables, the
        roles and their grants (idempotent; one transaction)."""
        from c360 import access, ddl
        from c360.raw_tables import create_raw_tables

        if self.role is not None:
            raise WarehouseAccessError(f"bootstrap needs the admin connection, not {self.role.name}")
        with self.connect() as conn, conn.cursor() as cur:
            # one bootstrap at a time: concurrent grant changes on a catalog row collide
            cur.execute("select pg_advisory_xact_lock(hashtext('c360.bootstrap'))")
            for schema in SCHEMAS:
                cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
            ddl.create_tables(cur)
            create_raw_tables(cur)
            # views of models since removed, which dbt does not drop: clear-text contacts (moved to
            # pii), and every sync day's audience members (marts.audience_uplift reads the entries)
            cur.execute("drop view if exists intermediate.int_customer_contacts,"
                        " staging.stg_activation__audience_members")
            access.ensure_roles(cur, self.params.user)
            access.apply_grants(cur, self.params.user, SCHEMAS)
            if self.is_embedded:  # its sibling databases are c360's too: only the admin may connect
                for dbname in (SHOP_DB, AIRFLOW_DB):
                    cur.execute(sql.SQL("revoke all on database {} from public").format(sql.Identifier(dbname)))


def _quiet_pgserver() -> None:
    import logging
    import warnings

    # pgserver asks for a per-user runtime folder that a root session lacks; it falls back fine
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    # pgserver logs every pg_ctl call at INFO, and once more at interpreter exit
    logging.getLogger("pgserver").setLevel(logging.WARNING)


def _embedded_server(pgdata: Path):
    _quiet_pgserver()
    import pgserver

    pgdata.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(pgdata, cleanup_mode=None)


def open_warehouse(workspace: Workspace | None = None, start: bool = True, role: Role | None = None) -> Warehouse:
    """The configured warehouse, starting the embedded server if needed; as the admin, or as ``role``."""
    warehouse = _open_admin(workspace or Workspace.from_env(), start)
    return warehouse.as_role(role) if role else warehouse


def _open_admin(workspace: Workspace, start: bool) -> Warehouse:
    dsn = warehouse_dsn_from_env()
    if dsn:
        return Warehouse(ConnectionParams.parse(dsn))
    if not start and not is_embedded_running(workspace):
        raise RuntimeError(f"the embedded warehouse in {workspace.pgdata} is not running; run `c360 warehouse start`")
    server = _embedded_server(workspace.ensure().pgdata)
    params = ConnectionParams.parse(server.get_uri(WAREHOUSE_DB))
    warehouse = Warehouse(params, embedded_pgdata=workspace.pgdata)
    for dbname in (WAREHOUSE_DB, SHOP_DB, AIRFLOW_DB):
        warehouse.ensure_database(dbname)
    return warehouse


def is_embedded_running(workspace: Workspace) -> bool:
    pid_file = workspace.pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().splitlines()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_embedded(workspace: Workspace) -> bool:
    """Stop the embedded server of this workspace; False if it was not running."""
    if not is_embedded_running(workspace):
        return False
    _quiet_pgserver()
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=workspace.pgdata, user=user)
    return True
