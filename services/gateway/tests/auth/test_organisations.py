"""The gateway lets a caller act only for a registered, active organisation (auth/organisations.py).

The echo upstream stands in for the inventory's registry here (every investor registered and
active unless the test says otherwise); the system tests use the real registry.
"""

from __future__ import annotations

import asyncio

from services.gateway.tests.support import bearer, gateway
from shared.domain import Role

ECHO = "/api/v1/complexes"


def problem(r) -> dict:  # noqa: ANN001
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


async def test_an_unregistered_investor_organisation_is_refused_with_a_problem_that_names_it(echo_upstream) -> None:
    upstream, _, settings_for = echo_upstream
    upstream.unregistered.add("wc-nobody")
    settings = settings_for()
    async with gateway(settings) as client:
        body = problem(await client.get(ECHO, headers=bearer(settings, Role.investor, "wc-nobody")))
        assert body["detail"] == "The organisation wc-nobody is not registered." and body["organisation"] == "wc-nobody"
        assert upstream.calls[("GET", ECHO)] == 0  # refused before anything was forwarded
        assert (await client.get(ECHO, headers=bearer(settings, Role.investor, "wc-woonbron"))).status_code == 200


async def test_answers_are_cached_and_a_deactivation_takes_effect_within_the_cache_time(echo_upstream) -> None:
    upstream, _, settings_for = echo_upstream
    settings = settings_for(organisation_cache_s=0.3)
    investor = bearer(settings, Role.investor, "wc-woonbron")
    async with gateway(settings) as client:
        for _ in range(5):
            assert (await client.get(ECHO, headers=investor)).status_code == 200
        assert upstream.lookups["wc-woonbron"] == 1  # one question per organisation per cache time
        upstream.active["wc-woonbron"] = False  # the marktmeester deactivates it
        await asyncio.sleep(0.35)
        body = problem(await client.get(ECHO, headers=investor))
        assert body["detail"] == "The organisation wc-woonbron is deactivated; its users cannot act for it."
        assert upstream.lookups["wc-woonbron"] == 2


async def test_an_unregistered_answer_is_not_kept_past_the_cache_time(echo_upstream) -> None:
    upstream, _, settings_for = echo_upstream
    upstream.unregistered.add("bl-new")
    settings = settings_for(organisation_cache_s=0.2)
    investor = bearer(settings, Role.investor, "bl-new")
    async with gateway(settings) as client:
        problem(await client.get(ECHO, headers=investor))
        upstream.unregistered.discard("bl-new")  # registered now
        await asyncio.sleep(0.25)
        assert (await client.get(ECHO, headers=investor)).status_code == 200


async def test_when_the_registry_cannot_answer_investors_are_refused_and_asked_again_next_time(echo_upstream) -> None:
    upstream, _, settings_for = echo_upstream
    settings = settings_for(upstream_retries=0)
    investor = bearer(settings, Role.investor, "wc-woonbron")
    async with gateway(settings) as client:
        upstream.registry_failures = 1
        r = await client.get(ECHO, headers=investor)
        assert r.status_code == 503 and upstream.calls[("GET", ECHO)] == 0
        assert (await client.get(ECHO, headers=investor)).status_code == 200  # a failure is not remembered


async def test_parallel_calls_of_one_organisation_ask_the_registry_once(echo_upstream) -> None:
    upstream, _, settings_for = echo_upstream
    settings = settings_for()
    investor = bearer(settings, Role.investor, "wc-woonbron")
    async with gateway(settings) as client:
        answers = await asyncio.gather(*(client.get(ECHO, headers=investor) for _ in range(8)))
        assert [a.status_code for a in answers] == [200] * 8
        assert upstream.lookups["wc-woonbron"] == 1


async def test_municipalities_need_a_cbs_code_and_the_marktmeester_the_configured_org(echo_upstream) -> None:
    upstream, _, settings_for = echo_upstream
    settings = settings_for(marktmeester_orgs=["rvo"])
    async with gateway(settings) as client:
        assert "GM9999 is not registered" in problem(await client.get(ECHO, headers=bearer(settings, Role.municipality, "GM9999")))["detail"]
        assert (await client.get(ECHO, headers=bearer(settings, Role.municipality, "GM0363"))).status_code == 200
        assert (await client.get(ECHO, headers=bearer(settings, Role.marktmeester, "rvo"))).status_code == 200
        assert (await client.get(ECHO, headers=bearer(settings, Role.marktmeester))).status_code == 200
        assert "ezk is not registered" in problem(await client.get(ECHO, headers=bearer(settings, Role.marktmeester, "ezk")))["detail"]
    assert sum(upstream.lookups.values()) == 0  # neither asks the investors' registry
