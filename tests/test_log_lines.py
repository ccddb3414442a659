"""What a person at a terminal reads while `keyhouse serve` runs: one short line per request."""

import logging

import pytest

from keyhouse import logs


def test_a_request_is_one_short_line_and_secrets_stay_redacted() -> None:
    line = logs.human_line(
        None,
        "info",
        {
            "timestamp": "2026-11-27T14:03:07.123456Z",
            "level": "info",
            "event": "request",
            "method": "GET",
            "path": "/login",
            "status": 200,
            "ms": 3.1,
        },
    )
    assert line == "14:03:07 GET /login 200 3.1 ms"
    warning = logs.human_line(
        None, "warning", {"timestamp": "2026-11-27T14:03:08Z", "level": "warning", "event": "x"}
    )
    assert warning == "14:03:08 WARNING x"


@pytest.mark.parametrize(("log_format", "human"), [("json", False), ("human", True)])
def test_the_format_is_chosen_by_setting(log_format: str, human: bool) -> None:
    logs.configure("info", log_format)
    try:
        handler = logging.getLogger().handlers[0]
        processors = getattr(handler.formatter, "processors", [])
        assert (logs.human_line in processors) is human
    finally:
        logs.configure("info")
