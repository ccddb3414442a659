"""SQL of instance leases and the revocation clock (PostgreSQL only: SQLite needs neither).

The listener runs on its own asyncpg connection, so its statements are plain SQL strings here;
the revoking transaction and the revoker's wait go through SQLAlchemy sessions.
"""

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

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


async def count_lagging(session: AsyncSession, *, seq: int, besides: uuid.UUID | None) -> int:
    """Instances whose lease is live but that have not applied revocation `seq` yet."""
    lagging = await session.execute(
        text(
            "SELECT count(*) FROM instances "
            "WHERE lease_until > now() AND acked_seq < :seq AND id IS DISTINCT FROM :besides"
        ),
        {"seq": seq, "besides": besides},
    )
    return int(lagging.scalar_one())


async def leave(session: AsyncSession, *, instance_id: uuid.UUID) -> None:
    """Remove a stopping instance, so that no revoker waits for it."""
    await session.execute(text("DELETE FROM instances WHERE id = :id"), {"id": instance_id})
