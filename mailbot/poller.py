"""The runner boundary: pull messages from a source, one transaction each.

For each message: :func:`mailbot.intake.process`, then the folder checkpoint,
then commit, then acknowledge at the source. This is the only place that
catches everything: a message that makes any stage fail is rolled back and
stored as a quarantine entry (raw bytes, stage, error) instead, so the service
carries on and nothing is silently dropped. ``mailbot quarantine`` shows them.
"""

from __future__ import annotations

import hashlib
import logging
import traceback
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session, select

from mailbot.intake import IntakeContext, IntakeResult, Stage, process
from mailbot.model import RawMail
from mailbot.sources import Source
from mailbot.store.models import FolderState, Message, Outcome, utcnow

log = logging.getLogger("mailbot.intake")


@dataclass
class PollReport:
    """Counts per outcome for one poll, plus the individual results."""

    counts: Counter[str] = field(default_factory=Counter)
    results: list[IntakeResult] = field(default_factory=list)

    def add(self, result: IntakeResult) -> None:
        self.results.append(result)
        self.counts[result.outcome.value if result.outcome else "already_processed"] += 1


def poll_once(engine: Engine, source: Source, ctx: IntakeContext) -> PollReport:
    """Process every new message of *source* once; return what became of them."""
    report = PollReport()
    for mail in source.fetch_new(load_checkpoint(engine, source.origin)):
        result = _process_or_quarantine(engine, mail, ctx)
        report.add(result)
        source.acknowledge(mail)
    return report


def load_checkpoint(engine: Engine, origin: str) -> tuple[int, int] | None:
    """The saved ``(uidvalidity, last_uid)`` of *origin*, if any."""
    with Session(engine) as session:
        state = _folder_state(session, origin)
        return (state.uidvalidity, state.last_uid) if state else None


def _process_or_quarantine(engine: Engine, mail: RawMail, ctx: IntakeContext) -> IntakeResult:
    stage = Stage()
    with Session(engine) as session:
        try:
            result = process(session, mail, ctx, stage)
            _save_checkpoint(session, mail)
            session.commit()
            return result
        except Exception as exc:  # the runner boundary: anything becomes a quarantine
            session.rollback()
            error = exc
            detail = traceback.format_exc()
    return _quarantine(engine, mail, stage.name, error, detail)


def replay_quarantined(engine: Engine, row_id: int, ctx: IntakeContext) -> IntakeResult:
    """Run quarantined message *row_id* through intake again.

    On success the quarantine entry is replaced by the new outcome, in one
    transaction; on failure nothing changes and the error is raised.
    """
    with Session(engine) as session:
        row = session.get(Message, row_id)
        if row is None or row.outcome != Outcome.QUARANTINED.value:
            raise LookupError(f"no quarantined message #{row_id}")
        mail = RawMail(raw=row.raw, origin=row.origin, source_key=row.source_key)
        session.delete(row)
        session.flush()
        result = process(session, mail, ctx, Stage())
        session.commit()
    log.info("replayed quarantined message #%s: %s", row_id,
             result.outcome.value if result.outcome else result.reason)
    return result


def _quarantine(engine: Engine, mail: RawMail, stage: str, error: Exception,
                detail: str) -> IntakeResult:
    reason = f"{stage}: {type(error).__name__}: {error}"
    log.error("quarantined %s from %s: %s", mail.source_key, mail.origin, reason)
    sha = hashlib.sha256(mail.raw).hexdigest()
    with Session(engine) as session:
        already = session.exec(select(Message).where(
            Message.direction == "in", Message.content_sha256 == sha,
            Message.outcome == Outcome.QUARANTINED.value)).first()
        if already is None:
            session.add(Message(
                direction="in", message_id="", content_sha256=sha, origin=mail.origin,
                source_key=mail.source_key, outcome=Outcome.QUARANTINED.value,
                outcome_reason=reason, outcome_detail=detail[-8000:], raw=mail.raw,
            ))
        _save_checkpoint(session, mail)
        session.commit()
    return IntakeResult(Outcome.QUARANTINED, reason, None)


def _folder_state(session: Session, origin: str) -> FolderState | None:
    return session.exec(select(FolderState).where(FolderState.origin == origin)).first()


def _save_checkpoint(session: Session, mail: RawMail) -> None:
    if mail.checkpoint is None:
        return
    uidvalidity, uid = mail.checkpoint
    state = _folder_state(session, mail.origin) or FolderState(origin=mail.origin)
    if state.uidvalidity != uidvalidity:
        state.uidvalidity, state.last_uid = uidvalidity, 0
    state.last_uid = max(state.last_uid, uid)
    state.updated_at = utcnow()
    session.add(state)
