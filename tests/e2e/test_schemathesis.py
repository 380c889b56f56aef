"""Property-based API testing of the gateway's public OpenAPI (schemathesis 4) on a running system.

Every operation, called as each of the three roles with a valid token, on a system holding a
little demo data: no response may be a server error (5xx), and every response must match the
schema the OpenAPI document promises for its status. Bounded (a few examples per operation)
so the run stays well under two minutes.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from herplaatsing.demo.loader import load_demo
from tests.e2e.harness import SystemUnderTest

pytestmark = pytest.mark.slow

ROLES = {"marktmeester": None, "investor": "wc-woonstede", "municipality": "GM0200"}
CASES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def running_system(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[SystemUnderTest]:
    system = SystemUnderTest(Path(tmp_path_factory.mktemp("schemathesis")))
    # Generated cases come fast from one caller: lift the per-caller rate limit so they reach the services.
    system.extra_env.update({"RATE_LIMIT_PER_S": "100000", "RATE_LIMIT_BURST": "100000"})
    try:
        system.create_databases()
        system.start()
        load_demo(system.gateway, scale=0.02, settings=system.settings, progress=False)
        yield system
    finally:
        system.stop()
        by_role = ", ".join(f"{role} {n}" for role, n in sorted(CASES.items()))
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            print(f"\nschemathesis: {sum(CASES.values())} cases ran ({by_role})", flush=True)


@pytest.fixture(scope="module")
def api_schema(running_system: SystemUnderTest) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{running_system.gateway}/openapi.json", wait_for_schema=30)


EXAMPLES = settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)


# `@schema.parametrize()` on a lazy (fixture) schema fails under pytest 9 in schemathesis 4.32
# (it reads the removed `Function._nodeid`), so each operation's strategy is driven here directly.
@pytest.mark.parametrize("role", list(ROLES))
def test_every_operation_answers_without_5xx_and_within_its_schema(
    api_schema: schemathesis.BaseSchema, running_system: SystemUnderTest, role: str
) -> None:
    base_url = running_system.gateway.removesuffix("/api/v1")
    headers = running_system.token(role, ROLES[role])
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @EXAMPLES
        def exercise(case: schemathesis.Case) -> None:
            CASES[role] += 1
            case.call_and_validate(
                base_url=base_url, headers=headers, checks=[not_a_server_error, response_schema_conformance], timeout=30
            )

        try:
            exercise()
        except Exception as exc:
            raise AssertionError(f"{operation.label} as {role}: {exc}") from exc
