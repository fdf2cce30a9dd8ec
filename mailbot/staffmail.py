"""Mail from staff: commands applied to the ticket, the answer relayed to the requester.

Two steps around the recording of the message (:mod:`mailbot.intake`):
:func:`plan` reads the commands and checks every one of them, changing
nothing; :func:`apply` then carries them out, each change an event pointing
at the recorded message. A mail with any invalid command changes nothing at
all: its sender gets the list of valid commands instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from mailbot import lifecycle, quotes
from mailbot.classify.auto_reply import VACATION_SUBJECT
from mailbot.config import Config, StaffMember
from mailbot.model import ParsedMail
from mailbot.notify import Notifier
from mailbot.staff_commands import HELP, Command, parse_commands
from mailbot.staffauth import AuthVerdict, check_sender
from mailbot.store.models import Message, Ticket, TicketStatus, utcnow
from mailbot.tickets import merge_tickets

_SIGNATURE_LINE = re.compile(r"^-- ?\n", re.MULTILINE)
STATUS_COMMANDS = {"solution": TicketStatus.SOLUTION_PROPOSED,
                   "resolved": TicketStatus.RESOLVED, "close": TicketStatus.CLOSED}


@dataclass(frozen=True)
class StaffDirectory:
    """Who the staff are and how their mail proves it."""

    members: Mapping[str, StaffMember] = field(default_factory=dict)
    authserv_ids: tuple[str, ...] = ()
    trusted_relays: tuple[str, ...] = ()
    teams: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config) -> StaffDirectory:
        """The directory described by ``[[staff]]``, ``[staff_auth]`` and ``[teams]``."""
        return cls(members={m.address: m for m in config.staff},
                   authserv_ids=tuple(config.staff_auth.authserv_ids),
                   trusted_relays=tuple(config.staff_auth.trusted_relays),
                   teams=dict(config.teams))

    def addresses(self) -> frozenset[str]:
        """Every staff and team address, lower-case."""
        return frozenset({*self.members, *(a.lower() for a in self.teams.values())})

    def member(self, address: str) -> StaffMember | None:
        """The staff member writing from *address*, or None."""
        return self.members.get(address.lower())

    def authenticate(self, parsed: ParsedMail) -> AuthVerdict:
        """Whether *parsed* really comes from its From address (see :mod:`mailbot.staffauth`)."""
        return check_sender(parsed.message, parsed.from_addr, self.authserv_ids,
                            self.trusted_relays)

    def escalation_address(self, ticket: Ticket) -> str | None:
        """The assignee's lead, else the ticket team's address, else None."""
        assignee = self.members.get(ticket.assignee or "")
        if assignee is not None and assignee.lead:
            return assignee.lead
        return self.teams.get(ticket.category or "")


@dataclass(frozen=True)
class StaffPlan:
    """What an authenticated staff mail asks for, checked but not yet applied."""

    member: StaffMember
    ticket: Ticket | None
    commands: tuple[Command, ...]
    errors: tuple[str, ...]
    relay_text: str  # what goes to the requester ("" for an internal note)
    note_text: str = ""  # the text of an internal note mail, never sent
    withheld: str = ""   # why an answer was not relayed (reply-all, vacation, too many)

    @property
    def reason(self) -> str:
        """The outcome reason recorded on the message."""
        who = f"staff {self.member.address}"
        if self.errors:
            return f"{who}: not applied ({'; '.join(self.errors)})"
        # Command names only: a #note's text may hold personal data and this is logged.
        done = [f"#{c.name}" + (f" {c.value}" if c.value and c.name != "note" else "")
                for c in self.commands]
        if self.relay_text:
            done.append("answer relayed to the requester")
        if self.withheld:
            done.append(f"answer withheld: {self.withheld}")
        return f"{who}: {', '.join(done) or 'nothing to do'}"


def plan(session: Session, parsed: ParsedMail, member: StaffMember, ticket: Ticket | None,
         directory: StaffDirectory) -> StaffPlan:
    """Read and check the commands of a staff mail to *ticket* (None: no ticket found)."""
    block = parse_commands(quotes.extract_reply(parsed.text, keep_signature=True))
    errors = list(block.errors)
    if ticket is None and (block.commands or errors):
        errors.append("no ticket: reply to a mail about the ticket, or put its tracking "
                      "number [#ECN-XXXXXX] in the subject")
    for command in block.commands if ticket is not None else ():
        if command.name == "assign" and command.value not in directory.members:
            errors.append(f"{command.line.strip()}: {command.value} is not in the staff list")
        if command.name == "merge":
            errors.extend(_merge_problem(session, ticket, command))
    internal = any(c.name == "note" for c in block.commands)
    # The signature stays, its "-- " line goes: in the relayed mail it would make
    # the reader's client grey out everything below as a signature.
    text = _SIGNATURE_LINE.sub("", block.text).strip() if ticket is not None else ""
    # ... but a signature alone is not an answer.
    has_words = bool(parse_commands(quotes.extract_reply(parsed.text)).text.strip())
    if ticket is not None and not (has_words and not internal) and any(
            c.name == "solution" or c.value == TicketStatus.SOLUTION_PROPOSED
            for c in block.commands):
        errors.append("#solution: write the solution below the commands, it is what the "
                      "requester receives")
    withheld = _withheld(session, parsed, ticket, block.commands) if (
        has_words and not internal and ticket is not None) else ""
    relay = text if has_words and not internal and not withheld else ""
    return StaffPlan(member, ticket, block.commands, tuple(errors), relay_text=relay,
                     note_text=text if internal else "", withheld=withheld)


MAX_RELAYS_PER_HOUR = 10  # per ticket: a conversation, not two robots answering each other


def _withheld(session: Session, parsed: ParsedMail, ticket: Ticket,
              commands: tuple[Command, ...]) -> str:
    """Why a staff answer is not relayed to the requester, or ""."""
    requester = {a.lower() for a in (ticket.requester, ticket.reply_to) if a}
    if requester & {a.lower() for a in (*parsed.to, *parsed.cc)}:
        return "the requester was among the recipients (reply to all): not sent twice"
    if not commands and VACATION_SUBJECT.search(parsed.subject):
        return "looks like an automatic reply (vacation subject): not relayed"
    since = utcnow() - dt.timedelta(hours=1)
    relays = session.exec(select(func.count()).select_from(Message).where(
        Message.ticket_id == ticket.id, Message.direction == "out", Message.kind == "relay",
        col(Message.received_at) >= since)).one()
    if relays >= MAX_RELAYS_PER_HOUR:
        return f"{relays} answers relayed on this ticket in the last hour: not relayed"
    return ""


def _merge_problem(session: Session, ticket: Ticket, command: Command) -> list[str]:
    target = session.exec(select(Ticket).where(Ticket.ref == command.value)).first()
    if target is None:
        return [f"{command.line.strip()}: no ticket {command.value}"]
    if target.id == ticket.id:
        return [f"{command.line.strip()}: a ticket cannot be merged into itself"]
    if target.status == TicketStatus.CLOSED:
        return [f"{command.line.strip()}: {command.value} is closed"]
    return []


def apply(session: Session, staff_plan: StaffPlan, notifier: Notifier,
          message_row_id: int | None, now: dt.datetime | None = None) -> None:
    """Carry out a checked plan on its ticket and queue the requester's mail (not committed)."""
    ticket = staff_plan.ticket
    assert ticket is not None and not staff_plan.errors
    now = now or utcnow()
    actor = staff_plan.member.address
    record = functools.partial(lifecycle.record_event, session, ticket, actor=actor,
                               message_row_id=message_row_id, now=now)
    new_status: str | None = None
    merge_into: str | None = None
    notes = []
    for command in staff_plan.commands:
        if command.name == "status":
            new_status = command.value
        elif command.name in STATUS_COMMANDS:
            new_status = STATUS_COMMANDS[command.name]
        elif command.name == "merge":
            merge_into = command.value
        elif command.name == "note":
            notes.append(command.value)
        else:
            _set_field(session, ticket, command, record)
    if notes:
        record("note", "\n".join(n for n in [*notes, staff_plan.note_text] if n))
    text = staff_plan.relay_text
    if staff_plan.withheld:
        record("relay_withheld", staff_plan.withheld)
    # Answering the requester, here or directly (reply to all), is taking it in hand.
    answered = bool(text) or staff_plan.withheld.startswith("the requester was among")
    explicit = new_status is not None
    if answered and new_status is None and ticket.status == TicketStatus.NEW:
        new_status = TicketStatus.ANALYSING
    if answered and not ticket.assignee:
        ticket.assignee = actor
        record("assign", f"- -> {actor} (first answer)")
    changed = new_status is not None and lifecycle.change_status(
        session, ticket, new_status, actor=actor, message_row_id=message_row_id,
        detail="staff command" if explicit else "answered by staff", now=now)
    if answered or changed:
        ticket.first_response_at = ticket.first_response_at or now
        ticket.updated_at = now
        session.add(ticket)
    if text or (changed and explicit):
        notifier.follow_up(session, ticket, new_status=ticket.status if changed else None,
                           text=text, staff_name=staff_plan.member.name, automatic=False,
                           reason="staff", now=now)
    if merge_into is not None:
        target = session.exec(select(Ticket).where(Ticket.ref == merge_into)).one()
        merge_tickets(session, ticket, target, actor=actor, message_row_id=message_row_id,
                      now=now)
        notifier.follow_up(session, ticket, new_status=TicketStatus.CLOSED, automatic=False,
                           reason="merged", now=now)


def _set_field(session: Session, ticket: Ticket, command: Command,
               record: Callable[[str, str], object]) -> None:
    """Apply ``#priorité``, ``#équipe`` or ``#assigner``."""
    field_name = {"priority": "priority", "team": "category", "assign": "assignee"}[command.name]
    old = getattr(ticket, field_name)
    if old == command.value:
        return
    setattr(ticket, field_name, command.value)
    session.add(ticket)
    record(command.name, f"{old or '-'} -> {command.value}")


def help_lines(language: str) -> list[dict[str, str]]:
    """The valid commands as ``syntax``/``meaning`` pairs in *language*, for the
    help reply (``aide_commandes`` template)."""
    english = language == "en"
    return [{"syntax": syntax_en if english else syntax_fr,
             "meaning": meaning_en if english else meaning_fr}
            for syntax_fr, syntax_en, meaning_fr, meaning_en in HELP]
