"""Prometheus metrics, one registry per app so several apps (tests, nodes) never collide."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "markini_http_requests_total",
            "HTTP requests by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "markini_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "markini_outbox_pending_events",
            "Events not yet published to NATS.",
            registry=self.registry,
        )
        self.outbox_lag = Gauge(
            "markini_outbox_lag_seconds",
            "Age of the oldest unpublished event.",
            registry=self.registry,
        )

        self.nats_connected = Gauge(
            "markini_nats_connected",
            "1 while this node is connected to NATS (events wait in the outbox otherwise).",
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
