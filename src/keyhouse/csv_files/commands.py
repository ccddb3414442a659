"""`keyhouse import reps|accounts FILE` and `keyhouse export accounts`, with a progress bar."""

import csv
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts import service as accounts
from keyhouse.audit.service import COMMAND_LINE
from keyhouse.csv_files import service
from keyhouse.csv_files.schemas import ImportReport, RowError
from keyhouse.kit.command_line import AccountOption, run

import_app = typer.Typer(help="Import reps or accounts from a CSV file.", no_args_is_help=True)
export_app = typer.Typer(help="Export accounts as CSV.", no_args_is_help=True)
console = Console(stderr=True)

FileArgument = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
SkipInvalid = Annotated[
    bool, typer.Option("--skip-invalid", help="Import the good lines; report the bad ones.")
]
RejectFile = Annotated[
    Path | None, typer.Option("--reject-file", help="With --skip-invalid: write bad lines here.")
]
JsonReport = Annotated[
    bool, typer.Option("--json", help="Print the report as one JSON object on stdout.")
]


def _lines(path: Path, progress: Progress) -> Iterator[str]:
    task = progress.add_task(path.name, total=path.stat().st_size)
    with path.open(encoding="utf-8-sig", newline="") as text:
        for line in text:
            progress.advance(task, len(line.encode()))
            yield line
        progress.update(task, completed=path.stat().st_size)


def _import(kind: str, path: Path, account: str, skip_invalid: bool) -> ImportReport:
    importer = service.import_accounts if kind == "accounts" else service.import_reps
    columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*Progress.get_default_columns()[:1], *columns, console=console) as progress:

        async def work(session: AsyncSession) -> ImportReport:
            target = await accounts.resolve(session, id_or_slug=account)
            return await importer(
                session,
                COMMAND_LINE,
                account_id=target.id,
                lines=_lines(path, progress),
                skip_invalid=skip_invalid,
            )

        return run(work)


def _finish(report: ImportReport, reject_file: Path | None, as_json: bool) -> None:
    if reject_file is not None and report.errors:
        _write_rejects(reject_file, report.errors)
    if as_json:
        typer.echo(report.model_dump_json())
        return
    console.print(
        f"Created {report.created}, updated {report.updated}, "
        f"unchanged {report.unchanged}, rejected {report.rejected}."
    )
    for error in report.errors[:20]:
        console.print(f"  line {error.line}: {error.reason}")
    if reject_file is not None and report.errors:
        console.print(f"Rejected lines written to {reject_file}.")


def _write_rejects(path: Path, errors: list[RowError]) -> None:
    columns: dict[str, None] = {}
    for error in errors:
        columns.update(dict.fromkeys(error.values))
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["line", "error", *columns])
        writer.writeheader()
        for error in errors:
            writer.writerow({"line": error.line, "error": error.reason, **error.values})


def _check_reject_file(skip_invalid: bool, reject_file: Path | None) -> None:
    if reject_file is not None and not skip_invalid:
        raise typer.BadParameter("--reject-file goes with --skip-invalid.")


@import_app.command("accounts")
def import_accounts(
    file: FileArgument,
    account: AccountOption,
    skip_invalid: SkipInvalid = False,
    reject_file: RejectFile = None,
    as_json: JsonReport = False,
) -> None:
    """Create accounts (lines without id) or update them (lines with id); all or nothing.

    Lines that match the stored account write nothing: an export imports back unchanged.
    """
    _check_reject_file(skip_invalid, reject_file)
    _finish(_import("accounts", file, account, skip_invalid), reject_file, as_json)


@import_app.command("reps")
def import_reps(
    file: FileArgument,
    account: AccountOption,
    skip_invalid: SkipInvalid = False,
    reject_file: RejectFile = None,
    as_json: JsonReport = False,
) -> None:
    """Create reps, or update those whose email exists (name, email, active); all or nothing."""
    _check_reject_file(skip_invalid, reject_file)
    _finish(_import("reps", file, account, skip_invalid), reject_file, as_json)


@export_app.command("accounts")
def export_accounts(
    account: AccountOption,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Default: stdout.")] = None,
) -> None:
    """Write every live account as CSV, streamed from the database."""

    async def work(session: AsyncSession) -> None:
        target = await accounts.resolve(session, id_or_slug=account)
        with _open(output) as out:
            async for chunk in service.export_accounts(session, account_id=target.id):
                out.write(chunk)

    run(work)
    if output is not None:
        console.print(f"Exported the accounts of {account} to {output}.")


def _open(output: Path | None) -> AbstractContextManager[TextIO]:
    if output is None:
        return nullcontext(sys.stdout)
    return output.open("w", newline="", encoding="utf-8")
