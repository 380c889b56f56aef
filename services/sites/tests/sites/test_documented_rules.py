"""Every cross-field rule the OpenAPI document lists (x-rules) is the rule the API applies.

Each rule's violating example goes through the API: a 400 naming the documented (deepest) field,
and nothing stored; the schema's valid example passes.
"""

from __future__ import annotations

from herplaatsing.testing import documented_rules, problem_fields


async def _openapi(sites) -> dict:
    r = await sites.client.get("/api/v1/openapi.json", headers=sites.anonymous)
    assert r.status_code == 200
    return r.json()


async def _documented(sites):
    return documented_rules(await _openapi(sites))


async def test_the_plot_endpoints_document_their_rules(sites):
    openapi = await _openapi(sites)
    documented = documented_rules(openapi)
    assert set(documented) == {("POST", "/api/v1/sites"), ("PATCH", "/api/v1/sites/{id}")}
    for d in documented.values():
        ids = [r["id"] for r in d.rules]
        assert len(ids) == len(set(ids)) and all(r["description"] and r["field"] and r["example"] for r in d.rules)
        schema = openapi["components"]["schemas"][d.schema]
        assert all(f"`{i}`" in schema["description"] for i in ids)  # rendered for people too


async def test_every_documented_plot_rule_is_refused_naming_its_field_and_the_valid_example_passes(sites):
    create = (await _documented(sites))[("POST", "/api/v1/sites")]
    for rule in create.rules:
        r = await sites.client.post("/api/v1/sites", json=rule["example"], headers=sites.marktmeester)
        assert rule["field"] in problem_fields(r), rule["id"]
    assert await sites.count_sites() == 0 and await sites.events() == []
    [valid] = create.examples
    r = await sites.client.post("/api/v1/sites", json=valid, headers=sites.marktmeester)
    assert r.status_code == 201, r.text
    site = r.json()

    update = (await _documented(sites))[("PATCH", "/api/v1/sites/{id}")]
    url = f"/api/v1/sites/{site['id']}"
    for rule in update.rules:
        r = await sites.client.patch(url, json=rule["example"], headers=sites.marktmeester)
        assert rule["field"] in problem_fields(r), rule["id"]
    after = (await sites.client.get(url, headers=sites.marktmeester)).json()
    assert after == site  # nothing changed, not even the version
    for example in update.examples:
        r = await sites.client.patch(url, json=example, headers=sites.marktmeester)
        assert r.status_code == 200, r.text
