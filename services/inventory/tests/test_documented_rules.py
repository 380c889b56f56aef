"""Every cross-field rule the OpenAPI document lists (x-rules) for complexes and placements is the rule the API applies.

Each rule's violating example goes through the API as its caller: a 400 naming the documented
(deepest) field, nothing stored, no event; the schema's valid example passes.
"""

from __future__ import annotations

from herplaatsing.testing import documented_rules, problem_fields


def _caller(inv, rule: dict) -> dict:
    """The marktmeester for its rules; otherwise woonstede, the investor of the valid example."""
    return inv.marktmeester if rule.get("caller") == "marktmeester" else inv.headers(org="woonstede")


async def test_every_documented_complex_and_placement_rule_is_refused_naming_its_field(inventory):
    openapi = (await inventory.client.get("/api/v1/openapi.json")).json()
    documented = documented_rules(openapi)
    assert set(documented) == {("POST", "/api/v1/complexes"), ("POST", "/api/v1/placements")}

    complexes = documented[("POST", "/api/v1/complexes")]
    assert {"rthf_rent_required", "investor_org_given_by_marktmeester"} <= {r["id"] for r in complexes.rules}
    for rule in complexes.rules:
        r = await inventory.client.post("/api/v1/complexes", json=rule["example"], headers=_caller(inventory, rule))
        assert rule["field"] in problem_fields(r), rule["id"]
    assert await inventory.scalar("SELECT count(*) FROM complexes") == 0 and await inventory.outbox() == []
    [valid] = complexes.examples
    r = await inventory.client.post("/api/v1/complexes", json=valid, headers=inventory.headers(org=valid["investor_org"]))
    assert r.status_code == 201, r.text
    complex_id = r.json()["id"]

    placements = documented[("POST", "/api/v1/placements")]
    for rule in placements.rules:
        body = {**rule["example"], "complex_id": complex_id}  # the example's complex, registered above
        r = await inventory.client.post("/api/v1/placements", json=body, headers=inventory.headers())
        assert rule["field"] in problem_fields(r), rule["id"]
    assert await inventory.scalar("SELECT count(*) FROM placements") == 0
    [valid] = placements.examples
    r = await inventory.client.post("/api/v1/placements", json={**valid, "complex_id": complex_id}, headers=inventory.headers())
    assert r.status_code == 201, r.text


async def test_an_rthf_complex_for_ontheemden_needs_no_rent(inventory):
    """The exception the rthf_rent_required rule documents."""
    openapi = (await inventory.client.get("/api/v1/openapi.json")).json()
    [rule] = [r for r in documented_rules(openapi)[("POST", "/api/v1/complexes")].rules if r["id"] == "rthf_rent_required"]
    body = {**rule["example"], "doelgroepen": ["ontheemden"]}
    r = await inventory.client.post("/api/v1/complexes", json=body, headers=inventory.headers())
    assert r.status_code == 201, r.text
