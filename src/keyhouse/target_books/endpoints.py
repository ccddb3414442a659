"""REST endpoints of target books: /api/v1/target-books."""

import uuid

from fastapi import APIRouter, Response, status

from keyhouse.auth.dependencies import ReadAccess, WriteAccess
from keyhouse.db import DbSession
from keyhouse.kit.pagination import Page, Pagination, make_page
from keyhouse.target_books import service
from keyhouse.target_books.schemas import (
    BookReport,
    TargetBookCreate,
    TargetBookOut,
    TargetBookUpdate,
)

router = APIRouter(prefix="/api/v1/target-books", tags=["target books"])


@router.get("", summary="List target books (a changes feed with updated_since)")
async def list_books(who: ReadAccess, session: DbSession, page: Pagination) -> Page[TargetBookOut]:
    """Books of the account in (updated_at, id) order."""
    rows = await service.list_books(session, who, page=page)
    return make_page(list(rows), page, TargetBookOut)


@router.get("/{book_id}", summary="Get a target book")
async def get_book(book_id: uuid.UUID, who: ReadAccess, session: DbSession) -> TargetBookOut:
    """One book with its member reps."""
    return TargetBookOut.model_validate(await service.get(session, who, book_id=book_id))


@router.get("/{book_id}/report", summary="Load of each rep of a target book")
async def get_book_report(book_id: uuid.UUID, who: ReadAccess, session: DbSession) -> BookReport:
    """Per rep: owned accounts, those matching the book, capacity, load % and over/under."""
    return await service.book_report(session, who, book_id=book_id)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a target book")
async def create_book(
    body: TargetBookCreate, who: WriteAccess, session: DbSession
) -> TargetBookOut:
    """A new book with its capacity, criteria and reps."""
    return TargetBookOut.model_validate(await service.create(session, who, data=body))


@router.patch("/{book_id}", summary="Update a target book")
async def update_book(
    book_id: uuid.UUID, body: TargetBookUpdate, who: WriteAccess, session: DbSession
) -> TargetBookOut:
    """Change the fields sent; `rep_ids` replaces the members."""
    updated = await service.update(session, who, book_id=book_id, data=body)
    return TargetBookOut.model_validate(updated)


@router.delete("/{book_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a book")
async def remove_book(book_id: uuid.UUID, who: WriteAccess, session: DbSession) -> Response:
    """Soft-delete: the book leaves lists, its reps leave it, the feed shows the removal."""
    await service.remove(session, who, book_id=book_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
