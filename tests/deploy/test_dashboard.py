"""The Grafana dashboard in deploy/ charts only metrics the code exports (and every event-flow one)."""

from __future__ import annotations

import json
import re

from prometheus_client.metrics import MetricWrapperBase

from shared import metrics

from .conftest import DEPLOY

# what a metric family exposes besides its own name
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
PROMQL_FUNCTIONS = {"sum", "max", "min", "avg", "rate", "increase", "histogram_quantile"}


def exported_series() -> set[str]:
    names: set[str] = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            base = value._name  # counters drop "_total" here
            names |= {base + s for s in SUFFIXES[value._type]} | {base}
    return names


def test_every_panel_queries_metrics_the_code_exports() -> None:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    exported = exported_series()
    charted: set[str] = set()
    assert dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            # drop grouping clauses, ranges, label matchers and numbers: metric names and functions remain
            expr = re.sub(r"\bby \([^)]*\)|\[[^\]]*\]|\{[^}]*\}|\b[0-9.]+\b", "", target["expr"])
            series = set(re.findall(r"[a-z_][a-z0-9_]*", expr)) - PROMQL_FUNCTIONS
            assert series, (panel["title"], target["expr"])
            assert series <= exported, (panel["title"], series - exported)
            charted |= series
    for required in ("consumer_pending_messages", "outbox_pending", "outbox_oldest_unpublished_age_seconds",
                     "dead_letters", "outbox_relay_stalls_total", "solver_runs_total", "solver_duration_seconds_bucket"):
        assert required in charted, required


def test_the_dashboard_is_valid_grafana_json() -> None:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    assert dashboard["uid"] and dashboard["title"] and isinstance(dashboard["schemaVersion"], int)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
