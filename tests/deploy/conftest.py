"""Parsed deployment files for the tests in this folder (no Docker engine or cluster needed)."""

from __future__ import annotations

import re
import subprocess
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.gateway.app.config import GatewaySettings
from services.inventory.app.config import InventorySettings
from services.matching.app.config import MatchingSettings
from services.sites.app.config import SitesSettings
from shared.config import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

SETTINGS_CLASSES: dict[str, type[ServiceSettings]] = {
    "gateway": GatewaySettings,
    "inventory": InventorySettings,
    "sites": SitesSettings,
    "matching": MatchingSettings,
}


def env_names(settings_cls: type[ServiceSettings]) -> set[str]:
    """The environment variables a settings class reads (field name upper-cased)."""
    return {name.upper() for name in settings_cls.model_fields}


_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")

# What deploy/compose-secrets.sh would write into .env.
COMPOSE_SECRETS = {
    "JWT_SECRET": secrets.token_urlsafe(48),
    "INTERNAL_SECRET": secrets.token_urlsafe(48),
    "POSTGRES_PASSWORD": secrets.token_hex(24),
    "KEYCLOAK_ADMIN_PASSWORD": secrets.token_urlsafe(24),
    "DASHBOARD_CLIENT_SECRET": secrets.token_urlsafe(32),
    "MACHINE_CLIENT_SECRET": secrets.token_urlsafe(32),
}


class MissingVariable(LookupError):
    """docker compose's `${VAR:?message}` with VAR unset: compose refuses to start."""


def interpolate(value: Any, env: dict[str, str] | None = None) -> str:
    """docker compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` (env: the shell and .env)."""
    env = COMPOSE_SECRETS if env is None else env

    def substitute(m: re.Match[str]) -> str:
        if env.get(m.group("name")):
            return env[m.group("name")]
        if m.group("op") and m.group("op").endswith("?"):
            raise MissingVariable(f"{m.group('name')}: {m.group('arg')}")
        return m.group("arg") or ""

    return _INTERPOLATION.sub(substitute, str(value))


def read_env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def kustomization() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "kustomization.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def k8s_objects() -> list[dict[str, Any]]:
    """Every Kubernetes object in deploy/*.yaml (the kustomization file itself excluded)."""
    objects = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                doc["_file"] = path.name
                objects.append(doc)
    return objects


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected exactly one {kind} {name!r} in deploy/, found {len(matches)}"
    return matches[0]


@pytest.fixture(scope="session")
def example_secrets() -> dict[str, str]:
    return read_env_file(DEPLOY / "secrets.example.env")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No settings variable from the test process's own environment, and no .env file."""
    for cls in SETTINGS_CLASSES.values():
        for name in env_names(cls):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throwaway CA and a server certificate for localhost, as cert-manager would issue them."""
    d = tmp_path_factory.mktemp("tls")
    ext = d / "ext.cnf"
    # The extensions cert-manager sets too; Python 3.13 verifies strictly (VERIFY_X509_STRICT).
    ext.write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n"
        "keyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n"
        "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n",
        encoding="utf-8",
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    for command in (
        ["req", "-x509", *ec, *ca_ext, "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=test-ca", "-days", "1"],
        ["req", *ec, "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=nats"],
        ["x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "tls.crt", "-days", "1", "-extfile", "ext.cnf"],
    ):
        subprocess.run(["openssl", *command], cwd=d, check=True, capture_output=True)
    return {name: d / name for name in ("ca.crt", "tls.crt", "tls.key")}
