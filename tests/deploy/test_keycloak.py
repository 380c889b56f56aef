"""Keycloak in docker-compose.yml and deploy/: the imported realm, and the gateway trusting that realm.

Parsed files only (no Docker engine or cluster here): the realm JSON as Keycloak imports it, the
compose service and the Kubernetes manifests, and the gateway's OIDC_ISSUERS read by its settings.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from services.gateway.app.config import GatewaySettings
from services.gateway.app.web.signin import CALLBACK_PATH
from shared.domain import Role
from shared.web.identity import claims_to_principal

from .conftest import DEPLOY, find
from .test_compose import service_env
from .test_kubernetes import container, pod_env

KEYCLOAK = DEPLOY / "keycloak"
PROD_REALM = KEYCLOAK / "herplaatsing-realm.json"
DEV_REALM = KEYCLOAK / "dev" / "herplaatsing-realm.json"
PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")


def _builder():
    spec = importlib.util.spec_from_file_location("build_realms", KEYCLOAK / "build_realms.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def prod_realm() -> dict[str, Any]:
    return load(PROD_REALM)


@pytest.fixture(scope="module")
def dev_realm() -> dict[str, Any]:
    return load(DEV_REALM)


def client(realm: dict, client_id: str) -> dict:
    [match] = [c for c in realm["clients"] if c["clientId"] == client_id]
    return match


def mapper(c: dict, kind: str) -> dict:
    [match] = [m for m in c["protocolMappers"] if m["protocolMapper"] == kind]
    return match["config"]


def test_the_realm_files_are_what_build_realms_writes(prod_realm, dev_realm):
    builder = _builder()
    assert prod_realm == builder.realm() and dev_realm == builder.dev_realm(), "run python3 deploy/keycloak/build_realms.py"
    # development = production + demo users + the CLI client, nothing else differs
    assert {k: v for k, v in dev_realm.items() if k not in ("users", "clients")} == {k: v for k, v in prod_realm.items() if k != "clients"}
    assert dev_realm["clients"][: len(prod_realm["clients"])] == prod_realm["clients"]


@pytest.mark.parametrize("path", [PROD_REALM, DEV_REALM])
def test_the_three_roles_are_realm_roles(path):
    realm = load(path)
    assert realm["realm"] == "herplaatsing" and realm["enabled"] and realm["sslRequired"] == "external"
    assert not realm["registrationAllowed"]  # who belongs to an organisation is decided by its administrators
    assert {r["name"] for r in realm["roles"]["realm"]} == {role.value for role in Role}


def test_dashboard_client_is_confidential_code_flow_with_pkce(prod_realm):
    dashboard = client(prod_realm, "herplaatsing-dashboard")
    assert not dashboard["publicClient"] and dashboard["clientAuthenticatorType"] == "client-secret"
    assert dashboard["standardFlowEnabled"] and not dashboard["implicitFlowEnabled"]
    assert not dashboard["directAccessGrantsEnabled"] and not dashboard["serviceAccountsEnabled"]
    assert dashboard["attributes"]["pkce.code.challenge.method"] == "S256"
    assert all(uri.startswith("${HERPLAATSING_DASHBOARD_URL}/") for uri in dashboard["redirectUris"])  # no wildcard host
    assert not any("*" in uri for uri in [*dashboard["redirectUris"], dashboard["attributes"]["post.logout.redirect.uris"]])


def test_machine_client_uses_client_credentials_only(prod_realm):
    machine = client(prod_realm, "herplaatsing-machine")
    assert not machine["publicClient"] and machine["serviceAccountsEnabled"]
    assert not machine["standardFlowEnabled"] and not machine["implicitFlowEnabled"] and not machine["directAccessGrantsEnabled"]


@pytest.mark.parametrize("path", [PROD_REALM, DEV_REALM])
def test_no_client_secret_is_committed(path):
    for c in load(path)["clients"]:
        assert c.get("publicClient") or PLACEHOLDER.fullmatch(c["secret"]), c["clientId"]


def test_the_production_realm_has_no_users_and_no_password_grant(prod_realm):
    assert "users" not in prod_realm
    assert not any(c.get("directAccessGrantsEnabled") for c in prod_realm["clients"])


@pytest.mark.parametrize("path", [PROD_REALM, DEV_REALM])
def test_every_client_maps_audience_roles_and_org_into_the_access_token(path):
    for c in load(path)["clients"]:
        audience = mapper(c, "oidc-audience-mapper")
        assert audience["included.custom.audience"] == "herplaatsing-api" and audience["access.token.claim"] == "true"
        roles = mapper(c, "oidc-usermodel-realm-role-mapper")
        assert (roles["claim.name"], roles["multivalued"], roles["access.token.claim"]) == ("roles", "true", "true")
        org = mapper(c, "oidc-usermodel-attribute-mapper")
        assert (org["user.attribute"], org["claim.name"], org["multivalued"], org["access.token.claim"]) == ("org", "org", "false", "true")


def test_org_is_a_declared_attribute_only_an_administrator_may_set(prod_realm):
    [profile] = prod_realm["components"]["org.keycloak.userprofile.UserProfileProvider"]
    config = json.loads(profile["config"]["kc.user.profile.config"][0])
    [org] = [a for a in config["attributes"] if a["name"] == "org"]
    assert org["permissions"]["edit"] == ["admin"]  # a user can't move themself to another organisation
    assert config["unmanagedAttributePolicy"] != "ENABLED"


def test_demo_users_cover_every_role_with_orgs_the_gateway_accepts(dev_realm):
    people = [u for u in dev_realm["users"] if "serviceAccountClientId" not in u]
    assert {role for u in people for role in u["realmRoles"]} == {role.value for role in Role}
    for user in [*people, *(u for u in dev_realm["users"] if "serviceAccountClientId" in u)]:
        [role] = user["realmRoles"]
        [org] = user["attributes"].get("org", [None])
        principal = claims_to_principal({"sub": user["username"], "role": role, "org": org})  # raises if the gateway would refuse
        assert principal.role is Role(role)
    cli = client(dev_realm, "herplaatsing-dev-cli")
    assert cli["publicClient"] and cli["directAccessGrantsEnabled"] and not cli["standardFlowEnabled"]


def _trusted(env: dict[str, Any]) -> GatewaySettings:
    return GatewaySettings(environment="test", oidc_issuers=json.loads(env["OIDC_ISSUERS"]))


def _check_gateway_trusts_the_realm(gateway_env: dict[str, Any], keycloak_env: dict[str, Any], realm: dict[str, Any]) -> None:
    [issuer] = _trusted(gateway_env).oidc_issuers
    assert issuer.issuer == f"{keycloak_env['KC_HOSTNAME']}/realms/{realm['realm']}"
    assert keycloak_env["KC_HOSTNAME_BACKCHANNEL_DYNAMIC"] == "true"  # jwks_uri on the address the gateway used
    discovery = urlsplit(issuer.discovery)
    assert (discovery.hostname, discovery.port) == ("keycloak", 8080)
    assert discovery.path == f"/realms/{realm['realm']}/.well-known/openid-configuration"
    # The dashboard's sign-in: the gateway is the realm's dashboard client, redirected back to exactly its
    # /callback (and to its sign-in page after sign-out) on the URL Keycloak was told, with the same secret.
    settings = GatewaySettings(environment="test", oidc_issuers=json.loads(gateway_env["OIDC_ISSUERS"]),
                               dashboard_oidc_client_id=gateway_env["DASHBOARD_OIDC_CLIENT_ID"])
    assert settings.dashboard_oidc == issuer
    dashboard = client(realm, gateway_env["DASHBOARD_OIDC_CLIENT_ID"])
    assert dashboard["standardFlowEnabled"] and dashboard["attributes"]["pkce.code.challenge.method"] == "S256"
    assert gateway_env["DASHBOARD_PUBLIC_URL"] == keycloak_env["HERPLAATSING_DASHBOARD_URL"]
    assert dashboard["redirectUris"] == ["${HERPLAATSING_DASHBOARD_URL}" + CALLBACK_PATH]
    assert dashboard["attributes"]["post.logout.redirect.uris"] == "${HERPLAATSING_DASHBOARD_URL}/aanmelden"
    assert gateway_env["DASHBOARD_OIDC_CLIENT_SECRET"] == keycloak_env["HERPLAATSING_DASHBOARD_CLIENT_SECRET"]
    for c in realm["clients"]:
        assert mapper(c, "oidc-audience-mapper")["included.custom.audience"] == issuer.audience
        assert mapper(c, "oidc-usermodel-realm-role-mapper")["claim.name"] == issuer.role_claim
        assert mapper(c, "oidc-usermodel-attribute-mapper")["claim.name"] == issuer.org_claim
    for name in {p for c in realm["clients"] for p in PLACEHOLDER.findall(json.dumps(c))}:
        assert keycloak_env.get(name), f"the realm import needs {name} in Keycloak's environment"


def test_compose_runs_the_pinned_image_with_the_dev_realm_and_the_gateway_trusts_it(compose, dev_realm):
    keycloak = compose["services"]["keycloak"]
    assert re.fullmatch(r"quay\.io/keycloak/keycloak:\d+\.\d+\.\d+", keycloak["image"])
    assert keycloak["command"] == ["start-dev", "--import-realm"]
    assert keycloak["volumes"] == ["./deploy/keycloak/dev:/opt/keycloak/data/import:ro"]
    _check_gateway_trusts_the_realm(service_env(compose, "gateway"), service_env(compose, "keycloak"), dev_realm)


def test_deploy_runs_keycloak_in_production_mode_with_the_realm_configmap(k8s_objects, kustomization, compose, prod_realm):
    deployment = find(k8s_objects, "Deployment", "keycloak")
    c = container(deployment)
    assert c["image"] == compose["services"]["keycloak"]["image"]  # one pinned version
    assert c["args"] == ["start", "--import-realm"]  # not start-dev
    env = pod_env(k8s_objects, deployment)
    assert env["KC_DB"] == "postgres" and env["KC_HOSTNAME"].startswith("https://")
    [generator] = [g for g in kustomization["configMapGenerator"] if g["name"] == "keycloak-realm"]
    assert generator["files"] == ["keycloak/herplaatsing-realm.json"]
    [volume] = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "realm"]
    assert volume["configMap"]["name"] == "keycloak-realm"
    assert {"name": "realm", "mountPath": "/opt/keycloak/data/import", "readOnly": True} in c["volumeMounts"]
    ingress = find(k8s_objects, "Ingress", "keycloak")
    assert {p["path"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]} == {"/realms/", "/resources/"}  # no /admin/
    _check_gateway_trusts_the_realm(pod_env(k8s_objects, find(k8s_objects, "Deployment", "gateway")), env, prod_realm)
