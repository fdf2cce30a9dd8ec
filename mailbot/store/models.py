"""Database tables (SQLModel).

One row per ticket, per message (incoming or outgoing, raw bytes kept so a
message can be reprocessed), per ticket event (status changes, delivery
failures), per outbox entry and per polled folder.

No ``from __future__ import annotations`` here: SQLModel relationships break
with it (see notes §5).
"""

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC (SQLModel refuses naive datetimes)."""
    return dt.datetime.now(dt.UTC)


def as_utc(when: dt.datetime) -> dt.datetime:
    """*when* as an aware UTC datetime (SQLite hands back naive ones, written in UTC)."""
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class TicketStatus(enum.StrEnum):
    """The life of a ticket, in order."""

    NEW = "nouvelle demande"
    ANALYSING = "en cours d'analyse"
    SOLUTION_PROPOSED = "solution proposée"
    RESOLVED = "résolu"
    CLOSED = "fermé"


class Outcome(enum.StrEnum):
    """What became of an incoming message: exactly one of these, always."""

    NEW_TICKET = "new_ticket"
    APPENDED = "appended"
    IGNORED = "ignored"
    QUARANTINED = "quarantined"


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, index=True)
    status: str = Field(default=TicketStatus.NEW.value)
    requester: str = Field(index=True)
    requester_name: str = ""
    reply_to: str | None = None
    subject: str = ""
    language: str = "fr"
    priority: str = "normale"
    category: str | None = None  # technique | pédagogique
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    assignee: str | None = Field(default=None, index=True)  # a staff address
    # Addresses besides the requester allowed to write into the ticket (people in
    # copy who answered the thread), lower-case.
    participants: list[str] = Field(default_factory=list,
                                    sa_column=Column(JSON, nullable=False))
    merged_into: str | None = None  # the ref this ticket was merged into
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    status_changed_at: dt.datetime = Field(default_factory=utcnow)
    first_response_at: dt.datetime | None = None  # first answer or action by staff
    resolved_at: dt.datetime | None = None        # last move to « résolu »
    escalated_at: dt.datetime | None = None       # SLA breach escalated (once)


class Message(SQLModel, table=True):
    """An incoming message (any outcome) or an outgoing one (direction 'out')."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("direction", "message_id", "content_sha256",
                                       name="uq_message_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    direction: str = "in"
    message_id: str = Field(default="", index=True)
    content_sha256: str = ""
    origin: str = ""
    source_key: str = ""
    from_addr: str = ""
    subject: str = ""
    sent_at: dt.datetime | None = None
    kind: str = ""
    body_text: str = ""
    outcome: str = ""
    outcome_reason: str = ""
    outcome_detail: str = ""  # the traceback, for quarantined messages
    raw_sealed: bool = False  # raw holds mailbot.privacy.Sealer output
    rule_hits: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: dt.datetime = Field(default_factory=utcnow)


class TicketEvent(SQLModel, table=True):
    """Something that happened to a ticket: a status change, a staff command, an
    internal note, an escalation, a delivery failure. *actor* is ``mailbot``, a
    staff address or the requester's; *message_row_id* the mail that caused it."""

    __tablename__ = "ticket_events"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    kind: str = "status"
    old_status: str | None = None
    new_status: str | None = None
    detail: str = ""
    actor: str = "mailbot"
    message_row_id: int | None = Field(default=None, foreign_key="messages.id")
    at: dt.datetime = Field(default_factory=utcnow)


class Rating(SQLModel, table=True):
    """A requester's satisfaction rating (1-5) of a resolved ticket."""

    __tablename__ = "ratings"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    score: int
    comment: str = ""
    message_row_id: int | None = Field(default=None, foreign_key="messages.id")
    at: dt.datetime = Field(default_factory=utcnow)


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxEntry(SQLModel, table=True):
    """A message waiting to leave; written in the same transaction as its cause."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    message_id: str = Field(unique=True)
    mail_from: str
    rcpt_to: str = Field(index=True)
    automatic: bool = True  # acknowledgements and auto-replies (rate-limited)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: str = Field(default=OutboxState.PENDING.value, index=True)
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=utcnow)
    claimed_at: dt.datetime | None = None
    last_error: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None


class FolderState(SQLModel, table=True):
    """Where polling of one source folder stands (IMAP UIDVALIDITY + last UID)."""

    __tablename__ = "folder_state"
    __table_args__ = (UniqueConstraint("origin", name="uq_folder_origin"),)

    id: int | None = Field(default=None, primary_key=True)
    origin: str
    uidvalidity: int = 0
    last_uid: int = 0
    updated_at: dt.datetime = Field(default_factory=utcnow)


class PollRun(SQLModel, table=True):
    """When each source was last polled, whether or not it had new mail (monitoring)."""

    __tablename__ = "poll_runs"

    id: int | None = Field(default=None, primary_key=True)
    origin: str = Field(unique=True)
    last_poll_at: dt.datetime = Field(default_factory=utcnow)
    messages: int = 0  # how many the last poll processed


class Report(SQLModel, table=True):
    """The diagnosis drawn from one e-carnet assistance report: aggregates,
    pseudonyms and findings only (see mailbot.reports); never a student name."""

    __tablename__ = "reports"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    message_row_id: int | None = Field(default=None, foreign_key="messages.id")
    report_id: str | None = Field(default=None, unique=True)
    signature: str | None = Field(default=None, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # HMAC digests of the students' name forms -> pseudonym label: lets later
    # messages on the ticket be cleaned of names without ever storing one.
    name_digests: dict[str, str] = Field(default_factory=dict,
                                         sa_column=Column(JSON, nullable=False))
    received_at: dt.datetime = Field(default_factory=utcnow)


class Incident(SQLModel, table=True):
    """Reports sharing an error signature (app version + main error code)."""

    __tablename__ = "incidents"

    id: int | None = Field(default=None, primary_key=True)
    signature: str = Field(unique=True)
    app_version: str = ""
    error_code: str = ""
    first_seen: dt.datetime = Field(default_factory=utcnow)
    last_seen: dt.datetime = Field(default_factory=utcnow)


class IncidentTicket(SQLModel, table=True):
    """Which tickets (and schools) an incident has touched."""

    __tablename__ = "incident_tickets"
    __table_args__ = (UniqueConstraint("incident_id", "ticket_id", name="uq_incident_ticket"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    school: str = ""  # the requester's mail domain: the best school marker a report has
    at: dt.datetime = Field(default_factory=utcnow)


class AccessLog(SQLModel, table=True):
    """Who looked at a ticket's personal data, and when."""

    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow)
    actor: str
    action: str
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    detail: str = ""


class FaqSuggestion(SQLModel, table=True):
    """An FAQ article suggested on a ticket (to learn which ones resolve tickets)."""

    __tablename__ = "faq_suggestions"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    article_id: str = Field(index=True)
    score: float = 0.0
    at: dt.datetime = Field(default_factory=utcnow)
