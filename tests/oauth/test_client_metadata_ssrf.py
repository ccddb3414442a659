"""SSRF: a URL client id is fetched only from a public https address, and never followed."""

import asyncio

import httpx
import pytest

from keyhouse.db import Database
from keyhouse.oauth.client_metadata import ClientMetadataDocuments, DocumentRefused

INTERNAL_TARGETS = [
    "https://127.0.0.1:{port}/client.json",
    "https://localhost:{port}/client.json",
    "https://[::1]:{port}/client.json",
    "https://10.0.0.1/client.json",
    "https://192.168.1.1/client.json",
    "https://169.254.169.254/latest/meta-data",  # cloud metadata service
    "https://0.0.0.0:{port}/client.json",
    "http://127.0.0.1:{port}/client.json",  # not https
    "https://user:pw@example.com/client.json",  # credentials in the URL
    "https://example.com/",  # no path
]


@pytest.mark.parametrize("target", INTERNAL_TARGETS)
async def test_a_client_id_pointing_inside_is_refused_without_a_connection(
    database: Database, target: str
) -> None:
    connections = 0

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    listener = await asyncio.start_server(count, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        with pytest.raises(DocumentRefused):
            await ClientMetadataDocuments(database).fetch(target.format(port=port))
    finally:
        listener.close()
        await listener.wait_closed()
    assert connections == 0


async def test_an_internal_client_id_is_refused_at_authorize(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": "https://127.0.0.1/client.json",
            "redirect_uri": "https://127.0.0.1/cb",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_request", "invalid_client"}
