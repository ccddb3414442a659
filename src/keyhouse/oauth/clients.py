"""OAuth clients: registered ones (RFC 7591) and URL client ids (Client ID Metadata Documents)."""

import time
from typing import Any

from mcp.shared.auth import InvalidRedirectUriError, OAuthClientInformationFull
from pydantic import AnyUrl

from keyhouse.oauth import redirects
from keyhouse.oauth.models import OAuthClient

DEFAULT_SCOPE = "read write"


class KeyhouseClient(OAuthClientInformationFull):
    """A client as the SDK sees it, with our redirect matching (loopback on any port).

    `client_secret` holds the keyed hash of the secret; our client authenticator compares hashes.
    """

    def validate_redirect_uri(self, redirect_uri: AnyUrl | None) -> AnyUrl:
        registered = [str(uri) for uri in self.redirect_uris or []]
        if redirect_uri is None:
            if len(registered) == 1:
                return AnyUrl(registered[0])
            raise InvalidRedirectUriError(
                "redirect_uri is required: the client registered several."
            )
        if any(redirects.matches(uri, str(redirect_uri)) for uri in registered):
            return redirect_uri
        raise InvalidRedirectUriError(
            f"Redirect URI '{redirect_uri}' is not registered for this client."
        )


def as_sdk_client(row: OAuthClient) -> KeyhouseClient:
    """The stored client in the SDK's shape."""
    return KeyhouseClient.model_validate(
        {**row.client_metadata, "client_id": row.client_id, "client_secret": row.client_secret_hash}
    )


def client_name(info: OAuthClientInformationFull) -> str:
    """A name for the consent page and the connections list."""
    if info.client_name:
        return info.client_name[:200]
    uris = [str(uri) for uri in info.redirect_uris or []]
    return redirects.host_of(uris[0]) if uris else "Unnamed client"


def stored_metadata(info: OAuthClientInformationFull) -> dict[str, Any]:
    """What we keep of a client's metadata: everything but its secret."""
    data = info.model_dump(mode="json", exclude={"client_secret", "client_id"}, exclude_none=True)
    # Every client may be granted up to read and write: the user's role and choice on the
    # consent page decide, not the scope the client happened to register with.
    data["scope"] = DEFAULT_SCOPE
    data.setdefault("client_id_issued_at", int(time.time()))
    return data


def redirect_refusals(info: OAuthClientInformationFull) -> list[str]:
    """Every reason the client's redirect URIs cannot be registered."""
    found = [redirects.refusal(str(uri)) for uri in info.redirect_uris or []]
    return [reason for reason in found if reason is not None]
