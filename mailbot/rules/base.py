"""The shape every condition shares, and helpers to read rule-file values.

A condition is a small object with a ``key`` (the word a rule file uses)
and ``test(view) -> (hit, why)``. *why* always says what was looked at and
the value seen (within the report fields rules may read), so a trace
explains misses as well as hits. Constructors check their value and raise
:class:`ValueError`, which the loader turns into a file:line:key error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import translate
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from mailbot.rules.facts import MessageView
from mailbot.rules.text import fold

Result = tuple[bool, str]
DEFAULT_TIMEZONE = "Europe/Paris"


class Condition(Protocol):
    """One test on a message."""

    key: str

    def test(self, view: MessageView) -> Result:
        """``(True, why it holds)`` or ``(False, why not, with the value seen)``."""
        ...


@dataclass(frozen=True)
class CompileContext:
    """What a condition may need from its file: the zone for times and weekdays."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))


def strings(value: Any, what: str = "text", strip: bool = True) -> list[str]:
    """A text or a non-empty list of non-empty texts, as a list (stripped unless told)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(
            isinstance(v, str) and v.strip() for v in items):
        raise ValueError(f"expected {_article(what)} {what} or a list of {_plural(what)}, "
                         f"got {value!r}")
    return [v.strip() for v in items] if strip else list(items)


_PLURALS = {"word or phrase": "words or phrases", "address": "addresses"}


def _article(noun: str) -> str:
    """``an`` before a vowel sound (address, error code), else ``a``."""
    return "an" if noun[:1].lower() in "aeio" else "a"


def _plural(noun: str) -> str:
    """``addresses``, ``words or phrases``, ``file names``."""
    if noun in _PLURALS:
        return _PLURALS[noun]
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")


def choices(value: Any, allowed: dict[str, str], what: str) -> tuple[str, ...]:
    """Values looked up in *allowed* (a folded spelling -> canonical value map)."""
    found = []
    for item in strings(value, what):
        canonical = allowed.get(fold(item).replace("-", "_").replace(" ", "_"))
        if canonical is None:
            known = ", ".join(sorted(set(allowed.values())))
            raise ValueError(f"unknown {what} {item!r} (expected one of: {known})")
        found.append(canonical)
    return tuple(dict.fromkeys(found))


def boolean(value: Any) -> bool:
    """``true`` or ``false``, nothing else."""
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def listed(values: tuple[str, ...] | list[str], limit: int = 4) -> str:
    """``a, b, c (+2)`` for traces."""
    head = ", ".join(values[:limit])
    return head + (f" (+{len(values) - limit})" if len(values) > limit else "")


def globs(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """Shell-style patterns (``*``, ``?``, ``[...]``) as one compiled regex; use ``.match``."""
    return re.compile("|".join(f"(?:{translate(p)})" for p in patterns))
