"""Keyhouse beside its floor: a bare FastAPI app with a bearer-key middleware (`bare_app.py`).

Both serve `/healthz` and `/api/v1/me` on core 0, loaded in turn by the same wrk on core 1 in
the same run, so both meet the same machine. The targets compare server CPU per request.
"""

import os
import tempfile
from pathlib import Path

import http_load
from report import Section, Target

ME_TARGET = 1.5  # Keyhouse's /me CPU per request, at most this many times the floor's
HEALTHZ_TARGET = 1.3


def _loads(seconds: int, warmup: int) -> dict[str, http_load.Load]:
    """Keyhouse on a fresh embedded workspace and the floor app, alternating path by path."""
    with tempfile.TemporaryDirectory(prefix="keyhouse-bench-peers-") as var_dir:
        # The per-key request limit would answer 429 under a load test: lift it for the bench.
        env = {
            **os.environ,
            "KEYHOUSE_VAR_DIR": var_dir,
            "KEYHOUSE_KEY_REQUESTS": "1000000000/minute",
        }
        env.pop("KEYHOUSE_DATABASE_URL", None)
        bearer = http_load.bearer_header(env)
        bare_env = {**env, "BENCH_BARE_TOKEN": bearer.split()[-1]}
        logs = Path(var_dir)
        with (
            http_load.serving(env, logs / "keyhouse.log") as keyhouse,
            http_load.serving(
                bare_env, logs / "bare.log", factory="bare_app:create_bare_app", access_log=True
            ) as bare,
        ):
            servers = {"keyhouse": keyhouse, "floor": bare}
            paths = {http_load.HEALTHZ: [], http_load.ME: [bearer]}
            return http_load.load_servers(servers, paths, seconds, warmup)


def run(seconds: int, warmup: int) -> Section:
    """Both apps' figures, and Keyhouse's CPU per request as a multiple of the floor's."""
    loads = _loads(seconds, warmup)
    section = Section(
        "Keyhouse beside the floor (bare FastAPI + bearer middleware + uvicorn access log)",
        ["server and path", "requests/s", "p50 ms", "p99 ms", "server CPU µs/req"],
    )
    section.rows += [http_load.row(load) for load in loads.values()]
    for path, limit in ((http_load.ME, ME_TARGET), (http_load.HEALTHZ, HEALTHZ_TARGET)):
        ours, floor = loads[f"keyhouse {path}"], loads[f"floor {path}"]
        ratio = ours.cpu_us / floor.cpu_us
        goal = f"Keyhouse {path} server CPU ≤ {limit} times the floor's"
        measured = f"{ratio:.2f} times ({ours.cpu_us:.0f} against {floor.cpu_us:.0f} µs)"
        section.targets.append(Target(goal, measured, ratio <= limit))
    return section
