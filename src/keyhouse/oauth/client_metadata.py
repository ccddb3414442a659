"""Client ID Metadata Documents: a URL client id whose JSON document describes the client.

Fetching a URL that a stranger chose is an SSRF risk, so the fetch is guarded: https only, a
public address only (every resolved address is checked), no redirects, a small size cap, a
short timeout, and the result cached. The name is resolved once: the connection goes to the
address that was checked (TLS still verifies the name), so a DNS-rebinding host that answers
a public address first and a private one next never gets us to connect to the private one.
"""

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpcore2
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
FETCH_TIMEOUTS = dict.fromkeys(("connect", "read", "write", "pool"), FETCH_TIMEOUT_SECONDS)
FETCH_FAILURES = (
    httpcore2.NetworkError,
    httpcore2.TimeoutException,
    httpcore2.ProtocolError,
    httpcore2.UnsupportedProtocol,
)
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
        verify: ssl.SSLContext | None = None,
    ) -> None:
        # Both knobs exist for tests, which serve documents from loopback with their own CA.
        self._database = database
        self._allow_private = allow_private_addresses
        self._tls = verify or httpcore2.default_ssl_context()

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
        address = await self._checked_address(parts.hostname, parts.port or 443)
        body = await _download(url, address, self._tls)
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

    async def _checked_address(self, host: str, port: int) -> str:
        """The one address to connect to, once every address the name resolves to is public."""
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as error:
            raise DocumentRefused("the host does not resolve") from error
        addresses = [ipaddress.ip_address(sockaddr[0]) for *_, sockaddr in found]
        for address in addresses:
            if not address.is_global and not self._allow_private:
                raise DocumentRefused(f"the host resolves to a non-public address {address}")
        if not addresses:
            raise DocumentRefused("the host does not resolve")
        return str(addresses[0])


class _PinnedAddress(httpcore2.AsyncNetworkBackend):
    """Connects to the checked address whatever the name resolves to by now."""

    def __init__(self, address: str) -> None:
        self._address = address
        self._network = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        # `host` is the URL's name; TLS (SNI and the certificate check) and Host keep it.
        return await self._network.connect_tcp(
            self._address, port, timeout, local_address, socket_options
        )

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


async def _download(url: str, address: str, tls: ssl.SSLContext) -> bytes:
    """The body at `url`, read from `address` only: no redirects, no other connection."""
    try:
        async with (
            httpcore2.AsyncConnectionPool(
                ssl_context=tls, network_backend=_PinnedAddress(address)
            ) as pool,
            pool.stream(
                "GET",
                url,
                headers={"Accept": "application/json"},
                extensions={"timeout": FETCH_TIMEOUTS},
            ) as response,
        ):
            if response.status != 200:
                raise DocumentRefused(f"the document answered {response.status}")
            body = b""
            async for chunk in response.aiter_stream():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise DocumentRefused("the document is too large")
            return body
    except FETCH_FAILURES as error:
        raise DocumentRefused(
            f"the document could not be fetched ({type(error).__name__})"
        ) from error
