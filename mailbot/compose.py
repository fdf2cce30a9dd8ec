"""Building outgoing messages (stdlib ``email``), with the headers that stop loops.

Every automatic message carries ``Auto-Submitted: auto-replied`` (RFC 3834
§5) so that well-behaved responders never answer it, and Exchange's
``X-Auto-Response-Suppress: All``; its Message-ID is on our own domain, which
is how :mod:`mailbot.classify` recognises our own mail if it ever comes back.
"""

from __future__ import annotations

import datetime as dt
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from mailbot.render import RenderedMail

MAX_REFERENCES = 20


@dataclass(frozen=True)
class ReplyContext:
    """What an answer needs to know about the message it answers."""

    to_addr: str
    to_name: str
    in_reply_to: str | None
    references: list[str]


def reply_context(from_addr: str, from_name: str, reply_to: str | None,
                  message_id: str | None, references: list[str]) -> ReplyContext:
    """Where and how to answer a message: ``Reply-To`` wins over ``From``."""
    chain = [*references, message_id] if message_id else list(references)
    return ReplyContext(
        to_addr=reply_to or from_addr,
        to_name="" if reply_to else from_name,
        in_reply_to=message_id,
        references=chain[-MAX_REFERENCES:],
    )


def build_reply(rendered: RenderedMail, context: ReplyContext, *, from_addr: str,
                from_name: str, msgid_domain: str, language: str,
                now: dt.datetime | None = None) -> EmailMessage:
    """An automatic answer as an :class:`EmailMessage` with CRLF policy."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = formataddr((from_name, from_addr))
    message["To"] = formataddr((context.to_name, context.to_addr))
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(now or dt.datetime.now(dt.UTC))
    message["Message-ID"] = make_msgid(domain=msgid_domain)
    if context.in_reply_to:
        message["In-Reply-To"] = context.in_reply_to
    if context.references:
        message["References"] = " ".join(context.references)
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    message["Content-Language"] = language
    message.set_content(rendered.text, cte="quoted-printable")
    if rendered.html is not None:
        message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    return message
