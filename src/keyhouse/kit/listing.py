"""One read path for lists: table rows straight to the JSON of a page, never ORM objects.

A page of 50 accounts read through the ORM cost ~7 ms of CPU: an identity-mapped object per
row, a UUID and a timezone conversion per value, a pydantic model per row, then FastAPI
validating the page again. A list endpoint instead selects exactly the columns of its output
model, has the database hand over UUIDs and timestamps in their JSON form where Python would
pay per value (SQLite keeps UUIDs as hex and timestamps as naive text; asyncpg's UUID class is
slow to serialize, its aware UTC datetimes are not), and writes the page with pydantic-core's
serializer in one call. bench/README.md has the profile and the figures.

`tests/kit/test_listing.py` holds every list route to the output model: the same rows give
the same JSON through this path as through `Out.model_validate(orm_row)`.
"""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar, get_args

import pydantic_core
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Row, Select, String, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from starlette.responses import Response

from keyhouse.kit.orm import Base
from keyhouse.kit.pagination import Page, encode_cursor

Out = TypeVar("Out", bound=BaseModel)


class _JsonReady(FunctionElement[str]):
    """A column as its JSON value: the column itself, unless a dialect needs it reshaped."""

    inherit_cache = True
    type = String()  # no result processing: the driver's value goes to JSON as it is

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)


class JsonUuid(_JsonReady):
    """A UUID column as `8-4-4-4-12` text."""

    name = "json_uuid"
    inherit_cache = True  # each subclass says so itself, or SQLAlchemy compiles every time


class JsonTimestamp(_JsonReady):
    """A UTC timestamp column as RFC 3339 text, written the way pydantic writes it."""

    name = "json_timestamp"
    inherit_cache = True


def _column_sql(element: _JsonReady, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return compiler.process(column, **kw)


@compiles(JsonUuid)
def _uuid_text(element: JsonUuid, compiler: SQLCompiler, **kw: Any) -> str:
    # asyncpg's own UUID class is not one pydantic-core writes natively (~3.6 µs each).
    return f"CAST({_column_sql(element, compiler, **kw)} AS TEXT)"


@compiles(JsonTimestamp)
def _as_stored(element: JsonTimestamp, compiler: SQLCompiler, **kw: Any) -> str:
    # asyncpg returns aware UTC datetimes, which pydantic-core writes as they are.
    return _column_sql(element, compiler, **kw)


@compiles(JsonUuid, "sqlite")
def _sqlite_uuid(element: JsonUuid, compiler: SQLCompiler, **kw: Any) -> str:
    hexed = _column_sql(element, compiler, **kw)  # 32 hex digits, as SQLAlchemy stores them
    parts = [(1, 8), (9, 4), (13, 4), (17, 4), (21, 12)]
    return "||'-'||".join(f"substr({hexed}, {start}, {length})" for start, length in parts)


@compiles(JsonTimestamp, "sqlite")
def _sqlite_timestamp(element: JsonTimestamp, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as naive UTC `YYYY-MM-DD HH:MM:SS.ffffff`; pydantic leaves out a zero fraction.
    stored = _column_sql(element, compiler, **kw)
    return f"replace(replace({stored}, ' ', 'T'), '.000000', '') || 'Z'"


def _json_ready(column: ColumnElement[Any], annotation: Any) -> ColumnElement[Any]:
    """By the output field's type, not the column's: a foreign key's column type is inferred."""
    kinds = set(get_args(annotation)) or {annotation}  # `UUID | None` is a union of both
    if uuid.UUID in kinds:
        return JsonUuid(column)
    if datetime in kinds:
        return JsonTimestamp(column)
    return column  # text, numbers, booleans and JSON keep SQLAlchemy's own (cheap) handling


class Listing(Generic[Out]):
    """The rows of `model` as items of `out`: which columns to select, under which names."""

    def __init__(
        self, model: type[Base], out: type[Out], *, columns: Mapping[str, str] | None = None
    ) -> None:
        """`columns` names the column of a field that is not a column of its own name."""
        self.out = out
        self.names = list(out.model_fields)  # the page's items keep the model's field order
        table = model.__table__.columns
        sources = [table[(columns or {}).get(name, name)] for name in self.names]
        # Built once: a statement costs ~0.4 ms of Python to build, and every page starts here.
        self._select = select(
            *(
                _json_ready(source, out.model_fields[name].annotation).label(name)
                for name, source in zip(self.names, sources, strict=True)
            )
        )

    def select(self) -> Select[Any]:
        """SELECT of the output's columns, JSON-ready; add WHERE, ORDER BY and LIMIT to it."""
        return self._select

    def page(
        self, rows: Sequence[Row[Any]], *, limit: int, cursor_fields: tuple[str, str]
    ) -> bytes:
        """The JSON of a `Page` from up to `limit + 1` rows (the extra one means "more")."""
        names = self.names
        items = [dict(zip(names, row, strict=True)) for row in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            moment, row_id = (items[-1][field] for field in cursor_fields)
            next_cursor = encode_cursor(_moment(moment), uuid.UUID(row_id))  # ids come as text
        return pydantic_core.to_json({"data": items, "next_cursor": next_cursor})

    def response(
        self,
        rows: Sequence[Row[Any]],
        *,
        limit: int,
        cursor_fields: tuple[str, str] = ("updated_at", "id"),
    ) -> Response:
        """The page as an HTTP response, written once (FastAPI does not validate it again)."""
        body = self.page(rows, limit=limit, cursor_fields=cursor_fields)
        return Response(body, media_type="application/json")

    def parsed(
        self,
        rows: Sequence[Row[Any]],
        *,
        limit: int,
        cursor_fields: tuple[str, str] = ("updated_at", "id"),
    ) -> Page[Out]:
        """The page as the model (for MCP tools, whose SDK writes the JSON itself)."""
        body = self.page(rows, limit=limit, cursor_fields=cursor_fields)
        return Page[self.out].model_validate_json(body)  # type: ignore[name-defined]


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
