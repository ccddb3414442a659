"""URL client ids: documents fetched over real HTTPS, with the SSRF guards in force."""

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trustme
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from keyhouse.db import Database
from keyhouse.oauth.client_metadata import ClientMetadataDocuments, DocumentRefused
from tests.servers import free_port


def _documents(base: str) -> Starlette:
    def document(path: str, **changes: object) -> dict[str, object]:
        return {
            "client_id": f"{base}{path}",
            "client_name": "Doc Client",
            "redirect_uris": ["http://127.0.0.1:5555/callback"],
            "token_endpoint_auth_method": "none",
            **changes,
        }

    async def serve(request: Request) -> Response:
        path = request.url.path
        bodies = {
            "/client.json": document(path),
            "/wrong-id.json": document("/someone-else.json"),
            "/secret.json": document(path, token_endpoint_auth_method="client_secret_post"),
            "/evil-redirect.json": document(path, redirect_uris=["http://evil.example/cb"]),
            "/big.json": document(path, client_name="x" * 20_000),
        }
        if path == "/redirect.json":
            return RedirectResponse(f"{base}/client.json")
        return JSONResponse(bodies[path]) if path in bodies else Response(status_code=404)

    return Starlette(routes=[Route("/{name:path}", serve)])


@pytest.fixture(scope="module")
async def https_documents(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[str, ssl.SSLContext]]:
    """A real HTTPS server on loopback, with a test CA the fetcher is told to trust."""
    ca = trustme.CA()
    folder: Path = tmp_path_factory.mktemp("tls")
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(folder / "cert.pem")
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    config = uvicorn.Config(
        _documents(base),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ssl_certfile=str(folder / "cert.pem"),
        lifespan="off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.02)
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    yield base, trust
    server.should_exit = True
    await task


async def test_a_valid_document_becomes_a_public_client_and_is_cached(
    database: Database, https_documents: tuple[str, ssl.SSLContext]
) -> None:
    base, trust = https_documents
    documents = ClientMetadataDocuments(database, allow_private_addresses=True, verify=trust)
    client = await documents.get(f"{base}/client.json")
    assert client is not None
    assert (client.client_name, client.token_endpoint_auth_method) == ("Doc Client", "none")
    assert [str(uri) for uri in client.redirect_uris or []] == ["http://127.0.0.1:5555/callback"]
    offline = ClientMetadataDocuments(
        database, allow_private_addresses=True, verify=ssl.create_default_context()
    )
    assert await offline.get(f"{base}/client.json") is not None  # from the cache, no fetch


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/wrong-id.json", "not its own URL"),
        ("/secret.json", "public client"),
        ("/evil-redirect.json", "only on loopback"),
        ("/big.json", "too large"),
        ("/redirect.json", "answered 307"),
        ("/missing.json", "answered 404"),
    ],
)
async def test_untrustworthy_documents_are_refused(
    database: Database, https_documents: tuple[str, ssl.SSLContext], path: str, reason: str
) -> None:
    base, trust = https_documents
    documents = ClientMetadataDocuments(database, allow_private_addresses=True, verify=trust)
    with pytest.raises(DocumentRefused, match=reason):
        await documents.fetch(f"{base}{path}")


async def test_private_addresses_plain_http_and_bare_hosts_are_never_fetched(
    database: Database, https_documents: tuple[str, ssl.SSLContext]
) -> None:
    base, trust = https_documents
    documents = ClientMetadataDocuments(database, verify=trust)
    for url, reason in (
        (f"{base}/client.json", "non-public address"),
        ("http://example.com/client.json", "must be https"),
        ("https://example.com/", "must be https with a path"),
        ("https://user:pw@example.com/c.json", "credentials"),
    ):
        with pytest.raises(DocumentRefused, match=reason):
            await documents.fetch(url)


async def test_authorize_refuses_a_url_client_id_on_a_private_address(
    client: httpx.AsyncClient, https_documents: tuple[str, ssl.SSLContext]
) -> None:
    base, _trust = https_documents
    response = await client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": f"{base}/never-fetched.json",
            "redirect_uri": "http://127.0.0.1:5555/callback",
            "code_challenge": "x" * 43,
        },
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert json.loads(response.text)["error"] == "invalid_request"
