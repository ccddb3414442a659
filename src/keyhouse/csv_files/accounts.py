"""Account lines of a CSV import: parsed against the account's reps, written in batches."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.audit.service import Actor
from keyhouse.csv_files import repository
from keyhouse.csv_files.schemas import (
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


@dataclass(frozen=True, slots=True)
class ParsedAccount:
    """A valid line: its fields, and its owner when the line names one."""

    row: AccountRow
    owner_given: bool
    owner_rep_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class RepIndex:
    """The account's live reps by email and by id, to resolve owners."""

    by_email: dict[str, Rep]
    by_id: dict[uuid.UUID, Rep]

    @classmethod
    def of(cls, by_email: dict[str, Rep]) -> "RepIndex":
        """The index of reps keyed by lower-case email."""
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
    owner_given = "owner_email" in data or "owner_rep_id" in data
    return ParsedAccount(row=row, owner_given=owner_given, owner_rep_id=owner)


def _owner(row: AccountRow, reps: RepIndex) -> uuid.UUID | str | None:
    rep = reps.by_email.get(row.owner_email.lower()) if row.owner_email else None
    if row.owner_email and rep is None:
        return "owner_email: no rep with this email in the account"
    if row.owner_rep_id is not None:
        if rep is not None and rep.id != row.owner_rep_id:
            return "owner_rep_id: it is not the rep of owner_email"
        rep = reps.by_id.get(row.owner_rep_id)
        if rep is None:
            return "owner_rep_id: no rep with this id in the account"
    if rep is not None and not rep.active:
        return f"owner: rep {rep.email} is inactive"
    return rep.id if rep else None


@dataclass
class AccountImport:
    """Valid lines buffered and written a batch at a time, with the owner history they make."""

    session: AsyncSession
    actor: Actor
    account_id: uuid.UUID
    created: int = 0
    updated: int = 0
    pending: list[tuple[int, dict[str, str], ParsedAccount]] = field(default_factory=list)

    async def add(self, line: int, values: dict[str, str], parsed: ParsedAccount) -> list[RowError]:
        """Buffer a line; write the batch when full. Returns lines found invalid on writing."""
        self.pending.append((line, values, parsed))
        return await self.finish() if len(self.pending) >= BATCH_ROWS else []

    async def finish(self) -> list[RowError]:
        """Write what is buffered; lines updating an unknown account are returned as errors."""
        batch, self.pending = self.pending, []
        ids = [parsed.row.id for _, _, parsed in batch if parsed.row.id is not None]
        owners = await repository.owners_of(
            self.session, account_id=self.account_id, crm_account_ids=ids
        )
        written = _Batch(now=utcnow())
        errors = []
        for line, values, parsed in batch:
            if parsed.row.id is not None and parsed.row.id not in owners:
                errors.append(
                    RowError(line=line, reason="id: no account with this id", values=values)
                )
            else:
                self._sort(written, parsed, owners)
        await repository.insert_accounts(self.session, written.inserts)
        await repository.update_accounts(
            self.session, account_id=self.account_id, rows=written.updates
        )
        await ownership.add_changes(self.session, written.history)
        self.created += len(written.inserts)
        self.updated += len(written.updates)
        return errors

    def _sort(
        self, batch: "_Batch", parsed: ParsedAccount, owners: dict[uuid.UUID, uuid.UUID | None]
    ) -> None:
        fields = parsed.row.changes()
        fields.pop("owner_email", None)
        fields.pop("owner_rep_id", None)
        row_id = parsed.row.id
        previous = owners.get(row_id) if row_id else None
        owner = parsed.owner_rep_id if parsed.owner_given else previous
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
            batch.updates.append(
                {**fields, "id": row_id, "owner_rep_id": owner, "updated_at": batch.now}
            )
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


@dataclass
class _Batch:
    """Rows of one batch, sorted into inserts, updates and owner history."""

    now: datetime
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
