"""The event contract: models, the committed AsyncAPI document, and settings guards."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from pydantic import ValidationError

from herplaatsing.cli import main
from shared.config import ServiceSettings
from shared.events.asyncapi import DOCUMENT_PATH, render
from shared.events.models import EVENT_TYPES


def test_committed_asyncapi_document_matches_the_models():
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == render(), "run `herplaatsing asyncapi` and commit docs/asyncapi.json"
    assert main(["asyncapi", "--check"]) == 0


def test_asyncapi_lists_every_subject_of_the_design():
    doc = json.loads(render())
    assert set(doc["channels"]) == set(EVENT_TYPES)
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
