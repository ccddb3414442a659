"""MCP tools: thin calls into the same services as the REST API.

Every tool declares read or write through its annotations; `WRITE_TOOLS` is derived from
them, and write tools are hidden from, and refused to, callers without full access.
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.api_keys.models import AccessLevel
from keyhouse.auth.principal import CredentialKind, Principal, Scope
from keyhouse.coverage import service as coverage
from keyhouse.coverage.schemas import CoverageReport
from keyhouse.crm_accounts import service as crm_accounts
from keyhouse.crm_accounts.repository import CrmAccountFilters
from keyhouse.crm_accounts.schemas import CrmAccountOut, CrmAccountUpdate
from keyhouse.distributions import service as distributions
from keyhouse.distributions.models import DistributionStatus
from keyhouse.distributions.schemas import (
    DistributionCreate,
    DistributionOut,
    DistributionPlan,
    DistributionRunOut,
)
from keyhouse.kit.pagination import Page, PageRequest, decode_cursor, make_page
from keyhouse.mcp.access import call, require
from keyhouse.reps import service as reps
from keyhouse.reps.schemas import RepOut
from keyhouse.retrievals import service as retrievals
from keyhouse.retrievals.schemas import RetrievalPlan, RetrievalRunOut, RetrievalSpec
from keyhouse.target_books import service as target_books
from keyhouse.target_books.schemas import BookReport, TargetBookOut

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
UPDATE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
CREATE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)
# Moving accounts between owners overwrites who owns them: destructive, and it runs once.
MOVE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False
)

Limit = Annotated[int, Field(ge=1, le=100, description="How many results to return (1-100).")]
MovesLimit = Annotated[
    int, Field(ge=0, le=1000, description="How many individual moves to list in the answer.")
]
Cursor = Annotated[
    str | None, Field(description="`next_cursor` from the previous page; omit for the first page.")
]


class WhoAmI(BaseModel):
    """Who this connection acts for and what it may do."""

    account_name: str
    account_slug: str
    user_email: str | None
    client: str | None
    credential: CredentialKind
    access_level: AccessLevel
    can_change_data: bool


def _page(cursor: str | None, limit: int) -> PageRequest:
    return PageRequest(
        after=decode_cursor(cursor) if cursor else None, updated_since=None, limit=limit
    )


async def who_am_i(ctx: Context) -> WhoAmI:
    """Who you are acting for: the account, the user, the assistant, and your access level."""
    who = require(ctx, Scope.READ)  # answered from the principal: no database round trip
    is_connection = who.credential is CredentialKind.MCP_CONNECTION
    return WhoAmI(
        account_name=who.account_name,
        account_slug=who.account_slug,
        user_email=who.user_email,
        client=who.credential_name if is_connection else None,
        credential=who.credential,
        access_level=who.access,
        can_change_data=who.allows(Scope.WRITE),
    )


async def search_accounts(
    ctx: Context,
    query: Annotated[str | None, Field(description="Text the account name contains.")] = None,
    industry: Annotated[str | None, Field(description="Exact industry, e.g. Software.")] = None,
    region: Annotated[str | None, Field(description="Exact region, e.g. EMEA or NA-East.")] = None,
    tier: Annotated[int | None, Field(ge=1, le=5, description="Tier 1 (best) to 5.")] = None,
    min_fit_score: Annotated[int | None, Field(ge=0, le=100)] = None,
    in_pool: Annotated[bool | None, Field(description="true: only unowned accounts.")] = None,
    owner_rep_id: Annotated[
        uuid.UUID | None, Field(description="Only this rep's accounts.")
    ] = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page[CrmAccountOut]:
    """Search the workspace's accounts (companies) by name, industry, region, tier, fit or owner."""
    filters = CrmAccountFilters(
        owner_rep_id=owner_rep_id,
        in_pool=in_pool,
        industry=industry,
        region=region,
        tier=tier,
        min_fit_score=min_fit_score,
        search=query,
    )
    page = _page(cursor, limit)

    async def work(session: AsyncSession, who: Principal) -> Page[CrmAccountOut]:
        query = crm_accounts.page_query(who, page=page, filters=filters)
        rows = await query.rows(session)
        return crm_accounts.LISTING.parsed(rows, limit=page.limit)

    return await call(ctx, Scope.READ, work)


async def get_account(ctx: Context, account_id: uuid.UUID) -> CrmAccountOut:
    """One account (company) by id, with its owner rep, fit score, tier and last activity."""

    async def work(session: AsyncSession, who: Principal) -> CrmAccountOut:
        found = await crm_accounts.get(session, who, crm_account_id=account_id)
        return CrmAccountOut.model_validate(found)

    return await call(ctx, Scope.READ, work)


async def list_reps(
    ctx: Context,
    active: Annotated[bool | None, Field(description="true: only active reps.")] = None,
    query: Annotated[str | None, Field(description="Text the rep's name contains.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[RepOut]:
    """List the sales reps of the workspace."""
    page = _page(cursor, limit)

    async def work(session: AsyncSession, who: Principal) -> Page[RepOut]:
        page_query = reps.page_query(who, page=page, active=active, search=query)
        rows = await page_query.rows(session)
        return reps.LISTING.parsed(rows, limit=page.limit)

    return await call(ctx, Scope.READ, work)


async def get_rep_book(
    ctx: Context, rep_id: uuid.UUID, limit: Limit = 50, cursor: Cursor = None
) -> Page[CrmAccountOut]:
    """A rep's book of business: the accounts the rep owns."""
    page = _page(cursor, limit)

    async def work(session: AsyncSession, who: Principal) -> Page[CrmAccountOut]:
        await reps.get(session, who, rep_id=rep_id)
        filters = CrmAccountFilters(owner_rep_id=rep_id)
        query = crm_accounts.page_query(who, page=page, filters=filters)
        rows = await query.rows(session)
        return crm_accounts.LISTING.parsed(rows, limit=page.limit)

    return await call(ctx, Scope.READ, work)


async def update_account(
    ctx: Context,
    account_id: uuid.UUID,
    owner_rep_id: Annotated[
        uuid.UUID | None, Field(description="New owner rep; null returns it to the pool.")
    ] = None,
    clear_owner: Annotated[
        bool, Field(description="true: return the account to the pool.")
    ] = False,
    tier: Annotated[int | None, Field(ge=1, le=5)] = None,
    fit_score: Annotated[int | None, Field(ge=0, le=100)] = None,
    last_activity_at: AwareDatetime | None = None,
) -> CrmAccountOut:
    """Change an account's owner rep or its tier, fit score or last activity. Needs full access."""
    changes: dict[str, object] = {
        name: value
        for name, value in {
            "owner_rep_id": owner_rep_id,
            "tier": tier,
            "fit_score": fit_score,
            "last_activity_at": last_activity_at,
        }.items()
        if value is not None
    }
    if clear_owner:
        changes["owner_rep_id"] = None
    data = CrmAccountUpdate.model_validate(changes)

    async def work(session: AsyncSession, who: Principal) -> CrmAccountOut:
        updated = await crm_accounts.update(session, who, crm_account_id=account_id, data=data)
        return CrmAccountOut.model_validate(updated)

    return await call(ctx, Scope.WRITE, work)


async def coverage_report(
    ctx: Context,
    stale_days: Annotated[int, Field(ge=1, le=3650, description="No activity for this long.")] = 90,
    high_fit_score: Annotated[int, Field(ge=0, le=100)] = 80,
) -> CoverageReport:
    """Per rep: accounts owned, capacity, load % and stale accounts; pool and unowned high-fit."""

    async def work(session: AsyncSession, who: Principal) -> CoverageReport:
        return await coverage.coverage_report(
            session, who, stale_days=stale_days, high_fit_score=high_fit_score
        )

    return await call(ctx, Scope.READ, work)


async def list_target_books(
    ctx: Context, limit: Limit = 50, cursor: Cursor = None
) -> Page[TargetBookOut]:
    """Target books: segments of accounts with a capacity (accounts per rep) and member reps."""
    page = _page(cursor, limit)

    async def work(session: AsyncSession, who: Principal) -> Page[TargetBookOut]:
        rows = await target_books.list_books(session, who, page=page)
        return make_page(list(rows), page, TargetBookOut)

    return await call(ctx, Scope.READ, work)


async def get_target_book(ctx: Context, book_id: uuid.UUID) -> BookReport:
    """A target book with each member rep's load against its capacity."""

    async def work(session: AsyncSession, who: Principal) -> BookReport:
        return await target_books.book_report(session, who, book_id=book_id)

    return await call(ctx, Scope.READ, work)


async def list_distributions(
    ctx: Context,
    status: Annotated[DistributionStatus | None, Field(description="draft or completed.")] = None,
    limit: Limit = 25,
    cursor: Cursor = None,
) -> Page[DistributionOut]:
    """Distributions: drafts waiting to run and completed ones."""
    page = _page(cursor, limit)

    async def work(session: AsyncSession, who: Principal) -> Page[DistributionOut]:
        rows = await distributions.list_distributions(session, who, page=page, status=status)
        return make_page(list(rows), page, DistributionOut)

    return await call(ctx, Scope.READ, work)


async def get_distribution(ctx: Context, distribution_id: uuid.UUID) -> DistributionOut:
    """One distribution: source, recipients, criteria, ranking, status and what it moved."""

    async def work(session: AsyncSession, who: Principal) -> DistributionOut:
        found = await distributions.get(session, who, distribution_id=distribution_id)
        return DistributionOut.model_validate(found)

    return await call(ctx, Scope.READ, work)


async def preview_distribution(
    ctx: Context, distribution_id: uuid.UUID, moves_limit: MovesLimit = 50
) -> DistributionPlan:
    """Which accounts a draft would move to whom, and why a rep would get none. Changes nothing."""

    async def work(session: AsyncSession, who: Principal) -> DistributionPlan:
        return await distributions.preview(
            session, who, distribution_id=distribution_id, moves_limit=moves_limit
        )

    return await call(ctx, Scope.READ, work)


async def preview_retrieval(
    ctx: Context, retrieval: RetrievalSpec, moves_limit: MovesLimit = 50
) -> RetrievalPlan:
    """Which accounts a retrieval would take back from reps to the pool. Changes nothing."""

    async def work(session: AsyncSession, who: Principal) -> RetrievalPlan:
        return await retrievals.preview(session, who, spec=retrieval, moves_limit=moves_limit)

    return await call(ctx, Scope.READ, work)


async def create_distribution(ctx: Context, distribution: DistributionCreate) -> DistributionOut:
    """Create a draft distribution (moves nothing until run_distribution). Needs full access."""

    async def work(session: AsyncSession, who: Principal) -> DistributionOut:
        created = await distributions.create(session, who, data=distribution)
        return DistributionOut.model_validate(created)

    return await call(ctx, Scope.WRITE, work)


async def run_distribution(
    ctx: Context, distribution_id: uuid.UUID, moves_limit: MovesLimit = 50
) -> DistributionRunOut:
    """Run a draft: every planned transfer happens or none does; it runs once. Full access."""

    async def work(session: AsyncSession, who: Principal) -> DistributionRunOut:
        return await distributions.run(
            session, who, distribution_id=distribution_id, moves_limit=moves_limit
        )

    return await call(ctx, Scope.WRITE, work)


async def run_retrieval(
    ctx: Context, retrieval: RetrievalSpec, moves_limit: MovesLimit = 50
) -> RetrievalRunOut:
    """Move matching accounts from reps back to the pool, all or nothing. Needs full access."""

    async def work(session: AsyncSession, who: Principal) -> RetrievalRunOut:
        return await retrievals.run(session, who, spec=retrieval, moves_limit=moves_limit)

    return await call(ctx, Scope.WRITE, work)


READ_TOOLS: tuple[Callable[..., Awaitable[BaseModel]], ...] = (
    who_am_i,
    search_accounts,
    get_account,
    list_reps,
    get_rep_book,
    coverage_report,
    list_target_books,
    get_target_book,
    list_distributions,
    get_distribution,
    preview_distribution,
    preview_retrieval,
)
WRITE_TOOL_HINTS: tuple[tuple[Callable[..., Awaitable[BaseModel]], ToolAnnotations], ...] = (
    (update_account, UPDATE),
    (create_distribution, CREATE),
    (run_distribution, MOVE),
    (run_retrieval, MOVE),
)
WRITE_TOOLS = frozenset(function.__name__ for function, _ in WRITE_TOOL_HINTS)


def register(server: MCPServer) -> None:
    """Add every tool to `server`, read tools and write tools alike."""
    for function in READ_TOOLS:
        server.tool(annotations=READ)(function)
    for function, annotations in WRITE_TOOL_HINTS:
        server.tool(annotations=annotations)(function)
