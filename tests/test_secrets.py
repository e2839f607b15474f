"""No secret is committed; the scanner itself finds what it must.
(The scan of a full run's logs is in test_end_to_end.)"""
import subprocess
from pathlib import Path

import pytest
import yaml

from c360.config import PROJECT_ROOT
from secret_scan import find_secrets, is_config_file


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    return [PROJECT_ROOT / name for name in listed.stdout.decode().split("\0") if name]


def test_no_secret_in_the_repository():
    findings = []
    for path in tracked_files():
        text = path.read_text(errors="replace")
        findings += [f"{path.relative_to(PROJECT_ROOT)}: {f}" for f in find_secrets(text, config=is_config_file(path))]
    assert findings == []


def test_no_env_file_or_log_is_tracked():
    names = [p.relative_to(PROJECT_ROOT).as_posix() for p in tracked_files()]
    assert [n for n in names if Path(n).name == ".env" or n.endswith(".log")] == []
    for ignore_file in (".gitignore", ".dockerignore"):
        assert ".env" in (PROJECT_ROOT / ignore_file).read_text().split()


# assembled at run time, so this file holds no secret-shaped literal for the repository scan to find
PLANTED = [
    ("-----BEGIN RSA " + "PRIVATE KEY-----\nMIIE...", False),
    ("dsn = 'postgresql://c360:" + "hunter2@db.internal:5432/c360'", False),
    ("AWS_KEY = 'AKIA" + "IOSFODNN7EXAMPLE'", False),
    ("POSTGRES_PASSWORD" + "=hunter2", True),
    ("  api_token" + ": 'abc123def'", True),
]


@pytest.mark.parametrize("text, config", PLANTED)
def test_the_scanner_finds_planted_secrets(text, config):
    assert find_secrets(text, config=config)


@pytest.mark.parametrize("text", [
    "POSTGRES_PASSWORD=change-me-postgres",
    "C360_WAREHOUSE_DSN: postgresql://${POSTGRES_USER}:${POSTGRES_PASSWORD}@postgres:5432/c360",
    "password: \"{{ env_var('C360_PG_PASSWORD', '') }}\"",
    "AIRFLOW_FERNET_KEY=YzM2MC1kZXYtb25seS1mZXJuZXQtcGxhY2Vob2xkZXI=",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE: /opt/airflow/auth/passwords.json",
    "social: {kind: api, token_env: SOCIAL_TOKEN}",
])
def test_the_scanner_accepts_placeholders_and_interpolations(text):
    assert find_secrets(text, config=True) == []


def test_compose_takes_every_c360_password_from_the_env_file():
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    example = (PROJECT_ROOT / ".env.example").read_text()
    env = compose["x-airflow-common"]["environment"]
    from c360.access import ROLES

    for role in ROLES:
        assert env[role.password_env] == f"${{{role.password_env}:?set {role.password_env} in .env}}"
        assert f"\n{role.password_env}=change-me" in example


def test_the_scanner_finds_a_known_value_anywhere():
    assert find_secrets("connected as c360_bi with s3cr3t-Value in a log line", known=("s3cr3t-Value",))
    assert find_secrets("nothing to see", known=("s3cr3t-Value",)) == []
