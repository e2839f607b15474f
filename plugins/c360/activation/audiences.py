"""Audience definitions: validated YAML turned into parameterised SQL.

Only the fields and operators listed here can be used, and values are always
bound as query parameters, so a definition can never inject SQL.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from c360 import untrusted
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
DESTINATION_TYPES = {"file": {"csv", "jsonl"}}


class AudienceError(ValueError):
    pass


@dataclass(frozen=True)
class Audience:
    name: str
    description: str
    conditions: tuple[tuple[str, str, object], ...]
    holdout_percent: float = 10.0
    destination: dict = field(default_factory=lambda: {"type": "file", "format": "csv"})

    def where_sql(self) -> tuple[str, list]:
        clauses, params = [], []
        for field_name, op, value in self.conditions:
            expression = FIELDS[field_name][0]
            if op == "in":
                clauses.append(f"{expression} in ({', '.join(['%s'] * len(value))})")
                params += list(value)
            else:
                clauses.append(f"{expression} {OPERATORS[op]} %s")
                params.append(value)
        return " and ".join(clauses) or "true", params


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
    destination = spec.get("destination") or {"type": "file", "format": "csv"}
    formats = DESTINATION_TYPES.get(destination.get("type")) if isinstance(destination, dict) else None
    if formats is None or set(destination) - {"type", "format"} or destination.get("format", "csv") not in formats:
        raise AudienceError(f"{name}: unsupported destination {destination!r}")
    return Audience(name, str(spec.get("description", "")), tuple(conditions), float(holdout), destination)


def load_audiences(workspace: Workspace | None = None) -> list[Audience]:
    workspace = workspace or Workspace.from_env()
    path = workspace.home / "audiences.yml"
    path = path if path.exists() else DEFAULT_FILE
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:  # including tags that would build Python objects
        raise AudienceError(f"{path} is not plain YAML: {err}") from None
    specs = document.get("audiences") if isinstance(document, dict) else None
    if not isinstance(specs, list):
        raise AudienceError(f"{path}: expected `audiences:` with a list of audiences")
    audiences = [parse_audience(spec) for spec in specs]
    names = [a.name for a in audiences]
    if len(names) != len(set(names)):
        raise AudienceError(f"{path}: audience names must be unique")
    return audiences
