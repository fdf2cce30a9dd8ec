"""What time alone changes: unanswered solutions become « résolu », resolved
tickets close, tickets past their SLA target are escalated once.

:func:`sweep` takes the current time as a parameter (``mailbot sweep --now``
and the tests move the clock). Each change is claimed with a conditional
UPDATE, so two sweeps running at once (the scheduler and a manual command)
never escalate or notify twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlmodel import Session, col, select

from mailbot import lifecycle
from mailbot.config import LifecycleConfig, SlaTarget
from mailbot.notify import Notifier
from mailbot.staffmail import StaffDirectory
from mailbot.store.models import Ticket, TicketStatus, as_utc

log = logging.getLogger("mailbot.sweep")

ESCALATION_TAG = "escalade"
# Waiting for the requester (« solution proposée ») does not count against resolution.
RESOLUTION_CLOCK_STATUSES = (TicketStatus.NEW, TicketStatus.ANALYSING)


@dataclass
class SweepReport:
    """Tracking numbers of the tickets each kind of change touched."""

    resolved: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # logged; tried again next sweep


def sweep(session: Session, now: dt.datetime, config: LifecycleConfig,
          sla: Mapping[str, SlaTarget], notifier: Notifier,
          staff: StaffDirectory) -> SweepReport:
    """Apply the timers at *now*; commits after each ticket."""
    report = SweepReport()
    moves = ((TicketStatus.SOLUTION_PROPOSED, TicketStatus.RESOLVED, config.auto_resolve_days,
              report.resolved),
             (TicketStatus.RESOLVED, TicketStatus.CLOSED, config.auto_close_days, report.closed))
    for old, new, days, done in moves:
        cutoff = now - dt.timedelta(days=days)
        due = (Ticket.status == old, col(Ticket.status_changed_at) <= cutoff)
        for ticket in _due(session, *due):
            with _isolated(session, ticket, report):
                if _claim(session, ticket, *due):
                    lifecycle.change_status(session, ticket, new, now=now,
                                            detail=f"no news for {days:g} days")
                    notifier.follow_up(session, ticket, new_status=new, reason="auto", now=now)
                    session.commit()
                    done.append(ticket.ref)
    unescalated = (col(Ticket.escalated_at).is_(None),
                   col(Ticket.status).in_([s.value for s in lifecycle.OPEN_STATUSES]))
    for ticket in _due(session, *unescalated):
        with _isolated(session, ticket, report):
            if _breach(ticket, sla.get(ticket.priority), now) and _claim(
                    session, ticket, *unescalated):
                breach = _breach(ticket, sla.get(ticket.priority), now)  # as claimed
                if breach:
                    _escalate(session, ticket, breach, notifier, staff, now)
                    report.escalated.append(ticket.ref)
                session.commit()
    return report


@contextlib.contextmanager
def _isolated(session: Session, ticket: Ticket, report: SweepReport) -> Iterator[None]:
    """One ticket that cannot be handled (a broken template) must not stop the others."""
    ref = ticket.ref
    try:
        yield
    except Exception:
        session.rollback()
        log.exception("sweep: %s skipped, tried again at the next sweep", ref)
        report.failed.append(ref)


def _due(session: Session, *conditions: object) -> list[Ticket]:
    return list(session.exec(select(Ticket).where(*conditions).order_by(col(Ticket.id))))


def _claim(session: Session, ticket: Ticket, *still: object) -> bool:
    """Whether this sweep won *ticket*: the conditions it was selected on still hold
    as the row is locked (another sweep, or a reply, may have changed it since)."""
    won = session.execute(update(Ticket).where(col(Ticket.id) == ticket.id, *still)
                          .values(updated_at=Ticket.updated_at)).rowcount == 1
    if won:
        session.refresh(ticket)
    else:
        session.rollback()  # release the write lock at once
    return won


def _breach(ticket: Ticket, target: SlaTarget | None, now: dt.datetime
            ) -> tuple[str, float] | None:
    """The target *ticket* has missed at *now* (``first_response`` or ``resolution``)."""
    if target is None:
        return None
    age = now - as_utc(ticket.created_at)
    if ticket.first_response_at is None and age >= dt.timedelta(
            hours=target.first_response_hours):
        return "first_response", target.first_response_hours
    if ticket.status in RESOLUTION_CLOCK_STATUSES and age >= dt.timedelta(
            hours=target.resolution_hours):
        return "resolution", target.resolution_hours
    return None


def _escalate(session: Session, ticket: Ticket, breach: tuple[str, float],
              notifier: Notifier, staff: StaffDirectory, now: dt.datetime) -> None:
    kind, hours = breach
    ticket.escalated_at = now
    if ESCALATION_TAG not in ticket.tags:
        ticket.tags = [*ticket.tags, ESCALATION_TAG]
    session.add(ticket)
    to_addr = staff.escalation_address(ticket)
    what = f"{kind.replace('_', ' ')} target of {hours:g} h missed"
    if to_addr is None:
        lifecycle.record_event(session, ticket, "escalated", f"{what}; no lead or team address "
                               "configured: nobody was mailed", now=now)
        return
    notifier.escalation(session, ticket, to_addr, kind, hours, now)
    lifecycle.record_event(session, ticket, "escalated", f"{what}; {to_addr} warned", now=now)
