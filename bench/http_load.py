"""HTTP throughput: a real `keyhouse serve` loaded by `wrk`.

/healthz against /api/v1/me with an API key and MCP `tools/call who_am_i` with an OAuth access
token (from a headless connect, also timed), alternating on the same server in the same run.
"""

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from oauth_connect import connect
from report import Section, Target

RATIO_TARGET = 0.85
CONNECTIONS = 32
ROUNDS = 5  # alternating runs per path, so both meet the same machine load
DISAGREEMENT = 0.05  # between the requests/s and the server-CPU ratios
STARTUP_TIMEOUT_SECONDS = 30.0
HEALTHZ, ME, MCP = "/healthz", "/api/v1/me", "/mcp who_am_i"
MCP_SCRIPT = Path(__file__).with_name("who_am_i.lua")
ADMIN_EMAIL, ADMIN_PASSWORD = "bench@example.com", "bench-password-1"
CONNECTS = 5
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Load:
    """What wrk measured on one path, and the server's CPU time meanwhile."""

    path: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_seconds: float

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds

    @property
    def cpu_us(self) -> float:
        """Server CPU time per request, in microseconds."""
        return self.cpu_seconds * 1e6 / self.requests


@dataclass(frozen=True)
class Server:
    """A running `keyhouse serve`."""

    url: str
    pid: int


@dataclass(frozen=True)
class Run:
    """One path of one server to load, under its label in the figures."""

    label: str
    server: Server
    path: str
    headers: list[str]


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian's archive if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 or not shutil.which("sudo") else ["sudo"]
    install = [*sudo, "apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], check=True)
        subprocess.run(install, check=True)
    return shutil.which("wrk") or "wrk"


def _pinned(core: int) -> list[str]:
    """A `taskset` prefix pinning to `core`, when there is one to spare."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(core)]
    return []


def keyhouse_json(env: dict[str, str], *args: str) -> dict[str, str]:
    """Run a `keyhouse ... --json` command and return its JSON object."""
    command = [str(Path(sys.executable).with_name("keyhouse")), *args, "--json"]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    parsed: dict[str, str] = json.loads(done.stdout)
    return parsed


def _free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    """Poll /healthz until it answers 200, the server exits, or time runs out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"keyhouse serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url + HEALTHZ, timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass  # not listening yet
        time.sleep(0.1)
    raise RuntimeError(f"keyhouse serve did not answer {HEALTHZ} in {STARTUP_TIMEOUT_SECONDS} s")


def _server_command(
    port: int,
    workers: int,
    factory: str | None,
    *,
    access_log: bool = False,
    python: str = sys.executable,
) -> list[str]:
    """`keyhouse serve`, or uvicorn on a bench-only app factory from this directory.

    A factory gets the uvicorn options `keyhouse serve` passes, or with `access_log` uvicorn's
    own access log line per request (what a bare FastAPI service logs). `python` is the
    interpreter that runs uvicorn: a peer with its own virtualenv names that one's.
    """
    if factory is None:
        keyhouse = str(Path(sys.executable).with_name("keyhouse"))
        return [keyhouse, "serve", "--port", str(port), "--workers", str(workers)]
    logging = (
        ["--log-level", "info"] if access_log else ["--no-access-log", "--log-level", "warning"]
    )
    options = ["--factory", *logging]
    return [
        *[python, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent), factory],
        *[*options, "--port", str(port), "--workers", str(workers)],
    ]


def server_pinning(workers: int) -> list[str]:
    """Core 0 for one worker; several workers get every core, so wrk shares one with them."""
    return _pinned(0) if workers == 1 else []


@contextmanager
def serving(
    env: dict[str, str],
    log: Path,
    *,
    workers: int = 1,
    factory: str | None = None,
    access_log: bool = False,
    python: str = sys.executable,
) -> Iterator[Server]:
    """`keyhouse serve` (or uvicorn on `factory`, run by `python`) on a free loopback port."""
    port = _free_port()
    env = {**env, "KEYHOUSE_BASE_URL": f"http://127.0.0.1:{port}"}  # OAuth redirects name it
    command = _server_command(port, workers, factory, access_log=access_log, python=python)
    with log.open("wb") as stderr:
        server = subprocess.Popen(
            [*server_pinning(workers), *command], env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
        try:
            url = f"http://127.0.0.1:{port}"
            try:
                _wait_healthy(url, server)
            except RuntimeError as error:
                raise RuntimeError(f"{error}; its log:\n{log.read_text()[-2000:]}") from error
            yield Server(url, server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _milliseconds(text: str) -> float:
    """A wrk duration such as `812.00us` or `1.20ms`, in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise RuntimeError(f"unexpected wrk duration: {text}")
    return float(match[1]) * UNIT_MS[match[2]]


def _process_tree(pid: int) -> list[int]:
    """`pid` and its descendants: `--workers 2` serves from child processes."""
    children = [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
    return [pid, *(found for child in children for found in _process_tree(child))]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far (Linux /proc)."""
    total = 0
    for member in _process_tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # taskset execs in place, so pid is the server
    return total / os.sysconf("SC_CLK_TCK")


def _parse(path: str, output: str, cpu_seconds: float) -> Load:
    """Requests, duration and latency percentiles from `wrk --latency` output."""
    if "Non-2xx or 3xx responses" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw failed requests on {path}:\n{output}")
    done = re.search(r"(\d+) requests in ([\d.]+(?:us|ms|s|m)),", output)
    # wrk pads a latency in whole seconds ("1.13s ") with a trailing space.
    p50 = re.search(r"^\s+50%\s+(\S+)\s*$", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)\s*$", output, re.MULTILINE)
    if done is None or p50 is None or p99 is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    seconds = _milliseconds(done[2]) / 1000
    return Load(
        path, int(done[1]), seconds, _milliseconds(p50[1]), _milliseconds(p99[1]), cpu_seconds
    )


def _wrk(wrk: str, url: str, headers: list[str], seconds: int) -> str:
    """Run wrk on one URL, pinned to core 1, and return its report.

    `…/mcp who_am_i` stands for a JSON-RPC POST to /mcp, which who_am_i.lua writes.
    """
    command = [*_pinned(1), wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    if url.endswith(MCP):
        url, command = url.removesuffix(MCP) + "/mcp", [*command, "-s", str(MCP_SCRIPT)]
    for header in headers:
        command += ["-H", header]
    done = subprocess.run(
        [*command, url], check=True, capture_output=True, text=True, timeout=seconds + 30
    )
    return done.stdout


def _measure(wrk: str, server: Server, path: str, headers: list[str], seconds: int) -> Load:
    """One wrk run on `path`, with the server's CPU time it cost."""
    before = _cpu_seconds(server.pid)
    output = _wrk(wrk, server.url + path, headers, seconds)
    return _parse(path, output, _cpu_seconds(server.pid) - before)


def _combined(path: str, rounds: list[dict[str, Load]]) -> Load:
    """All rounds of `path` as one run: totals, and the median of each percentile."""
    loads = [measured[path] for measured in rounds]
    return Load(
        path,
        sum(load.requests for load in loads),
        sum(load.seconds for load in loads),
        statistics.median(load.p50_ms for load in loads),
        statistics.median(load.p99_ms for load in loads),
        sum(load.cpu_seconds for load in loads),
    )


def bearer_header(env: dict[str, str]) -> str:
    """An account and a read-only key made through the CLI, as the key's header."""
    account = keyhouse_json(
        env,
        "account",
        "create",
        "Bench",
        "--admin-email",
        ADMIN_EMAIL,
        "--admin-password",
        ADMIN_PASSWORD,
    )
    key = keyhouse_json(
        env, "key", "create", "--account", account["slug"], "--name", "wrk", "--access", "read_only"
    )
    return f"Authorization: Bearer {key['secret']}"


def row(load: Load) -> list[str]:
    """One path's figures as table cells: requests/s, p50, p99, server CPU per request."""
    cells = [f"{load.rps:,.0f}", f"{load.p50_ms:.2f}", f"{load.p99_ms:.2f}", f"{load.cpu_us:.0f}"]
    return [load.path, *cells]


def three_paths(server: Server, bearer: str) -> tuple[dict[str, list[str]], list[float]]:
    """/healthz, /me with `bearer` and MCP with a fresh OAuth token; every connect's seconds."""
    connects = [connect(server.url, ADMIN_EMAIL, ADMIN_PASSWORD) for _ in range(CONNECTS)]
    paths = {HEALTHZ: [], ME: [bearer], MCP: [f"Authorization: Bearer {connects[-1][0]}"]}
    return paths, [seconds for _, seconds in connects]


def load(
    server: Server, paths: dict[str, list[str]], seconds: int, warmup: int
) -> tuple[dict[str, Load], int]:
    """Warm every path up, then alternate ROUNDS runs; each path's totals, and seconds per round."""
    return load_servers({"": server}, paths, seconds, warmup), max(1, round(seconds / ROUNDS))


def load_servers(
    servers: dict[str, Server], paths: dict[str, list[str]], seconds: int, warmup: int
) -> dict[str, Load]:
    """Every path of every server, alternating: each one's totals, keyed "<server> <path>"."""
    runs = [
        Run(f"{name} {path}".strip(), server, path, headers)
        for name, server in servers.items()
        for path, headers in paths.items()
    ]
    return load_runs(runs, seconds, warmup)


def load_runs(runs: list[Run], seconds: int, warmup: int) -> dict[str, Load]:
    """Warm every run up, then ROUNDS short runs of each, alternating, so that all meet the
    same machine load. Each one's totals, keyed by its label."""
    wrk = ensure_wrk()
    for run in runs:
        _wrk(wrk, run.server.url + run.path, run.headers, warmup)
    per_round = max(1, round(seconds / ROUNDS))
    rounds = [
        {run.label: _measure(wrk, run.server, run.path, run.headers, per_round) for run in runs}
        for _ in range(ROUNDS)
    ]
    return {label: _combined(label, rounds) for label in rounds[0]}


def _section(loads: dict[str, Load], seconds: int) -> Section:
    """Both paths' figures; the target holds only if requests/s and server CPU agree on it."""
    healthz, me, mcp = loads[HEALTHZ], loads[ME], loads[MCP]
    ratio, cpu_ratio = me.rps / healthz.rps, healthz.cpu_us / me.cpu_us
    pinning = "server on core 0, wrk on core 1" if _pinned(0) else "not pinned"
    section = Section(
        f"HTTP: wrk -c{CONNECTIONS}, {ROUNDS} alternating rounds of {seconds} s per path",
        ["path", "requests/s", "p50 ms", "p99 ms", "server CPU µs/req"],
    )
    section.rows += [row(x) for x in (healthz, me, mcp)]
    goal = f"{ME} ≥ {RATIO_TARGET:.0%} of {HEALTHZ} requests/s"
    measured = f"{ratio:.1%} ({cpu_ratio:.1%} by CPU)"
    section.targets.append(Target(goal, measured, min(ratio, cpu_ratio) >= RATIO_TARGET))
    section.notes.append(f"ratio me/healthz: {ratio:.1%} requests/s ({pinning})")
    section.notes.append(f"ratio me/healthz by server CPU per request: {cpu_ratio:.1%}")
    if abs(ratio - cpu_ratio) > DISAGREEMENT:
        section.notes.append("the two ratios disagree: other load disturbed requests/s")
    section.notes.append(
        f"ratio MCP who_am_i (access token) / me (API key): {mcp.rps / me.rps:.1%}"
    )
    return section


def run(seconds: int, warmup: int) -> Section:
    """Serve a fresh embedded workspace; load /healthz and /api/v1/me on that one server."""
    with tempfile.TemporaryDirectory(prefix="keyhouse-bench-http-") as var_dir:
        # The per-key request limit would answer 429 under a load test: lift it for the bench.
        env = {
            **os.environ,
            "KEYHOUSE_VAR_DIR": var_dir,
            "KEYHOUSE_KEY_REQUESTS": "1000000000/minute",
        }
        env.pop("KEYHOUSE_DATABASE_URL", None)
        bearer = bearer_header(env)
        with serving(env, Path(var_dir) / "server.log") as server:
            paths, connects = three_paths(server, bearer)
            loads, per_round = load(server, paths, seconds, warmup)
    section = _section(loads, per_round)
    took = statistics.median(connects) * 1000
    section.notes.append(
        f"headless OAuth connect, discovery → token, signed-in user: {took:.0f} ms "
        f"(median of {CONNECTS})"
    )
    return section
