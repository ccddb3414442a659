"""Which redirect URIs a client may register, and when a requested one matches.

Hand-written because the SDK matches redirect URIs exactly, while RFC 8252 §7.3 (and every
native client: Claude Code, VS Code, MCP Inspector) needs a loopback redirect to match on any
port; and because the SDK accepts any scheme at registration.
"""

import re
from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
FORBIDDEN_SCHEMES = frozenset(
    {"javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss", "mailto"}
)
SCHEME_RE = re.compile(r"[a-z][a-z0-9+.-]*")


def _is_loopback_http(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def refusal(uri: str) -> str | None:
    """Why `uri` may not be registered, or None when it may."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if parts.fragment:
        return f"{uri}: a redirect URI must not have a fragment."
    if scheme == "https":
        return None if parts.hostname else f"{uri}: an https redirect URI needs a host."
    if scheme == "http":
        if _is_loopback_http(uri):
            return None
        return f"{uri}: http is allowed only on loopback (127.0.0.1, [::1], localhost)."
    if not SCHEME_RE.fullmatch(scheme) or scheme in FORBIDDEN_SCHEMES:
        return f"{uri}: the scheme {scheme!r} is not allowed for redirects."
    return None  # a private-use scheme of a native app (RFC 8252 §7.1), e.g. cursor://


def matches(registered: str, requested: str) -> bool:
    """Exact match, except that loopback http redirects match on any port."""
    if registered == requested:
        return True
    if not (_is_loopback_http(registered) and _is_loopback_http(requested)):
        return False
    left, right = urlsplit(registered), urlsplit(requested)
    return (left.hostname, left.path or "/", left.query) == (
        right.hostname,
        right.path or "/",
        right.query,
    )


def host_of(uri: str) -> str:
    """What the consent page shows as the redirect's destination."""
    parts = urlsplit(uri)
    return parts.netloc or f"{parts.scheme}:"
