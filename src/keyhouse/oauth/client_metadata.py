"""Client ID Metadata Documents: a URL client id whose JSON document describes the client.

Fetching a URL that a stranger chose is an SSRF risk, so the fetch is guarded: https only, a
public address only (every resolved address is checked), no redirects, a small size cap, a
short timeout, and the result cached.
"""

import asyncio
import ipaddress
import socket
import ssl
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import structlog
from mcp.shared.auth import OAuthClientInformationFull
from pydantic import ValidationError

from keyhouse.db import Database
from keyhouse.oauth import repository
from keyhouse.oauth.clients import (
    KeyhouseClient,
    as_sdk_client,
    client_name,
    redirect_refusals,
    stored_metadata,
)
from keyhouse.oauth.models import OAuthClient

MAX_DOCUMENT_BYTES = 16 * 1024
FETCH_TIMEOUT_SECONDS = 5.0
CACHE_FOR = timedelta(hours=1)

log = structlog.get_logger(__name__)


class DocumentRefused(Exception):
    """The client id URL or its document is not acceptable."""


class ClientMetadataDocuments:
    """Fetches, checks and caches URL client ids."""

    def __init__(
        self,
        database: Database,
        *,
        allow_private_addresses: bool = False,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        # Both knobs exist for tests, which serve documents from loopback with their own CA.
        self._database = database
        self._allow_private = allow_private_addresses
        self._verify = verify

    async def get(self, client_id: str) -> KeyhouseClient | None:
        """The client described at `client_id`, or None when it cannot be trusted."""
        async with self._database.transaction() as session:
            row = await repository.get_client(session, client_id=client_id)
            if (
                row is not None
                and row.fetched_at
                and datetime.now(UTC) - row.fetched_at < CACHE_FOR
            ):
                return as_sdk_client(row)
            try:
                info = await self.fetch(client_id)
            except DocumentRefused as refusal:
                log.info("client_metadata_refused", client_id=client_id, reason=str(refusal))
                return None
            row = row or OAuthClient(client_id=client_id)
            row.client_name = client_name(info)
            row.client_metadata = stored_metadata(info)
            row.client_secret_hash = None
            row.fetched_at = datetime.now(UTC)
            session.add(row)
            return as_sdk_client(row)

    async def fetch(self, url: str) -> OAuthClientInformationFull:
        """The checked document at `url` (raises DocumentRefused)."""
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or parts.path in ("", "/"):
            raise DocumentRefused("a client id URL must be https with a path")
        if parts.username or parts.password or parts.fragment:
            raise DocumentRefused("a client id URL must not carry credentials or a fragment")
        await self._refuse_private(parts.hostname, parts.port or 443)
        body = await _download(url, self._verify)
        try:
            info = OAuthClientInformationFull.model_validate_json(body)
        except ValidationError as error:
            raise DocumentRefused("the document is not valid client metadata") from error
        if info.client_id != url:
            raise DocumentRefused("the document's client_id is not its own URL")
        if info.token_endpoint_auth_method not in (None, "none") or info.client_secret:
            raise DocumentRefused("a URL client id must be a public client (no secret)")
        if refusals := redirect_refusals(info):
            raise DocumentRefused(" ".join(refusals))
        return info.model_copy(update={"token_endpoint_auth_method": "none"})

    async def _refuse_private(self, host: str, port: int) -> None:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as error:
            raise DocumentRefused("the host does not resolve") from error
        for *_, sockaddr in found:
            address = ipaddress.ip_address(sockaddr[0])
            if not address.is_global and not self._allow_private:
                raise DocumentRefused(f"the host resolves to a non-public address {address}")


async def _download(url: str, verify: ssl.SSLContext | bool) -> bytes:
    timeout = httpx.Timeout(FETCH_TIMEOUT_SECONDS)
    try:
        async with (
            httpx.AsyncClient(follow_redirects=False, timeout=timeout, verify=verify) as http,
            http.stream("GET", url, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise DocumentRefused(f"the document answered {response.status_code}")
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise DocumentRefused("the document is too large")
            return body
    except httpx.HTTPError as error:
        raise DocumentRefused(
            f"the document could not be fetched ({type(error).__name__})"
        ) from error
