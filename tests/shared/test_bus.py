"""The reliability promises of the event plumbing, on real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import nats
import orjson
import sqlalchemy as sa
from nats.js import JetStreamContext

from herplaatsing.testing import eventually
from shared.bus.consumer import Consumer
from shared.bus.nats import connect, ensure_stream
from shared.bus.outbox import OutboxRelay, record_event

from .conftest import TABLES, EffectLog, sample_event, settings_for

SUBJECT = "sites.site.withdrawn"


async def _commit_event(db, settings) -> str:
    async with db.transaction() as session:
        event = await record_event(session, TABLES, settings.service_name, SUBJECT, "site-1", sample_event())
    return str(event.id)


async def _drain(consumer: Consumer, rounds: int = 5) -> None:
    for _ in range(rounds):
        await consumer.fetch_and_handle()


async def test_event_committed_while_nats_is_down_is_delivered_once_nats_is_back(
    producer_db, consumer_db, private_nats, make_settings
):
    settings = settings_for(make_settings, "sites", nats_url=private_nats.url)
    consumer_settings = settings_for(make_settings, "matching", nats_url=private_nats.url)
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    relay = OutboxRelay(producer_db, TABLES, js, settings)
    effects = EffectLog(consumer_db)

    private_nats.stop()
    event_id = await _commit_event(producer_db, settings)  # the API answered 2xx: this must arrive
    assert await relay.publish_pending() == 0  # broker down: the row stays unpublished
    assert await relay.pending_count() == 1

    private_nats.start()
    await eventually(lambda: asyncio.sleep(0, nc.is_connected), timeout=15)
    assert await eventually(relay.publish_pending, timeout=15) == 1

    cnc = await connect(consumer_settings)
    consumer = Consumer(consumer_db, TABLES, cnc.jetstream(), consumer_settings, "sites.>", {SUBJECT: effects.handler})
    await _drain(consumer)
    assert await effects.count() == 1
    async with consumer_db.sessions() as s:
        assert await s.scalar(sa.select(TABLES.processed_events.c.event_id)) is not None
    assert event_id
    await nc.close()
    await cnc.close()


async def test_the_same_event_delivered_twice_has_one_effect(producer_db, consumer_db, make_settings):
    settings = settings_for(make_settings, "sites")
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    await _commit_event(producer_db, settings)
    relay = OutboxRelay(producer_db, TABLES, js, settings)
    assert await relay.publish_pending() == 1
    # A replay publishes the same event again; outside the duplicate window it is stored twice.
    async with producer_db.sessions() as s:
        payload = (await s.execute(sa.select(TABLES.outbox.c.payload))).scalar_one()
    await js.publish(settings.subject(SUBJECT), orjson.dumps(payload))  # no Msg-Id: the broker keeps both
    info = await js.stream_info(settings.stream_name)
    assert info.state.messages == 2

    effects = EffectLog(consumer_db)
    consumer_settings = settings_for(make_settings, "matching")
    consumer = Consumer(consumer_db, TABLES, js, consumer_settings, "sites.>", {SUBJECT: effects.handler})
    await _drain(consumer)
    assert effects.calls == 1
    assert await effects.count() == 1
    await nc.close()


async def test_relay_publishes_with_msg_id_so_the_broker_drops_a_retried_publish(producer_db, make_settings):
    settings = settings_for(make_settings, "sites")
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    await _commit_event(producer_db, settings)
    relay = OutboxRelay(producer_db, TABLES, js, settings)
    await relay.publish_pending()
    # Simulate a relay that crashed after publishing but before marking the row.
    async with producer_db.transaction() as s:
        await s.execute(sa.update(TABLES.outbox).values(published_at=None))
    await relay.publish_pending()
    assert (await js.stream_info(settings.stream_name)).state.messages == 1
    await nc.close()


async def test_published_events_follow_the_cloudevents_nats_binding(producer_db, make_settings):
    """An outside subscriber sees structured mode: the Content-Type header and the whole JSON event as payload."""
    settings = settings_for(make_settings, "sites")
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    event_id = await _commit_event(producer_db, settings)
    await OutboxRelay(producer_db, TABLES, js, settings).publish_pending()
    msg = await js.get_last_msg(settings.stream_name, settings.subject(SUBJECT))
    assert msg.headers["Content-Type"] == "application/cloudevents+json; charset=utf-8"
    assert msg.headers["Nats-Msg-Id"] == event_id
    envelope = orjson.loads(msg.data)
    assert envelope["specversion"] == "1.0" and envelope["id"] == event_id and envelope["type"] == SUBJECT
    assert envelope["datacontenttype"] == "application/json" and envelope["data"]
    await nc.close()


async def test_a_handler_that_raises_leads_to_redelivery_not_loss(producer_db, consumer_db, make_settings):
    settings = settings_for(make_settings, "sites", consumer_backoff_s=[0.05])
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    await _commit_event(producer_db, settings)
    await OutboxRelay(producer_db, TABLES, js, settings).publish_pending()

    effects = EffectLog(consumer_db, fail_times=2)
    consumer = Consumer(consumer_db, TABLES, js, settings_for(make_settings, "matching", consumer_backoff_s=[0.05]), "sites.>", {SUBJECT: effects.handler})
    for _ in range(10):
        await consumer.fetch_and_handle()
        if await effects.count():
            break
    assert effects.calls == 3
    assert await effects.count() == 1
    async with consumer_db.sessions() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(TABLES.dead_letters)) == 0
    await nc.close()


async def test_poison_and_exhausted_messages_end_in_the_dead_letter_table(producer_db, consumer_db, make_settings):
    settings = settings_for(make_settings, "sites")
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    await js.publish(settings.subject(SUBJECT), b"{not json")  # poison: not a CloudEvent
    bad = {"specversion": "1.0", "id": "6f1c3c2e-8d55-4a0c-9a43-111111111111", "source": "x", "type": SUBJECT,
           "subject": "s", "data": {"site_id": "not-a-uuid"}}
    await js.publish(settings.subject(SUBJECT), orjson.dumps(bad))  # poison: data breaks the schema
    await _commit_event(producer_db, settings)
    await OutboxRelay(producer_db, TABLES, js, settings).publish_pending()

    always_fails = EffectLog(consumer_db, fail_times=10**6)
    csettings = settings_for(make_settings, "matching", consumer_backoff_s=[0.01], consumer_max_deliver=3)
    consumer = Consumer(consumer_db, TABLES, js, csettings, "sites.>", {SUBJECT: always_fails.handler})
    for _ in range(12):
        await consumer.fetch_and_handle()
    async with consumer_db.sessions() as s:
        rows = (await s.execute(sa.select(TABLES.dead_letters.c.error, TABLES.dead_letters.c.deliveries))).all()
    assert len(rows) == 3
    assert sum("not a CloudEvent" in r.error for r in rows) == 1
    assert sum("data invalid" in r.error for r in rows) == 1
    exhausted = [r for r in rows if "transient failure" in r.error]
    assert len(exhausted) == 1 and exhausted[0].deliveries == 3
    assert await always_fails.count() == 0
    await nc.close()


async def test_relay_replays_the_outbox_when_the_stream_lost_its_events(producer_db, consumer_db, make_settings):
    settings = settings_for(make_settings, "sites", stream_check_interval_s=0.0)
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    for _ in range(3):
        await _commit_event(producer_db, settings)
    relay = OutboxRelay(producer_db, TABLES, js, settings)
    assert await relay.publish_pending() == 3
    assert await relay.stream_has_our_last_event()

    await js.delete_stream(settings.stream_name)  # the broker lost acknowledged messages
    await ensure_stream(js, settings)
    assert not await relay.stream_has_our_last_event()
    assert await relay.replay() == 3
    assert (await js.stream_info(settings.stream_name)).state.messages == 3

    effects = EffectLog(consumer_db)
    consumer = Consumer(consumer_db, TABLES, js, settings_for(make_settings, "matching"), "sites.>", {SUBJECT: effects.handler})
    await _drain(consumer)
    await relay.replay()  # a second replay: consumers' inboxes make it harmless
    await _drain(consumer)
    assert await effects.count() == 3
    await nc.close()


@contextlib.asynccontextmanager
async def _two_relays_running(db, settings) -> AsyncIterator[JetStreamContext]:
    """Two relays of one service competing for leadership, as two replicas would."""
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(OutboxRelay(db, TABLES, js, settings).run(stop)) for _ in range(2)]
    try:
        yield js
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await nc.close()


async def test_only_one_relay_per_service_publishes(producer_db, make_settings):
    settings = settings_for(make_settings, "sites", outbox_poll_interval_s=0.05)
    async with _two_relays_running(producer_db, settings) as js:
        for _ in range(20):
            await _commit_event(producer_db, settings)
        await eventually(lambda: _published(producer_db, 20))
        info = await js.stream_info(settings.stream_name)
    assert info.state.messages == 20
    # published in commit order
    async with producer_db.sessions() as s:
        seqs = (await s.execute(sa.select(TABLES.outbox.c.stream_seq).order_by(TABLES.outbox.c.seq))).scalars().all()
    assert seqs == sorted(seqs)


async def _published(db, n: int) -> bool:
    async with db.sessions() as s:
        count = await s.scalar(
            sa.select(sa.func.count()).select_from(TABLES.outbox).where(TABLES.outbox.c.published_at.is_not(None))
        )
    return count == n


async def test_a_recreated_stream_that_already_holds_newer_events_still_triggers_replay(producer_db, make_settings):
    """The stream was lost and recreated, then a new event arrived first: the old ones must come back."""
    settings = settings_for(make_settings, "sites")
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    relay = OutboxRelay(producer_db, TABLES, js, settings)
    for _ in range(3):
        await _commit_event(producer_db, settings)
    assert await relay.publish_pending() == 3

    await js.delete_stream(settings.stream_name)
    await _commit_event(producer_db, settings)
    assert await relay.publish_pending() == 0  # no stream: nothing acknowledged, the row waits
    await ensure_stream(js, settings)
    assert await relay.publish_pending() == 1  # the newest event is in the new stream...
    assert not await relay.stream_has_our_last_event()  # ...but the old ones are not
    assert await relay.replay() == 4
    assert await relay.stream_has_our_last_event()
    assert (await js.stream_info(settings.stream_name)).state.messages == 4
    await nc.close()


async def test_replay_recreates_a_missing_stream(producer_db, make_settings):
    settings = settings_for(make_settings, "sites")
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    await _commit_event(producer_db, settings)
    relay = OutboxRelay(producer_db, TABLES, js, settings)
    await relay.publish_pending()
    await js.delete_stream(settings.stream_name)
    assert await relay.replay() == 1
    assert (await js.stream_info(settings.stream_name)).state.messages == 1
    await nc.close()


async def _relay_leader_activity(db) -> list[tuple[str, object]]:
    """(state, backend_xmin) of every session holding an advisory lock on this database."""
    async with db.sessions() as s:
        rows = await s.execute(
            sa.text(
                "SELECT a.state, a.backend_xmin FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()"
            )
        )
        return [tuple(r) for r in rows]


async def test_relay_leader_holds_its_lock_without_an_open_transaction(producer_db, make_settings):
    # A leader `idle in transaction` pins xmin for as long as it leads, and vacuum stalls.
    settings = settings_for(make_settings, "sites", outbox_poll_interval_s=0.05, stream_check_interval_s=0.1)
    async with _two_relays_running(producer_db, settings):
        await _commit_event(producer_db, settings)
        await eventually(lambda: _published(producer_db, 1))
        await asyncio.sleep(0.3)  # several publish rounds and stream checks on the lock connection
        assert await _relay_leader_activity(producer_db) == [("idle", None)]


def _sample(name: str, labels: dict[str, str]) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_show_backlog_age_stalls_consumer_lag_and_dead_letters(
    producer_db, consumer_db, private_nats, make_settings
):
    from shared.runtime import ServiceRuntime

    settings = settings_for(make_settings, "sites", nats_url=private_nats.url)
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    relay = OutboxRelay(producer_db, TABLES, js, settings)
    producer = ServiceRuntime(settings, None)
    producer.db, producer.tables, producer.nc, producer.js = producer_db, TABLES, nc, js
    stalls = _sample("outbox_relay_stalls_total", {"service": "sites"})

    private_nats.stop()
    await _commit_event(producer_db, settings)
    await asyncio.sleep(0.05)
    assert await relay.publish_pending() == 0
    await producer.refresh_metrics()
    assert _sample("outbox_relay_stalls_total", {"service": "sites"}) == stalls + 1  # the head event failed
    assert _sample("outbox_pending", {"service": "sites"}) == 1
    assert _sample("outbox_oldest_unpublished_age_seconds", {"service": "sites"}) > 0
    assert (await producer.readiness())["outbox"] == "ok"  # young: the relay may still get it out
    producer.settings = settings.model_copy(update={"outbox_stall_after_s": 0.0})
    stalled = (await producer.readiness())["outbox"]
    assert stalled.startswith("degraded: event ") and "after 1 attempts" in stalled  # names the head event
    producer.settings = settings
    private_nats.start()
    await eventually(lambda: asyncio.sleep(0, nc.is_connected), timeout=15)
    assert await eventually(relay.publish_pending, timeout=15) == 1
    await _commit_event(producer_db, settings)
    await relay.publish_pending()
    await producer.refresh_metrics()
    assert _sample("outbox_pending", {"service": "sites"}) == 0
    assert _sample("outbox_oldest_unpublished_age_seconds", {"service": "sites"}) == 0

    csettings = settings_for(make_settings, "matching", nats_url=private_nats.url, consumer_batch_size=1,
                             consumer_backoff_s=[0.01], consumer_max_deliver=1)
    consumer_runtime = ServiceRuntime(csettings, None)
    consumer_runtime.db, consumer_runtime.tables, consumer_runtime.nc, consumer_runtime.js = consumer_db, TABLES, nc, js
    always_fails = EffectLog(consumer_db, fail_times=10**6)
    consumer = Consumer(consumer_db, TABLES, js, csettings, "sites.>", {SUBJECT: always_fails.handler})
    consumer_runtime.consumers = [consumer]
    await consumer.subscribe()
    await consumer_runtime.refresh_metrics()
    assert _sample("consumer_pending_messages", {"consumer": consumer.name}) == 2  # both events wait: the lag
    await consumer.fetch_and_handle()  # one event, its handler fails, no retries left: dead letter
    await consumer_runtime.refresh_metrics()
    assert _sample("consumer_pending_messages", {"consumer": consumer.name}) == 1
    assert _sample("dead_letters", {"service": "matching"}) == 1
    await nc.close()


async def test_a_batch_folds_in_one_transaction_and_a_failure_in_it_falls_back_to_one_by_one(producer_db, consumer_db, make_settings):
    settings = settings_for(make_settings, "sites")
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    relay = OutboxRelay(producer_db, TABLES, js, settings)
    effects = EffectLog(consumer_db)
    consumer = Consumer(consumer_db, TABLES, js, settings_for(make_settings, "matching", consumer_batch_transaction=True,
                                                             consumer_backoff_s=[0.05]), "sites.>", {SUBJECT: effects.handler})

    async def transactions() -> int:  # rows written by one transaction share its xmin
        async with consumer_db.sessions() as s:
            return int(await s.scalar(sa.text("SELECT count(DISTINCT xmin::text) FROM effects")))

    for _ in range(5):
        await _commit_event(producer_db, settings)
    await relay.publish_pending()
    await eventually(lambda: _fetched(consumer, effects, 5))
    assert effects.calls == 5 and await transactions() == 1  # one commit for the batch

    # the first event of the next batch fails once: the batch rolls back, each event then commits on its own
    effects.fail_times = effects.calls + 1
    for _ in range(3):
        await _commit_event(producer_db, settings)
    await relay.publish_pending()
    await eventually(lambda: _fetched(consumer, effects, 8))
    assert effects.calls == 5 + 1 + 3 and await effects.count() == 8
    assert await transactions() == 1 + 3
    await nc.close()


async def _fetched(consumer: Consumer, effects: EffectLog, n: int) -> bool:
    await consumer.fetch_and_handle()
    return await effects.count() == n
