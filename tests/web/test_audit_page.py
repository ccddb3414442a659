"""The audit log page reads as words for people, and filters by a range of days."""

import html
import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from keyhouse.api_keys import service as api_keys
from keyhouse.api_keys.models import AccessLevel
from keyhouse.audit.models import AuditEvent
from keyhouse.audit.service import Actor
from keyhouse.config import Settings
from keyhouse.connections import service as connections
from keyhouse.db import Database
from keyhouse.users.models import Role
from tests.factories import Tenant, make_tenant, make_user
from tests.oauth_flow import connect
from tests.web.browsing import new_client, sign_in

PASSWORD = "correct horse battery"


async def test_events_read_as_sentences_with_names_not_ids_or_reprs(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, _ = await make_user(database, tenant.account, Role.MEMBER)
    async with database.transaction() as session:
        key, _ = await api_keys.create(
            session,
            _actor(tenant),
            secret=settings.secret,
            account_id=tenant.account.id,
            name="Nightly sync",
            access_level=AccessLevel.READ_ONLY,
        )
    async with new_client(app, origin=settings.base_url) as browser:
        await connect(browser, database, settings, user=member, access=AccessLevel.READ_ONLY)
        await sign_in(browser, tenant.admin.email, PASSWORD)
        listed = (await browser.get("/api/v1/connections")).json()
        async with database.transaction() as session:
            await connections.disconnect(
                session,
                _actor(tenant),
                account_id=tenant.account.id,
                connection_id=uuid.UUID(listed[0]["id"]),
            )
            await api_keys.revoke(
                session, _actor(tenant), account_id=tenant.account.id, key_id=key.id
            )
        page = html.unescape((await browser.get("/settings/audit-log")).text)
    assert "Revoked API key “Nightly sync”" in page
    assert "Created API key “Nightly sync” with read-only access" in page
    assert f"Disconnected Test Assistant of {member.email}" in page
    assert f"Added {member.email} as member" in page
    assert "None" not in page and "rate_limit" not in page and "user_id" not in page
    assert str(member.id) not in page


def _actor(tenant: Tenant) -> Actor:
    return Actor(label=tenant.admin.email, user_id=tenant.admin.id)


async def test_a_range_of_days_shows_only_the_events_of_those_days(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    day = datetime(2026, 2, 10, 12, tzinfo=UTC)
    async with database.transaction() as session:
        session.add_all(
            AuditEvent(
                account_id=tenant.account.id,
                action=f"test.day_{offset}",
                actor="robot",
                occurred_at=day + timedelta(days=offset),
                details={},
            )
            for offset in range(5)
        )
    async with new_client(app) as browser:
        await sign_in(browser, tenant.admin.email, PASSWORD)
        page = await browser.get(
            "/settings/audit-log", params={"since": "2026-02-11", "until": "2026-02-13"}
        )
        bad = await browser.get("/settings/audit-log", params={"since": "yesterday"})
    shown = [
        f"test.day_{offset}"
        for offset in range(5)
        if f'data-action="test.day_{offset}"' in page.text
    ]
    assert shown == ["test.day_1", "test.day_2", "test.day_3"]
    assert "since=2026-02-11T00%3A00%3A00%2B00%3A00" in page.text  # the export links follow
    assert bad.status_code == 422
