"""The act step for e-carnet assistance reports: diagnosis, resends, incidents.

:mod:`mailbot.reports` turns a report mail into aggregates, pseudonyms and
findings (pure); this module stores that on the ticket, recognises a report
sent twice (same ``X-ECarnet-Report-Id``) and groups reports sharing an error
signature into an :class:`~mailbot.store.models.Incident`.
"""

from __future__ import annotations

import email
import email.policy

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mailbot import reports
from mailbot.model import ParsedMail
from mailbot.parse import parse_mail
from mailbot.privacy import Keys, pseudonymiser
from mailbot.store.models import Incident, IncidentTicket, Message, Report, Ticket, utcnow

RECIPIENT_CATEGORY = {"technique": "technique", "pedagogique": "pédagogique"}


def analyse(parsed: ParsedMail, settings: reports.ReportSettings,
            keys: Keys) -> reports.Report | None:
    """The report carried by *parsed*, or None for an ordinary mail."""
    if not reports.is_report(parsed):
        return None
    return reports.extract_report(parsed, settings, pseudonymiser(keys, parsed.from_addr))


def ticket_of_same_report(session: Session, report: reports.Report) -> Ticket | None:
    """The ticket that already holds a report with this report id, if any."""
    if not report.report_id:
        return None
    row = session.exec(select(Report).where(Report.report_id == report.report_id)).first()
    return session.get(Ticket, row.ticket_id) if row else None


def attach_report(session: Session, ticket: Ticket, report: reports.Report,
                  message: Message, keys: Keys) -> None:
    """Store the diagnosis on *ticket*, take its priority and category, link its incident.

    A report whose id is already stored (sent twice) adds nothing.
    """
    assert ticket.id is not None
    if report.report_id and session.exec(
            select(Report.id).where(Report.report_id == report.report_id)).first():
        return  # the same report sent again: the first copy already holds it
    session.add(Report(ticket_id=ticket.id, message_row_id=message.id,
                       report_id=report.report_id, signature=report.signature,
                       data=report.to_json(),
                       name_digests=report.name_digests(keys.pseudonym_key)))
    if report.priority:
        ticket.priority = report.priority
    if report.recipient:
        ticket.category = RECIPIENT_CATEGORY.get(report.recipient, report.recipient)
    session.add(ticket)
    if report.signature:
        _link_incident(session, ticket, report)


def scrub_known_names(session: Session, ticket: Ticket, parsed: ParsedMail,
                      keys: Keys) -> ParsedMail:
    """*parsed* with the names of the students of *ticket*'s reports replaced.

    For later messages on a report's ticket ("c'est toujours bloqué pour
    Léa"): the names were never stored, only keyed digests of them.
    """
    digests: dict[str, str] = {}
    for stored in session.exec(select(Report).where(Report.ticket_id == ticket.id)):
        digests.update(stored.name_digests or {})
    if not digests:
        return parsed
    return parsed.with_texts(
        lambda text: reports.scrub_with_digests(text, digests, keys.pseudonym_key))


def _incident(session: Session, signature: str) -> Incident:
    """The incident of *signature*, created if new.

    Created in a savepoint: another poller (PostgreSQL allows several) may
    create the same incident between our look-up and our insert; then we
    use theirs instead of failing the whole message.
    """
    found = session.exec(select(Incident).where(Incident.signature == signature)).first()
    if found is not None:
        return found
    version, _, code = signature.partition("|")
    try:
        with session.begin_nested():
            incident = Incident(signature=signature, app_version=version, error_code=code)
            session.add(incident)
        return incident
    except IntegrityError:
        return session.exec(select(Incident).where(Incident.signature == signature)).one()


def _link_incident(session: Session, ticket: Ticket, report: reports.Report) -> None:
    assert ticket.id is not None and report.signature is not None
    incident = _incident(session, report.signature)
    incident.last_seen = utcnow()
    session.add(incident)
    session.flush()
    assert incident.id is not None
    linked = session.exec(select(IncidentTicket).where(
        IncidentTicket.incident_id == incident.id,
        IncidentTicket.ticket_id == ticket.id)).first()
    if linked is None:
        session.add(IncidentTicket(incident_id=incident.id, ticket_id=ticket.id,
                                   school=ticket.requester.rpartition("@")[2]))


LIST_FILES = ("eleves.csv", "medias.csv")
DROPPED_NOTE = "Liste supprimée à la réception : consentement au traitement refusé.\n"


def raw_to_keep(raw: bytes, report: reports.Report | None, parsed: ParsedMail | None,
                settings: reports.ReportSettings, keys: Keys) -> bytes:
    """The bytes to store for a message: without the student and media lists
    when the teacher refused consent (the rest, their words included, stays).

    Every path that stores raw mail calls this (a report ignored as machine
    mail, a quarantined one): *report* is worked out here when not given.
    """
    if report is None:
        try:
            parsed = parsed or parse_mail(raw)
            report = analyse(parsed, settings, keys)
        except Exception:  # unreadable mail: it cannot be a readable report either
            return raw
    if report is None or not report.lists_dropped:
        return raw
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for part in message.walk():
        filename = part.get_filename() or ""
        if filename.lower() in LIST_FILES and not part.is_multipart():
            part.set_content(DROPPED_NOTE, disposition="attachment", filename=filename)
    return message.as_bytes(policy=email.policy.SMTP)
