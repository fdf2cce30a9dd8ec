"""Mail mailbot writes about a ticket: follow-ups to the requester, copies for
the team, help for staff, escalations. Queued in the outbox, never sent here.

Each mail threads on the ticket (In-Reply-To/References point at its latest
messages), carries the tracking number in its subject, and is rendered from a
template in ``templates/`` with the ticket's data as variables only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from sqlmodel import Session, col, select

from mailbot import loops, outbox
from mailbot.compose import ReplyContext, ascii_address, build_reply
from mailbot.config import IdentityConfig, LoopsConfig
from mailbot.render import RenderedMail, Renderer, format_date
from mailbot.store.models import Message, Ticket, TicketEvent, TicketStatus
from mailbot.threads import tag_subject

THREAD_DEPTH = 10  # Message-IDs of the ticket cited in References


@dataclass(frozen=True)
class Notifier:
    """Renders and queues the mail of the ticket lifecycle."""

    renderer: Renderer
    identity: IdentityConfig
    loops_config: LoopsConfig = field(default_factory=LoopsConfig)
    auto_resolve_days: float = 7
    auto_close_days: float = 14
    # Our own, staff and team addresses: a requester's Reply-To naming one of them is
    # ignored, or the requester's notices would go to us (and come back as our own mail).
    internal: frozenset[str] = frozenset()

    def follow_up(self, session: Session, ticket: Ticket, *, new_status: str | None = None,
                  text: str = "", staff_name: str = "", automatic: bool = True,
                  reason: str = "", now: dt.datetime | None = None) -> str | None:
        """Tell the requester what changed: a staff answer (*text*), a new status,
        or both in one mail. Returns why nothing was sent, or None.

        ``résolu`` mails carry the rating links; *reason* (``auto``,
        ``requester``, ``staff``, ``merged``) lets the template explain why.
        """
        reply_to = ticket.reply_to if (ticket.reply_to or "").lower() not in self.internal \
            else None
        to_addr = ascii_address(reply_to or ticket.requester)
        if to_addr is None:
            return self._not_sent(session, ticket, "delivery_failed",
                                  f"the address {ticket.requester} needs SMTPUTF8")
        if automatic:
            refused = loops.refusal(session, to_addr, self.loops_config)
            if refused:
                return self._not_sent(session, ticket, "auto_reply_suppressed", refused)
        lang = ticket.language
        rendered = self.renderer.render(
            "suivi", lang, ticket_ref=ticket.ref, subject=ticket.subject,
            requester_name=ticket.requester_name, support_name=self.identity.support_name,
            new_status=new_status or "", status=ticket.status, text=text,
            staff_name=staff_name, reason=reason, merged_into=ticket.merged_into or "",
            auto_resolve_days=days(self.auto_resolve_days, lang),
            auto_close_days=days(self.auto_close_days, lang),
            updated_on=format_date(now or dt.datetime.now(dt.UTC), lang,
                                   self.identity.timezone),
            rating_links=self.rating_links(ticket) if new_status == TicketStatus.RESOLVED
            else [])
        context = self._thread(session, ticket, to_addr,
                               "" if reply_to else ticket.requester_name)
        kind = "relay" if text else "status_notice"
        self._queue(session, ticket, rendered_subject_fix(rendered, ticket.ref), context, lang,
                    automatic=automatic, kind=kind,
                    auto_submitted=None if text else "auto-generated")
        return None

    def rating_links(self, ticket: Ticket) -> list[dict[str, object]]:
        """``mailto:`` links that pre-fill a rating answer, 5 down to 1."""
        address = self.identity.support_address
        links = []
        for score in range(5, 0, -1):
            subject = quote(f"[#{ticket.ref}] Note {score}/5", safe="")
            links.append({"score": score,
                          "url": f"mailto:{address}?subject={subject}&body={score}"})
        return links

    def team_copy(self, session: Session, ticket: Ticket, to_addr: str, text: str,
                  from_addr: str, event: str) -> None:
        """Send the team (or the assignee) what the requester wrote, so that a
        staff member can answer by replying to it (*event*: ``new`` or ``reply``).

        Automatic mail, under the loop guard's limits: a requester's robot
        writing every minute must not flood a staff mailbox (nor set off its
        vacation robot, whose answer would be relayed back).
        """
        refused = loops.refusal(session, to_addr, self.loops_config)
        if refused:
            self._not_sent(session, ticket, "auto_reply_suppressed", f"team copy: {refused}")
            return
        rendered = self.renderer.render(
            "copie_equipe", self.identity.default_language, ticket_ref=ticket.ref,
            subject=ticket.subject, requester=from_addr, text=text, event=event,
            status=ticket.status, priority=ticket.priority, team=ticket.category or "",
            support_name=self.identity.support_name)
        context = self._thread(session, ticket, to_addr, "")
        self._queue(session, ticket, rendered_subject_fix(rendered, ticket.ref), context,
                    self.identity.default_language, automatic=True, kind="team_copy",
                    auto_submitted="auto-generated")

    def command_help(self, session: Session, ticket: Ticket | None, to_addr: str,
                     to_name: str, errors: Sequence[str], commands: Sequence[object],
                     in_reply_to: str | None) -> None:
        """Answer a staff mail whose commands could not be applied (loop-guarded)."""
        if loops.refusal(session, to_addr, self.loops_config):
            return
        rendered = self.renderer.render(
            "aide_commandes", self.identity.default_language,
            ticket_ref=ticket.ref if ticket else "", errors=list(errors),
            commands=list(commands), support_name=self.identity.support_name)
        context = ReplyContext(to_addr=to_addr, to_name=to_name, in_reply_to=in_reply_to,
                               references=[in_reply_to] if in_reply_to else [])
        self._queue(session, ticket, rendered, context, self.identity.default_language,
                    automatic=True, kind="command_help", auto_submitted="auto-replied")

    def escalation(self, session: Session, ticket: Ticket, to_addr: str, breach: str,
                   target_hours: float, now: dt.datetime) -> None:
        """Warn a lead (or the team) that *ticket* missed its SLA target."""
        lang = self.identity.default_language
        rendered = self.renderer.render(
            "escalade", lang, ticket_ref=ticket.ref, subject=ticket.subject,
            priority=ticket.priority, team=ticket.category or "", status=ticket.status,
            assignee=ticket.assignee or "", breach=breach, target_hours=_number(target_hours),
            opened_on=format_date(ticket.created_at, lang, self.identity.timezone),
            support_name=self.identity.support_name)
        context = self._thread(session, ticket, to_addr, "")
        self._queue(session, ticket, rendered_subject_fix(rendered, ticket.ref), context, lang,
                    automatic=False, kind="escalation", auto_submitted="auto-generated")

    def _thread(self, session: Session, ticket: Ticket, to_addr: str,
                to_name: str) -> ReplyContext:
        ids = [m for m in session.exec(
            select(Message.message_id).where(Message.ticket_id == ticket.id,
                                             Message.message_id != "")
            .order_by(col(Message.id).desc()).limit(THREAD_DEPTH))][::-1]
        return ReplyContext(to_addr=to_addr, to_name=to_name,
                            in_reply_to=ids[-1] if ids else None, references=ids)

    def _queue(self, session: Session, ticket: Ticket | None, rendered: RenderedMail,
               context: ReplyContext,
               language: str, *, automatic: bool, kind: str,
               auto_submitted: str | None) -> None:
        message = build_reply(rendered, context, from_addr=self.identity.support_address,
                              from_name=self.identity.support_name,
                              msgid_domain=self.identity.message_id_domain, language=language,
                              auto_submitted=auto_submitted)
        outbox.enqueue(session, message, ticket.id if ticket else None, automatic=automatic,
                       kind=kind)

    @staticmethod
    def _not_sent(session: Session, ticket: Ticket, kind: str, why: str) -> str:
        assert ticket.id is not None
        session.add(TicketEvent(ticket_id=ticket.id, kind=kind,
                                detail=f"follow-up not sent: {why}"))
        return why


def rendered_subject_fix(rendered: RenderedMail, ticket_ref: str) -> RenderedMail:
    """*rendered* with the tracking number guaranteed in its subject (a template
    edited by the team may forget it; replies find their ticket by it)."""
    return replace(rendered, subject=tag_subject(rendered.subject, ticket_ref))


def _number(value: float) -> int | float:
    """7.0 -> 7 for the text of a mail; 1.5 stays 1.5."""
    return int(value) if float(value).is_integer() else value


def days(value: float, language: str) -> str:
    """« 7 jours », « 1 jour », « 1,5 jour » / "7 days", "1 day", "1.5 days"."""
    if language == "fr":
        number = f"{value:g}".replace(".", ",")
        return f"{number} jour" + ("s" if value >= 2 else "")
    return f"{value:g} day" + ("" if value == 1 else "s")
