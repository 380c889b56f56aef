"""A burst folded batch by batch, set-based, has exactly the effect of folding its events one by one:
the same read model, ledger, rematch requests and inbox, each event once (a duplicate in the batch,
or a redelivery after a crash between commit and ack, changes nothing), and an event that fails
holds up no other event of its batch."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from typing import Any

import orjson
import sqlalchemy as sa

from herplaatsing.testing import eventually
from services.matching.app.db import bus_tables
from services.matching.app.events import handlers
from services.matching.app.ledger.models import LedgerHome
from services.matching.app.readmodel.models import PlacementDemand, PlotView
from services.matching.app.rematch.models import RematchRequest
from services.matching.tests.conftest import TODAY, complex_spec, expiring, site
from shared.bus.consumer import Consumer, parse
from shared.bus.nats import connect, ensure_stream
from shared.bus.outbox import build_event
from shared.events import models as ev
from shared.runtime import ServiceRuntime

FILTERS = ("inventory.>", "sites.>")


@dataclasses.dataclass
class Folder:
    """Matching's consumers on a database of their own (no matcher: the requests stay to be compared)."""

    runtime: ServiceRuntime
    consumers: dict[str, Consumer]
    nc: Any

    async def drain(self) -> None:
        for consumer in self.consumers.values():
            while await consumer.fetch_and_handle():
                pass

    async def close(self) -> None:
        await self.nc.close()
        await self.runtime.db.dispose()  # type: ignore[union-attr]


async def _folder(settings, url: str, name: str, *, batched: bool, **overrides) -> Folder:
    s = settings.model_copy(update={"database_url": url, "service_name": name, "consumer_batch_transaction": batched,
                                    "consumer_batch_size": 100, "consumer_fetch_timeout_s": 0.3, **overrides})
    runtime = ServiceRuntime(s, bus_tables, handlers=handlers)
    nc = await connect(s)
    consumers = {f: Consumer(runtime.db, bus_tables, nc.jetstream(), s, f, runtime.handlers[f]) for f in FILTERS}
    for consumer in consumers.values():
        await consumer.subscribe()
    return Folder(runtime, consumers, nc)


async def _state(folder: Folder) -> dict[str, Any]:
    async with folder.runtime.db.sessions() as s:  # type: ignore[union-attr]
        def rows(model, key):  # noqa: ANN001, ANN202
            return s.execute(sa.select(*model.__table__.c).order_by(key))
        return {
            "placements": [dict(r._mapping) for r in (await rows(PlacementDemand, PlacementDemand.placement_id)).all()],
            "ledger": [dict(r._mapping) for r in (await rows(LedgerHome, LedgerHome.unit_id)).all()],
            "plots": [dict(r._mapping) for r in (await rows(PlotView, PlotView.site_id)).all()],
            # one request for all waiting demand is as good as several
            "requests": set((await s.execute(sa.select(RematchRequest.placement_id, RematchRequest.reason))).all()),
            "inbox": set((await s.execute(sa.text("SELECT event_id, outcome FROM processed_events"))).all()),
        }


async def _commits(folder: Folder, table: str) -> int:
    """Transactions that wrote the table's rows (rows written by one transaction share its xmin)."""
    async with folder.runtime.db.sessions() as s:  # type: ignore[union-attr]
        return int(await s.scalar(sa.text(f"SELECT count(DISTINCT xmin::text) FROM {table}")))


class Stream:
    """Publishes to the test's stream; `again` publishes an event a second time without its Msg-Id, so the
    broker keeps both copies (a producer's retry after the duplicate window)."""

    def __init__(self, publish) -> None:  # noqa: ANN001
        self.publish = publish
        self.sent: list[tuple[str, bytes]] = []

    async def __call__(self, event_type: str, data: ev.EventData) -> None:
        event = build_event(event_type.split(".")[0], event_type, uuid.uuid4(), data)
        raw = orjson.dumps(event.model_dump(mode="json"))
        self.sent.append((event_type, raw))
        await self._js().publish(self.publish.settings.subject(event_type), raw, headers={"Nats-Msg-Id": str(event.id)})

    async def again(self, n: int) -> None:
        event_type, raw = self.sent[n]
        await self._js().publish(self.publish.settings.subject(event_type), raw)

    def _js(self):  # noqa: ANN202
        return self.publish.nc.jetstream()

    async def connect(self) -> None:
        self.publish.nc = await connect(self.publish.settings, name="test-publisher")
        await ensure_stream(self.publish.nc.jetstream(), self.publish.settings)


async def _burst(stream: Stream) -> None:
    """Mixed event types, a placement twice in one run, a plot's older snapshot after its newer one."""
    spec = complex_spec(unit_count=6)
    units = [uuid.uuid4() for _ in range(6)]
    placed = uuid.uuid4()
    await stream("inventory.complex.registered", ev.ComplexRegistered(**spec.model_dump(), unit_ids=units))
    await stream("inventory.placement.created", ev.PlacementCreated(
        placement_id=placed, complex_id=spec.complex_id, investor_org=spec.investor_org, unit_ids=units,
        gemeente_code="GM0200", lat=52.21, lon=5.97, instrument="wabo_bor4_11", start_date=dt.date(2017, 6, 30),
        end_date=dt.date(2027, 6, 30)))
    first = expiring(complex_spec(unit_count=12))
    await stream("inventory.placement.expiring", first)
    await stream("inventory.placement.expiring", ev.PlacementExpiring(  # the placed one: active -> waiting
        placement_id=placed, complex=spec, unit_ids=units, gemeente_code="GM0200", province_code="PV25", lat=52.21,
        lon=5.97, instrument="wabo_bor4_11", start_date=dt.date(2017, 6, 30), end_date=dt.date(2027, 6, 30),
        detected_on=TODAY))
    await stream("inventory.placement.expiring", first.model_copy(update={"end_date": dt.date(2027, 8, 31)}))  # again, changed
    closed = expiring(complex_spec(unit_count=4))
    await stream("inventory.placement.expiring", closed)
    await stream("inventory.placement.closed", ev.PlacementClosed(
        placement_id=closed.placement_id, complex_id=closed.complex.complex_id, investor_org=closed.complex.investor_org,
        unit_ids=closed.unit_ids, gemeente_code="GM0200", end_state="sold", closed_on=TODAY))
    for _ in range(3):
        await stream("inventory.placement.expiring", expiring(complex_spec(unit_count=8), end=dt.date(2027, 3, 31)))
    await stream.again(2)  # the first expiring event once more, in the same batch

    plot, other = site(capacity=40), site(capacity=30)
    await stream("sites.site.published", plot)
    await stream("sites.site.updated", ev.SiteUpdated(**{**plot.model_dump(), "version": 2, "capacity_units": 60}))
    await stream("sites.site.published", other)
    await stream("sites.site.published", plot)  # older than what we hold: not applied
    await stream("sites.site.withdrawn", ev.SiteWithdrawn(site_id=other.site_id, version=2, gemeente_code="GM0200"))
    await stream("sites.site.published", site(capacity=20))


async def test_a_burst_folded_set_based_in_one_transaction_has_the_effect_of_one_event_at_a_time(
        settings, publish, committed_databases):
    stream = Stream(publish)
    await stream.connect()
    batched = await _folder(settings, settings.database_url, "matching-batched", batched=True)
    one_by_one = await _folder(settings, await committed_databases("matching"), "matching-one-by-one", batched=False)
    try:
        await _burst(stream)
        await batched.drain()
        await one_by_one.drain()
        got, want = await _state(batched), await _state(one_by_one)
        assert len(got["placements"]) == 6 and len(got["plots"]) == 3 and len(got["ledger"]) == 6 + 12 + 4 + 24
        assert {p["demand_status"] for p in got["placements"]} == {"waiting", "closed"}
        assert len(got["inbox"]) == len(stream.sent)  # the copy of an event is no second row
        assert got == want
        # each subject's burst in one transaction (one fetch)
        assert await _commits(batched, "processed_events") == 2 and await _commits(one_by_one, "processed_events") > 2
    finally:
        await batched.close()
        await one_by_one.close()


async def test_an_event_that_fails_in_a_batch_holds_up_no_other_and_is_dead_lettered_on_its_own(settings, publish):
    folder = await _folder(settings, settings.database_url, "matching-failing", batched=True,
                           consumer_max_deliver=1, consumer_backoff_s=[0.05])
    try:
        good = [expiring(complex_spec(unit_count=5)) for _ in range(4)]
        bad = expiring(complex_spec(unit_count=5, investor_org="x" * 101))  # longer than the read model holds
        for data in good[:2] + [bad] + good[2:]:
            await publish("inventory.placement.expiring", data, data.placement_id)
        await folder.drain()
        state = await _state(folder)
        assert {p["placement_id"] for p in state["placements"]} == {g.placement_id for g in good}
        assert {r[0] for r in state["requests"]} == {g.placement_id for g in good}
        assert len(state["ledger"]) == 4 * 5
        async with folder.runtime.db.sessions() as s:  # type: ignore[union-attr]
            [dead] = (await s.execute(sa.text("SELECT payload FROM dead_letters"))).scalars().all()
        assert str(bad.placement_id) in dead
        assert await _commits(folder, "placements") == 4  # the batch rolled back; each good event then on its own
    finally:
        await folder.close()


async def test_a_batch_redelivered_after_a_crash_between_commit_and_ack_changes_nothing(settings, publish):
    folder = await _folder(settings, settings.database_url, "matching-crash", batched=True, consumer_ack_wait_s=1.0)
    consumer = folder.consumers["inventory.>"]
    try:
        demands = [expiring(complex_spec(unit_count=3)) for _ in range(5)]
        for d in demands[:3]:
            await publish("inventory.placement.expiring", d, d.placement_id)
        # the fold of the first three commits, then the process dies before it acks
        msgs = await consumer._sub.fetch(batch=100, timeout=2)
        assert len(msgs) == 3
        async with folder.runtime.db.transaction() as session:  # type: ignore[union-attr]
            await consumer._claim_and_handle_batch(session, [(m, *parse(m.data)) for m in msgs])
        before = await _state(folder)
        for d in demands[3:]:
            await publish("inventory.placement.expiring", d, d.placement_id)
        await asyncio.sleep(1.2)  # past the ack deadline: the three come again, with the two new ones

        async def all_acked() -> bool:
            await folder.drain()
            info = await folder.nc.jetstream().consumer_info(settings.stream_name, consumer.name)
            return info.num_pending == 0 and info.num_ack_pending == 0  # the three unacked ones too
        await eventually(all_acked, timeout=15)
        after = await _state(folder)
        assert len(after["placements"]) == 5 and len(after["inbox"]) == 5 and len(after["ledger"]) == 15
        first_three = {d.placement_id for d in demands[:3]}
        assert before["placements"] == [p for p in after["placements"] if p["placement_id"] in first_three]
        assert {r[0] for r in after["requests"]} == {d.placement_id for d in demands}
        async with folder.runtime.db.sessions() as s:  # type: ignore[union-attr]
            assert await s.scalar(sa.select(sa.func.count()).select_from(RematchRequest)) == 5  # one each, not twice
    finally:
        await folder.close()
