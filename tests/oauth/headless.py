"""A signed-in browser, without a browser: follows /oauth/authorize through the consent page."""

import re
from dataclasses import dataclass, field
from html import unescape

import httpx
from mcp.shared.auth import AuthorizationCodeResult

from tests.web.browsing import csrf_of

SEALED_RE = re.compile(r'name="request" value="([^"]+)"')


@dataclass
class HeadlessUser:
    """A user at the consent page who chooses `access` (or denies) when an assistant asks."""

    http: httpx.AsyncClient
    access: str = "read_only"
    decision: str = "allow"
    consent_pages: list[str] = field(default_factory=list)
    redirects: list[httpx.URL] = field(default_factory=list)

    async def sign_in(self, email: str, password: str) -> None:
        """Sign in through the login form."""
        form = await self.http.get("/login")
        response = await self.http.post(
            "/login", data={"email": email, "password": password, "csrf_token": csrf_of(form.text)}
        )
        assert response.status_code == 303, response.text

    async def redirect_handler(self, authorization_url: str) -> None:
        """What the assistant's browser does: authorize → consent → back to the assistant."""
        authorize = await self.http.get(authorization_url)
        assert authorize.status_code == 302, authorize.text
        page = await self.http.get(authorize.headers["location"])
        assert page.status_code == 200, page.text
        self.consent_pages.append(page.text)
        sealed = unescape(SEALED_RE.search(page.text).group(1))  # type: ignore[union-attr]
        decided = await self.http.post(
            "/oauth/consent",
            data={
                "csrf_token": csrf_of(page.text),
                "request": sealed,
                "decision": self.decision,
                "access": self.access,
            },
        )
        assert decided.status_code == 303, decided.text
        self.redirects.append(httpx.URL(decided.headers["location"]))

    async def callback_handler(self) -> AuthorizationCodeResult:
        """The code, state and issuer the assistant's redirect URI received."""
        params = self.redirects[-1].params
        return AuthorizationCodeResult(
            code=params.get("code", ""), state=params.get("state"), iss=params.get("iss")
        )
