"""The reliability promises of the event plumbing, on real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio

import nats
import orjson
import sqlalchemy as sa

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


async def test_only_one_relay_per_service_publishes(producer_db, make_settings):
    settings = settings_for(make_settings, "sites", outbox_poll_interval_s=0.05)
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    relays = [OutboxRelay(producer_db, TABLES, js, settings) for _ in range(2)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in relays]
    for _ in range(20):
        await _commit_event(producer_db, settings)
    await eventually(lambda: _published(producer_db, 20))
    stop.set()
    await asyncio.gather(*tasks)
    info = await js.stream_info(settings.stream_name)
    assert info.state.messages == 20
    # published in commit order
    async with producer_db.sessions() as s:
        seqs = (await s.execute(sa.select(TABLES.outbox.c.stream_seq).order_by(TABLES.outbox.c.seq))).scalars().all()
    assert seqs == sorted(seqs)
    await nc.close()


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
