"""Extract what the sender newly wrote from the readable body of a reply.

Which library does what, and why:

* **mail-parser-reply** (``mailparser_reply``, ``EmailReplyParser(languages=["fr", "en"])``)
  is the dedicated library for finding reply headers: English and French attribution
  lines (``On … wrote:``, ``Le … a écrit :``), Outlook ``From:/Sent:`` and
  ``De :/Envoyé :`` blocks, ``-----Original Message-----``. We use it as a *detector*
  of where the quoted message starts. We do not use its reply text: it only handles
  top-posting, and its signature rule cuts at "Cordialement" and at ``- `` list lines,
  which are part of what the sender wrote.
* **Our own compiled regexes** (the tuples below, kept as data) cover what it misses
  (measured in the team's library notes, §3): French separators (``Message
  d'origine``, ``Mail original``, ``Courriel d’origine``, ``Message transféré``,
  Orange's ``Message du …``), Outlook ``De :`` blocks with U+00A0, Gmail attributions
  wrapped over two or three lines, U+00A0/U+202F before ``:``, plus device lines
  ("Envoyé de mon iPhone") and the ``-- `` signature.

The pass itself is line based, so bottom-posted and interleaved replies keep the new
text written between or below the ``>`` quotes.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from mailparser_reply import EmailReplyParser


class _Rule(NamedTuple):
    name: str
    regex: re.Pattern[str]


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Every rule is matched against a line's "probe": quote marks removed, U+00A0, U+202F
# and tabs turned into single spaces, ’ turned into ', surrounding spaces stripped.

# A line that starts a quoted or forwarded message whose text is not '>'-prefixed:
# it and everything below it are dropped.
SEPARATORS: tuple[_Rule, ...] = (
    # Outlook (Windows) plain-text format, Samsung Email (FR):
    # "-----Message d'origine-----", "-------- Message d'origine --------"
    _Rule("message_dorigine", _rx(r"^-{2,} ?message d'origine ?-{2,}$")),
    # Thunderbird (FR, older versions): "-------- Message original --------"
    _Rule("message_original", _rx(r"^-{2,} ?message original ?-{2,}$")),
    # Zimbra webmail (La Poste, SFR, académies): "----- Mail original -----",
    # "----- Mail d’origine -----", forwards "----- Mail transféré -----"
    _Rule("zimbra_mail", _rx(r"^-{2,} ?mail (?:original|d'origine|transféré) ?-{2,}$")),
    # K-9 Mail / Thunderbird for Android (FR): "-------- Courriel d’origine --------"
    _Rule("k9_courriel", _rx(r"^-{2,} ?courriel (?:d'origine|transféré) ?-{2,}$")),
    # Gmail and Thunderbird forwards (FR): "---------- Message transféré ---------"
    _Rule("message_transfere", _rx(r"^-{2,} ?message transféré ?-{2,}$")),
    # Outlook plain text, Thunderbird, Samsung Email (EN): "-----Original Message-----"
    _Rule("original_message", _rx(r"^-{2,} ?original (?:message|e-?mail) ?-{2,}$")),
    # Gmail and Thunderbird forwards (EN): "---------- Forwarded message ---------"
    _Rule("forwarded_message", _rx(r"^-{2,} ?forwarded message ?-{2,}$")),
    # Apple Mail forwards: "Début du message réexpédié :", "Begin forwarded message:"
    _Rule(
        "apple_forward",
        _rx(r"^(?:début du message (?:réexpédié|transféré)|begin forwarded message) ?:$"),
    ),
    # Orange webmail (FR): "Message du 13/03/25 08:55" above its "De :" block
    _Rule("orange_message_du", _rx(r"^message du \d{1,2}/\d{1,2}/\d{2,4} \d{1,2}:\d{2}$")),
)

# Dated attribution lines, possibly wrapped over up to three lines (Gmail wraps its
# text part at ~75 columns). Dropped when '>' quotes follow (so bottom-posted and
# interleaved text survives); otherwise they end the reply (Yahoo's unquoted copy).
ATTRIBUTIONS: tuple[_Rule, ...] = (
    # Gmail, Apple Mail, iOS Mail, Thunderbird, Roundcube, Yahoo (FR):
    # "Le mar. 4 févr. 2025 à 14:05, Nom <adresse> a écrit :"
    _Rule("fr_le_a_ecrit", _rx(r"^le\b(?=.*\d).*\ba écrit ?:$")),
    # Gmail, Apple Mail, iOS Mail, Thunderbird (EN): "On 26/03/2025 09:03, Name wrote:"
    _Rule("en_on_wrote", _rx(r"^on\b(?=.*\d).*\bwrote ?:$")),
    # Gmail, Thunderbird (DE): "Am 03.04.2025 um 10:12 schrieb Name <adresse>:"
    _Rule("de_am_schrieb", _rx(r"^am\b(?=.*\d)(?=.*\bschrieb\b).*:$")),
)

# Dateless form (Thunderbird "Nom a écrit :", "Name wrote:"): an attribution only
# when '>' quotes follow, since a body line may say "Le directeur m'a écrit :".
LOOSE_ATTRIBUTION = _Rule("name_wrote", _rx(r"^(?=.{1,160}\b(?:a écrit|wrote|schrieb)\b).*:$"))

# App and device lines, dropped wherever they stand in the new text. A device line is
# short: one clause, optionally followed by the usual apology for brevity.
_DEVICE_TAIL = (
    r"\b[^.!?,;:]{0,60}[.!]?(?: veuillez excuser ma brièveté| please excuse my brevity)?\.?$"
)
DEVICE_LINES: tuple[_Rule, ...] = (
    # iOS Mail (FR/EN): "Envoyé de mon iPhone", "Sent from my iPad"
    _Rule(
        "ios_mail",
        _rx(r"^(?:envoyé (?:de|depuis) mon|sent from my) (?:iphone|ipad|ipod)" + _DEVICE_TAIL),
    ),
    # Samsung Email, K-9 Mail, other Android apps (FR/EN): "Envoyé depuis mon smartphone
    # Samsung Galaxy.", "Envoyé de mon appareil Android avec Courriel K-9 Mail. Veuillez
    # excuser ma brièveté."
    _Rule(
        "android_mail",
        _rx(
            r"^(?:envoyé (?:de|depuis) mon|sent from my) (?:smartphone|téléphone|mobile|"
            r"appareil|tablette|samsung|galaxy|android|huawei|phone|device|blackberry)"
            + _DEVICE_TAIL
        ),
    ),
    # German mobile clients: "Von meinem iPhone gesendet", "Von meinem Mobilgerät gesendet"
    _Rule("de_mobile", _rx(r"^von meinem .{1,40} gesendet\.?$")),
    # Outlook for Android/iOS: "Obtenez Outlook pour Android<https://aka.ms/…>",
    # "Envoyé à partir de Outlook pour iOS<…>", "Get Outlook for iOS"
    _Rule(
        "outlook_mobile",
        _rx(
            r"^(?:obtenez|obtenir|téléchargez|get|envoyé à partir de|sent from) outlook "
            r"(?:pour|for) (?:ios|android)"
        ),
    ),
    # Windows 10/11 Mail: "Envoyé à partir de Courrier pour Windows", "Sent from Mail for Windows"
    _Rule(
        "windows_mail",
        _rx(
            r"^(?:envoyé à partir de courrier pour windows|sent from (?:mail for )?windows mail"
            r"|sent from mail for windows)\b"
        ),
    ),
    # Yahoo Mail apps: "Envoyé de Yahoo Mail pour iPhone", "Sent from Yahoo Mail on Android"
    _Rule("yahoo_mobile", _rx(r"^(?:envoyé de|sent from) yahoo mail\b")),
)

# One field of a quoted header block (Outlook, Zimbra, K-9, Orange, Thunderbird and
# Gmail forwards), French or English label, optionally *bold* (Gmail text parts).
_HEADER_FIELD = _rx(
    r"^\*{0,2}(de|from|envoyé|sent|date|à|a|to|pour|objet|subject|sujet|cc|cci|bcc|"
    r"copie à|répondre à|reply-to|importance)\*{0,2} ?:(?: |\*|$)"
)
_FROM_LABELS = frozenset({"de", "from"})
# Rule above a header block: Outlook's 32 underscores, or an <hr> as html2text renders it.
_RULE_LINE = re.compile(r"^(?:[_\-=*]{8,}|\* \* \*)$")
_SIGNATURE = re.compile(r"^-- ?$")  # RFC 3676 §4.3 signature separator
_QUOTE_MARKS = re.compile(r"^\s*(?:>\s?)+")
_SPACES = re.compile(r"[ \t\u00a0\u202f\u2007]+")
_INVISIBLE = str.maketrans("", "", "\ufeff\u200b")
_PLAUSIBLE_HEADER = re.compile(r"[\d@]")  # a real header names a date or an address
_MAX_ATTRIBUTION = 400  # characters; attributions are short, and this bounds regex work
_MPR_MAX_LINES, _MPR_MAX_LINE = 1000, 250  # what mail-parser-reply is shown

_MPR = EmailReplyParser(languages=["fr", "en"])


def extract_reply(text: str, keep_signature: bool = False) -> str:
    """Return only what the sender newly wrote in *text* (a readable body).

    Drops the attribution or header block and everything quoted or forwarded below
    it, ``>`` quoted lines, the ``-- `` signature (up to the next quote) and device
    lines such as "Envoyé de mon iPhone". New text written below or between quotes
    (bottom-posting, interleaved answers) is kept, blocks in order, separated by one
    blank line. The result has no trailing spaces on lines, no runs of blank lines
    and no surrounding blank lines; text without any quote comes back just tidied.
    With *keep_signature* the ``-- `` signature stays (a staff answer relayed
    to a requester keeps its author's signature).
    """
    lines = [line.rstrip() for line in _normalise(text).split("\n")]
    quoted = [bool(_QUOTE_MARKS.match(line)) for line in lines]
    probes = [_probe(line) for line in lines]
    cut, dropped = _scan(probes, quoted, _mpr_headers(lines))
    blocks: list[list[str]] = [[]]
    for index in range(cut):
        if quoted[index] or index in dropped:
            if blocks[-1]:
                blocks.append([])
            continue
        blocks[-1].append(lines[index])
    kept = [_clean_block(block, keep_signature) for block in blocks]
    return _tidy("\n\n".join(block for block in kept if block.strip()))


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)


def _probe(line: str) -> str:
    line = _QUOTE_MARKS.sub("", line)
    return _SPACES.sub(" ", line).replace("\u2019", "'").strip()


def _scan(probes: list[str], quoted: list[bool], mpr: dict[int, int]) -> tuple[int, set[int]]:
    """Return where the reply ends and the attribution lines to drop above it."""
    dropped: set[int] = set()
    index = 0
    while index < len(probes):
        if quoted[index] or not probes[index]:
            index += 1
            continue
        if _matches(SEPARATORS, probes[index]) or _header_block(probes, quoted, index):
            return _rule_above(probes, index), dropped
        span, strict = _attribution(probes, quoted, index)
        if not span and index in mpr and _PLAUSIBLE_HEADER.search(probes[index]):
            span, strict = mpr[index], True
        if span:
            if _quote_follows(probes, quoted, index + span):
                dropped.update(range(index, index + span))
                index += span
                continue
            if strict:
                return _rule_above(probes, index), dropped
        index += 1
    return len(probes), dropped


def _matches(rules: tuple[_Rule, ...], probe: str) -> bool:
    return any(rule.regex.search(probe) for rule in rules)


def _attribution(probes: list[str], quoted: list[bool], start: int) -> tuple[int, bool]:
    """Lines spanned by an attribution starting at *start* and whether it is dated."""
    joined = ""
    for end in range(start, min(start + 3, len(probes))):
        if quoted[end] or not probes[end]:
            break
        joined = f"{joined} {probes[end]}".strip()
        if len(joined) > _MAX_ATTRIBUTION:
            break
        if joined.endswith(":") and _matches(ATTRIBUTIONS, joined):
            return end - start + 1, True
    first = probes[start]
    if first.endswith(":") and len(first) <= _MAX_ATTRIBUTION:
        return (1, False) if LOOSE_ATTRIBUTION.regex.search(first) else (0, False)
    return 0, False


def _header_block(probes: list[str], quoted: list[bool], start: int) -> bool:
    """True when a quoted message's header block (De :/Envoyé :/À :/Objet :) starts here."""
    labels: list[str] = []
    index = start
    while index < len(probes) and probes[index] and not quoted[index]:
        field = _HEADER_FIELD.match(probes[index])
        if field is None and labels and _continues(probes, quoted, index):
            index += 1  # a value wrapped onto its own line ("From: Name" / "<address>")
            continue
        if field is None:
            break
        labels.append(field.group(1).lower())
        index += 1
    if len(labels) < 2 or not _FROM_LABELS.intersection(labels):
        return False
    return len(labels) >= 3 or any("@" in probe for probe in probes[start:index])


def _continues(probes: list[str], quoted: list[bool], index: int) -> bool:
    """True when line *index* sits between two header fields (a wrapped value)."""
    after = index + 1
    return (
        _HEADER_FIELD.match(probes[index - 1]) is not None
        and after < len(probes)
        and not quoted[after]
        and _HEADER_FIELD.match(probes[after]) is not None
    )


def _quote_follows(probes: list[str], quoted: list[bool], start: int) -> bool:
    for index in range(start, len(probes)):
        if probes[index] or quoted[index]:
            return quoted[index]
    return False


def _rule_above(probes: list[str], cut: int) -> int:
    """Move *cut* up to an Outlook rule line separated from it only by blank lines."""
    index = cut - 1
    while index >= 0 and (not probes[index] or _RULE_LINE.match(probes[index])):
        if probes[index]:
            cut = index
        index -= 1
    return cut


def _mpr_headers(lines: list[str]) -> dict[int, int]:
    """Ask mail-parser-reply where reply headers start: {line index: line count}.

    It is given the lines with U+00A0/U+202F as plain spaces (its French patterns
    expect "De :", "a écrit :") and strips each line itself.
    """
    plain = [_SPACES.sub(" ", line).strip() for line in lines[:_MPR_MAX_LINES]]
    # Its attribution regex is quadratic in the line length: hide long lines.
    plain = [line if len(line) <= _MPR_MAX_LINE else "" for line in plain]
    try:
        replies = _MPR.read("\n".join(plain)).replies
    except Exception:  # a third-party regex pass must not break extraction
        return {}
    first_index: dict[str, int] = {}
    for index, line in enumerate(plain):
        first_index.setdefault(line, index)
    found: dict[int, int] = {}
    for reply in replies:
        header_lines = (reply.headers or "").strip().split("\n")
        index = first_index.get(header_lines[0].strip()) if header_lines[0] else None
        if index is not None:
            found.setdefault(index, min(len(header_lines), 8))
    return found


def _clean_block(block: list[str], keep_signature: bool = False) -> str:
    """Drop a ``-- `` signature (to the end of the block), device lines and a
    trailing rule line (the ``<hr>`` or underscores above a quote)."""
    kept: list[str] = []
    for line in block:
        if _SIGNATURE.match(line) and not keep_signature:
            break
        if not _matches(DEVICE_LINES, _probe(line)):
            kept.append(line)
    while kept and (not kept[-1].strip() or _RULE_LINE.match(_probe(kept[-1]))):
        kept.pop()
    return "\n".join(kept)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")
