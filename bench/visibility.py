"""What recording costs: usage counting, activity and metrics on against off, in one run.

Two servers on fresh embedded workspaces: `keyhouse serve` with `KEYHOUSE_METRICS_TOKEN` set
(everything recorded, metrics on), and its quiet twin (`quiet_app.py`: nothing recorded,
metrics off). wrk loads `/api/v1/me` (API key) and MCP `who_am_i` (OAuth access token) on
each, alternating servers and paths round by round so both meet the same machine load.

wrk's figure is the median, over ROUNDS, of each round's on/off ratio: the two servers of a
round meet the same moment of the machine. It still moved by several points between two runs
of the same code (two server processes differ by a few % whatever they record), so the
target is judged on `recording_cpu.py`, run here too: both apps in one process, requests
alternating one by one, steady to a fraction of a point (bench/README.md, "Recording").
"""

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import http_load
from report import Section, Target

COST_TARGET = 0.05  # of server CPU per request
ROUNDS = 15
QUIET_FACTORY = "quiet_app:create_quiet_app"


def _environment(var_dir: str, metrics: bool) -> dict[str, str]:
    env = {**os.environ, "KEYHOUSE_VAR_DIR": var_dir, "KEYHOUSE_KEY_REQUESTS": "1000000000/minute"}
    env.pop("KEYHOUSE_DATABASE_URL", None)
    env.pop("KEYHOUSE_METRICS_TOKEN", None)
    if metrics:
        env["KEYHOUSE_METRICS_TOKEN"] = secrets.token_urlsafe(32)
    return env


def _servers(stack: ExitStack) -> dict[str, tuple[http_load.Server, dict[str, list[str]]]]:
    """Both servers, each with its key and its OAuth token, keyed "on" and "off"."""
    found = {}
    for name, metrics, factory in (("on", True, None), ("off", False, QUIET_FACTORY)):
        var_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"keyhouse-bench-{name}-"))
        env = _environment(var_dir, metrics)
        bearer = http_load.bearer_header(env)
        log = Path(var_dir) / "server.log"
        server = stack.enter_context(http_load.serving(env, log, factory=factory))
        paths, _ = http_load.three_paths(server, bearer)
        paths.pop(http_load.HEALTHZ)
        found[name] = (server, paths)
    return found


Rounds = list[dict[str, http_load.Load]]


def _measure(seconds: int, warmup: int) -> Rounds:
    """ROUNDS alternating runs of each path on each server, keyed "<server> <path>"."""
    wrk = http_load.ensure_wrk()
    with ExitStack() as stack:
        servers = _servers(stack)
        for server, paths in servers.values():
            for path, headers in paths.items():
                http_load._wrk(wrk, server.url + path, headers, warmup)
        per_round = max(1, round(seconds / ROUNDS))
        # Each server goes first in every other round: with one order only, the identical
        # quiet app measured against itself read a few % apart on /api/v1/me.
        orders = [list(servers.items()), list(reversed(servers.items()))]
        return [
            {
                f"{name} {path}": http_load._measure(wrk, server, path, headers, per_round)
                for path in (http_load.ME, http_load.MCP)
                for name, (server, paths) in orders[number % 2]
                for headers in [paths[path]]
            }
            for number in range(ROUNDS)
        ]


def _median_cost(rounds: Rounds, path: str) -> float:
    """The median over rounds of the extra server CPU per request with recording on."""
    return statistics.median(
        measured[f"on {path}"].cpu_us / measured[f"off {path}"].cpu_us - 1 for measured in rounds
    )


def _in_process_costs() -> dict[str, dict[str, float]]:
    """`recording_cpu.py --json`: per path, each app's CPU µs per request and the cost."""
    script = Path(__file__).with_name("recording_cpu.py")
    done = subprocess.run(
        [sys.executable, str(script), "--json"], capture_output=True, text=True, check=True
    )
    found: dict[str, dict[str, float]] = json.loads(done.stdout.splitlines()[-1])
    return found


def run(seconds: int, warmup: int) -> Section:
    """Server CPU per request with recording on and off, and the cost as a share."""
    rounds = _measure(seconds, warmup)
    loads = {
        (name, path): http_load._combined(f"{name} {path}", rounds)
        for name in ("on", "off")
        for path in (http_load.ME, http_load.MCP)
    }
    section = Section(
        "Recording (usage, activity, metrics) on and off, same run",
        ["server / path", "requests/s", "p50 ms", "p99 ms", "server CPU µs/req"],
    )
    for (name, path), load in loads.items():
        section.rows.append([f"{name}: {path}", *http_load.row(load)[1:]])
    in_process = _in_process_costs()
    for path in (http_load.ME, http_load.MCP):
        on, off = loads[("on", path)], loads[("off", path)]
        found = in_process[path]
        goal = f"recording adds ≤ {COST_TARGET:.0%} server CPU to {path}"
        measured = (
            f"{found['cost']:+.1%} in one process ({found['on']:.0f} against "
            f"{found['off']:.0f} µs); wrk {_median_cost(rounds, path):+.1%}, median of "
            f"{ROUNDS} rounds (all rounds together {on.cpu_us / off.cpu_us - 1:+.1%})"
        )
        section.targets.append(Target(goal, measured, found["cost"] <= COST_TARGET))
    ratio = statistics.mean(
        loads[("on", p)].rps / loads[("off", p)].rps for p in (http_load.ME, http_load.MCP)
    )
    section.notes.append(f"requests/s on/off, mean over both paths: {ratio:.1%}")
    return section
