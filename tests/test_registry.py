"""The service registry (herplaatsing/registry.py) agrees with the services it describes."""

from __future__ import annotations

import importlib

import pytest

from herplaatsing.registry import DEFAULT_BASE_PORT, SERVICES, STATEFUL, ports
from shared.events.models import EVENT_TYPES, producer_of


def _create_app(name: str, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN202 - a FastAPI app
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/registry_check")  # never connected
    module, factory = SERVICES[name].app.split(":")
    return getattr(importlib.import_module(module), factory)()


@pytest.mark.parametrize("name", list(SERVICES))
def test_each_app_consumes_exactly_the_subjects_the_registry_names(name, monkeypatch):
    app = _create_app(name, monkeypatch)
    assert app.state.settings.service_name == name
    assert set(getattr(app.state.runtime, "handlers", {})) == set(SERVICES[name].consumes)


def test_every_consumed_subject_is_produced_by_another_service():
    for name, service in SERVICES.items():
        for subject_filter in service.consumes:
            producer = subject_filter.split(".", 1)[0]
            assert producer != name
            assert any(producer_of(t) == producer for t in EVENT_TYPES)


def test_ports_are_distinct_and_the_gateway_has_the_base_port():
    assert ports()["gateway"] == DEFAULT_BASE_PORT
    assert sorted(ports(9000).values()) == list(range(9000, 9000 + len(SERVICES)))


def test_stateful_services_own_a_database_and_an_alembic_history():
    assert STATEFUL == ("inventory", "sites", "matching")
    for name in STATEFUL:
        service = SERVICES[name]
        assert service.database == f"herplaatsing_{name}"
        assert (service.directory / "alembic.ini").is_file()
        assert hasattr(importlib.import_module(service.bus_tables), "bus_tables")
