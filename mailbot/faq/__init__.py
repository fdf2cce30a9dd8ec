"""The FAQ knowledge base: Markdown articles in ``rules/faq/`` and suggestions for a mail.

::

    kb = KnowledgeBase.load(default_faq_dir())
    for s in kb.suggest(mail_text, app_version="2.2.4"):
        print(s.article.title, s.score, s.excerpt)

Ranking is BM25 (:mod:`mailbot.faq.index`) on French-stemmed, accent-folded
terms (:mod:`mailbot.faq.text`), title and keywords weighted above the body.
An article's confidence (0..1) is its score divided by the most the question
could score (:meth:`Index.reach`), so a question about the canteen whose one
word « fermée » appears in an article stays low; then penalties: a question
naming another system or subject (« ENT », « Pronote », « devis », « facture »), an
article whose ``app_versions`` excludes the asker's version, and an article
in another language when the base has articles in the asker's language.
Only suggestions at or above the threshold are returned: no suggestion beats
a wrong one. The threshold was tuned with ``benchmarks/faq_quality.py`` on
half of its questions (see docs/faq.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import mailbot
from mailbot.faq.drafts import draft_article
from mailbot.faq.frontmatter import check_directory
from mailbot.faq.index import Index
from mailbot.faq.lexicon import FOREIGN_PENALTY
from mailbot.faq.model import Article, FaqError, Suggestion
from mailbot.faq.text import clean_mail, excerpt
from mailbot.faq.versions import VersionSpec, parse_version
from mailbot.lang import detect_language

__all__ = ["DEFAULT_THRESHOLD", "Article", "FaqError", "KnowledgeBase", "Suggestion",
           "check_directory", "default_faq_dir", "draft_article", "excerpt"]

DEFAULT_THRESHOLD = 0.4
"""Chosen on the tune half of benchmarks/faq_questions.tsv (see docs/faq.md)."""
MAX_QUESTION_CHARS = 20_000
"""Only the start of a huge mail is analysed."""
VERSION_PENALTY = 0.3
"""Factor for an article whose ``app_versions`` excludes the asker's version."""
UNKNOWN_VERSION_PENALTY = 0.9
"""Factor for a version-restricted article when the asker's version is unknown:
it applies to fewer users than a general article on the same subject."""
MAX_FOREIGN = 2
"""At most this many words of another system (ENT, Pronote, devis…) lower the confidence,
each by :data:`mailbot.faq.lexicon.FOREIGN_PENALTY`."""
LANGUAGE_PENALTY = 0.8
"""Factor for an article in another language than the asker's, when the base has
articles in the asker's language (otherwise nothing is penalised)."""


def default_faq_dir() -> Path:
    """``rules/faq`` of the checkout, else the copy packaged in the wheel (``_rules/faq``).

    Returns the checkout path when neither exists, so the error names it.
    """
    package = Path(mailbot.__file__).resolve().parent
    checkout = package.parent / "rules" / "faq"
    for candidate in (checkout, package / "_rules" / "faq"):
        if candidate.is_dir():
            return candidate
    return checkout


class KnowledgeBase:
    """Published articles of one folder, indexed for :meth:`suggest`."""

    def __init__(self, articles: Sequence[Article], *,
                 threshold: float = DEFAULT_THRESHOLD) -> None:
        self.articles: tuple[Article, ...] = tuple(articles)
        self.threshold = threshold
        self._by_id = {a.id: a for a in self.articles}
        self._specs = {a.id: VersionSpec.parse(a.app_versions)
                       for a in self.articles if a.app_versions}
        self._languages = {a.lang for a in self.articles}
        self._excerpts = {a.id: excerpt(a.body) for a in self.articles}
        self._index = Index(self.articles)

    @classmethod
    def load(cls, directory: Path, *, threshold: float = DEFAULT_THRESHOLD) -> KnowledgeBase:
        """Articles of ``directory/*.md`` (not ``drafts/``, not ``status: draft``).

        Raises :class:`FaqError` (``file:line: message``) for the first bad article.
        """
        articles, errors = check_directory(Path(directory))
        if errors:
            raise errors[0]
        return cls(articles, threshold=threshold)

    def article(self, article_id: str) -> Article | None:
        """The article with this id (file stem), if published here."""
        return self._by_id.get(article_id)

    def scored(self, text: str, *, app_version: str | None = None,
               language: str | None = None) -> list[Suggestion]:
        """Every article with a non-zero confidence, best first, threshold ignored.

        For :meth:`suggest` and for tuning the threshold (benchmarks/faq_quality.py).
        """
        cleaned = clean_mail(text)[:MAX_QUESTION_CHARS]
        lang = language or detect_language(cleaned)
        version = parse_version(app_version)
        query = self._index.query(cleaned)
        reach = self._index.reach(query)
        raw = self._index.scores(query)
        foreign = FOREIGN_PENALTY ** min(query.foreign, MAX_FOREIGN)
        result = []
        for article, score in zip(self.articles, raw, strict=True):
            if score <= 0:
                continue
            # penalties apply to the confidence, so a match stronger than the reach
            # (phrases, many words) cannot outgrow them
            score = min(score / reach, 1.0)
            spec = self._specs.get(article.id)
            if spec is not None and version is None:
                score *= UNKNOWN_VERSION_PENALTY
            elif spec is not None and version is not None and not spec.contains(version):
                score *= VERSION_PENALTY
            if article.lang != lang and lang in self._languages:
                score *= LANGUAGE_PENALTY
            score *= foreign
            result.append(Suggestion(article, round(score, 3),
                                     self._excerpts[article.id]))
        result.sort(key=lambda s: (-s.score, s.article.id))
        return result

    def suggest(self, text: str, *, app_version: str | None = None,
                language: str | None = None, limit: int = 3) -> list[Suggestion]:
        """Up to *limit* articles for the question *text*, best first; ``[]`` when unsure.

        *app_version* (« 2.2.4 », « 2.2.4 (build 2240) ») ranks articles meant for
        other versions lower; *language* (``fr``/``en``, detected when omitted)
        prefers articles in that language. Quoted lines and signatures are ignored.
        """
        scored = self.scored(text, app_version=app_version, language=language)
        return [s for s in scored if s.score >= self.threshold][:limit]
