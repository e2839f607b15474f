"""Checks for values a user writes (config files, command-line arguments)
before they reach SQL, the file system or the network.

Every check either returns the value in a safe form or raises ``UnsafeValue``
naming the setting, the value and what is allowed. Values that are data (an
audience's comparison value, a column's contents) are not checked here: they
are only ever bound as query parameters.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit


class UnsafeValue(ValueError):
    pass


NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
ENV_VAR = re.compile(r"[A-Z][A-Z0-9_]{0,127}")
# c360's, Airflow's and PostgreSQL's own secrets: a source setting must not send them elsewhere
RESERVED_ENV_PREFIXES = ("C360_", "AIRFLOW", "POSTGRES", "PG")


def name(value: object, what: str) -> str:
    """A name that becomes part of SQL identifiers or file names."""
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise UnsafeValue(f"{what} {value!r}: use lower-case letters, digits and _ (a letter first, at most 63)")
    return value


def env_var_name(value: object, what: str) -> str:
    """The name (never the value) of an environment variable holding a source's secret.
    Messages never repeat the value: it may be a secret written in the wrong place."""
    if not isinstance(value, str) or not ENV_VAR.fullmatch(value):
        raise UnsafeValue(f"{what}: name an environment variable (A-Z, 0-9, _; a letter first)")
    if value.startswith(RESERVED_ENV_PREFIXES):
        raise UnsafeValue(f"{what}: {value} holds a secret of c360, Airflow or PostgreSQL itself;"
                          f" give the source a variable of its own")
    return value


def http_url(value: object, what: str) -> str:
    """An https base URL (http only on this machine) with a host and no embedded credentials.
    Messages never repeat the value: it may carry a token."""
    if not isinstance(value, str) or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise UnsafeValue(f"{what}: must be a URL without spaces or control characters")
    parts = urlsplit(value)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if not parts.hostname or not (parts.scheme == "https" or parts.scheme == "http" and local):
        raise UnsafeValue(f"{what}: must be an https:// URL with a host (http:// only for localhost)")
    if parts.username or parts.password:
        raise UnsafeValue(f"{what}: must not carry credentials; put the token in the variable named by token_env")
    if parts.query or parts.fragment:
        raise UnsafeValue(f"{what}: give the base URL only (no ?query or #fragment)")
    return value.rstrip("/")


def absolute_path(value: object, what: str) -> Path:
    """An absolute path (of a file or a folder), spelled without '..' (so it says where it really points)."""
    if not isinstance(value, str) or not value or "\x00" in value:
        raise UnsafeValue(f"{what} {value!r}: must be an absolute path")
    path = Path(value)
    if not path.is_absolute() or ".." in path.parts:
        raise UnsafeValue(f"{what} {value!r}: must be an absolute path without '..'")
    return path


def inside(path: Path, root: Path, what: str) -> Path:
    """``path`` itself, if it (after following links) lies inside ``root``."""
    resolved, resolved_root = path.resolve(), root.resolve()
    if not resolved.is_relative_to(resolved_root):
        raise UnsafeValue(f"{what} {path} leads outside {root} (to {resolved}); refusing to read it")
    return path
