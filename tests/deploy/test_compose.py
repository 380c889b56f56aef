"""docker-compose.yml runs the same system as the embedded runner: checked by parsing it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from herplaatsing.cli import build_parser
from herplaatsing.embedded import nats_server_binary
from herplaatsing.migrations import service_database_url
from herplaatsing.registry import STATEFUL as STATEFUL_SERVICES
from herplaatsing.registry import ports
from shared.config import DEV_INTERNAL_SECRET, DEV_JWT_SECRET, ServiceSettings

from .conftest import COMPOSE_SECRETS, ROOT, SETTINGS_CLASSES, MissingVariable, env_names, interpolate, read_env_file
from .test_image import dockerignored

SERVICE_PORTS = ports()
APP_SERVICES = list(SERVICE_PORTS)


def service_env(compose: dict, name: str) -> dict[str, str]:
    env = compose["services"][name].get("environment") or {}
    assert isinstance(env, dict), f"{name}: write environment as a mapping"
    return {key: interpolate(value) for key, value in env.items()}


def test_every_service_exists(compose):
    assert set(compose["services"]) == {"postgres", "nats", "migrate", "keycloak", *APP_SERVICES}


@pytest.mark.parametrize("svc", APP_SERVICES)
def test_service_listens_on_its_port_from_shared_config(compose, svc):
    assert service_env(compose, svc)["PORT"] == str(SERVICE_PORTS[svc])
    assert service_env(compose, svc)["SERVICE_NAME"] == svc


def test_only_the_gateway_is_published_and_only_on_loopback(compose):
    # The services trust the internal identity header: reachable only through the gateway.
    # Keycloak too, for the browser's sign-in (and curl's tokens).
    published = {name: d["ports"] for name, d in compose["services"].items() if d.get("ports")}
    port = SERVICE_PORTS["gateway"]
    assert published == {"gateway": [f"127.0.0.1:{port}:{port}"], "keycloak": ["127.0.0.1:8080:8080"]}


@pytest.mark.parametrize("svc", APP_SERVICES)
def test_service_command_is_a_real_cli_invocation(compose, svc):
    command = compose["services"][svc]["command"]
    assert command[0] == "herplaatsing"
    args = build_parser().parse_args(command[1:])
    assert (args.command, args.service) == ("serve", svc)


@pytest.mark.parametrize("svc", STATEFUL_SERVICES)
def test_stateful_service_uses_its_own_database(compose, svc):
    url = urlsplit(service_env(compose, svc)["DATABASE_URL"])
    assert url.hostname == "postgres"
    assert url.path == f"/herplaatsing_{svc}"


@pytest.mark.parametrize("svc", STATEFUL_SERVICES)
def test_migrate_creates_the_database_each_service_uses(compose, svc):
    # `herplaatsing migrate` derives herplaatsing_<svc> from the server URL; the service
    # must be pointed at exactly that database or it would run on an unmigrated one.
    server = service_env(compose, "migrate")["DATABASE_URL"]
    assert service_database_url(server, svc) == service_env(compose, svc)["DATABASE_URL"]


def test_migrate_is_a_one_shot_after_postgres(compose):
    migrate = compose["services"]["migrate"]
    args = build_parser().parse_args(migrate["command"][1:])
    assert args.command == "migrate"
    assert sorted(args.service) == sorted(STATEFUL_SERVICES)  # every history
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert migrate["healthcheck"] == {"disable": True}
    assert "ports" not in migrate


def test_gateway_has_no_database_and_reaches_services_by_name(compose):
    env = service_env(compose, "gateway")
    assert "DATABASE_URL" not in env
    for svc in STATEFUL_SERVICES:
        url = urlsplit(env[f"{svc.upper()}_URL"])
        assert (url.hostname, url.port) == (svc, SERVICE_PORTS[svc])


@pytest.mark.parametrize("name", ["migrate", *APP_SERVICES])
def test_every_env_var_is_a_settings_field(compose, name):
    cls = SETTINGS_CLASSES.get(name, ServiceSettings)
    unknown = set(service_env(compose, name)) - env_names(cls)
    assert not unknown, f"{name} sets variables no settings field reads: {sorted(unknown)}"


@pytest.mark.parametrize("svc", APP_SERVICES)
def test_compose_environment_loads_into_the_settings(compose, clean_env, svc):
    for key, value in service_env(compose, svc).items():
        clean_env.setenv(key, value)
    settings = SETTINGS_CLASSES[svc]()
    assert settings.service_name == svc
    assert settings.port == SERVICE_PORTS[svc]
    assert settings.host == "0.0.0.0"
    assert settings.nats_url == "nats://nats:4222"


@pytest.mark.parametrize("name", ["postgres", "migrate", *APP_SERVICES])
def test_compose_refuses_to_start_without_explicit_secrets(compose, name):
    env = compose["services"][name]["environment"]
    with pytest.raises(MissingVariable):
        {key: interpolate(value, env={}) for key, value in env.items()}
    for secret in COMPOSE_SECRETS:  # each one on its own is required
        partial = {k: v for k, v in COMPOSE_SECRETS.items() if k != secret}
        if any(f"${{{secret}:?" in str(value) for value in env.values()):
            with pytest.raises(MissingVariable, match=secret):
                {key: interpolate(value, env=partial) for key, value in env.items()}


@pytest.mark.parametrize("svc", APP_SERVICES)
def test_services_run_as_production_with_the_given_secrets(compose, clean_env, svc):
    env = service_env(compose, svc)
    assert env["ENVIRONMENT"] == "production"
    assert (env["JWT_SECRET"], env["INTERNAL_SECRET"]) == (COMPOSE_SECRETS["JWT_SECRET"], COMPOSE_SECRETS["INTERNAL_SECRET"])
    assert DEV_JWT_SECRET not in str(compose) and DEV_INTERNAL_SECRET not in str(compose)
    for key, value in env.items():
        clean_env.setenv(key, value)
    clean_env.setenv("JWT_SECRET", "x" * 64)  # a weak secret from the shell is refused
    with pytest.raises(ValueError, match="JWT_SECRET must be a random secret"):
        SETTINGS_CLASSES[svc]()


def test_compose_secrets_script_writes_a_git_ignored_env_that_production_accepts(tmp_path, clean_env):
    (tmp_path / "deploy").mkdir()
    shutil.copy(ROOT / "deploy" / "compose-secrets.sh", tmp_path / "deploy")
    run = lambda: subprocess.run(["bash", str(tmp_path / "deploy" / "compose-secrets.sh")], capture_output=True, text=True, check=True)  # noqa: E731
    run()
    written = read_env_file(tmp_path / ".env")
    assert set(written) == set(COMPOSE_SECRETS)
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0, "secrets readable by the owner only"
    for key, value in written.items():
        clean_env.setenv(key, value)
    ServiceSettings(environment="production")
    run()  # a second run keeps the secrets
    assert read_env_file(tmp_path / ".env") == written
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert dockerignored(".env")


@pytest.mark.parametrize("svc", APP_SERVICES)
def test_healthcheck_hits_readyz_on_the_service_port(compose, svc):
    check = compose["services"][svc]["healthcheck"]
    command = " ".join(check["test"])
    assert check["test"][0] == "CMD"
    assert f"http://127.0.0.1:{SERVICE_PORTS[svc]}/readyz" in command


@pytest.mark.parametrize("svc", STATEFUL_SERVICES)
def test_stateful_services_wait_for_their_dependencies(compose, svc):
    assert compose["services"][svc]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "nats": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


def test_gateway_waits_for_the_three_services_healthy(compose):
    assert compose["services"]["gateway"]["depends_on"] == {
        svc: {"condition": "service_healthy"} for svc in STATEFUL_SERVICES
    }


def test_app_services_share_one_image_built_here(compose):
    images = {compose["services"][name]["image"] for name in ["migrate", *APP_SERVICES]}
    assert images == {"herplaatsing:local"}
    assert all(compose["services"][name]["build"] == "." for name in ["migrate", *APP_SERVICES])


def test_postgres_is_15_with_healthcheck_and_volume(compose):
    pg = compose["services"]["postgres"]
    assert pg["image"].split(":")[1].startswith("15")
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in pg["volumes"])
    # The migrate URL logs in as the user the container creates.
    server = urlsplit(service_env(compose, "migrate")["DATABASE_URL"])
    assert (server.username, server.password) == (pg["environment"]["POSTGRES_USER"], COMPOSE_SECRETS["POSTGRES_PASSWORD"])
    assert interpolate(pg["environment"]["POSTGRES_PASSWORD"]) == COMPOSE_SECRETS["POSTGRES_PASSWORD"]


def _nats_compose_config(compose) -> tuple[Path, str]:
    nats = compose["services"]["nats"]
    command = nats["command"]
    container_path = command[command.index("--config") + 1]
    mounts = [v.split(":") for v in nats["volumes"]]
    host = next(m[0] for m in mounts if m[1] == container_path)
    return ROOT / host, container_path


def test_nats_runs_jetstream_with_sync_always_from_the_mounted_config(compose):
    path, _ = _nats_compose_config(compose)
    text = path.read_text(encoding="utf-8")
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    assert "jetstream {" in lines
    assert "sync_interval: always" in lines
    store_dir = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("store_dir:"))
    # The JetStream store is on the named volume, so it survives `docker compose down`.
    assert any(v.split(":")[1] == "/data" for v in compose["services"]["nats"]["volumes"])
    assert store_dir.startswith("/data/")
    assert compose["services"]["nats"]["image"].startswith("nats:2.1")


def test_nats_compose_config_is_accepted_by_nats_server(compose):
    path, _ = _nats_compose_config(compose)
    result = subprocess.run([nats_server_binary(), "-t", "-c", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_nats_healthcheck_uses_monitoring_port_with_jetstream(compose):
    path, _ = _nats_compose_config(compose)
    assert "http: 0.0.0.0:8222" in path.read_text(encoding="utf-8")
    command = " ".join(compose["services"]["nats"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8222/healthz" in command
