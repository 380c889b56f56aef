"""Prometheus metrics shared by the services (served at /metrics).

Gauges about state held elsewhere (outbox backlog, consumer lag, dead letters) are
refreshed when /metrics is scraped (`ServiceRuntime.refresh_metrics`), so they are never stale.
deploy/grafana-dashboard.json charts these names; tests/deploy/test_dashboard.py keeps the two in step.
"""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"])
OUTBOX_PUBLISHED = Counter("outbox_published_total", "Events published from the outbox", ["service"])
OUTBOX_REPLAYED = Counter("outbox_replayed_total", "Events re-published from the outbox", ["service"])
OUTBOX_PENDING = Gauge("outbox_pending", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_unpublished_age_seconds", "Age of the oldest unpublished outbox event (0 when none)", ["service"]
)
OUTBOX_RELAY_STALLS = Counter(
    "outbox_relay_stalls_total", "Times the relay's head event failed to publish (later events wait behind it)", ["service"]
)
EVENTS_CONSUMED = Counter("events_consumed_total", "Events handled by a consumer", ["consumer", "type", "outcome"])
CONSUMER_PENDING = Gauge("consumer_pending_messages", "Stream messages not yet delivered to the consumer (lag)", ["consumer"])
CONSUMER_ACK_PENDING = Gauge("consumer_ack_pending_messages", "Messages delivered but not yet acknowledged", ["consumer"])
DEAD_LETTERS = Gauge("dead_letters", "Open events in the service's dead-letter table (not yet retried or resolved)", ["service"])
DEPENDENCY_UP = Gauge("dependency_up", "1 when the dependency answers, 0 when it does not", ["service", "dependency"])
UPSTREAM_CIRCUIT_OPEN = Gauge("upstream_circuit_open", "1 while the gateway fails fast for this upstream", ["upstream"])
SOLVER_RUNS = Counter("solver_runs_total", "Optimiser runs", ["method", "outcome"])
SOLVER_DURATION = Histogram(
    "solver_duration_seconds", "Optimiser wall time", buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
)
