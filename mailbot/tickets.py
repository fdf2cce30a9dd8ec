"""Tickets in the database: which ticket a message continues, opening a new one."""

from __future__ import annotations

import re
import unicodedata

from sqlmodel import Session, col, select

from mailbot import threads
from mailbot.model import ParsedMail
from mailbot.store.models import Message, Ticket, TicketEvent, TicketStatus


def find_ticket(session: Session, parsed: ParsedMail) -> tuple[Ticket | None, str]:
    """The ticket *parsed* continues, and how it was found (or why it was not).

    References are tried newest first, then the tracking number in the
    subject. Only the requester (From the requester's address or the
    Reply-To address they gave) may add to a ticket: anyone else quoting it
    gets a ticket of their own.
    """
    ticket, how = _by_references(session, parsed)
    if ticket is None:
        ref = threads.find_ticket_ref(parsed.subject)
        if ref:
            ticket = session.exec(select(Ticket).where(Ticket.ref == ref)).first()
            how = f"tracking number {ref} in subject"
    if ticket is None:
        return None, ""
    if not may_write(ticket, parsed):
        return None, f"refers to {ticket.ref} but {parsed.from_addr} is not its requester"
    return ticket, f"{how} -> {ticket.ref}"


def may_write(ticket: Ticket, parsed: ParsedMail) -> bool:
    """Whether the sender of *parsed* may add to *ticket*.

    From decides, not the incoming Reply-To: anyone can put the requester's
    address there.
    """
    return parsed.from_addr in {a for a in (ticket.requester, ticket.reply_to) if a}


MAX_REFERENCES_LOOKED_UP = 50  # a mail with 100,000 References must not stall the poll


def _by_references(session: Session, parsed: ParsedMail) -> tuple[Ticket | None, str]:
    wanted = list(dict.fromkeys(reversed([*parsed.references, *parsed.in_reply_to])))
    wanted = wanted[:MAX_REFERENCES_LOOKED_UP]  # newest first
    if not wanted:
        return None, ""
    known = {m.message_id: m.ticket_id for m in session.exec(
        select(Message).where(col(Message.message_id).in_(wanted),
                              col(Message.ticket_id).is_not(None)))}
    for ref_id in wanted:
        if ref_id in known:
            return session.get(Ticket, known[ref_id]), f"reply to {ref_id}"
    return None, ""


def answered_ticket(session: Session, referenced: list[str]) -> tuple[Ticket | None, str | None]:
    """The ticket one of *our* messages among *referenced* belongs to, and that Message-ID.

    For machine mail (bounces, auto-replies) about an answer we sent: it is
    linked to the ticket for the record, never appended as the requester's.
    """
    wanted = referenced[:MAX_REFERENCES_LOOKED_UP]
    if not wanted:
        return None, None
    ours = session.exec(select(Message).where(
        Message.direction == "out", col(Message.message_id).in_(wanted),
        col(Message.ticket_id).is_not(None))).first()
    if ours is None:
        return None, None
    return session.get(Ticket, ours.ticket_id), ours.message_id


def open_ticket(session: Session, parsed: ParsedMail, language: str) -> Ticket:
    """A new ticket in ``nouvelle demande`` for the sender of *parsed* (flushed)."""
    ticket = Ticket(
        ref=_unused_ref(session),
        requester=parsed.from_addr,
        requester_name=parsed.from_name,
        reply_to=parsed.reply_to,
        subject=parsed.subject,
        language=language,
    )
    session.add(ticket)
    session.flush()
    assert ticket.id is not None
    session.add(TicketEvent(ticket_id=ticket.id, kind="status", old_status=None,
                            new_status=TicketStatus.NEW.value, detail="ticket opened"))
    return ticket


def _unused_ref(session: Session) -> str:
    while True:
        ref = threads.new_ticket_ref()
        if session.exec(select(Ticket.id).where(Ticket.ref == ref)).first() is None:
            return ref


STATUS_REQUESTS = frozenset({"statut", "status", "etat", "mes demandes", "mes tickets",
                             "suivi", "suivi de mes demandes"})
OPEN = ("nouvelle demande", "en cours d'analyse", "solution proposée", "résolu")


def is_status_request(parsed: ParsedMail) -> bool:
    """Whether the mail only asks « statut » (in the text, or in the subject of an empty mail)."""
    text = _folded(parsed.reply_text)
    return text in STATUS_REQUESTS or (not text and _folded(parsed.subject) in STATUS_REQUESTS)


def _folded(text: str) -> str:
    bare = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r"[^\w ]+", " ", bare.casefold()).split())


def open_tickets_of(session: Session, address: str) -> list[Ticket]:
    """The tickets of *address* that are not closed, most recent first."""
    return list(session.exec(select(Ticket).where(
        Ticket.requester == address, col(Ticket.status).in_(OPEN))
        .order_by(col(Ticket.updated_at).desc())))
