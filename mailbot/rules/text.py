"""French-aware word matching: accents and case folded, whole words, phrases.

Both the text and the words of a rule go through :func:`fold` and
:func:`tokens`, so « bloqué » matches ``bloque``, ``BLOQUÉ`` and ``Bloqué !``,
``e-carnet`` matches ``E carnet``, and ``l'appli`` matches ``l’appli``.
A phrase matches consecutive words. A trailing ``*`` on a word matches any
ending (``bloqu*`` : bloqué, bloquée, bloqués…); there is no other wildcard.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass

_WORD = re.compile(r"\w+")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_PATTERN = re.compile(r"\w+\*?")


def fold(text: str) -> str:
    """``Élève BLOQUÉ`` -> ``eleve bloque``: no accents, case folded, ligatures split."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def tokens(text: str) -> list[str]:
    """The folded words of *text* (letters and digits; punctuation separates)."""
    return _WORD.findall(fold(text))


@dataclass(frozen=True)
class FoldedText:
    """A text ready for matching: its words, and ``" w1 w2 … "`` for phrases."""

    words: frozenset[str]
    padded: str
    ordered: tuple[str, ...]  # the distinct words, sorted: prefix search by bisection

    @classmethod
    def of(cls, text: str) -> FoldedText:
        """Fold and split *text* once; every word condition then reads this."""
        found = tokens(text)
        words = frozenset(found)
        return cls(words, " " + " ".join(found) + " ", tuple(sorted(words)))

    def has_prefix(self, prefix: str) -> bool:
        """Whether a word starts with *prefix*."""
        i = bisect_left(self.ordered, prefix)
        return i < len(self.ordered) and self.ordered[i].startswith(prefix)


class WordMatcher:
    """Any of a list of words/phrases; reports which one was found.

    Built once at load: single words are a set lookup, ``word*`` a bisection
    in the sorted words, plain phrases a substring search of the padded text,
    phrases with a wildcard a compiled regex. Single words are tried first,
    then prefixes, phrases and wildcard phrases, each in the order written.
    A rule word with nothing to match (``"!!"``) or a misplaced ``*`` is a
    :class:`ValueError`.
    """

    def __init__(self, entries: list[str]) -> None:
        self.entries = tuple(entries)
        self._single: list[tuple[str, str]] = []
        self._prefixes: list[tuple[str, str]] = []
        self._phrases: list[tuple[str, str]] = []
        self._wild: list[tuple[re.Pattern[str], str]] = []
        for entry in entries:
            self._add(entry)
        self._single_set = frozenset(word for word, _ in self._single)

    def _add(self, entry: str) -> None:
        folded = fold(entry)
        parts = _PATTERN.findall(folded)
        if not parts:
            raise ValueError(f"no word to look for in {entry!r}")
        if folded.count("*") != sum(p.endswith("*") for p in parts) or re.search(
                r"\*\w", folded):
            raise ValueError(f"{entry!r}: '*' is allowed only at the end of a word")
        if len(parts) == 1 and parts[0].endswith("*"):
            self._prefixes.append((parts[0][:-1], entry))
        elif any(p.endswith("*") for p in parts):
            body = " ".join(re.escape(p[:-1]) + r"\w*" if p.endswith("*") else re.escape(p)
                            for p in parts)
            self._wild.append((re.compile(f" {body} "), entry))
        elif len(parts) == 1:
            self._single.append((parts[0], entry))
        else:
            self._phrases.append((f" {' '.join(parts)} ", entry))

    def find(self, text: FoldedText) -> str | None:
        """The first entry found in *text* (as the rule wrote it), or None."""
        if self._single_set and not self._single_set.isdisjoint(text.words):
            return next(entry for word, entry in self._single if word in text.words)
        for prefix, entry in self._prefixes:
            if text.has_prefix(prefix):
                return entry
        for phrase, entry in self._phrases:
            if phrase in text.padded:
                return entry
        for pattern, entry in self._wild:
            if pattern.search(text.padded):
                return entry
        return None

    def shown(self, limit: int = 4) -> str:
        """``« a », « b », « c » (+2)``, for traces."""
        head = ", ".join(f"« {e} »" for e in self.entries[:limit])
        extra = len(self.entries) - limit
        return head + (f" (+{extra})" if extra > 0 else "")
