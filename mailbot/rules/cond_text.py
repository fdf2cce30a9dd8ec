"""Conditions on what the sender wrote: words, phrases and regular expressions.

``words`` looks in the subject and the new text, ``subject_words`` and
``text_words`` in one of them (French-aware, see :mod:`mailbot.rules.text`).
``subject_regex`` and ``text_regex`` search the text as written,
case-insensitively, ``^`` and ``$`` matching at each line; they are compiled
at load, so a bad pattern is a load error.
"""

from __future__ import annotations

import re
from typing import Any

from mailbot.rules.base import CompileContext, Result, strings
from mailbot.rules.facts import MessageView
from mailbot.rules.text import WordMatcher

PLACES = {"words": ("subject", "text"), "subject_words": ("subject",),
          "text_words": ("text",)}
PLACE_NAMES = {("subject", "text"): "the subject or the text", ("subject",): "the subject",
               ("text",): "the text"}


class Words:
    """Any of the listed words or phrases, accents and case folded, whole words."""

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        self.key = key
        self.places = PLACES[key]
        self.in_subject, self.in_text = "subject" in self.places, "text" in self.places
        self.matcher = WordMatcher(strings(value, "word or phrase"))
        self._miss = f"{key}: none of {self.matcher.shown()} in {PLACE_NAMES[self.places]}"

    def test(self, view: MessageView) -> Result:
        """Hit on the first listed entry found (subject first)."""
        find = self.matcher.find
        if self.in_subject:
            found = find(view.subject)
            if found is not None:
                return True, f"{self.key}: « {found} » in the subject"
        if self.in_text:
            found = find(view.text)
            if found is not None:
                return True, f"{self.key}: « {found} » in the text"
        return False, self._miss


def compile_regex(pattern: str) -> re.Pattern[str]:
    """*pattern* compiled case-insensitively, ``^``/``$`` at line ends; clear errors."""
    try:
        return re.compile(pattern, re.IGNORECASE | re.MULTILINE)
    except re.error as exc:
        raise ValueError(f"invalid regular expression /{pattern}/: {exc.msg}"
                         + (f" at position {exc.pos}" if exc.pos is not None else "")) from exc


# MessageView.lowered() is None for a text holding one of the four characters that
# Python's case-insensitive matching pairs with an ASCII letter although str.lower()
# does not give that letter (İ ı ſ and the Kelvin sign): then there is no shortcut.
_LITERAL = frozenset("abcdefghijklmnopqrstuvwxyz0123456789 -_:/@#%&=,;'\"<>!~")


def required_literals(pattern: str) -> tuple[str, ...] | None:
    """Lower-case texts one of which any match must contain, or None if unsure.

    Only for simple patterns (``SYNC-\\d+|erreur\\s+12``): top-level branches
    that each start with ASCII literal characters. It lets a miss skip the
    case-insensitive search, which is several times slower than ``in``.
    """
    if "(" in pattern or "[" in pattern or "\\|" in pattern or pattern.startswith("(?"):
        return None
    found = []
    for branch in pattern.split("|"):
        run = ""
        for char in branch.removeprefix("^").lower():
            if char not in _LITERAL:
                if char in "?*{":
                    run = run[:-1]  # the last character was optional
                break
            run += char
        if len(run) < 2:
            return None
        found.append(run)
    return tuple(found)


class Regex:
    """Any of the listed regular expressions found in the subject or the text."""

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        self.key = key
        self.place = key.removesuffix("_regex")
        self.patterns = tuple((compile_regex(p), required_literals(p))
                              for p in strings(value, "regular expression", strip=False))
        shown = ", ".join(f"/{p.pattern}/" for p, _ in self.patterns[:3])
        self._miss = f"{key}: {shown} not found in the {self.place}"

    def test(self, view: MessageView) -> Result:
        """Hit on the first pattern that matches, showing what it matched."""
        text = view.facts.subject if self.place == "subject" else view.facts.text
        lowered = view.lowered(self.place)
        for pattern, literals in self.patterns:
            if literals is not None and lowered is not None and not any(
                    literal in lowered for literal in literals):
                continue  # cannot match: skip the slow case-insensitive search
            match = pattern.search(text)
            if match is not None:
                seen = " ".join(match.group(0).split())[:40]
                return True, f"{self.key}: /{pattern.pattern}/ matched « {seen} »"
        return False, self._miss
