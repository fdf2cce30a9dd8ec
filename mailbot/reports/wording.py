"""Small helpers to word grouped findings in French, and to count lines in bounded memory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_CITED = 3
THIN_SPACE = "\u202f"  # espace fine insécable: the French thousands separator


def format_count(count: int) -> str:
    """``10485760`` -> ``"10 485 760"`` (narrow no-break spaces); small numbers unchanged."""
    return f"{count:,}".replace(",", THIN_SPACE)


def plural(count: int, singular: str, plural_form: str) -> str:
    """``"1 élève"`` / ``"12 élèves"`` (0 and 1 are singular in French)."""
    return f"{format_count(count)} {singular if count <= 1 else plural_form}"


def cite(items: Sequence[object], limit: int = MAX_CITED) -> str:
    """``"a, b, c…"``: at most *limit* items, an ellipsis when there are more."""
    shown = ", ".join(str(item) for item in items[:limit])
    return shown + ("…" if len(items) > limit else "")


def lines_where(file: str, lines: Sequence[int]) -> str:
    """``"eleves.csv, ligne 14"`` / ``"medias.csv, lignes 4, 9, 12…"``."""
    if len(lines) == 1:
        return f"{file}, ligne {lines[0]}"
    return f"{file}, lignes {cite(lines)}"


@dataclass
class LineTally:
    """How many lines had a problem, and the first few of their numbers.

    A file of ten million bad lines costs two integers and a short list, not a
    list of ten million line numbers. ``sample`` keeps one more number than is
    cited so that :func:`cite` still shows the ellipsis.
    """

    count: int = 0
    sample: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.count > 0

    def add(self, line: int) -> None:
        """Count *line*; remember its number if it is among the first few."""
        self.count += 1
        if len(self.sample) <= MAX_CITED:
            self.sample.append(line)

    def where(self, file: str) -> str:
        """``"eleves.csv, lignes 4, 9, 12…"`` for the lines counted."""
        return lines_where(file, self.sample)

    def amount(self, singular: str, plural_form: str) -> str:
        """``"3 lignes"``: the count with its noun (see :func:`plural`)."""
        return plural(self.count, singular, plural_form)
