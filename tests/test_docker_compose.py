"""Static checks of the team stack: docker-compose.yml, docker/airflow.Dockerfile, .env.example.

There is no Docker engine in CI, so these read the files the way Compose and
Docker would and check what `cp .env.example .env && docker compose up` relies
on: the services and their images, the Airflow 3 commands, the CeleryExecutor
wiring, start-up order, mounts matching the paths c360 computes, and that every
credential comes from the env file. yaml.safe_load resolves the `<<:` merge
keys, so each service is checked as Compose sees it after the anchors merge.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

import c360.config as c360_config
from c360.config import PROJECT_ROOT, SHOP_DB, WAREHOUSE_DB

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "docker" / "airflow.Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"

# Airflow 3: the api-server replaces the webserver; DAG parsing is its own process.
AIRFLOW_COMMANDS = {
    "airflow-api-server": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
AIRFLOW_LONG_RUNNING = sorted(AIRFLOW_COMMANDS)
AIRFLOW_SERVICES = sorted([*AIRFLOW_COMMANDS, "airflow-init"])
REQUIRED_SERVICES = {"postgres", "redis", *AIRFLOW_SERVICES}

# Environment keys that hold a credential (REDISCLI_AUTH is one; …_PASSWORDS_FILE is a path, not one).
CREDENTIAL_KEY = re.compile(r"(PASSWORD|SECRET|SECRET_KEY|FERNET_KEY|TOKEN|AUTH)$")
# A value that is exactly one interpolation without a default: ${VAR} or ${VAR:?message}.
PURE_INTERPOLATION = re.compile(r"^\$\{(?P<var>[A-Za-z_][A-Za-z0-9_]*)(:?\?[^}]*)?\}$")
# user:password@ in a URI; the password part is checked separately.
URI_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:(?P<password>[^@\s/]*)@")
# ${VAR}, ${VAR:-x}, ${VAR:?x}, $VAR — Compose interpolation ($$ is an escaped $).
INTERPOLATION = re.compile(r"\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)")


# --- loading -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text()


@pytest.fixture(scope="module")
def compose(compose_text) -> dict:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """Dockerfile instructions, one string each (continuation lines joined, comments dropped)."""
    lines, current = [], ""
    in_heredoc = None
    for raw in DOCKERFILE.read_text().splitlines():
        if in_heredoc:
            current += "\n" + raw
            if raw.strip() == in_heredoc:
                lines.append(current)
                current, in_heredoc = "", None
            continue
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        current = f"{current} {stripped}" if current else stripped
        heredoc = re.search(r"<<-?'?\"?(\w+)'?\"?\s*$", stripped)
        if heredoc:
            in_heredoc = heredoc.group(1)
            continue
        if current.endswith("\\"):
            current = current[:-1].rstrip()
            continue
        lines.append(current)
        current = ""
    return lines


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return dict(_env_assignments(ENV_EXAMPLE.read_text().splitlines()))


def _env_assignments(lines):
    for line in lines:
        match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line.strip())
        if match:
            yield match.group(1), match.group(2)


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the KEY=value list form
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def _healthcheck(service: dict) -> str:
    test = (service.get("healthcheck") or {}).get("test", "")
    return " ".join(test) if isinstance(test, list) else str(test)


def _mounts(service: dict) -> dict[str, str]:
    """container path -> source (a ./host path or a named volume)."""
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            mounts[volume["target"]] = volume["source"]
        else:
            source, target = volume.split(":")[:2]
            mounts[target] = source
    return mounts


def _strings(node):
    """Every string value in a parsed YAML tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _compose_variables(text: str) -> set[str]:
    unescaped = text.replace("$$", "")
    return {m.group("braced") or m.group("bare") for m in INTERPOLATION.finditer(unescaped)}


# --- services and images -------------------------------------------------------------------------

def test_required_services_exist(services):
    missing = REQUIRED_SERVICES - set(services)
    assert not missing, f"docker-compose.yml lacks services: {sorted(missing)}"


def test_postgres_image_is_pinned_to_major_16(services):
    assert re.fullmatch(r"postgres:16(\.\d+)*(-[a-z0-9.]+)?", services["postgres"]["image"])


def test_redis_image_is_pinned_to_major_7(services):
    assert re.fullmatch(r"redis:7(\.\d+)*(-[a-z0-9.]+)?", services["redis"]["image"])


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_services_build_from_project_dockerfile(services, name):
    build = services[name].get("build")
    assert isinstance(build, dict), f"{name} has no build section"
    assert (ROOT / build.get("context", ".") / build["dockerfile"]).resolve() == DOCKERFILE.resolve()


def test_dockerfile_base_is_airflow_3_3_for_python_3_11(dockerfile):
    froms = [line for line in dockerfile if line.upper().startswith("FROM ")]
    assert len(froms) == 1, froms
    assert re.fullmatch(r"FROM apache/airflow:3\.3\.\d+-python3\.11", froms[0]), froms[0]


def test_dockerfile_airflow_matches_pyproject(dockerfile):
    """The image's Airflow must satisfy the project's `apache-airflow==X.Y.*` pin."""
    pins = [d for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
            if re.match(r"apache-airflow\s*==", d)]
    assert pins, "pyproject.toml does not pin apache-airflow"
    wanted = re.search(r"==\s*([\d.]+?)(\.\*)?$", pins[0]).group(1)
    tag = re.search(r"apache/airflow:([\d.]+)", next(line for line in dockerfile if line.startswith("FROM"))).group(1)
    assert tag == wanted or tag.startswith(wanted + "."), f"image Airflow {tag} vs pyproject {pins[0]}"


def test_airflow_services_share_the_common_anchor(compose, services):
    """Everything in x-airflow-common reaches every Airflow service (merged, maybe extended)."""
    common = compose["x-airflow-common"]
    for name in AIRFLOW_SERVICES:
        service = services[name]
        for key, value in common.items():
            if isinstance(value, dict):
                assert value.items() <= service[key].items(), f"{name}.{key} drops x-airflow-common entries"
            else:
                assert service[key] == value, f"{name}.{key} differs from x-airflow-common"


# --- commands ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,command", sorted(AIRFLOW_COMMANDS.items()))
def test_airflow_service_runs_its_command(services, name, command):
    assert _command(services[name]) == command


def test_api_server_publishes_port_8080(services):
    ports = [str(p) for p in services["airflow-api-server"].get("ports", [])]
    assert any(p.endswith(":8080") for p in ports), ports


def test_init_migrates_the_metadata_database(services):
    assert "airflow db migrate" in _command(services["airflow-init"])


def test_init_writes_the_simple_auth_manager_password_file(services):
    """Airflow 3's simple auth manager reads passwords from a JSON file; init must write it."""
    init = services["airflow-init"]
    env = _env(init)
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("simple_auth_manager.SimpleAuthManager")
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].endswith(":admin")
    password_file = PurePosixPath(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    command = _command(init)
    assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in command
    assert "AIRFLOW_ADMIN_PASSWORD" in command
    # the file sits on a volume the api-server shares, or the api-server never sees it
    for name in ("airflow-init", "airflow-api-server"):
        assert any(password_file.is_relative_to(target) for target, source in _mounts(services[name]).items()
                   if not source.startswith(".")), f"{password_file} is not on a named volume in {name}"


def test_init_creates_warehouse_and_shop_databases(services):
    command = _command(services["airflow-init"])
    assert "ensure_database" in command
    assert "C360_WAREHOUSE_DSN" in command and "C360_SHOP_DSN" in command
    assert "bootstrap()" in command


def test_admin_password_reaches_only_airflow_init(services):
    holders = {name for name, service in services.items() if "AIRFLOW_ADMIN_PASSWORD" in _env(service)}
    assert holders == {"airflow-init"}


# --- executor ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_executor_is_celery_with_redis_broker(services, name):
    env = _env(services[name])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis" and broker.hostname == "redis"
    backend = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"])
    assert backend.scheme == "db+postgresql" and backend.hostname == "postgres"


def test_execution_api_url_points_at_the_api_server(services):
    url = urlsplit(_env(services["airflow-worker"])["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert url.hostname == "airflow-api-server" and url.hostname in services
    assert url.port == 8080 and url.path.rstrip("/") == "/execution"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_components_share_jwt_and_api_secrets(compose, services, name):
    """Tokens and log requests signed by one component must verify on the others."""
    common = compose["x-airflow-common"]["environment"]
    env = _env(services[name])
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY"):
        assert key in common and env[key] == common[key], key


def test_examples_off_and_dag_pause_default_set(services):
    env = _env(services["airflow-scheduler"])
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION" in env


# --- start-up order and health -------------------------------------------------------------------

@pytest.mark.parametrize("name", AIRFLOW_LONG_RUNNING)
def test_airflow_service_waits_for_healthy_stores_and_finished_init(services, name):
    depends = services[name].get("depends_on") or {}
    assert isinstance(depends, dict), f"{name}: depends_on needs conditions, not a list"
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["airflow-init"]["condition"] == "service_completed_successfully"


def test_init_waits_for_healthy_postgres_and_redis(services):
    depends = services["airflow-init"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert "airflow-init" not in depends


def test_postgres_healthcheck_uses_pg_isready(services):
    assert "pg_isready" in _healthcheck(services["postgres"])


def test_redis_healthcheck_pings(services):
    check = _healthcheck(services["redis"])
    assert "redis-cli" in check and "ping" in check


def test_services_awaited_as_healthy_define_a_healthcheck(services):
    for name, service in services.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            if isinstance(spec, dict) and spec.get("condition") == "service_healthy":
                assert _healthcheck(services[dependency]), f"{name} waits on {dependency}, which has no healthcheck"


def test_worker_is_scalable(services):
    worker = services["airflow-worker"]
    assert "container_name" not in worker
    assert not worker.get("ports"), "a fixed host port would collide between worker replicas"


# --- mounts and paths ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_dags_and_plugins_mounted_where_airflow_looks(services, name):
    service = services[name]
    env, mounts = _env(service), _mounts(service)
    assert mounts[env["AIRFLOW__CORE__DAGS_FOLDER"]] == "./dags"
    assert mounts[env["AIRFLOW__CORE__PLUGINS_FOLDER"]] == "./plugins"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_project_folders_mounted_under_the_project_root_c360_computes(services, name):
    """c360.config.PROJECT_ROOT is the parent of the folder the c360 package is imported from
    (plugins/), and c360 finds dbt_project/ there: in the containers, where PYTHONPATH imports c360
    from the mounted plugins/, the other project folders must sit beside that mount."""
    package_folder = Path(c360_config.__file__).resolve().parents[1]
    assert PROJECT_ROOT == package_folder.parent and package_folder.name == "plugins"
    service = services[name]
    env, mounts = _env(service), _mounts(service)
    project_root = PurePosixPath(env["AIRFLOW__CORE__PLUGINS_FOLDER"]).parent
    for folder in ("dbt_project", "expectations", "ml"):
        assert mounts.get(str(project_root / folder)) == f"./{folder}", f"{folder} not at {project_root / folder}"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_pythonpath_puts_mounted_source_before_the_image_copy(services, name):
    env = _env(services[name])
    path = env["PYTHONPATH"].split(":")
    assert path[0] == env["AIRFLOW__CORE__PLUGINS_FOLDER"], "mounted c360 must shadow the installed one"
    project_root = str(PurePosixPath(env["AIRFLOW__CORE__PLUGINS_FOLDER"]).parent)
    assert project_root in path, "ml and expectations are imported from the project root"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_workspace_is_a_named_volume_at_c360_home(compose, services, name):
    service = services[name]
    source = _mounts(service).get(_env(service)["C360_HOME"])
    assert source and not source.startswith((".", "/")), "C360_HOME must be a named volume"
    assert source in (compose.get("volumes") or {})


def test_postgres_data_is_a_named_volume(compose, services):
    source = _mounts(services["postgres"])["/var/lib/postgresql/data"]
    assert source in (compose.get("volumes") or {})


# --- databases -----------------------------------------------------------------------------------

def test_metadata_database_is_the_one_postgres_creates(services):
    conn = urlsplit(_env(services["airflow-scheduler"])["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert conn.scheme == "postgresql+psycopg2" and conn.hostname == "postgres"
    assert conn.path.lstrip("/") == _env(services["postgres"])["POSTGRES_DB"] == "airflow"


@pytest.mark.parametrize("key,database", [("C360_WAREHOUSE_DSN", WAREHOUSE_DB), ("C360_SHOP_DSN", SHOP_DB)])
def test_c360_dsns_point_at_their_databases_on_postgres(services, key, database):
    dsn = urlsplit(_env(services["airflow-worker"])[key])
    assert dsn.scheme == "postgresql" and dsn.hostname == "postgres"
    assert dsn.path.lstrip("/") == database


# --- credentials ---------------------------------------------------------------------------------

def test_credentials_in_environments_are_interpolated(compose, services):
    blocks = {"x-airflow-common": compose["x-airflow-common"], **services}
    for name, block in blocks.items():
        for key, value in _env(block).items():
            if CREDENTIAL_KEY.search(key):
                assert PURE_INTERPOLATION.match(value), f"{name}: {key} must be ${{VAR}} from .env, not a literal"


def test_uri_passwords_are_interpolated(compose):
    found = 0
    for text in _strings(compose):
        for match in URI_PASSWORD.finditer(text):
            found += 1
            assert PURE_INTERPOLATION.match(match.group("password")), f"literal password in {text!r}"
    assert found, "expected connection URIs with ${...} passwords"


def test_credentials_are_required_not_defaulted(compose_text):
    """A missing secret stops Compose (${VAR:?…}); a default would be a literal secret in the file."""
    for var in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_FERNET_KEY",
                "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY"):
        assert re.search(r"\$\{" + var + r":\?", compose_text), f"{var} is never required with ${{{var}:?…}}"
        assert not re.search(r"\$\{" + var + r":?-", compose_text), f"{var} has a default value"


def test_every_compose_variable_is_in_env_example(compose_text, env_example):
    missing = _compose_variables(compose_text) - set(env_example)
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_every_env_example_variable_is_used(compose_text, env_example):
    unused = set(env_example) - _compose_variables(compose_text)
    assert not unused, f".env.example sets variables docker-compose.yml never reads: {sorted(unused)}"


def test_env_example_explains_every_variable():
    lines = ENV_EXAMPLE.read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", line):
            assert number and lines[number - 1].startswith("#"), f"no comment above {line.split('=')[0]}"


def test_env_example_placeholders_say_change_me(env_example):
    for key, value in env_example.items():
        if CREDENTIAL_KEY.search(key) and key != "AIRFLOW_FERNET_KEY":
            assert "change-me" in value, f"{key} should be an obvious placeholder"


def test_real_env_file_is_git_ignored():
    ignored = {line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()}
    assert ".env" in ignored


# --- Dockerfile ----------------------------------------------------------------------------------

def test_dockerfile_copies_and_installs_the_project(dockerfile):
    copied = " ".join(line for line in dockerfile if line.startswith("COPY"))
    for item in ("pyproject.toml", "README.md", "plugins/", "ml/", "expectations/"):
        assert re.search(rf"(^|\s){re.escape(item)}", copied), f"{item} is not copied"
    installs = [i for i, line in enumerate(dockerfile)
                if re.search(r"pip install\b.*--no-cache-dir.*\s/opt/c360(\s|$)", line)]
    assert installs, "no `pip install --no-cache-dir /opt/c360`"
    last_copy = max(i for i, line in enumerate(dockerfile) if line.startswith("COPY"))
    assert installs[0] > last_copy, "the project is installed before all of it is copied"


def test_dockerfile_copies_every_folder_pyproject_finds_packages_in(dockerfile):
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    copied = " ".join(line for line in dockerfile if line.startswith("COPY"))
    folders = [w for w in find["where"] if w != "."]
    folders += [pattern.rstrip("*") for pattern in find["include"] if (ROOT / pattern.rstrip("*")).is_dir()]
    assert folders, "pyproject.toml finds no packages"
    for folder in folders:
        top = PurePosixPath(folder).parts[0]
        assert re.search(rf"\s{re.escape(top)}/?\s+/opt/c360/", copied), f"{folder} is not copied into the image"


def test_dockerfile_keeps_the_images_airflow(dockerfile):
    """Resolving c360's dependencies must not replace the Airflow the base image ships."""
    assert any('"apache-airflow==${AIRFLOW_VERSION}"' in line for line in dockerfile if "pip install" in line)
