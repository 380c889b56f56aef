"""Business refusals are acknowledged once (never retried or dead-lettered); dead letters are listed,
retried through the handler and inbox (the effect happens once), or resolved by the marktmeester."""

from __future__ import annotations

import uuid

import orjson
import sqlalchemy as sa

from herplaatsing.testing import eventually, headers_for, running_app
from shared.bus.consumer import Consumer, Refused
from shared.bus.handlers import EventHandlers
from shared.bus.nats import connect, ensure_stream
from shared.bus.outbox import OutboxRelay, record_event
from shared.domain import Role
from shared.metrics import DEAD_LETTERS
from shared.runtime import ServiceRuntime
from shared.web.app import create_service_app
from shared.web.dead_letters import dead_letters_router

from .conftest import TABLES, sample_event, settings_for

SUBJECT = "sites.site.withdrawn"
COMPENSATION = uuid.UUID("00000000-0000-0000-0000-00000000c0de")


async def _publish_again(producer_db, js, settings) -> None:
    """The stored event published once more without a Msg-Id (outside the duplicate window)."""
    async with producer_db.sessions() as s:
        payload = (await s.execute(sa.select(TABLES.outbox.c.payload))).scalar_one()
    await js.publish(settings.subject(SUBJECT), orjson.dumps(payload))


async def _effects(db) -> list[str]:
    async with db.sessions() as s:
        return [str(r) for r in (await s.scalars(sa.text("SELECT event_id FROM effects ORDER BY event_id"))).all()]


async def test_a_refusal_is_acked_once_with_its_compensation_and_never_retried_or_dead_lettered(
    producer_db, consumer_db, make_settings
):
    settings = settings_for(make_settings, "sites")
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    async with producer_db.transaction() as session:
        event = await record_event(session, TABLES, "sites", SUBJECT, "site-1", sample_event())
    relay = OutboxRelay(producer_db, TABLES, js, settings)
    await relay.publish_pending()

    calls = 0

    async def refuse(session, event, data) -> None:
        nonlocal calls
        calls += 1
        await session.execute(sa.text("INSERT INTO effects (event_id) VALUES (:e)"), {"e": str(event.id)})  # undone

        async def compensate(s) -> None:
            await s.execute(sa.text("INSERT INTO effects (event_id) VALUES (:e)"), {"e": str(COMPENSATION)})

        raise Refused("placement_closed: the homes were sold", compensate)

    csettings = settings_for(make_settings, "matching", consumer_backoff_s=[0.01], consumer_max_deliver=2)
    consumer = Consumer(consumer_db, TABLES, js, csettings, "sites.>", {SUBJECT: refuse})
    for _ in range(4):
        await consumer.fetch_and_handle()
    assert calls == 1  # acknowledged at once: no redelivery
    assert await _effects(consumer_db) == [str(COMPENSATION)]  # the handler's work rolled back, the compensation kept
    async with consumer_db.sessions() as s:
        inbox = (await s.execute(sa.select(TABLES.processed_events.c.outcome, TABLES.processed_events.c.detail))).one()
        assert tuple(inbox) == ("refused", "placement_closed: the homes were sold")
        assert await s.scalar(sa.select(sa.func.count()).select_from(TABLES.dead_letters)) == 0
    info = await js.consumer_info(csettings.stream_name, consumer.name)
    assert info.num_ack_pending == 0 and info.num_pending == 0

    # The same event again (a replay): the inbox knows it, no second compensation.
    await _publish_again(producer_db, js, settings)
    for _ in range(3):
        await consumer.fetch_and_handle()
    assert calls == 1 and await _effects(consumer_db) == [str(COMPENSATION)]
    assert (await js.consumer_info(csettings.stream_name, consumer.name)).delivered.stream_seq == 2  # it was delivered
    assert event.id
    await nc.close()


def breakable_handlers() -> tuple[EventHandlers[ServiceRuntime], dict[str, bool]]:
    """A handler that fails while `broken["yes"]` (its cause not fixed yet), then records its effect."""
    handlers = EventHandlers[ServiceRuntime]()
    broken = {"yes": True}

    @handlers.on("sites.>", SUBJECT)
    async def withdrawn(session, runtime, data) -> None:
        if broken["yes"]:
            raise RuntimeError("plot register unavailable")
        await session.execute(sa.text("INSERT INTO effects (event_id) VALUES (:e)"), {"e": str(data.site_id)})

    return handlers, broken


async def test_dead_letters_are_listed_retried_once_the_cause_is_fixed_and_resolved(
    producer_db, consumer_db, make_settings
):
    settings = settings_for(make_settings, "sites")
    handlers, broken = breakable_handlers()

    csettings = settings_for(make_settings, "matching", database_url=consumer_db.url, consumer_backoff_s=[0.01],
                             consumer_max_deliver=2, outbox_poll_interval_s=0.05)
    runtime = ServiceRuntime(csettings, TABLES, handlers=handlers)
    app = create_service_app(runtime, routers=[dead_letters_router()], title="t", description="t")
    mm = headers_for(csettings, Role.marktmeester, sub="mm-anna")
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    data = sample_event()
    async with producer_db.transaction() as session:
        await record_event(session, TABLES, "sites", SUBJECT, "site-1", data)
    relay = OutboxRelay(producer_db, TABLES, js, settings)
    await relay.publish_pending()
    await js.publish(settings.subject(SUBJECT), b"{not json")  # poison: never handled

    async with running_app(app) as client:
        async def listed():
            r = await client.get("/api/v1/dead-letters", headers=mm)
            assert r.status_code == 200, r.text
            return len(r.json()["data"]) == 2 and r.json()["data"]

        failed, poison = await eventually(listed, timeout=20)  # newest first: the poison is parked at once
        assert "not a CloudEvent" in poison["error"] and poison["event_id"] is None
        assert failed["subject"].endswith(SUBJECT) and "plot register unavailable" in failed["error"]
        assert failed["deliveries"] == 2 and failed["status"] == "open" and failed["service"] == "matching"
        assert failed["first_seen_at"] and failed["last_seen_at"]
        await runtime.refresh_metrics()
        assert DEAD_LETTERS.labels("matching")._value.get() == 2

        page = (await client.get("/api/v1/dead-letters", headers=mm, params={"limit": 1})).json()
        assert [d["id"] for d in page["data"]] == [failed["id"]]
        rest = (await client.get("/api/v1/dead-letters", headers=mm, params={"limit": 1, "cursor": page["next_cursor"]})).json()
        assert [d["id"] for d in rest["data"]] == [poison["id"]] and rest["next_cursor"] is None

        # Retried while the cause persists: still open, with the new error and one more delivery.
        again = await client.post(f"/api/v1/dead-letters/{failed['id']}/retry", headers=mm)
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "open" and again.json()["deliveries"] == 3
        assert await _effects(consumer_db) == []

        broken["yes"] = False
        done = (await client.post(f"/api/v1/dead-letters/{failed['id']}/retry", headers=mm)).json()
        assert done["status"] == "retried" and done["resolved_by"] == "mm-anna" and done["note"] == "retried: handled"
        assert await _effects(consumer_db) == [str(data.site_id)]
        conflict = await client.post(f"/api/v1/dead-letters/{failed['id']}/retry", headers=mm)
        assert conflict.status_code == 409
        assert await _effects(consumer_db) == [str(data.site_id)]  # the effect happened once

        resolved = await client.post(f"/api/v1/dead-letters/{poison['id']}/resolve", headers=mm, json={"note": "test garbage"})
        assert resolved.status_code == 200, resolved.text
        assert (resolved.json()["status"], resolved.json()["resolved_by"], resolved.json()["note"]) == ("resolved", "mm-anna", "test garbage")
        await runtime.refresh_metrics()
        assert DEAD_LETTERS.labels("matching")._value.get() == 0
        only_open = (await client.get("/api/v1/dead-letters", headers=mm, params={"status": "open"})).json()
        assert only_open["data"] == []

        investor = headers_for(csettings, Role.investor, "woonstad")
        assert (await client.get("/api/v1/dead-letters", headers=investor)).status_code == 403
        assert (await client.post(f"/api/v1/dead-letters/{poison['id']}/retry", headers=investor)).status_code == 403
        assert (await client.post("/api/v1/dead-letters/999999/retry", headers=mm)).status_code == 404
        bad = await client.get("/api/v1/dead-letters", headers=mm, params={"status": "gone"})
        assert bad.status_code == 400 and "status" in bad.text
        bad_body = await client.post(f"/api/v1/dead-letters/{poison['id']}/resolve", headers=mm, json={"note": 5})
        assert bad_body.status_code == 400 and "note" in bad_body.text
    await nc.close()


async def test_a_retry_of_an_event_handled_meanwhile_has_no_second_effect(producer_db, consumer_db, make_settings):
    """The inbox guards retries too: the event came through after all (a redelivery), then the retry is a duplicate."""
    settings = settings_for(make_settings, "sites")
    handlers, broken = breakable_handlers()

    csettings = settings_for(make_settings, "matching", database_url=consumer_db.url, consumer_backoff_s=[0.01],
                             consumer_max_deliver=1, start_background=False)
    runtime = ServiceRuntime(csettings, TABLES, handlers=handlers)
    nc = await connect(settings)
    js = nc.jetstream()
    await ensure_stream(js, settings)
    async with producer_db.transaction() as session:
        await record_event(session, TABLES, "sites", SUBJECT, "site-1", sample_event())
    relay = OutboxRelay(producer_db, TABLES, js, settings)
    await relay.publish_pending()
    await runtime.connect_bus()
    [consumer] = runtime.consumers
    await consumer.fetch_and_handle()  # fails, no retries left: dead letter
    async with consumer_db.sessions() as s:
        letter_id = await s.scalar(sa.select(TABLES.dead_letters.c.id))
    broken["yes"] = False
    await _publish_again(producer_db, js, settings)  # the producer replays: this time it is handled
    await consumer.fetch_and_handle()
    assert len(await _effects(consumer_db)) == 1

    from shared.bus import dead_letters

    row = await dead_letters.retry(runtime, letter_id, "mm-anna")
    assert (row.status, row.note) == ("retried", "retried: duplicate")
    assert len(await _effects(consumer_db)) == 1
    await runtime.stop()
    await nc.close()
