"""What a person at a terminal reads while `keyhouse serve` runs: one short line per request."""

import json
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


def test_the_access_line_follows_the_format_and_redacts_the_path(
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret_path = "/invite/kh_key_" + "A" * 43 + "_AAAAAA"
    try:
        logs.configure("info", "human")
        logs.access_lines.write("GET", secret_path, 404, 1.25)
        human = capsys.readouterr().err
        logs.configure("info", "json")
        logs.access_lines.write("GET", secret_path, 404, 1.25)
        machine = capsys.readouterr().err
    finally:
        logs.configure("info")
    assert human.endswith(" GET /invite/[redacted] 404 1.25 ms\n")
    assert json.loads(machine) == {
        "method": "GET",
        "path": "/invite/[redacted]",
        "status": 404,
        "ms": 1.25,
        "event": "request",
        "level": "info",
        "timestamp": json.loads(machine)["timestamp"],
    }
