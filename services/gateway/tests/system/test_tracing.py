"""One request's trace, from the gateway through the service and its outbox over NATS, reaches
the consumer in another service (W3C traceparent: an HTTP header, then the CloudEvents
`traceparent` extension stored with the event)."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from herplaatsing.testing import eventually
from services.gateway.tests.system.conftest import APELDOORN, System, plot
from shared import tracing
from shared.domain import Role


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """Record spans in memory for this test only (the process-wide provider stays the no-op one)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "tracer", provider.get_tracer("test"))
    return exporter


async def test_a_requests_trace_reaches_the_consumer_of_its_event(spans: InMemorySpanExporter, system: System) -> None:
    gm, lat, lon = APELDOORN
    r = await system.client.post("/api/v1/sites", headers=system.as_(Role.municipality, gm), json=plot(gm, lat, lon))
    assert r.status_code == 201, r.text

    def consumed() -> list:
        return [s for s in spans.get_finished_spans() if s.name == "consume sites.site.published"]

    async def arrived() -> bool:
        return bool(consumed())

    await eventually(arrived, timeout=20)
    finished = spans.get_finished_spans()
    gateway = next(s for s in finished if s.kind == SpanKind.SERVER and s.name == "POST /api/v1/sites" and s.parent is None)
    trace_id = gateway.context.trace_id
    service = [s for s in finished if s.kind == SpanKind.SERVER and s.parent is not None and s.context.trace_id == trace_id]
    assert [s.name for s in service] == ["POST /sites"]  # the sites service's route
    assert service[0].parent.span_id == gateway.context.span_id  # the service continues the gateway's span
    publish = [s for s in finished if s.kind == SpanKind.PRODUCER and s.context.trace_id == trace_id]
    assert publish and publish[0].name == "publish sites.site.published"  # the relay, from the outbox
    consumer = consumed()[0]
    assert consumer.kind == SpanKind.CONSUMER and consumer.context.trace_id == trace_id
    assert consumer.parent.span_id == service[0].context.span_id  # the traceparent stored with the event
    for s in sorted((s for s in finished if s.context.trace_id == trace_id), key=lambda s: s.start_time):
        parent = f"{s.parent.span_id:016x}" if s.parent else "-"
        print(f"trace {trace_id:032x} span {s.context.span_id:016x} parent {parent} {s.kind.name:8} {s.name}")
