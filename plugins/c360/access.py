"""Who may read and write what in the warehouse.

c360 creates one login role per part of the pipeline and grants each only what
that part needs (the schema table in DESIGN.md). Bootstrap applies
:data:`GRANTS` as the desired state: it revokes what is not listed, grants what
is, and sets default privileges so tables created later (by bootstrap or by
dbt) get the same grants. Roles are server-wide, as PostgreSQL roles are.

Passwords come only from the environment (``C360_<ROLE>_PASSWORD``). They are
sent to the server already SCRAM-hashed, so the clear text never appears in a
statement the server could log.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Role:
    name: str
    purpose: str

    @property
    def password_env(self) -> str:
        return f"C360_{self.name.removeprefix('c360_').upper()}_PASSWORD"

    def password(self) -> str:
        return os.environ.get(self.password_env, "")


LOADER = Role("c360_loader", "ingest: appends channel batches to raw, keeps ops bookkeeping")
TRANSFORMER = Role("c360_transformer", "dbt: reads raw, builds staging, intermediate, marts, pii and ml features")
ML = Role("c360_ml", "propensity: reads marts and features, writes the model registry and scores")
ACTIVATION = Role("c360_activation", "activation: reads marts, pii and scores, writes audiences and sync logs")
BI = Role("c360_bi", "BI tools: read marts and scores, nothing else")
ROLES = (LOADER, TRANSFORMER, ML, ACTIVATION, BI)
ROLES_BY_SHORT_NAME = {role.name.removeprefix("c360_"): role for role in ROLES}

# dbt builds these schemas: the transformer creates (and so owns) their relations.
TRANSFORMER_SCHEMAS = ("staging", "intermediate", "marts", "pii", "ml")


@dataclass(frozen=True)
class Grant:
    """Table privileges of a role in a schema: every table, now and later, or one table."""

    role: Role
    schema: str
    privileges: tuple[str, ...]
    table: str | None = None


READ = ("select",)
WRITE = ("select", "insert", "update", "delete")

GRANTS = (
    Grant(LOADER, "raw", ("select", "insert")),  # append-only: raw rows are never changed
    Grant(LOADER, "ops", WRITE),
    Grant(TRANSFORMER, "raw", READ),
    Grant(TRANSFORMER, "activation", READ, "audience_entries"),  # measured in marts.audience_uplift
    # the marts' and the scores' validations are recorded by who built them; the gate reads them
    *(Grant(role, "ops", ("insert",), table) for role in (TRANSFORMER, ML) for table in ("dq_runs", "dq_results")),
    Grant(ML, "marts", READ),
    Grant(ML, "ml", READ),
    Grant(ML, "ml", WRITE, "model_registry"),
    Grant(ML, "ml", WRITE, "propensity_scores"),
    Grant(ML, "ml", WRITE, "scoring_runs"),
    Grant(ACTIVATION, "marts", READ),
    Grant(ACTIVATION, "pii", READ),
    Grant(ACTIVATION, "ml", READ, "propensity_scores"),
    Grant(ACTIVATION, "activation", WRITE),
    Grant(ACTIVATION, "ops", ("select", "insert", "update"), "sync_log"),
    *(Grant(ACTIVATION, "ops", READ, table) for table in ("dq_runs", "dq_results")),
    Grant(BI, "marts", READ),
    Grant(BI, "ml", READ, "propensity_scores"),
)


def _ident(*parts: str) -> sql.Identifier:
    return sql.Identifier(*parts)


def _privileges(privileges: tuple[str, ...]) -> sql.SQL:
    return sql.SQL(", ".join(privileges))  # from GRANTS above, never from input


# Attributes no c360 role may hold: bootstrap takes them away if someone granted them.
PRIVILEGED_ATTRIBUTES = {"rolsuper": "nosuperuser", "rolcreatedb": "nocreatedb", "rolcreaterole": "nocreaterole",
                         "rolreplication": "noreplication", "rolbypassrls": "nobypassrls"}


ROLE_ATTEMPTS = 5


def ensure_roles(cur, admin: str) -> None:
    """Create the roles that are missing, make them plain login roles that belong to
    no other role, and set the passwords the environment gives.

    Roles are server-wide while bootstrap's lock is per database, so two workspaces
    on one server may race here: a collision is retried once the other side committed."""
    for attempt in range(ROLE_ATTEMPTS):
        cur.execute("savepoint ensure_roles")
        try:
            _ensure_roles(cur, admin)
        except (psycopg2.errors.DuplicateObject, psycopg2.errors.UniqueViolation, psycopg2.errors.InternalError) as err:
            # InternalError is PostgreSQL's "tuple concurrently updated" on a role's catalog row
            cur.execute("rollback to savepoint ensure_roles")
            if attempt == ROLE_ATTEMPTS - 1:
                raise
            log.info("roles changed concurrently (%s); retrying", type(err).__name__)
        else:
            cur.execute("release savepoint ensure_roles")
            return


def _ensure_roles(cur, admin: str) -> None:
    for role in ROLES:
        cur.execute(f"select rolcanlogin, {', '.join(PRIVILEGED_ATTRIBUTES)} from pg_roles where rolname = %s",
                    (role.name,))
        row = cur.fetchone()
        if row is None:
            cur.execute(sql.SQL("create role {} login").format(_ident(role.name)))
        else:
            can_login, *flags = row
            options = [PRIVILEGED_ATTRIBUTES[a] for a, on in zip(PRIVILEGED_ATTRIBUTES, flags) if on]
            options += [] if can_login else ["login"]
            if options:
                cur.execute(sql.SQL("alter role {} " + " ".join(options)).format(_ident(role.name)))
        cur.execute("select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.roleid"
                    " where m.member = (select oid from pg_roles where rolname = %s)", (role.name,))
        for (granted,) in cur.fetchall():  # e.g. pg_read_all_data would bypass every grant below
            cur.execute(sql.SQL("revoke {} from {}").format(_ident(granted), _ident(role.name)))
        if role.password():
            hashed = psycopg2.extensions.encrypt_password(role.password(), role.name, cur.connection)
            cur.execute(sql.SQL("alter role {} password {}").format(_ident(role.name), sql.Literal(hashed)))
    cur.execute("select rolsuper from pg_roles where rolname = %s", (admin,))
    if not cur.fetchone()[0]:
        # a non-superuser admin (a managed server's) must be a member of the transformer
        # to set default privileges for it and to take over dbt relations it created
        cur.execute(sql.SQL("grant {} to {}").format(_ident(TRANSFORMER.name), _ident(admin)))


def apply_grants(cur, admin: str, schemas: tuple[str, ...]) -> None:
    """Make the roles' privileges exactly :data:`GRANTS` (idempotent, in the caller's transaction)."""
    cur.execute("select current_database()")
    database = cur.fetchone()[0]
    creators = [_ident(admin), _ident(TRANSFORMER.name)]
    role_list = sql.SQL(", ").join(_ident(r.name) for r in ROLES)

    cur.execute(sql.SQL("revoke all on database {} from public, {}").format(_ident(database), role_list))
    cur.execute(sql.SQL("grant connect on database {} to {}").format(_ident(database), role_list))
    # dbt's incremental models stage rows in temporary tables
    cur.execute(sql.SQL("grant temporary on database {} to {}").format(_ident(database), _ident(TRANSFORMER.name)))

    for schema in schemas:
        s = _ident(schema)
        # the transformer's rights in dbt's schemas come from owning the relations: keep them
        grantees = sql.SQL(", ").join(_ident(r.name) for r in ROLES
                                      if not (r is TRANSFORMER and schema in TRANSFORMER_SCHEMAS))
        cur.execute(sql.SQL("revoke all on all tables in schema {} from {}").format(s, grantees))
        cur.execute(sql.SQL("revoke all on schema {} from {}").format(s, grantees))
        cur.execute(sql.SQL("revoke execute on all functions in schema {} from public").format(s))
        for creator in creators:
            cur.execute(sql.SQL("alter default privileges for role {} in schema {} revoke all on tables from {}")
                        .format(creator, s, grantees))
    # nobody creates objects in public (PostgreSQL 15+ already says so; older servers and
    # hand-made databases may not), and functions are not callable by everyone by default
    cur.execute("select 1 from pg_namespace where nspname = 'public'")
    if cur.fetchone():
        cur.execute(sql.SQL("revoke create on schema public from public, {}").format(role_list))
    for creator in creators:
        cur.execute(sql.SQL("alter default privileges for role {} revoke execute on functions from public")
                    .format(creator))
    for schema in TRANSFORMER_SCHEMAS:
        cur.execute(sql.SQL("grant usage, create on schema {} to {}").format(_ident(schema), _ident(TRANSFORMER.name)))
        _hand_over_to_transformer(cur, schema)

    for grant in GRANTS:
        role, s = _ident(grant.role.name), _ident(grant.schema)
        privileges = _privileges(grant.privileges)
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(s, role))
        if grant.table:
            cur.execute(sql.SQL("grant {} on table {} to {}").format(privileges, _ident(grant.schema, grant.table), role))
            continue
        cur.execute(sql.SQL("grant {} on all tables in schema {} to {}").format(privileges, s, role))
        for creator in creators:
            cur.execute(sql.SQL("alter default privileges for role {} in schema {} grant {} on tables to {}")
                        .format(creator, s, privileges, role))


def _hand_over_to_transformer(cur, schema: str) -> None:
    """dbt relations created before roles existed (by the admin) pass to the transformer,
    so dbt can replace them. Tables bootstrap itself creates stay with the admin."""
    cur.execute(
        "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p') and pg_get_userbyid(c.relowner) <> %s"
        " and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')",
        (schema, TRANSFORMER.name),
    )
    bootstrap_tables = BOOTSTRAP_OWNED.get(schema, ())
    for name, kind in cur.fetchall():
        if name in bootstrap_tables:
            continue
        keyword = {"v": "view", "m": "materialized view"}.get(kind, "table")
        cur.execute(sql.SQL("alter {} {} owner to {}").format(sql.SQL(keyword), _ident(schema, name),
                                                             _ident(TRANSFORMER.name)))


# Tables in the transformer's schemas that bootstrap creates and the admin keeps.
BOOTSTRAP_OWNED = {"ml": ("model_registry", "propensity_scores", "scoring_runs")}


def views_bypassing_grants(cur, schemas: tuple[str, ...]) -> list[str]:
    """Views that run with their owner's privileges instead of the reader's: through
    one, a role could read tables it was never granted. c360's dbt macros create every
    view with ``security_invoker``; this finds views made any other way."""
    cur.execute(
        "select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where c.relkind = 'v' and n.nspname = any(%s)"
        " and not coalesce(c.reloptions @> array['security_invoker=true'] or c.reloptions @> array['security_invoker=on'], false)"
        " order by 1",
        (list(schemas),),
    )
    return [name for (name,) in cur.fetchall()]


def describe(cur, schemas: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """What each c360 role can do in each schema, read from the server's catalog
    (so it shows the grants in force, not the ones intended): role -> schema -> e.g.
    ``"create; read"``, ``"read, append"``, ``"read, write: sync_log"``."""
    cur.execute(
        """
        select r.rolname, n.nspname, c.relname,
               has_schema_privilege(r.rolname, n.nspname, 'usage'),
               has_schema_privilege(r.rolname, n.nspname, 'create'),
               has_schema_privilege(r.rolname, n.nspname, 'usage')
               and has_table_privilege(r.rolname, c.oid, 'select'),
               has_schema_privilege(r.rolname, n.nspname, 'usage')
               and has_table_privilege(r.rolname, c.oid, 'insert'),
               has_schema_privilege(r.rolname, n.nspname, 'usage')
               and has_table_privilege(r.rolname, c.oid, 'update')
               and has_table_privilege(r.rolname, c.oid, 'delete')
        from pg_roles r
        cross join pg_namespace n
        left join pg_class c on c.relnamespace = n.oid and c.relkind in ('r', 'v', 'm', 'p')
        where r.rolname = any(%s) and n.nspname = any(%s)
        order by 1, 2, 3
        """,
        ([r.name for r in ROLES], list(schemas)),
    )
    tables: dict[tuple[str, str], dict[str, str]] = {}
    creates: set[tuple[str, str]] = set()
    uses: set[tuple[str, str]] = set()
    rows = cur.fetchall()
    for role, schema, table, usage, create, read, insert, change in rows:
        if create:
            creates.add((role, schema))
        if usage:
            uses.add((role, schema))
        if table is not None:
            verbs = ["read"] * read + (["write"] if change else ["append"] if insert else [])
            tables.setdefault((role, schema), {})[table] = ", ".join(verbs)
    out: dict[str, dict[str, str]] = {role: {} for role, *_ in rows}  # the roles that exist
    for role in ROLES:
        for schema in schemas:
            by_table = tables.get((role.name, schema), {})
            granted = {t: v for t, v in by_table.items() if v}
            kinds = set(granted.values())
            if len(kinds) == 1 and len(granted) == len(by_table):
                parts = [kinds.pop()]
            else:
                parts = [f"{v}: {', '.join(sorted(t for t in granted if granted[t] == v))}" for v in sorted(kinds)]
            if (role.name, schema) in creates:
                parts.insert(0, "create")
            elif not parts and not by_table and (role.name, schema) in uses:
                parts = ["usage (no tables yet)"]
            if parts:
                out[role.name][schema] = "; ".join(parts)
    return out


def format_access(access: dict[str, dict[str, str]]) -> str:
    """The report of `c360 warehouse roles`: per role, its purpose and what it can do where."""
    lines = []
    for role in ROLES:
        lines.append(f"{role.name}: {role.purpose} (password from ${role.password_env})")
        for schema, can in access.get(role.name, {}).items():
            lines.append(f"    {schema:<13} {can}")
        if role.name not in access:
            lines.append("    (not created yet: `c360 warehouse start` creates the roles)")
        elif not access[role.name]:
            lines.append("    (nothing)")
    return "\n".join(lines)
