"""Audience definitions: validated YAML turned into parameterised SQL.

Only the fields and operators listed here can be used, and values are always
bound as query parameters, so a definition can never inject SQL. The same file
holds the contact rules every audience obeys (``c360.activation.rules``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from c360 import untrusted
from c360.activation.rules import ContactRules
from c360.config import Workspace

DEFAULT_FILE = Path(__file__).with_name("audiences.yml")

# field -> (SQL expression over the audience base query, kind)
FIELDS = {
    "lifecycle_stage": ("lifecycle.lifecycle_stage", "text"),
    "rfm_segment": ("rfm.rfm_segment", "text"),
    "value_tier": ("rfm.value_tier", "text"),
    "r_score": ("rfm.r_score", "number"),
    "f_score": ("rfm.f_score", "number"),
    "m_score": ("rfm.m_score", "number"),
    "erfm_score": ("rfm.erfm_score", "number"),
    "orders_count": ("customers.orders_count", "number"),
    "net_revenue": ("customers.net_revenue", "number"),
    "purchase_score": ("scores.score", "number"),
    "purchase_decile": ("scores.score_decile", "number"),
    "is_member": ("customers.is_member", "boolean"),
    "is_social_follower": ("customers.is_social_follower", "boolean"),
}
OPERATORS = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "in"}
FILE_FORMATS = ("csv", "jsonl")
# destination type -> settings it may have (a webhook's token is named by an
# environment variable, never written in the file)
DESTINATION_KEYS = {"file": {"type", "format", "batch_size"},
                    "webhook": {"type", "url", "token_env", "batch_size", "max_attempts"}}
DEFAULT_DESTINATION = {"type": "file", "format": "csv"}


class AudienceError(ValueError):
    pass


@dataclass(frozen=True)
class Audience:
    name: str
    description: str
    conditions: tuple[tuple[str, str, object], ...]
    holdout_percent: float = 10.0
    destination: dict = field(default_factory=lambda: dict(DEFAULT_DESTINATION))

    def where_sql(self) -> tuple[str, dict]:
        """The conditions as SQL with named placeholders, and the values to bind to them."""
        clauses, params = [], {}

        def bind(value) -> str:
            name = f"where_{len(params)}"
            params[name] = value
            return f"%({name})s"

        for field_name, op, value in self.conditions:
            expression = FIELDS[field_name][0]
            if op == "in":
                clauses.append(f"{expression} in ({', '.join(bind(v) for v in value)})")
            else:
                clauses.append(f"{expression} {OPERATORS[op]} {bind(value)}")
        return " and ".join(clauses) or "true", params


@dataclass(frozen=True)
class Definitions:
    audiences: list[Audience]
    contact_rules: ContactRules


def _check_value(name: str, field_name: str, op: str, value) -> None:
    kind = FIELDS[field_name][1]
    values = value if op == "in" else [value]
    if op == "in" and (not isinstance(value, list) or not value):
        raise AudienceError(f"{name}: {field_name} {op} needs a non-empty list")
    expected = {"text": str, "number": (int, float), "boolean": bool}[kind]
    for v in values:
        if isinstance(v, bool) and kind != "boolean" or not isinstance(v, expected):
            raise AudienceError(f"{name}: {field_name} compares with {kind} values, got {v!r}")


def parse_audience(spec: dict) -> Audience:
    if not isinstance(spec, dict):
        raise AudienceError(f"an audience is a mapping with name, where, ...; got {spec!r}")
    name = untrusted.name(spec.get("name"), "audience name")  # it names files and snapshot rows
    unknown = set(spec) - {"name", "description", "where", "holdout_percent", "destination"}
    if unknown:
        raise AudienceError(f"{name}: unknown key(s) {sorted(unknown)}")
    conditions = []
    for field_name, tests in (spec.get("where") or {}).items():
        if field_name not in FIELDS:
            raise AudienceError(f"{name}: unknown field {field_name!r}; use one of {sorted(FIELDS)}")
        if not isinstance(tests, dict) or not tests:
            raise AudienceError(f"{name}: {field_name} needs conditions like {{gte: 8}}")
        for op, value in tests.items():
            if op not in OPERATORS:
                raise AudienceError(f"{name}: unknown operator {op!r}; use one of {sorted(OPERATORS)}")
            _check_value(name, field_name, op, value)
            conditions.append((field_name, op, value))
    holdout = spec.get("holdout_percent", 10)
    if not isinstance(holdout, (int, float)) or isinstance(holdout, bool) or not 0 <= holdout < 100:
        raise AudienceError(f"{name}: holdout_percent must be a number from 0 to below 100")
    destination = _parse_destination(name, spec.get("destination") or DEFAULT_DESTINATION)
    return Audience(name, str(spec.get("description", "")), tuple(conditions), float(holdout), destination)


def _parse_destination(name: str, destination) -> dict:
    allowed = DESTINATION_KEYS.get(destination.get("type")) if isinstance(destination, dict) else None
    if allowed is None or set(destination) - allowed:
        raise AudienceError(f"{name}: unsupported destination {destination!r}")
    for key in ("batch_size", "max_attempts"):
        value = destination.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise AudienceError(f"{name}: destination {key} must be a whole number of at least 1")
    if destination["type"] == "file" and destination.get("format", "csv") not in FILE_FORMATS:
        raise AudienceError(f"{name}: unsupported destination {destination!r}")
    if destination["type"] == "webhook":
        url = destination.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise AudienceError(f"{name}: a webhook destination needs an http(s) url")
        token_env = destination.get("token_env")
        if token_env is not None and not (isinstance(token_env, str) and token_env.isidentifier()):
            raise AudienceError(f"{name}: token_env names an environment variable, got {token_env!r}")
    return dict(destination)


def load_definitions(workspace: Workspace | None = None) -> Definitions:
    """The workspace's audiences.yml, else the shipped one: audiences and contact rules."""
    workspace = workspace or Workspace.from_env()
    path = workspace.home / "audiences.yml"
    path = path if path.exists() else DEFAULT_FILE
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:  # including tags that would build Python objects
        raise AudienceError(f"{path} is not plain YAML: {err}") from None
    specs = document.get("audiences") if isinstance(document, dict) else None
    if not isinstance(specs, list) or set(document) - {"audiences", "contact_rules"}:
        raise AudienceError(f"{path}: expected `audiences:` with a list of audiences, and optionally `contact_rules:`")
    audiences = [parse_audience(spec) for spec in specs]
    names = [a.name for a in audiences]
    if len(names) != len(set(names)):
        raise AudienceError(f"{path}: audience names must be unique")
    return Definitions(audiences, ContactRules.parse(document.get("contact_rules")))
