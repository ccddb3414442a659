"""Discovery documents: RFC 8414 authorization-server metadata and RFC 9728 resource metadata.

Built here rather than by the SDK: its metadata omits `none` client authentication, the
issuer-in-response flag and CIMD support, and its routes live at the root, not under /oauth.
"""

from typing import Any

from keyhouse.config import Settings

SCOPES = ["read", "write"]
CLIENT_AUTH_METHODS = ["none", "client_secret_post", "client_secret_basic"]


def authorization_server(settings: Settings) -> dict[str, Any]:
    """RFC 8414 metadata; the paths here are the source of truth for every client."""
    base = settings.base_url
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "registration_endpoint": f"{base}/oauth/register",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "authorization_response_iss_parameter_supported": True,
        "client_id_metadata_document_supported": True,
        "service_documentation": f"{base}/api/docs",
    }


def protected_resource(settings: Settings) -> dict[str, Any]:
    """RFC 9728 metadata of the MCP endpoint; `resource` is the MCP URL byte for byte."""
    return {
        "resource": settings.mcp_url,
        "authorization_servers": [settings.base_url],
        "scopes_supported": SCOPES,
        "bearer_methods_supported": ["header"],
        "resource_name": "Keyhouse",
        "resource_documentation": f"{settings.base_url}/api/docs",
    }


def resource_metadata_url(settings: Settings) -> str:
    """Where a 401 from /mcp points the client (RFC 9728 §5.1)."""
    return f"{settings.base_url}/.well-known/oauth-protected-resource/mcp"
