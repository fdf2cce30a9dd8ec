"""Student names -> pseudonyms in free text, with the names held only in memory.

A 5,000-student list gives ~20,000 name forms; one alternation regex of them
takes ~0.4 s to compile, so the forms live in a private lookup table instead and
the text is scanned word by word (``\\w+`` runs, longest form first). The match
semantics are those of ``(?<!\\w)NAME(?!\\w)`` with ``re.IGNORECASE``: whole words,
any case, accents significant, any run of spaces or a line break between words.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "‐": "-", "‑": "-", "–": "-"})
_MAX_GAP = 6  # characters allowed between two words of one name
MAX_SHOWN = 3


def _gap_key(gap: str) -> str:
    core = "".join(gap.split()).translate(_APOSTROPHES)
    return core or " "


def _form_key(form: str) -> tuple[str, ...]:
    text = unicodedata.normalize("NFC", form)
    words = list(_WORD.finditer(text))
    key: list[str] = []
    for index, word in enumerate(words):
        if index:
            key.append(_gap_key(text[words[index - 1].end():word.start()]))
        key.append(word.group().casefold())
    return tuple(key)


class Scrubber:
    """Replace student first names, last names and full names with ``[pseudonym]``.

    ``repr()`` shows only how many forms are known, never the names.
    """

    __slots__ = ("_keys", "_prefixes", "_table")

    def __init__(self) -> None:
        self._table: dict[tuple[str, ...], set[str]] = {}
        self._prefixes: set[tuple[str, ...]] = set()
        self._keys: dict[str, tuple[tuple[str, ...], bool]] = {}

    def __repr__(self) -> str:
        return f"Scrubber({len(self._table)} formes)"

    def __len__(self) -> int:
        return len(self._table)

    def add(self, first: str, last: str, pseudonym: str) -> None:
        """Register *first*, *last*, ``first last`` and ``last first`` for *pseudonym*.

        A first or last name with fewer than two letters is not registered alone.
        """
        (first_key, first_ok), (last_key, last_ok) = self._key(first), self._key(last)
        forms = [key for key, ok in ((first_key, first_ok), (last_key, last_ok)) if ok]
        if first_key and last_key:
            forms += [(*first_key, " ", *last_key), (*last_key, " ", *first_key)]
        for key in forms:
            self._table.setdefault(key, set()).add(pseudonym)
            for end in range(1, len(key)):
                self._prefixes.add(key[:end])

    def _key(self, name: str) -> tuple[tuple[str, ...], bool]:
        """The lookup key of one name and whether it is long enough to stand alone.

        Cached: a school repeats its first names.
        """
        if name not in self._keys:
            key = _form_key(name)
            self._keys[name] = (key, bool(key) and sum(c.isalpha() for c in name) >= 2)
        return self._keys[name]

    def scrub(self, text: str) -> str:
        """*text* (NFC-normalised) with every known name replaced by its pseudonym.

        A form shared by several students (two ``Léa``) becomes ``[ELV-A|ELV-B]``.
        """
        if not self._table or not text:
            return text
        text = unicodedata.normalize("NFC", text)
        words = list(_WORD.finditer(text))
        out: list[str] = []
        position = index = 0
        while index < len(words):
            length, pseudonyms = self._longest_at(text, words, index)
            if not length:
                index += 1
                continue
            out.append(text[position:words[index].start()])
            out.append(_label(pseudonyms))
            position = words[index + length - 1].end()
            index += length
        out.append(text[position:])
        return "".join(out)

    def _longest_at(self, text: str, words: list[re.Match[str]],
                    index: int) -> tuple[int, set[str]]:
        key: list[str] = []
        best: tuple[int, set[str]] = (0, set())
        for offset in range(len(words) - index):
            word = words[index + offset]
            if offset:
                gap = text[words[index + offset - 1].end():word.start()]
                if len(gap) > _MAX_GAP:
                    break
                key.append(_gap_key(gap))
            key.append(word.group().casefold())
            candidate = tuple(key)
            if candidate in self._table:
                best = (offset + 1, self._table[candidate])
            if candidate not in self._prefixes:
                break
        return best


def _label(pseudonyms: set[str]) -> str:
    shown = sorted(pseudonyms)
    more = "|…" if len(shown) > MAX_SHOWN else ""
    return "[" + "|".join(shown[:MAX_SHOWN]) + more + "]"
