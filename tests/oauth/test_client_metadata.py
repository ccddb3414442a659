"""URL client ids: documents fetched over real HTTPS, with the SSRF guards in force."""

import asyncio
import json
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
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

# A name the tests resolve themselves (the server's certificate carries it too).
DOCUMENTS_HOST = "documents.test"


def _documents() -> Starlette:
    def document(base: str, path: str, **changes: object) -> dict[str, object]:
        return {
            "client_id": f"{base}{path}",
            "client_name": "Doc Client",
            "redirect_uris": ["http://127.0.0.1:5555/callback"],
            "token_endpoint_auth_method": "none",
            **changes,
        }

    async def serve(request: Request) -> Response:
        # Each document names the URL it was fetched from, by whichever name was asked for.
        base, path = f"https://{request.headers['host']}", request.url.path
        bodies = {
            "/client.json": document(base, path),
            "/wrong-id.json": document(base, "/someone-else.json"),
            "/secret.json": document(base, path, token_endpoint_auth_method="client_secret_post"),
            "/evil-redirect.json": document(base, path, redirect_uris=["http://evil.example/cb"]),
            "/big.json": document(base, path, client_name="x" * 20_000),
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
    certificate = ca.issue_cert("127.0.0.1", DOCUMENTS_HOST)
    certificate.private_key_and_cert_chain_pem.write_to_path(folder / "cert.pem")
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    config = uvicorn.Config(
        _documents(),
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


def _resolve_in_turn(monkeypatch: pytest.MonkeyPatch, *answers: str) -> None:
    """DOCUMENTS_HOST resolves to each answer in turn, then keeps the last (a rebinding DNS)."""
    resolve = socket.getaddrinfo
    pending = list(answers)

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != DOCUMENTS_HOST:
            return resolve(host, port, *args, **kwargs)
        address = pending.pop(0) if len(pending) > 1 else pending[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


async def test_the_fetch_connects_to_the_checked_address_and_verifies_the_name(
    database: Database,
    https_documents: tuple[str, ssl.SSLContext],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, trust = https_documents
    port = int(base.rsplit(":", 1)[1])
    # Checked as 127.0.0.1, where the documents are; nothing listens on 127.0.0.2.
    _resolve_in_turn(monkeypatch, "127.0.0.1", "127.0.0.2")
    documents = ClientMetadataDocuments(database, allow_private_addresses=True, verify=trust)
    url = f"https://{DOCUMENTS_HOST}:{port}/client.json"
    info = await documents.fetch(url)
    assert info.client_id == url


async def test_a_name_that_rebinds_to_loopback_after_the_check_is_never_fetched(
    database: Database,
    https_documents: tuple[str, ssl.SSLContext],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, trust = https_documents
    port = int(base.rsplit(":", 1)[1])
    public = "93.184.215.14"
    _resolve_in_turn(monkeypatch, public, "127.0.0.1")
    # This machine must not reach the internet: record where the fetch connects, and refuse
    # it, instead of letting a packet leave for the public address.
    attempts: list[tuple[str, int]] = []

    async def refuse(remote_host: str, remote_port: int, **_options: Any) -> Any:
        attempts.append((remote_host, remote_port))
        raise ConnectionRefusedError(f"the test lets no connection reach {remote_host}")

    monkeypatch.setattr(anyio, "connect_tcp", refuse)
    documents = ClientMetadataDocuments(database, verify=trust)
    with pytest.raises(DocumentRefused, match="could not be fetched"):
        await documents.fetch(f"https://{DOCUMENTS_HOST}:{port}/client.json")
    assert attempts == [(public, port)]
