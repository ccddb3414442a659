"""Structured JSON logs with a redaction step: no secret reaches a log line."""

import json
import logging
import re
import sys
import time
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

SECRET_FIELDS = frozenset(
    {"authorization", "cookie", "set-cookie", "password", "secret", "token", "code", "api_key"}
)
TOKEN_RE = re.compile(r"kh_[a-z]{2,3}_[0-9A-Za-z]{8,}(?:_[0-9A-Za-z]{1,6})?")
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    """`value` with every token-shaped string and every secret-named field masked."""
    if isinstance(value, str):
        return TOKEN_RE.sub(REDACTED, value)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if str(key).lower() in SECRET_FIELDS else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def _redact_event(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    redacted: MutableMapping[str, Any] = redact(event)
    return redacted


class AccessLines:
    """The access log: one JSON line per request, in a fixed format.

    Written on every request, so it skips structlog's processor chain and the logging
    machinery (about a fifth of a small request's CPU): the fields are known, only the path
    can carry a secret (an invite link, a token pasted into a URL) and it is redacted the
    same way. The line goes through the shared handler's lock, so lines never interleave.
    """

    def __init__(self) -> None:
        self.handler: logging.StreamHandler[Any] | None = None
        self.human = False

    def write(self, method: str, path: str, status: int, ms: float) -> None:
        """Log one request, unless logging is above info or not configured."""
        handler = self.handler
        if handler is None:
            return
        if "kh_" in path:
            path = TOKEN_RE.sub(REDACTED, path)
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        stamp += f".{int(now % 1 * 1_000_000):06d}Z"
        if self.human:
            event = {"timestamp": stamp, "event": "request", "method": method, "path": path}
            line = human_line(None, "info", {**event, "status": status, "ms": ms}) + "\n"
        else:
            line = (
                f'{{"method": {json.dumps(method)}, "path": {json.dumps(path)}, '
                f'"status": {status}, "ms": {ms}, "event": "request", "level": "info", '
                f'"timestamp": "{stamp}"}}\n'
            )
        with handler.lock:  # type: ignore[union-attr]
            handler.stream.write(line)


access_lines = AccessLines()
QUIET_LOGGERS = ("aiosqlite",)  # debug lines about every SQLite call, from its own thread


def human_line(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> str:
    """One short line for a person at a terminal: `14:03:07 GET /login 200 3.1 ms`."""
    moment = str(event.pop("timestamp", ""))[11:19]
    level = str(event.pop("level", "info"))
    name = str(event.pop("event", ""))
    if name == "request":
        method, path = event.pop("method", ""), event.pop("path", "")
        status, ms = event.pop("status", ""), event.pop("ms", "")
        name = f"{method} {path} {status} {ms} ms"
    shown = "" if level == "info" else f"{level.upper()} "
    rest = " ".join(f"{key}={value}" for key, value in event.items() if key != "exception")
    line = f"{moment} {shown}{name}" + (f" {rest}" if rest else "")
    return f"{line}\n{event['exception']}" if "exception" in event else line


def _is_human(log_format: str) -> bool:
    return log_format == "human" or (log_format == "auto" and sys.stderr.isatty())


def configure(level: str = "info", log_format: str = "auto") -> None:
    """Log lines on stderr, redacted, for our logs and the standard library's alike.

    JSON lines, unless `log_format` is "human", or "auto" on a terminal: then one short line
    per event, so that a person running `keyhouse serve` can read the requests go by.
    Every line goes through one logging handler (one lock, so lines from other threads
    never interleave) and through the same redaction step.
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_event,
    ]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                human_line if _is_human(log_format) else structlog.processors.JSONRenderer(),
            ],
        )
    )
    logging.basicConfig(handlers=[handler], level=level.upper(), force=True)
    access_lines.handler = handler if logging.getLevelName(level.upper()) <= logging.INFO else None
    access_lines.human = _is_human(log_format)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
