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
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlmodel import Session, select

from mailbot import report_intake
from mailbot.errors import StoreError
from mailbot.intake import IntakeContext, IntakeResult, Stage, process
from mailbot.model import RawMail
from mailbot.sources import Source
from mailbot.store.models import FolderState, Message, Outcome, PollRun, utcnow

log = logging.getLogger("mailbot.intake")


@dataclass
class PollReport:
    """Counts per outcome for one poll, plus the individual results."""

    counts: Counter[str] = field(default_factory=Counter)
    results: list[IntakeResult] = field(default_factory=list)

    def add(self, result: IntakeResult) -> None:
        self.results.append(result)
        self.counts[result.outcome.value if result.outcome else "already_processed"] += 1


def poll_once(engine: Engine, source: Source, ctx: IntakeContext,
              should_stop: Callable[[], bool] = lambda: False) -> PollReport:
    """Process every new message of *source* once; return what became of them.

    *should_stop* is checked between messages so that a shutdown does not
    wait for a whole mailbox. A database failure (:class:`StoreError`) stops
    the poll without moving the checkpoint: the message is fetched again next
    time, it is not quarantined for a fault that is not its own.
    """
    report = PollReport()
    for mail in source.fetch_new(load_checkpoint(engine, source.origin)):
        if should_stop():
            log.info("stop requested: the rest of %s waits for the next poll", source.origin)
            break
        result = _process_or_quarantine(engine, mail, ctx)
        report.add(result)
        source.acknowledge(mail)
    _record_poll_run(engine, source.origin, len(report.results))
    return report


def _record_poll_run(engine: Engine, origin: str, messages: int) -> None:
    """Note that *origin* was polled to the end (for `mailbot status` and monitoring)."""
    with Session(engine) as session:
        run = session.exec(select(PollRun).where(PollRun.origin == origin)).first()
        run = run or PollRun(origin=origin)
        run.last_poll_at, run.messages = utcnow(), messages
        session.add(run)
        try:
            session.commit()
        except IntegrityError:  # a concurrent poll inserted it first: theirs is as good
            session.rollback()


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
            stage.name = "commit"
            session.commit()
            return result
        except IntegrityError as exc:
            session.rollback()
            if _already_stored(session, mail):  # a concurrent poll stored it first
                return IntakeResult(None, "already processed by a concurrent poll", None)
            error, detail = exc, traceback.format_exc()
        except DataError as exc:  # a value the database refuses: the message's fault
            session.rollback()
            error, detail = exc, traceback.format_exc()
        except DBAPIError as exc:  # the database is unwell, not the message
            session.rollback()
            raise StoreError(f"database error at {stage.name}: {exc.orig!r}") from exc
        except Exception as exc:  # the runner boundary: anything else becomes a quarantine
            session.rollback()
            error, detail = exc, traceback.format_exc()
    return _quarantine(engine, mail, ctx, stage.name, error, detail)


def _already_stored(session: Session, mail: RawMail) -> bool:
    sha = hashlib.sha256(mail.raw).hexdigest()
    return session.exec(select(Message.id).where(
        Message.direction == "in", Message.content_sha256 == sha)).first() is not None


def replay_quarantined(engine: Engine, row_id: int, ctx: IntakeContext) -> IntakeResult:
    """Run quarantined message *row_id* through intake again.

    On success the quarantine entry is replaced by the new outcome, in one
    transaction; on failure nothing changes and the error is raised.
    """
    with Session(engine) as session:
        row = session.get(Message, row_id)
        if row is None or row.outcome != Outcome.QUARANTINED.value:
            raise LookupError(f"no quarantined message #{row_id}")
        raw = ctx.sealer.unseal(row.raw) if row.raw_sealed else row.raw
        mail = RawMail(raw=raw, origin=row.origin, source_key=row.source_key)
        session.delete(row)
        session.flush()
        result = process(session, mail, ctx, Stage())
        session.commit()
    log.info("replayed quarantined message #%s: %s", row_id,
             result.outcome.value if result.outcome else result.reason)
    return result


def _quarantine(engine: Engine, mail: RawMail, ctx: IntakeContext, stage: str,
                error: Exception, detail: str) -> IntakeResult:
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
                outcome_reason=reason, outcome_detail=detail[-8000:],
                raw_sealed=True, raw=ctx.sealer.seal(_raw_to_keep(mail, ctx)),
            ))
        _save_checkpoint(session, mail)
        try:
            session.commit()
        except DBAPIError as exc:
            raise StoreError(f"database error while quarantining: {exc.orig!r}") from exc
    return IntakeResult(Outcome.QUARANTINED, reason, None)


def _raw_to_keep(mail: RawMail, ctx: IntakeContext) -> bytes:
    """What to seal for a quarantined mail: an oversized one is kept whole, unparsed
    (parsing it is what the size limit avoids)."""
    if len(mail.raw) > ctx.max_message_bytes:
        return mail.raw
    return report_intake.raw_to_keep(mail.raw, None, None, ctx.report_settings, ctx.keys)


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
