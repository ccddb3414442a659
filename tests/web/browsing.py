"""A browser's moves through HTTP: a cookie jar, the sign-in form, the CSRF token of a page."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@asynccontextmanager
async def new_client(
    app: FastAPI, address: str = "127.0.0.1", origin: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser (its own cookies), optionally from another address or origin."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url=origin) as client:
        yield client


def csrf_of(html: str) -> str:
    """The CSRF token a page put in its forms."""
    match = CSRF_RE.search(html)
    assert match is not None, "the page has no form with a CSRF token"
    return match.group(1)


async def post_login(
    client: httpx.AsyncClient, email: str, password: str, next_path: str = "/"
) -> httpx.Response:
    """Fill in and send the sign-in form."""
    form = await client.get("/login")
    data = {"email": email, "password": password, "next": next_path}
    return await client.post("/login", data={**data, "csrf_token": csrf_of(form.text)})


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    form = await client.get("/login")
    response = await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(form.text)},
    )
    assert response.status_code == 303, response.text
    return csrf_of((await client.get("/")).text)
