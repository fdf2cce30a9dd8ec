"""BM25 over the articles, with the title and keywords weighted above the body,
and a query analysis that forgives what users type.

Each article is one bag of index terms (:func:`mailbot.faq.text.stem`) in
which a title or keyword occurrence counts :data:`TITLE_WEIGHT` /
:data:`KEYWORD_WEIGHT` times, a body occurrence once (the repeated-field
form of BM25F). A question word finds its term, in order of preference:

1. the glossary (:data:`mailbot.faq.lexicon.SYNONYMS`: ``mdp``, ``password``…);
2. its own stem;
3. its English stem, when that is a vocabulary word (``crashing`` -> ``crash``);
4. its stem without a glued elision (``jarrive``, ``lexport``);
5. a vocabulary word it begins (``synchro`` -> ``synchronisation``), from 5 letters;
6. a vocabulary word within one edit (two from 8 letters; a swap of two
   neighbours is one edit) — typos such as ``conection``, ``synchonisation``.

Steps 5 and 6 count for :data:`FUZZY_WEIGHT` of an exact match, the words of
every help-desk mail (« classe », « élève », « tablette »:
:data:`mailbot.faq.lexicon.DOMAIN_WORDS`) for half, and a word counts once
however often the mail repeats it.

:meth:`Index.reach` is what a perfect article would score for the question:
each matched term at full strength, plus :data:`UNKNOWN_WEIGHT` rare words
for every word no article knows (« cantine », « facture »: a sign the mail is about
something else; so is every word naming another system, « ENT », « Pronote »,
« devis »: :data:`mailbot.faq.lexicon.FOREIGN_WORDS`). It is capped at
:data:`REACH_CAP` so that a long mail is not penalised for its greeting, its
signature and its story.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from mailbot.faq.lexicon import (
    DOMAIN_WEIGHT,
    DOMAIN_WORDS,
    FOREIGN_WORDS,
    STOP_WORDS,
    SYNONYMS,
)
from mailbot.faq.model import Article
from mailbot.faq.text import content_words, english_stem, stem, words

TITLE_WEIGHT = 3  # a title word counts as three body words
KEYWORD_WEIGHT = 3
PHRASE_WEIGHT = 1.0  # two neighbouring words forming a title or keyword phrase
FUZZY_WEIGHT = 0.6  # a prefix or typo match, against an exact one
BODY_DF_WEIGHT = 0.25  # for idf, a body-only mention is a quarter of a topic
# reach(), in units of what one rare word (a term of a single article) can score:
UNKNOWN_WEIGHT = 1.2  # a question word that no article knows
REACH_CAP = 2.7  # beyond about three rare words, a longer mail does not raise the bar
K1 = 1.2  # BM25 term-frequency saturation
B = 0.75  # BM25 length normalisation
_DOMAIN_TERMS = frozenset(stem(w) for w in DOMAIN_WORDS)
_ELIDED = ("qu", "c", "d", "j", "l", "m", "n", "s", "t")


def _pairs(terms: Sequence[str]) -> set[str]:
    """Phrase terms of neighbouring index terms (stop words skipped), in either order."""
    return {"+".join(sorted(p)) for p in itertools.pairwise(terms) if p[0] != p[1]}


def _glued_stop_word(word: str) -> bool:
    """A stop word behind an elision typed without its apostrophe: ``jarrive``, ``lappli``."""
    return any(word.startswith(p) and len(word) - len(p) >= 4 and word[len(p):] in STOP_WORDS
               for p in _ELIDED)


@dataclass(frozen=True)
class Query:
    """A question as index terms with weights, its count of unmatched words, and its
    count of words naming another system or subject (:data:`FOREIGN_WORDS`)."""

    terms: dict[str, float]
    unknown: int
    foreign: int = 0


class Index:
    """Term statistics of a fixed list of articles."""

    def __init__(self, articles: Sequence[Article]) -> None:
        self.articles = list(articles)
        self._tf: list[Counter[str]] = []
        surface: dict[str, str] = {}
        df: dict[str, float] = defaultdict(float)
        for article in self.articles:
            counts: Counter[str] = Counter()
            fields = ((article.title, TITLE_WEIGHT), (" ".join(article.keywords), KEYWORD_WEIGHT),
                      (article.body, 1))
            topical: set[str] = set()
            for phrase in article.keywords:  # multi-word concepts users type
                for pair in _pairs([stem(w) for w in content_words(phrase)]):
                    counts[pair] += KEYWORD_WEIGHT
                    topical.add(pair)
            for text, weight in fields:
                for word in content_words(text):
                    term = stem(word)
                    counts[term] += weight
                    surface.setdefault(word, term)
                    if weight > 1:
                        topical.add(term)
            self._tf.append(counts)
            for term in counts:
                df[term] += 1.0 if term in topical else BODY_DF_WEIGHT
        self._length = [sum(c.values()) for c in self._tf]
        self._avg = (sum(self._length) / len(self._length)) if self._length else 1.0
        n = len(self.articles)
        self.idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._rare = math.log(1 + (max(n, 1) - 0.5) / 1.5) * (K1 + 1)  # one-article term
        self._surface = surface
        self._vocab = sorted(w for w in surface if len(w) >= 4)

    def _fuzzy(self, word: str) -> str | None:
        """The term of the vocabulary word *word* begins or nearly spells, if any."""
        if len(word) < 5:
            return None
        at = bisect.bisect_left(self._vocab, word)
        if at < len(self._vocab) and self._vocab[at].startswith(word):
            return self._surface[self._vocab[at]]
        best = process.extractOne(word, self._vocab, scorer=OSA.distance,
                                  score_cutoff=1 if len(word) < 8 else 2)
        return self._surface[best[0]] if best else None

    def _lookup(self, word: str) -> list[tuple[str, float]]:
        """``(term, weight)`` pairs a folded question *word* stands for; ``[]`` if none."""
        term = stem(word)
        if word in SYNONYMS:  # the word itself too: an English article may use it
            pairs = {(stem(r), 1.0) for r in SYNONYMS[word]} | {(term, 1.0)}
            return sorted(p for p in pairs if p[0] in self.idf)
        if term in self.idf:
            return [(term, 1.0)]
        english = english_stem(word)
        if english != word and english in self._surface:
            return [(self._surface[english], 1.0)]
        for prefix in _ELIDED:
            rest = word[len(prefix):]
            if word.startswith(prefix) and len(rest) >= 4 and stem(rest) in self.idf:
                return [(stem(rest), 1.0)]
        fuzzy = self._fuzzy(word)
        return [(fuzzy, FUZZY_WEIGHT)] if fuzzy else []

    def query(self, text: str) -> Query:
        """Analyse a question: weighted index terms, and how many words found none."""
        found: dict[str, float] = {}
        unknown = foreign = 0
        sequence: list[str] = []  # the terms in question order, for phrases
        seen: set[str] = set()
        for word in words(text):
            if word in seen:
                continue
            seen.add(word)
            if word in FOREIGN_WORDS:  # negative evidence: never matched, raises the bar
                foreign += 1
                unknown += 1
                continue
            if word not in SYNONYMS and (len(word) < 2 or word in STOP_WORDS
                                         or (word.isdigit() and len(word) < 3)
                                         or _glued_stop_word(word)):
                continue
            pairs = self._lookup(word)
            sequence.extend(term for term, _ in pairs[:1])
            unknown += not pairs
            for term, weight in pairs:
                weight *= DOMAIN_WEIGHT if term in _DOMAIN_TERMS else 1.0
                found[term] = max(found.get(term, 0.0), weight)
        for pair in _pairs(sequence):  # « nouvelle tablette », « données supprimées »
            if pair in self.idf:
                found[pair] = PHRASE_WEIGHT
        return Query(found, unknown, foreign)

    def reach(self, query: Query) -> float:
        """The most any article could score for *query* (see the module docstring)."""
        known = sum(w * self.idf[t] for t, w in query.terms.items()) * (K1 + 1)
        return min(known + UNKNOWN_WEIGHT * self._rare * query.unknown,
                   REACH_CAP * self._rare)

    def scores(self, query: Query) -> list[float]:
        """BM25 score of every article (in :attr:`articles` order) for *query*."""
        result = []
        for counts, length in zip(self._tf, self._length, strict=True):
            norm = K1 * (1 - B + B * length / self._avg)
            total = 0.0
            for term, weight in query.terms.items():
                tf = counts.get(term, 0)
                if tf:
                    total += weight * self.idf[term] * tf * (K1 + 1) / (tf + norm)
            result.append(total)
        return result
