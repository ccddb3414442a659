"""The official MCP conformance suite (npm), installed from conformance/ and run headlessly.

conformance/package.json pins two builds of `@modelcontextprotocol/conformance`: 0.1.x for the
`server` scenarios, and a 0.2 pre-release for the `authorization` subcommand, which 0.1.x does
not have. Both need Node 22, which the pinned `node` package brings along.
"""

import asyncio
import json
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

ROOT = Path(__file__).resolve().parents[2] / "conformance"
MODULES = ROOT / "node_modules"
NODE = MODULES / ".bin" / "node"
SERVER_SUITE = MODULES / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
AUTHORIZATION_SUITE = MODULES / "conformance-authorization" / "dist" / "index.js"
INSTALL_SECONDS = 300
RUN_SECONDS = 120
# Each scenario writes <kind>-<scenario>-<ISO time>/checks.json under the output directory.
RESULT_DIR = re.compile(
    r"^(?:authorization-server|server)-(?P<scenario>.+)-\d{4}-\d\d-\d\dT[\d-]+Z$"
)


@dataclass
class Scenario:
    """One scenario's checks as the suite reported them."""

    name: str
    checks: list[dict[str, object]] = field(default_factory=list)

    def statuses(self, wanted: str) -> list[str]:
        """`id: message` of every check with status `wanted`."""
        return [
            f"{check['id']}: {check.get('errorMessage') or ''}".rstrip(": ")
            for check in self.checks
            if check.get("status") == wanted
        ]

    @property
    def passed(self) -> bool:
        """The suite's own verdict (no FAILURE), and not skipped for want of a setting."""
        return not self.statuses("FAILURE") and not self.statuses("SKIPPED")


async def _run(*command: str, seconds: float) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(seconds):
            output, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode or 0, output.decode(errors="replace")


async def install() -> None:
    """`npm ci --prefix conformance` unless already installed; no npm is a failure, not a skip."""
    if NODE.exists() and SERVER_SUITE.exists() and AUTHORIZATION_SUITE.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is required to install the MCP conformance suite (conformance/).")
    code, output = await _run(npm, "ci", "--prefix", str(ROOT), seconds=INSTALL_SECONDS)
    if code != 0 or not NODE.exists():
        pytest.fail(f"`npm ci --prefix conformance` failed ({code}):\n{output}")


@asynccontextmanager
async def started(suite: Path, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """The suite running with `args`, its output on a pipe; killed if still running at exit."""
    process = await asyncio.create_subprocess_exec(
        str(NODE),
        str(suite),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.communicate()


async def run(suite: Path, *args: str) -> str:
    """Run the suite to the end; what it printed."""
    _code, output = await _run(str(NODE), str(suite), *args, seconds=RUN_SECONDS)
    return output  # its exit code says only "something failed": read the results instead


def results(output_dir: Path) -> dict[str, Scenario]:
    """Every scenario the suite wrote results for, by name."""
    found: dict[str, Scenario] = {}
    for checks in sorted(output_dir.glob("*/checks.json")):
        match = RESULT_DIR.match(checks.parent.name)
        assert match, f"unexpected result folder {checks.parent.name}"
        name = match["scenario"]
        found[name] = Scenario(name, json.loads(checks.read_text()))
    return found


def verdict(found: dict[str, Scenario], expected_failures: dict[str, str]) -> list[str]:
    """What differs from the expectation: new failures, and expected failures that passed."""
    problems = []
    for scenario in found.values():
        if not scenario.passed and scenario.name not in expected_failures:
            details = scenario.statuses("FAILURE") + scenario.statuses("SKIPPED")
            problems.append(f"{scenario.name} failed: {'; '.join(details)}")
        if scenario.passed and scenario.name in expected_failures:
            problems.append(f"{scenario.name} passes now: remove it from expected_failures.py")
    for name in expected_failures.keys() - found.keys():
        problems.append(f"{name} no longer runs: remove it from expected_failures.py")
    return problems


def with_bearer(app: ASGIApp, token: str) -> ASGIApp:
    """`app`, with `Authorization: Bearer <token>` added to requests that carry none.

    The suite's `server` command connects without credentials and has no option to send
    any; an assistant configured with an API key sends this header on every request.
    """
    header = (b"authorization", f"Bearer {token}".encode())

    async def credentialed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and all(
            name != b"authorization" for name, _ in scope["headers"]
        ):
            scope = {**scope, "headers": [*scope["headers"], header]}
        await app(scope, receive, send)

    return credentialed


@asynccontextmanager
async def serving(app: ASGIApp, port: int) -> AsyncIterator[str]:
    """`app` served by uvicorn on 127.0.0.1:`port` (the app's lifespan already runs)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
