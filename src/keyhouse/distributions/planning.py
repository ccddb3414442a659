"""Dealing accounts to recipients: quotas per rep, then round-robin in ranking order.

Pure functions over plain data, so preview and run deal exactly the same way.
"""

import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from keyhouse.crm_accounts.repository import Candidate
from keyhouse.distributions.models import DistributionType
from keyhouse.distributions.schemas import (
    DistributionPlan,
    PlannedMove,
    RecipientPlan,
    SkipReason,
)
from keyhouse.ownership.service import Move


@dataclass(slots=True)
class Slot:
    """One recipient while dealing."""

    rep_id: uuid.UUID
    name: str | None
    active: bool
    capacity: int | None
    load: int
    quota: int = 0
    skipped: SkipReason | None = None
    receives: int = 0


@dataclass(frozen=True, slots=True)
class Deal:
    """The outcome of dealing: every recipient and the moves in ranking order."""

    slots: list[Slot]
    moves: list[tuple[Candidate, uuid.UUID]]

    def as_moves(self) -> list[Move]:
        """The moves to apply."""
        return [Move(account.id, account.owner_rep_id, to) for account, to in self.moves]


def set_quota(
    slot: Slot, *, kind: DistributionType, amount: int | None, source: uuid.UUID | None
) -> None:
    """How many accounts the slot may receive, or why it may receive none."""
    if slot.name is None:
        slot.skipped = "deleted"
    elif not slot.active:
        slot.skipped = "inactive"
    elif slot.rep_id == source:
        slot.skipped = "source_rep"
    elif kind is DistributionType.FIXED_PER_REP:
        slot.quota = amount or 0
    elif slot.capacity is None:
        slot.skipped = "no_target_book"
    elif slot.load >= slot.capacity:
        slot.skipped = "at_capacity"
    else:
        slot.quota = slot.capacity - slot.load


def deal(slots: list[Slot], candidates: Sequence[Candidate]) -> Deal:
    """Round-robin in ranking order: each account goes to the next slot with room left."""
    queue = deque(slot for slot in slots if slot.quota > 0)
    moves: list[tuple[Candidate, uuid.UUID]] = []
    for account in candidates:
        if not queue:
            break
        slot = queue.popleft()
        slot.receives += 1
        moves.append((account, slot.rep_id))
        if slot.receives < slot.quota:
            queue.append(slot)
    return Deal(slots=slots, moves=moves)


def describe(
    deal: Deal, *, distribution_id: uuid.UUID | None, moves_limit: int
) -> DistributionPlan:
    """The plan as the API shows it, listing at most `moves_limit` moves."""
    recipients = [
        RecipientPlan(
            rep_id=slot.rep_id,
            name=slot.name,
            active=slot.active,
            capacity=slot.capacity,
            current_load=slot.load,
            quota=slot.quota,
            receives=slot.receives,
            skipped=slot.skipped,
            short_by=slot.quota - slot.receives,
        )
        for slot in deal.slots
    ]
    return DistributionPlan(
        distribution_id=distribution_id,
        moves_total=len(deal.moves),
        recipients=recipients,
        moves=list_moves(deal.moves, moves_limit),
        moves_truncated=len(deal.moves) > moves_limit,
    )


def list_moves(
    moves: Sequence[tuple[Candidate, uuid.UUID | None]], limit: int
) -> list[PlannedMove]:
    """The first `limit` moves, numbered by rank."""
    return [
        PlannedMove(
            rank=rank,
            crm_account_id=account.id,
            account_name=account.name,
            from_rep_id=account.owner_rep_id,
            to_rep_id=to,
        )
        for rank, (account, to) in enumerate(moves[:limit], start=1)
    ]
