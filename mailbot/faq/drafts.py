"""Draft articles from resolved tickets, written to ``rules/faq/drafts/`` for review.

A draft is a normal article with ``status: draft``: ``KnowledgeBase.load``
never reads ``drafts/`` and skips ``status: draft`` anywhere, so nothing
reaches users before a person has rewritten it, removed any student name,
dropped the status line and moved the file up into ``rules/faq/``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from mailbot.faq.lexicon import STOP_WORDS
from mailbot.faq.text import fold, stem

MAX_KEYWORDS = 6
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|tr|fw|fwd|aw|wg|réf|ref)\s*:|\[[^\]]*\]|demande d['’]assistance\s*:)\s*",
    re.IGNORECASE)
_LETTERS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
HEADINGS = {"fr": ("Question", "Réponse"), "en": ("Question", "Answer")}
NOTE = {
    "fr": "<!-- Brouillon tiré d'un ticket résolu : reformuler, retirer tout nom d'élève, "
          "supprimer la ligne status puis déplacer dans rules/faq/. -->",
    "en": "<!-- Draft from a resolved ticket: rewrite, remove any student name, delete the "
          "status line, then move it up into rules/faq/. -->",
}


def clean_subject(subject: str) -> str:
    """*subject* without ``Re:``/``TR:``/``[tags]`` prefixes, first letter upper-cased."""
    previous = None
    subject = subject.strip()
    while previous != subject:
        previous, subject = subject, _SUBJECT_PREFIX.sub("", subject).strip()
    return subject[:1].upper() + subject[1:]


def slug(text: str, max_length: int = 60) -> str:
    """``synchronisation-bloquee-a-45`` for « Synchronisation bloquée à 45 % »."""
    words = re.findall(r"[a-z0-9]+", fold(text))
    result = ""
    for word in words:
        candidate = f"{result}-{word}" if result else word
        if len(candidate) > max_length:
            break
        result = candidate
    return result or "article"


PHRASES = {  # folded pattern -> keyword as written in articles
    r"\bmots? de passe\b": "mot de passe",
    r"\b(?:mise|mises|mettre) a jour\b": "mise à jour",
    r"\bhors[- ]ligne\b": "hors ligne",
    r"\bdroits? a l'image\b": "droit à l'image",
}


def guess_keywords(text: str, limit: int = MAX_KEYWORDS) -> list[str]:
    """Set phrases of *text* (« mot de passe »), then its most frequent meaningful
    words, one per stem, as written (accents kept)."""
    found: list[str] = []
    for pattern, phrase in PHRASES.items():
        if re.search(pattern, fold(text)):
            found.append(phrase)
    counts: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    order: dict[str, int] = {}
    phrase_words = {w for phrase in found for w in fold(phrase).split()}
    for raw in _LETTERS.findall(text.lower()):
        word = re.sub(r"^(?:[cdjlmnst]|qu)['’]", "", raw)
        folded = fold(word)
        if (len(folded) < 3 or folded in STOP_WORDS or folded in phrase_words
                or not folded.isalpha()):
            continue
        term = stem(folded)
        counts[term] += 1
        spelling.setdefault(term, word)
        order.setdefault(term, len(order))
    ranked = sorted(counts, key=lambda t: (-counts[t], order[t]))
    return (found + [spelling[t] for t in ranked])[:limit]


def _write_new(folder: Path, stem_name: str, text: str) -> Path:
    """Create ``<stem>.md`` (or ``<stem>-2.md``…) atomically, never replacing a file."""
    number = 1
    while True:
        path = folder / (f"{stem_name}.md" if number == 1 else f"{stem_name}-{number}.md")
        try:
            with path.open("x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError:
            number += 1
            continue
        return path


def draft_article(ticket_subject: str, question: str, answer: str, directory: Path,
                  lang: str = "fr") -> Path:
    """Write ``directory/drafts/<stem>.md`` from a resolved ticket and return its path.

    Title from the subject (prefixes removed), keywords guessed from the
    question, body = the question and the answer under two headings. An
    existing draft is never overwritten: ``-2``, ``-3``… are appended.
    """
    lang = lang if lang in HEADINGS else "fr"
    title = clean_subject(ticket_subject) or ("Article sans titre" if lang == "fr"
                                              else "Untitled article")
    keywords = guess_keywords(question) or guess_keywords(title) or ["brouillon"]
    folder = Path(directory) / "drafts"
    folder.mkdir(parents=True, exist_ok=True)
    asked, answered = HEADINGS[lang]
    text = (
        "---\n"
        f"title: {json.dumps(title, ensure_ascii=False)}\n"
        f"keywords: [{', '.join(json.dumps(k, ensure_ascii=False) for k in keywords)}]\n"
        f"lang: {lang}\n"
        "status: draft\n"
        "---\n"
        f"{NOTE[lang]}\n\n"
        f"## {asked}\n\n{question.strip()}\n\n"
        f"## {answered}\n\n{answer.strip()}\n"
    )
    return _write_new(folder, slug(title), text)
