"""The deployment files: docker-compose.yml is valid and complete, the image keeps respondents' IP addresses and
user agents out of its access log, and .env.example documents every variable the settings read.

Plain file checks: no database, no Docker engine.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS = ROOT / "config" / "settings.py"

SERVICES = ("web", "worker", "beat", "db", "redis")
APP_SERVICES = ("web", "worker", "beat", "migrate")

# gunicorn access-log atoms (https://docs.gunicorn.org/en/stable/settings.html#access-log-format).
# Forbidden: the client address, the user agent, and anything that may carry either. The query string and the
# referrer are forbidden too: a resume link carries the respondent's resume code as `?code=...`.
FORBIDDEN_LOG_ATOMS = {
    "%(h)s": "remote address",
    "%(a)s": "user agent",
    "%({x-forwarded-for}i)s": "X-Forwarded-For header",
    "%({x-real-ip}i)s": "X-Real-IP header",
    "%({forwarded}i)s": "Forwarded header",
    "%({user-agent}i)s": "User-Agent header",
    "%({remote_addr}e)s": "REMOTE_ADDR",
    "%(r)s": "request line with query string",
    "%(q)s": "query string",
    "%(f)s": "referrer",
}
# Every atom the format may use: time, method, path, protocol, status, size, duration, process id.
ALLOWED_LOG_ATOMS = {"t", "m", "U", "H", "s", "B", "b", "M", "D", "T", "L", "p"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def environment_of(service: dict) -> dict[str, str]:
    """A service's environment as a mapping, whichever of the two compose forms it uses."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def dockerfile_cmd() -> list[str]:
    """The Dockerfile's final CMD, in exec (JSON) form, with line continuations joined."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    logical_lines = re.sub(r"\\\n", " ", text).splitlines()
    commands = [line.strip()[len("CMD") :].strip() for line in logical_lines if re.match(r"\s*CMD\s", line, re.I)]
    assert commands, "the Dockerfile has no CMD"
    command = json.loads(commands[-1])
    assert isinstance(command, list), "CMD must use the exec (JSON) form, so that gunicorn runs as PID 1"
    return command


def access_log_format() -> str:
    command = dockerfile_cmd()
    assert command[0] == "gunicorn", f"the image's default command is not gunicorn: {command}"
    assert "--access-logformat" in command, "gunicorn would use its default access-log format, which logs %(h)s"
    return command[command.index("--access-logformat") + 1]


def check_jsonschema() -> Path:
    tool = Path(sys.executable).parent / "check-jsonschema"
    if not tool.is_file():
        pytest.fail(f"check-jsonschema is not installed next to {sys.executable}; it comes with requirements.lock")
    return tool


def test_compose_file_validates_against_the_compose_spec() -> None:
    """docker-compose.yml is valid under the Compose Specification's JSON schema (check-jsonschema's copy)."""
    result = subprocess.run(
        [str(check_jsonschema()), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_validation_rejects_a_broken_file(tmp_path: Path) -> None:
    """The schema check is real: a compose file with a misspelt service key fails it."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  web:\n    imgae: stimmen:local\n", encoding="utf-8")
    result = subprocess.run(
        [str(check_jsonschema()), "--builtin-schema", "vendor.compose-spec", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0, result.stdout + result.stderr


def test_every_service_exists_with_a_health_check_and_restarts(compose: dict) -> None:
    """web, worker, beat, db and redis are defined, each with a health check and `restart: unless-stopped`."""
    services = compose["services"]
    for name in SERVICES:
        assert name in services, f"service {name!r} is missing"
        test = services[name].get("healthcheck", {}).get("test")
        assert test, f"service {name!r} has no health check"
        assert services[name].get("restart") == "unless-stopped", f"service {name!r} is not restarted"


def test_health_checks_use_tools_the_images_have(compose: dict) -> None:
    """db asks pg_isready, redis asks redis-cli ping, web fetches /healthz with Python (the slim image has no
    curl), and worker and beat answer `celery inspect ping` under their own node names."""
    services = compose["services"]

    def check(name: str) -> str:
        return " ".join(services[name]["healthcheck"]["test"])

    assert "pg_isready" in check("db")
    assert "redis-cli ping" in check("redis")
    assert "python" in check("web")
    assert "http://127.0.0.1:8000/healthz" in check("web")
    assert "curl" not in check("web")
    assert "inspect ping -d celery@$$HOSTNAME" in check("worker")
    assert "inspect ping -d celerybeat@$$HOSTNAME" in check("beat")
    assert "--enable-remote-control" in services["beat"]["command"], "beat only answers the ping with it"


def test_database_and_broker_images_and_volumes(compose: dict) -> None:
    """db runs postgres:16 and redis runs redis:7 with append-only persistence, each on a declared named volume."""
    services = compose["services"]
    assert services["db"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"} <= environment_of(services["db"]).keys()
    assert "--appendonly yes" in " ".join(services["redis"]["command"])
    declared = set(compose.get("volumes") or {})
    for name, target in (("db", "/var/lib/postgresql/data"), ("redis", "/data")):
        mounts = [volume.split(":") for volume in services[name].get("volumes", [])]
        volume = next((source for source, mount_target, *_ in mounts if mount_target == target), None)
        assert volume in declared, f"{name} keeps {target} on no declared named volume"


def test_app_services_get_database_and_broker(compose: dict) -> None:
    """web, worker, beat and migrate get DATABASE_URL (the db service) and REDIS_URL (the redis service), a
    required SECRET_KEY, and DEBUG off."""
    for name in APP_SERVICES:
        environment = environment_of(compose["services"][name])
        assert environment.get("DATABASE_URL", "").startswith("postgres://"), name
        assert "@db:5432/" in environment["DATABASE_URL"], name
        assert environment.get("REDIS_URL", "").startswith("redis://redis:6379/"), name
        assert environment.get("SECRET_KEY", "").startswith("${SECRET_KEY:?"), f"{name}: SECRET_KEY must be required"
        assert environment.get("DEBUG") == "0", name


def test_services_start_in_order(compose: dict) -> None:
    """migrate waits for a healthy db; web and worker wait for healthy db and redis and a successful migrate;
    beat waits for a healthy redis."""
    services = compose["services"]
    expected = {
        "migrate": {"db": "service_healthy"},
        "web": {"db": "service_healthy", "redis": "service_healthy", "migrate": "service_completed_successfully"},
        "worker": {"db": "service_healthy", "redis": "service_healthy", "migrate": "service_completed_successfully"},
        "beat": {"redis": "service_healthy"},
    }
    for name, dependencies in expected.items():
        depends_on = services[name].get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs the long form to carry conditions"
        for dependency, condition in dependencies.items():
            assert depends_on.get(dependency, {}).get("condition") == condition, f"{name} -> {dependency}"
    assert services["migrate"]["command"][-3:] == ["manage.py", "migrate", "--noinput"]
    assert services["migrate"].get("restart") == "no", "a one-shot job must not be restarted after it succeeded"


def test_compose_sets_only_variables_the_settings_read(compose: dict) -> None:
    """Every variable compose passes to the app is one the settings read, so a misspelt name cannot silently
    leave a default in force."""
    read = variables_read_by_settings()
    for name in APP_SERVICES:
        unknown = set(environment_of(compose["services"][name])) - read
        assert not unknown, f"{name} sets variables config/settings.py never reads: {sorted(unknown)}"


def test_web_runs_the_image_command(compose: dict) -> None:
    """web does not override the image's command, so the privacy-preserving gunicorn log format applies."""
    assert "command" not in compose["services"]["web"]
    assert "entrypoint" not in compose["services"]["web"]


def test_access_log_stores_no_ip_address_and_no_user_agent() -> None:
    """The image's gunicorn access-log format contains no IP address (%(h)s, X-Forwarded-For, ...), no user agent
    (%(a)s) and no query string or referrer, and uses only known harmless atoms."""
    log_format = access_log_format()
    command = dockerfile_cmd()
    assert command[command.index("--access-logfile") + 1] == "-", "access log goes to stdout"
    for atom, meaning in FORBIDDEN_LOG_ATOMS.items():
        # Atoms are case-sensitive (%(H)s is the protocol, %(h)s the address); header names inside {} are not.
        found = atom.lower() in log_format.lower() if atom.startswith("%({") else atom in log_format
        assert not found, f"access log format logs the {meaning}: {log_format!r}"
    atoms = re.findall(r"%\(([^)]*)\)s", log_format)
    assert atoms, f"no gunicorn atoms in {log_format!r}"
    headers_or_environ = [atom for atom in atoms if atom.startswith("{")]
    assert not headers_or_environ, f"access log format logs request headers or environ: {headers_or_environ}"
    assert set(atoms) <= ALLOWED_LOG_ATOMS, f"unexpected atoms: {sorted(set(atoms) - ALLOWED_LOG_ATOMS)}"


def test_image_runs_gunicorn_as_a_non_root_user() -> None:
    """The image is python:3.11-slim, installs from requirements.lock, switches to a non-root user, exposes 8000
    and serves config.wsgi:application on 0.0.0.0:8000 with three workers."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\s*$", text, re.M)
    assert re.search(r"pip install .*-r requirements\.lock", text)
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users, "the image runs as root"
    assert users[-1] not in {"root", "0"}, "the image runs as root"
    assert re.search(r"^EXPOSE 8000\s*$", text, re.M)
    command = dockerfile_cmd()
    assert command[1] == "config.wsgi:application"
    assert command[command.index("--bind") + 1] == "0.0.0.0:8000"
    assert command[command.index("--workers") + 1] == "3"


def variables_read_by_settings() -> set[str]:
    source = SETTINGS.read_text(encoding="utf-8")
    names = set(re.findall(r"\benv(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", source))
    assert "SECRET_KEY" in names, "could not find the env.* calls in config/settings.py"
    return names


def test_env_example_documents_every_variable() -> None:
    """.env.example names every environment variable config/settings.py reads (as NAME= or # NAME=)."""
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.M))
    missing = variables_read_by_settings() - documented
    assert not missing, f".env.example does not document {sorted(missing)}"
