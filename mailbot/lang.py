"""Which language to answer in: French unless the sender clearly wrote English.

A stop-word count is enough for a two-way choice on a help-desk mail and
needs no model download; the word lists are data, below.
"""

from __future__ import annotations

import re

_WORDS = re.compile(r"[a-zàâäçéèêëîïôöùûüÿœ']+")
STOP_WORDS: dict[str, frozenset[str]] = {
    "fr": frozenset(
        "le la les un une des du de et est je j' nous vous il elle ne pas que qui pour dans "
        "sur avec mon ma mes ce cette bonjour merci cordialement depuis mais ou où au aux "
        "plus très sont ont avons avez suis été problème".split()
    ),
    "en": frozenset(
        "the a an and is are i we you he she it not that which for in on with my our this "
        "hello hi thanks thank regards since but or to of have has been was problem please "
        "can cannot does don't".split()
    ),
}


def detect_language(text: str, default: str = "fr") -> str:
    """Return ``"fr"`` or ``"en"`` for *text*; *default* when there is no clear lead.

    English wins only with a clear majority of English stop words, since most
    of our users write French and a French answer to a short ambiguous mail is
    the safer mistake.
    """
    words = _WORDS.findall(text.lower())
    scores = {lang: sum(w in stop for w in words) for lang, stop in STOP_WORDS.items()}
    if scores["en"] >= 3 and scores["en"] > 2 * scores["fr"]:
        return "en"
    if scores["fr"] >= 1 and scores["fr"] >= scores["en"]:
        return "fr"
    return default
