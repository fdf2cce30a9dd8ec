"""The durable outbox: enqueue in the caller's transaction, claim, settle.

An answer is written to the ``outbox`` table in the same transaction as the
ticket change that caused it, so a crash can lose neither. Delivery is
at-least-once: a row claimed by a flush that died is claimed again after
``claim_timeout_seconds``.

Row life: ``pending`` -> ``sending`` (claimed) -> ``sent`` | back to ``pending``
with a later ``next_attempt_at`` (transient failure) | ``failed`` (permanent
failure, or too many attempts; recorded on the ticket).
"""

from __future__ import annotations

import datetime as dt
import email.policy
from email.message import EmailMessage
from email.utils import parseaddr

from sqlmodel import Session, col, or_, select

from mailbot.config import OutboxConfig
from mailbot.store.models import (
    Message,
    OutboxEntry,
    OutboxState,
    TicketEvent,
    utcnow,
)


def enqueue(session: Session, message: EmailMessage, ticket_id: int | None) -> OutboxEntry:
    """Add *message* to the outbox and to the ticket's history (not committed).

    The outgoing copy is also stored as a ``messages`` row so that a reply
    quoting its Message-ID threads back to the ticket.
    """
    raw = message.as_bytes(policy=email.policy.SMTP)
    message_id = str(message["Message-ID"])
    entry = OutboxEntry(
        ticket_id=ticket_id,
        message_id=message_id,
        mail_from=parseaddr(str(message["From"]))[1],
        rcpt_to=parseaddr(str(message["To"]))[1],
        raw=raw,
    )
    session.add(entry)
    session.add(Message(
        ticket_id=ticket_id, direction="out", message_id=message_id,
        from_addr=entry.mail_from, subject=str(message["Subject"]), kind="auto_reply",
        outcome="queued", raw=raw, body_text=_text_of(message),
    ))
    return entry


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def claim_due(session: Session, config: OutboxConfig, now: dt.datetime | None = None
              ) -> list[OutboxEntry]:
    """Mark up to ``batch_size`` due rows as ``sending`` and commit; return them."""
    now = now or utcnow()
    stale = now - dt.timedelta(seconds=config.claim_timeout_seconds)
    query = (
        select(OutboxEntry)
        .where(or_(
            (col(OutboxEntry.state) == OutboxState.PENDING) &
            (col(OutboxEntry.next_attempt_at) <= now),
            (col(OutboxEntry.state) == OutboxState.SENDING) &
            (col(OutboxEntry.claimed_at) <= stale),
        ))
        .order_by(col(OutboxEntry.id))
        .limit(config.batch_size)
    )
    entries = list(session.exec(query))
    for entry in entries:
        entry.state = OutboxState.SENDING
        entry.claimed_at = now
        session.add(entry)
    session.commit()
    return entries


def mark_sent(session: Session, entry: OutboxEntry, now: dt.datetime | None = None) -> None:
    """Record a delivery the server accepted."""
    entry.state = OutboxState.SENT
    entry.sent_at = now or utcnow()
    entry.attempts += 1
    entry.last_error = ""
    session.add(entry)


def mark_transient_failure(session: Session, entry: OutboxEntry, error: str,
                           config: OutboxConfig, now: dt.datetime | None = None) -> None:
    """Schedule a retry with exponential backoff, or give up after ``max_attempts``."""
    now = now or utcnow()
    entry.attempts += 1
    entry.last_error = error
    if entry.attempts >= config.max_attempts:
        _give_up(session, entry, f"gave up after {entry.attempts} attempts: {error}")
        return
    delay = min(config.backoff_base_seconds * 2 ** (entry.attempts - 1),
                config.backoff_max_seconds)
    entry.state = OutboxState.PENDING
    entry.next_attempt_at = now + dt.timedelta(seconds=delay)
    session.add(entry)


def mark_permanent_failure(session: Session, entry: OutboxEntry, error: str) -> None:
    """Record a refusal (5xx) on the row and on its ticket; never retried."""
    entry.attempts += 1
    _give_up(session, entry, error)


def _give_up(session: Session, entry: OutboxEntry, error: str) -> None:
    entry.state = OutboxState.FAILED
    entry.last_error = error
    session.add(entry)
    if entry.ticket_id is not None:
        session.add(TicketEvent(
            ticket_id=entry.ticket_id, kind="delivery_failed",
            detail=f"to {entry.rcpt_to}: {error}",
        ))
