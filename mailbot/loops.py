"""The last guard before automatic mail: who must never get one, and how many.

Classification already keeps machines out (auto-replies, bounces, lists, our
own mail). This adds what a header cannot tell: ``noreply``-style and
deny-listed addresses, and a per-recipient rate limit on automatic mail, so
that even an autoresponder that sets none of the right headers gets at most
a handful of answers. The ticket is still opened; the suppression is
recorded on it.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re

from sqlmodel import Session, col, func, select

from mailbot.config import LoopsConfig
from mailbot.store.models import OutboxEntry, utcnow

NOREPLY = re.compile(
    r"^(no-?reply|do-?not-?reply|ne-?pas-?repondre|mailer-daemon|postmaster|bounces?)"
    r"([+._-].*)?@", re.IGNORECASE)


def refusal(session: Session, recipient: str, config: LoopsConfig,
            now: dt.datetime | None = None) -> str | None:
    """Why *recipient* must not get automatic mail now, or None if it may."""
    address = recipient.lower()
    if NOREPLY.match(address):
        return f"{address} does not read replies (noreply-style address)"
    for pattern in config.deny:
        if fnmatch.fnmatchcase(address, pattern.lower()):
            return f"{address} is deny-listed ({pattern})"
    now = now or utcnow()
    for window, limit in ((dt.timedelta(hours=1), config.max_per_hour),
                          (dt.timedelta(days=1), config.max_per_day)):
        sent = session.exec(select(func.count()).select_from(OutboxEntry).where(
            col(OutboxEntry.rcpt_to) == address, col(OutboxEntry.automatic).is_(True),
            col(OutboxEntry.created_at) >= now - window)).one()
        if sent >= limit:
            return f"{address} already got {sent} automatic mails in {_span(window)}"
    return None


def _span(window: dt.timedelta) -> str:
    return "the last hour" if window <= dt.timedelta(hours=1) else "the last day"
