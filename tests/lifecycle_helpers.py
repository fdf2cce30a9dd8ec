"""Staff, their mail and a service that knows them, for the lifecycle tests."""

from __future__ import annotations

from itertools import count
from pathlib import Path

from sqlmodel import Session, select

from mailbot.config import Config, StaffMember
from mailbot.service import Service
from mailbot.store.models import OutboxEntry, Ticket, TicketEvent
from tests.helpers import as_message, deliver, local_config
from tests.mails import make_mail

MARIE = "marie.durand@ecarnet.example"
PAUL = "paul.leroy@ecarnet.example"
LEAD = "chef.technique@ecarnet.example"
TEAM_TECH = "equipe-technique@ecarnet.example"
REQUESTER = "elodie.martin@ecole-jules-ferry.example"
AUTHSERV = "mx.ecarnet.example"
PASS = (f"{AUTHSERV}; dkim=pass header.d=ecarnet.example header.s=sel1; "
        "spf=pass smtp.mailfrom=marie.durand@ecarnet.example")
FAIL = (f"{AUTHSERV}; dkim=fail reason=\"signature verification failed\" "
        "header.d=ecarnet.example; spf=fail smtp.mailfrom=marie.durand@ecarnet.example")

_ids = count(1)


def with_staff(config: Config) -> Config:
    """*config* plus two staff members, our authserv-id and a team address."""
    config.staff = [
        StaffMember(address=MARIE, name="Marie Durand", team="technique", lead=LEAD),
        StaffMember(address=PAUL, name="Paul Leroy", team="pédagogique", role="lead"),
        StaffMember(address=LEAD, name="Sophie Lambert", team="technique", role="lead"),
    ]
    config.staff_auth.authserv_ids = [AUTHSERV]
    config.teams = {"technique": TEAM_TECH}
    return config


def staff_service(tmp_path: Path) -> Service:
    """The embedded default service with staff configured."""
    return Service.from_config(with_staff(local_config(tmp_path)))


def poster(service: Service):
    """A function that delivers raw mail to *service*'s Maildir, polls once and returns
    the outcome counts."""
    def post(raw: bytes) -> dict[str, int]:
        deliver(service.config.source.maildir.path, raw, f"m{next(_ids)}")
        return dict(service.poll().counts)
    return post


def staff_mail(body: str, ref: str, *, auth: str | None = PASS, sender: str = MARIE,
               name: str = "Marie Durand", in_reply_to: str | None = None) -> bytes:
    """A mail from *sender* about ticket *ref*, with our server's Authentication-Results."""
    headers = {"From": f"{name} <{sender}>", "To": "Support e-carnet <support@ecarnet.example>",
               "Subject": f"Re: [#{ref}] Les photos ne se synchronisent plus"}
    if auth is not None:
        headers["Authentication_Results"] = auth
    if in_reply_to:
        headers["In_Reply_To"] = in_reply_to
    return make_mail(body, message_id=f"<staff{next(_ids)}@ecarnet.example>", **headers)


def requester_mail(body: str, ref: str, in_reply_to: str | None = None, **headers: str) -> bytes:
    """The requester writing again about *ref*."""
    fields = {"Subject": f"Re: [#{ref}] Les photos ne se synchronisent plus", **headers}
    if in_reply_to:
        fields["In_Reply_To"] = in_reply_to
    return make_mail(body, message_id=f"<req{next(_ids)}@ecole-jules-ferry.example>", **fields)


def the_ticket(service: Service, ref: str | None = None) -> Ticket:
    with Session(service.engine) as session:
        query = select(Ticket) if ref is None else select(Ticket).where(Ticket.ref == ref)
        return session.exec(query.order_by(Ticket.id)).first()


def events(service: Service, ticket: Ticket, kind: str | None = None) -> list[TicketEvent]:
    with Session(service.engine) as session:
        query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
        if kind:
            query = query.where(TicketEvent.kind == kind)
        return list(session.exec(query.order_by(TicketEvent.id)))


def mail_to(service: Service, address: str) -> list:
    """Parsed outgoing mail queued for *address*, oldest first."""
    with Session(service.engine) as session:
        entries = session.exec(select(OutboxEntry).where(OutboxEntry.rcpt_to == address)
                               .order_by(OutboxEntry.id))
        return [as_message(e.raw) for e in entries]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
