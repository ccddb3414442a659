"""A bench-only twin of the app with usage counting, activity recording and metrics off.

`bench/visibility.py` serves it beside the real app to measure what recording costs. With no
`KEYHOUSE_METRICS_TOKEN` the metrics are no-ops already; this twin also drops every use the
access log and the MCP server hand to the usage recorder (so `last_used_at` too). Never served
outside the benchmark:

    uvicorn --app-dir bench quiet_app:create_quiet_app --factory
"""

from typing import Any

from fastapi import FastAPI

from keyhouse.app import create_app


def _ignore(*_use: Any, **_details: Any) -> None:
    """Takes a use and keeps nothing."""


def create_quiet_app() -> FastAPI:
    """The real app, recording nothing of its requests."""
    app = create_app()
    app.state.usage.count_request = _ignore  # never asks for the source either
    app.state.usage.record_tool_call = _ignore
    return app
