"""What recording costs, in one process: the real app driven through ASGI, on against off.

`visibility.py` measures the same thing over sockets with wrk, where the figures move with
whatever else the machine runs. Here there are no sockets and no other process: each request
is one call of the ASGI app, and `time.process_time()` counts this process's CPU, which is the
server's work plus a driver of a few dict literals. The usage writer's flush is called inside
the measured time whenever a server would flush, since the server pays for it too.

    .venv/bin/python bench/recording_cpu.py [--parts] [--json]

`bench/run.py --only visibility` runs it with `--json` and judges the cost target on it.

Apps over one fresh embedded workspace: "on", the real one with `KEYHOUSE_METRICS_TOKEN` set,
and "off", `quiet_app.py`'s twin, which records nothing; with `--parts` also "metrics" (metrics
only) and "usage" (usage counts and activity only). Requests alternate between the apps one
by one, each timed on its own.
"""

import argparse
import asyncio
import gc
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

import http_load
import visibility
from keyhouse.api_keys.models import AccessLevel
from keyhouse.app import create_app
from keyhouse.config import Settings
from keyhouse.oauth import grants
from keyhouse.users import service as users
from oauth_connect import REDIRECT_URI, REGISTRATION, _pkce, exchange_form
from quiet_app import _ignore, create_quiet_app

HOST = b"127.0.0.1:8000"
WHO_AM_I = (
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"who_am_i","arguments":{}}}'
)
FLUSH_SECONDS = Settings.model_fields["last_used_flush_seconds"].default


@dataclass(frozen=True)
class Request:
    """One request to replay: method, path, headers and body."""

    method: str
    path: str
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""


@dataclass
class Tally:
    """CPU seconds and requests of one (app, path)."""

    cpu_seconds: float = 0.0
    requests: int = 0
    per_round: list[float] = field(default_factory=list)

    @property
    def cpu_us(self) -> float:
        """CPU per request, in microseconds."""
        return self.cpu_seconds * 1e6 / self.requests


async def call(app: FastAPI, request: Request) -> int:
    """One request through the ASGI app, as a server would make it; the response status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": request.path,
        "raw_path": request.path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": list(request.headers),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    status = 0
    sent_body = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        await asyncio.sleep(3600)  # the client stays connected until the response is done
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def _headers(bearer: str, *extra: tuple[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    return [
        (b"host", HOST),
        (b"user-agent", b"recording-cpu"),
        (b"authorization", f"Bearer {bearer}".encode()),
        *extra,
    ]


def requests_for(key: str, access_token: str) -> dict[str, Request]:
    """/api/v1/me with the API key, and MCP who_am_i with the OAuth access token."""
    mcp_headers = _headers(
        access_token,
        (b"content-type", b"application/json"),
        (b"accept", b"application/json, text/event-stream"),
        (b"mcp-protocol-version", b"2025-06-18"),
        (b"content-length", str(len(WHO_AM_I)).encode()),
    )
    return {
        http_load.ME: Request("GET", "/api/v1/me", _headers(key)),
        http_load.MCP: Request("POST", "/mcp", mcp_headers, WHO_AM_I),
    }


async def access_token(app: FastAPI) -> str:
    """A read-only connection of the bench admin: register, approve, exchange the code."""
    settings: Settings = app.state.settings
    verifier, challenge = _pkce()
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as http:
        client = (await http.post("/oauth/register", json=REGISTRATION)).json()
        code = await _approve(app, settings, client, challenge)
        form = exchange_form(client["client_id"], code, verifier)
        answer = await http.post("/oauth/token", data=form)
    token: str = answer.json()["access_token"]
    return token


async def _approve(app: FastAPI, settings: Settings, client: dict[str, Any], challenge: str) -> str:
    """What the consent page does when the admin allows read-only access: the code."""
    pending = grants.PendingAuthorization(
        client_id=client["client_id"],
        client_name=client["client_name"],
        redirect_uri=REDIRECT_URI,
        redirect_uri_provided_explicitly=True,
        code_challenge=challenge,
        state="bench",
        scopes=["read"],
        requested=["read"],
        resource=settings.mcp_url,
    )
    async with app.state.database.transaction() as session:
        user = await users.get_by_email(session, email=http_load.ADMIN_EMAIL)
        url = await grants.approve(
            session, settings, user=user, pending=pending, access=AccessLevel.READ_ONLY
        )
    return str(httpx.URL(url).params["code"])


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The app with its lifespan entered, as a server runs it."""
    async with app.router.lifespan_context(app):
        yield app


class Server:
    """One app as a server busy with one path runs it: its usage writer flushes after every
    FLUSH_SECONDS of its CPU time (the default `KEYHOUSE_LAST_USED_FLUSH_SECONDS` of a
    server at full load), and what is left is flushed at the end, all of it measured."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.since_flush = 0.0

    async def answer(self, request: Request) -> float:
        """CPU seconds for one request."""
        started = time.process_time()
        status = await call(self.app, request)
        spent = time.process_time() - started
        if status != 200:
            raise RuntimeError(f"{request.path} answered {status}")
        self.since_flush += spent
        return spent

    async def flush(self, *, unless_early: bool = False) -> float:
        """CPU seconds to write what is pending (nothing when not yet due and `unless_early`)."""
        if unless_early and self.since_flush < FLUSH_SECONDS:
            return 0.0
        started = time.process_time()
        await self.app.state.usage.flush()
        spent = time.process_time() - started
        self.since_flush = 0.0
        return spent


async def measure(
    apps: dict[str, FastAPI], requests: dict[str, Request], count: int, rounds: int
) -> dict[tuple[str, str], Tally]:
    """Per path, requests alternating between the apps one by one; CPU per (app, path).

    Each request is timed on its own, so both apps meet the same moment of the machine.
    Paths go one after the other, so a flush only ever writes what its own path recorded.
    """
    servers = {name: Server(app) for name, app in apps.items()}
    tallies = {(name, path): Tally() for name in apps for path in requests}
    for path, request in requests.items():
        for _ in range(rounds):
            spent = dict.fromkeys(servers, 0.0)
            order = list(servers.items())
            for _ in range(count):
                order = order[1:] + order[:1]  # each app goes first in turn
                for name, server in order:
                    spent[name] += await server.answer(request)
            for name, server in servers.items():
                spent[name] += await server.flush(unless_early=True)
                tally = tallies[(name, path)]
                tally.cpu_seconds += spent[name]
                tally.requests += count
                tally.per_round.append(spent[name] * 1e6 / count)
        for name, server in servers.items():
            tallies[(name, path)].cpu_seconds += await server.flush()
    return tallies


def _environment(var_dir: str) -> None:
    """Both apps read this process's environment, as `keyhouse serve` and its quiet twin do."""
    os.environ.update(visibility._environment(var_dir, metrics=False))
    # The writer flushes only when `Server` asks, so each flush lands in its own app's window.
    os.environ["KEYHOUSE_LAST_USED_FLUSH_SECONDS"] = "3600"


def _quiet_stdout() -> TextIO:
    """Access lines go where `keyhouse serve` under the bench sends them (nowhere); the
    figures go to the stream returned."""
    figures = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), sys.stdout.fileno())
    return figures


def report(tallies: dict[tuple[str, str], Tally], paths: list[str], out: TextIO) -> None:
    """Per path and app: CPU µs per request, and its cost over the quiet app."""
    names = list(dict.fromkeys(name for name, _ in tallies))
    print(f"\n{'path':<16}{'app':<9}{'CPU µs':>8}{'cost':>9}{'µs':>7}  per-round cost", file=out)
    for path in paths:
        off = tallies[("off", path)]
        for name in names:
            tally = tallies[(name, path)]
            costs = [a / b - 1 for a, b in zip(tally.per_round, off.per_round, strict=True)]
            print(
                f"{path:<16}{name:<9}{tally.cpu_us:>8.1f}{tally.cpu_us / off.cpu_us - 1:>+9.1%}"
                f"{tally.cpu_us - off.cpu_us:>+7.1f}  median {statistics.median(costs):+.1%}, "
                f"{min(costs):+.1%} to {max(costs):+.1%}",
                file=out,
            )


def costs(tallies: dict[tuple[str, str], Tally], paths: list[str]) -> dict[str, dict[str, float]]:
    """Per path: CPU µs per request of each app, and "cost", the share "on" adds to "off"."""
    found = {}
    for path in paths:
        off, on = tallies[("off", path)].cpu_us, tallies[("on", path)].cpu_us
        found[path] = {"on": on, "off": off, "cost": on / off - 1}
    return found


def _quietened(app: FastAPI) -> FastAPI:
    """`app` recording no usage and no activity, as in `quiet_app.py`."""
    app.state.usage.count_request = _ignore
    app.state.usage.record_tool_call = _ignore
    return app


def _apps(parts: bool) -> dict[str, FastAPI]:
    """ "on" (everything recorded, metrics on) and "off" (`quiet_app.py`); with `parts`, also
    "metrics" (metrics only) and "usage" (usage and activity only), to split the cost."""
    token = SecretStr(secrets.token_urlsafe(32))
    apps = {"on": create_app(Settings(metrics_token=token)), "off": create_quiet_app()}
    if parts:
        apps["metrics"] = _quietened(create_app(Settings(metrics_token=token)))
        apps["usage"] = create_app(Settings())
    return apps


async def main(count: int, rounds: int, only: str | None, parts: bool, as_json: bool) -> None:
    """Set up the workspace, warm the apps up, then measure."""
    figures = _quiet_stdout()
    with tempfile.TemporaryDirectory(prefix="keyhouse-recording-") as var_dir:
        _environment(var_dir)
        key = http_load.bearer_header(dict(os.environ)).removeprefix("Authorization: Bearer ")
        async with AsyncExitStack() as stack:
            apps = {
                name: await stack.enter_async_context(running(app))
                for name, app in _apps(parts).items()
            }
            requests = requests_for(key, await access_token(apps["on"]))
            if only is not None:
                requests = {only: requests[only]}
            await measure(apps, requests, max(100, count // 10), 2)  # warm-up
            # A full collection walks every object of the four apps and lands on whichever
            # request happens to trigger it; frozen, the apps' long-lived objects are skipped.
            gc.collect()
            gc.freeze()
            tallies = await measure(apps, requests, count, rounds)
            if as_json:
                print(json.dumps(costs(tallies, list(requests))), file=figures)
            else:
                report(tallies, list(requests), figures)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=250, help="per round and app")
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--only", choices=[http_load.ME, http_load.MCP])
    parser.add_argument("--parts", action="store_true", help="also metrics only, usage only")
    parser.add_argument("--json", action="store_true", help="the costs as one line of JSON")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    asyncio.run(
        main(arguments.requests, arguments.rounds, arguments.only, arguments.parts, arguments.json)
    )
