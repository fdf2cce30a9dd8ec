"""The FAQ's value types and its error."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mailbot.errors import MailbotError


class FaqError(MailbotError):
    """An article is malformed; ``str()`` reads ``path:line: message``."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Article:
    """One FAQ article: a Markdown file whose stem is the id."""

    id: str
    title: str
    keywords: tuple[str, ...]
    lang: str
    app_versions: str | None
    team: str | None
    body: str
    path: Path


@dataclass(frozen=True)
class Suggestion:
    """An article proposed for a question, with its confidence (0..1) and a short excerpt."""

    article: Article
    score: float
    excerpt: str
