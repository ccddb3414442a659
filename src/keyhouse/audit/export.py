"""The audit log of a time range as CSV or JSON Lines, streamed for a SIEM to load.

The same text from `GET /api/v1/audit-events/export` and `keyhouse audit export`: oldest
event first, every event of [since, until), one line each.
"""

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.audit import repository
from keyhouse.audit.models import AuditEvent
from keyhouse.audit.schemas import AuditEventOut
from keyhouse.errors import InvalidInput

COLUMNS = (
    "id",
    "occurred_at",
    "action",
    "actor",
    "actor_user_id",
    "actor_key_id",
    "subject_id",
    "details",
)


class ExportFormat(StrEnum):
    """CSV (details as a JSON object in one column), or one JSON object per line."""

    CSV = "csv"
    JSONL = "jsonl"

    @property
    def media_type(self) -> str:
        """The HTTP content type of this format."""
        return "text/csv; charset=utf-8" if self is ExportFormat.CSV else "application/jsonl"


def check_range(since: datetime, until: datetime) -> None:
    """InvalidInput unless `since` comes before `until`."""
    if since >= until:
        raise InvalidInput("since: must be earlier than until.")


async def export_events(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    since: datetime,
    until: datetime,
    export_format: ExportFormat,
) -> AsyncIterator[str]:
    """The account's events of [since, until) as text chunks, oldest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if export_format is ExportFormat.CSV:
        writer.writerow(COLUMNS)
        yield _drain(buffer)
    async for chunk in repository.stream_range(
        session, account_id=account_id, since=since, until=until
    ):
        if export_format is ExportFormat.CSV:
            writer.writerows(_csv_row(event) for event in chunk)
            yield _drain(buffer)
        else:
            yield "".join(_json_line(event) for event in chunk)


def _json_line(event: AuditEvent) -> str:
    return AuditEventOut.model_validate(event).model_dump_json() + "\n"


def _csv_row(event: AuditEvent) -> list[str]:
    fields = AuditEventOut.model_validate(event).model_dump(mode="json")
    fields["details"] = json.dumps(fields["details"], sort_keys=True)
    return ["" if fields[name] is None else str(fields[name]) for name in COLUMNS]


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
