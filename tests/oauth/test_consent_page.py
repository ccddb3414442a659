"""The consent page earns trust: least access first, unknown clients marked, what each level
covers, who is signed in, and full access as the evident choice after a refused write."""

import re

import httpx

from keyhouse.api_keys.models import AccessLevel
from keyhouse.config import Settings
from keyhouse.db import Database
from keyhouse.oauth import grants
from keyhouse.oauth.provider import CONSENT_PATH
from keyhouse.users.models import Role
from tests.factories import make_tenant, make_user, unique
from tests.oauth_flow import REDIRECT_URI, connect
from tests.web.browsing import csrf_of, sign_in

PASSWORD = "correct horse battery"
CHECKED_RE = re.compile(r'name="access" value="(\w+)"[^>]*\schecked')


def consent_path(settings: Settings, client_name: str, *, asks_write: bool) -> str:
    """The consent page of a client that registered for read and write."""
    pending = grants.PendingAuthorization(
        client_id=unique("client"),
        client_name=client_name,
        redirect_uri=REDIRECT_URI,
        redirect_uri_provided_explicitly=True,
        code_challenge="c" * 43,
        state="s",
        scopes=["read", "write"],
        requested=["read", "write"] if asks_write else ["read"],
        resource=settings.mcp_url,
    )
    return f"{CONSENT_PATH}?{httpx.QueryParams({'request': grants.seal(settings, pending)})}"


async def test_read_only_is_preselected_and_an_unknown_client_is_unverified(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await sign_in(client, tenant.admin.email, PASSWORD)
    page = (await client.get(consent_path(settings, "Cursor", asks_write=True))).text
    assert CHECKED_RE.findall(page) == ["read_only"]
    assert 'value="full_access"' in page and 'data-testid="client-unverified"' in page
    assert f"Signed in as <strong>{tenant.admin.email}</strong>" in page
    assert "Not you? Sign out" in page
    for tool in ("search_accounts", "coverage_report", "run_distribution", "update_account"):
        assert f"<code>{tool}</code>" in page


async def test_a_member_gets_read_only_and_no_write_tools(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    member, password = await make_user(database, tenant.account, Role.MEMBER)
    await sign_in(client, member.email, password)
    page = (await client.get(consent_path(settings, "Cursor", asks_write=True))).text
    assert CHECKED_RE.findall(page) == ["read_only"]
    assert 'value="full_access"' not in page and "<code>run_distribution</code>" not in page
    assert "Only an admin of" in page


async def test_after_a_refused_write_full_access_is_the_evident_choice(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    await connect(client, database, settings, user=tenant.admin, access=AccessLevel.READ_ONLY)
    await sign_in(client, tenant.admin.email, PASSWORD)
    stepping_up = (await client.get(consent_path(settings, "Test Assistant", asks_write=True))).text
    assert CHECKED_RE.findall(stepping_up) == ["full_access"]
    assert 'data-testid="step-up"' in stepping_up and 'data-testid="client-known"' in stepping_up
    reading = (await client.get(consent_path(settings, "Test Assistant", asks_write=False))).text
    assert CHECKED_RE.findall(reading) == ["read_only"] and "step-up" not in reading


async def test_sign_in_names_the_connection_and_not_you_comes_back_to_it(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(database, settings)
    consent = consent_path(settings, "Cursor", asks_write=False)
    redirected = await client.get(consent)
    assert redirected.status_code == 303
    login = await client.get(redirected.headers["location"])
    assert "Sign in to connect Cursor to " in login.text
    await sign_in(client, tenant.admin.email, PASSWORD)
    page = await client.get(consent)
    assert page.status_code == 200
    out = await client.post("/logout", data={"csrf_token": csrf_of(page.text), "next": consent})
    assert out.status_code == 303
    assert out.headers["location"] == f"/login?{httpx.QueryParams({'next': consent})}"
