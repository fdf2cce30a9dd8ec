"""Tickets in the database: which ticket a message continues, opening a new one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from mailbot import lifecycle, threads
from mailbot.model import ParsedMail
from mailbot.replies import fold
from mailbot.store.models import (
    FaqSuggestion,
    Message,
    Report,
    Ticket,
    TicketEvent,
    TicketStatus,
)


@dataclass(frozen=True)
class Thread:
    """The ticket a message points at, how, and whether it proved it belongs there."""

    ticket: Ticket | None
    how: str = ""
    by_reference: bool = False  # it cites a Message-ID we sent on the ticket


def locate(session: Session, parsed: ParsedMail) -> Thread:
    """The ticket *parsed* points at, whoever sent it: references first (newest
    first), then the tracking number in the subject."""
    ticket, how, ours = _by_references(session, parsed)
    if ticket is not None:
        return Thread(ticket, how, by_reference=ours)
    ref = threads.find_ticket_ref(parsed.subject)
    if ref:
        ticket = session.exec(select(Ticket).where(Ticket.ref == ref)).first()
        if ticket is not None:
            return Thread(ticket, f"tracking number {ref} in subject")
    return Thread(None)


def find_ticket(session: Session, parsed: ParsedMail) -> tuple[Ticket | None, str]:
    """The ticket an ordinary sender's *parsed* continues, and how it was found
    (or why it was not): :func:`locate`, then :func:`may_write`."""
    thread = locate(session, parsed)
    if thread.ticket is None:
        return None, ""
    if not may_write(thread.ticket, parsed, thread.by_reference):
        return None, (f"refers to {thread.ticket.ref} but {parsed.from_addr} is neither its "
                      "requester nor a participant")
    return thread.ticket, f"{thread.how} -> {thread.ticket.ref}"


def may_write(ticket: Ticket, parsed: ParsedMail, by_reference: bool = False) -> bool:
    """Whether the sender of *parsed* may add to *ticket*.

    A tracking number is printed in every subject and easily copied, so it
    is not enough on its own: the sender must be the requester (or the
    Reply-To address they gave), a participant (someone the requester wrote
    to or copied), or cite one of the Message-IDs we sent on the ticket,
    which carry a secret random part. A requester's own Message-ID proves
    nothing: their client chose it, and it travels to everyone they wrote
    to. From decides, not the incoming Reply-To: anyone can put the
    requester's address there.
    """
    if by_reference:
        return True
    if parsed.from_is_fallback:  # no From: nothing says who wrote it
        return False
    sender = parsed.from_addr.lower()
    known = {a.lower() for a in (ticket.requester, ticket.reply_to) if a}
    return sender in known or sender in ticket.participants


MAX_REFERENCES_LOOKED_UP = 50  # a mail with 100,000 References must not stall the poll


def _by_references(session: Session, parsed: ParsedMail) -> tuple[Ticket | None, str, bool]:
    """The ticket of the newest cited message we know, how, and whether that message is
    one we sent (its Message-ID is secret: citing it proves the thread was received)."""
    wanted = list(dict.fromkeys(reversed([*parsed.references, *parsed.in_reply_to])))
    wanted = wanted[:MAX_REFERENCES_LOOKED_UP]  # newest first
    if not wanted:
        return None, "", False
    known = {m.message_id: m for m in session.exec(
        select(Message).where(col(Message.message_id).in_(wanted),
                              col(Message.ticket_id).is_not(None)))}
    for ref_id in wanted:
        if ref_id in known:
            row = known[ref_id]
            return session.get(Ticket, row.ticket_id), f"reply to {ref_id}", row.direction == "out"
    return None, "", False


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


def open_ticket(session: Session, parsed: ParsedMail, language: str
                ) -> tuple[Ticket, TicketEvent]:
    """A new ticket in ``nouvelle demande`` for the sender of *parsed* (flushed), and
    its opening event (the caller links it to the stored message)."""
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
    opened = TicketEvent(ticket_id=ticket.id, kind="status", old_status=None,
                         new_status=TicketStatus.NEW.value, detail="ticket opened",
                         actor=parsed.from_addr)
    session.add(opened)
    return ticket, opened


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
    text = fold(parsed.reply_text)
    return text in STATUS_REQUESTS or (not text and fold(parsed.subject) in STATUS_REQUESTS)


def open_tickets_of(session: Session, address: str) -> list[Ticket]:
    """The tickets of *address* that are not closed, most recent first."""
    return list(session.exec(select(Ticket).where(
        Ticket.requester == address, col(Ticket.status).in_(OPEN))
        .order_by(col(Ticket.updated_at).desc())))


def follow_merges(session: Session, ticket: Ticket, max_hops: int = 10) -> Ticket:
    """The ticket *ticket* was merged into (following chains), or *ticket* itself."""
    for _ in range(max_hops):
        if not ticket.merged_into:
            break
        target = session.exec(select(Ticket).where(Ticket.ref == ticket.merged_into)).first()
        if target is None:
            break
        ticket = target
    return ticket


def merge_tickets(session: Session, source: Ticket, target: Ticket, *, actor: str,
                  message_row_id: int | None, now: dt.datetime) -> None:
    """Merge *source* into *target* (not committed).

    The messages move, so that replies citing them reach *target*; the source's
    requester and participants may write into *target*; *source* is closed with
    a pointer to *target*, and both histories say so.
    """
    assert source.id is not None and target.id is not None
    for model in (Message, Report, FaqSuggestion):
        session.execute(update(model).where(col(model.ticket_id) == source.id)
                        .values(ticket_id=target.id))
    for address in (source.requester, *source.participants):
        lifecycle.add_participant(target, address)
    target.updated_at = now
    source.merged_into = target.ref
    session.add(target)
    lifecycle.record_event(session, target, "merge", f"{source.ref} merged into this ticket",
                           actor=actor, message_row_id=message_row_id, now=now)
    lifecycle.change_status(session, source, TicketStatus.CLOSED, actor=actor,
                            message_row_id=message_row_id, detail=f"merged into {target.ref}",
                            now=now)
