"""The important scenarios again, on a real PostgreSQL instead of SQLite.

Every test gets a fresh database (``postgres_url`` in conftest.py) on one private server per
session (tests/pgserver.py); ``service`` below overrides conftest's SQLite one, so
``inbox`` and the helpers work unchanged. Skipped when PostgreSQL is not installed, unless
``MAILBOT_REQUIRE_SERVERS=1``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event
from typer.testing import CliRunner

from mailbot import acks, poller
from mailbot.cli import app
from mailbot.model import RawMail
from mailbot.poller import replay_quarantined
from mailbot.service import Service
from mailbot.store import queries
from mailbot.store.models import (
    Incident,
    IncidentTicket,
    OutboxState,
    Outcome,
    Report,
    TicketEvent,
    TicketStatus,
)
from tests import reportmail
from tests.helpers import (
    as_message,
    deliver,
    incoming,
    local_config,
    outbox,
    rows,
    tickets,
    write_config,
)
from tests.mails import make_mail
from tests.test_robustness import (  # noqa: F401  the same scenarios, collected here on PostgreSQL
    test_concurrent_poll_storing_the_same_message_first_is_not_a_quarantine,
    test_two_flushes_at_once_send_each_message_once,
)


@pytest.fixture
def service(tmp_path: Path, postgres_url: str) -> Iterator[Service]:
    """The embedded default (Maildir in and out) with its database on PostgreSQL."""
    config = local_config(tmp_path)
    config.database.url = postgres_url
    service = Service.from_config(config)
    assert service.engine.dialect.name == "postgresql"
    try:
        yield service
    finally:
        service.engine.dispose()  # before postgres_url drops the database


def test_french_mail_opens_a_ticket_and_the_acknowledgement_is_sent(service, inbox):
    deliver(inbox, make_mail(), "1")
    assert service.poll().counts == {"new_ticket": 1}

    [ticket] = tickets(service)
    assert ticket.status == TicketStatus.NEW and ticket.language == "fr"
    assert ticket.requester == "elodie.martin@ecole-jules-ferry.example"
    assert ticket.requester_name == "Élodie Martin"
    assert ticket.created_at.utcoffset() == dt.timedelta(0)  # timestamptz, aware UTC
    [event] = rows(service, TicketEvent)
    assert (event.old_status, event.new_status) == (None, "nouvelle demande")
    [message] = incoming(service)
    assert message.outcome == Outcome.NEW_TICKET and "45 %" in message.body_text
    assert b"<q1@ecole-jules-ferry.example>" in service.context.sealer.unseal(message.raw)

    [entry] = outbox(service)
    ack = as_message(entry.raw)
    assert ack["Subject"].startswith(f"[#{ticket.ref}] Demande reçue")
    assert ack["In-Reply-To"] == "<q1@ecole-jules-ferry.example>"
    assert entry.state == OutboxState.PENDING

    assert service.flush().sent == 1
    [sent] = list((service.config.sender.maildir.path / "new").iterdir())
    assert sent.read_bytes() == (f"Return-Path: <{entry.mail_from}>\r\n"
                                 f"Delivered-To: {entry.rcpt_to}\r\n").encode() + entry.raw
    [entry] = outbox(service)
    assert entry.state == OutboxState.SENT and entry.attempts == 1
    assert entry.sent_at is not None and entry.sent_at.utcoffset() == dt.timedelta(0)
    assert service.flush().sent == 0


def test_reply_by_in_reply_to_lands_on_the_ticket(service, inbox):
    deliver(inbox, make_mail(), "1")
    service.poll()
    [ticket], [ack] = tickets(service), outbox(service)
    reply = make_mail("C'est bon, ça refonctionne.\n\n> Nous avons bien reçu votre message\n",
                      message_id="<r1@ecole-jules-ferry.example>", Subject="Re: merci",
                      In_Reply_To=ack.message_id)
    deliver(inbox, reply, "2")
    assert service.poll().counts == {"appended": 1}
    [appended] = [m for m in incoming(service) if m.outcome == Outcome.APPENDED]
    assert appended.ticket_id == ticket.id
    assert appended.body_text == "C'est bon, ça refonctionne."
    assert len(tickets(service)) == 1 and len(outbox(service)) == 1


def test_the_same_mail_twice_is_processed_once(service, inbox):
    deliver(inbox, make_mail(), "1")
    service.poll()
    deliver(inbox, make_mail(), "2")
    assert service.poll().counts == {"already_processed": 1}
    assert len(tickets(service)) == 1 and len(incoming(service)) == 1
    assert len(outbox(service)) == 1
    assert service.poll().counts == {}


def test_auto_reply_is_ignored(service, inbox):
    deliver(inbox, make_mail(Auto_Submitted="auto-replied",
                             Subject="Réponse automatique : absent"), "1")
    assert service.poll().counts == {"ignored": 1}
    [message] = incoming(service)
    assert message.outcome_reason.startswith("auto_reply:")
    assert tickets(service) == [] and outbox(service) == []


def test_mail_without_sender_is_quarantined_and_replay_keeps_it_until_fixed(service, inbox):
    deliver(inbox, make_mail(From=None, message_id="<nofrom@x.example>"), "1")
    deliver(inbox, make_mail(message_id="<ok@x.example>"), "2")
    assert service.poll().counts == {"quarantined": 1, "new_ticket": 1}
    quarantined = next(m for m in incoming(service) if m.outcome == "quarantined")
    assert "no usable sender" in quarantined.outcome_reason
    assert quarantined.raw_sealed and b"nofrom@x.example" not in quarantined.raw
    assert b"<nofrom@x.example>" in service.context.sealer.unseal(quarantined.raw)

    with pytest.raises(Exception, match="no usable sender"):  # still no sender: kept
        replay_quarantined(service.engine, quarantined.id, service.context)
    assert sorted(m.outcome for m in incoming(service)) == ["new_ticket", "quarantined"]
    assert len(tickets(service)) == 1


def test_quarantined_message_is_replayed_once_fixed(service, inbox, monkeypatch):
    real = acks.queue_acknowledgement
    monkeypatch.setattr(acks, "queue_acknowledgement",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk full")))
    deliver(inbox, make_mail(), "1")
    assert service.poll().counts == {"quarantined": 1}
    [row] = incoming(service)
    assert row.outcome_reason == "acknowledge: RuntimeError: disk full"
    assert tickets(service) == [] and outbox(service) == []  # the half-made ticket is gone

    monkeypatch.setattr(acks, "queue_acknowledgement", real)
    result = replay_quarantined(service.engine, row.id, service.context)
    assert result.outcome == Outcome.NEW_TICKET
    assert [m.outcome for m in incoming(service)] == ["new_ticket"]
    assert len(tickets(service)) == 1 and len(outbox(service)) == 1
    with pytest.raises(LookupError):
        replay_quarantined(service.engine, row.id, service.context)


def report_from(i: int, sender: str, version: str = "2.2.5") -> bytes:
    """Report *i* (own report id and Message-ID) sent by *sender*."""
    raw = reportmail.build_report_mail(app_version=version, report_id_header=False,
                                       json_changes={"report_id": f"id-{i}"})
    raw = raw.replace(b"claire.dubois@ecole-les-tilleuls.example", sender.encode())
    return raw.replace(b"Message-ID: <", f"Message-ID: <i{i}-".encode())


def deliver_incident_reports(inbox: Path) -> None:
    """Four reports: three of 2.2.5 from two schools, one of 2.2.4."""
    for i, (sender, version) in enumerate([
            ("claire.dubois@ecole-les-tilleuls.example", "2.2.5"),
            ("paul.roux@college-jean-moulin.example", "2.2.5"),
            ("anne.petit@ecole-les-tilleuls.example", "2.2.5"),
            ("marc.blanc@ecole-du-port.example", "2.2.4")]):
        deliver(inbox, report_from(i, sender, version), f"{i}")


def test_report_becomes_a_ticket_with_its_data_and_an_incident(service, inbox):
    deliver(inbox, reportmail.build_report_mail(), "1")
    assert service.poll().counts == {"new_ticket": 1}
    [ticket] = tickets(service)
    assert (ticket.priority, ticket.category) == ("urgente", "technique")
    [report] = rows(service, Report)
    assert report.ticket_id == ticket.id and report.report_id == reportmail.REPORT_ID
    assert report.data["app_version"] == "2.2.5" and report.data["os"] == "iPadOS"
    assert report.data["error_codes"] == reportmail.JOURNAL_COUNTS  # JSON round trip
    assert report.name_digests
    [incident] = rows(service, Incident)
    assert incident.signature == report.signature and incident.app_version == "2.2.5"
    [link] = rows(service, IncidentTicket)
    assert (link.incident_id, link.ticket_id) == (incident.id, ticket.id)
    [message] = incoming(service)
    assert "Léa" not in message.body_text and "[ELV-" in message.body_text


def test_reports_sharing_a_signature_are_counted_per_incident(service, inbox):
    deliver_incident_reports(inbox)
    assert service.poll().counts == {"new_ticket": 4}
    views = {v.incident.app_version: v for v in queries.list_incidents(service.engine)}
    assert (views["2.2.5"].tickets, views["2.2.5"].schools) == (3, 2)
    assert (views["2.2.4"].tickets, views["2.2.4"].schools) == (1, 1)


def test_two_pollers_opening_the_same_incident_at_once_quarantine_nothing(service):
    """Poller B looks the signature up, poller A then stores its report with the same new
    signature and commits, then B goes on: with two mailbot machines on one database (the
    reason to use PostgreSQL) this is a normal interleaving, not a broken message."""
    mail_a = RawMail(raw=report_from(1, "paul.roux@college-jean-moulin.example"),
                     origin="maildir:x", source_key="a")
    mail_b = RawMail(raw=report_from(2, "anne.petit@ecole-les-tilleuls.example"),
                     origin="maildir:x", source_key="b")
    b_looked, a_committed = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def pause_b_after_lookup(conn, cursor, statement, *args) -> None:
        if (threading.current_thread().name == "poller-b" and "FROM incidents" in statement
                and not b_looked.is_set()):
            b_looked.set()
            a_committed.wait(30)

    def poll_b() -> None:
        results["b"] = poller._process_or_quarantine(service.engine, mail_b, service.context)

    event.listen(service.engine, "after_cursor_execute", pause_b_after_lookup)
    b = threading.Thread(target=poll_b, name="poller-b")
    b.start()
    try:
        assert b_looked.wait(30)
        results["a"] = poller._process_or_quarantine(service.engine, mail_a, service.context)
    finally:
        a_committed.set()
        b.join(60)
        event.remove(service.engine, "after_cursor_execute", pause_b_after_lookup)
    assert results["a"].outcome == Outcome.NEW_TICKET
    assert [m.outcome_reason for m in incoming(service) if m.outcome == "quarantined"] == []
    assert results["b"].outcome == Outcome.NEW_TICKET
    [view] = queries.list_incidents(service.engine)
    assert (view.tickets, view.schools) == (2, 2)


def test_ticket_view_and_list_tickets(service, inbox):
    deliver(inbox, make_mail(), "1")
    deliver(inbox, reportmail.build_report_mail(), "2")
    service.poll()
    listed = queries.list_tickets(service.engine)
    assert len(listed) == 2
    assert listed[0].updated_at >= listed[1].updated_at  # most recently updated first
    assert queries.list_tickets(service.engine, status="résolu") == []
    assert len(queries.list_tickets(service.engine, status=TicketStatus.NEW.value)) == 2

    report_ticket = next(t for t in listed if t.priority == "urgente")
    view = queries.ticket_view(service.engine, report_ticket.ref.lower())
    assert view is not None and view.ticket.id == report_ticket.id
    assert [m.direction for m in view.messages] == ["in", "out"]
    assert [e.new_status for e in view.events] == ["nouvelle demande"]
    assert len(view.outbox) == 1 and len(view.reports) == 1
    assert view.reports[0].data["report_id"] == reportmail.REPORT_ID
    assert queries.ticket_view(service.engine, "T-NOPE") is None


def test_cli_lists_tickets_and_incidents_from_postgres(service, inbox):
    deliver_incident_reports(inbox)
    service.poll()
    config = write_config(service)
    assert config.read_text().startswith('[database]\nurl = "postgresql+psycopg://')

    listing = CliRunner().invoke(app, ["tickets", "list", "--config", str(config)])
    assert listing.exit_code == 0, listing.output
    for ticket in tickets(service):
        assert ticket.ref in listing.output

    listing = CliRunner().invoke(app, ["incidents", "list", "--config", str(config)])
    assert listing.exit_code == 0, listing.output
    [signature] = [i.signature for i in rows(service, Incident) if i.app_version == "2.2.5"]
    row = next(line for line in listing.output.splitlines() if line.startswith(signature))
    assert row.split()[3:5] == ["3", "2"]  # tickets, schools


def test_body_with_a_nul_character_does_not_block_the_mailbox(service, inbox):
    deliver(inbox, make_mail("Bonjour\x00, l'export ne marche plus.\n"), "1")
    deliver(inbox, make_mail(message_id="<after@x.example>"), "2")
    assert service.poll().counts == {"new_ticket": 2}
    assert all("\x00" not in m.body_text for m in incoming(service))
