"""The workspace's channel sources (``$C360_HOME/sources.yaml``).

``c360 simulate`` writes a file whose channels are all served by the
simulator; a brand points the same keys at its real systems:

    shop:   {kind: postgres, dsn_env: SHOP_DSN}      # or {kind: simulated}
    pos:    {kind: files, landing: /data/pos}        # or {kind: simulated}; likewise app, campaigns, service
    social: {kind: api, base_url: https://..., token_env: SOCIAL_TOKEN}  # or {kind: simulated}
    imports:                                         # c360 import-transactions writes these
      transactions: {path: /data/tx.csv, customer_id: Customer, ordered_at: Date, amount: Total}

Every key is optional: a workspace may run on one imported file alone.
Secrets are never written here, only the names of the variables holding them.
"""
from __future__ import annotations

import contextlib
import os
from datetime import date
from pathlib import Path
from typing import Iterator

import yaml

from c360 import untrusted
from c360.config import SHOP_DB, Workspace
from c360.imports import TransactionsImport
from c360.warehouse import Warehouse

FILE_CHANNELS = ("pos", "app", "campaigns", "service")  # exports dropped in a landing folder
CHANNELS = ("shop", "social", *FILE_CHANNELS)

# channel -> real-system kind -> {setting: check}; every channel may also be {kind: simulated}
SETTINGS = {
    "shop": {"postgres": {"dsn_env": untrusted.env_var_name}},
    "social": {"api": {"base_url": untrusted.http_url, "token_env": untrusted.env_var_name}},
    **{channel: {"files": {"landing": untrusted.absolute_path}} for channel in FILE_CHANNELS},
}


class SourceConfigError(ValueError):
    pass


def load_sources(workspace: Workspace) -> dict:
    """The workspace's sources, every setting checked; raises naming the file, channel and setting."""
    path = workspace.sources_file
    if not path.exists():
        raise SourceConfigError(f"no sources configured in {path}: run `c360 simulate` or write the file")
    return _check_document(path, _read_document(path))


def register_import(workspace: Workspace, spec: TransactionsImport) -> dict:
    """Add (or replace) an imported file in the workspace's sources; returns the sources.
    The file is only rewritten once the whole new document checks out."""
    path = workspace.sources_file
    document = _read_document(path) if path.exists() else {}
    imports = document.get("imports") or {}
    if not isinstance(imports, dict):
        raise SourceConfigError(f"{path}: imports must map a source name to its file settings")
    document["imports"] = imports | {spec.source: spec.to_settings()}
    checked = _check_document(path, document)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(yaml.safe_dump(document, sort_keys=False))
    tmp.replace(path)
    return checked


def _read_document(path: Path) -> dict:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise SourceConfigError(f"{path} is not valid YAML: {err}") from None
    if not isinstance(document, dict):
        raise SourceConfigError(f"{path}: expected a mapping of channel -> settings")
    return document


def _check_document(path: Path, sources: dict) -> dict:
    unknown = set(map(str, sources)) - set(CHANNELS) - {"imports"}
    if unknown:
        raise SourceConfigError(f"unknown channel(s) in {path}: {', '.join(sorted(unknown))}")
    checked = {channel: _checked(path, channel, cfg) for channel, cfg in sources.items() if channel != "imports"}
    imports = sources.get("imports") or {}
    if not isinstance(imports, dict):
        raise SourceConfigError(f"{path}: imports must map a source name to its file settings")
    try:
        checked["imports"] = {str(name): TransactionsImport.from_settings(name, cfg) for name, cfg in imports.items()}
    except ValueError as err:
        raise SourceConfigError(f"{path}: {err}") from None
    return checked


def _checked(path: Path, channel: str, cfg: object) -> dict:
    kinds = SETTINGS[channel]
    kind = cfg.get("kind") if isinstance(cfg, dict) else None
    if kind == "simulated" and set(cfg) == {"kind"}:
        return dict(cfg)
    if kind not in kinds:
        keys = sorted(map(str, cfg)) if isinstance(cfg, dict) else type(cfg).__name__
        raise SourceConfigError(f"{path}: {channel} needs kind: simulated or kind: {' | '.join(kinds)}"
                                f" (got kind {kind!r}, settings {keys})")
    checks = kinds[kind]
    given = set(cfg) - {"kind"}
    if given != set(checks):
        raise SourceConfigError(f"{path}: {channel} (kind {kind}) takes exactly {sorted(checks)}, got {sorted(given)}")
    try:
        return {"kind": kind} | {key: check(cfg[key], f"{channel}.{key}") for key, check in checks.items()}
    except untrusted.UnsafeValue as err:
        raise SourceConfigError(f"{path}: {err}") from None


def write_simulated_sources(workspace: Workspace) -> None:
    workspace.sources_file.write_text(yaml.safe_dump({c: {"kind": "simulated"} for c in CHANNELS}))


def is_simulated(workspace: Workspace) -> bool:
    sources = load_sources(workspace)
    return any(sources[c]["kind"] == "simulated" for c in CHANNELS if c in sources)


def _secret(cfg: dict, key: str, channel: str) -> str:
    name = cfg.get(key)
    if not name or not os.environ.get(name):
        raise SourceConfigError(f"{channel}: set the environment variable named by {key!r} ({name or 'unset'})")
    return os.environ[name]


def shop_dsn(workspace: Workspace, warehouse: Warehouse) -> str:
    cfg = load_sources(workspace)["shop"]
    if cfg["kind"] == "simulated":
        # the simulated shop lives on the warehouse server, owned by its admin
        return os.environ.get("C360_SHOP_DSN") or warehouse.database(SHOP_DB).uri(with_password=True)
    return _secret(cfg, "dsn_env", "shop")


def file_landing(workspace: Workspace, channel: str) -> Path:
    cfg = load_sources(workspace)[channel]
    return workspace.landing / channel if cfg["kind"] == "simulated" else cfg["landing"]


@contextlib.contextmanager
def social_api(workspace: Workspace) -> Iterator[tuple[str, str]]:
    """(base URL, token) of the social API; the simulated one is served on localhost meanwhile."""
    cfg = load_sources(workspace)["social"]
    if cfg["kind"] != "simulated":
        yield cfg["base_url"], _secret(cfg, "token_env", "social")
        return
    from c360.simulator import serve_social_api

    token = simulated_social_token(workspace)
    with serve_social_api(workspace.simulator, token) as base_url:
        yield base_url, token


def simulated_social_token(workspace: Workspace) -> str:
    """The simulated platform's access token: random per workspace, kept beside its data."""
    import secrets

    path = workspace.simulator / "social_token"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def advance_simulation(workspace: Workspace, warehouse: Warehouse, through: date):
    """Let simulated channels live through the as-of day, so there is new data to extract."""
    from c360.simulator import advance_world

    return advance_world(workspace.simulator, shop_dsn(workspace, warehouse), workspace.landing, through,
                         audiences=workspace.exports)
