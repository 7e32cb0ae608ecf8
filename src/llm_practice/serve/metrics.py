"""Prometheus metrics for `/metrics`: requests, tokens, latency, queue depth, running requests."""

from __future__ import annotations

import time


class Metrics:
    def __init__(self, served: dict):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
        from prometheus_client.exposition import CONTENT_TYPE_LATEST

        self.registry = CollectorRegistry()
        self.content_type = CONTENT_TYPE_LATEST
        self.requests = Counter("llmp_requests_total", "Generation requests by endpoint and status.",
                                ["endpoint", "status"], registry=self.registry)
        self.tokens = Counter("llmp_tokens_total", "Tokens processed, by model and kind.",
                              ["model", "kind"], registry=self.registry)
        self.latency = Histogram("llmp_request_seconds", "Request latency in seconds.", ["endpoint"],
                                 buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
                                 registry=self.registry)
        queue = Gauge("llmp_queue_depth", "Requests waiting for a slot.", ["model"],
                      registry=self.registry)
        running = Gauge("llmp_running_requests", "Requests generating now.", ["model"],
                        registry=self.registry)
        for name, item in served.items():
            queue.labels(name).set_function(lambda g=item.gate: g.waiting)
            running.labels(name).set_function(lambda g=item.gate: g.running)

    def timer(self, endpoint: str):
        start = time.perf_counter()

        def done(status: str) -> None:
            self.requests.labels(endpoint, status).inc()
            self.latency.labels(endpoint).observe(time.perf_counter() - start)

        return done

    def count_tokens(self, model: str, stream) -> None:
        self.tokens.labels(model, "prompt").inc(stream.prompt_tokens)
        self.tokens.labels(model, "completion").inc(stream.completion_tokens)

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)
