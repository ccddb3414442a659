"""Scale-out by processes: the three HTTP paths on `keyhouse serve --workers 1` and `--workers 2`.

Both servers share one fresh PostgreSQL database, as instances behind a load balancer would.
"""

from pathlib import Path

import databases
import http_load
from keyhouse.config import Settings
from report import Section

WORKERS = (1, 2)
COLUMNS = ["workers", "path", "requests/s", "p50 ms", "p99 ms", "server CPU µs/req"]


def serve_and_load(
    settings: Settings, bearer: str, workers: int, seconds: int, warmup: int
) -> dict[str, http_load.Load]:
    """The three paths on one `keyhouse serve --workers N` over `settings`' database."""
    env = databases.server_environment(settings)
    log = Path(settings.var_dir) / f"server-{workers}.log"
    with http_load.serving(env, log, workers=workers) as server:
        paths, _connects = http_load.three_paths(server, bearer)
        loads, _per_round = http_load.load(server, paths, seconds, warmup)
    return loads


def measure(
    settings: Settings, section: Section, seconds: int, warmup: int
) -> dict[int, dict[str, http_load.Load]]:
    """Every worker count in WORKERS, one after the other, as rows of `section`."""
    bearer = http_load.bearer_header(databases.server_environment(settings))
    measured = {}
    for workers in WORKERS:
        measured[workers] = serve_and_load(settings, bearer, workers, seconds, warmup)
        section.rows += [[str(workers), *http_load.row(x)] for x in measured[workers].values()]
    return measured


def scaling_notes(measured: dict[int, dict[str, http_load.Load]]) -> list[str]:
    """Requests/s of the most workers against one worker, per path."""
    most = max(measured)
    return [
        f"{path}: {most} workers give {load.rps / measured[1][path].rps:.2f} times the requests/s"
        " of 1"
        for path, load in measured[most].items()
    ]


def run(seconds: int, warmup: int) -> Section:
    """Measure the three paths per worker count on a fresh PostgreSQL database."""
    section = Section(
        f"Workers on PostgreSQL: wrk -c{http_load.CONNECTIONS}, "
        f"{http_load.ROUNDS} alternating rounds per path",
        COLUMNS,
    )
    with databases.temporary_database("postgresql") as settings:
        measured = measure(settings, section, seconds, warmup)
    section.notes += scaling_notes(measured)
    section.notes.append(f"{WORKERS[-1]} workers are not pinned; wrk on core 1 shares a core")
    return section
