"""Who may write into which ticket, and what a requester's reply does to it.

Between threading and acting (:mod:`mailbot.intake`): the no-hijack rule
(a tracking number alone is not enough, see :func:`mailbot.tickets.may_write`),
merged tickets followed to where they went, and a requester's reply read as a
rating, a confirmation or a reopening; the assignee or the team gets a copy.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from mailbot import lifecycle, tickets
from mailbot.model import ParsedMail
from mailbot.notify import Notifier
from mailbot.staffmail import StaffDirectory
from mailbot.store.models import Ticket

log = logging.getLogger("mailbot.intake")


def writable(session: Session, parsed: ParsedMail, thread: tickets.Thread
             ) -> tuple[Ticket | None, str, Ticket | None]:
    """The ticket an ordinary sender may write into, how it was found, and the
    ticket they pointed at without the right to (for the record)."""
    if thread.ticket is None:
        return None, "", None
    ticket = tickets.follow_merges(session, thread.ticket)
    how = thread.how + (f" (merged into {ticket.ref})" if ticket is not thread.ticket else "")
    if tickets.may_write(ticket, parsed, thread.by_reference):
        return ticket, f"{how} -> {ticket.ref}", None
    return None, (f"refers to {ticket.ref} but {parsed.from_addr} is neither its requester "
                  "nor a participant"), ticket


def is_requester(ticket: Ticket, parsed: ParsedMail) -> bool:
    """Whether *parsed* comes from the ticket's requester (From, not a fallback)."""
    return not parsed.from_is_fallback and parsed.from_addr.lower() in {
        a.lower() for a in (ticket.requester, ticket.reply_to) if a}


def requester_effect(ticket: Ticket | None, parsed: ParsedMail) -> lifecycle.RequesterEffect:
    """What the reply does to the ticket's status: only its requester decides that."""
    if ticket is None or not is_requester(ticket, parsed):
        return lifecycle.RequesterEffect()
    return lifecycle.requester_reply_effect(ticket.status, parsed.reply_text, parsed.subject)


def after_reply(session: Session, ticket: Ticket, parsed: ParsedMail, notifier: Notifier,
                staff: StaffDirectory, thread: tickets.Thread,
                effect: lifecycle.RequesterEffect, message_row_id: int | None,
                own: frozenset[str]) -> None:
    """Rating, reopening or confirmation, then the copy for the staff (not committed)."""
    if thread.by_reference:
        lifecycle.add_participant(ticket, parsed.from_addr)
    if is_requester(ticket, parsed):
        lifecycle.invite(ticket, parsed.to, parsed.cc, own)
    actor = parsed.from_addr
    if effect.rating is not None:
        lifecycle.store_rating(session, ticket, effect.rating, actor=actor,
                               message_row_id=message_row_id)
        if effect.rating.comment:  # the team wants to read what the requester said
            copy_to_team(session, ticket, parsed, notifier, staff, "reply")
        return
    if effect.new_status and lifecycle.change_status(
            session, ticket, effect.new_status, actor=actor, message_row_id=message_row_id,
            detail=effect.detail):
        notifier.follow_up(session, ticket, new_status=effect.new_status,
                               reason="requester")
    copy_to_team(session, ticket, parsed, notifier, staff, "reply")


def copy_to_team(session: Session, ticket: Ticket, parsed: ParsedMail, notifier: Notifier,
                 staff: StaffDirectory, event: str) -> None:
    """Send what the requester wrote to the assignee, else to the ticket's team address."""
    to_addr = ticket.assignee or staff.teams.get(ticket.category or "")
    if to_addr:
        notifier.team_copy(session, ticket, to_addr, parsed.reply_text or parsed.text,
                           parsed.from_addr, event)


def log_refused_write(session: Session, refused: Ticket, opened: Ticket, parsed: ParsedMail,
                      message_row_id: int | None) -> None:
    """An outsider cited someone else's ticket: say so on both tickets."""
    log.warning("%s cited %s without being its requester or a participant: opened %s",
                parsed.from_addr, refused.ref, opened.ref)
    lifecycle.record_event(session, refused, "write_refused",
                           f"{parsed.from_addr} cited this ticket without being its requester "
                           f"or a participant; their mail opened {opened.ref}",
                           actor=parsed.from_addr, message_row_id=message_row_id)
    lifecycle.record_event(session, opened, "write_refused",
                           f"the mail cited {refused.ref}, which its sender may not write into",
                           actor=parsed.from_addr, message_row_id=message_row_id)
