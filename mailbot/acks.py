"""The act step for a new ticket: queue the acknowledgement with its tracking number."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from mailbot import outbox
from mailbot.compose import build_reply, reply_context
from mailbot.config import IdentityConfig
from mailbot.lang import detect_language
from mailbot.model import ParsedMail
from mailbot.render import Renderer, format_date
from mailbot.store.models import Ticket


def choose_language(parsed: ParsedMail, default: str) -> str:
    """``fr`` or ``en``: what the requester wrote in, French when unsure."""
    return detect_language(f"{parsed.subject}\n{parsed.reply_text}", default=default)


def queue_acknowledgement(session: Session, ticket: Ticket, parsed: ParsedMail,
                          renderer: Renderer, identity: IdentityConfig) -> None:
    """Render ``ack`` in the ticket's language and put it in the outbox (not committed)."""
    received = parsed.date or dt.datetime.now(dt.UTC)
    rendered = renderer.render(
        "ack", ticket.language,
        ticket_ref=ticket.ref,
        requester_name=parsed.from_name,
        original_subject=parsed.subject,
        received_on=format_date(received, ticket.language, identity.timezone),
        support_name=identity.support_name,
    )
    context = reply_context(parsed.from_addr, parsed.from_name, parsed.reply_to,
                            parsed.message_id, parsed.references)
    message = build_reply(rendered, context, from_addr=identity.support_address,
                          from_name=identity.support_name,
                          msgid_domain=identity.message_id_domain, language=ticket.language)
    outbox.enqueue(session, message, ticket.id)
