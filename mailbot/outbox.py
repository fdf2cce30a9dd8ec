"""The durable outbox: enqueue in the caller's transaction, claim, settle.

An answer is written to the ``outbox`` table in the same transaction as the
ticket change that caused it, so a crash can lose neither. Delivery is
at-least-once: a row claimed by a flush that died is claimed again after
``claim_timeout_seconds``.

Row life: ``pending`` -> ``sending`` (claimed) -> ``sent`` | back to ``pending``
with a later ``next_attempt_at`` (transient failure) | ``failed`` (permanent
failure, or too many attempts; recorded on the ticket).

The attempt is recorded before it is made: :func:`claim_next` commits the claim
(``sending``, ``claimed_at``) of one row right before its SMTP transaction, and
the caller commits :func:`mark_sent` right after the server's 250. The only
window left for a duplicate is a crash between that 250 and our commit: the
row is then sent once more after ``claim_timeout_seconds``, with the same
Message-ID (it is part of the stored bytes), so the recipient's client can
tell it is the same mail (docs/operations.md, "Delivery guarantees").
"""

from __future__ import annotations

import datetime as dt
import email.policy
import random
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy import case, update
from sqlmodel import Session, col, or_, select

from mailbot.config import OutboxConfig
from mailbot.store.models import (
    Message,
    OutboxEntry,
    OutboxState,
    TicketEvent,
    utcnow,
)


def enqueue(session: Session, message: EmailMessage, ticket_id: int | None, *,
            automatic: bool = True, kind: str = "auto_reply") -> OutboxEntry:
    """Add *message* to the outbox and to the ticket's history (not committed).

    The outgoing copy is also stored as a ``messages`` row (of *kind*) so that
    a reply quoting its Message-ID threads back to the ticket. *automatic*
    mail counts towards the loop guard's per-recipient limits; a person's
    words relayed do not.
    """
    raw = message.as_bytes(policy=email.policy.SMTP)
    message_id = str(message["Message-ID"])
    entry = OutboxEntry(
        ticket_id=ticket_id,
        message_id=message_id,
        mail_from=parseaddr(str(message["From"]))[1],
        rcpt_to=parseaddr(str(message["To"]))[1],
        automatic=automatic,
        raw=raw,
    )
    session.add(entry)
    session.add(Message(
        ticket_id=ticket_id, direction="out", message_id=message_id,
        from_addr=entry.mail_from, subject=str(message["Subject"]), kind=kind,
        outcome="queued", raw=raw, body_text=_text_of(message),
    ))
    return entry


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def claim_next(session: Session, config: OutboxConfig, now: dt.datetime | None = None
               ) -> OutboxEntry | None:
    """Claim one due row (state ``sending``, committed) and return it, or None.

    Called right before that row's delivery, so that the claim records the
    attempt about to be made: a flush killed mid-way leaves at most the row it
    was sending claimed, not a whole batch of rows it never got to, and
    ``claimed_at`` tells how long that one transaction has been running. Each
    row is claimed by a conditional UPDATE that only succeeds while the row is
    still due, so two flushes running at once (``mailbot run`` and a manual
    ``mailbot flush``) never both send the same message.
    """
    now = now or utcnow()
    stale = now - dt.timedelta(seconds=config.claim_timeout_seconds)
    due = or_(
        (col(OutboxEntry.state) == OutboxState.PENDING) &
        (col(OutboxEntry.next_attempt_at) <= now),
        (col(OutboxEntry.state) == OutboxState.SENDING) & (col(OutboxEntry.claimed_at) <= stale),
    )
    candidates = list(session.exec(
        select(OutboxEntry.id).where(due).order_by(col(OutboxEntry.id)).limit(config.batch_size)))
    # A row still "sending" after claim_timeout_seconds: the flush that claimed it
    # died mid-send. That counts as an attempt, so that a message which kills the
    # sender every time is given up after max_attempts instead of tried forever.
    interrupted = col(OutboxEntry.state) == OutboxState.SENDING
    for entry_id in candidates:
        claimed = session.execute(
            update(OutboxEntry).where(col(OutboxEntry.id) == entry_id, due)
            .values(state=OutboxState.SENDING.value, claimed_at=now,
                    attempts=case((interrupted, OutboxEntry.attempts + 1),
                                  else_=OutboxEntry.attempts),
                    last_error=case((interrupted, INTERRUPTED), else_=OutboxEntry.last_error)))
        session.commit()
        if claimed.rowcount != 1:  # another flush won it: try the next one
            continue
        entry = session.get(OutboxEntry, entry_id)
        if entry is None:
            continue
        session.refresh(entry)  # the UPDATE bypassed the identity map
        if entry.last_error == INTERRUPTED and entry.attempts >= config.max_attempts:
            _give_up(session, entry, f"gave up after {entry.attempts} attempts: {INTERRUPTED}")
            session.commit()
            continue
        return entry
    return None


INTERRUPTED = "the previous attempt was interrupted (the flush stopped while sending)"


def mark_sent(session: Session, entry: OutboxEntry, now: dt.datetime | None = None) -> None:
    """Record a delivery the server accepted."""
    entry.state = OutboxState.SENT
    entry.sent_at = now or utcnow()
    entry.attempts += 1
    entry.last_error = ""
    session.add(entry)


def mark_transient_failure(session: Session, entry: OutboxEntry, error: str,
                           config: OutboxConfig, now: dt.datetime | None = None,
                           count_attempt: bool = True, rng: random.Random | None = None,
                           ) -> None:
    """Schedule a retry after a jittered exponential backoff (:func:`retry_delay`), or give
    up after ``max_attempts``.

    With *count_attempt* False (our own setup is at fault) the attempt is not
    counted and the retry comes after the longest backoff.
    """
    now = now or utcnow()
    entry.last_error = error
    if not count_attempt:
        delay = config.backoff_max_seconds
    else:
        entry.attempts += 1
        if entry.attempts >= config.max_attempts:
            _give_up(session, entry, f"gave up after {entry.attempts} attempts: {error}")
            return
        delay = retry_delay(entry.attempts, config, rng)
    entry.state = OutboxState.PENDING
    entry.next_attempt_at = now + dt.timedelta(seconds=max(delay, 1.0))
    session.add(entry)


_jitter = random.SystemRandom()  # os.urandom: processes (forked ones too) never draw alike


def retry_delay(attempts: int, config: OutboxConfig, rng: random.Random | None = None) -> float:
    """Seconds to wait after the *attempts*-th failed attempt: exponential with jitter.

    For the n-th failed attempt the delay is drawn uniformly from the window
    ``[base * 2**(n-1), base * 2**n]`` ("equal jitter"), clipped to
    ``[backoff_base, backoff_max]``; once the cap is reached the window is
    ``[max/2, max]``. So retries of mails that failed together (the server was
    down for all of them) spread over the whole window instead of all coming
    back at the same second, each window starts where the previous one ended
    until the cap (the delays grow with the attempts; no window starts lower
    than an earlier one), and every delay lies in ``[backoff_base, backoff_max]``.

    Why not full or decorrelated jitter: both can draw a delay as short as
    ``backoff_base`` at every attempt, so a mail could use up its
    ``max_attempts`` in about ``max_attempts * base`` (9 minutes with the
    defaults) and be given up during a short outage. Here the shortest possible
    retry horizon with the defaults is about 2.5 hours (the deterministic
    schedule's was 4 hours; the longest is now 5).

    Why not a library such as tenacity: it retries a call inside one running
    process (sleeping in between), while our schedule must survive restarts and
    be shared by every process that flushes, so it lives in the database as
    ``next_attempt_at``; all we need from "backoff" is this formula.
    """
    base, cap = config.backoff_base_seconds, config.backoff_max_seconds
    if cap <= base:
        return cap
    n = min(max(attempts, 1), 64)  # 2**64 * base is past any cap; no float overflow
    high = min(cap, base * 2.0 ** n)
    low = max(base, min(base * 2.0 ** (n - 1), cap / 2))
    return (rng or _jitter).uniform(low, high)


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


def record_bounce(session: Session, message_id: str, status: str) -> None:
    """A message the server accepted came back undelivered: mark it failed and
    say so on its ticket (not committed)."""
    entry = session.exec(select(OutboxEntry).where(OutboxEntry.message_id == message_id)).first()
    if entry is not None:
        _give_up(session, entry, f"bounced after delivery: {status}")


def requeue_failed(session: Session, entry_ids: list[int] | None = None) -> int:
    """Put failed rows (all, or those in *entry_ids*) back in the queue with fresh
    attempts, once the cause is fixed; returns how many (committed)."""
    query = select(OutboxEntry).where(OutboxEntry.state == OutboxState.FAILED)
    if entry_ids is not None:
        query = query.where(col(OutboxEntry.id).in_(entry_ids))
    entries = list(session.exec(query))
    for entry in entries:
        entry.state, entry.attempts = OutboxState.PENDING, 0
        entry.next_attempt_at = utcnow()
        session.add(entry)
    session.commit()
    return len(entries)
