"""Discovery documents and challenges that real assistants rely on."""

import httpx

from keyhouse.config import Settings


async def test_authorization_server_metadata_has_what_assistants_need(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")
    meta = response.json()
    assert meta["issuer"] == settings.base_url
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert "none" in meta["token_endpoint_auth_methods_supported"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["client_id_metadata_document_supported"] is True
    assert meta["scopes_supported"] == ["read", "write"]
    for name, path in (
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("registration_endpoint", "/oauth/register"),
        ("revocation_endpoint", "/oauth/revoke"),
    ):
        assert meta[name] == f"{settings.base_url}{path}"


async def test_protected_resource_metadata_names_the_mcp_url_exactly(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    for path in (
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ):
        meta = (await client.get(path)).json()
        assert meta["resource"] == f"{settings.base_url}/mcp"
        assert meta["authorization_servers"] == [settings.base_url]


async def test_browsers_may_call_metadata_token_register_and_revoke(
    client: httpx.AsyncClient,
) -> None:
    for path in (
        "/.well-known/oauth-authorization-server",
        "/oauth/token",
        "/oauth/register",
        "/oauth/revoke",
        "/.well-known/oauth-protected-resource/mcp",
    ):
        response = await client.options(
            path,
            headers={
                "Origin": "http://localhost:6274",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, mcp-protocol-version",
            },
        )
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] in {"*", "http://localhost:6274"}


async def test_mcp_without_credentials_points_to_the_resource_metadata(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert (
        f'resource_metadata="{settings.base_url}/.well-known/oauth-protected-resource/mcp"'
        in challenge
    )
    assert 'scope="read"' in challenge
    assert "error=" not in challenge


async def test_mcp_with_a_bad_token_is_invalid_token_with_the_metadata_url(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/mcp", json={}, headers={"Authorization": "Bearer kh_at_nope"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "resource_metadata=" in response.headers["www-authenticate"]
