"""Text that a database cannot store, and JSON that no handler should have to walk.

PostgreSQL refuses a NUL character in text (`invalid byte sequence for encoding "UTF8"`) and
neither database can encode an unpaired UTF-16 surrogate, which JSON's `\\ud800` escapes and
Python's surrogate-escaped command lines produce. SQLite would store a NUL, so both are
refused everywhere: what one database keeps, the other can take.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

from keyhouse.errors import BadRequest, InvalidInput

MAX_JSON_DEPTH = 32  # our deepest body (criteria in a distribution) is 4 levels
# Only a body with one of these is parsed and walked: a raw NUL, an escaped NUL or
# surrogate, or a literal that Python's parser takes but JSON (and PostgreSQL) do not.
SUSPECT_JSON = re.compile(rb"\x00|\\u(?:0000|[dD][89a-fA-F])|NaN|Infinity")


class UnstorableText(InvalidInput):
    """A text value holds a character no database can store."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: contains {problem}, which cannot be stored.")
        self.field = field


def text_problem(text: str) -> str | None:
    """What makes `text` unstorable, or None."""
    if "\x00" in text:
        return "a NUL character"
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "an unpaired surrogate"
    return None


def require_storable(text: str, field: str) -> None:
    """Raise UnstorableText naming `field` when `text` cannot be stored."""
    problem = text_problem(text)
    if problem is not None:
        raise UnstorableText(field, problem)


def check_json_body(body: bytes) -> None:
    """Refuse a JSON body nested too deeply, holding unstorable text, NaN or Infinity.

    Most bodies pass the two byte scans alone and are parsed only once, by their handler.
    """
    brackets = body.count(b"[") + body.count(b"{")
    if brackets <= MAX_JSON_DEPTH and not SUSPECT_JSON.search(body):
        return
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError as error:
        raise _too_deep() from error
    except (UnicodeDecodeError, json.JSONDecodeError):
        return  # not JSON at all: the handler answers with its own parse error
    for field, value, depth in _walk(document):
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(value, str):
            require_storable(value, field)


def _refuse_constant(name: str) -> None:
    raise BadRequest(f"{name} is not a JSON number.")


def _too_deep() -> BadRequest:
    return BadRequest(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")


def _walk(document: Any) -> Iterator[tuple[str, Any, int]]:
    """Every value and key of a JSON document, with its path (`criteria[0].value`) and depth.

    A stack, not recursion: the document may be nested as deep as the parser allowed.
    """
    stack: list[tuple[str, Any, int]] = [("", document, 0)]
    while stack:
        path, value, depth = stack.pop()
        yield path or "body", value, depth
        if isinstance(value, dict):
            for key, item in value.items():
                yield f"a key of {path or 'the body'}", key, depth + 1
                name = key if text_problem(key) is None else "?"
                stack.append((f"{path}.{name}" if path else name, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item, depth + 1) for index, item in enumerate(value))
