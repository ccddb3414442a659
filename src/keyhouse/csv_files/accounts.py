"""Account lines of a CSV import: parsed against the account's reps, written in batches.

A line that matches its account as stored writes nothing: an export imported back unchanged
moves no `updated_at`, so the changes feed stays quiet and only edited lines are written.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.audit.service import Actor
from keyhouse.csv_files import repository
from keyhouse.csv_files.schemas import (
    ACCOUNT_FIELDS,
    ACCOUNT_READ_ONLY_COLUMNS,
    AccountRow,
    RowError,
    validation_reason,
)
from keyhouse.kit.orm import utcnow
from keyhouse.ownership import repository as ownership
from keyhouse.ownership.models import ChangeReason
from keyhouse.reps.models import Rep

BATCH_ROWS = 1000
OWNER_COLUMNS = ("owner_email", "owner_rep_id")


@dataclass(frozen=True, slots=True)
class ParsedAccount:
    """A valid line: its fields, and its owner when the line names one (and in which column)."""

    row: AccountRow
    owner_column: str | None
    owner: Rep | None

    @property
    def owner_rep_id(self) -> uuid.UUID | None:
        """The owner the line names; None puts the account in the pool."""
        return self.owner.id if self.owner else None


@dataclass(frozen=True, slots=True)
class RepIndex:
    """The account's live reps by email and by id, to resolve owners."""

    by_email: dict[str, Rep]
    by_id: dict[uuid.UUID, Rep]

    @classmethod
    def of(cls, by_email: dict[str, Rep]) -> "RepIndex":
        """The index of reps keyed by their (normalised) email."""
        return cls(by_email=by_email, by_id={rep.id: rep for rep in by_email.values()})


def parse_account(values: dict[str, str], reps: RepIndex) -> ParsedAccount | str:
    """The line's account, or the reason it is invalid (empty cells are empty fields)."""
    data = {
        key: value.strip() or None
        for key, value in values.items()
        if key not in ACCOUNT_READ_ONLY_COLUMNS
    }
    try:
        row = AccountRow.model_validate(data)
    except ValidationError as error:
        return validation_reason(error)
    owner = _owner(row, reps)
    if isinstance(owner, str):
        return owner
    return ParsedAccount(row=row, owner_column=_owner_column(row, data), owner=owner)


def _owner_column(row: AccountRow, data: dict[str, str | None]) -> str | None:
    """The column that names the owner (or clears it); None when the file has neither."""
    named = [name for name in OWNER_COLUMNS if getattr(row, name) is not None]
    present = [name for name in OWNER_COLUMNS if name in data]
    return next(iter(named or present), None)


def _owner(row: AccountRow, reps: RepIndex) -> Rep | str | None:
    rep = reps.by_email.get(row.owner_email) if row.owner_email else None
    if row.owner_email and rep is None:
        return "owner_email: no rep with this email in the account"
    if row.owner_rep_id is not None:
        if rep is not None and rep.id != row.owner_rep_id:
            return "owner_rep_id: it is not the rep of owner_email"
        rep = reps.by_id.get(row.owner_rep_id)
        if rep is None:
            return "owner_rep_id: no rep with this id in the account"
    return rep


def _same(stored: object, given: object) -> bool:
    # A CSV cell cannot tell an empty text from no text: both read back as an empty field.
    if stored in (None, "") and given in (None, ""):
        return True
    return stored == given


@dataclass
class AccountImport:
    """Valid lines buffered and written a batch at a time, with the owner history they make."""

    session: AsyncSession
    actor: Actor
    account_id: uuid.UUID
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pending: list[tuple[int, dict[str, str], ParsedAccount]] = field(default_factory=list)

    async def add(self, line: int, values: dict[str, str], parsed: ParsedAccount) -> list[RowError]:
        """Buffer a line; write the batch when full. Returns lines found invalid on writing."""
        self.pending.append((line, values, parsed))
        return await self.finish() if len(self.pending) >= BATCH_ROWS else []

    async def finish(self) -> list[RowError]:
        """Write what is buffered; lines that cannot apply to the stored accounts are errors."""
        batch, self.pending = self.pending, []
        ids = [parsed.row.id for _, _, parsed in batch if parsed.row.id is not None]
        stored = await repository.accounts_by_id(
            self.session, account_id=self.account_id, crm_account_ids=ids, columns=ACCOUNT_FIELDS
        )
        written = _Batch(now=utcnow())
        errors = []
        for line, values, parsed in batch:
            current = stored.get(parsed.row.id) if parsed.row.id else {}
            reason = _refusal(parsed, current)
            if reason is not None:
                errors.append(RowError(line=line, reason=reason, values=values))
            else:
                self._sort(written, parsed, current or {})
        await self._write(written)
        return errors

    async def _write(self, written: "_Batch") -> None:
        await repository.insert_accounts(self.session, written.inserts)
        await repository.update_accounts(
            self.session, account_id=self.account_id, rows=written.updates
        )
        await ownership.add_changes(self.session, written.history)
        self.created += len(written.inserts)
        self.updated += len(written.updates)
        self.unchanged += written.unchanged

    def _sort(self, batch: "_Batch", parsed: ParsedAccount, current: dict[str, Any]) -> None:
        fields = {
            key: value
            for key, value in parsed.row.changes().items()
            if key in ACCOUNT_FIELDS and key not in OWNER_COLUMNS
        }
        previous = current.get("owner_rep_id")
        owner = parsed.owner_rep_id if parsed.owner_column else previous
        row_id = parsed.row.id
        if row_id is None:
            row_id = uuid.uuid4()
            batch.inserts.append(
                {
                    **fields,
                    "id": row_id,
                    "account_id": self.account_id,
                    "owner_rep_id": owner,
                    "created_at": batch.now,
                    "updated_at": batch.now,
                }
            )
        else:
            edited = {key: value for key, value in fields.items() if not _same(current[key], value)}
            if owner != previous:
                edited["owner_rep_id"] = owner
            if not edited:
                batch.unchanged += 1
                return
            batch.updates.append({**edited, "id": row_id, "updated_at": batch.now})
        if owner != previous:
            batch.history.append(self._change(row_id, previous, owner, batch.now))

    def _change(
        self, row_id: uuid.UUID, previous: uuid.UUID | None, owner: uuid.UUID | None, now: datetime
    ) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "account_id": self.account_id,
            "crm_account_id": row_id,
            "from_rep_id": previous,
            "to_rep_id": owner,
            "reason": ChangeReason.IMPORT,
            "actor": self.actor.label,
            "actor_key_id": self.actor.key_id,
            "created_at": now,
            "updated_at": now,
        }


def _refusal(parsed: ParsedAccount, current: dict[str, Any] | None) -> str | None:
    """Why the line cannot apply to the stored account (None: it can)."""
    if current is None:
        return "id: no account with this id"
    rep = parsed.owner
    # An inactive rep keeps the accounts it owns (an export names it); it gets no new ones.
    if rep is not None and not rep.active and current.get("owner_rep_id") != rep.id:
        return (
            f"{parsed.owner_column}: rep {rep.email} is inactive; "
            "it may keep the accounts it owns but cannot be given new ones"
        )
    return None


@dataclass
class _Batch:
    """Rows of one batch, sorted into inserts, updates, unchanged lines and owner history."""

    now: datetime
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
