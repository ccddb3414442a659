"""`keyhouse audit export`: the audit log of a time range on stdout, for a SIEM."""

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from keyhouse.accounts import service as accounts
from keyhouse.audit.export import ExportFormat, check_range, export_events
from keyhouse.kit.command_line import AccountOption, parse_duration, run

audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)

MOMENT_HELP = "A time ago (30m, 12h, 30d, 2w) or an ISO 8601 date or time (UTC unless it says)."


def parse_moment(text: str, now: datetime) -> datetime:
    """`30d` (that long before `now`) or an ISO date or time; naive times are UTC."""
    if text.strip()[-1:] in {"m", "h", "d", "w"}:
        return now - parse_duration(text)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise typer.BadParameter(f"{text!r}: {MOMENT_HELP}") from error
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@audit_app.command("export")
def audit_export(
    account: AccountOption,
    since: Annotated[str, typer.Option("--since", help=f"From. {MOMENT_HELP}")],
    until: Annotated[
        str | None, typer.Option("--until", help="To (excluded); default: now.")
    ] = None,
    export_format: Annotated[
        ExportFormat, typer.Option("--format", help="jsonl or csv.")
    ] = ExportFormat.JSONL,
) -> None:
    """Write every event of the range on stdout, oldest first."""
    now = datetime.now(UTC)
    start, end = parse_moment(since, now), parse_moment(until, now) if until else now

    async def work(session: AsyncSession) -> None:
        check_range(start, end)
        target = await accounts.resolve(session, id_or_slug=account)
        async for chunk in export_events(
            session, account_id=target.id, since=start, until=end, export_format=export_format
        ):
            sys.stdout.write(chunk)

    run(work)
    sys.stdout.flush()
