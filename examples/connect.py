"""Connect to Keyhouse's MCP server as an assistant would, then call `who_am_i`.

    .venv/bin/python examples/connect.py [http://127.0.0.1:8000/mcp]

The official MCP Python SDK client discovers the authorization server, registers itself,
and opens the sign-in and consent page in your browser. After you approve, your browser
lands on a small page this script serves on 127.0.0.1; the script trades the code for
tokens (PKCE) and calls tools. Tokens are kept in memory only.
"""

import asyncio
import sys
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from pydantic import AnyUrl

CALLBACK_PORT = 33418
REDIRECT_URI = f"http://127.0.0.1:{CALLBACK_PORT}/callback"


class MemoryStorage:
    """Tokens and client registration, for this run only."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Callback(BaseHTTPRequestHandler):
    """Receives the browser's redirect with `code`, `state` and `iss`."""

    received: ClassVar[dict[str, str]] = {}
    done: ClassVar[threading.Event] = threading.Event()

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        Callback.received = {name: values[0] for name, values in query.items()}
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"Connected. You can close this tab and return to the terminal.")
        Callback.done.set()

    def log_message(self, *_args: object) -> None:
        return


async def open_browser(url: str) -> None:
    print(f"Opening {url}\n(if no browser opens, paste that URL into one)")
    webbrowser.open(url)


async def wait_for_callback() -> AuthorizationCodeResult:
    await asyncio.to_thread(Callback.done.wait, 300)
    found = Callback.received
    if "error" in found:
        raise SystemExit(f"Authorization refused: {found['error']}")
    return AuthorizationCodeResult(
        code=found["code"], state=found.get("state"), iss=found.get("iss")
    )


async def main(mcp_url: str) -> None:
    server = HTTPServer(("127.0.0.1", CALLBACK_PORT), Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    oauth = OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="Keyhouse example script",
            redirect_uris=[AnyUrl(REDIRECT_URI)],
            grant_types=["authorization_code", "refresh_token"],
            token_endpoint_auth_method="none",  # noqa: S106 - a method name, not a secret
        ),
        storage=MemoryStorage(),
        redirect_handler=open_browser,
        callback_handler=wait_for_callback,
    )
    async with (
        httpx2.AsyncClient(auth=oauth, timeout=60) as http,
        Client(streamable_http_client(mcp_url, http_client=http)) as client,
    ):
        tools = await client.list_tools()
        print("Tools:", ", ".join(tool.name for tool in tools.tools))
        who = await client.call_tool("who_am_i", {})
        print("who_am_i:", who.structured_content)
    server.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/mcp"))
