"""deploy/ (Kubernetes, kustomize): checked by parsing the manifests."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
import subprocess
from urllib.parse import urlsplit

import pytest

from herplaatsing.cli import build_parser
from herplaatsing.embedded import nats_server_binary
from herplaatsing.migrations import service_database_url
from herplaatsing.registry import STATEFUL as STATEFUL_SERVICES
from herplaatsing.registry import ports
from shared.config import ServiceSettings

from .conftest import DEPLOY, SETTINGS_CLASSES, env_names, find

SERVICE_PORTS = ports()
APP_SERVICES = list(SERVICE_PORTS)
SECRET = "herplaatsing-secrets"
CONFIG = "herplaatsing-config"


def container(obj: dict) -> dict:
    containers = obj["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def nats_conf(objects) -> str:
    return find(objects, "ConfigMap", "nats-config")["data"]["nats.conf"]


def conf_lines(text: str) -> list[str]:
    return [line.split("#")[0].strip() for line in text.splitlines()]


def pod_env(objects, workload: dict) -> dict[str, object]:
    """Every variable the pod sees: envFrom ConfigMaps, then explicit env (which wins)."""
    c = container(workload)
    env: dict[str, object] = {}
    for source in c.get("envFrom", []):
        assert "configMapRef" in source, "secrets are mapped key by key, so pods get only what they need"
        env.update(find(objects, "ConfigMap", source["configMapRef"]["name"])["data"])
    for var in c.get("env", []):
        env[var["name"]] = var.get("value", var.get("valueFrom"))
    return env


def secret_key(value: object) -> str:
    assert isinstance(value, dict) and "secretKeyRef" in value, f"expected a secretKeyRef, got {value!r}"
    ref = value["secretKeyRef"]
    assert ref["name"] == SECRET
    return ref["key"]


# --- kustomize ----------------------------------------------------------------------------


def test_kustomization_lists_every_manifest(kustomization):
    on_disk = {p.name for p in DEPLOY.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == on_disk
    assert kustomization["namespace"] == "herplaatsing"


def test_secret_is_generated_from_a_file_kept_out_of_git(kustomization, example_secrets):
    generator = next(g for g in kustomization["secretGenerator"] if g["name"] == SECRET)
    assert generator["envs"] == ["secrets.env"]
    assert "secrets.env" in (DEPLOY / ".gitignore").read_text(encoding="utf-8").split()
    assert example_secrets, "deploy/secrets.example.env documents the keys"


def test_every_secret_key_referenced_is_documented(k8s_objects, example_secrets):
    referenced = set()
    for obj in k8s_objects:
        if obj["kind"] in {"Deployment", "StatefulSet", "Job"}:
            for var in container(obj).get("env", []):
                if "secretKeyRef" in var.get("valueFrom", {}):
                    referenced.add(secret_key(var["valueFrom"]))
    assert referenced == set(example_secrets)


def test_workloads_use_the_image_kustomize_rewrites(k8s_objects, kustomization):
    name = kustomization["images"][0]["name"]
    # Keycloak runs its own official image (keycloak.yaml).
    ours = [o for o in k8s_objects if o["kind"] in {"Deployment", "Job"} and o["metadata"]["name"] != "keycloak"]
    assert {container(o)["image"] for o in ours} == {name}
    assert len(ours) == len(APP_SERVICES) + 1


# --- NATS: 3-node JetStream cluster ---------------------------------------------------------


def test_nats_statefulset_has_three_replicas_on_persistent_volumes(k8s_objects):
    sts = find(k8s_objects, "StatefulSet", "nats")
    assert sts["spec"]["replicas"] == 3
    assert sts["spec"]["serviceName"] == "nats-headless"
    claims = {t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]}
    mounts = {m["name"]: m["mountPath"] for m in container(sts)["volumeMounts"]}
    store_dir = next(line.split(":", 1)[1].strip() for line in conf_lines(nats_conf(k8s_objects)) if line.startswith("store_dir:"))
    data_mount = next(mounts[c] for c in claims if c in mounts)
    assert store_dir.startswith(data_mount.rstrip("/") + "/"), "the JetStream store must be on the PVC"


def test_nats_jetstream_fsyncs_every_write(k8s_objects):
    lines = conf_lines(nats_conf(k8s_objects))
    assert "jetstream {" in lines
    assert "sync_interval: always" in lines


def test_nats_cluster_routes_name_every_statefulset_pod(k8s_objects):
    sts = find(k8s_objects, "StatefulSet", "nats")
    headless = find(k8s_objects, "Service", sts["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    cluster_port = next(p["port"] for p in headless["spec"]["ports"] if p["name"] == "cluster")
    routes = re.findall(r"nats://([\w.-]+):(\d+)", nats_conf(k8s_objects).split("cluster {", 1)[1])
    expected = {(f"nats-{i}.{headless['metadata']['name']}", str(cluster_port)) for i in range(sts["spec"]["replicas"])}
    assert set(routes) == expected


def write_nats_config(objects, directory, tls_files) -> Path:
    """nats.conf and auth.conf as the pods mount them, the TLS paths pointed at test files."""
    data = find(objects, "ConfigMap", "nats-config")["data"]
    for name, text in data.items():
        for file, path in tls_files.items():
            text = text.replace(f"/etc/nats-tls/{file}", str(path))
        (directory / name).write_text(text, encoding="utf-8")
    return directory / "nats.conf"


NATS_PASSWORDS = {f"NATS_PASSWORD_{svc.upper()}": secrets.token_hex(16) for svc in STATEFUL_SERVICES}


def test_nats_config_is_accepted_by_nats_server(k8s_objects, tmp_path, tls_files):
    path = write_nats_config(k8s_objects, tmp_path, tls_files)
    result = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(path)],
        capture_output=True, text=True, timeout=30, env={**os.environ, "POD_NAME": "nats-0", **NATS_PASSWORDS},
    )
    assert result.returncode == 0, result.stderr


def test_nats_requires_tls_from_clients_and_mutual_tls_between_servers(k8s_objects):
    text = nats_conf(k8s_objects)
    client, cluster = text.split("cluster {", 1)
    assert "tls {" in client and "include ./auth.conf" in client
    assert "verify: true" in cluster.split("tls {", 1)[1].split("}", 1)[0]
    sts = find(k8s_objects, "StatefulSet", "nats")
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container(sts)["volumeMounts"]}
    assert volumes[mounts["/etc/nats-tls"]]["secret"]["secretName"] == "nats-tls"
    # the Secret comes from cert-manager: a Certificate naming the client Service and every pod
    cert = find(k8s_objects, "Certificate", "nats-tls")
    assert cert["spec"]["secretName"] == "nats-tls"
    assert {"nats", "*.nats-headless"} <= set(cert["spec"]["dnsNames"])
    assert {"server auth", "client auth"} <= set(cert["spec"]["usages"])


def test_nats_keeps_quorum_through_voluntary_disruption(k8s_objects):
    pdb = find(k8s_objects, "PodDisruptionBudget", "nats")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == find(k8s_objects, "StatefulSet", "nats")["spec"]["selector"]["matchLabels"]


def test_services_reach_nats_through_the_client_service(k8s_objects):
    url = urlsplit(find(k8s_objects, "ConfigMap", CONFIG)["data"]["NATS_URL"])
    client = find(k8s_objects, "Service", url.hostname)
    assert url.port in {p["port"] for p in client["spec"]["ports"]}
    assert client["spec"]["selector"] == find(k8s_objects, "StatefulSet", "nats")["spec"]["selector"]["matchLabels"]


def test_streams_are_replicated_three_times_in_production(k8s_objects):
    data = find(k8s_objects, "ConfigMap", CONFIG)["data"]
    assert data["STREAM_REPLICAS"] == "3"
    assert data["ENVIRONMENT"] == "production"


# --- the four services ------------------------------------------------------------------------


@pytest.mark.parametrize("svc", APP_SERVICES)
def test_deployment_runs_several_replicas_of_the_service(k8s_objects, svc):
    deployment = find(k8s_objects, "Deployment", svc)
    # The autoscaler owns the replica count (never below 2); a fixed one would fight it on apply.
    assert "replicas" not in deployment["spec"]
    hpa = find(k8s_objects, "HorizontalPodAutoscaler", svc)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": svc}
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert "cpu" in container(deployment)["resources"]["requests"], "CPU utilisation needs a request"
    args = build_parser().parse_args(container(deployment)["command"][1:])
    assert (args.command, args.service) == ("serve", svc)
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


@pytest.mark.parametrize("svc", APP_SERVICES)
def test_probes_readyz_and_healthz_on_the_service_port(k8s_objects, svc):
    c = container(find(k8s_objects, "Deployment", svc))
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports["http"] == SERVICE_PORTS[svc]

    def probe(kind: str) -> tuple[str, int]:
        get = c[kind]["httpGet"]
        return get["path"], ports.get(get["port"], get["port"])

    assert probe("readinessProbe") == ("/readyz", SERVICE_PORTS[svc])
    assert probe("livenessProbe") == ("/healthz", SERVICE_PORTS[svc])


@pytest.mark.parametrize("svc", APP_SERVICES)
def test_pod_is_locked_down(k8s_objects, svc):
    deployment = find(k8s_objects, "Deployment", svc)
    pod = deployment["spec"]["template"]["spec"]
    c = container(deployment)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][kind]), f"{svc}: resources.{kind}"


@pytest.mark.parametrize("svc", APP_SERVICES)
def test_service_and_disruption_budget_select_the_deployment(k8s_objects, svc):
    labels = find(k8s_objects, "Deployment", svc)["spec"]["template"]["metadata"]["labels"]
    service = find(k8s_objects, "Service", svc)
    assert service["spec"]["ports"][0]["port"] == SERVICE_PORTS[svc]
    assert service["spec"]["selector"].items() <= labels.items()
    pdb = find(k8s_objects, "PodDisruptionBudget", svc)
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("svc", APP_SERVICES)
def test_every_env_var_is_a_settings_field(k8s_objects, svc):
    env = pod_env(k8s_objects, find(k8s_objects, "Deployment", svc))
    unknown = set(env) - env_names(SETTINGS_CLASSES[svc])
    assert not unknown, f"{svc} sets variables no settings field reads: {sorted(unknown)}"
    assert env["SERVICE_NAME"] == svc
    assert env["PORT"] == str(SERVICE_PORTS[svc])
    assert env["STREAM_REPLICAS"] == "3"
    # Both secrets from the Secret: production refuses to start without them.
    assert secret_key(env["JWT_SECRET"]) == "JWT_SECRET"
    assert secret_key(env["INTERNAL_SECRET"]) == "INTERNAL_SECRET"


@pytest.mark.parametrize("svc", STATEFUL_SERVICES)
def test_stateful_service_uses_its_own_database(k8s_objects, example_secrets, svc):
    env = pod_env(k8s_objects, find(k8s_objects, "Deployment", svc))
    url = example_secrets[secret_key(env["DATABASE_URL"])]
    assert urlsplit(url).path == f"/herplaatsing_{svc}"
    # ...the very database the migrate Job creates from the server URL.
    job_env = pod_env(k8s_objects, find(k8s_objects, "Job", "herplaatsing-migrate"))
    assert service_database_url(example_secrets[secret_key(job_env["DATABASE_URL"])], svc) == url


def test_gateway_reaches_the_services_by_their_kubernetes_service(k8s_objects):
    env = pod_env(k8s_objects, find(k8s_objects, "Deployment", "gateway"))
    assert "DATABASE_URL" not in env
    for svc in STATEFUL_SERVICES:
        url = urlsplit(env[f"{svc.upper()}_URL"])
        service = find(k8s_objects, "Service", url.hostname)
        assert url.port == service["spec"]["ports"][0]["port"] == SERVICE_PORTS[svc]


def test_example_secrets_are_refused_in_production(k8s_objects, example_secrets, clean_env):
    # A forgotten placeholder must stop the service, not sign tokens with a published key.
    for key, value in find(k8s_objects, "ConfigMap", CONFIG)["data"].items():
        clean_env.setenv(key, value)
    clean_env.setenv("JWT_SECRET", example_secrets["JWT_SECRET"])
    clean_env.setenv("INTERNAL_SECRET", example_secrets["INTERNAL_SECRET"])
    with pytest.raises(ValueError, match="at least 128 bits"):
        ServiceSettings()
    clean_env.setenv("JWT_SECRET", "j" * 48)  # long, but no entropy
    clean_env.setenv("INTERNAL_SECRET", secrets.token_urlsafe(48))
    with pytest.raises(ValueError, match="JWT_SECRET must be a random secret"):
        ServiceSettings()
    clean_env.setenv("JWT_SECRET", secrets.token_urlsafe(48))
    settings = ServiceSettings()
    assert (settings.environment, settings.stream_replicas) == ("production", 3)


# --- migrations ---------------------------------------------------------------------------------


def test_migrate_job_runs_every_history_once_against_the_server(k8s_objects):
    job = find(k8s_objects, "Job", "herplaatsing-migrate")
    c = container(job)
    args = build_parser().parse_args(c["command"][1:])
    assert args.command == "migrate"
    assert sorted(args.service) == sorted(STATEFUL_SERVICES)
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] >= 1
    assert set(pod_env(k8s_objects, job)) <= env_names(ServiceSettings)
    assert job["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
