"""One incoming message through parse -> classify -> thread -> act -> persist.

:func:`process` works inside the caller's database session and does not
commit: the poller commits the outcome, the folder checkpoint and any queued
answer together, then acknowledges the message at the source. Every message
ends in exactly one :class:`~mailbot.store.models.Outcome`; failures are
turned into quarantine entries by :mod:`mailbot.poller`, which knows the
stage that failed from :class:`Stage`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlmodel import Session, select

from mailbot import acks, threads
from mailbot.classify import OwnIdentity, classify
from mailbot.config import IdentityConfig
from mailbot.model import MailKind, ParsedMail, RawMail, Verdict
from mailbot.parse import parse_mail
from mailbot.render import Renderer
from mailbot.store.models import Message, Outcome, Ticket, TicketEvent, TicketStatus, utcnow

log = logging.getLogger("mailbot.intake")


class QuarantineMail(Exception):
    """Raised by a stage for input it refuses to guess about."""


@dataclass
class Stage:
    """The stage a message is in, for quarantine reasons."""

    name: str = "parse"


def own_identity(cfg: IdentityConfig) -> OwnIdentity:
    """Our addresses and Message-ID domain, as :mod:`mailbot.classify` wants them."""
    return OwnIdentity(
        addresses=frozenset({cfg.support_address.lower(),
                             *(a.lower() for a in cfg.other_addresses)}),
        message_id_domains=frozenset({cfg.message_id_domain.lower()}),
    )


@dataclass(frozen=True)
class IntakeContext:
    """What :func:`process` needs besides the message: who we are, how to write."""

    identity_config: IdentityConfig
    renderer: Renderer
    identity: OwnIdentity = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "identity", own_identity(self.identity_config))


@dataclass(frozen=True)
class IntakeResult:
    """The outcome of one message; *outcome* None means "already processed"."""

    outcome: Outcome | None
    reason: str
    message_id: str | None
    ticket_ref: str | None = None


def process(session: Session, mail: RawMail, ctx: IntakeContext, stage: Stage) -> IntakeResult:
    """Decide and record what becomes of *mail* (not committed)."""
    stage.name = "parse"
    parsed = parse_mail(mail.raw)
    stage.name = "dedupe"
    same_id = _stored_with_same_identity(session, parsed)
    if any(row.content_sha256 == parsed.content_sha256 for row in same_id):
        return IntakeResult(None, "already processed", parsed.message_id)
    if same_id:
        return _record(session, mail, parsed, None, Outcome.IGNORED,
                       f"duplicate Message-ID already stored as message #{same_id[0].id}")
    stage.name = "classify"
    verdict = classify(parsed.message, parsed.from_addr, ctx.identity)
    stage.name = "thread"
    ticket, thread_note = find_ticket(session, parsed)
    if verdict.kind != MailKind.NORMAL:
        return _record(session, mail, parsed, ticket, Outcome.IGNORED,
                       f"{verdict.kind.value}: {verdict.reason}", verdict)
    stage.name = "act"
    if not parsed.from_addr or "@" not in parsed.from_addr:
        raise QuarantineMail("no usable sender address in From")
    if ticket is not None:
        ticket.updated_at = utcnow()
        session.add(ticket)
        return _record(session, mail, parsed, ticket, Outcome.APPENDED, thread_note, verdict)
    ticket = _open_ticket(session, parsed, ctx)
    stage.name = "acknowledge"
    acks.queue_acknowledgement(session, ticket, parsed, ctx.renderer, ctx.identity_config)
    reason = "new request" + (f" ({thread_note})" if thread_note else "")
    return _record(session, mail, parsed, ticket, Outcome.NEW_TICKET, reason, verdict)


def _stored_with_same_identity(session: Session, parsed: ParsedMail) -> list[Message]:
    """Incoming rows with this Message-ID (or, without one, these exact bytes)."""
    query = select(Message).where(Message.direction == "in")
    if parsed.message_id:
        query = query.where(Message.message_id == parsed.message_id)
    else:
        query = query.where(Message.message_id == "",
                            Message.content_sha256 == parsed.content_sha256)
    return list(session.exec(query))


def find_ticket(session: Session, parsed: ParsedMail) -> tuple[Ticket | None, str]:
    """The ticket *parsed* continues, and how it was found (or why it was not).

    References are tried newest first, then the tracking number in the
    subject. Only the requester (From the requester's address or the
    Reply-To address they gave) may add to a ticket: anyone else quoting it
    gets a ticket of their own.
    """
    ticket, how = _by_references(session, parsed)
    if ticket is None:
        ref = threads.find_ticket_ref(parsed.subject)
        if ref:
            ticket = session.exec(select(Ticket).where(Ticket.ref == ref)).first()
            how = f"tracking number {ref} in subject"
    if ticket is None:
        return None, ""
    # From decides, not Reply-To: anyone can put the requester's address there.
    participants = {a for a in (ticket.requester, ticket.reply_to) if a}
    if parsed.from_addr not in participants:
        return None, f"refers to {ticket.ref} but {parsed.from_addr} is not its requester"
    return ticket, f"{how} -> {ticket.ref}"


def _by_references(session: Session, parsed: ParsedMail) -> tuple[Ticket | None, str]:
    for ref_id in reversed([*parsed.references, *parsed.in_reply_to]):
        known = session.exec(
            select(Message).where(Message.message_id == ref_id,
                                  Message.ticket_id.is_not(None)).limit(1)  # type: ignore[union-attr]
        ).first()
        if known is not None:
            return session.get(Ticket, known.ticket_id), f"reply to {ref_id}"
    return None, ""


def _open_ticket(session: Session, parsed: ParsedMail, ctx: IntakeContext) -> Ticket:
    ticket = Ticket(
        ref=_unused_ref(session),
        requester=parsed.from_addr,
        requester_name=parsed.from_name,
        reply_to=parsed.reply_to,
        subject=parsed.subject,
        language=acks.choose_language(parsed, ctx.identity_config.default_language),
    )
    session.add(ticket)
    session.flush()
    assert ticket.id is not None
    session.add(TicketEvent(ticket_id=ticket.id, kind="status", old_status=None,
                            new_status=TicketStatus.NEW.value, detail="ticket opened"))
    return ticket


def _unused_ref(session: Session) -> str:
    while True:
        ref = threads.new_ticket_ref()
        if session.exec(select(Ticket.id).where(Ticket.ref == ref)).first() is None:
            return ref


def _record(session: Session, mail: RawMail, parsed: ParsedMail, ticket: Ticket | None,
            outcome: Outcome, reason: str, verdict: Verdict | None = None) -> IntakeResult:
    session.add(Message(
        ticket_id=ticket.id if ticket else None,
        direction="in",
        message_id=parsed.message_id or "",
        content_sha256=parsed.content_sha256,
        origin=mail.origin,
        source_key=mail.source_key,
        from_addr=parsed.from_addr,
        subject=parsed.subject,
        sent_at=parsed.date,
        kind=verdict.kind.value if verdict else "",
        # A forward without a note has no new text: keep what was forwarded.
        body_text=parsed.reply_text or parsed.text,
        outcome=outcome.value,
        outcome_reason=reason,
        raw=mail.raw,
    ))
    log.info("%s %s: %s%s", parsed.message_id or "(no Message-ID)", outcome.value, reason,
             f" [{ticket.ref}]" if ticket else "")
    return IntakeResult(outcome, reason, parsed.message_id, ticket.ref if ticket else None)
