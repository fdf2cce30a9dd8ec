"""Student names -> pseudonyms in free text, with the names held only in memory.

A 5,000-student list gives ~20,000 name forms; one alternation regex of them
takes ~0.4 s to compile, so the forms live in a private lookup table instead and
the text is scanned word by word, longest form first. Matching is on folded
words (:mod:`mailbot.reports.namefold`): whole words, any case, accents,
apostrophes, hyphens and dots ignored, any run of spaces or a line break
between the words of a name.

:meth:`Scrubber.digests` gives the same table as keyed hashes, for scrubbing
later messages without keeping a name (:mod:`mailbot.reports.digests`).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from mailbot.reports.namefold import Form, Word, joinable, name_forms, word_forms, words

MAX_SHOWN = 3
MAX_DIGEST_WORDS = 8  # longest form kept as a digest (see digests.scrub_with_digests)


def form_digest(key: bytes, form: Form) -> str:
    """Hex HMAC-SHA256 under *key* of a folded form (its words joined by one space)."""
    return hmac.digest(key, " ".join(form).encode("utf-8"), hashlib.sha256).hex()


class Scrubber:
    """Replace student first names, last names and full names with ``[pseudonym]``.

    ``repr()`` shows only how many forms are known, never the names.
    """

    __slots__ = ("_forms", "_prefixes", "_table")

    def __init__(self) -> None:
        self._table: dict[Form, set[str]] = {}
        self._prefixes: set[Form] = set()
        self._forms: dict[tuple[str, str], list[Form]] = {}

    def __repr__(self) -> str:
        return f"Scrubber({len(self._table)} formes)"

    def __len__(self) -> int:
        return len(self._table)

    def add(self, first: str, last: str, pseudonym: str) -> None:
        """Register the forms of *first* and *last* (alone, ``first last``, ``last first``,
        glued, without particles, compound parts) for *pseudonym*.

        A first or last name with fewer than two letters, or made only of
        particles, is not registered alone. Cached: a school repeats its names.
        """
        forms = self._forms.get((first, last))
        if forms is None:
            forms = self._forms[(first, last)] = name_forms(first, last)
        self._register(forms, pseudonym)

    def add_words(self, cells: tuple[str, ...], pseudonym: str) -> None:
        """Register loose name cells (from a row that could not be read) for *pseudonym*."""
        self._register(word_forms(cells), pseudonym)

    def _register(self, forms: list[Form], pseudonym: str) -> None:
        for key in forms:
            self._table.setdefault(key, set()).add(pseudonym)
            for end in range(1, len(key)):
                self._prefixes.add(key[:end])

    def scrub(self, text: str) -> str:
        """*text* (NFC-normalised) with every known name replaced by its pseudonym.

        A form shared by several students (two ``Léa``) becomes ``[ELV-A|ELV-B]``.
        """
        if not self._table or not text:
            return text
        text = unicodedata.normalize("NFC", text)
        found = words(text)
        out: list[str] = []
        position = index = 0
        while index < len(found):
            length, pseudonyms = self._longest_at(text, found, index)
            if not length:
                index += 1
                continue
            out.append(text[position:found[index].start])
            out.append(label(pseudonyms))
            position = found[index + length - 1].end
            index += length
        out.append(text[position:])
        return "".join(out)

    def _longest_at(self, text: str, found: list[Word], index: int) -> tuple[int, set[str]]:
        key: list[str] = []
        best: tuple[int, set[str]] = (0, set())
        for offset in range(len(found) - index):
            word = found[index + offset]
            if offset and not joinable(text, found[index + offset - 1], word):
                break
            key.append(word.folded)
            candidate = tuple(key)
            if candidate in self._table:
                best = (offset + 1, self._table[candidate])
            if candidate not in self._prefixes:
                break
        return best

    def digests(self, key: bytes) -> dict[str, str]:
        """``{hex HMAC-SHA256(key, form): label}`` for every form of at most
        :data:`MAX_DIGEST_WORDS` words; the label is what :meth:`scrub` writes."""
        return {form_digest(key, form): label(pseudonyms)
                for form, pseudonyms in self._table.items() if len(form) <= MAX_DIGEST_WORDS}


def label(pseudonyms: set[str]) -> str:
    """``[ELV-A]``, ``[ELV-A|ELV-B]``, or the first three and ``|…`` for more."""
    shown = sorted(pseudonyms)
    more = "|…" if len(shown) > MAX_SHOWN else ""
    return "[" + "|".join(shown[:MAX_SHOWN]) + more + "]"
