"""Bounces: delivery status notifications and other non-delivery reports.

Strong signals decide alone: a DSN (RFC 3464) report or part, X-Failed-Recipients,
a MAILER-DAEMON/postmaster or null (``<>``) From, the "Mail Delivery System"
display name. A typical NDR subject is weak (people write "Returned mail:" too)
and counts only with a postmaster-like Return-Path/Sender or a report part.
"""

from __future__ import annotations

import re
from email.message import Message

from mailbot import headers
from mailbot.model import MailKind

DAEMON_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})
DAEMON_NAMES = frozenset({"mail delivery system", "mail delivery subsystem"})
DSN_PARTS = frozenset({"message/delivery-status", "message/global-delivery-status"})
NDR_SUBJECT = re.compile(
    r"\s*(undeliverable:|undelivered mail returned to sender|delivery status notification"
    r"|non remis\s*:|returned mail:|mail delivery failed|unzustellbar:)",
    re.IGNORECASE,
)
_NULL = re.compile(r"<\s*>")


def _null_from(message: Message) -> bool:
    """From is ``<>`` (``Name <>``) and names no real address.

    The raw text decides: the stdlib also reports garbage such as
    ``From: [??????]`` as addr-spec ``<>``, which is not a null sender.
    """
    if not any(_NULL.search(v) for v in headers.raw_values(message, "From")):
        return False
    return all(addr in ("", "<>") for _, addr in headers.addresses(message, "From"))


def _strong(message: Message, sender: str) -> str | None:
    types = [headers.content_type(part) for part in headers.parts(message)]
    for ctype, params in types:
        if ctype == "multipart/report" and params.get("report-type") == "delivery-status":
            return "multipart/report; report-type=delivery-status"
    for ctype, _ in types:
        if ctype in DSN_PARTS:
            return f"{ctype} part"
    failed = headers.first(message, "X-Failed-Recipients")
    if failed is not None:
        return f"X-Failed-Recipients: {headers.clip(failed)}"
    senders = [("", sender.strip().strip("<>")), *headers.addresses(message, "From")]
    for _, addr in senders:
        if addr and headers.local_part(addr) in DAEMON_LOCAL_PARTS:
            return f"sender {headers.clip(addr)}"
    if _null_from(message):
        return "null sender <>"
    for name, _ in senders:
        if name.strip().lower() in DAEMON_NAMES:
            return f"From display name {headers.clip(name)!r}"
    return None


def _weak(message: Message) -> str | None:
    subject = headers.first(message, "Subject") or ""
    match = NDR_SUBJECT.match(subject)
    if match is None:
        return None
    said = f"subject {headers.clip(match.group(1))!r}"
    for header in ("Return-Path", "Sender"):
        for value in headers.raw_values(message, header):
            addr = value.strip().strip("<>").strip()
            if not addr or headers.local_part(addr) in DAEMON_LOCAL_PARTS:
                return f"{said} with {header}: {headers.clip(value.strip())}"
    for part in headers.parts(message):
        if headers.content_type(part)[0] == "multipart/report":
            return f"{said} with a multipart/report part"
    return None


class Bounce:
    """Hits on delivery failure (and delay) reports from mail systems."""

    name = "bounce"
    description = "DSN report, MAILER-DAEMON/postmaster/null sender, or NDR subject + evidence"
    kind = MailKind.BOUNCE

    def check(self, message: Message, sender: str) -> str | None:
        """The reason this message is a bounce, or None."""
        return _strong(message, sender) or _weak(message)


BOUNCE = Bounce()
