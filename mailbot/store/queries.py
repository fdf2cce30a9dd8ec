"""Read-only queries for the CLI: tickets, their history, recorded outcomes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from mailbot.store.models import Message, OutboxEntry, Ticket, TicketEvent


@dataclass
class TicketView:
    """A ticket with everything that happened to it, loaded in one session."""

    ticket: Ticket
    messages: list[Message]
    events: list[TicketEvent]
    outbox: list[OutboxEntry]


def list_tickets(engine: Engine, status: str | None = None, limit: int = 200) -> list[Ticket]:
    """Tickets, most recently updated first."""
    with Session(engine) as session:
        query = select(Ticket).order_by(col(Ticket.updated_at).desc()).limit(limit)
        if status:
            query = query.where(Ticket.status == status)
        return list(session.exec(query))


def ticket_view(engine: Engine, ref: str) -> TicketView | None:
    """The ticket *ref* with its messages, events and outbox rows, or None."""
    with Session(engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.ref == ref.upper())).first()
        if ticket is None:
            return None
        where_ticket = lambda model: col(model.ticket_id) == ticket.id  # noqa: E731
        return TicketView(
            ticket=ticket,
            messages=list(session.exec(select(Message).where(where_ticket(Message))
                                       .order_by(col(Message.id)))),
            events=list(session.exec(select(TicketEvent).where(where_ticket(TicketEvent))
                                     .order_by(col(TicketEvent.id)))),
            outbox=list(session.exec(select(OutboxEntry).where(where_ticket(OutboxEntry))
                                     .order_by(col(OutboxEntry.id)))),
        )


def list_messages(engine: Engine, outcome: str | None = None, limit: int = 200
                  ) -> list[Message]:
    """Incoming messages with their outcome and reason, newest first."""
    with Session(engine) as session:
        query = (select(Message).where(Message.direction == "in")
                 .order_by(col(Message.id).desc()).limit(limit))
        if outcome:
            query = query.where(Message.outcome == outcome)
        return list(session.exec(query))
