"""What a requester's short answer means: a satisfaction rating, or « ça marche ».

Pure text functions: no database. :mod:`mailbot.lifecycle` decides what to do
with the answer depending on the ticket's status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.rules.text import tokens

MAX_CONFIRMATION_WORDS = 30  # a long answer is a new question, not a « merci »

# Answers that say the proposed solution worked (folded: lower case, no accents).
CONFIRMATIONS = (
    "ca marche", "ca fonctionne", "ca a marche", "ca a fonctionne", "c est bon",
    "c est regle", "c est resolu", "probleme regle", "probleme resolu", "c est parfait",
    "tout est rentre dans l ordre", "tout fonctionne", "tout marche", "cela fonctionne",
    "cela marche", "ca remarche", "ca refonctionne", "c est ok", "it works", "it worked",
    "works now", "working now", "that worked", "that did it", "solved", "fixed", "all good",
    "problem solved", "issue resolved", "resolved",
)
# Words that turn a confirmation into its opposite (« ça ne marche pas », « still »).
NEGATIONS = frozenset("ne n pas plus toujours encore jamais mais sauf rien not no still "
                      "doesn t don didn isn but except never".split())

_RATING = re.compile(
    r"^(?P<label>(?:note|rating|score|[ée]valuation)\s*:?\s*)?(?P<score>[1-5])(?!\d)(?![.,]\d)"
    r"(?P<scale>\s*(?:/|sur|out of)\s*5)?(?P<unit>\s*(?:[ée]toiles?|stars?))?(?P<rest>.*)$",
    re.IGNORECASE)
_SPACED_DASH = re.compile(r"^\s+[-–—]\s+")
_PUNCTUATION_ONLY = re.compile(r"^[\s.!]*$")
_AFTER_QUALIFIED = re.compile(r"^\s*[,;:.!–—-]\s*")
_COMMENT_LABEL = re.compile(r"^(?:commentaire|comment)\s*(?:\((?:facultatif|optional)\))?"
                            r"\s*:?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class RatingAnswer:
    """A rating from 1 to 5 and the comment that came with it (may be empty)."""

    score: int
    comment: str


def fold(text: str) -> str:
    """*text* as its folded words (no accents, lower case) joined by single spaces."""
    return " ".join(tokens(text))


def rating_of(text: str, subject: str = "") -> RatingAnswer | None:
    """The rating in an answer that starts with a number from 1 to 5, else None.

    « 5 », « 4/5 », « Note : 3 », « 5 étoiles, merci ! », « 4 - très bien » are
    ratings; what follows is the comment (also on the next lines). A number
    that starts a sentence or a list (« 1. J'ai mis à jour ») is not. An empty
    body falls back to the subject (the mailto link of the rating request
    pre-fills both).
    """
    candidate = text.strip() or _after_ticket_ref(subject)
    first, _, rest = candidate.partition("\n")
    match = _RATING.match(first.strip())
    if match is None:
        return None
    tail = match.group("rest")
    qualified = any(match.group(g) for g in ("label", "scale", "unit"))
    # « 1. J'ai mis à jour », « 5-6 fois par jour » are sentences, not ratings: text
    # may follow a bare number only after a spaced dash (« 5 - très bien »).
    if _PUNCTUATION_ONLY.match(tail):
        comment = ""
    elif dash := _SPACED_DASH.match(tail):
        comment = tail[dash.end():]
    elif qualified and (sep := _AFTER_QUALIFIED.match(tail)):
        comment = tail[sep.end():]
    else:
        return None
    comment = "\n".join(part for part in (comment.strip(), rest.strip()) if part)
    return RatingAnswer(int(match.group("score")), _COMMENT_LABEL.sub("", comment).strip())


def _after_ticket_ref(subject: str) -> str:
    tail = subject.rpartition("]")[2] if "]" in subject else subject
    return re.sub(r"^\s*(?:re|tr|fwd?)\s*:\s*", "", tail, flags=re.IGNORECASE).strip()


THANKS = ("merci", "thanks", "thank you", "thx", "parfait", "super", "genial")
MAX_THANKS_WORDS = 15


def is_thanks(text: str) -> bool:
    """Whether a short answer only says thank you (« Merci beaucoup ! », « Thanks, 5/5 »):
    no question, no negation."""
    folded = fold(text)
    words = folded.split()
    if not words or len(words) > MAX_THANKS_WORDS or "?" in text or NEGATIONS & set(words):
        return False
    padded = f" {folded} "
    return any(f" {word} " in padded for word in THANKS)


def is_confirmation(text: str) -> bool:
    """Whether a short answer says the solution worked (« ça marche, merci »).

    Any negation word makes it not one: « ça ne marche pas », « still broken ».
    """
    folded = fold(text)
    words = folded.split()
    if not words or len(words) > MAX_CONFIRMATION_WORDS or NEGATIONS & set(words):
        return False
    padded = f" {folded} "
    return any(f" {phrase} " in padded for phrase in CONFIRMATIONS)
