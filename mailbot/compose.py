"""Building outgoing messages (stdlib ``email``), with the headers that stop loops.

Every automatic message carries ``Auto-Submitted: auto-replied`` (RFC 3834
§5) so that well-behaved responders never answer it, and Exchange's
``X-Auto-Response-Suppress: All``; its Message-ID is on our own domain, which
is how :mod:`mailbot.classify` recognises our own mail if it ever comes back.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from mailbot.render import RenderedMail

MAX_REFERENCES = 20
MAX_DISPLAY_NAME = 100  # keeps the To: line well under RFC 5322's 998 characters


@dataclass(frozen=True)
class ReplyContext:
    """What an answer needs to know about the message it answers."""

    to_addr: str
    to_name: str
    in_reply_to: str | None
    references: list[str]


def reply_context(from_addr: str, from_name: str, reply_to: str | None,
                  message_id: str | None, references: list[str]) -> ReplyContext | None:
    """Where and how to answer a message: ``Reply-To`` wins over ``From``.

    None when the address cannot be written in a plain (non-SMTPUTF8) mail:
    an accented local part. Accented domains are IDNA-encoded.
    """
    to_addr = ascii_address(reply_to or from_addr)
    if to_addr is None:
        return None
    chain = [*references, message_id] if message_id else list(references)
    return ReplyContext(
        to_addr=to_addr,
        to_name="" if reply_to else from_name[:MAX_DISPLAY_NAME],
        in_reply_to=message_id,
        references=chain[-MAX_REFERENCES:],
    )


def ascii_address(address: str) -> str | None:
    """*address* with its domain IDNA-encoded, or None if the local part is not ASCII."""
    local, _, domain = address.rpartition("@")
    if not local or not local.isascii():
        return None
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return None


def build_reply(rendered: RenderedMail, context: ReplyContext, *, from_addr: str,
                from_name: str, msgid_domain: str, language: str,
                now: dt.datetime | None = None,
                auto_submitted: str | None = "auto-replied") -> EmailMessage:
    """An answer as an :class:`EmailMessage` with CRLF policy.

    *auto_submitted* is ``auto-replied`` for answers to a mail, ``auto-generated``
    for notices mailbot writes on its own (a status change), None for a
    person's words relayed (RFC 3834 §5).
    """
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = formataddr((from_name, from_addr))
    message["To"] = formataddr((context.to_name, context.to_addr))
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(now or dt.datetime.now(dt.UTC))
    # A secret random part: citing one of our Message-IDs proves one received it
    # (mailbot.tickets.may_write), so it must not be guessable.
    message["Message-ID"] = make_msgid(idstring=secrets.token_hex(12), domain=msgid_domain)
    if context.in_reply_to:
        message["In-Reply-To"] = context.in_reply_to
    if context.references:
        message["References"] = " ".join(context.references)
    if auto_submitted:
        message["Auto-Submitted"] = auto_submitted
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(rendered.text, cte="quoted-printable")
    if rendered.html is not None:
        message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    message["Content-Language"] = language  # after set_content, which clears Content-*
    return message
