"""The workspace landing page: what is in the account and where to go next."""

from fastapi import APIRouter, Request, Response

from keyhouse.api_keys import service as api_keys
from keyhouse.auth.dependencies import SignedInUser
from keyhouse.db import DbSession
from keyhouse.web import repository
from keyhouse.web.templates import render

router = APIRouter(include_in_schema=False, tags=["pages"])


@router.get("/")
async def workspace(request: Request, db: DbSession, who: SignedInUser) -> Response:
    """Counts of reps and accounts (and, for admins, keys expiring soon), links, the MCP URL."""
    reps, crm_accounts = await repository.workspace_counts(db, account_id=who.account_id)
    context: dict[str, object] = {"reps": reps, "crm_accounts": crm_accounts, "expiring": 0}
    if who.is_admin:
        context["expiring"] = await api_keys.count_expiring_soon(db, account_id=who.account_id)
    return await render(request, "workspace.html", context)
