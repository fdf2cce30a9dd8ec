"""The life of a ticket: status changes and everything else that goes in its history.

Every change is a :class:`~mailbot.store.models.TicketEvent` saying who did
it (``mailbot``, a staff address, the requester), when, and from which
message. Nothing here sends mail: callers queue the notification that goes
with a change (:mod:`mailbot.notify`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from mailbot import replies
from mailbot.store.models import Rating, Ticket, TicketEvent, TicketStatus, utcnow

ACTOR_MAILBOT = "mailbot"
OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.ANALYSING, TicketStatus.SOLUTION_PROPOSED,
                 TicketStatus.RESOLVED)


def record_event(session: Session, ticket: Ticket, kind: str, detail: str = "", *,
                 actor: str = ACTOR_MAILBOT, message_row_id: int | None = None,
                 now: dt.datetime | None = None) -> TicketEvent:
    """Add one entry to the ticket's history (not committed)."""
    assert ticket.id is not None
    event = TicketEvent(ticket_id=ticket.id, kind=kind, detail=detail, actor=actor,
                        message_row_id=message_row_id, at=now or utcnow())
    session.add(event)
    return event


def change_status(session: Session, ticket: Ticket, new_status: str, *,
                  actor: str = ACTOR_MAILBOT, message_row_id: int | None = None,
                  detail: str = "", now: dt.datetime | None = None) -> bool:
    """Move *ticket* to *new_status* and record it; False if it already was there."""
    if ticket.status == new_status:
        return False
    now = now or utcnow()
    event = record_event(session, ticket, "status", detail, actor=actor,
                         message_row_id=message_row_id, now=now)
    event.old_status, event.new_status = ticket.status, new_status
    ticket.status = new_status
    ticket.status_changed_at = ticket.updated_at = now
    if new_status == TicketStatus.RESOLVED:
        ticket.resolved_at = now
    session.add(ticket)
    return True


@dataclass(frozen=True)
class RequesterEffect:
    """What a requester's reply does to their ticket besides being appended."""

    new_status: str | None = None
    rating: replies.RatingAnswer | None = None
    detail: str = ""


def requester_reply_effect(status: str, text: str, subject: str = "") -> RequesterEffect:
    """Read a requester's reply against the ticket's status.

    - ``résolu`` or ``fermé`` and the answer is a number 1-5: a rating;
    - ``solution proposée`` and « ça marche, merci »: ``résolu``;
    - ``résolu`` and « merci » or « ça marche » again: nothing changes;
    - ``solution proposée`` or ``résolu`` otherwise: reopened (``en cours d'analyse``).
    """
    if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        rating = replies.rating_of(text, subject)
        if rating is not None:
            return RequesterEffect(rating=rating, detail=f"rated {rating.score}/5")
    if status == TicketStatus.RESOLVED and (replies.is_confirmation(text)
                                            or replies.is_thanks(text)):
        return RequesterEffect(detail="thanks from the requester")
    if status == TicketStatus.SOLUTION_PROPOSED and replies.is_confirmation(text):
        return RequesterEffect(TicketStatus.RESOLVED, detail="the requester confirmed the "
                                                             "solution works")
    if status in (TicketStatus.SOLUTION_PROPOSED, TicketStatus.RESOLVED):
        return RequesterEffect(TicketStatus.ANALYSING, detail="reopened by the requester's "
                                                              "reply")
    return RequesterEffect()


def store_rating(session: Session, ticket: Ticket, rating: replies.RatingAnswer, *,
                 actor: str, message_row_id: int | None) -> None:
    """Keep the rating and say so in the history (not committed)."""
    assert ticket.id is not None
    session.add(Rating(ticket_id=ticket.id, score=rating.score, comment=rating.comment,
                       message_row_id=message_row_id))
    record_event(session, ticket, "rating", f"{rating.score}/5"
                 + (f": {rating.comment}" if rating.comment else ""),
                 actor=actor, message_row_id=message_row_id)


def invite(ticket: Ticket, parsed_to: list[str], parsed_cc: list[str],
           own: frozenset[str]) -> None:
    """The people the requester wrote to or copied (besides us) may write in too."""
    for address in (*parsed_to, *parsed_cc):
        if address and address.lower() not in own:
            add_participant(ticket, address)


def add_participant(ticket: Ticket, address: str) -> None:
    """Let *address* write into *ticket* from now on (someone in copy who answered)."""
    address = address.lower()
    if address and address != ticket.requester.lower() and address not in ticket.participants:
        ticket.participants = [*ticket.participants, address]  # new list: JSON column
