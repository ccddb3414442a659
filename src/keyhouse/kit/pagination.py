"""Cursor pagination over the changes feed: rows in (updated_at, id) order, resumable."""

import base64
import binascii
import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import BindParameter, Select, and_, bindparam, or_
from sqlalchemy.orm import InstrumentedAttribute

from keyhouse.errors import BadRequest

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

Item = TypeVar("Item")
Row = TypeVar("Row")
Out = TypeVar("Out", bound=BaseModel)


class Page(BaseModel, Generic[Item]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next one."""

    data: list[Item]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Where a page starts and how long it is."""

    after: tuple[datetime, uuid.UUID] | None
    updated_since: datetime | None
    limit: int

    def values(self) -> dict[str, Any]:
        """The values of `paginate`'s bound parameters, for this page."""
        values: dict[str, Any] = {"limit": self.limit + 1}  # one extra row to peek
        if self.updated_since is not None:
            values["updated_since"] = self.updated_since
        if self.after is not None:
            values["after_moment"], values["after_id"] = self.after
        return values


def encode_cursor(updated_at: datetime, row_id: uuid.UUID) -> str:
    """An opaque cursor pointing just after this row."""
    raw = json.dumps([updated_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The row a cursor points after; a 400 for anything we did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        updated_at, row_id = json.loads(raw)
        moment = datetime.fromisoformat(updated_at)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, uuid.UUID(row_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
        raise BadRequest("cursor: not a cursor this API returned.") from error


async def page_request(
    cursor: Annotated[str | None, Query(max_length=200, description="From `next_cursor`.")] = None,
    updated_since: Annotated[
        datetime | None,
        Query(description="Only rows changed at or after this time (ISO 8601 with offset)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> PageRequest:
    """The pagination query parameters every list endpoint takes."""
    if updated_since is not None and updated_since.tzinfo is None:
        raise BadRequest("updated_since: give a timezone offset, e.g. 2026-01-01T00:00:00Z.")
    after = decode_cursor(cursor) if cursor else None
    return PageRequest(after=after, updated_since=updated_since, limit=limit)


Pagination = Annotated[PageRequest, Depends(page_request)]


def paginate(
    query: Select[Row],
    bound: Collection[str],
    updated_at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[uuid.UUID],
) -> Select[Row]:
    """`query` restricted to a page, in feed order, with one extra row to peek.

    The page is in bound parameters, named as in `PageRequest.values` (`bound` holds the names
    given), so that list statements can be built once per shape (kit/listing.py).
    """
    if "updated_since" in bound:
        query = query.where(updated_at >= bindparam("updated_since"))
    if "after_moment" in bound:
        moment: BindParameter[datetime] = bindparam("after_moment")
        last_id: BindParameter[uuid.UUID] = bindparam("after_id")
        query = query.where(or_(updated_at > moment, and_(updated_at == moment, row_id > last_id)))
    return query.order_by(updated_at, row_id).limit(bindparam("limit"))


def make_page(rows: list[Any], page: PageRequest, out: type[Out]) -> Page[Out]:
    """The response page for rows fetched by `paginate` (rows carry updated_at and id)."""
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    next_cursor = encode_cursor(rows[-1].updated_at, rows[-1].id) if more else None
    items = [out.model_validate(row) for row in rows]
    return Page[out](data=items, next_cursor=next_cursor)  # type: ignore[valid-type]
