"""CSV import (all lines valid, or nothing written) and streamed export of reps and accounts."""

import csv
import io
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.audit.service import Actor
from keyhouse.csv_files import repository
from keyhouse.csv_files.accounts import AccountImport, RepIndex, parse_account
from keyhouse.csv_files.schemas import (
    ACCOUNT_EXPORT_COLUMNS,
    REP_COLUMNS,
    ImportReport,
    RepRow,
    RowError,
    validation_reason,
)
from keyhouse.errors import InvalidInput
from keyhouse.reps import repository as rep_rows
from keyhouse.reps.models import Rep

ERRORS_IN_DETAIL = 20


class ImportRejected(InvalidInput):
    """Some lines are invalid, so nothing was imported; `errors` names each line."""

    def __init__(self, errors: list[RowError]) -> None:
        shown = "; ".join(
            f"line {error.line}: {error.reason}" for error in errors[:ERRORS_IN_DETAIL]
        )
        more = (
            f"; and {len(errors) - ERRORS_IN_DETAIL} more" if len(errors) > ERRORS_IN_DETAIL else ""
        )
        super().__init__(f"{len(errors)} invalid line(s), nothing was imported. {shown}{more}")
        self.errors = errors


def _records(
    lines: Iterable[str], *, allowed: Iterable[str], required: set[str]
) -> Iterator[tuple[int, dict[str, str] | None]]:
    """(first line number, values) of each CSV record, None for a record with too many fields.

    The header is checked first; a file that is not CSV or not UTF-8 is refused as a whole.
    """
    reader = csv.DictReader(lines)
    try:
        header = reader.fieldnames
        if not header:
            raise InvalidInput("file: it is empty; the first line must name the columns.")
        unknown = [column for column in header if column not in set(allowed)]
        if unknown:
            raise InvalidInput(f"header: unknown column {unknown[0]!r}; use {list(allowed)}.")
        missing = sorted(required - set(header))
        if missing:
            raise InvalidInput(f"header: the column {missing[0]!r} is required.")
        ended = reader.line_num
        for record in reader:
            start, ended = ended + 1, reader.line_num
            extra = None in record
            yield start, None if extra else {key: value or "" for key, value in record.items()}
    except csv.Error as error:
        raise InvalidInput(f"line {reader.line_num}: not valid CSV ({error}).") from error
    except UnicodeDecodeError as error:
        raise InvalidInput("file: not UTF-8 text.") from error


TOO_MANY_FIELDS = "the line has more fields than the header has columns"


async def import_accounts(
    session: AsyncSession,
    actor: Actor,
    *,
    account_id: uuid.UUID,
    lines: Iterable[str],
    skip_invalid: bool = False,
) -> ImportReport:
    """Create (no `id`) or update (`id`) accounts; any invalid line and nothing is written,
    unless `skip_invalid`: then good lines are written and bad ones reported."""
    reps = RepIndex.of(await repository.reps_by_email(session, account_id=account_id))
    batch = AccountImport(session, actor, account_id=account_id)
    errors: list[RowError] = []
    seen_ids: set[uuid.UUID] = set()
    allowed = ACCOUNT_EXPORT_COLUMNS
    for line, values in _records(lines, allowed=allowed, required={"name"}):
        parsed = parse_account(values, reps) if values else TOO_MANY_FIELDS
        if not isinstance(parsed, str) and parsed.row.id in seen_ids:
            parsed = "id: the same account is on an earlier line"
        if isinstance(parsed, str):
            errors.append(RowError(line=line, reason=parsed, values=values or {}))
            continue
        if parsed.row.id is not None:
            seen_ids.add(parsed.row.id)
        if not errors or skip_invalid:
            errors.extend(await batch.add(line, values or {}, parsed))
    errors.extend(await batch.finish())
    counts = _Counts(batch.created, batch.updated, batch.unchanged)
    return _report(counts, errors, skip_invalid=skip_invalid)


@dataclass
class _Counts:
    """Lines written as new records, as changes, and lines that matched what is stored."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _report(counts: _Counts, errors: list[RowError], *, skip_invalid: bool) -> ImportReport:
    errors.sort(key=lambda error: error.line)
    if errors and not skip_invalid:
        raise ImportRejected(errors)
    return ImportReport(**asdict(counts), rejected=len(errors), errors=errors)


async def import_reps(
    session: AsyncSession,
    actor: Actor,
    *,
    account_id: uuid.UUID,
    lines: Iterable[str],
    skip_invalid: bool = False,
) -> ImportReport:
    """Create reps, or update those whose email exists; all or nothing unless `skip_invalid`."""
    del actor  # reps carry no history; kept for the same call shape as accounts
    reps = await repository.reps_by_email(session, account_id=account_id)
    errors: list[RowError] = []
    seen: set[str] = set()
    counts = _Counts()
    for line, values in _records(lines, allowed=REP_COLUMNS, required={"name", "email"}):
        if values is None:
            errors.append(RowError(line=line, reason=TOO_MANY_FIELDS))
            continue
        try:
            row = RepRow.model_validate({key: value.strip() for key, value in values.items()})
        except ValidationError as error:
            errors.append(RowError(line=line, reason=validation_reason(error), values=values))
            continue
        email = row.email
        if email in seen:
            errors.append(RowError(line=line, reason="email: on an earlier line", values=values))
            continue
        seen.add(email)
        if errors and not skip_invalid:
            continue
        if email not in reps:
            reps[email] = Rep(account_id=account_id, name=row.name, email=email, active=row.active)
            rep_rows.add(session, reps[email])
            counts.created += 1
        elif _update_rep(reps[email], row, values):
            counts.updated += 1
        else:
            counts.unchanged += 1
    await session.flush()
    return _report(counts, errors, skip_invalid=skip_invalid)


def _update_rep(rep: Rep, row: RepRow, values: dict[str, str]) -> bool:
    """Set what the line changes; False when it matches the rep (nothing is written then)."""
    changes = {"name": row.name} | ({"active": row.active} if "active" in values else {})
    changes = {key: value for key, value in changes.items() if getattr(rep, key) != value}
    for key, value in changes.items():
        setattr(rep, key, value)
    return bool(changes)


async def export_accounts(session: AsyncSession, *, account_id: uuid.UUID) -> AsyncIterator[str]:
    """The account's live accounts as CSV text, in chunks read from a server-side cursor."""
    columns = [column for column in ACCOUNT_EXPORT_COLUMNS if column != "owner_email"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ACCOUNT_EXPORT_COLUMNS)
    yield _drain(buffer)
    async for chunk in repository.stream_accounts(session, account_id=account_id, columns=columns):
        for row in chunk:
            fields = dict(zip(columns, row[:-1], strict=True)) | {"owner_email": row[-1]}
            writer.writerow([_cell(fields[column]) for column in ACCOUNT_EXPORT_COLUMNS])
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, datetime) else str(value)
