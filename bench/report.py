"""What every benchmark returns, and the one table `run.py` prints from it."""

from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Target:
    """A goal, what was measured against it, and whether it is met."""

    goal: str
    measured: str
    met: bool


@dataclass
class Section:
    """One benchmark's figures: a titled table and the targets it checks."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def render(sections: list[Section], console: Console) -> None:
    """Print each section, then every target with its verdict."""
    for section in sections:
        table = Table(*section.columns, title=section.title, title_justify="left")
        for row in section.rows:
            table.add_row(*row)
        console.print(table)
        for note in section.notes:
            console.print(f"  {note}")
    targets = Table("target", "measured", "met", title="Targets", title_justify="left")
    for target in (t for section in sections for t in section.targets):
        verdict = "[green]yes[/green]" if target.met else "[red]no[/red]"
        targets.add_row(target.goal, target.measured, verdict)
    console.print(targets)
