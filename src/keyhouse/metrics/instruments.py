"""The Prometheus instruments, on a registry of this app's own, and their text exposition.

With `keyhouse serve --workers N` every worker writes its samples to files in
`PROMETHEUS_MULTIPROC_DIR` (set by `serve`), and a scrape, whichever worker answers it,
adds up all of them. The database pool is read at scrape time from the answering process.
"""

import os
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


class PoolCollector(Collector):
    """Connections of the database pool in use and idle, read when Prometheus scrapes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._pool = engine.sync_engine.pool

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The pool's figures now (pools without a count, such as NullPool, report none)."""
        checked_out = getattr(self._pool, "checkedout", None)
        idle = getattr(self._pool, "checkedin", None)
        if checked_out is None or idle is None:
            return
        gauge = GaugeMetricFamily(
            "keyhouse_db_pool_connections",
            "Database connections of this process's pool, by state.",
            labels=["state"],
        )
        gauge.add_metric(["in_use"], float(checked_out()))
        gauge.add_metric(["idle"], float(idle()))
        yield gauge


class Instruments:
    """Every metric of the service; docs/operations.md says what each one means."""

    def __init__(self, engine: AsyncEngine | None) -> None:
        self.registry = CollectorRegistry()
        self._engine = engine
        on = self.registry
        self.requests = Counter(
            "keyhouse_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=on,
        )
        self.latency = Histogram(
            "keyhouse_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=on,
        )
        self.authentications = Counter(
            "keyhouse_authentications",
            "Bearer credentials checked, by kind (api_key, access_token, unknown) and outcome.",
            ["credential", "outcome"],
            registry=on,
        )
        self.cache = Counter(
            "keyhouse_credential_cache_lookups",
            "Credential cache lookups: hit (no database) or miss.",
            ["result"],
            registry=on,
        )
        self.revocations = Counter(
            "keyhouse_revocations",
            "Keys whose credentials were revoked by this service (a connection counts its key).",
            registry=on,
        )
        self.revoke_wait = Histogram(
            "keyhouse_revoke_wait_seconds",
            "How long a revoke waited for every other instance to drop the credential.",
            ["outcome"],
            buckets=WAIT_BUCKETS,
            registry=on,
        )
        self.tool_calls = Counter(
            "keyhouse_mcp_tool_calls",
            "MCP tool calls by tool and outcome (ok, error).",
            ["tool", "outcome"],
            registry=on,
        )
        self.tool_latency = Histogram(
            "keyhouse_mcp_tool_call_duration_seconds",
            "Time an MCP tool call took, by tool.",
            ["tool"],
            buckets=LATENCY_BUCKETS,
            registry=on,
        )
        self.refusals = Counter(
            "keyhouse_rate_limit_refusals",
            "Requests refused with 429, by the limit that was used up.",
            ["limit"],
            registry=on,
        )
        if engine is not None:
            self.registry.register(PoolCollector(engine))

    def exposition(self) -> bytes:
        """Every metric as Prometheus text, summed over the workers when there are several."""
        if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            return generate_latest(self.registry)
        summed = CollectorRegistry()
        MultiProcessCollector(summed)  # type: ignore[no-untyped-call]
        if self._engine is not None:
            summed.register(PoolCollector(self._engine))
        return generate_latest(summed)
