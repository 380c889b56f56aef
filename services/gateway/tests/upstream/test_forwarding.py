"""Forwarding against a real HTTP upstream: identity, headers, query, body, status, retries, outages."""

from __future__ import annotations

import uuid

from services.gateway.tests.support import MISSING_ID, bearer, closed_url, complex_example, gateway, gateway_settings
from shared.domain import Role


async def test_get_forwards_path_raw_query_identity_and_correlation_id(echo_upstream) -> None:
    upstream, _, make = echo_upstream
    settings = make()
    async with gateway(settings) as client:
        r = await client.get(
            "/api/v1/placements?limit=5&expiringBefore=2028-01-01&municipality=GM0772&q=de%20Meeuw%2C+A",
            headers={**bearer(settings, Role.municipality, "GM0772", sub="ambtenaar-1"), "X-Correlation-ID": "corr-123"},
        )
    assert r.status_code == 200
    assert r.headers["API-Version"] == "1.2.0"
    body = r.json()
    assert body["method"] == "GET" and body["path"] == "/api/v1/placements"
    assert body["query"] == "limit=5&expiringBefore=2028-01-01&municipality=GM0772&q=de%20Meeuw%2C+A"
    assert body["principal"] == {"sub": "ambtenaar-1", "role": "municipality", "org": "GM0772"}
    assert body["correlation_id"] == "corr-123"
    assert upstream.calls[("GET", "/api/v1/placements")] == 1
    # A key given twice is ambiguous: refused at the door, naming it (the service would refuse it too).
    async with gateway(settings) as client:
        r = await client.get("/api/v1/placements?municipality=GM0772&municipality=GM0363", headers=bearer(settings, Role.municipality, "GM0772"))
    assert r.status_code == 400 and [p["name"] for p in r.json()["invalidParams"]] == ["municipality"]
    assert upstream.calls[("GET", "/api/v1/placements")] == 1


async def test_query_reaches_the_service_as_the_client_encoded_it(echo_upstream) -> None:
    _, _, make = echo_upstream
    async with gateway(make()) as client:
        r = await client.get("/api/v1/sites?bbox=4.1%2C51.9%2C5.2%2C52.4&municipality=GM0772&limit=5&cursor=a%2Bb%3D")
    assert r.status_code == 200
    assert r.json()["query"] == "bbox=4.1%2C51.9%2C5.2%2C52.4&municipality=GM0772&limit=5&cursor=a%2Bb%3D"


async def test_anonymous_public_call_carries_an_anonymous_internal_identity(echo_upstream) -> None:
    _, _, make = echo_upstream
    async with gateway(make()) as client:
        r = await client.get("/api/v1/sites?limit=10")
    assert r.status_code == 200
    assert r.json()["principal"] == {"sub": "anonymous", "role": None, "org": None}


async def test_post_forwards_body_and_idempotency_key_and_public_location(echo_upstream) -> None:
    upstream, _, make = echo_upstream
    settings = make()
    run = {"mode": "dry_run", "allow_garantiekavel_override": False}
    async with gateway(settings) as client:
        r = await client.post(
            "/api/v1/matching/runs",
            json=run,
            headers={**bearer(settings, Role.marktmeester, None), "Idempotency-Key": "key-1"},
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["body"] == run
        assert body["idempotency_key"] == "key-1"
        assert body["content_type"] == "application/json"
        # The service's own absolute URL becomes the same path on the gateway.
        assert r.headers["Location"] == f"/api/v1/matching/runs/{body['id']}"
        # The body is not read here: the owning service validates it.
        registration = complex_example()
        r = await client.post("/api/v1/complexes", json=registration, headers=bearer(settings, Role.investor, "woonstede"))
        assert r.status_code == 201, r.text
        assert r.json()["body"] == registration


async def test_upstream_problem_is_passed_back_as_is(echo_upstream) -> None:
    _, _, make = echo_upstream
    async with gateway(make()) as client:
        r = await client.get(f"/api/v1/sites/{MISSING_ID}")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["hint"] == "kept"
    assert r.headers["API-Version"] == "1.2.0"


async def test_idempotent_method_is_retried_after_503_but_post_is_not(echo_upstream) -> None:
    upstream, _, make = echo_upstream
    settings = make(upstream_retries=2)
    headers = bearer(settings, Role.investor, "wc-woonbron")
    proposal = uuid.uuid4()
    upstream.fail_next[("GET", f"/api/v1/proposals/{proposal}")] = 2
    upstream.fail_next[("POST", f"/api/v1/proposals/{proposal}/accept")] = 1
    async with gateway(settings) as client:
        r = await client.get(f"/api/v1/proposals/{proposal}", headers=headers)
        assert r.status_code == 200 and r.json()["attempt"] == 3
        r = await client.post(f"/api/v1/proposals/{proposal}/accept", headers=headers)
        assert r.status_code == 503
        assert r.json()["detail"] == "database down"  # the service's problem, as-is
    assert upstream.calls[("POST", f"/api/v1/proposals/{proposal}/accept")] == 1


async def test_service_down_is_503_naming_the_service() -> None:
    settings = gateway_settings(sites_url=closed_url(), inventory_url=closed_url())
    async with gateway(settings) as client:
        r = await client.get("/api/v1/sites")
        assert r.status_code == 503
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["API-Version"] == "1.2.0"
        assert r.headers["Retry-After"]
        body = r.json()
        assert body["detail"] == "The sites service is unavailable."
        assert body["service"] == "sites"
        r = await client.post("/api/v1/complexes", json=complex_example(), headers=bearer(settings, Role.investor, "woonstede"))
        assert r.status_code == 503 and r.json()["detail"] == "The inventory service is unavailable."


async def test_service_too_slow_is_503_naming_the_service(echo_upstream) -> None:
    upstream, _, make = echo_upstream
    settings = make(upstream_timeout_s=0.2)
    upstream.slow_paths.add("/api/v1/complexes")
    async with gateway(settings) as client:
        r = await client.get("/api/v1/complexes", headers=bearer(settings, Role.investor, "wc-woonbron"))
    assert r.status_code == 503
    assert r.json()["detail"] == "The inventory service is unavailable."
    assert upstream.calls[("GET", "/api/v1/complexes")] == 1  # a timeout is not retried


async def test_a_national_run_is_given_its_own_longer_timeout(echo_upstream) -> None:
    """A national run solves on purpose: the gateway waits for it past `upstream_timeout_s` (its row's
    `timeout_s`) instead of answering 503 while the run goes on and opening the circuit."""
    upstream, _, make = echo_upstream
    settings = make(upstream_timeout_s=0.2)
    upstream.slow_paths.update({"/api/v1/matching/runs"})
    async with gateway(settings) as client:
        mm = bearer(settings, Role.marktmeester)
        r = await client.post("/api/v1/matching/runs", json={"mode": "dry_run"}, headers=mm)
        assert r.status_code == 201, r.text  # answered after 1 s, past the 0.2 s default
        listed = await client.get("/api/v1/matching/runs", headers=mm)  # the same path, another row
        assert listed.status_code == 503 and listed.json()["detail"] == "The matching service is unavailable."


async def test_input_is_forwarded_unread_for_the_service_to_validate(echo_upstream) -> None:
    """The gateway parses no parameter and no body: malformed input reaches the owning service
    byte for byte (its 400 problems are in system/test_validation.py)."""
    upstream, _, make = echo_upstream
    settings = make()
    headers = bearer(settings, Role.investor, "wc-woonbron")
    async with gateway(settings) as client:
        r = await client.get("/api/v1/placements?limit=none&expiringBefore=soon&cursor=x", headers=headers)
        assert r.status_code == 200 and r.json()["query"] == "limit=none&expiringBefore=soon&cursor=x"
        r = await client.get("/api/v1/placements/not-a-uuid", headers=headers)
        assert r.status_code == 200 and r.json()["path"] == "/api/v1/placements/not-a-uuid"
        r = await client.post("/api/v1/placements", content=b'{"complex_id": 1}', headers={**headers, "Content-Type": "application/json"})
        assert r.status_code == 200 and r.json()["body"] == {"complex_id": 1}
    assert sum(upstream.calls.values()) == 3


async def test_role_is_checked_before_forwarding(echo_upstream) -> None:
    upstream, _, make = echo_upstream
    settings = make()
    async with gateway(settings) as client:
        r = await client.post("/api/v1/matching/runs", json={"mode": "dry_run"}, headers=bearer(settings, Role.investor, "wc"))
        assert r.status_code == 403
        r = await client.patch("/api/v1/clock", json={"offset_days": 1}, headers=bearer(settings, Role.municipality, "GM0772"))
        assert r.status_code == 403
    assert sum(upstream.calls.values()) == 0


async def test_readiness_checks_the_three_services_and_stays_ready_when_one_is_down(echo_upstream) -> None:
    upstream, url, make = echo_upstream
    async with gateway(make()) as client:
        r = await client.get("/readyz")
        assert r.status_code == 200
        assert r.json() == {"status": "ready", "checks": {"inventory": "ok", "sites": "ok", "matching": "ok"}}
        upstream.ready = False
        r = await client.get("/readyz")
        assert r.status_code == 200 and r.json()["status"] == "degraded"
        assert all(v == "degraded: HTTP 503" for v in r.json()["checks"].values())
    async with gateway(make(matching_url=closed_url())) as client:
        upstream.ready = True
        r = await client.get("/readyz")
        assert r.status_code == 200 and r.json()["status"] == "degraded"  # the other routes still work
        checks = r.json()["checks"]
        assert checks["inventory"] == "ok" and checks["matching"].startswith("degraded")


async def test_a_failing_service_opens_its_circuit_and_its_routes_fail_fast(echo_upstream) -> None:
    upstream, url, make = echo_upstream
    settings = make(matching_url=closed_url(), circuit_failures=2, circuit_cooldown_s=60, upstream_retries=0)
    async with gateway(settings) as client:
        headers = bearer(settings, Role.marktmeester)
        for _ in range(2):
            r = await client.get("/api/v1/matching/runs", headers=headers)
            assert r.status_code == 503 and r.json()["reason"] == "connection failed"
        r = await client.get("/api/v1/matching/runs", headers=headers)
        assert r.status_code == 503 and r.json()["reason"] == "circuit open"
        assert (await client.get("/api/v1/placements", headers=headers)).status_code == 200  # others unaffected
        r = await client.get("/readyz")
        assert r.status_code == 200 and r.json()["checks"]["matching"].startswith("degraded")


async def test_a_method_the_table_does_not_list_is_405_naming_the_allowed_ones(echo_upstream) -> None:
    upstream, _, make = echo_upstream
    async with gateway(make()) as client:
        r = await client.put(f"/api/v1/sites/{uuid.uuid4()}", json={})
        assert r.status_code == 405 and r.headers["content-type"].startswith("application/problem+json")
        assert set(r.headers["Allow"].split(", ")) == {"GET", "PATCH", "DELETE"}
        # HEAD is answered where GET exists (NLGov; test_http_rules), and only there.
        assert (await client.head(f"/api/v1/proposals/{uuid.uuid4()}/accept")).status_code == 405
    assert sum(upstream.calls.values()) == 0
