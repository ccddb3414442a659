"""`GET /metrics`: the Prometheus text, only for a scrape that sends the metrics token.

Without `KEYHOUSE_METRICS_TOKEN`, or with a wrong or missing bearer, the answer is the same
404 as for any unknown path, so the endpoint cannot be found by probing.
"""

import hmac

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from keyhouse.metrics.recorder import Metrics


class MetricsEndpoint:
    """The scrape target; compares the token in constant time."""

    def __init__(self, metrics: Metrics, token: str | None) -> None:
        self._metrics = metrics
        self._expected = f"Bearer {token}".encode() if token else None

    async def scrape(self, request: Request) -> Response:
        """The metrics for the right token; 404 otherwise."""
        if (
            not self._metrics.enabled
            or self._expected is None
            or not self._authorized(request.headers)
        ):
            raise HTTPException(404, "Not Found")
        from keyhouse.metrics.instruments import CONTENT_TYPE

        return Response(
            self._metrics.exposition(),
            media_type=CONTENT_TYPE,
            headers={"Cache-Control": "no-store"},
        )

    def _authorized(self, headers: Headers) -> bool:
        sent = headers.get("authorization", "").encode("latin-1")
        return self._expected is not None and hmac.compare_digest(sent, self._expected)
