"""The secured deployment: NATS users and TLS (on a real nats-server), who may reach whom
(NetworkPolicy, evaluated here), the Ingress, and every manifest against the Kubernetes schema."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import kubernetes_validate
import nats
import pytest
import yaml

from herplaatsing.embedded import nats_server_binary
from herplaatsing.registry import STATEFUL as STATEFUL_SERVICES
from shared.bus.nats import connect, ensure_stream
from shared.config import ServiceSettings

from .conftest import DEPLOY, find
from .test_kubernetes import NATS_PASSWORDS, SERVICE_PORTS, container, pod_env, secret_key, write_nats_config

# --- NATS: per-service users over TLS, on a real server with the shipped auth.conf -------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def secured_nats(k8s_objects, tmp_path, tls_files) -> Iterator[str]:
    """One server with the ConfigMap's TLS and users (no cluster: it needs the other pods)."""
    write_nats_config(k8s_objects, tmp_path, tls_files)
    port = _free_port()
    single = (tmp_path / "nats.conf").read_text(encoding="utf-8").split("cluster {", 1)[0]
    single = single.replace("listen: 0.0.0.0:4222", f"listen: 127.0.0.1:{port}").replace("http: 0.0.0.0:8222", "")
    single = single.replace("pid_file: /var/run/nats/nats.pid", "").replace("/data/jetstream", str(tmp_path / "js"))
    (tmp_path / "nats.conf").write_text(single, encoding="utf-8")
    env = {**os.environ, "POD_NAME": "nats-test", **NATS_PASSWORDS}
    proc = subprocess.Popen([nats_server_binary(), "-c", str(tmp_path / "nats.conf")], env=env, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.1):
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            subprocess.run(["sleep", "0.05"])
        yield f"tls://localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def _settings(url: str, service: str, tls_files, password: str | None = None) -> ServiceSettings:
    return ServiceSettings(
        environment="test", service_name=service, nats_url=url, nats_user=service,
        nats_password=password or NATS_PASSWORDS[f"NATS_PASSWORD_{service.upper()}"],
        nats_tls_ca_file=str(tls_files["ca.crt"]),
    )


@contextlib.asynccontextmanager
async def _client(settings: ServiceSettings) -> AsyncIterator[nats.NATS]:
    nc = await connect(settings)
    try:
        yield nc
    finally:
        await nc.close()


async def test_a_service_publishes_its_own_events_and_consumes_others_but_cannot_forge_theirs(secured_nats, tls_files):
    inventory, sites = (_settings(secured_nats, svc, tls_files) for svc in ("inventory", "sites"))
    async with _client(inventory) as inv_nc, _client(sites) as sites_nc:
        inv_js, sites_js = inv_nc.jetstream(), sites_nc.jetstream()
        await ensure_stream(sites_js, sites)
        ack = await inv_js.publish("inventory.placement.created", b"{}", headers={"Nats-Msg-Id": "a"})
        assert ack.seq == 1
        await sites_js.publish("sites.site.withdrawn", b"{}", headers={"Nats-Msg-Id": "b"})
        # sites consumes inventory's events through a durable pull consumer, and acks them
        sub = await sites_js.pull_subscribe("inventory.>", durable="sites-inventory_all", stream=sites.stream_name)
        [msg] = await sub.fetch(1, timeout=5)
        assert msg.subject == "inventory.placement.created"
        await msg.ack_sync()
        # ...but may not publish one: the server refuses the subject (no ack ever comes)
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError, nats.js.errors.Error)):
            await sites_js.publish("inventory.placement.created", b"{}", headers={"Nats-Msg-Id": "forged"}, timeout=1)
        assert (await inv_js.stream_info(sites.stream_name)).state.messages == 2


async def test_nats_refuses_a_wrong_password_and_a_client_without_tls(secured_nats, tls_files):
    with pytest.raises(Exception, match="(?i)authorization"):
        await nats.connect(
            secured_nats, user="sites", password="guessed", allow_reconnect=False, connect_timeout=3,
            tls=__import__("ssl").create_default_context(cafile=str(tls_files["ca.crt"])),
        )
    plain = secured_nats.replace("tls://", "nats://")
    with pytest.raises(Exception):  # noqa: B017 - refused at the handshake, the error type varies
        nc = await nats.connect(plain, user="sites", password=NATS_PASSWORDS["NATS_PASSWORD_SITES"],
                                allow_reconnect=False, connect_timeout=3)
        await nc.close()
    await asyncio.sleep(0)


@pytest.mark.parametrize("svc", STATEFUL_SERVICES)
def test_each_service_logs_in_as_its_own_nats_user_and_verifies_the_servers(k8s_objects, svc):
    deployment = find(k8s_objects, "Deployment", svc)
    env = pod_env(k8s_objects, deployment)
    assert env["NATS_URL"].startswith("tls://")
    assert env["NATS_USER"] == svc
    # the very secret key the server reads that user's password from
    nats_env = {v["name"]: v for v in container(find(k8s_objects, "StatefulSet", "nats"))["env"]}
    assert secret_key(env["NATS_PASSWORD"]) == f"NATS_PASSWORD_{svc.upper()}"
    assert secret_key(nats_env[f"NATS_PASSWORD_{svc.upper()}"]["valueFrom"]) == f"NATS_PASSWORD_{svc.upper()}"
    # it mounts the CA certificate of the servers, and not their private key
    mounts = {m["name"]: m["mountPath"] for m in container(deployment)["volumeMounts"]}
    volume = next(v for v in deployment["spec"]["template"]["spec"]["volumes"] if v.get("secret", {}).get("secretName") == "nats-tls")
    assert volume["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]
    assert env["NATS_TLS_CA_FILE"] == f"{mounts[volume['name']]}/ca.crt"


def test_the_gateway_has_no_nats_credentials(k8s_objects):
    env = pod_env(k8s_objects, find(k8s_objects, "Deployment", "gateway"))
    assert "NATS_PASSWORD" not in env and "NATS_USER" not in env


# --- NetworkPolicy: who reaches whom ------------------------------------------------------------


def _selects(selector: dict, labels: dict[str, str]) -> bool:
    if not selector:
        return True
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        assert expr["operator"] == "In", "extend this evaluator for other operators"
        if labels.get(expr["key"]) not in expr["values"]:
            return False
    return True


def _pods(objects) -> dict[str, dict[str, str]]:
    return {
        o["metadata"]["name"]: o["spec"]["template"]["metadata"]["labels"]
        for o in objects if o["kind"] in {"Deployment", "StatefulSet", "Job"}
    }


def _reachable(objects, target: dict[str, str], port: int, *, namespace: str = "herplaatsing", pod: dict[str, str] | None = None) -> bool:
    """Would a connection from `pod` in `namespace` to the `target` pod on `port` be allowed?"""
    policies = [o for o in objects if o["kind"] == "NetworkPolicy" and _selects(o["spec"]["podSelector"], target)]
    if not policies:
        return True  # not isolated
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            if port not in {p["port"] for p in rule.get("ports", [])}:
                continue
            for peer in rule.get("from", []):
                if "namespaceSelector" in peer:
                    if _selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": namespace}):
                        return True
                elif namespace == "herplaatsing" and pod is not None and _selects(peer["podSelector"], pod):
                    return True
    return False


def _ports(objects, labels) -> set[int]:
    name = labels["app.kubernetes.io/name"]
    return {p["port"] for o in objects if o["kind"] == "Service" and o["spec"]["selector"] == {"app.kubernetes.io/name": name} for p in o["spec"]["ports"]}


def test_every_pod_is_isolated_by_default(k8s_objects):
    deny = find(k8s_objects, "NetworkPolicy", "default-deny-ingress")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_only_the_gateway_is_reachable_from_outside_and_only_through_the_ingress_controller(k8s_objects):
    pods = _pods(k8s_objects)
    for name, labels in pods.items():
        for port in _ports(k8s_objects, labels) | set(SERVICE_PORTS.values()):
            assert not _reachable(k8s_objects, labels, port, namespace="somewhere-else"), (name, port)
            # the public API, and Keycloak's sign-in pages
            expected = (name, port) in {("gateway", SERVICE_PORTS["gateway"]), ("keycloak", 8080)}
            assert _reachable(k8s_objects, labels, port, namespace="ingress-nginx") == expected, (name, port)


def test_services_accept_only_the_gateway_nats_and_postgres_only_their_users(k8s_objects):
    pods = _pods(k8s_objects)
    gateway = pods["gateway"]
    for svc in STATEFUL_SERVICES:
        assert _reachable(k8s_objects, pods[svc], SERVICE_PORTS[svc], pod=gateway)
        for other in STATEFUL_SERVICES:  # the services never call each other (events only)
            assert not _reachable(k8s_objects, pods[svc], SERVICE_PORTS[svc], pod=pods[other])
        assert _reachable(k8s_objects, pods["nats"], 4222, pod=pods[svc])
        assert _reachable(k8s_objects, pods["postgres"], 5432, pod=pods[svc])
    assert _reachable(k8s_objects, pods["postgres"], 5432, pod=pods["herplaatsing-migrate"])
    assert not _reachable(k8s_objects, pods["nats"], 4222, pod=gateway)
    assert not _reachable(k8s_objects, pods["postgres"], 5432, pod=gateway)
    assert not _reachable(k8s_objects, pods["nats"], 4222, pod=pods["herplaatsing-migrate"])
    assert _reachable(k8s_objects, pods["nats"], 6222, pod=pods["nats"])
    assert not _reachable(k8s_objects, pods["nats"], 6222, pod=pods["sites"])


# --- Ingress -----------------------------------------------------------------------------------


def test_ingress_serves_only_the_public_api_over_tls_to_the_gateway(k8s_objects):
    ingress = find(k8s_objects, "Ingress", "gateway")
    [tls] = ingress["spec"]["tls"]
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] in tls["hosts"] and tls["secretName"]
    [path] = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/api/", "Prefix")  # not /metrics, /readyz
    backend = path["backend"]["service"]
    service = find(k8s_objects, "Service", backend["name"])
    assert backend["name"] == "gateway"
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}


# --- the Kubernetes schema ---------------------------------------------------------------------

CRD_KINDS = {("cert-manager.io/v1", "Certificate"), ("cert-manager.io/v1", "Issuer")}


@pytest.mark.parametrize("path", sorted(p.name for p in DEPLOY.glob("*.yaml")))
def test_manifest_is_valid_against_the_kubernetes_schema_strictly(path):
    version = kubernetes_validate.latest_version()
    for doc in yaml.safe_load_all((DEPLOY / path).read_text(encoding="utf-8")):
        if not doc or doc.get("kind") == "Kustomization":
            continue
        if (doc["apiVersion"], doc["kind"]) in CRD_KINDS:
            assert doc["metadata"]["name"] and doc["spec"]  # cert-manager's own schema is not bundled
            continue
        kubernetes_validate.validate(doc, version, strict=True)


def test_kustomize_builds_the_whole_deployment(tmp_path):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed")
    shutil.copytree(DEPLOY, tmp_path / "deploy")
    shutil.copy(DEPLOY / "secrets.example.env", tmp_path / "deploy" / "secrets.env")
    result = subprocess.run([kubectl, "kustomize", str(tmp_path / "deploy")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    kinds = {d["kind"] for d in yaml.safe_load_all(result.stdout) if d}
    assert {"NetworkPolicy", "Ingress", "HorizontalPodAutoscaler", "Certificate", "Secret"} <= kinds


