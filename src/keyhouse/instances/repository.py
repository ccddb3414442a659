"""SQL of instance leases and the revocation clock (PostgreSQL only: SQLite needs neither).

The listener runs on its own asyncpg connection, so its statements are plain SQL strings here;
the revoking transaction goes through a SQLAlchemy session, the revoker's polls through
`Database.read` (one round trip each: no transaction, no liveness ping).
"""

import uuid

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from keyhouse.instances.models import Instance
from keyhouse.kit.listing import Query

# FOR SHARE waits for a revocation between its clock increment and its commit, then reads the
# new number: a renewal either commits before the revocation (so the revoker sees the lease) or
# sees its number (and extends the lease only once the notification has been applied).
RENEW_LEASE = """
WITH clock AS (SELECT seq FROM revocation_clock WHERE id = 1 FOR SHARE)
UPDATE instances
SET acked_seq = GREATEST(instances.acked_seq, $2),
    lease_until = CASE WHEN $2 >= clock.seq
                       THEN now() + make_interval(secs => $3)
                       ELSE instances.lease_until END
FROM clock
WHERE instances.id = $1
RETURNING $2 >= clock.seq
"""

# A new row starts with an expired lease: only RENEW_LEASE grants one.
JOIN = """
INSERT INTO instances (id, started_at, lease_until, acked_seq)
VALUES ($1, now(), now(), 0)
ON CONFLICT (id) DO NOTHING
"""

FORGET_DEPARTED = "DELETE FROM instances WHERE lease_until < now() - interval '1 hour'"

CURRENT_SEQ = "SELECT seq FROM revocation_clock WHERE id = 1"


def advance_clock(session: Session) -> int:
    """Number this transaction's revocation; the row stays locked until it commits."""
    seq: int = session.execute(
        text("UPDATE revocation_clock SET seq = seq + 1 WHERE id = 1 RETURNING seq")
    ).scalar_one()
    return seq


def notify(session: Session, *, channel: str, payload: str) -> None:
    """Queue a notification that PostgreSQL delivers only if this transaction commits."""
    session.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
    )


# Polled by each revoke until the others catch up: built once (kit/listing.py says why).
_LAGGING = (
    select(func.count())
    .select_from(Instance)
    .where(
        Instance.lease_until > func.now(),
        Instance.acked_seq < bindparam("seq"),
        Instance.id.is_distinct_from(bindparam("besides")),
    )
)


def lagging_query(*, seq: int, besides: uuid.UUID | None) -> Query:
    """How many instances hold a live lease but have not applied revocation `seq` yet."""
    return Query(_LAGGING, {"seq": seq, "besides": besides})


async def leave(session: AsyncSession, *, instance_id: uuid.UUID) -> None:
    """Remove a stopping instance, so that no revoker waits for it."""
    await session.execute(text("DELETE FROM instances WHERE id = :id"), {"id": instance_id})
