"""The coverage report: per rep load and stale accounts; pool and high-fit accounts unowned."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.auth.principal import Principal
from keyhouse.coverage import repository
from keyhouse.coverage.schemas import CoverageReport, RepCoverage, WorkspaceCoverage
from keyhouse.crm_accounts import repository as crm_accounts
from keyhouse.crm_accounts.models import CrmAccount
from keyhouse.kit.orm import utcnow
from keyhouse.reps.models import Rep
from keyhouse.target_books.schemas import capacity_status, load_pct

DEFAULT_STALE_DAYS = 90
DEFAULT_HIGH_FIT_SCORE = 80


async def coverage_report(
    session: AsyncSession,
    principal: Principal,
    *,
    stale_days: int = DEFAULT_STALE_DAYS,
    high_fit_score: int = DEFAULT_HIGH_FIT_SCORE,
) -> CoverageReport:
    """Per rep: owned, capacity, load %, stale; workspace: pool size and unowned high-fit."""
    now = utcnow()
    account_id = principal.account_id
    stale = _stale(now - timedelta(days=stale_days))
    owned = await crm_accounts.count_by_owner(session, account_id=account_id)
    stale_owned = await crm_accounts.count_by_owner(session, account_id=account_id, where=stale)
    reps = [
        _rep_coverage(rep, capacity, owned.get(rep.id, 0), stale_owned.get(rep.id, 0))
        for rep, capacity in await repository.reps_with_capacity(session, account_id=account_id)
    ]
    in_pool = CrmAccount.owner_rep_id.is_(None)
    high_fit = CrmAccount.fit_score >= high_fit_score
    workspace = WorkspaceCoverage(
        accounts_total=await crm_accounts.count(session, account_id=account_id),
        accounts_owned=sum(owned.values()),
        accounts_in_pool=await crm_accounts.count(session, account_id=account_id, where=in_pool),
        unowned_high_fit=await crm_accounts.count(
            session, account_id=account_id, where=in_pool & high_fit
        ),
        stale_accounts=sum(stale_owned.values()),
        reps_active=sum(rep.active for rep in reps),
        reps_over_capacity=sum(rep.status == "over" for rep in reps),
    )
    return CoverageReport(
        generated_at=now,
        stale_days=stale_days,
        high_fit_score=high_fit_score,
        workspace=workspace,
        reps=reps,
    )


def _stale(cutoff: datetime) -> ColumnElement[bool]:
    # Never-touched accounts are the stalest of all, so a missing date counts as stale.
    return or_(CrmAccount.last_activity_at.is_(None), CrmAccount.last_activity_at < cutoff)


def _rep_coverage(rep: Rep, capacity: int | None, owned: int, stale: int) -> RepCoverage:
    return RepCoverage(
        rep_id=rep.id,
        name=rep.name,
        active=rep.active,
        target_book_id=rep.target_book_id,
        owned_accounts=owned,
        capacity=capacity,
        load_pct=load_pct(owned, capacity),
        status=None if capacity is None else capacity_status(owned, capacity),
        stale_accounts=stale,
    )
