"""Tracking numbers and how a message finds its ticket.

A tracking number is ``ECN-`` followed by six Crockford base32 characters
(``ECN-4F7K2Q``): no I, L, O or U, so it survives being read aloud or typed
from a screenshot. In subjects it appears as ``[#ECN-4F7K2Q]``.

Matching order (see :func:`find_ticket_ref`'s callers in :mod:`mailbot.intake`):
``In-Reply-To``/``References`` against Message-IDs we sent or received, then
the tracking number in the subject.
"""

from __future__ import annotations

import re
import secrets

REF_PREFIX = "ECN-"
CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_LENGTH = 6

# Crockford decoding is forgiving: O reads as 0, I and L read as 1.
_CROCKFORD_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_REF_IN_TEXT = re.compile(
    rf"(?<![A-Z0-9])ECN-([0-9A-Z]{{{REF_LENGTH}}})(?![A-Z0-9])", re.IGNORECASE
)


def new_ticket_ref() -> str:
    """Return a fresh random tracking number such as ``ECN-4F7K2Q``.

    30 bits of randomness; the caller checks uniqueness against the database.
    """
    return REF_PREFIX + "".join(secrets.choice(CROCKFORD_ALPHABET) for _ in range(REF_LENGTH))


def normalise_ref(code: str) -> str | None:
    """Canonical ``ECN-XXXXXX`` for a six-character code, or None if invalid."""
    canonical = code.upper().translate(_CROCKFORD_ALIASES)
    if len(canonical) != REF_LENGTH or any(c not in CROCKFORD_ALPHABET for c in canonical):
        return None
    return REF_PREFIX + canonical


def find_ticket_ref(subject: str) -> str | None:
    """The first valid tracking number in *subject*, normalised, or None.

    Accepts ``[#ECN-4F7K2Q]`` as we write it and the bare ``ECN-4F7K2Q`` a
    person may type, in any case.
    """
    for match in _REF_IN_TEXT.finditer(subject or ""):
        ref = normalise_ref(match.group(1))
        if ref:
            return ref
    return None


def tag_subject(subject: str, ticket_ref: str) -> str:
    """*subject* with ``[#REF]`` in front, unless it already carries that ref."""
    if find_ticket_ref(subject) == ticket_ref:
        return subject
    return f"[#{ticket_ref}] {subject}".strip()
