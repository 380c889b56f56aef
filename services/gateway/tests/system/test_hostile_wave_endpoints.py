"""Hostile input against this wave's public operations (clock, policy, placement changes and end states,
organisations, ledger, dead letters, CRS and bbox), through the gateway to the real services.

Every case is one hostile part in an otherwise valid request. It asserts what a caller relies on: a 400
problem+json naming the offending field (its `invalidParams` name; `in` query/body/header), the resource
read back unchanged (same representation, same ETag), never a 5xx; and one tenant never reading or
changing another's ledger rows, placements or organisations.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from herplaatsing.testing import eventually
from services.gateway.tests.system.conftest import AMSTERDAM, APELDOORN, INVESTOR_A, INVESTOR_B, Market, System, plot
from shared.domain import Role
from shared.web.pagination import encode_cursor

pytestmark = pytest.mark.slow

LONG = "x" * 20_000  # beyond every field's maxLength and the 10 000-character input limit
NOT_A_DATE = ["0000-01-01", "2026-02-30", "2026-13-01", "31-12-2030", "", "\x00", LONG, 20270101, [], {}, True]
ANY_STRING_FIELD = [LONG, "\x00", "a\x00b", 5, [], {"a": 1}]


def problem_names(r: httpx.Response) -> list[str]:
    assert r.headers["content-type"].startswith("application/problem+json"), r.text[:300]
    body = r.json()
    assert body["status"] == r.status_code and body["title"] and body["detail"]
    return [p["name"] for p in body.get("invalidParams") or []]


def names_field(names: list[str], field: str) -> bool:
    return any(n == field or n.startswith(field + ".") for n in names)


class Probe:
    """Sends cases and collects every answer a caller could not rely on (shown all at once on failure)."""

    def __init__(self, system: System) -> None:
        self.system, self.wrong = system, []

    async def refused(
        self,
        method: str,
        path: str,
        headers: Callable[[], Awaitable[dict[str, str]]] | dict[str, str],
        snapshot: Callable[[], Awaitable[Any]],
        field: str | tuple[str, ...],
        where: str = "body",
        **kw: Any,
    ) -> None:
        """Expect 400 naming `field` (or one of several) and `snapshot()` unchanged."""
        sent = await headers() if callable(headers) else headers
        before = await snapshot()
        r = await self.system.client.request(method, f"/api/v1{path}", headers=sent, **kw)
        case = f"{method} {path} {field}={kw.get('json', kw.get('params', kw.get('content')))!r:.120}"
        if r.status_code != 400:
            self.wrong.append(f"{case} -> {r.status_code} {r.text[:200]}")
            return
        names = problem_names(r)
        wheres = {p.get("in") for p in r.json().get("invalidParams") or []}
        fields = (field,) if isinstance(field, str) else field
        if not any(names_field(names, f) for f in fields) or where not in wheres:
            self.wrong.append(f"{case} -> 400 names {names} in {wheres}, not {field} in {where}")
        if await snapshot() != before:
            self.wrong.append(f"{case} -> 400 but changed the resource")

    async def status(self, method: str, path: str, headers: dict[str, str], expected: set[int], **kw: Any) -> httpx.Response:
        r = await self.system.client.request(method, f"/api/v1{path}", headers=headers, **kw)
        if r.status_code not in expected:
            self.wrong.append(f"{method} {path} {kw!r:.160} -> {r.status_code} (expected {sorted(expected)}) {r.text[:200]}")
        elif r.status_code >= 400:
            problem_names(r)
        return r

    def check(self) -> None:
        assert not self.wrong, f"{len(self.wrong)} wrong answers:\n" + "\n".join(self.wrong[:40])


async def _read(system: System, path: str, headers: dict[str, str]) -> tuple[Any, str | None]:
    r = await system.client.get(f"/api/v1{path}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json(), r.headers.get("ETag")


async def test_hostile_bodies_on_this_waves_writes_are_400s_naming_the_field_and_change_nothing(system: System, market: Market) -> None:
    mm = system.as_(Role.marktmeester)
    a, b = system.as_(Role.investor, INVESTOR_A), system.as_(Role.investor, INVESTOR_B)
    probe = Probe(system)

    # -- PATCH /clock: bounded to 2000-01-01 .. 2100-12-31, exactly one of offset_days / today
    async def clock() -> Any:
        return (await _read(system, "/clock", mm))[0]

    for value in [36500, -36500, 30000, 36501, -36501, 2**63 - 1, -(2**63), 2**64, 10**40, 1.5, "x", "\x00", [], {}, LONG]:
        await probe.refused("PATCH", "/clock", mm, clock, "offset_days", json={"offset_days": value})
    for value in [*NOT_A_DATE, "0001-01-01", "1999-12-31", "2101-01-01", "9999-12-31", "10000-01-01"]:
        await probe.refused("PATCH", "/clock", mm, clock, "today", json={"today": value})
    await probe.refused("PATCH", "/clock", mm, clock, "body", json={})
    await probe.refused("PATCH", "/clock", mm, clock, "body", json={"offset_days": 1, "today": "2027-01-01"})
    await probe.refused("PATCH", "/clock", mm, clock, "tomorrow", json={"offset_days": 1, "tomorrow": True})

    # -- PUT /matching/policy: every parameter bounded; the If-Match of the version read
    policy, _ = await _read(system, "/matching/policy", mm)
    parameters = policy["parameters"]

    async def policy_now() -> Any:
        return await _read(system, "/matching/policy", mm)

    async def policy_headers() -> dict[str, str]:
        return {**mm, "If-Match": (await policy_now())[1]}

    for name in parameters:
        for value in [-1, 10**13, 2**64, 10**40, -1e300, "abc", None, [], {}, "\x00", LONG]:
            body = {"parameters": {**parameters, name: value}, "note": "hostile"}
            await probe.refused("PUT", "/matching/policy", policy_headers, policy_now, f"parameters.{name}", json=body)
        missing = {k: v for k, v in parameters.items() if k != name}
        await probe.refused("PUT", "/matching/policy", policy_headers, policy_now, f"parameters.{name}", json={"parameters": missing})
    for name in ("region_radius_km", "horizon_months", "proposal_deadline_days", "min_follow_up_years", "road_factor"):  # at least 1 (or above 0)
        await probe.refused("PUT", "/matching/policy", policy_headers, policy_now, f"parameters.{name}", json={"parameters": {**parameters, name: 0}})
    for value in ["x" * 501, "\x00", 5, [], LONG]:
        await probe.refused("PUT", "/matching/policy", policy_headers, policy_now, "note", json={"parameters": parameters, "note": value})
    await probe.refused("PUT", "/matching/policy", policy_headers, policy_now, "parameters.bonus",
                        json={"parameters": {**parameters, "bonus": 1}})
    await probe.refused("PUT", "/matching/policy", policy_headers, policy_now, "parameters", json={"note": "no parameters"})
    for literal in ("NaN", "Infinity", "-Infinity", "1e400"):  # not JSON (a lenient parser takes them) or beyond a double
        raw = json.dumps({"parameters": parameters}).replace('"road_factor": 1.3', f'"road_factor": {literal}')
        assert literal in raw
        await probe.refused("PUT", "/matching/policy", lambda: _with_json(policy_headers), policy_now, ("parameters.road_factor", "body"),
                            content=raw.encode())

    # -- PATCH /placements/{id}: end date within the instrument's maximum term, bounded permit reference
    placement_b = market.placement_b["id"]

    async def placement_now() -> Any:
        return await _read(system, f"/placements/{placement_b}", b)

    async def placement_headers() -> dict[str, str]:
        return {**b, "If-Match": (await placement_now())[1]}

    # (wabo_uitgebreid has no statutory maximum term: any date up to 2200-12-31, the dates the product reasons about)
    for value in [*NOT_A_DATE, "0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31", "2016-01-01", "2026-11-22"]:
        await probe.refused("PATCH", f"/placements/{placement_b}", placement_headers, placement_now, "end_date", json={"end_date": value})
    for value in ["x" * 121, *ANY_STRING_FIELD]:
        await probe.refused("PATCH", f"/placements/{placement_b}", placement_headers, placement_now, "permit_reference",
                            json={"permit_reference": value})
    await probe.refused("PATCH", f"/placements/{placement_b}", placement_headers, placement_now, "status", json={"status": "moved"})
    placement_a = market.placement_a["id"]  # wabo_bor4_11 from 2017-07-01: at most 10 years
    await probe.refused("PATCH", f"/placements/{placement_a}", a, lambda: _read(system, f"/placements/{placement_a}", a), "end_date",
                        json={"end_date": "2027-07-02"})
    await probe.refused("PATCH", f"/placements/{placement_b}", placement_headers, placement_now, "investor_org",
                        json={"investor_org": INVESTOR_A})

    # -- POST /placements/{id}/end-state: only sold or dismantled
    async def placement_a_now() -> Any:
        return await _read(system, f"/placements/{market.placement_a['id']}", a)

    end_state = f"/placements/{market.placement_a['id']}/end-state"
    for value in ["in_place", "moved", "SOLD", "Sold", "sold ", "", "\x00", "sold\x00", None, 0, [], {}, LONG, "stay"]:
        await probe.refused("POST", end_state, a, placement_a_now, "end_state", json={"end_state": value})
    for value in ["x" * 501, *ANY_STRING_FIELD]:
        await probe.refused("POST", end_state, a, placement_a_now, "reason", json={"end_state": "sold", "reason": value})
    await probe.refused("POST", end_state, a, placement_a_now, "end_state", json={})
    await probe.refused("POST", end_state, a, placement_a_now, "unit_ids", json={"end_state": "sold", "unit_ids": [1]})

    # -- POST /organisations and PATCH /organisations/{id}
    async def organisations() -> Any:
        page = await system.ok("GET", "/organisations", mm, params={"role": "investor", "limit": 500})
        return sorted((o["id"], o["version"]) for o in page["data"])

    fresh = {"id": "hostile-org", "name": "Hostile", "kvk_number": "87654321", "kind": "belegger"}
    bad_fields: dict[str, list[Any]] = {
        "id": ["", "a", "-org", "x" * 101, "a b", "a\x00b", "é-org", "org/../x", "GM0200", "gm0200", 5, None, [], LONG],
        "name": ["", "x" * 201, None, 5, [], "\x00", LONG],
        "kvk_number": ["1234567", "123456789", "abcdefgh", "１２３４５６７８", "8765432\n", 87654321, None, "", "\x00"],
        "kind": ["gemeente", "investor", "", "BELEGGER", None, 1, []],
        "contact_email": ["no-at", "a@b", "a @b.nl", "x" * 250 + "@b.nl", "a@b.nl\n", 5],
        "contact_phone": ["12345", "abcdefg", "+31 6 1234567\n", "1" * 31, 612345678],
    }
    for name, values in bad_fields.items():
        for value in values:
            await probe.refused("POST", "/organisations", mm, organisations, name, json={**fresh, name: value})
    await probe.refused("POST", "/organisations", mm, organisations, "active", json={**fresh, "active": False})

    async def organisation_b() -> Any:
        return await _read(system, f"/organisations/{INVESTOR_B}", mm)

    async def organisation_headers() -> dict[str, str]:
        return {**mm, "If-Match": (await organisation_b())[1]}

    for name, values in bad_fields.items():
        for value in values:
            if name == "id" or value is None:
                continue  # the id is the path; null means "leave as is"
            await probe.refused("PATCH", f"/organisations/{INVESTOR_B}", organisation_headers, organisation_b, name, json={name: value})
    for value in [5, [], "maybe", {}, LONG]:
        await probe.refused("PATCH", f"/organisations/{INVESTOR_B}", organisation_headers, organisation_b, "active", json={"active": value})
    await probe.refused("PATCH", f"/organisations/{INVESTOR_B}", organisation_headers, organisation_b, "id", json={"id": "renamed"})

    # -- not JSON objects at all
    writes = [
        ("PATCH", "/clock", mm, clock),
        ("PUT", "/matching/policy", policy_headers, policy_now),
        ("PATCH", f"/placements/{placement_b}", placement_headers, placement_now),
        ("POST", end_state, a, placement_a_now),
        ("POST", "/organisations", mm, organisations),
        ("PATCH", f"/organisations/{INVESTOR_B}", organisation_headers, organisation_b),
    ]
    for method, path, headers, snapshot in writes:
        for raw in (b"{not json", b"\xff\xfe\x00", b"[]", b'"x"', b"null", b"1", b'{"a":' * 40 + b"1" + b"}" * 40):
            deepest = ("body", "a") if raw.startswith(b'{"a"') else "body"  # too deep: the field where it got too deep
            await probe.refused(method, path, lambda h=headers: _with_json(h), snapshot, deepest, content=raw)
    probe.check()


async def _with_json(headers: Callable[[], Awaitable[dict[str, str]]] | dict[str, str]) -> dict[str, str]:
    sent = await headers() if callable(headers) else headers
    return {**sent, "Content-Type": "application/json"}


LIMITS = ["0", "-1", "501", "abc", "1.5", "1e3", str(2**64), ""]
CURSORS = ["garbage", "eyJhIjoxfQ", "W10", "WyIxIiwiMiJd", "bnVsbA", "WyJ4IiwgInkiLCAieiJd", "x" * 1001, "%%%", "é"]
BBOXES = ["1,2,3", "1,2,3,4,5", "a,b,c,d", "NaN,NaN,NaN,NaN", "inf,0,1,1", "5,52,4,51", "-1e308,-1e308,1e308,1e308",
          "1e400,0,1,1", ",,,", "100000,400000,200000,500000", "x" * 201]
CRSES = ["EPSG:0", "EPSG:", "EPSG:3857", "EPSG:99999999999999999999", "garbage", "x" * 1000,
         "http://www.opengis.net/def/crs/EPSG/0/", "http://www.opengis.net/def/crs/EPSG/0/3857", "EPSG:4326x"]


async def test_hostile_query_strings_and_headers_are_400s_naming_the_parameter(system: System, market: Market) -> None:
    mm = system.as_(Role.marktmeester)
    gm = system.as_(Role.municipality, APELDOORN[0])
    probe = Probe(system)

    async def nothing() -> None:
        return None

    bad: dict[str, dict[str, list[str]]] = {
        "/ledger/placements": {
            "state": ["moved2", "", "IN_PLACE", "sold ", "closed"], "province": ["PV2", "pv25", "PV255", "GM0200", ""],
            "complexId": ["not-a-uuid", "0", "00000000-0000-0000-0000-00000000000g"], "limit": LIMITS, "cursor": CURSORS,
        },
        "/organisations": {"role": ["admin", "", "Investor", "marktmeester2"], "active": ["maybe", "2", ""], "limit": LIMITS, "cursor": CURSORS},
        "/dead-letters": {"status": ["closed", "", "OPEN"], "limit": LIMITS, "cursor": CURSORS},
        "/matching/policy/versions": {"limit": LIMITS, "cursor": CURSORS},
        "/sites": {"bbox": BBOXES, "bboxCrs": CRSES, "crs": CRSES, "cursor": CURSORS},
        "/map/sites.geojson": {"bbox": BBOXES, "bboxCrs": CRSES, "crs": CRSES},
        "/map/placements.geojson": {"bbox": BBOXES, "bboxCrs": CRSES, "crs": CRSES, "expiringBefore": ["0000-01-01", "2026-02-30", "x"]},
    }
    for path, params in bad.items():
        for name, values in params.items():
            for value in values:
                query = {name: value, "bbox": "5.9,52.2,6.0,52.3"} if name == "bboxCrs" else {name: value}
                await probe.refused("GET", path, mm, nothing, name, where="query", params=query)
            # A parameter given twice is ambiguous (which one counts?): refused, whichever comes first.
            good = {"limit": "5", "state": "in_place", "province": "PV25", "role": "investor", "active": "true", "status": "open",
                    "bbox": "5.9,52.2,6.0,52.3", "crs": "EPSG:28992", "bboxCrs": "EPSG:4326", "complexId": market.complex_a["id"],
                    "expiringBefore": "2030-01-01", "cursor": CURSORS[0]}[name]
            await probe.refused("GET", path, mm, nothing, name, where="query", params=[(name, good), (name, values[0])])
            await probe.refused("GET", path, mm, nothing, name, where="query", params=[(name, values[0]), (name, good)])
    await probe.refused("GET", "/sites", mm, nothing, "bboxCrs", where="query",
                        params={"bbox": "5.9,52.2,6.0,52.3", "bboxCrs": "EPSG:4326", "bbox-crs": "EPSG:28992"})
    # Cursors shaped like the API's own (a JSON array of strings) but holding values it never issued:
    # a 400 naming the cursor (or, if the values happen to be a position, a page), never a 5xx
    odd = ["x", "-1", str(2**64), "2026-13-01", "00000000-0000-0000-0000-000000000000", "end", "", "1e400", "[]", "é" * 50]
    for path in ("/ledger/placements", "/organisations", "/dead-letters", "/matching/policy/versions", "/sites"):
        for size in (1, 2, 3, 4):
            for value in odd:
                cursor = encode_cursor([value] * size)
                r = await probe.status("GET", path, mm, {200, 400}, params={"cursor": cursor})
                if r.status_code == 400 and not names_field(problem_names(r), "cursor"):
                    probe.wrong.append(f"GET {path} cursor {[value] * size} -> 400 naming {problem_names(r)}")
                cursor = encode_cursor([value] + ["end"] * (size - 1))
                await probe.status("GET", path, mm, {200, 400}, params={"cursor": cursor})

    # Path parameters of the new operations
    for version in ["0", "-1", "abc", "1.5", str(2**31), str(2**64), "1e3"]:
        await probe.refused("GET", f"/matching/policy/versions/{version}", mm, nothing, "version", where="path")
    for letter in ["0", "-1", "abc", str(2**63), "1.5"]:
        await probe.refused("POST", f"/dead-letters/inventory/{letter}/retry", mm, nothing, "id", where="path")
        await probe.refused("POST", f"/dead-letters/inventory/{letter}/resolve", mm, nothing, "id", where="path")
    for service in ["gateway", "INVENTORY", "x" * 300]:
        await probe.refused("POST", f"/dead-letters/{service}/1/retry", mm, nothing, "service", where="path")
    for placement in ["0", "not-a-uuid", "x" * 300]:
        await probe.refused("PATCH", f"/placements/{placement}", mm, nothing, "id", where="path", json={"permit_reference": "x"})
        await probe.refused("POST", f"/placements/{placement}/end-state", mm, nothing, "id", where="path", json={"end_state": "sold"})
    for organisation in ["-x", "a b", "x" * 101, "é"]:
        await probe.refused("GET", f"/organisations/{organisation}", mm, nothing, "id", where="path")
        await probe.refused("PATCH", f"/organisations/{organisation}", mm, nothing, "id", where="path", json={"name": "x"})
    # The gateway reads the resolution itself before forwarding it
    for note in [5, [], {}, "x" * 2001, LONG, "\x00"]:
        await probe.refused("POST", "/dead-letters/inventory/1/resolve", mm, nothing, "note", json={"note": note})
    await probe.refused("POST", "/dead-letters/inventory/1/resolve", mm, nothing, "reason", json={"reason": "x"})
    for raw in (b"{not json", b"[]", b"\xff\xfe", b"[" * 5000 + b"]" * 5000, b'{"note":' * 5000 + b'"x"' + b"}" * 5000):
        await probe.refused("POST", "/dead-letters/sites/1/resolve", {**mm, "Content-Type": "application/json"}, nothing, ("body", "note"), content=raw)
    missing = "00000000-0000-0000-0000-000000000000"
    await probe.status("PATCH", f"/placements/{missing}", mm, {404}, json={"permit_reference": "x"})
    await probe.status("POST", f"/placements/{missing}/end-state", mm, {404}, json={"end_state": "sold"})
    await probe.status("GET", "/matching/policy/versions/2147483647", mm, {404})
    await probe.status("POST", f"/dead-letters/matching/{2**63 - 1}/retry", mm, {404})
    await probe.status("GET", "/organisations/no-such-org", mm, {404})

    # CRS headers: an unsupported Content-Crs names the header (400); only unsupported Accept-Crs is a 406
    rd_plot = {**hostile_plot(), "location": {"rd_x": 194_000, "rd_y": 470_000}}

    async def sites_count() -> int:
        return len((await system.ok("GET", "/sites", mm, params={"status": "published", "limit": 500}))["data"])

    for crs in CRSES:
        await probe.refused("POST", "/sites", {**gm, "Content-Crs": crs}, sites_count, "Content-Crs", where="header", json=rd_plot)
        for path in ("/sites", "/map/sites.geojson", "/map/placements.geojson", f"/sites/{market.plot_a['id']}"):
            await probe.status("GET", path, {**mm, "Accept-Crs": crs}, {406})
    for accepted in ("EPSG:3857, EPSG:28992", "garbage;q=1, EPSG:28992;q=0.5"):
        r = await probe.status("GET", "/map/sites.geojson", {**mm, "Accept-Crs": accepted}, {200})
        assert r.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/28992>"
    probe.check()


def hostile_plot() -> dict[str, Any]:
    gemeente, lat, lon = APELDOORN
    return plot(gemeente, lat, lon, name="Hostile CRS")


async def test_if_match_garbage_and_a_reused_idempotency_key_change_nothing(system: System, market: Market) -> None:
    mm = system.as_(Role.marktmeester)
    a, b = system.as_(Role.investor, INVESTOR_A), system.as_(Role.investor, INVESTOR_B)
    probe = Probe(system)
    policy, _ = await _read(system, "/matching/policy", mm)
    targets = [
        ("PUT", "/matching/policy", mm, {"parameters": policy["parameters"], "note": "garbage If-Match"}),
        ("PATCH", f"/placements/{market.placement_b['id']}", b, {"permit_reference": "OLO-garbage"}),
        ("PATCH", f"/organisations/{INVESTOR_B}", mm, {"name": "Garbage"}),
    ]
    for method, path, headers, body in targets:
        read = "/matching/policy" if path == "/matching/policy" else path
        before = await _read(system, read, headers)
        assert before[1] == '"1"'
        for tag in ['""', "", "garbage", 'W/"1"', '"01"', '"1 "', '"abc"', '"-1"', '"2"', '"99999999999999999999999"', '"' + "9" * 190 + '"']:
            await probe.status(method, path, {**headers, "If-Match": tag}, {412}, json=body)
        await probe.status(method, path, {**headers, "If-Match": "x" * 201}, {400}, json=body)
        assert await _read(system, read, headers) == before, path
        # ... and the current version in a list is a match
        await probe.status(method, path, {**headers, "If-Match": '"7", "1"'}, {200}, json=body)

    # One Idempotency-Key, another body: 422, the second body has no effect
    fresh = {"id": "idem-org", "name": "Idem", "kvk_number": "11223344", "kind": "belegger"}
    first = await probe.status("POST", "/organisations", {**mm, "Idempotency-Key": "org-1"}, {201}, json=fresh)
    await probe.status("POST", "/organisations", {**mm, "Idempotency-Key": "org-1"}, {422},
                       json={**fresh, "id": "idem-org-2", "kvk_number": "44332211"})
    again = await probe.status("POST", "/organisations", {**mm, "Idempotency-Key": "org-1"}, {201}, json=fresh)
    assert again.json() == first.json()
    await probe.status("GET", "/organisations/idem-org-2", mm, {404})

    end_state = f"/placements/{market.placement_a['id']}/end-state"
    sold = await probe.status("POST", end_state, {**a, "Idempotency-Key": "end-1"}, {200}, json={"end_state": "sold"})
    await probe.status("POST", end_state, {**a, "Idempotency-Key": "end-1"}, {422}, json={"end_state": "dismantled"})
    await probe.status("POST", end_state, {**a, "Idempotency-Key": "end-1"}, {200}, json={"end_state": "sold"})
    assert (await _read(system, f"/placements/{market.placement_a['id']}", a))[0]["lifecycle"] == sold.json()["lifecycle"] == "closed_sold"
    # The same key and body by another investor on its own placement is its own request
    mine = await probe.status("POST", f"/placements/{market.placement_b['id']}/end-state", {**b, "Idempotency-Key": "end-1"}, {200},
                              json={"end_state": "sold"})
    assert mine.json()["id"] == market.placement_b["id"]
    for key in ("k" * 201,):
        await probe.status("POST", "/organisations", {**mm, "Idempotency-Key": key}, {400}, json={**fresh, "id": "idem-org-3"})
    await probe.status("GET", "/organisations/idem-org-3", mm, {404})
    probe.check()


async def test_one_tenant_never_reads_or_changes_anothers_ledger_placements_or_organisations(system: System, market: Market) -> None:
    mm = system.as_(Role.marktmeester)
    a, b = system.as_(Role.investor, INVESTOR_A), system.as_(Role.investor, INVESTOR_B)
    apeldoorn, amsterdam = system.as_(Role.municipality, APELDOORN[0]), system.as_(Role.municipality, AMSTERDAM[0])
    probe = Probe(system)
    a_id, b_id = market.placement_a["id"], market.placement_b["id"]

    async def ledger_rows(headers: dict[str, str], **params: str) -> set[str]:
        page = await system.ok("GET", "/ledger/placements", headers, params=params)
        return {row["placement_id"] for row in page["data"]}

    async def ledger_ready() -> bool:
        return await ledger_rows(mm) == {a_id, b_id}

    await eventually(ledger_ready, timeout=30)
    assert await ledger_rows(a) == {a_id} and await ledger_rows(b) == {b_id}
    assert await ledger_rows(apeldoorn) == {a_id} and await ledger_rows(amsterdam) == {b_id}
    # Filters naming the other's data never widen the scope
    assert await ledger_rows(b, complexId=market.complex_a["id"]) == set()
    assert await ledger_rows(b, province="PV25") == set()
    assert await ledger_rows(amsterdam, complexId=market.complex_a["id"]) == set()
    for headers, homes in ((a, 20), (b, 20), (apeldoorn, 20), (amsterdam, 20), (mm, 40)):
        ledger = await system.ok("GET", "/ledger", headers)
        assert ledger["registered"] == homes == ledger["accounted"], ledger
    assert {p["province_code"] for p in (await system.ok("GET", "/ledger", b))["by_province"]} == {"PV27"}
    assert {p["province_code"] for p in (await system.ok("GET", "/ledger", apeldoorn))["by_province"]} == {"PV25"}

    # Another investor's placement does not exist for B: read, change and close are all 404
    before = await _read(system, f"/placements/{a_id}", a)
    await probe.status("GET", f"/placements/{a_id}", b, {404})
    await probe.status("PATCH", f"/placements/{a_id}", {**b, "If-Match": before[1]}, {404}, json={"permit_reference": "stolen"})
    await probe.status("POST", f"/placements/{a_id}/end-state", b, {404}, json={"end_state": "dismantled"})
    await probe.status("GET", f"/placements/{a_id}", amsterdam, {404})
    # A municipality reads the placements in its gemeente but changes none
    await probe.status("PATCH", f"/placements/{a_id}", apeldoorn, {403}, json={"permit_reference": "stolen"})
    await probe.status("POST", f"/placements/{a_id}/end-state", apeldoorn, {403}, json={"end_state": "sold"})
    assert await _read(system, f"/placements/{a_id}", a) == before

    # Organisations: everyone signed in reads the registry; only the marktmeester changes it
    org_before = await _read(system, f"/organisations/{INVESTOR_A}", mm)
    for headers in (a, b, apeldoorn):
        await probe.status("PATCH", f"/organisations/{INVESTOR_A}", headers, {403}, json={"active": False})
        await probe.status("PATCH", f"/organisations/{INVESTOR_B}", headers, {403}, json={"name": "Mine now"})
        await probe.status("POST", "/organisations", headers, {403}, json={"id": "evil", "name": "E", "kvk_number": "99887766", "kind": "belegger"})
    assert await _read(system, f"/organisations/{INVESTOR_A}", mm) == org_before
    await probe.status("GET", "/organisations/evil", mm, {404})

    # The marktmeester's levers: dead letters, the policy, the clock
    policy_before = await _read(system, "/matching/policy", mm)
    clock_before = await system.ok("GET", "/clock", mm)
    for headers in (a, apeldoorn):
        await probe.status("GET", "/dead-letters", headers, {403})
        await probe.status("POST", "/dead-letters/inventory/1/retry", headers, {403})
        await probe.status("POST", "/dead-letters/matching/1/resolve", headers, {403}, json={"note": "x"})
        await probe.status("PUT", "/matching/policy", {**headers, "If-Match": policy_before[1]}, {403}, json={"parameters": policy_before[0]["parameters"]})
        await probe.status("PATCH", "/clock", headers, {403}, json={"offset_days": 365})
    assert await _read(system, "/matching/policy", mm) == policy_before
    assert await system.ok("GET", "/clock", mm) == clock_before
    probe.check()


async def test_hostile_plot_facts_are_400s_naming_the_field_and_store_nothing(system: System, market: Market) -> None:
    gemeente, lat, lon = APELDOORN
    apeldoorn = system.as_(Role.municipality, gemeente)
    probe = Probe(system)
    body = {**hostile_plot(), "promised_units": 10, "allows_social_rent": True, "site_factors": ["geluid"]}

    async def plots() -> Any:
        page = await system.ok("GET", "/sites", apeldoorn, params={"municipality": gemeente, "status": "published", "limit": 500})
        return sorted((s["id"], s["version"]) for s in page["data"])

    bad: dict[str, list[Any]] = {
        "promised_units": [-1, 41, 10_001, 2**63 - 1, 2**64, 1.5, "ten", None, []],  # (true is 1: pydantic lax mode, as everywhere)
        "allows_social_rent": ["maybe", 5, [], {}, "\x00"],
        "site_factors": ["geluid", ["lawaai"], ["geluid"] * 11, [None], [5], [["geluid"]], {"geluid": True}, ["natura2000"], LONG],
        "exclusions": [["geluid"], ["water_risk"], "natura2000", ["natura2000"] * 11, [LONG]],
    }
    for name, values in bad.items():
        for value in values:
            await probe.refused("POST", "/sites", apeldoorn, plots, name, json={**body, name: value})
    await probe.refused("POST", "/sites", apeldoorn, plots, "allows_social_rent", json={**body, "social_rent_only": True, "allows_social_rent": False})

    # A point in RD New: out of the CRS's domain, outside the gemeente, incomplete, or both pairs at once
    # (the point's fields name its system; Content-Crs is the boundary's)
    rd = {**apeldoorn, "Content-Crs": "EPSG:28992"}
    for location in ({"rd_x": 1e308, "rd_y": -1e308}, {"rd_x": 0, "rd_y": 0}, {"rd_x": -7_001, "rd_y": 470_000}, {"rd_x": 194_000, "rd_y": 10**9},
                     {"rd_x": "abc", "rd_y": 470_000}, {"rd_x": 194_000}, {"rd_x": 121_000, "rd_y": 487_000},
                     {"rd_x": 194_000, "rd_y": 470_000, "lat": lat, "lon": lon}, {"rd_x": [194_000], "rd_y": 470_000}):
        await probe.refused("POST", "/sites", rd, plots, "location", json={**body, "location": location})

    made = await system.ok("POST", "/sites", apeldoorn, 201, json=body)

    async def plot_now() -> Any:
        return await _read(system, f"/sites/{made['id']}", apeldoorn)

    async def plot_headers() -> dict[str, str]:
        return {**apeldoorn, "If-Match": (await plot_now())[1]}

    for name, values in bad.items():
        for value in values:
            if value is None:
                continue  # null leaves a field as is in a PATCH
            await probe.refused("PATCH", f"/sites/{made['id']}", plot_headers, plot_now, name, json={name: value})
    # against the stored plot: 40 homes of capacity, 10 promised
    await probe.refused("PATCH", f"/sites/{made['id']}", plot_headers, plot_now, ("capacity_units", "promised_units"), json={"capacity_units": 9})
    await probe.refused("PATCH", f"/sites/{made['id']}", plot_headers, plot_now, "allows_social_rent",
                        json={"social_rent_only": True, "allows_social_rent": False})
    probe.check()
