"""Read-only queries for the CLI: tickets, their history, recorded outcomes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from mailbot.store.models import (
    AccessLog,
    FaqSuggestion,
    Incident,
    IncidentTicket,
    Message,
    OutboxEntry,
    PollRun,
    Rating,
    Report,
    Ticket,
    TicketEvent,
    as_utc,
)
from mailbot.threads import find_ticket_ref


@dataclass
class TicketView:
    """A ticket with everything that happened to it, loaded in one session."""

    ticket: Ticket
    messages: list[Message]
    events: list[TicketEvent]
    outbox: list[OutboxEntry]
    reports: list[Report]
    ratings: list[Rating]


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
        canonical = find_ticket_ref(ref) or ref.strip().upper()  # forgives O/0, I/1
        ticket = session.exec(select(Ticket).where(Ticket.ref == canonical)).first()
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
            reports=list(session.exec(select(Report).where(where_ticket(Report))
                                      .order_by(col(Report.id)))),
            ratings=list(session.exec(select(Rating).where(where_ticket(Rating))
                                      .order_by(col(Rating.id)))),
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


@dataclass
class IncidentView:
    """An incident with how many tickets and schools it touched."""

    incident: Incident
    tickets: int
    schools: int


def list_incidents(engine: Engine, limit: int = 200) -> list[IncidentView]:
    """Incidents, most recently seen first, with ticket and school counts."""
    counts = (select(IncidentTicket.incident_id,
                     func.count(col(IncidentTicket.ticket_id).distinct()).label("tickets"),
                     func.count(col(IncidentTicket.school).distinct()).label("schools"))
              .group_by(col(IncidentTicket.incident_id)).subquery())
    query = (select(Incident, counts.c.tickets, counts.c.schools)
             .join(counts, counts.c.incident_id == Incident.id)
             .order_by(col(Incident.last_seen).desc()).limit(limit))
    with Session(engine) as session:
        return [IncidentView(i, t, s) for i, t, s in session.exec(query)]


def record_access(engine: Engine, actor: str, action: str, ticket_id: int | None,
                  detail: str = "") -> None:
    """Write who looked at what into the access log (committed at once)."""
    with Session(engine) as session:
        session.add(AccessLog(actor=actor, action=action, ticket_id=ticket_id, detail=detail))
        session.commit()


def list_outbox(engine: Engine, state: str | None = None, limit: int = 200
                ) -> list[OutboxEntry]:
    """Outgoing mail, newest first."""
    with Session(engine) as session:
        query = select(OutboxEntry).order_by(col(OutboxEntry.id).desc()).limit(limit)
        if state:
            query = query.where(OutboxEntry.state == state)
        return list(session.exec(query))


AUTOMATIC_KINDS = ("auto_reply",)
RESOLVED = ("résolu", "fermé")


def question_and_answer(view: TicketView) -> tuple[str, str]:
    """The requester's first words and the support team's last answer on a ticket.

    Automatic mail (acknowledgements, rule auto-replies) is not an answer.
    """
    incoming = [m for m in view.messages if m.direction == "in" and m.outcome in
                ("new_ticket", "appended")]
    answers = [m for m in view.messages if m.direction == "out"
               and m.kind not in AUTOMATIC_KINDS]
    return (incoming[0].body_text if incoming else "",
            answers[-1].body_text if answers else "")


@dataclass
class FaqStat:
    """How one article fared."""

    article_id: str
    suggested: int
    resolved: int


def faq_stats(engine: Engine) -> list[FaqStat]:
    """Per article: tickets it was suggested on, and how many of those are resolved."""
    query = (select(FaqSuggestion.article_id,
                    func.count(col(FaqSuggestion.ticket_id).distinct()),
                    func.count(col(Ticket.id).distinct()).filter(
                        col(Ticket.status).in_(RESOLVED)))
             .join(Ticket, col(Ticket.id) == FaqSuggestion.ticket_id)
             .group_by(col(FaqSuggestion.article_id))
             .order_by(func.count(col(FaqSuggestion.ticket_id).distinct()).desc()))
    with Session(engine) as session:
        return [FaqStat(a, s, r) for a, s, r in session.exec(query)]


RATE_LIMITED = "automatic mails in the last"  # mailbot.loops' words for a rate-limit refusal


@dataclass
class Status:
    """The service at a glance, for `mailbot status` and monitoring."""

    last_message_at: dt.datetime | None
    today: dict[str, int]          # outcome -> count of incoming messages since midnight UTC
    quarantined_total: int
    outbox_pending: int
    outbox_failed: int
    oldest_pending: dt.datetime | None
    suppressed_today: int          # automatic mails held back by the loop guard
    rate_limited_today: int = 0    # ... of which by the per-recipient rate limit
    last_poll_at: dt.datetime | None = None  # the last poll that ran to the end

    @property
    def processed_today(self) -> int:
        """Incoming mail that opened or continued a ticket today."""
        return self.today.get("new_ticket", 0) + self.today.get("appended", 0)

    def pending_age(self, now: dt.datetime) -> dt.timedelta | None:
        """How long the oldest outgoing mail has been waiting, if any is."""
        return now - self.oldest_pending if self.oldest_pending else None

    def problems(self, now: dt.datetime, pending_too_old: dt.timedelta,
                 poll_too_old: dt.timedelta | None = None) -> list[str]:
        """What needs a person; empty when all is well. A service that never polled
        (a fresh install) is not a problem; one that stopped polling is."""
        found = []
        if poll_too_old is not None and self.last_poll_at and (
                now - self.last_poll_at > poll_too_old):
            found.append(f"no poll since {self.last_poll_at:%Y-%m-%d %H:%M} UTC: is "
                         "`mailbot run` running, is the mailbox reachable?")
        if self.quarantined_total:
            found.append(f"{self.quarantined_total} quarantined message(s): "
                         "mailbot quarantine list, then mailbot quarantine reprocess")
        if self.outbox_failed:
            found.append(f"{self.outbox_failed} undelivered mail(s): "
                         "mailbot outbox list --state failed")
        age = self.pending_age(now)
        if self.oldest_pending and age is not None and age > pending_too_old:
            found.append(f"outgoing mail waiting since {self.oldest_pending:%Y-%m-%d %H:%M} UTC")
        return found


def _utc(value: object) -> dt.datetime | None:
    """An aggregate's datetime as aware UTC (SQLite hands back naive values, or text)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return as_utc(value) if isinstance(value, dt.datetime) else None


def status(engine: Engine, now: dt.datetime) -> Status:
    """Counts for `mailbot status`."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with Session(engine) as session:
        incoming = select(Message).where(Message.direction == "in")
        today = dict(session.exec(
            select(Message.outcome, func.count()).where(
                Message.direction == "in", col(Message.received_at) >= midnight)
            .group_by(col(Message.outcome))).all())
        count = lambda query: session.exec(select(func.count()).select_from(  # noqa: E731
            query.subquery())).one()
        held_today = select(TicketEvent).where(TicketEvent.kind == "auto_reply_suppressed",
                                               col(TicketEvent.at) >= midnight)
        return Status(
            last_message_at=_utc(session.exec(select(func.max(Message.received_at)).where(
                Message.direction == "in")).one()),
            today=today,
            quarantined_total=count(incoming.where(Message.outcome == "quarantined")),
            outbox_pending=count(select(OutboxEntry).where(
                col(OutboxEntry.state).in_(("pending", "sending")))),
            outbox_failed=count(select(OutboxEntry).where(OutboxEntry.state == "failed")),
            oldest_pending=_utc(session.exec(select(func.min(OutboxEntry.created_at)).where(
                col(OutboxEntry.state).in_(("pending", "sending")))).one()),
            suppressed_today=count(held_today),
            rate_limited_today=count(held_today.where(
                col(TicketEvent.detail).contains(RATE_LIMITED))),
            last_poll_at=_utc(session.exec(select(func.max(PollRun.last_poll_at))).one()),
        )


def quarantined(engine: Engine, row_id: int) -> Message | None:
    """Quarantined message *row_id*, or None."""
    with Session(engine) as session:
        row = session.get(Message, row_id)
        return row if row is not None and row.outcome == "quarantined" else None
