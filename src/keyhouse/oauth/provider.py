"""The SDK's authorization-server provider protocol, answered by our grants and clients.

Each method runs in its own transaction: the SDK's handlers call them outside a request scope.
"""

import uuid

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    RegistrationError,
    TokenError,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl

from keyhouse.config import Settings
from keyhouse.connections.models import Connection
from keyhouse.db import Database
from keyhouse.kit import tokens
from keyhouse.oauth import grants, repository
from keyhouse.oauth.client_metadata import ClientMetadataDocuments
from keyhouse.oauth.clients import (
    DEFAULT_SCOPE,
    as_sdk_client,
    client_name,
    redirect_refusals,
    stored_metadata,
)
from keyhouse.oauth.models import ConnectionToken, OAuthClient, OAuthCode, TokenKind

CONSENT_PATH = "/oauth/consent"


class StoredCode(AuthorizationCode):
    """A code as the SDK checks it, with the row it came from."""

    row_id: uuid.UUID


class StoredRefreshToken(RefreshToken):
    """A refresh token as the SDK checks it, with the row it came from."""

    row_id: uuid.UUID


class StoredAccessToken(AccessToken):
    """An access token as the SDK's revocation handler sees it."""

    connection_id: uuid.UUID


class KeyhouseProvider(
    OAuthAuthorizationServerProvider[StoredCode, StoredRefreshToken, StoredAccessToken]
):
    """OAuthAuthorizationServerProvider for Keyhouse connections."""

    def __init__(
        self, settings: Settings, database: Database, documents: ClientMetadataDocuments
    ) -> None:
        self._settings = settings
        self._database = database
        self._documents = documents

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        """A registered client, or a URL client id's fetched metadata document."""
        if "\x00" in client_id:  # no client has one, and PostgreSQL text refuses it (a 500)
            return None
        if client_id.startswith("https://"):
            return await self._documents.get(client_id)
        async with self._database.sessions() as session:
            row = await repository.get_client(session, client_id=client_id)
        return None if row is None else as_sdk_client(row)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        """Store a client registered through RFC 7591 (its secret only as a keyed hash)."""
        refusals = redirect_refusals(client_info)
        if refusals:
            raise RegistrationError("invalid_redirect_uri", " ".join(refusals))
        secret = client_info.client_secret
        client_info.scope = DEFAULT_SCOPE  # echoed in the registration response (RFC 7591 §3.2.1)
        async with self._database.transaction() as session:
            repository.add(
                session,
                OAuthClient(
                    client_id=client_info.client_id,
                    client_secret_hash=tokens.keyed_hash(self._settings.secret, secret)
                    if secret
                    else None,
                    client_name=client_name(client_info),
                    client_metadata=stored_metadata(client_info),
                ),
            )

    async def authorize(
        self, client: OAuthClientInformationFull, params: AuthorizationParams
    ) -> str:
        """Send the browser to our consent page with the request sealed in the URL."""
        resource = params.resource or self._settings.mcp_url
        if resource.rstrip("/") != self._settings.mcp_url:
            raise AuthorizeError(
                "invalid_target", f"This server issues tokens only for {self._settings.mcp_url}."
            )
        pending = grants.PendingAuthorization(
            client_id=client.client_id or "",
            client_name=client_name(client),
            redirect_uri=str(params.redirect_uri),
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            code_challenge=params.code_challenge,
            state=params.state,
            scopes=(client.scope or DEFAULT_SCOPE).split(),
            requested=params.scopes or ["read"],
            resource=self._settings.mcp_url,
        )
        sealed = grants.seal(self._settings, pending)
        return f"{self._settings.base_url}{CONSENT_PATH}?request={sealed}"

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> StoredCode | None:
        """The unused code (a replayed one ends its connection and is not found)."""
        async with self._database.transaction() as session:
            row = await grants.find_code(
                session, self._settings, client_id=client.client_id or "", code=authorization_code
            )
        if row is None:
            return None
        return StoredCode(
            code=authorization_code,
            scopes=row.scopes.split(),
            expires_at=row.expires_at.timestamp(),
            client_id=row.client_id,
            code_challenge=row.code_challenge,
            redirect_uri=AnyUrl(row.redirect_uri),
            redirect_uri_provided_explicitly=row.redirect_uri_provided_explicitly,
            resource=row.resource,
            row_id=row.id,
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: StoredCode
    ) -> OAuthToken:
        """Tokens for a code; a concurrent second redemption is refused and ends the connection."""
        try:
            async with self._database.transaction() as session:
                row = await session.get_one(OAuthCode, authorization_code.row_id)
                issued = await grants.redeem(session, self._settings, code=row)
        except grants.GrantRefused as refused:
            raise TokenError(refused.error, refused.description) from refused
        if issued is None:
            raise TokenError(
                "invalid_grant", "The code was already used; its connection is revoked."
            )
        return issued

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> StoredRefreshToken | None:
        """A live refresh token (a rotated-out one is reuse: the connection ends)."""
        async with self._database.transaction() as session:
            found = await grants.find_refresh_token(
                session, self._settings, client_id=client.client_id or "", token=refresh_token
            )
        if found is None:
            return None
        row, connection = found
        return StoredRefreshToken(
            token=refresh_token,
            client_id=connection.client_id,
            scopes=row.scopes.split(),
            expires_at=int(row.expires_at.timestamp()),
            resource=row.resource,
            row_id=row.id,
        )

    async def exchange_refresh_token(
        self,
        client: OAuthClientInformationFull,
        refresh_token: StoredRefreshToken,
        scopes: list[str],
    ) -> OAuthToken:
        """A rotated pair; scopes may narrow, never widen (the SDK checks), and are cut to
        what the user's role allows now."""
        try:
            async with self._database.transaction() as session:
                row = await session.get_one(ConnectionToken, refresh_token.row_id)
                return await grants.rotate(session, self._settings, token=row, scopes=scopes)
        except grants.GrantRefused as refused:
            raise TokenError(refused.error, refused.description) from refused

    async def load_access_token(self, token: str) -> StoredAccessToken | None:
        """An access token, for RFC 7009 revocation (requests authenticate elsewhere)."""
        if tokens.parse_kind(token) is not tokens.TokenKind.ACCESS_TOKEN:
            return None
        secret_hash = tokens.keyed_hash(self._settings.secret, token)
        async with self._database.sessions() as session:
            row = await repository.find_token(
                session, secret_hash=secret_hash, kind=TokenKind.ACCESS
            )
            connection = await session.get(Connection, row.connection_id) if row else None
        if row is None or connection is None:
            return None
        return StoredAccessToken(
            token=token,
            client_id=connection.client_id,
            scopes=row.scopes.split(),
            expires_at=int(row.expires_at.timestamp()),
            resource=row.resource,
            connection_id=connection.id,
        )

    async def revoke_token(self, token: StoredAccessToken | StoredRefreshToken) -> None:
        """RFC 7009: revoking either token ends the whole grant, i.e. the connection."""
        async with self._database.transaction() as session:
            if isinstance(token, StoredAccessToken):
                connection_id = token.connection_id
            else:
                connection_id = (await session.get_one(ConnectionToken, token.row_id)).connection_id
            await grants.revoke_for_client(session, connection_id=connection_id)
