"""Auto-replies and other auto-generated mail (RFC 3834), read receipts, ARF reports.

Header signals decide alone: Auto-Submitted other than ``no``; X-Autoreply,
X-Autorespond, X-Autoresponder, X-Autoresponse, X-AutoReply-From (any value);
Precedence or X-Precedence bulk/junk/auto_reply; ``Delivered-To: Autoresponder``
(qmail's autorespond); an MDN or ARF report. A vacation subject is weak (people
write "Absence du bureau" too) and counts only with a header only an autoresponder
sets (X-MS-Exchange-Inbox-Rules-Loop, an autoresponder X-Mailer/User-Agent,
X-Apple-Action, a null Return-Path).

X-Auto-Response-Suppress asks *us* not to auto-reply; it does not say the mail is
automatic, and Exchange distribution lists put it on ordinary mail. Alone it never
counts, nor with a vacation word somewhere in the subject. It counts in one shape
only: ``X-Auto-Response-Suppress: All`` (what Exchange writes on the replies it
generates) on a subject that *starts* with an autoresponder prefix
("Automatic reply:", "Réponse automatique :", "Automatische Antwort:" ...), which is
how Exchange out-of-office replies without Auto-Submitted arrive. The machine's own
reply then gets no answer; a person's mail so shaped would be recorded as ignored
with that reason, never dropped.
"""

from __future__ import annotations

import re
from email.message import Message

from mailbot import headers
from mailbot.model import MailKind

PRESENCE_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Autoresponder",
                    "X-Autoresponse", "X-AutoReply-From")
PRECEDENCE_HEADERS = ("Precedence", "X-Precedence")
PRECEDENCES = frozenset({"auto_reply", "bulk", "junk"})
REPORT_TYPES = frozenset({"disposition-notification", "feedback-report"})
REPORT_PARTS = frozenset({"message/disposition-notification", "message/feedback-report"})
_VACATION_WORDS = (
    r"r[ée]ponse automatique|absence du bureau|message d'absence|out of (the )?office"
    r"|automatic reply|auto[- ]?reply|auto[- ]?response|abwesenheitsnotiz"
    r"|automatische antwort|respuesta autom[áa]tica|risposta automatica"
    r"|automatisch antwoord"
)
VACATION_SUBJECT = re.compile(_VACATION_WORDS, re.IGNORECASE)
# The same words as autoresponders write them: first in the subject, then a colon
# ("Automatic reply: Question", "Réponse automatique : Question",
# "Out of Office AutoReply: Question").
AUTORESPONDER_PREFIX = re.compile(
    rf"\s*((?:{_VACATION_WORDS})(?: autoreply)?)\s*:", re.IGNORECASE)
# Headers only autoresponders set: each turns a vacation subject into a hit, as do
# an autoresponder X-Mailer and a null Return-Path.
CORROBORATING_HEADERS = ("X-MS-Exchange-Inbox-Rules-Loop",)
AUTORESPONDER_AGENT = re.compile(r"auto.?respond|auto.?reply|vacation", re.IGNORECASE)
_NULL = re.compile(r"<\s*>")
_COMMENT = re.compile(r"\([^)]*\)")


def _auto_submitted(message: Message) -> str | None:
    for value in headers.values(message, "Auto-Submitted"):
        keyword = re.sub(r"\([^)]*\)", "", value).split(";")[0].strip().lower()
        if keyword != "no":
            return f"Auto-Submitted: {headers.clip(value) or '(empty)'}"
    return None


def _precedence(value: str) -> str:
    """``" Bulk (newsletter)"`` -> ``"bulk"``; ``auto-reply`` is read as ``auto_reply``."""
    words = _COMMENT.sub(" ", value).replace(";", " ").split()
    return words[0].lower().replace("-", "_") if words else ""


def _header_signal(message: Message) -> str | None:
    for header in PRESENCE_HEADERS:
        value = headers.first(message, header)
        if value is not None:
            return f"{header}: {headers.clip(value.strip())}"
    for header in PRECEDENCE_HEADERS:
        for value in headers.values(message, header):
            if _precedence(value) in PRECEDENCES:
                return f"{header}: {_precedence(value)}"
    for value in headers.values(message, "Delivered-To"):
        if value.strip().lower() == "autoresponder":
            return "Delivered-To: Autoresponder"
    for part in headers.parts(message):
        ctype, params = headers.content_type(part)
        if ctype == "multipart/report" and params.get("report-type") in REPORT_TYPES:
            return f"multipart/report; report-type={params['report-type']}"
        if ctype in REPORT_PARTS:
            return f"{ctype} part"
    return None


def _vacation(message: Message) -> str | None:
    subject = headers.first(message, "Subject") or ""
    match = VACATION_SUBJECT.search(subject)
    if match is None:
        return None
    said = f"subject {headers.clip(match.group(0))!r} with"
    for header in CORROBORATING_HEADERS:
        if headers.first(message, header) is not None:
            return f"{said} {header}"
    for header in ("X-Mailer", "User-Agent", "X-Apple-Action"):
        for value in headers.values(message, header):
            if AUTORESPONDER_AGENT.search(value):
                return f"{said} {header}: {headers.clip(value.strip())}"
    if any(_NULL.fullmatch(v.strip()) for v in headers.raw_values(message, "Return-Path")):
        return f"{said} Return-Path: <>"
    prefix = AUTORESPONDER_PREFIX.match(subject)
    if prefix is not None and _suppresses_all(message):
        return (f"subject starting {headers.clip(prefix.group(1))!r} with "
                "X-Auto-Response-Suppress: All")
    return None


def _suppresses_all(message: Message) -> bool:
    """``X-Auto-Response-Suppress: All`` (or -1, its numeric form), as Exchange
    stamps the replies it generates; a list of kinds (``DR, OOF``) is not that."""
    for value in headers.values(message, "X-Auto-Response-Suppress"):
        if value.strip().lower() in ("all", "-1"):
            return True
    return False


class AutoReply:
    """Hits on mail a machine sent in response or on its own (RFC 3834)."""

    name = "auto_reply"
    description = ("Auto-Submitted, X-Autoreply & co, Precedence, MDN/ARF, or vacation subject "
                   "+ an autoresponder header")
    kind = MailKind.AUTO_REPLY

    def check(self, message: Message, sender: str) -> str | None:
        """The reason this message is auto-generated, or None."""
        return _auto_submitted(message) or _header_signal(message) or _vacation(message)


AUTO_REPLY = AutoReply()
