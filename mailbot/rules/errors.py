"""Rule-file errors: every problem found, each with its file, line and key."""

from __future__ import annotations

from typing import NamedTuple


class ErrorLine(NamedTuple):
    """One problem: *line* is 1-based (0 when the problem is not in a file's text)."""

    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}"


class RuleError(Exception):
    """Invalid rule files. *errors* lists ``(file, line, key, message)`` for every problem.

    ``str()`` gives one ``file:line: key: message`` line per problem.
    """

    def __init__(self, errors: list[ErrorLine] | list[tuple[str, int, str, str]]) -> None:
        self.errors = [ErrorLine(*e) for e in errors]
        super().__init__("\n".join(str(e) for e in self.errors))
