"""`keyhouse scan PATH…`: find Keyhouse tokens in files, say what each is, revoke live ones."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.audit.service import COMMAND_LINE
from keyhouse.kit.command_line import console, errors, run, settings, table
from keyhouse.leaks import service
from keyhouse.leaks.files import Finding, files_under, findings_in
from keyhouse.leaks.service import LeakStatus

# Below this many files the scan is over before a progress bar would tell anything.
LARGE_TREE = 200
REASON = "leaked: found in a file by keyhouse scan"


def scan(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="Files and folders.")],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="Revoke every live key or token found.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per finding.")
    ] = False,
) -> None:
    """Find Keyhouse keys and tokens in files (binaries skipped) and tell which are live.

    Prints path, line, hint and status (live, revoked, expired, unknown), never a whole secret.
    Exits 1 when a live one was found, so it can guard CI or a pre-commit hook.
    """
    findings = _find(files_under(paths))
    statuses = _check(findings, revoke=revoke)
    if as_json:
        for finding in findings:
            typer.echo(json.dumps(_as_dict(finding, statuses[finding.token], revoke)))
    else:
        _print_table(findings, statuses, revoke)
    if LeakStatus.LIVE in statuses.values():
        raise typer.Exit(1)


def _find(files: list[Path]) -> list[Finding]:
    columns = (BarColumn(), MofNCompleteColumn())
    hidden = len(files) < LARGE_TREE or not errors.is_terminal
    found: list[Finding] = []
    with Progress(
        *Progress.get_default_columns()[:1], *columns, console=errors, disable=hidden
    ) as progress:
        for path in progress.track(files, description="Scanning"):
            found.extend(findings_in(path))
    return found


def _check(findings: list[Finding], *, revoke: bool) -> dict[str, LeakStatus]:
    """Each distinct token's status before this scan, revoking the live ones if asked."""

    async def work(session: AsyncSession) -> dict[str, LeakStatus]:
        statuses = {}
        for token in dict.fromkeys(finding.token for finding in findings):
            found = await service.look_up(session, secret=settings().secret, token=token)
            statuses[token] = found.status
            if revoke:
                await service.revoke(session, COMMAND_LINE, found, reason=REASON)
        return statuses

    return run(work) if findings else {}


def _as_dict(finding: Finding, status: LeakStatus, revoke: bool) -> dict[str, object]:
    return {
        "path": str(finding.path),
        "line": finding.line,
        "hint": finding.hint,
        "status": status.value,
        "revoked_now": revoke and status is LeakStatus.LIVE,
    }


def _print_table(findings: list[Finding], statuses: dict[str, LeakStatus], revoke: bool) -> None:
    if not findings:
        console.print("No Keyhouse keys or tokens found.")
        return
    listing = table("Path", "Line", "Key", "Status")
    for finding in findings:
        status = statuses[finding.token]
        shown = status.value
        if status is LeakStatus.LIVE:
            shown = "[red]live → revoked now[/red]" if revoke else "[red]live[/red]"
        listing.add_row(str(finding.path), str(finding.line), f"{finding.hint}…", shown)
    console.print(listing)
    if LeakStatus.LIVE in statuses.values() and not revoke:
        console.print("Live keys were found: revoke them with --revoke, or roll them.")
