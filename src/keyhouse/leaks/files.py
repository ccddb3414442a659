"""Finding Keyhouse tokens in files: every text file under the given paths, line by line."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from keyhouse.kit import tokens

# A NUL byte in the first block means a binary file (git and grep decide the same way).
SNIFF_BYTES = 8192
# Folders whose content is not text a person wrote (git's objects are compressed anyway).
SKIPPED_FOLDERS = frozenset({".git", ".hg", ".svn", "__pycache__"})


@dataclass(frozen=True, slots=True)
class Finding:
    """A token with a valid checksum at a line of a file; printed only by its hint."""

    path: Path
    line: int
    token: str

    @property
    def hint(self) -> str:
        """The displayable start of the token."""
        return tokens.hint(self.token)


def files_under(paths: Iterable[Path]) -> list[Path]:
    """Every file of `paths`, folders walked recursively, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    child
                    for child in path.rglob("*")
                    if child.is_file() and not SKIPPED_FOLDERS.intersection(child.parts)
                )
            )
        elif path.is_file():
            found.append(path)
    return found


def findings_in(path: Path) -> Iterator[Finding]:
    """The tokens in one file, unless it is binary or unreadable."""
    try:
        with path.open("rb") as raw:
            if b"\0" in raw.read(SNIFF_BYTES):
                return
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        for token in tokens.find_all(line):
            yield Finding(path, number, token)
