"""SQL of ownership history and of the guarded owner update; every query takes the account id."""

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.crm_accounts.repository import among, unindexed
from keyhouse.kit.listing import Condition, Listing, Query, where_given
from keyhouse.kit.pagination import PageRequest, paginate
from keyhouse.ownership.models import OwnershipChange
from keyhouse.ownership.schemas import OwnershipChangeOut


async def move_owner(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    crm_account_ids: Sequence[uuid.UUID],
    from_rep_id: uuid.UUID | None,
    to_rep_id: uuid.UUID | None,
    values: dict[str, Any],
    now: datetime,
) -> int:
    """Give live accounts still owned by `from_rep_id` (None: the pool) to `to_rep_id`.

    Returns how many rows moved; an account that changed owner meanwhile is not touched,
    so the caller can tell a concurrent change from success.
    """
    owner = unindexed(CrmAccount.owner_rep_id)
    statement = (
        update(CrmAccount)
        .where(
            among(account_id, crm_account_ids),
            CrmAccount.deleted_at.is_(None),
            owner.is_(None) if from_rep_id is None else owner == from_rep_id,
        )
        .values(**values, owner_rep_id=to_rep_id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount


async def add_changes(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert history rows in one batch."""
    if rows:
        await session.execute(insert(OwnershipChange), list(rows))


def add_change(session: AsyncSession, change: OwnershipChange) -> None:
    """Queue one history row for insert."""
    session.add(change)


# The rows of a list as `OwnershipChangeOut` items, read without ORM objects (kit/listing.py).
LISTING = Listing(OwnershipChange, OwnershipChangeOut, columns={"changed_at": "created_at"})
FILTERS: dict[str, Condition] = {
    "crm_account_id": lambda value: OwnershipChange.crm_account_id == value,
    "distribution_id": lambda value: OwnershipChange.distribution_id == value,
    "retrieval_id": lambda value: OwnershipChange.retrieval_id == value,
}


def page_query(
    *,
    account_id: uuid.UUID,
    page: PageRequest,
    crm_account_id: uuid.UUID | None = None,
    distribution_id: uuid.UUID | None = None,
    retrieval_id: uuid.UUID | None = None,
) -> Query:
    """One page of ownership changes, oldest first, narrowed to one account or one run."""
    values = {
        "account_id": account_id,
        "crm_account_id": crm_account_id,
        "distribution_id": distribution_id,
        "retrieval_id": retrieval_id,
        **page.values(),
    }
    return Query.of(_page_statement, values, filters=FILTERS)


@functools.cache
def _page_statement(bound: frozenset[str]) -> Select[Any]:
    query = LISTING.select().where(OwnershipChange.account_id == bindparam("account_id"))
    query = where_given(query, FILTERS, bound)
    return paginate(query, bound, OwnershipChange.updated_at, OwnershipChange.id)
