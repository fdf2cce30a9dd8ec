"""One incoming message through parse -> classify -> thread -> act -> persist.

:func:`process` works inside the caller's database session and does not
commit: the poller commits the outcome, the folder checkpoint and any queued
answer together, then acknowledges the message at the source. Every message
ends in exactly one :class:`~mailbot.store.models.Outcome`; failures are
turned into quarantine entries by :mod:`mailbot.poller`, which knows the
stage that failed from :class:`Stage`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from jinja2 import TemplateError
from sqlmodel import Session, select

from mailbot import (
    acks,
    bounces,
    conversation,
    estimates,
    lifecycle,
    limits,
    outbox,
    report_intake,
    reports,
    staffmail,
    tickets,
    triage,
)
from mailbot.classify import OwnIdentity, classify
from mailbot.config import (
    IdentityConfig,
    LifecycleConfig,
    LimitsConfig,
    LoopsConfig,
    SlaTarget,
    StaffMember,
    default_sla,
)
from mailbot.faq import KnowledgeBase
from mailbot.model import MailKind, ParsedMail, RawMail, Verdict
from mailbot.notify import Notifier
from mailbot.parse import parse_mail
from mailbot.privacy import Keys, Sealer
from mailbot.render import Renderer
from mailbot.rules import Decision, RuleWatcher
from mailbot.store.models import Message, Outcome, Ticket, TicketStatus, utcnow

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
    """What :func:`process` needs besides the message: who we are, how to
    write, and the keys that protect personal data."""

    identity_config: IdentityConfig
    renderer: Renderer
    keys: Keys
    report_settings: reports.ReportSettings = field(default_factory=reports.ReportSettings)
    rules: RuleWatcher | None = None
    faq: KnowledgeBase | None = None
    faq_base_url: str | None = None
    loops_config: LoopsConfig = field(default_factory=LoopsConfig)
    max_message_bytes: int = 50 * 1024 * 1024
    limits: LimitsConfig = field(default_factory=LimitsConfig)  # [limits]
    staff: staffmail.StaffDirectory = field(default_factory=staffmail.StaffDirectory)
    lifecycle_config: LifecycleConfig = field(default_factory=LifecycleConfig)
    sla: Mapping[str, SlaTarget] = field(default_factory=default_sla)
    identity: OwnIdentity = field(init=False)
    sealer: Sealer = field(init=False)
    notifier: Notifier = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "identity", own_identity(self.identity_config))
        object.__setattr__(self, "sealer", Sealer(self.keys))
        object.__setattr__(self, "notifier", Notifier(
            self.renderer, self.identity_config, self.loops_config,
            auto_resolve_days=self.lifecycle_config.auto_resolve_days,
            auto_close_days=self.lifecycle_config.auto_close_days,
            internal=self.identity.addresses | self.staff.addresses()))


@dataclass(frozen=True)
class IntakeResult:
    """The outcome of one message; *outcome* None means "already processed"."""

    outcome: Outcome | None
    reason: str
    message_id: str | None
    ticket_ref: str | None = None
    message_row_id: int | None = None


def process(session: Session, mail: RawMail, ctx: IntakeContext, stage: Stage) -> IntakeResult:
    """Decide and record what becomes of *mail* (not committed)."""
    stage.name = "parse"
    if len(mail.raw) > ctx.max_message_bytes:
        raise QuarantineMail(f"message of {len(mail.raw):,} bytes is over the limit of "
                             f"{ctx.max_message_bytes:,} ([limits] max_message_bytes)")
    parsed = parse_mail(mail.raw, ctx.limits)
    stage.name = "dedupe"
    same_id = _stored_with_same_identity(session, parsed)
    if any(row.content_sha256 == parsed.content_sha256 for row in same_id):
        return IntakeResult(None, "already processed", parsed.message_id)
    if same_id:
        return _record(session, mail, parsed, ctx, None, Outcome.IGNORED,
                       f"duplicate Message-ID already stored as message #{same_id[0].id}")
    stage.name = "classify"
    verdict = classify(parsed.message, parsed.from_addr, ctx.identity)
    stage.name = "thread"
    thread = tickets.locate(session, parsed)
    ticket, thread_note, refused = conversation.writable(session, parsed, thread)
    if verdict.kind != MailKind.NORMAL:
        return _ignore_machine_mail(session, mail, parsed, ctx, ticket, verdict)
    member = None if parsed.from_is_fallback else ctx.staff.member(parsed.from_addr)
    if member is not None:
        stage.name = "staff"
        handled = _staff_mail(session, mail, parsed, ctx, member, thread, verdict)
        if handled is not None:
            return handled
    effect = conversation.requester_effect(ticket, parsed)
    if ticket is not None and ticket.status == TicketStatus.CLOSED and effect.rating is None:
        ticket, thread_note = None, f"{ticket.ref} is closed: a new ticket is opened"
    stage.name = "report"
    report = report_intake.analyse(parsed, ctx.report_settings, ctx.keys)
    if report is not None and ticket is not None and _only_quoted(parsed, report):
        report = None  # a reply quoting the report's text is an ordinary reply
    if report is not None:
        parsed = parsed.with_texts(report.scrub)
        earlier = report_intake.ticket_of_same_report(session, report) if ticket is None else None
        if earlier is not None and not tickets.may_write(earlier, parsed):
            return _record(session, mail, parsed, ctx, earlier, Outcome.IGNORED,
                           f"same report {report.report_id} as {earlier.ref}, sent by another "
                           "address: kept on that ticket for the record", verdict, report)
        if earlier is not None:
            ticket, thread_note = earlier, f"report {report.report_id} sent again -> {earlier.ref}"
    if ticket is not None:
        parsed = report_intake.scrub_known_names(session, ticket, parsed, ctx.keys)
    if ticket is None and report is None and tickets.is_status_request(parsed):
        stage.name = "status request"
        done = acks.queue_status_list(session, parsed,
                                      tickets.open_tickets_of(session, parsed.from_addr),
                                      ctx.renderer, ctx.identity_config, ctx.loops_config)
        return _record(session, mail, parsed, ctx, None, Outcome.IGNORED, done, verdict)
    stage.name = "rules"
    language = ticket.language if ticket else acks.choose_language(
        parsed, ctx.identity_config.default_language)
    decision = triage.decide(ctx.rules, parsed, verdict.kind.value, language, report)
    if decision is not None and decision.ignore_reason:
        return _record(session, mail, parsed, ctx, ticket, Outcome.IGNORED,
                       f"rule {decision.stopped_by}: {decision.ignore_reason}", verdict,
                       report, decision)
    stage.name = "act"
    if not parsed.from_addr or "@" not in parsed.from_addr:
        raise QuarantineMail("no usable sender address in From")
    if ticket is not None:
        ticket.updated_at = utcnow()
        triage.apply_decision(session, ticket, decision, new_ticket=False)
        result = _record(session, mail, parsed, ctx, ticket, Outcome.APPENDED,
                         "; ".join(n for n in (thread_note, effect.detail) if n), verdict,
                         report, decision)
        stage.name = "follow-up"
        conversation.after_reply(session, ticket, parsed, ctx.notifier, ctx.staff, thread,
                                 effect, result.message_row_id, ctx.identity.addresses)
        return result
    ticket, opened = tickets.open_ticket(session, parsed, language)
    if (ticket.reply_to or "").lower() in ctx.notifier.internal:
        ticket.reply_to = None  # a Reply-To naming us or staff: answers go to From
    reason = ("new report" if report else "new request") + (
        f" ({thread_note})" if thread_note else "")
    result = _record(session, mail, parsed, ctx, ticket, Outcome.NEW_TICKET, reason, verdict,
                     report, decision)
    opened.message_row_id = result.message_row_id
    lifecycle.invite(ticket, parsed.to, parsed.cc, ctx.identity.addresses)
    triage.apply_decision(session, ticket, decision)  # after the report: rules have the last word
    if refused is not None:
        conversation.log_refused_write(session, refused, ticket, parsed, result.message_row_id)
    stage.name = "acknowledge"
    _acknowledge(session, ticket, parsed, ctx, report, decision)
    conversation.copy_to_team(session, ticket, parsed, ctx.notifier, ctx.staff, "new")
    return result


def _staff_mail(session: Session, mail: RawMail, parsed: ParsedMail, ctx: IntakeContext,
                member: StaffMember, thread: tickets.Thread,
                verdict: Verdict) -> IntakeResult | None:
    """An authenticated staff mail: commands and answer applied to the ticket.

    None when it is to be handled as an ordinary mail: not authenticated
    (forged), or a staff member writing a new request of their own.
    """
    auth = ctx.staff.authenticate(parsed)
    ticket = tickets.follow_merges(session, thread.ticket) if thread.ticket else None
    if not auth.authenticated:
        log.warning("mail claiming to be from staff %s is not authenticated (%s): handled as "
                    "an external mail", parsed.from_addr, auth.reason)
        if ticket is not None:
            lifecycle.record_event(session, ticket, "staff_auth_failed",
                                   f"mail from {parsed.from_addr} not authenticated: "
                                   f"{auth.reason}; nothing applied", actor=parsed.from_addr)
        return None
    if ticket is not None:
        parsed = report_intake.scrub_known_names(session, ticket, parsed, ctx.keys)
    staff_plan = staffmail.plan(session, parsed, member, ticket, ctx.staff)
    own_request = ticket is not None and conversation.is_requester(ticket, parsed)
    if (ticket is None or own_request) and not staff_plan.commands and not staff_plan.errors:
        return None  # staff writing as a requester: about their own request, or a new one
    if staff_plan.errors:
        result = _record(session, mail, parsed, ctx, ticket, Outcome.IGNORED, staff_plan.reason,
                         verdict)
        ctx.notifier.command_help(session, ticket, parsed.from_addr, member.name,
                                  staff_plan.errors, staffmail.help_lines(
                                      ctx.identity_config.default_language),
                                  parsed.message_id)
        return result
    result = _record(session, mail, parsed, ctx, ticket, Outcome.APPENDED, staff_plan.reason,
                     verdict)
    staffmail.apply(session, staff_plan, ctx.notifier, result.message_row_id)
    return result


def _acknowledge(session: Session, ticket: Ticket, parsed: ParsedMail, ctx: IntakeContext,
                 report: reports.Report | None, decision: Decision | None) -> None:
    """The acknowledgement, or the auto-replies rules chose instead, with FAQ suggestions.

    Rule auto-replies go out for a new ticket only: a requester who writes
    three times about a password gets one automatic answer, not three.
    """
    suggestions = triage.faq_suggestions(session, ticket, parsed, decision, ctx.faq, report,
                                         ctx.faq_base_url)
    estimate = estimates.resolution_estimate(session, ticket.priority, ticket.category,
                                             ctx.sla, ctx.lifecycle_config)
    for template in dict.fromkeys(decision.auto_replies if decision else ()) or ("ack",):
        try:  # rendering comes before anything is added to the session
            acks.queue_acknowledgement(session, ticket, parsed, ctx.renderer,
                                       ctx.identity_config, is_report=report is not None,
                                       template=template, suggestions=suggestions,
                                       loops_config=ctx.loops_config, estimate=estimate)
        except TemplateError as exc:  # a rule's template is broken: the requester still
            if template == "ack":      # gets the standard acknowledgement
                raise
            log.error("auto-reply template %r failed (%s): sending the acknowledgement",
                      template, exc)
            acks.queue_acknowledgement(session, ticket, parsed, ctx.renderer,
                                       ctx.identity_config, is_report=report is not None,
                                       suggestions=suggestions, loops_config=ctx.loops_config,
                                       estimate=estimate)


def _ignore_machine_mail(session: Session, mail: RawMail, parsed: ParsedMail,
                        ctx: IntakeContext, ticket: Ticket | None,
                        verdict: Verdict) -> IntakeResult:
    """Record machine mail as ignored; a bounce of one of our answers goes on its ticket."""
    reason = f"{verdict.kind.value}: {verdict.reason}"
    if ticket is None:
        ticket, our_id = tickets.answered_ticket(session, bounces.referenced_ids(parsed.message))
        if ticket is not None and our_id and verdict.kind == MailKind.BOUNCE:
            status = bounces.delivery_status(parsed.message) or parsed.subject
            outbox.record_bounce(session, our_id, status)
            reason += f" (our answer {our_id} bounced)"
    return _record(session, mail, parsed, ctx, ticket, Outcome.IGNORED, reason, verdict)


def _only_quoted(parsed: ParsedMail, report: reports.Report) -> bool:
    """Whether the report was read only from quoted history, not from new text."""
    return report.sources == ["body"] and not reports.is_report(
        dataclasses.replace(parsed, text=parsed.reply_text))


def _stored_with_same_identity(session: Session, parsed: ParsedMail) -> list[Message]:
    """Incoming rows with this Message-ID (or, without one, these exact bytes)."""
    query = select(Message).where(Message.direction == "in")
    if parsed.message_id:
        query = query.where(Message.message_id == parsed.message_id)
    else:
        query = query.where(Message.message_id == "",
                            Message.content_sha256 == parsed.content_sha256)
    return list(session.exec(query))


def _record(session: Session, mail: RawMail, parsed: ParsedMail, ctx: IntakeContext,
            ticket: Ticket | None, outcome: Outcome, reason: str,
            verdict: Verdict | None = None, report: reports.Report | None = None,
            decision: Decision | None = None) -> IntakeResult:
    """Store the message with its outcome (raw bytes sealed) and, if any, its report."""
    message = Message(
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
        outcome_detail=limits.defect_note(parsed.defects),
        rule_hits=triage.rule_names(decision),
        raw_sealed=True,
        raw=ctx.sealer.seal(report_intake.raw_to_keep(mail.raw, report, parsed,
                                                      ctx.report_settings, ctx.keys)),
    )
    session.add(message)
    if ticket is not None:
        session.add(ticket)
    session.flush()  # the row's id: events caused by this message point at it
    if ticket is not None and parsed.defects and outcome != Outcome.IGNORED:
        lifecycle.record_event(session, ticket, "mail_defects",
                               limits.defect_note(parsed.defects), actor=parsed.from_addr,
                               message_row_id=message.id)
    if report is not None and ticket is not None:
        report_intake.attach_report(session, ticket, report, message, ctx.keys)
    log.info("%s %s: %s%s", parsed.message_id or "(no Message-ID)", outcome.value, reason,
             f" [{ticket.ref}]" if ticket else "")
    return IntakeResult(outcome, reason, parsed.message_id, ticket.ref if ticket else None,
                        message.id)
