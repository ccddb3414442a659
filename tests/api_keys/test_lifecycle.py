"""Key lifecycle: audit records, last_used_at written behind the request, stored hashes only."""

import asyncio

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from keyhouse.api_keys.models import AccessLevel, ApiKey
from keyhouse.app import create_app
from keyhouse.audit.models import AuditEvent
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.kit import tokens
from tests.factories import make_key, make_tenant, revoke_key
from tests.web.browsing import new_client


async def _events(database: Database, key: ApiKey) -> list[AuditEvent]:
    async with database.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.subject_id == key.id)
        return list((await session.scalars(query.order_by(AuditEvent.occurred_at))).all())


async def test_create_and_revoke_are_in_the_audit_log_without_the_secret(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.FULL_ACCESS)
    await revoke_key(database, key)
    events = await _events(database, key)
    assert [event.action for event in events] == ["api_key.created", "api_key.revoked"]
    for event in events:
        assert event.account_id == tenant.account.id
        assert event.actor == "command line"
        assert event.details["name"] == key.name
        assert event.details["access_level"] == "full_access"
        assert secret not in str(event.details)


async def test_the_audit_log_refuses_updates_and_deletes(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    key, _ = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.transaction() as session:
            await session.execute(
                update(AuditEvent).where(AuditEvent.subject_id == key.id).values(actor="someone")
            )
    assert (await _events(database, key))[0].actor == "command line"


async def test_only_a_keyed_hash_of_the_secret_is_stored(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    async with database.sessions() as session:
        stored = await session.get_one(ApiKey, key.id)
    assert stored.secret_hash == tokens.keyed_hash(settings.secret, secret)
    assert stored.hint == secret[:12]
    assert secret not in (stored.secret_hash, stored.hint, stored.name)


async def _last_used(database: Database, key: ApiKey) -> object:
    async with database.sessions() as session:
        return (await session.get_one(ApiKey, key.id)).last_used_at


async def test_last_used_is_written_behind_the_request_at_most_once_a_minute(
    database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    key, secret = await make_key(database, settings, tenant.account, AccessLevel.READ_ONLY)
    header = {"Authorization": f"Bearer {secret}"}
    flushing = settings.model_copy(update={"last_used_flush_seconds": 0.2})
    app = create_app(flushing)
    async with app.router.lifespan_context(app), new_client(app) as client:
        assert await _last_used(database, key) is None
        assert (await client.get("/api/v1/me", headers=header)).status_code == 200
        for _ in range(50):
            if (first := await _last_used(database, key)) is not None:
                break
            await asyncio.sleep(0.05)
        assert first is not None
        await client.get("/api/v1/me", headers=header)
        await asyncio.sleep(flushing.last_used_flush_seconds * 3)
        assert await _last_used(database, key) == first
