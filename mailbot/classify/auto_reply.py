"""Auto-replies and other auto-generated mail (RFC 3834), read receipts, ARF reports.

Header signals decide alone: Auto-Submitted other than ``no``, X-Autoreply,
X-Autorespond, Precedence bulk/junk/auto_reply, an MDN or ARF report. A vacation
subject is weak (people write "Absence du bureau" too) and counts only with a
header only an autoresponder sets. X-Auto-Response-Suppress does not count,
even with such a subject: Outlook, Exchange and distribution lists put it on
ordinary mail, and ignoring a person's request is worse than answering a
machine once (the machine's own reply carries Auto-Submitted and stops there).
"""

from __future__ import annotations

import re
from email.message import Message

from mailbot import headers
from mailbot.model import MailKind

PRESENCE_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Reply")
PRECEDENCES = frozenset({"auto_reply", "bulk", "junk"})
REPORT_TYPES = frozenset({"disposition-notification", "feedback-report"})
REPORT_PARTS = frozenset({"message/disposition-notification", "message/feedback-report"})
VACATION_SUBJECT = re.compile(
    r"r[ée]ponse automatique|absence du bureau|out of (the )?office|automatic reply"
    r"|abwesenheitsnotiz|automatische antwort|auto[- ]?reply",
    re.IGNORECASE,
)
# Headers only autoresponders set: each turns a vacation subject into a hit, as do
# an autoresponder X-Mailer and a null Return-Path.
CORROBORATING_HEADERS = ("X-MS-Exchange-Inbox-Rules-Loop",)
AUTORESPONDER_AGENT = re.compile(r"auto.?respond|auto.?reply|vacation", re.IGNORECASE)
_NULL = re.compile(r"<\s*>")


def _auto_submitted(message: Message) -> str | None:
    for value in headers.values(message, "Auto-Submitted"):
        keyword = re.sub(r"\([^)]*\)", "", value).split(";")[0].strip().lower()
        if keyword != "no":
            return f"Auto-Submitted: {headers.clip(value) or '(empty)'}"
    return None


def _header_signal(message: Message) -> str | None:
    for header in PRESENCE_HEADERS:
        value = headers.first(message, header)
        if value is not None:
            return f"{header}: {headers.clip(value.strip())}"
    for value in headers.values(message, "Precedence"):
        if value.strip().lower() in PRECEDENCES:
            return f"Precedence: {value.strip().lower()}"
    for part in headers.parts(message):
        ctype, params = headers.content_type(part)
        if ctype == "multipart/report" and params.get("report-type") in REPORT_TYPES:
            return f"multipart/report; report-type={params['report-type']}"
        if ctype in REPORT_PARTS:
            return f"{ctype} part"
    return None


def _vacation(message: Message) -> str | None:
    match = VACATION_SUBJECT.search(headers.first(message, "Subject") or "")
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
    return None


class AutoReply:
    """Hits on mail a machine sent in response or on its own (RFC 3834)."""

    name = "auto_reply"
    description = "Auto-Submitted, X-Autoreply, Precedence, MDN/ARF, or vacation subject + header"
    kind = MailKind.AUTO_REPLY

    def check(self, message: Message, sender: str) -> str | None:
        """The reason this message is auto-generated, or None."""
        return _auto_submitted(message) or _header_signal(message) or _vacation(message)


AUTO_REPLY = AutoReply()
