"""POST /api/v1/secret-scanning/github: GitHub reports Keyhouse tokens it found in public.

Public by signature: no credential, but the body must be signed by one of GitHub's keys, and
every address is rate limited. The answer never says which account a token belongs to.
"""

from fastapi import APIRouter, Request
from pydantic import TypeAdapter, ValidationError

from keyhouse.auth.dependencies import client_address
from keyhouse.config import Settings
from keyhouse.db import DbSession
from keyhouse.errors import InvalidInput
from keyhouse.kit.rate_limits import RateLimits
from keyhouse.leaks import service, signatures
from keyhouse.leaks.schemas import LeakFeedback, LeakReport

router = APIRouter(prefix="/api/v1/secret-scanning", tags=["secret scanning (signed by GitHub)"])
REPORTS = TypeAdapter(list[LeakReport])


@router.post("/github", summary="Report leaked tokens (GitHub secret scanning partner)")
async def github_report(request: Request, db: DbSession) -> list[LeakFeedback]:
    """GitHub's partner payload, `[{"token", "type", "url", "source"}]`, signed with
    `Github-Public-Key-Identifier` and `Github-Public-Key-Signature` (ECDSA P-256, SHA-256).

    Every live Keyhouse key or token in it is revoked on every instance before the answer:
    one feedback entry per token (`token_hash`, `token_type`, `label`). A replayed report
    is answered the same way and revokes nothing more. A bad signature is 401.
    """
    limits: RateLimits = request.app.state.rate_limits
    await limits.secret_scanning_report(client=client_address(request))
    settings: Settings = request.app.state.settings
    body = await request.body()
    signatures.verify(
        await signatures.read_public_keys(settings.secret_scanning_keys_file),
        body,
        key_id=request.headers.get("github-public-key-identifier"),
        signature=request.headers.get("github-public-key-signature"),
    )
    try:
        reports = REPORTS.validate_json(body)
    except ValidationError as error:
        raise InvalidInput("The body is not a list of {token, type, url, source}.") from error
    return await service.report(db, service.GITHUB, secret=settings.secret, reports=reports)
