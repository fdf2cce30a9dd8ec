"""Typed records passed between pipeline stages.

These are plain dataclasses: no database, no network. Each stage takes one and
returns the next (``RawMail`` -> ``ParsedMail`` -> ``Verdict`` ...).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage


class MailKind(enum.StrEnum):
    """What sort of sender produced a message (see :mod:`mailbot.classify`)."""

    NORMAL = "normal"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    LIST = "list"
    OWN = "own"


@dataclass(frozen=True)
class RawMail:
    """Bytes as fetched from a source, plus where they came from.

    *origin* names the source and folder (``imap:user@host/INBOX``,
    ``maildir:/path``); *source_key* is the key inside it (an IMAP UID, a
    Maildir key). *checkpoint* is ``(uidvalidity, uid)`` for sources that
    resume from a position; it is saved in the same transaction as the
    message's outcome.
    """

    raw: bytes
    origin: str
    source_key: str
    checkpoint: tuple[int, int] | None = None


@dataclass(frozen=True)
class Attachment:
    """One attached file, described; the payload stays in the raw message."""

    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass
class ParsedMail:
    """Everything later stages need from one message, decoded.

    *text* is the full readable body (HTML-only mail converted to text);
    *reply_text* is only what the sender newly wrote (quotes, attribution and
    signature removed). *message* is the stdlib object, for stages that need
    raw headers or MIME structure (classification).
    """

    message: EmailMessage
    message_id: str | None
    from_addr: str
    from_name: str
    reply_to: str | None
    to: list[str]
    cc: list[str]
    subject: str
    date: dt.datetime | None
    in_reply_to: list[str]
    references: list[str]
    text: str
    reply_text: str
    attachments: list[Attachment]
    defects: list[str] = field(default_factory=list)
    content_sha256: str = ""
    # *from_addr* came from Sender/Reply-To/Return-Path, not From: good enough to
    # answer, never proof of who wrote (it gives no right on a ticket, no staff rights).
    from_is_fallback: bool = False

    def with_texts(self, rewrite: Callable[[str], str]) -> ParsedMail:
        """A copy with *rewrite* applied to the subject and both texts (to replace
        student names by pseudonyms before anything is stored or evaluated)."""
        return dataclasses.replace(self, subject=rewrite(self.subject),
                                   text=rewrite(self.text), reply_text=rewrite(self.reply_text))


@dataclass(frozen=True)
class Verdict:
    """The classification of a message and the header that decided it."""

    kind: MailKind
    reason: str
