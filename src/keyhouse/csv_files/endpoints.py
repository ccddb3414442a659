"""REST endpoints of CSV files: upload reps or accounts, stream accounts out."""

import io
import tempfile
from collections.abc import AsyncIterator
from typing import IO

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from keyhouse.auth.dependencies import ReadAccess, WriteAccess
from keyhouse.csv_files import service
from keyhouse.csv_files.schemas import ImportReport
from keyhouse.db import Database, DbSession
from keyhouse.errors import BadRequest
from keyhouse.ownership.service import actor_of

router = APIRouter(prefix="/api/v1", tags=["csv"])

UPLOAD_PATHS = ("/api/v1/accounts/import", "/api/v1/reps/import")
# Uploads larger than this spill from memory to a temporary file.
SPOOL_BYTES = 4 * 1_048_576
UPLOAD_DESCRIPTION = (
    "Send the CSV as the body (`Content-Type: text/csv`) or as the `file` field of a "
    "multipart form. Every line is checked; one bad line and nothing is imported, unless "
    "`skip_invalid=true`, which imports the good lines and lists the bad ones. A line that "
    "matches the stored record writes nothing and counts as `unchanged`."
)


@router.post("/accounts/import", summary="Import accounts from CSV", description=UPLOAD_DESCRIPTION)
async def import_accounts(
    request: Request, who: WriteAccess, session: DbSession, skip_invalid: bool = False
) -> ImportReport:
    """Create accounts (lines without `id`) or update them (lines with `id`)."""
    with await _uploaded(request) as upload, _text_lines(upload) as lines:
        return await service.import_accounts(
            session,
            actor_of(who),
            account_id=who.account_id,
            lines=lines,
            skip_invalid=skip_invalid,
        )


@router.post("/reps/import", summary="Import reps from CSV", description=UPLOAD_DESCRIPTION)
async def import_reps(
    request: Request, who: WriteAccess, session: DbSession, skip_invalid: bool = False
) -> ImportReport:
    """Create reps, or update those whose email exists (columns: name, email, active)."""
    with await _uploaded(request) as upload, _text_lines(upload) as lines:
        return await service.import_reps(
            session,
            actor_of(who),
            account_id=who.account_id,
            lines=lines,
            skip_invalid=skip_invalid,
        )


@router.get(
    "/accounts/export.csv",
    summary="Export accounts as CSV (streamed)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The accounts as CSV"}},
)
async def export_accounts(request: Request, who: ReadAccess) -> StreamingResponse:
    """Every live account, streamed in chunks from a server-side cursor."""
    database: Database = request.app.state.database

    async def body() -> AsyncIterator[str]:
        # The request's session is closed before a streamed body is sent: use our own.
        async with database.sessions() as session:
            async for chunk in service.export_accounts(session, account_id=who.account_id):
                yield chunk

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="accounts.csv"'},
    )


async def _uploaded(request: Request) -> IO[bytes]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequest("file: send the CSV as the `file` field of the form.")
        return upload.file
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - caller closes
    async for chunk in request.stream():
        spooled.write(chunk)
    spooled.seek(0)
    return spooled


def _text_lines(upload: IO[bytes]) -> io.TextIOWrapper:
    upload.seek(0)
    return io.TextIOWrapper(upload, encoding="utf-8-sig", newline="")
