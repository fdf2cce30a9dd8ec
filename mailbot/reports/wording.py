"""Small helpers to word grouped findings in French."""

from __future__ import annotations

from collections.abc import Sequence

MAX_CITED = 3


def plural(count: int, singular: str, plural_form: str) -> str:
    """``"1 élève"`` / ``"12 élèves"`` (0 and 1 are singular in French)."""
    return f"{count} {singular if count <= 1 else plural_form}"


def cite(items: Sequence[object], limit: int = MAX_CITED) -> str:
    """``"a, b, c…"``: at most *limit* items, an ellipsis when there are more."""
    shown = ", ".join(str(item) for item in items[:limit])
    return shown + ("…" if len(items) > limit else "")


def lines_where(file: str, lines: Sequence[int]) -> str:
    """``"eleves.csv, ligne 14"`` / ``"medias.csv, lignes 4, 9, 12…"``."""
    if len(lines) == 1:
        return f"{file}, ligne {lines[0]}"
    return f"{file}, lignes {cite(lines)}"
