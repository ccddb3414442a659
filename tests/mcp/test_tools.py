"""MCP tools through the official SDK client over real HTTP: access is what was allowed."""

from importlib.metadata import version

import httpx
import pytest
from mcp.client.client import Client
from mcp.shared.exceptions import MCPError

from keyhouse.api_keys.models import AccessLevel
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.config import Settings
from keyhouse.connections import service as connections
from keyhouse.connections.models import Connection
from keyhouse.db import Database
from keyhouse.users import service as users
from keyhouse.users.models import Role
from tests.factories import (
    make_book,
    make_crm_account,
    make_crm_accounts,
    make_rep,
    make_tenant,
    make_user,
)
from tests.mcp_clients import mcp_client
from tests.oauth_flow import connect


def _text(result: object) -> str:
    return " ".join(getattr(part, "text", "") for part in getattr(result, "content", []))


async def _tool_names(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_who_am_i_over_both_protocol_eras(
    live_server: str, client: httpx.AsyncClient, database: Database, settings: Settings, mode: str
) -> None:
    tenant = await make_tenant(database, settings)
    connected = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.FULL_ACCESS
    )
    async with mcp_client(live_server, connected.access_token, mode=mode) as mcp:
        result = await mcp.call_tool("who_am_i", {})
    who = result.structured_content
    assert who is not None
    assert who["account_slug"] == tenant.account.slug
    assert who["user_email"] == tenant.admin.email
    assert who["client"] == "Test Assistant"
    assert (who["access_level"], who["can_change_data"]) == ("full_access", True)


async def test_the_server_names_itself_and_its_version(
    live_server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    async with mcp_client(live_server, tenant.read_key) as mcp:
        info = mcp.server_info
    assert info is not None
    assert (info.name, info.title, info.version) == ("keyhouse", "Keyhouse", version("keyhouse"))


async def test_an_api_key_works_on_mcp_too(
    live_server: str, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await make_crm_account(database, tenant.account, name="Globex")
    async with mcp_client(live_server, tenant.read_key) as mcp:
        found = await mcp.call_tool("search_accounts", {"query": "glob"})
        assert "update_account" not in await _tool_names(mcp)
    assert [a["name"] for a in (found.structured_content or {})["data"]] == ["Globex"]


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_member_sees_no_write_tools_and_is_told_who_can_grant_them(
    live_server: str, client: httpx.AsyncClient, database: Database, settings: Settings, mode: str
) -> None:
    tenant = await make_tenant(database, settings)
    member, _ = await make_user(database, tenant.account, Role.MEMBER)
    account = await make_crm_account(database, tenant.account)
    connected = await connect(client, database, settings, user=member, access=AccessLevel.READ_ONLY)
    async with mcp_client(live_server, connected.access_token, mode=mode) as mcp:
        names = await _tool_names(mcp)
        refused = await mcp.call_tool("update_account", {"account_id": str(account.id), "tier": 1})
    assert {"who_am_i", "search_accounts", "get_account", "list_reps", "get_rep_book"} <= names
    assert "update_account" not in names
    assert refused.is_error
    assert "Only an admin of the account" in _text(refused)


async def test_an_admins_read_only_connection_gets_a_scope_challenge_for_writes(
    live_server: str, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    connected = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.READ_ONLY
    )
    call = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "update_account", "arguments": {}},
    }
    response = await client.post(
        "/mcp",
        json=call,
        headers={
            **connected.bearer,
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-06-18",
        },
    )
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="read write"' in challenge
    assert "resource_metadata=" in challenge


async def test_full_access_changes_data_and_disconnect_stops_the_very_next_call(
    live_server: str, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    rep = await make_rep(database, tenant.account)
    account = await make_crm_account(database, tenant.account)
    connected = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.FULL_ACCESS
    )
    statuses: list[int] = []
    async with mcp_client(live_server, connected.access_token, statuses=statuses) as mcp:
        moved = await mcp.call_tool(
            "update_account", {"account_id": str(account.id), "owner_rep_id": str(rep.id)}
        )
        assert (moved.structured_content or {})["owner_rep_id"] == str(rep.id)
        async with database.transaction() as session:
            found = await connections.list_connections(session, account_id=tenant.account.id)
            await connections.disconnect(
                session,
                COMMAND_LINE,
                account_id=tenant.account.id,
                connection_id=found[0].connection.id,
            )
        with pytest.raises(MCPError):
            await mcp.call_tool("who_am_i", {})
    assert statuses[-1] == 401


async def test_a_demoted_admins_connection_is_capped_on_the_next_request(
    live_server: str, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    admin, _ = await make_user(database, tenant.account, Role.ADMIN)
    account = await make_crm_account(database, tenant.account)
    connected = await connect(
        client, database, settings, user=admin, access=AccessLevel.FULL_ACCESS
    )
    async with mcp_client(live_server, connected.access_token) as mcp:
        assert "update_account" in await _tool_names(mcp)
        async with database.transaction() as session:
            loaded = await users.get_by_email(session, email=admin.email)
            await users.set_role(session, COMMAND_LINE, user=loaded, role=Role.MEMBER)
        assert "update_account" not in await _tool_names(mcp)
        refused = await mcp.call_tool("update_account", {"account_id": str(account.id), "tier": 2})
        who = (await mcp.call_tool("who_am_i", {})).structured_content or {}
    assert refused.is_error
    assert who["access_level"] == "read_only"
    async with database.sessions() as session:
        views = await connections.list_connections(session, account_id=tenant.account.id)
    assert [view.is_capped for view in views] == [True]


async def test_deactivating_a_user_ends_their_connections(
    live_server: str, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, _ = await make_user(database, tenant.account, Role.MEMBER)
    connected = await connect(client, database, settings, user=member, access=AccessLevel.READ_ONLY)
    statuses: list[int] = []
    async with mcp_client(live_server, connected.access_token, statuses=statuses) as mcp:
        await mcp.call_tool("who_am_i", {})
        async with database.transaction() as session:
            loaded = await users.get_by_email(session, email=member.email)
            await users.deactivate(session, COMMAND_LINE, user=loaded)
        with pytest.raises(MCPError):
            await mcp.call_tool("who_am_i", {})
    assert statuses[-1] == 401
    async with database.sessions() as session:
        row = await session.get_one(
            Connection,
            (await connections.list_connections(session, account_id=tenant.account.id))[
                0
            ].connection.id,
        )
    assert row.revoked_reason == "user_deactivated"


async def test_an_assistant_previews_and_runs_a_distribution_once(
    live_server: str, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    reps = [await make_rep(database, tenant.account) for _ in range(2)]
    book = await make_book(database, tenant.account, reps=reps, max_capacity=3)
    await make_crm_accounts(database, tenant.account, 10)
    connected = await connect(
        client, database, settings, user=tenant.admin, access=AccessLevel.FULL_ACCESS
    )
    async with mcp_client(live_server, connected.access_token) as mcp:
        books = (await mcp.call_tool("list_target_books", {})).structured_content or {}
        created = await mcp.call_tool(
            "create_distribution",
            {
                "distribution": {
                    "name": "Top off",
                    "type": "top_off",
                    "recipient_book_id": str(book.id),
                    "ranking": [{"field": "fit_score", "direction": "desc"}],
                }
            },
        )
        draft = created.structured_content or {}
        preview = await mcp.call_tool("preview_distribution", {"distribution_id": draft["id"]})
        ran = await mcp.call_tool("run_distribution", {"distribution_id": draft["id"]})
        again = await mcp.call_tool("run_distribution", {"distribution_id": draft["id"]})
        coverage = (await mcp.call_tool("coverage_report", {})).structured_content or {}
    assert [b["name"] for b in books["data"]] == [book.name]
    assert (preview.structured_content or {})["moves_total"] == 6
    assert (ran.structured_content or {})["distribution"]["moved_count"] == 6
    assert again.is_error and "already" in _text(again).lower()
    assert coverage["workspace"]["accounts_in_pool"] == 4


async def test_a_read_only_connection_may_preview_but_not_run(
    live_server: str, client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, _ = await make_user(database, tenant.account, Role.MEMBER)
    await make_crm_accounts(database, tenant.account, 3)
    rep = await make_rep(database, tenant.account)
    connected = await connect(client, database, settings, user=member, access=AccessLevel.READ_ONLY)
    spec = {"from_rep_ids": [str(rep.id)], "criteria": []}
    async with mcp_client(live_server, connected.access_token) as mcp:
        names = await _tool_names(mcp)
        preview = await mcp.call_tool("preview_retrieval", {"retrieval": spec})
        refused = await mcp.call_tool("run_retrieval", {"retrieval": spec})
    assert {"preview_distribution", "preview_retrieval", "coverage_report"} <= names
    assert not {"create_distribution", "run_distribution", "run_retrieval"} & names
    assert not preview.is_error
    assert refused.is_error
