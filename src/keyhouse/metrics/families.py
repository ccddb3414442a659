"""Every metric the service exposes: name, help text, labels, and a histogram's buckets.

One list that both sides read: the request path (plain per-process counts, `tallies.py`) and
prometheus-client (`instruments.py`). docs/operations.md says what each one means.
"""

from dataclasses import dataclass

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


@dataclass(frozen=True)
class CounterFamily:
    """A counter, exposed as `<name>_total`."""

    name: str
    help: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class HistogramFamily:
    """A histogram with fixed upper bounds (`le`), plus the implicit `+Inf`."""

    name: str
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...]


REQUESTS = CounterFamily(
    "keyhouse_http_requests",
    "HTTP requests by route template, method and status.",
    ("route", "method", "status"),
)
REQUEST_DURATION = HistogramFamily(
    "keyhouse_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ("route", "method"),
    LATENCY_BUCKETS,
)
AUTHENTICATIONS = CounterFamily(
    "keyhouse_authentications",
    "Bearer credentials checked, by kind (api_key, access_token, unknown) and outcome.",
    ("credential", "outcome"),
)
CACHE_LOOKUPS = CounterFamily(
    "keyhouse_credential_cache_lookups",
    "Credential cache lookups: hit (no database) or miss.",
    ("result",),
)
REVOCATIONS = CounterFamily(
    "keyhouse_revocations",
    "Keys whose credentials were revoked by this service (a connection counts its key).",
)
REVOKE_WAIT = HistogramFamily(
    "keyhouse_revoke_wait_seconds",
    "How long a revoke waited for every other instance to drop the credential.",
    ("outcome",),
    WAIT_BUCKETS,
)
TOOL_CALLS = CounterFamily(
    "keyhouse_mcp_tool_calls",
    "MCP tool calls by tool and outcome (ok, error).",
    ("tool", "outcome"),
)
TOOL_CALL_DURATION = HistogramFamily(
    "keyhouse_mcp_tool_call_duration_seconds",
    "Time an MCP tool call took, by tool.",
    ("tool",),
    LATENCY_BUCKETS,
)
RATE_LIMIT_REFUSALS = CounterFamily(
    "keyhouse_rate_limit_refusals",
    "Requests refused with 429, by the limit that was used up.",
    ("limit",),
)

COUNTERS = (REQUESTS, AUTHENTICATIONS, CACHE_LOOKUPS, REVOCATIONS, TOOL_CALLS, RATE_LIMIT_REFUSALS)
HISTOGRAMS = (REQUEST_DURATION, REVOKE_WAIT, TOOL_CALL_DURATION)
