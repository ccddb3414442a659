"""`make bench`: run every benchmark and print one table of figures and targets.

Each benchmark is a module with a `run(...) -> Section`; add one by calling it from `main`.
"""

import argparse
import os
import platform
import sqlite3
import time
from pathlib import Path

from rich.console import Console

import big_tables
import databases
import floor
import http_load
import lists
import mcp_peers
import peers
import revocation
import verification
import visibility
import workers
from report import Section, render

BENCHMARKS = (
    "verification",
    "http",
    "peers",
    "mcp-peers",
    "visibility",
    "lists",
    "workers",
    "big-tables",
    "floor",
    "revocation",
)
POSTGRES_ONLY = ("workers", "big-tables", "floor", "revocation")


def _arguments() -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=BENCHMARKS, action="append", help="repeatable")
    parser.add_argument("--keys", default="1000,1000000", help="api_keys table sizes, ascending")
    parser.add_argument("--databases", default=",".join(databases.KINDS))
    parser.add_argument("--seconds", type=int, default=10, help="wrk time per path, in total")
    parser.add_argument("--warmup", type=int, default=2, help="wrk warm-up per path")
    parser.add_argument("--accounts", type=int, default=5000, help="demo workspace size (lists)")
    return parser.parse_args()


def _machine() -> str:
    """Cores, CPU model, load and the versions that move the figures."""
    cpuinfo = Path("/proc/cpuinfo")
    models = [
        line.split(":", 1)[1].strip()
        for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
        if line.startswith("model name")
    ]
    cpu = models[0] if models else platform.processor() or "unknown CPU"
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )


def _answering_databases(arguments: argparse.Namespace) -> tuple[list[str], str | None]:
    """The requested databases that answer, and why PostgreSQL was left out (if it was)."""
    kinds = arguments.databases.split(",")
    problem = databases.postgres_problem() if "postgresql" in kinds else None
    if problem:
        kinds.remove("postgresql")
    return kinds, problem


def _verification(arguments: argparse.Namespace) -> Section:
    """Verification cost on the requested databases that answer."""
    kinds, problem = _answering_databases(arguments)
    sizes = sorted(int(size) for size in arguments.keys.split(","))
    section = verification.run(kinds, sizes)
    if problem:
        section.notes.append(f"postgresql skipped: {problem}")
    return section


def _lists(arguments: argparse.Namespace) -> Section:
    """List pages beside /me on the requested databases that answer."""
    kinds, problem = _answering_databases(arguments)
    section = lists.run(kinds, arguments.seconds, arguments.warmup, arguments.accounts)
    if problem:
        section.notes.append(f"postgresql skipped: {problem}")
    return section


def _on_postgres(name: str, arguments: argparse.Namespace) -> Section:
    """A PostgreSQL-only benchmark, or a note saying why it was skipped."""
    problem = databases.postgres_problem()
    if problem:
        return Section(name, [], notes=[f"{name} skipped: {problem}"])
    seconds, warmup = arguments.seconds, arguments.warmup
    if name == "workers":
        return workers.run(seconds, warmup)
    if name == "big-tables":
        return big_tables.run(seconds, warmup)
    if name == "revocation":
        return revocation.run()
    return floor.run(seconds, warmup)


def main() -> None:
    """Run the chosen benchmarks and print their figures."""
    arguments = _arguments()
    chosen = arguments.only or BENCHMARKS
    console = Console()
    console.print(f"Machine: {_machine()}", soft_wrap=True)
    started = time.perf_counter()
    sections = []
    if "verification" in chosen:
        sections.append(_verification(arguments))
    if "http" in chosen:
        sections.append(http_load.run(arguments.seconds, arguments.warmup))
    if "peers" in chosen:
        sections.append(peers.run(arguments.seconds, arguments.warmup))
    if "mcp-peers" in chosen:
        sections.append(mcp_peers.run(arguments.seconds, arguments.warmup))
    if "visibility" in chosen:
        sections.append(visibility.run(arguments.seconds, arguments.warmup))
    if "lists" in chosen:
        sections.append(_lists(arguments))
    sections += [_on_postgres(name, arguments) for name in POSTGRES_ONLY if name in chosen]
    render(sections, console)
    console.print(f"Benchmarks took {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
