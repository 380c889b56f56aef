"""Prometheus metrics shared by the services (served at /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"])
OUTBOX_PUBLISHED = Counter("outbox_published_total", "Events published from the outbox", ["service"])
OUTBOX_REPLAYED = Counter("outbox_replayed_total", "Events re-published from the outbox", ["service"])
OUTBOX_PENDING = Gauge("outbox_pending", "Outbox rows not yet published", ["service"])
EVENTS_CONSUMED = Counter("events_consumed_total", "Events handled by a consumer", ["consumer", "type", "outcome"])
