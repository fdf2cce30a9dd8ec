"""The act step for a new ticket: queue the acknowledgement with its tracking number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlmodel import Session

from mailbot import loops, outbox
from mailbot.compose import build_reply, reply_context
from mailbot.config import IdentityConfig, LoopsConfig
from mailbot.lang import detect_language
from mailbot.model import ParsedMail
from mailbot.render import Renderer, format_date
from mailbot.store.models import Ticket, TicketEvent


def choose_language(parsed: ParsedMail, default: str) -> str:
    """``fr`` or ``en``: what the requester wrote in, French when unsure."""
    return detect_language(f"{parsed.subject}\n{parsed.reply_text}", default=default)


def queue_acknowledgement(session: Session, ticket: Ticket, parsed: ParsedMail,
                          renderer: Renderer, identity: IdentityConfig,
                          is_report: bool = False, template: str = "ack",
                          suggestions: Sequence[Mapping[str, str | None]] = (),
                          loops_config: LoopsConfig | None = None) -> None:
    """Render ``ack`` in the ticket's language and put it in the outbox (not committed).

    For an assistance report the text says so, and an ``urgente`` priority
    announces the faster handling. *template* is ``ack`` or the auto-reply a
    rule chose; *suggestions* are FAQ articles (``title``, ``excerpt``, ``url``).
    """
    own = {identity.support_address.lower(), *(a.lower() for a in identity.other_addresses)}
    context = reply_context(parsed.from_addr, parsed.from_name,
                            None if parsed.reply_to in own else parsed.reply_to,
                            parsed.message_id, parsed.references)
    if context is None:
        assert ticket.id is not None
        session.add(TicketEvent(ticket_id=ticket.id, kind="delivery_failed",
                                detail="acknowledgement not sent: the address "
                                       f"{parsed.reply_to or parsed.from_addr} needs SMTPUTF8"))
        return
    refused = loops.refusal(session, context.to_addr, loops_config or LoopsConfig())
    if refused:
        assert ticket.id is not None
        session.add(TicketEvent(ticket_id=ticket.id, kind="auto_reply_suppressed",
                                detail=f"{template} not sent: {refused}"))
        return
    # The date we received it: the sender's clock may be wrong.
    received = ticket.created_at or dt.datetime.now(dt.UTC)
    rendered = renderer.render(
        template, ticket.language,
        ticket_ref=ticket.ref,
        requester_name=parsed.from_name,
        original_subject=parsed.subject,
        received_on=format_date(received, ticket.language, identity.timezone),
        support_name=identity.support_name,
        is_report=is_report,
        priority=ticket.priority,
        suggestions=list(suggestions),
    )
    message = build_reply(rendered, context, from_addr=identity.support_address,
                          from_name=identity.support_name,
                          msgid_domain=identity.message_id_domain, language=ticket.language)
    outbox.enqueue(session, message, ticket.id)
