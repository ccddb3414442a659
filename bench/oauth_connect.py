"""A whole headless OAuth connect, as an assistant and its user go through it, timed.

Discovery, dynamic registration, /oauth/authorize, sign-in, the consent page's Allow, and the
PKCE code exchange: every step over real HTTP against a running server.
"""

import base64
import hashlib
import re
import secrets
import time
from html import unescape

import httpx

REDIRECT_URI = "http://127.0.0.1:33418/callback"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
SEALED_RE = re.compile(r'name="request" value="([^"]+)"')


def _field(pattern: re.Pattern[str], html: str) -> str:
    match = pattern.search(html)
    if match is None:
        raise RuntimeError("the page lacks an expected form field")
    return unescape(match[1])


# What an assistant registers itself as (dynamic client registration).
REGISTRATION = {
    "client_name": "bench",
    "redirect_uris": [REDIRECT_URI],
    "token_endpoint_auth_method": "none",
}


def exchange_form(client_id: str, code: str, verifier: str) -> dict[str, str]:
    """The /oauth/token form that trades an authorization code for tokens (PKCE)."""
    return {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": REDIRECT_URI,
    }


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def _authorize(http: httpx.Client, client_id: str, challenge: str, access: str) -> str:
    """From /oauth/authorize through the consent page to the redirect's code."""
    started = http.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "bench",
        },
    )
    page = http.get(started.headers["location"])
    decided = http.post(
        "/oauth/consent",
        data={
            "csrf_token": _field(CSRF_RE, page.text),
            "request": _field(SEALED_RE, page.text),
            "decision": "allow",
            "access": access,
        },
    )
    return httpx.URL(decided.headers["location"]).params["code"]


def connect(
    base_url: str, email: str, password: str, access: str = "read_only"
) -> tuple[str, float]:
    """An access token for `email`'s new connection, and how long the whole connect took."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        form = http.get("/login")
        http.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": _field(CSRF_RE, form.text)},
        )
        started = time.perf_counter()
        http.get("/.well-known/oauth-protected-resource/mcp").raise_for_status()
        http.get("/.well-known/oauth-authorization-server").raise_for_status()
        client = http.post("/oauth/register", json=REGISTRATION).json()
        verifier, challenge = _pkce()
        code = _authorize(http, client["client_id"], challenge, access)
        tokens = http.post("/oauth/token", data=exchange_form(client["client_id"], code, verifier))
        tokens.raise_for_status()
        return str(tokens.json()["access_token"]), time.perf_counter() - started
