"""How long a new ticket will probably take, for the acknowledgement.

The estimate is the median time to « résolu » of recent tickets of the same
priority and team; with too few of them, the SLA resolution target for the
priority stands in (and the text says it is a target, not a measure).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select

from mailbot.config import LifecycleConfig, SlaTarget
from mailbot.store.models import Ticket, as_utc, utcnow

MAX_SAMPLES = 200


@dataclass(frozen=True)
class Estimate:
    """A duration and where it comes from: ``history`` (n tickets) or ``target``."""

    duration: dt.timedelta
    basis: str
    samples: int = 0


def resolution_estimate(session: Session, priority: str, team: str | None,
                        sla: Mapping[str, SlaTarget], config: LifecycleConfig,
                        now: dt.datetime | None = None) -> Estimate | None:
    """The expected time from opening to resolution for a ticket like this one."""
    since = (now or utcnow()) - dt.timedelta(days=config.estimate_window_days)
    query = select(Ticket.created_at, Ticket.resolved_at).where(
        Ticket.priority == priority, col(Ticket.resolved_at).is_not(None),
        col(Ticket.resolved_at) >= since)
    query = query.where(Ticket.category == team if team else col(Ticket.category).is_(None))
    rows = session.exec(query.order_by(col(Ticket.resolved_at).desc()).limit(MAX_SAMPLES)).all()
    durations = [as_utc(resolved) - as_utc(created) for created, resolved in rows]
    if len(durations) >= config.estimate_min_tickets:
        return Estimate(statistics.median(durations), "history", len(durations))
    target = sla.get(priority)
    if target is None:
        return None
    return Estimate(dt.timedelta(hours=target.resolution_hours), "target")


def describe(estimate: Estimate, language: str) -> str:
    """« environ 2 jours » / « about 2 days »: rounded the way a person would say it
    (a target is exact: « 5 jours »)."""
    hours = estimate.duration.total_seconds() / 3600
    fr = language == "fr"
    if hours < 1:
        return "moins d'une heure" if fr else "less than an hour"
    if hours < 36:
        count, unit = max(1, round(hours)), ("heure" if fr else "hour")
    else:
        count, unit = max(2, round(hours / 24)), ("jour" if fr else "day")
    plural = "s" if count > 1 else ""
    about = "" if estimate.basis == "target" else ("environ " if fr else "about ")
    return f"{about}{count} {unit}{plural}"
