"""The act step for a new ticket: queue the acknowledgement with its tracking number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlmodel import Session

from mailbot import loops, outbox
from mailbot.compose import ReplyContext, build_reply, reply_context
from mailbot.config import IdentityConfig, LoopsConfig
from mailbot.estimates import Estimate, describe
from mailbot.lang import detect_language
from mailbot.model import ParsedMail
from mailbot.render import Renderer, format_date
from mailbot.store.models import Ticket, TicketEvent


def choose_language(parsed: ParsedMail, default: str) -> str:
    """``fr`` or ``en``: what the requester wrote in, French when unsure."""
    return detect_language(f"{parsed.subject}\n{parsed.reply_text}", default=default)


def answer_context(session: Session, parsed: ParsedMail, identity: IdentityConfig,
                   loops_config: LoopsConfig | None) -> tuple[ReplyContext | None, str | None]:
    """Where an automatic answer to *parsed* goes, or None and why not.

    ``(None, None)``: the address cannot be written without SMTPUTF8;
    ``(None, reason)``: the loop guard refuses it (noreply, deny list, rate).
    """
    own = {identity.support_address.lower(), *(a.lower() for a in identity.other_addresses)}
    context = reply_context(parsed.from_addr, parsed.from_name,
                            None if parsed.reply_to in own else parsed.reply_to,
                            parsed.message_id, parsed.references)
    if context is None:
        return None, None
    refused = loops.refusal(session, context.to_addr, loops_config or LoopsConfig())
    return (None, refused) if refused else (context, None)


def _smtputf8(parsed: ParsedMail) -> str:
    return f"the address {parsed.reply_to or parsed.from_addr} needs SMTPUTF8"


def queue_status_list(session: Session, parsed: ParsedMail, requester_tickets: list[Ticket],
                      renderer: Renderer, identity: IdentityConfig,
                      loops_config: LoopsConfig | None) -> str:
    """Answer a « statut » request with the requester's open tickets; return what was done."""
    context, refused = answer_context(session, parsed, identity, loops_config)
    if context is None:
        return f"status list not sent: {refused or _smtputf8(parsed)}"
    language = choose_language(parsed, identity.default_language)
    rendered = renderer.render(
        "statut", language, requester_name=parsed.from_name,
        support_name=identity.support_name,
        tickets=[{"ref": t.ref, "status": t.status, "subject": t.subject,
                  "updated_on": format_date(t.updated_at, language, identity.timezone)}
                 for t in requester_tickets])
    outbox.enqueue(session, build_reply(rendered, context, from_addr=identity.support_address,
                                        from_name=identity.support_name,
                                        msgid_domain=identity.message_id_domain,
                                        language=language), None)
    return f"status request answered with {len(requester_tickets)} open ticket(s)"


def queue_acknowledgement(session: Session, ticket: Ticket, parsed: ParsedMail,
                          renderer: Renderer, identity: IdentityConfig,
                          is_report: bool = False, template: str = "ack",
                          suggestions: Sequence[Mapping[str, str | None]] = (),
                          loops_config: LoopsConfig | None = None,
                          estimate: Estimate | None = None) -> None:
    """Render ``ack`` in the ticket's language and put it in the outbox (not committed).

    For an assistance report the text says so, and an ``urgente`` priority
    announces the faster handling. *template* is ``ack`` or the auto-reply a
    rule chose; *suggestions* are FAQ articles (``title``, ``excerpt``, ``url``);
    *estimate* the expected resolution time (:mod:`mailbot.estimates`).
    """
    assert ticket.id is not None
    context, refused = answer_context(session, parsed, identity, loops_config)
    if context is None:
        kind = "auto_reply_suppressed" if refused else "delivery_failed"
        session.add(TicketEvent(ticket_id=ticket.id, kind=kind,
                                detail=f"{template} not sent: {refused or _smtputf8(parsed)}"))
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
        resolution_estimate=describe(estimate, ticket.language) if estimate else "",
        estimate_basis=estimate.basis if estimate else "",
    )
    message = build_reply(rendered, context, from_addr=identity.support_address,
                          from_name=identity.support_name,
                          msgid_domain=identity.message_id_domain, language=ticket.language)
    outbox.enqueue(session, message, ticket.id)
