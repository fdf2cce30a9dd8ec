"""The important scenarios again, on a real PostgreSQL instead of SQLite.

Every test gets a fresh database (``postgres_url`` in conftest.py) on one private server per
session (tests/pgserver.py); ``service`` below overrides conftest's SQLite one, so
``inbox`` and the helpers work unchanged. Skipped when PostgreSQL is not installed, unless
``MAILBOT_REQUIRE_SERVERS=1``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event
from typer.testing import CliRunner

from mailbot import poller
from mailbot.cli import app
from mailbot.model import RawMail
from mailbot.service import Service
from mailbot.store import queries
from mailbot.store.models import (
    Incident,
    Outcome,
    TicketStatus,
)
from tests import reportmail
from tests.helpers import (
    deliver,
    incoming,
    local_config,
    rows,
    tickets,
    write_config,
)
from tests.mails import make_mail

# The same scenarios as on SQLite, collected here so that they run on PostgreSQL
# (this module's ``service`` fixture overrides the SQLite one).
from tests.test_intake import (  # noqa: F401
    test_a_failing_stage_rolls_back_and_quarantines,
    test_machine_mail_never_opens_a_ticket_nor_gets_an_answer,
    test_mail_without_sender_is_quarantined_and_the_next_one_still_processed,
    test_new_mail_opens_a_ticket_and_queues_a_french_acknowledgement,
    test_quarantined_message_can_be_replayed_once_fixed,
    test_reply_to_the_acknowledgement_lands_on_the_ticket_with_only_the_new_text,
    test_the_same_mail_twice_is_processed_once,
)
from tests.test_report_intake import (  # noqa: F401
    test_later_replies_on_a_report_ticket_are_cleaned_of_names,
    test_report_becomes_a_ticket_with_its_diagnosis,
    test_same_report_sent_twice_is_one_ticket,
)
from tests.test_robustness import (  # noqa: F401
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
