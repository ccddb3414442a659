"""Authentication's cost against the physical floor: /api/v1/me with a key against its
unauthenticated twin (`floor_app.py`), alternating on the same server, on PostgreSQL.
"""

from pathlib import Path

import databases
import http_load
from floor_app import FLOOR
from report import Section, Target

COST_TARGET = 0.10  # of throughput


def _loads(seconds: int, warmup: int, workers: int) -> dict[str, http_load.Load]:
    """Both routes on one uvicorn serving the floor app over a fresh PostgreSQL database."""
    with databases.temporary_database("postgresql") as settings:
        env = databases.server_environment(settings)
        bearer = http_load.bearer_header(env)
        log = Path(settings.var_dir) / "server.log"
        factory = "floor_app:create_floor_app"
        with http_load.serving(env, log, workers=workers, factory=factory) as server:
            paths = {http_load.ME: [bearer], FLOOR: []}
            loads, _per_round = http_load.load(server, paths, seconds, warmup)
    return loads


def run(seconds: int, warmup: int, workers: int = 1) -> Section:
    """Authentication's share of throughput: 1 - me/floor, by requests/s and by server CPU."""
    loads = _loads(seconds, warmup, workers)
    me, floor = loads[http_load.ME], loads[FLOOR]
    section = Section(
        f"Floor on PostgreSQL: /api/v1/me against its unauthenticated twin, {workers} worker",
        ["path", "requests/s", "p50 ms", "p99 ms", "server CPU µs/req"],
    )
    section.rows += [http_load.row(me), http_load.row(floor)]
    cost, cpu_cost = 1 - me.rps / floor.rps, 1 - floor.cpu_us / me.cpu_us
    goal = f"authentication ≤ {COST_TARGET:.0%} of {FLOOR} requests/s"
    measured = f"{cost:.1%} ({cpu_cost:.1%} by CPU)"
    section.targets.append(Target(goal, measured, max(cost, cpu_cost) <= COST_TARGET))
    section.notes.append(f"authentication costs {me.cpu_us - floor.cpu_us:.0f} µs of CPU/request")
    return section
