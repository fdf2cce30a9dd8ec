"""Scrub later messages of a report's ticket with hashed name forms, never the names.

A report's :meth:`~mailbot.reports.Report.name_digests` turns every name form
its scrubber knows into ``hex HMAC-SHA256(key, folded form) -> label``; that
table can be stored with the ticket. :func:`scrub_with_digests` then hashes
each run of up to :data:`~mailbot.reports.names.MAX_DIGEST_WORDS` words of a
later text the same way and replaces the longest run whose hash is known.
Without the key, the table tells nothing about the names.
"""

from __future__ import annotations

import unicodedata

from mailbot.reports.namefold import Word, runs, words
from mailbot.reports.names import MAX_DIGEST_WORDS, form_digest


def scrub_with_digests(text: str, digests: dict[str, str], key: bytes) -> str:
    """*text* with each known name replaced by its label, whole words, longest first.

    *digests* comes from :meth:`~mailbot.reports.Report.name_digests` with the
    same *key*. Matching is that of :meth:`~mailbot.reports.Report.scrub`
    (accents, case, apostrophes, hyphens and dots ignored). The text comes back
    NFC-normalised, like ``Report.scrub``.
    """
    if not digests or not text:
        return text
    text = unicodedata.normalize("NFC", text)
    found = words(text)
    joined = runs(text, found)
    out: list[str] = []
    position = index = 0
    while index < len(found):
        length, label = _longest_at(found, joined, index, digests, key)
        if not length:
            index += 1
            continue
        out.append(text[position:found[index].start])
        out.append(label)
        position = found[index + length - 1].end
        index += length
    out.append(text[position:])
    return "".join(out)


def _longest_at(found: list[Word], joined: list[int], index: int, digests: dict[str, str],
                key: bytes) -> tuple[int, str]:
    longest = min(joined[index], MAX_DIGEST_WORDS)
    for length in range(longest, 0, -1):
        form = tuple(word.folded for word in found[index:index + length])
        label = digests.get(form_digest(key, form))
        if label is not None:
            return length, label
    return 0, ""
