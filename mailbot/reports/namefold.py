"""How names and text are compared: folded words, and the forms one name is known by.

A word is a run of letters and digits (``_``, apostrophes, hyphens, dots and
spaces separate words). Words are *folded* (NFKD, accents removed, casefolded),
so ``Zoé LEFÈVRE``, ``Zoe Lefevre`` and ``zoé lefèvre`` read the same, and so do
``N'Guessan``, ``N’Guessan``, ``N Guessan`` and, glued, ``NGuessan``.

The forms of one name (:func:`name_forms`) are: the name whole; glued across
apostrophes, hyphens and dots (``nguessan``); without its leading particles
(``de La Fontaine`` -> ``la fontaine``, ``fontaine``); and each part of at least
:data:`MIN_PART` letters of a compound name (``Dupont-Lagarde`` -> ``dupont``,
``lagarde``). A particle (:data:`PARTICLES`) is never a form on its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

Form = tuple[str, ...]

PARTICLES = frozenset({"de", "du", "des", "la", "le", "d", "l", "van", "von", "da", "di"})
MIN_NAME = 2  # letters for a whole name to stand alone (``Bo``)
MIN_PART = 3  # letters for one part of a compound name to stand alone
MAX_GAP = 6  # characters allowed between two words of one name
_WORD = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
# What may stand between two words of one name: spaces, line breaks, apostrophes,
# hyphens and dots (``Léa\n  Martin``, ``N’Diaye``, ``Dupont - Lagarde``).
_GAP = re.compile(r"[\s'’ʼ‘`´\-‐‑‒–.]*")
_SPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class Word:
    """One word of a text: its folded form and where it stands (``start``/``end``)."""

    folded: str
    start: int
    end: int


def fold_word(word: str) -> str:
    """``Lefèvre`` -> ``lefevre``; ``Straße`` -> ``strasse``."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[Word]:
    """The words of *text* (already NFC-normalised), folded, with their positions."""
    return [Word(fold_word(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


def joinable(text: str, before: Word, after: Word) -> bool:
    """True when *before* and *after* may be two words of one name in *text*."""
    gap_end = after.start
    return gap_end - before.end <= MAX_GAP and \
        _GAP.fullmatch(text, before.end, gap_end) is not None


def runs(text: str, found: list[Word]) -> list[int]:
    """For each word, how many words (itself included) follow it joinably, capped at 64."""
    lengths = [1] * len(found)
    for index in range(len(found) - 2, -1, -1):
        if joinable(text, found[index], found[index + 1]):
            lengths[index] = min(lengths[index + 1] + 1, 64)
    return lengths


def _letters(form: Form) -> int:
    return sum(len(word) for word in form)


def _without_particles(form: Form) -> Iterator[Form]:
    while len(form) > 1 and form[0] in PARTICLES:
        form = form[1:]
        yield form


def name_variants(name: str) -> tuple[list[Form], list[Form], list[Form]]:
    """The forms of one name: ``(combined, alone, parts)``.

    *combined*: the name, glued, without leading particles, to join with the
    other name (``first last``); *alone*: those of them that may stand alone
    (not only particles, at least :data:`MIN_NAME` letters); *parts*: the words
    of a compound name that may stand alone too.
    """
    text = unicodedata.normalize("NFC", name)
    matches = list(_WORD.finditer(text))
    full: Form = tuple(fold_word(m.group()) for m in matches)
    if not full:
        return [], [], []
    glued: list[str] = [full[0]]
    for index in range(1, len(matches)):
        if _SPACE.search(text, matches[index - 1].end(), matches[index].start()):
            glued.append(full[index])
        else:  # N'Guessan, Dupont-Lagarde: also read glued (nguessan)
            glued[-1] += full[index]
    candidates = [full, tuple(glued)]
    for form in list(candidates):
        candidates.extend(_without_particles(form))
    combined = list(dict.fromkeys(candidates))
    alone = [form for form in combined if _letters(form) >= MIN_NAME
             and not all(word in PARTICLES for word in form)]
    parts = [(word,) for word in dict.fromkeys((*full, *glued))
             if len(full) > 1 and len(word) >= MIN_PART and word not in PARTICLES
             and (word,) not in alone]
    return combined, alone, parts


def name_forms(first: str, last: str) -> list[Form]:
    """Every form a student called *first* *last* is registered under (see module doc)."""
    first_combined, first_alone, first_parts = name_variants(first)
    last_combined, last_alone, last_parts = name_variants(last)
    forms: list[Form] = [*first_alone, *last_alone, *first_parts, *last_parts]
    for given in first_combined:
        for family in last_combined:
            forms += [given + family, family + given]
    return list(dict.fromkeys(forms))


def word_forms(cells: tuple[str, ...]) -> list[Form]:
    """The forms of loose name cells from an unreadable row: each cell and its parts."""
    forms: list[Form] = []
    for cell in cells:
        _, alone, parts = name_variants(cell)
        forms += alone + parts
    return list(dict.fromkeys(forms))
