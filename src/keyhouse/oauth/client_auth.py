"""Client authentication at /oauth/token and /oauth/revoke, against hashed client secrets.

Replaces the SDK's ClientAuthenticator, which compares plaintext secrets: we store only a
keyed hash of every secret, client secrets included.
"""

import base64
import binascii
import hmac
from urllib.parse import unquote

from mcp.server.auth.middleware.client_auth import AuthenticationError, ClientAuthenticator
from mcp.shared.auth import OAuthClientInformationFull
from starlette.requests import Request

from keyhouse.kit import tokens
from keyhouse.oauth.provider import KeyhouseProvider


class HashedSecretClientAuthenticator(ClientAuthenticator):
    """Authenticates a client by the keyed hash of the secret it presents."""

    def __init__(self, provider: KeyhouseProvider, secret: bytes) -> None:
        super().__init__(provider)
        self._secret = secret

    async def authenticate_request(self, request: Request) -> OAuthClientInformationFull:
        """The client making this token or revocation request."""
        form = await request.form()
        client_id = form.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise AuthenticationError("Missing client_id")
        client = await self.provider.get_client(client_id)
        if client is None:
            raise AuthenticationError("Unknown client_id")
        method = client.token_endpoint_auth_method or "client_secret_post"
        if method == "none":
            return client
        presented = _presented_secret(request, method, client_id, form.get("client_secret"))
        stored = client.client_secret or ""
        if not presented or not hmac.compare_digest(
            stored, tokens.keyed_hash(self._secret, presented)
        ):
            raise AuthenticationError("Invalid client credentials")
        return client


def _presented_secret(request: Request, method: str, client_id: str, posted: object) -> str | None:
    if method == "client_secret_post":
        return posted if isinstance(posted, str) else None
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        raise AuthenticationError("Missing Basic authentication")
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise AuthenticationError("Invalid Basic authentication") from error
    basic_id, _, secret = decoded.partition(":")
    if unquote(basic_id) != client_id:
        raise AuthenticationError("Client ID mismatch in Basic authentication")
    return unquote(secret)
