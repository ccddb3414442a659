"""SQL of CSV import and export; every query takes the account id."""

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.crm_accounts.repository import among
from keyhouse.kit.emails import normalize_email
from keyhouse.reps.models import Rep

EXPORT_CHUNK_ROWS = 1000


async def reps_by_email(session: AsyncSession, *, account_id: uuid.UUID) -> dict[str, Rep]:
    """Every live rep of the account by its email's comparison form."""
    query = select(Rep).where(Rep.account_id == account_id, Rep.deleted_at.is_(None))
    return {normalize_email(rep.email): rep for rep in (await session.scalars(query)).all()}


async def accounts_by_id(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    crm_account_ids: Sequence[uuid.UUID],
    columns: Sequence[str],
) -> dict[uuid.UUID, dict[str, Any]]:
    """`columns` of each live account among `crm_account_ids` (absent: not in the account)."""
    query = select(CrmAccount.id, *(getattr(CrmAccount, column) for column in columns)).where(
        among(account_id, crm_account_ids), CrmAccount.deleted_at.is_(None)
    )
    rows = (await session.execute(query)).all()
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in rows}


async def insert_accounts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new accounts in one batch."""
    if rows:
        await session.execute(insert(CrmAccount), list(rows))


async def update_accounts(
    session: AsyncSession, *, account_id: uuid.UUID, rows: Sequence[dict[str, Any]]
) -> None:
    """Update accounts of the account by id; each row holds `id` and the fields to set."""
    for row in rows:
        await session.execute(
            update(CrmAccount)
            .where(CrmAccount.account_id == account_id, CrmAccount.id == row["id"])
            .values({key: value for key, value in row.items() if key != "id"})
            .execution_options(synchronize_session=False)
        )


async def stream_accounts(
    session: AsyncSession, *, account_id: uuid.UUID, columns: Sequence[str]
) -> AsyncIterator[Sequence[Any]]:
    """`columns` of live accounts and their owner's email, in chunks, never all in memory."""
    query = (
        select(*(getattr(CrmAccount, column) for column in columns), Rep.email)
        .outerjoin(Rep, Rep.id == CrmAccount.owner_rep_id)
        .where(CrmAccount.account_id == account_id, CrmAccount.deleted_at.is_(None))
        .order_by(CrmAccount.created_at, CrmAccount.id)
        .execution_options(yield_per=EXPORT_CHUNK_ROWS)
    )
    result = await session.stream(query)
    async for partition in result.partitions():
        yield partition
