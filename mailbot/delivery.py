"""The send step: claim due outbox rows, hand them to a transport, settle them."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from mailbot import outbox
from mailbot.config import OutboxConfig
from mailbot.errors import (
    DeliveryError,
    PermanentDeliveryError,
    SenderSetupError,
    TransientDeliveryError,
)
from mailbot.send import Transport
from mailbot.store.models import OutboxEntry, OutboxState

log = logging.getLogger("mailbot.send")


@dataclass
class FlushReport:
    """What one flush did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def flush_outbox(engine: Engine, transport: Transport, config: OutboxConfig) -> FlushReport:
    """Deliver every due outbox row once; safe to call from a scheduler thread."""
    return asyncio.run(flush_outbox_async(engine, transport, config))


async def flush_outbox_async(engine: Engine, transport: Transport,
                             config: OutboxConfig) -> FlushReport:
    """Async body of :func:`flush_outbox`, for callers already in an event loop.

    One row at a time: claim it (committed), deliver it, settle it (committed
    right after the server's answer). Until nothing is due: a row that fails
    gets a later ``next_attempt_at``, so the loop ends.
    """
    report = FlushReport()
    with Session(engine, expire_on_commit=False) as session:
        while (entry := outbox.claim_next(session, config)) is not None:
            setup_failed = await _deliver_one(session, entry, transport, config, report)
            session.commit()
            if setup_failed:  # our login or TLS is wrong: every other row would fail
                break         # the same way, and repeated refused logins lock accounts
    return report


async def _deliver_one(session: Session, entry: OutboxEntry, transport: Transport,
                       config: OutboxConfig, report: FlushReport) -> bool:
    """Send one claimed row and settle it; True when our own sender setup is at fault."""
    try:
        try:
            await transport.deliver(entry.mail_from, entry.rcpt_to, entry.raw)
        except DeliveryError:
            raise
        except Exception as exc:  # a transport bug must not leave the row claimed
            raise TransientDeliveryError(f"unexpected {type(exc).__name__}: {exc}") from exc
    except TransientDeliveryError as exc:
        outbox.mark_transient_failure(session, entry, str(exc), config,
                                      count_attempt=not isinstance(exc, SenderSetupError))
        if entry.state == OutboxState.FAILED:
            report.failed += 1
            log.error("giving up on %s to %s: %s", entry.message_id, entry.rcpt_to, exc)
        else:
            report.retrying += 1
            log.warning("will retry %s to %s at %s: %s", entry.message_id, entry.rcpt_to,
                        entry.next_attempt_at.isoformat(timespec="seconds"), exc)
        return isinstance(exc, SenderSetupError)
    except PermanentDeliveryError as exc:
        outbox.mark_permanent_failure(session, entry, str(exc))
        report.failed += 1
        log.error("refused %s to %s: %s", entry.message_id, entry.rcpt_to, exc)
    else:
        outbox.mark_sent(session, entry)
        report.sent += 1
        log.info("sent %s to %s via %s", entry.message_id, entry.rcpt_to,
                 transport.description)
    return False
