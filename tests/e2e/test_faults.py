"""The reliability promises under faults, on the running system (DESIGN.md "Reliability promises").

Every test injects its fault mid-flow and ends with the flow complete and the end state
equal to the undisturbed run's (scenario.EXPECTED, which test_flow proves a real run
reaches): one scheduled proposal per placement, the same reserved units, exactly one
reservation and one relocation per placement, no dead letters, no unpublished outbox rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from herplaatsing.embedded import NatsServer
from tests.e2e import scenario
from tests.e2e.harness import SystemUnderTest, nats_cluster, wait_for

pytestmark = pytest.mark.slow

MakeSystem = Callable[..., SystemUnderTest]


def _finish(system: SystemUnderTest, market: scenario.Marketplace) -> None:
    for key, proposal in scenario.pending_proposals(system, market).items():
        scenario.check_proposal(market, key, proposal)
        scenario.accept(system, proposal)
    scenario.scheduled(system, market)
    scenario.assert_end_state(system, market)


def _signal_recorded(system: SystemUnderTest, market: scenario.Marketplace) -> None:
    """The expiry signals are committed (in inventory's outbox), whatever the broker does."""
    scenario.placements_expiring(system, market)


def test_nats_restarted_mid_flow_loses_nothing(make_system: MakeSystem, private_nats: NatsServer) -> None:
    nats = private_nats
    system = make_system(nats_urls=nats.url)
    system.start()
    market = scenario.Marketplace()
    scenario.publish_plots(system, market)
    scenario.register_homes(system, market)

    # Down while the clock moves: the expiry signals wait in the outbox.
    nats.stop()
    scenario.move_clock(system)
    _signal_recorded(system, market)
    unpublished = system.sql("inventory", "SELECT count(*) FROM outbox WHERE published_at IS NULL AND event_type = 'inventory.placement.expiring'")
    assert unpublished == [(2,)]
    _ready_but_degraded(system)
    nats.start()
    wait_for(lambda: _readyz(system, "inventory")["status"] == "ready", timeout=30, what="inventory ready again")

    proposals = scenario.pending_proposals(system, market)
    for key, proposal in proposals.items():
        scenario.check_proposal(market, key, proposal)
        scenario.accept(system, proposal)
    # Down again while the acceptances travel to sites and the reservations to inventory.
    nats.stop()
    time.sleep(1)
    nats.start()
    scenario.scheduled(system, market)
    scenario.assert_end_state(system, market)


def _readyz(system: SystemUnderTest, svc: str) -> dict:
    r = httpx.get(f"http://127.0.0.1:{system.ports[svc]}/readyz", timeout=10)
    assert r.status_code == 200, r.text  # NATS down degrades a service with an outbox, never unreadies it
    return r.json()


def _metric(system: SystemUnderTest, svc: str, line_start: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{system.ports[svc]}/metrics", timeout=10).text
    return float(next(line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(line_start)))


def _ready_but_degraded(system: SystemUnderTest) -> None:
    """With NATS down every service and the gateway stay in rotation; the degradation shows."""
    for svc in ("inventory", "sites", "matching"):
        body = wait_for(lambda s=svc: (b := _readyz(system, s))["status"] == "degraded" and b, timeout=30, what=f"{svc} degraded")
        assert body["checks"]["database"] == "ok" and body["checks"]["jetstream"].startswith("degraded")
        assert _metric(system, svc, f'dependency_up{{dependency="jetstream",service="{svc}"}}') == 0
    assert _readyz(system, "gateway")["status"] == "ready"
    assert _metric(system, "inventory", 'outbox_pending{service="inventory"}') >= 2
    assert _metric(system, "inventory", 'outbox_oldest_unpublished_age_seconds{service="inventory"}') > 0


@pytest.mark.parametrize("victim", ["inventory", "sites", "matching"])
def test_service_killed_mid_flow_loses_nothing(system: SystemUnderTest, victim: str) -> None:
    market = scenario.Marketplace()
    scenario.publish_plots(system, market)
    scenario.register_homes(system, market)

    # Killed while the expiry signals are produced (inventory) or consumed (matching) ...
    scenario.move_clock(system)
    if victim != "inventory":
        _published(system, "inventory", "inventory.placement.expiring", 2)  # on their way to matching
    system.kill(victim)
    time.sleep(1.5)  # the scan runs every second: the others keep working meanwhile
    system.start(victim)
    scenario.placements_expiring(system, market)

    proposals = scenario.pending_proposals(system, market)
    for key, proposal in proposals.items():
        scenario.check_proposal(market, key, proposal)
        scenario.accept(system, proposal)
    # ... and while the acceptances are reserved (sites) and scheduled (inventory).
    system.kill(victim)
    time.sleep(1)
    system.start(victim)
    scenario.scheduled(system, market)
    scenario.assert_end_state(system, market)


def test_cluster_losing_a_node_mid_flow_loses_nothing(make_system: MakeSystem, tmp_path: Path) -> None:
    with nats_cluster(tmp_path / "cluster") as nodes:
        urls = ",".join(node.url for node in nodes)
        system = make_system(nats_urls=urls, STREAM_REPLICAS="3")
        system.start()
        market = scenario.Marketplace()
        scenario.publish_plots(system, market)
        scenario.register_homes(system, market)
        # The stream's leader dies (SIGKILL): the two others elect a new one and carry on;
        # clients connected to the dead node reconnect to the others.
        info = system.stream_info()
        assert info.config.num_replicas == 3 and len(info.cluster.replicas) == 2
        leader = system.stream_leader()
        victim = next(node for node in nodes if node.name == leader)
        victim.stop(kill=True)
        scenario.move_clock(system)
        _finish(system, market)
        assert system.stream_leader() != leader


def _published(system: SystemUnderTest, svc: str, event_type: str, count: int) -> None:
    """The broker acknowledged `count` events of this type (the relay marked them published)."""
    query = f"SELECT count(*) FROM outbox WHERE event_type = '{event_type}' AND published_at IS NOT NULL"
    wait_for(lambda: system.sql(svc, query) == [(count,)], timeout=30, what=f"{count} {event_type} acknowledged")


def _replayed(system: SystemUnderTest, svc: str) -> bool:
    return '"message":"outbox replayed"' in system.logs(svc)


def test_stream_deleted_mid_flow_is_recovered_by_outbox_replay(system: SystemUnderTest) -> None:
    """The expiry signals are acknowledged by the broker, then lost before matching read them."""
    market = scenario.Marketplace()
    scenario.publish_plots(system, market)
    scenario.register_homes(system, market)
    system.kill("matching")  # nobody consumes the signals until the broker has lost them
    scenario.move_clock(system)
    _signal_recorded(system, market)
    _published(system, "inventory", "inventory.placement.expiring", 2)

    # The broker loses everything it acknowledged: plots, complexes, placements, expiry signals.
    assert system.delete_stream()
    system.start("matching")
    _finish(system, market)
    assert _replayed(system, "inventory"), "only inventory's replay could have brought the expiry signals back"


def test_broker_store_wiped_mid_flow_is_recovered_by_outbox_replay(make_system: MakeSystem, private_nats: NatsServer) -> None:
    """The acceptances are acknowledged by the broker, then lost (with the whole store) before sites read them."""
    nats = private_nats
    system = make_system(nats_urls=nats.url)
    system.start()
    market = scenario.Marketplace()
    scenario.publish_plots(system, market)
    scenario.register_homes(system, market)
    scenario.move_clock(system)
    proposals = scenario.pending_proposals(system, market)
    system.kill("sites")  # nobody reserves until the broker has lost the acceptances
    for key, proposal in proposals.items():
        scenario.check_proposal(market, key, proposal)
        scenario.accept(system, proposal)
    _published(system, "matching", "matching.proposal.accepted", 2)

    # A crash that loses the store: stream, durable consumers and every acknowledged message.
    nats.stop(kill=True)
    nats.wipe()
    nats.start()
    system.start("sites")
    scenario.scheduled(system, market)
    scenario.assert_end_state(system, market)
    assert _replayed(system, "matching"), "only matching's replay could have brought the acceptances back"
