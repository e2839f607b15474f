"""Find secrets in text: well-known credential formats, passwords inside URIs,
secret-named settings with a literal value, and any of a list of known values."""
from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

CREDENTIAL_FORMATS = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
}
URI_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:(?P<value>[^@\s'\"/]+)@")
# KEY=value or key: value where the key names a secret (config files, not code);
# a key ending in _FILE, _PATH, _ENV or _DIR names where a secret is, not the secret
SECRET_SETTING = re.compile(
    r"(?im)^\s*(?:export\s+)?(?![\w.-]*(?:_file|_path|_env|_dir)\s*[:=])"
    r"[\w.-]*(?:password|passwd|secret|token|api_key|apikey|fernet_key)[\w.-]*"
    r"\s*[:=]\s*['\"]?(?P<value>[^'\"\s#]+)"
)
CONFIG_SUFFIXES = {".env", ".example", ".yml", ".yaml", ".toml", ".ini", ".cfg", ".json", ".sh", ".conf"}


def is_placeholder(value: str) -> bool:
    """An interpolation (${X}, {{ env_var(..) }}), an obvious stand-in, or base64 of one."""
    if re.match(r"^(\$\{|\$\$\{|\{\{|<|change-me)", value, re.I):
        return True
    try:
        return b"placeholder" in base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False


def find_secrets(text: str, *, config: bool = False, known: tuple[str, ...] = ()) -> list[str]:
    """What looks like a secret in ``text``; ``config``: also secret-named settings."""
    found = [f"{kind}: {m.group(0)[:12]}..." for kind, rx in CREDENTIAL_FORMATS.items() for m in rx.finditer(text)]
    patterns = [URI_PASSWORD] + ([SECRET_SETTING] if config else [])
    for rx in patterns:
        found += [f"literal secret in {m.group(0)[:40]!r}" for m in rx.finditer(text) if not is_placeholder(m.group("value"))]
    found += [f"known secret {value[:3]}..." for value in known if value and value in text]
    return found


def is_config_file(path: Path) -> bool:
    return path.suffix in CONFIG_SUFFIXES or path.name.startswith((".env", "Dockerfile")) or "Dockerfile" in path.name
