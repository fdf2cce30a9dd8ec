"""Text analysis for FAQ ranking: folding, French stemming, mail clean-up, excerpts.

Documents and questions go through the same pipeline, so what matters is
consistency: lower case, accents folded (« bloquée » = « bloquee »), elided
articles dropped (« l'export » -> « export »), stop words removed, then the
Snowball French stemmer on the folded word and a last trim of plural and
feminine endings, which the stemmer leaves on short words (« vidéos »).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

from mailbot.faq.lexicon import STOP_WORDS

_WORD = re.compile(r"[a-z0-9]+")
_ELISION = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
_STEMMER = snowballstemmer.stemmer("french")
_ENGLISH = snowballstemmer.stemmer("english")
_TRIM = ("es", "s", "e", "x")


def fold(text: str) -> str:
    """Lower case without accents or ligatures: « Élève Œuvre » -> ``eleve oeuvre``."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_COMPOUNDS = (
    (re.compile(r"\bwi-?fi\b"), "wifi"),
    (re.compile(r"\be-?mails?\b"), "mail"),
    (re.compile(r"\be-carnet\b"), "ecarnet"),
    (re.compile(r"\bmots? de pass?e?s?\b"), "motdepasse"),
    (re.compile(r"\b(?:mise|mises|mettre|mettez|mis|met|mets) a jours?\b"), "miseajour"),
    (re.compile(r"\bhors[- ]ligne\b"), "horsligne"),
    # no network is the offline mode, and keeps the network word
    (re.compile(r"\b(?:pas|sans|plus|aucun|aucune|zero|pa) (?:de |d )?"
                r"(wifi|reseau|connexion|internet|4g)\b"), r"horsligne \1"),
    (re.compile(r"\bclasses? (?:verte|de neige|de mer|decouverte)s?\b"), "sortie scolaire"),
    (re.compile(r"\b(?:pris|prise|prises|prendre|prenne|prennent) en photos?\b"),
     "photographie"),
    (re.compile(r"\bdroits? a (?:l )?image\b"), "droitimage"),
    # teachers' names for the carnet, paper, and other systems (mailbot.faq.lexicon)
    (re.compile(r"\bcahiers? de (?:reussites?|progres|vie)\b"), "cahierdereussites"),
    (re.compile(r"\bcarnets? de (?:suivi|reussites?|progres)\b"), "carnetdesuivi"),
    (re.compile(r"\b(?:sur|en|version|format) papier\b"), "surpapier"),
    (re.compile(r"\bcahiers? de textes?\b"), "cahierdetexte"),
    (re.compile(r"\b(?:messageries?|boites? mail|mails?|courriels?) academiques?\b"),
     "messagerieacademique"),
    (re.compile(r"\b([a-z]+)-(\d{2,})\b"), r"\1\2 \2"),  # SYNC-504 -> sync504 504
)


def words(text: str) -> list[str]:
    """Folded words of *text*, elisions dropped, stop words kept.

    A few spellings are joined first, so « Wi-Fi » meets « wifi », and set phrases
    become one word: « mot de passe » must not match « je passe » nor « mise à
    jour » every « depuis trois jours ». An error code ``SYNC-504`` becomes
    ``sync504 504``, so that « sync » alone does not point at it.
    """
    folded = fold(_ELISION.sub(" ", text))
    for pattern, replacement in _COMPOUNDS:
        folded = pattern.sub(replacement, folded)
    return _WORD.findall(folded)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Index term of a folded *word*: Snowball French stem, then plural/feminine trim."""
    if word.isdigit():
        return word
    term = _STEMMER.stemWord(word)
    for suffix in _TRIM:
        if term.endswith(suffix) and len(term) - len(suffix) >= 3:
            return term[: -len(suffix)]
    return term


def english_stem(word: str) -> str:
    """Snowball English stem of a folded *word* (``crashing`` -> ``crash``)."""
    return _ENGLISH.stemWord(word)


def content_words(text: str) -> list[str]:
    """Folded words of *text* that carry meaning: no stop words, no single letters, and
    no numbers under three digits (version parts, dates), which match anything."""
    return [w for w in words(text)
            if len(w) > 1 and w not in STOP_WORDS and not (w.isdigit() and len(w) < 3)]


def terms(text: str) -> list[str]:
    """Index terms of *text*, in order, with repeats (used for articles)."""
    return [stem(w) for w in content_words(text)]


_SIGNATURE = re.compile(r"^(--\s*|_{5,}|envoy[ée] de mon \w+.*|sent from my \w+.*)$",
                        re.IGNORECASE)
_QUOTE_HEADER = re.compile(r"^(le .+ a [ée]crit ?:|on .+ wrote:|-{3,} ?(original|message).*)$",
                           re.IGNORECASE)


def clean_mail(text: str) -> str:
    """The part of a mail worth matching: no quoted lines, nothing after a signature."""
    kept: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if _SIGNATURE.match(stripped) or _QUOTE_HEADER.match(stripped):
            break
        if not stripped.startswith(">"):
            kept.append(line)
    return "\n".join(kept)


_MARKUP = re.compile(r"\*\*|__|`|\[([^\]]*)\]\([^)]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def excerpt(body: str, limit: int = 200) -> str:
    """First meaningful sentence(s) of a Markdown *body*, at most *limit* characters.

    Skips headings, lists, quotes and blank lines; takes the first paragraph,
    adds whole sentences while they fit, and cuts a too-long first sentence at
    a word boundary with « … ».
    """
    paragraph: list[str] = []
    for line in body.splitlines():
        stripped = line.strip()
        if not stripped:
            if paragraph:
                break
            continue
        if stripped.startswith(("#", "-", "*", ">", "|", "```", "<!--")) or re.match(
                r"\d+\.", stripped):
            if paragraph:
                break
            continue
        paragraph.append(stripped)
    text = _MARKUP.sub(lambda m: m.group(1) or "", " ".join(paragraph)).strip()
    result = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{result} {sentence}".strip()
        if len(candidate) > limit:
            break
        result = candidate
    if not result and text:
        cut = text[: limit - 1].rsplit(" ", 1)[0]
        result = cut.rstrip(",;:") + "…"
    return result
