"""One read path for lists: the database writes each item's JSON, Python only joins them.

A page of 50 accounts read through the ORM cost ~7 ms of CPU: an identity-mapped object per
row, a UUID and a timezone conversion per value, a pydantic model per row, then FastAPI
validating the page again. Reading the columns as Python values still cost ~5 µs a row (a
value object each, a dict, the serializer). So a list endpoint selects one column: each item
as a JSON object built by the database (`json_object` on SQLite, `json_build_object` on
PostgreSQL), with UUIDs and timestamps already in the form pydantic writes. Python joins
those texts into the page. bench/README.md has the profile and the figures.

The statement of a page is built once per shape (which filters apply) with bound parameters
in place of the values: building it and computing SQLAlchemy's cache key cost ~0.2 ms a
request otherwise. (`lambda_stmt`, SQLAlchemy's own statement cache, measured slower here:
it inspects each lambda's closure on every call.)

`tests/kit/test_listing.py` holds every list route to the output model: the same rows give
the same JSON through this path as through `Out.model_validate(orm_row)`.
"""

import json
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import UnionType
from typing import Any, Generic, Self, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    String,
    bindparam,
    literal_column,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from starlette.responses import Response

from keyhouse.kit.orm import Base
from keyhouse.kit.pagination import Page, encode_cursor

Out = TypeVar("Out", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Query:
    """A statement with bound parameters (built once per shape), and their values.

    `filtered`: a filter may make it read past the page, up to every row of the account (a
    name search does); an unfiltered page reads its rows off an index and stops.
    """

    statement: Select[Any]
    values: dict[str, Any]
    filtered: bool = False

    @classmethod
    def of(
        cls,
        build: Callable[[frozenset[str]], Select[Any]],
        values: Mapping[str, Any],
        *,
        filters: Collection[str] = (),
    ) -> Self:
        """The statement `build` makes for the values given (a None is a filter not given)."""
        given = {name: value for name, value in values.items() if value is not None}
        return cls(build(frozenset(given)), given, filtered=any(name in given for name in filters))

    async def rows(self, session: AsyncSession) -> Sequence[Row[Any]]:
        """Its rows, read in `session` (outside one: `Database.read`)."""
        found: Sequence[Row[Any]] = (await session.execute(self.statement, self.values)).all()
        return found


# A filter of a list: its condition on the bound parameter that carries the filter's value.
Condition = Callable[[BindParameter[Any]], ColumnElement[bool]]
LIKE_ESCAPE = "/"


def where_given(
    query: Select[Any], conditions: Mapping[str, Condition], bound: Collection[str]
) -> Select[Any]:
    """`query` with the condition of each filter named in `bound`, on a parameter of its name."""
    given = [name for name in conditions if name in bound]
    return query.where(*(conditions[name](bindparam(name)) for name in given))


def contained(text: str) -> str:
    """`text` as the value of a LIKE with LIKE_ESCAPE: its `%` and `_` match only themselves."""
    for special in (LIKE_ESCAPE, "%", "_"):  # the escape character first
        text = text.replace(special, LIKE_ESCAPE + special)
    return text


class _JsonValue(FunctionElement[str]):
    """A column as a JSON value: the column itself, unless a dialect needs it reshaped."""

    inherit_cache = True
    type = String()

    def __init__(self, column: ColumnElement[Any]) -> None:
        super().__init__(column)


class JsonUuid(_JsonValue):
    """A UUID column as `8-4-4-4-12` text."""

    name = "json_uuid"
    inherit_cache = True  # each subclass says so itself, or SQLAlchemy compiles every time


class JsonTimestamp(_JsonValue):
    """A UTC timestamp column as RFC 3339 text, written the way pydantic writes it."""

    name = "json_timestamp"
    inherit_cache = True


class JsonBoolean(_JsonValue):
    """A boolean column as `true` or `false`."""

    name = "json_boolean"
    inherit_cache = True


class JsonDocument(_JsonValue):
    """A JSON column as the document it holds, not as a string of it."""

    name = "json_document"
    inherit_cache = True


class JsonObject(FunctionElement[str]):
    """`{"name": value, ...}` written by the database, in the order given."""

    name = "json_object"
    inherit_cache = True
    type = String()  # the text as the driver hands it over: no result processing

    def __init__(self, fields: Mapping[str, ColumnElement[Any]]) -> None:
        # Field names are Python identifiers, safe as SQL literals; bound parameters would
        # add two per field to every execution.
        pairs = [part for name, value in fields.items() for part in (_key(name), value)]
        super().__init__(*pairs)


def _key(name: str) -> ColumnElement[Any]:
    assert name.isidentifier(), name
    return literal_column(f"'{name}'")


def _column_sql(element: _JsonValue, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return compiler.process(column, **kw)


@compiles(JsonUuid)
@compiles(JsonBoolean)
@compiles(JsonDocument)
def _as_stored(element: _JsonValue, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL's json_build_object writes uuid, boolean and json values as JSON already.
    return _column_sql(element, compiler, **kw)


@compiles(JsonTimestamp)
def _postgresql_timestamp(element: JsonTimestamp, compiler: SQLCompiler, **kw: Any) -> str:
    # json_build_object would write the session's time zone offset; pydantic writes `Z`, and
    # leaves out a zero fraction.
    utc = f"{_column_sql(element, compiler, **kw)} AT TIME ZONE 'UTC'"
    return f"""replace(to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US'), '.000000', '') || 'Z'"""


@compiles(JsonObject)
def _postgresql_object(element: JsonObject, compiler: SQLCompiler, **kw: Any) -> str:
    # As text: the driver would otherwise parse the JSON into a dict.
    return f"CAST(json_build_object({compiler.process(element.clauses, **kw)}) AS TEXT)"


@compiles(JsonObject, "sqlite")
def _sqlite_object(element: JsonObject, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_object({compiler.process(element.clauses, **kw)})"


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


@compiles(JsonBoolean, "sqlite")
def _sqlite_boolean(element: JsonBoolean, compiler: SQLCompiler, **kw: Any) -> str:
    stored = _column_sql(element, compiler, **kw)  # 0 or 1
    return f"json(CASE WHEN {stored} THEN 'true' WHEN NOT {stored} THEN 'false' END)"


@compiles(JsonDocument, "sqlite")
def _sqlite_document(element: JsonDocument, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json({_column_sql(element, compiler, **kw)})"  # stored as text


def _json_value(column: ColumnElement[Any], annotation: Any) -> ColumnElement[Any]:
    """By the output field's type, not the column's: a foreign key's column type is inferred."""
    union = get_origin(annotation) in (Union, UnionType)  # `UUID | None` is a union of both
    kinds = {get_origin(kind) or kind for kind in (get_args(annotation) if union else [annotation])}
    if uuid.UUID in kinds:
        return JsonUuid(column)
    if datetime in kinds:
        return JsonTimestamp(column)
    if bool in kinds:
        return JsonBoolean(column)
    if kinds & {dict, list}:
        return JsonDocument(column)
    return column  # text, numbers and enums (stored as their values) are JSON as they are


class Listing(Generic[Out]):
    """The rows of `model` as items of `out`: which columns to select, under which names."""

    def __init__(
        self, model: type[Base], out: type[Out], *, columns: Mapping[str, str] | None = None
    ) -> None:
        """`columns` names the column of a field that is not a column of its own name."""
        self.out = out
        table = model.__table__.columns
        fields = {
            name: _json_value(table[(columns or {}).get(name, name)], field.annotation)
            for name, field in out.model_fields.items()  # the items keep the model's order
        }
        self._select = select(JsonObject(fields).label("item"))

    def select(self) -> Select[Any]:
        """SELECT of each row's item; add WHERE, ORDER BY and LIMIT to it."""
        return self._select

    def page(
        self, rows: Sequence[Row[Any]], *, limit: int, cursor_fields: tuple[str, str]
    ) -> bytes:
        """The JSON of a `Page` from up to `limit + 1` rows (the extra one means "more")."""
        items = [item for (item,) in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = json.loads(items[-1])
            moment, row_id = (last[field] for field in cursor_fields)
            next_cursor = encode_cursor(datetime.fromisoformat(moment), uuid.UUID(row_id))
        # Joining JSON texts the database wrote: no library writes a list of ready items.
        page = f'{{"data":[{",".join(items)}],"next_cursor":{json.dumps(next_cursor)}}}'
        return page.encode()

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
