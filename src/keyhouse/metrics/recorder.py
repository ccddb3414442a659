"""`Metrics`: what the service counts for Prometheus; every method is a no-op while metrics are off.

Metrics are on when `KEYHOUSE_METRICS_TOKEN` is set. `prometheus-client` is then imported
(the `metrics` extra); without the token it is never imported and each call returns at once.
Label children are cached in plain dicts: `labels()` validates and locks on every call, a dict
lookup does not, and the request path pays for every counter it touches.
"""

from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from keyhouse.config import ConfigurationError, Settings

if TYPE_CHECKING:
    from keyhouse.metrics.instruments import Instruments

UNMATCHED = "unmatched"  # requests that matched no route share one label, whatever their path
MIN_TOKEN_LENGTH = 16


def route_template(scope: MutableMapping[str, Any]) -> str:
    """`/api/v1/reps/{rep_id}` for `/api/v1/reps/5f…`: a label that cannot grow without bound.

    FastAPI leaves its routes in the scope; other routes (/mcp, OAuth, static files) leave
    their endpoint and path parameters, which are put back into the path.
    """
    route = scope.get("route")
    if route is not None:
        return str(route.path)
    if "endpoint" not in scope:
        return UNMATCHED
    template: str = scope["path"]
    for name, value in scope.get("path_params", {}).items():
        template = template.replace(str(value), f"{{{name}}}", 1)
    return template


class Metrics:
    """The service's counters and histograms (docs/operations.md lists each)."""

    def __init__(self, settings: Settings | None = None, engine: AsyncEngine | None = None) -> None:
        self.instruments: Instruments | None = None
        self._children: dict[tuple[Any, ...], Any] = {}
        token = settings.metrics_token if settings is not None else None
        if token is None:
            return
        if len(token.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ConfigurationError(
                f"KEYHOUSE_METRICS_TOKEN must be a random string of at least "
                f"{MIN_TOKEN_LENGTH} characters."
            )
        try:
            from keyhouse.metrics import instruments
        except ImportError as error:
            raise ConfigurationError(
                "KEYHOUSE_METRICS_TOKEN is set but prometheus-client is not installed: "
                "pip install 'keyhouse[metrics]'"
            ) from error
        self.instruments = instruments.Instruments(engine)

    @property
    def enabled(self) -> bool:
        """True when the service counts (a metrics token is configured)."""
        return self.instruments is not None

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def request(self, scope: MutableMapping[str, Any], status: int, seconds: float) -> None:
        """One HTTP request: its route template (never the raw path), method, status, latency."""
        if self.instruments is None:
            return
        template, method = route_template(scope), scope["method"]
        found = self.instruments
        self._child(found.requests, template, method, str(status)).inc()
        self._child(found.latency, template, method).observe(seconds)

    def authentication(self, credential: str, outcome: str) -> None:
        """A bearer credential checked: `ok`, `invalid`, `expired`, `revoked` or `throttled`."""
        if self.instruments is not None:
            self._child(self.instruments.authentications, credential, outcome).inc()

    def cache_lookup(self, hit: bool) -> None:
        """The credential cache answered (hit) or the database had to (miss)."""
        if self.instruments is not None:
            self._child(self.instruments.cache, "hit" if hit else "miss").inc()

    def revoked(self, keys: int) -> None:
        """Keys whose credentials this process revoked (keys, connections, users' connections)."""
        if self.instruments is not None:
            self.instruments.revocations.inc(keys)

    def revoke_waited(self, seconds: float, *, acknowledged: bool) -> None:
        """How long a revoke waited for other instances, and whether they all answered."""
        if self.instruments is not None:
            outcome = "acknowledged" if acknowledged else "lease_expired"
            self._child(self.instruments.revoke_wait, outcome).observe(seconds)

    def tool_call(self, tool: str, ok: bool, seconds: float) -> None:
        """One MCP tool call, by tool and outcome."""
        if self.instruments is not None:
            outcome = "ok" if ok else "error"
            self._child(self.instruments.tool_calls, tool, outcome).inc()
            self._child(self.instruments.tool_latency, tool).observe(seconds)

    def rate_limited(self, limit: str) -> None:
        """A request refused by a rate limit, named as in the limits' store."""
        if self.instruments is not None:
            self._child(self.instruments.refusals, limit).inc()
