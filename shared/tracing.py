"""OpenTelemetry traces across gateway -> service -> outbox -> NATS -> consumer.

Off by default: without OTEL_EXPORTER_OTLP_ENDPOINT the API's no-op tracer is used and
nothing is recorded or sent. With it, spans go over OTLP/HTTP (the standard OTEL_* variables
configure the exporter). The trace crosses processes as a W3C `traceparent`: an HTTP header
between gateway and services, and the CloudEvents distributed-tracing extension attribute
`traceparent` on each event (stored with it in the outbox, so it survives a NATS outage).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

tracer = trace.get_tracer("herplaatsing")
_configured = False


def configure_tracing(service: str) -> None:
    """Install the OTLP exporter once per process when OTEL_EXPORTER_OTLP_ENDPOINT is set."""
    global _configured
    if _configured or not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service)}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span (None when not tracing)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


@contextlib.contextmanager
def span(name: str, kind: SpanKind, parent: Mapping[str, str] | None = None, **attributes: str) -> Iterator[trace.Span]:
    """A span, continuing the trace in `parent` (headers or a CloudEvent's `traceparent`) if given."""
    ctx = propagate.extract(parent) if parent else None
    with tracer.start_as_current_span(name, context=ctx, kind=kind, attributes=attributes) as current:
        yield current
