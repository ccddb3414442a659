"""Keyhouse's MCP `who_am_i` beside two MCP peers, in the same run.

The official SDK's own stateless server with its bearer verifier (`mcp_sdk_app.py`, in the
project's virtualenv, so the same `mcp`) and FastMCP with its static token verifier
(`fastmcp_app.py`, in its own virtualenv from `fastmcp-requirements.txt`). Keyhouse's
`/api/v1/me` is loaded in the same rounds as the yardstick. Every server is on core 0 and
wrk on core 1; the targets compare server CPU per request.
"""

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

import http_load
from report import Section, Target

ME_TARGET = 3.0  # Keyhouse's MCP CPU per request, at most this many times its /me
SDK_TARGET = 1.5  # the SDK peer's CPU per request, at least this many times Keyhouse's MCP
BENCH = Path(__file__).parent
FASTMCP_REQUIREMENTS = BENCH / "fastmcp-requirements.txt"
FASTMCP_VENV = BENCH.parent / "var" / "bench-fastmcp"
MCP_CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "who_am_i", "arguments": {}},
}
# The headers who_am_i.lua sends: a legacy-era stateless POST, no initialize first.
MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}


def fastmcp_python() -> Path:
    """The FastMCP virtualenv's python, created from the pinned requirements when missing."""
    python = FASTMCP_VENV / "bin" / "python"
    stamp = FASTMCP_VENV / ".installed"
    if stamp.exists() and stamp.stat().st_mtime >= FASTMCP_REQUIREMENTS.stat().st_mtime:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(FASTMCP_VENV)], check=True)
    install = ["-m", "pip", "install", "-q", "--require-hashes", "-r", str(FASTMCP_REQUIREMENTS)]
    subprocess.run([str(python), *install], check=True)
    stamp.touch()
    return python


def _check_answers(server: http_load.Server, authorization: str) -> None:
    """One `tools/call who_am_i` as wrk sends it must come back 200 with the tool's result."""
    headers = {**MCP_HEADERS, "Authorization": authorization.split(": ", 1)[1]}
    answer = httpx.post(f"{server.url}/mcp", json=MCP_CALL, headers=headers, timeout=10)
    result = answer.json().get("result", {}) if answer.status_code == 200 else {}
    answered = result.get("structuredContent") or {}
    if result.get("isError") is not False or "account_slug" not in answered:
        raise RuntimeError(f"{server.url}/mcp did not answer who_am_i: {answer.text[:500]}")


def _environment(var_dir: str) -> dict[str, str]:
    """A fresh embedded workspace in `var_dir`, with the per-key request limit lifted."""
    env = {**os.environ, "KEYHOUSE_VAR_DIR": var_dir}
    env["KEYHOUSE_KEY_REQUESTS"] = "1000000000/minute"  # else 429s under a load test
    env.pop("KEYHOUSE_DATABASE_URL", None)
    return env


@contextmanager
def _servers() -> Iterator[tuple[dict[str, http_load.Server], str, str]]:
    """Keyhouse and both peers, serving; the /me key's and the access token's headers."""
    fastmcp = str(fastmcp_python())  # before any server starts: installing takes a while
    with ExitStack() as stack:
        var_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="keyhouse-bench-mcp-"))
        env, logs = _environment(var_dir), Path(var_dir)
        bearer = http_load.bearer_header(env)
        keyhouse = stack.enter_context(http_load.serving(env, logs / "keyhouse.log"))
        token = http_load.three_paths(keyhouse, bearer)[0][http_load.MCP][0]
        # The peers know the same access token, each in its own verifier.
        peer_env = {**env, "BENCH_MCP_TOKEN": token.split()[-1]}
        servers = {"keyhouse": keyhouse}
        for name, factory, python in (
            ("sdk", "mcp_sdk_app:create_sdk_app", sys.executable),
            ("fastmcp", "fastmcp_app:create_fastmcp_app", fastmcp),
        ):
            log = logs / f"{name}.log"
            peer = http_load.serving(peer_env, log, factory=factory, access_log=True, python=python)
            servers[name] = stack.enter_context(peer)
        yield servers, bearer, token


def _loads(seconds: int, warmup: int) -> dict[str, http_load.Load]:
    """Keyhouse's /me and MCP, and each peer's MCP, alternating in the same rounds."""
    with _servers() as (servers, bearer, token):
        for server in servers.values():
            _check_answers(server, token)
        me = http_load.Run(f"keyhouse {http_load.ME}", servers["keyhouse"], http_load.ME, [bearer])
        runs = [me] + [
            http_load.Run(f"{name} {http_load.MCP}", server, http_load.MCP, [token])
            for name, server in servers.items()
        ]
        return http_load.load_runs(runs, seconds, warmup)


def _target(goal: str, ours: http_load.Load, theirs: http_load.Load, met: bool) -> Target:
    """A CPU-per-request comparison as a verdict line."""
    ratio = theirs.cpu_us / ours.cpu_us
    measured = f"{ratio:.2f} times ({theirs.cpu_us:.0f} against {ours.cpu_us:.0f} µs)"
    return Target(goal, measured, met)


def run(seconds: int, warmup: int) -> Section:
    """Every server's figures, and the three CPU-per-request targets."""
    loads = _loads(seconds, warmup)
    section = Section(
        "Keyhouse's MCP beside the SDK's stateless server and FastMCP (bearer tokens, "
        "uvicorn access log)",
        ["server and path", "requests/s", "p50 ms", "p99 ms", "server CPU µs/req"],
    )
    section.rows += [http_load.row(load) for load in loads.values()]
    me, mcp = loads[f"keyhouse {http_load.ME}"], loads[f"keyhouse {http_load.MCP}"]
    sdk, fastmcp = loads[f"sdk {http_load.MCP}"], loads[f"fastmcp {http_load.MCP}"]
    section.targets += [
        _target(
            f"Keyhouse MCP server CPU ≤ {ME_TARGET} times its {http_load.ME}",
            me,
            mcp,
            mcp.cpu_us <= ME_TARGET * me.cpu_us,
        ),
        _target(
            f"SDK peer's MCP server CPU ≥ {SDK_TARGET} times Keyhouse's",
            mcp,
            sdk,
            sdk.cpu_us >= SDK_TARGET * mcp.cpu_us,
        ),
        _target("FastMCP's MCP server CPU > Keyhouse's", mcp, fastmcp, fastmcp.cpu_us > mcp.cpu_us),
    ]
    section.notes += [
        "sdk: the official SDK's MCPServer, its TokenVerifier protocol (HMAC-SHA-256 dict) "
        "behind its BearerAuthBackend and RequireAuthMiddleware, stateless JSON responses",
        "fastmcp: FastMCP's StaticTokenVerifier (plain dict), stateless JSON responses, "
        "in its own virtualenv from fastmcp-requirements.txt",
    ]
    return section
