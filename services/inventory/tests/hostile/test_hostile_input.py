"""Issue 13: inputs that gave a 500 (or an unpublishable event) are 4xx problems, and nothing is stored."""

from __future__ import annotations

import pytest

from services.inventory.tests.conftest import complex_body, place, placement_body, register
from shared.web.identity import Principal, internal_headers
from shared.web.pagination import encode_cursor


def _nested(depth: int) -> list:
    value: list = ["x"]
    for _ in range(depth):
        value = [value]
    return value


async def _stored(inventory) -> tuple[int, int, int]:
    return (
        await inventory.scalar("SELECT count(*) FROM complexes"),
        await inventory.scalar("SELECT count(*) FROM placements"),
        await inventory.scalar("SELECT count(*) FROM outbox"),
    )


async def test_a_huge_correlation_id_never_reaches_an_event(inventory):
    r = await inventory.client.post("/api/v1/complexes", json=complex_body(), headers=inventory.headers(**{"X-Correlation-ID": "c" * 1000}))
    assert r.status_code == 201, r.text
    [event] = await inventory.outbox("inventory.complex.registered")
    assert event["correlationid"] == r.headers["X-Correlation-ID"] and len(event["correlationid"]) <= 128
    r = await inventory.client.post("/api/v1/complexes", json=complex_body(), headers=inventory.headers(**{"X-Correlation-ID": "c" * 1_100_000}))
    assert r.status_code == 431 and r.json()["invalidParams"][0]["name"] == "x-correlation-id"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "RVB\x00kavel"}, "name"),
        ({"unit_count": 2**64}, "unit_count"),
        ({"build_cost_eur_per_unit": 10**30}, "build_cost_eur_per_unit"),
        ({"rechtens_verkregen_date": "9999-12-31"}, "rechtens_verkregen_date"),
        ({"supplier": "x" * 20_000}, "supplier"),
        ({"rthf": {"beschikking_id": _nested(40)}}, "rthf.beschikking_id"),
    ],
)
async def test_hostile_complex_fields_are_400_naming_the_field_and_store_nothing(inventory, overrides, field):
    before = await _stored(inventory)
    r = await inventory.client.post("/api/v1/complexes", json=complex_body(**overrides), headers=inventory.headers(**{"Idempotency-Key": "k1"}))
    assert r.status_code == 400, r.text
    assert any(p["name"].startswith(field) for p in r.json()["invalidParams"]), r.json()
    assert await _stored(inventory) == before


async def test_rechtens_verkregen_date_is_stored_as_a_date(inventory):
    made = await register(inventory, rechtens_verkregen_date="2021-03-01")
    assert made["rechtens_verkregen_date"] == "2021-03-01"


async def test_dates_beyond_the_sane_range_are_400_in_bodies_and_filters(inventory):
    made = await register(inventory)
    r = await inventory.client.post("/api/v1/placements", json=placement_body(made["id"], end_date="9999-12-31"), headers=inventory.headers())
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "end_date"
    r = await inventory.client.get("/api/v1/placements?expiringBefore=9999-12-31", headers=inventory.headers())
    assert r.status_code == 400


async def test_the_clock_refuses_9999_and_scans_keep_working(inventory):
    r = await inventory.client.patch("/api/v1/clock", json={"today": "9999-12-31"}, headers=inventory.marktmeester)
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "today"
    r = await inventory.client.patch("/api/v1/clock", json={"today": "2100-12-31"}, headers=inventory.marktmeester)
    assert r.status_code == 200, r.text
    assert (await inventory.client.post("/api/v1/expiry-scans", headers=inventory.marktmeester)).status_code < 300



@pytest.mark.parametrize(
    "path",
    ["/api/v1/complexes", "/api/v1/placements", "/api/v1/relocations", "/api/v1/complexes/{id}/units"],
)
async def test_cursors_the_api_never_issued_are_400(inventory, path):
    made = await register(inventory)
    for cursor in (encode_cursor(["not-a-time", "not-a-uuid"]), encode_cursor(["99999999999999999999"]), encode_cursor(["x\x00"]), "%%%", encode_cursor(["2026-01-01", "x"])):
        r = await inventory.client.get(path.format(id=made["id"]), params={"cursor": cursor}, headers=inventory.headers())
        assert r.status_code == 400, (path, cursor, r.text)
        assert r.json()["invalidParams"][0]["name"] == "cursor"


async def test_a_long_subject_with_an_idempotency_key_works(inventory):
    from shared.domain import Role

    headers = {**internal_headers(inventory.settings, Principal(sub="s" * 200, role=Role.investor, org="woonstede")), "Idempotency-Key": "long-sub"}
    first = await inventory.client.post("/api/v1/complexes", json=complex_body(), headers=headers)
    again = await inventory.client.post("/api/v1/complexes", json=complex_body(), headers=headers)
    assert first.status_code == 201 and again.status_code == 201 and again.json()["id"] == first.json()["id"]


async def test_idempotency_scopes_of_different_callers_never_collide():
    from shared.domain import Role

    a = Principal(sub="b:c", role=Role.investor, org="a")
    b = Principal(sub="c", role=Role.investor, org="a:b")
    assert a.key != b.key and len(a.key) == 64


async def test_an_event_that_could_not_be_published_is_refused_at_write_time(inventory, monkeypatch):
    from shared.bus import outbox

    made = await register(inventory)
    before = await _stored(inventory)
    monkeypatch.setattr(outbox, "MAX_EVENT_BYTES", 200)
    r = await inventory.client.post("/api/v1/placements", json=placement_body(made["id"]), headers=inventory.headers())
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert await _stored(inventory) == before
    monkeypatch.undo()
    await place(inventory, made["id"])


async def test_an_explicit_default_under_a_used_key_is_another_body(inventory):
    """Both services hash the request body the same way (shared.web.idempotency): as sent, not as parsed."""
    headers = inventory.headers(**{"Idempotency-Key": "explicit-default"})
    first = await inventory.client.post("/api/v1/complexes", json=complex_body(), headers=headers)
    again = await inventory.client.post("/api/v1/complexes", json=complex_body(zelfstandig=True), headers=headers)
    assert first.status_code == 201 and again.status_code == 422


async def test_one_idempotency_key_on_two_placements_closes_both_and_each_retry_gets_its_own_answer(inventory):
    """The key is scoped to the resource acted on, not only to the operation's template."""
    first = await place(inventory, (await register(inventory, unit_count=4, min_group_size=1))["id"], end_date="2029-05-31")
    second = await place(inventory, (await register(inventory, unit_count=4, min_group_size=1))["id"], end_date="2031-05-31")
    headers = inventory.headers(**{"Idempotency-Key": "close-them"})
    body = {"end_state": "sold"}
    closed = [await inventory.client.post(f"/api/v1/placements/{p['id']}/end-state", json=body, headers=headers) for p in (first, second)]
    assert [r.status_code for r in closed] == [200, 200], [r.text for r in closed]
    assert [r.json()["id"] for r in closed] == [first["id"], second["id"]]
    assert all(r.json()["lifecycle"] == "closed_sold" for r in closed)
    again = await inventory.client.post(f"/api/v1/placements/{second['id']}/end-state", json=body, headers=headers)
    assert again.status_code == 200 and again.json() == closed[1].json() and again.headers["Idempotent-Replayed"] == "true"
    other = await inventory.client.post(f"/api/v1/placements/{first['id']}/end-state", json={"end_state": "dismantled"}, headers=headers)
    assert other.status_code == 422 and other.headers["content-type"] == "application/problem+json"


async def test_an_overlong_idempotency_key_is_a_400_naming_the_header(inventory):
    before = await _stored(inventory)
    r = await inventory.client.post("/api/v1/complexes", json=complex_body(), headers=inventory.headers(**{"Idempotency-Key": "k" * 201}))
    assert r.status_code == 400 and [(p["name"], p["in"]) for p in r.json()["invalidParams"]] == [("Idempotency-Key", "header")]
    assert await _stored(inventory) == before
