"""REST endpoint of the coverage report: /api/v1/coverage."""

from typing import Annotated

from fastapi import APIRouter, Query

from keyhouse.auth.dependencies import ReadAccess
from keyhouse.coverage import service
from keyhouse.coverage.schemas import CoverageReport
from keyhouse.db import DbSession

router = APIRouter(prefix="/api/v1", tags=["coverage"])


@router.get("/coverage", summary="Coverage: load and stale accounts per rep, pool at a glance")
async def get_coverage(
    who: ReadAccess,
    session: DbSession,
    stale_days: Annotated[int, Query(ge=1, le=3650)] = service.DEFAULT_STALE_DAYS,
    high_fit_score: Annotated[int, Query(ge=0, le=100)] = service.DEFAULT_HIGH_FIT_SCORE,
) -> CoverageReport:
    """Per rep: owned, capacity, load %, stale; workspace: accounts in pool, unowned high-fit."""
    return await service.coverage_report(
        session, who, stale_days=stale_days, high_fit_score=high_fit_score
    )
