"""E-carnet reports through the whole pipeline: tickets, privacy, resends, incidents, CLI."""

from __future__ import annotations

import json
import logging

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from mailbot import report_intake
from mailbot.cli import app
from mailbot.service import Service
from mailbot.store.models import AccessLog, Incident, IncidentTicket, Report
from tests import reportmail
from tests.helpers import as_message, deliver, incoming, outbox, rows, tickets, write_config
from tests.mails import make_mail


def names_of(n_students: int) -> set[str]:
    """Every first and last name of the class the builder makes for *n_students*."""
    return {part for _, nom, prenom in reportmail.class_list(n_students)
            for part in (nom, prenom)}


def test_report_becomes_a_ticket_with_its_diagnosis(service, inbox):
    deliver(inbox, reportmail.build_report_mail(), "1")
    assert service.poll().counts == {"new_ticket": 1}
    [ticket] = tickets(service)
    assert (ticket.priority, ticket.category) == ("urgente", "technique")
    [report] = rows(service, Report)
    assert report.ticket_id == ticket.id and report.report_id == reportmail.REPORT_ID
    assert report.data["app_version"] == "2.2.5" and report.data["os"] == "iPadOS"
    assert report.data["error_codes"] == reportmail.JOURNAL_COUNTS
    [message] = incoming(service)
    assert message.outcome_reason == "new report"
    assert "Léa" not in message.body_text and "[ELV-" in message.body_text

    [entry] = outbox(service)
    ack = as_message(entry.raw)
    body = ack.get_body(("plain",)).get_content()
    assert f"[#{ticket.ref}]" in ack["Subject"]
    assert "rapport d'assistance" in body and "urgente" in body


def test_same_report_sent_twice_is_one_ticket(service, inbox):
    first = reportmail.build_report_mail()
    deliver(inbox, first, "1")
    deliver(inbox, first.replace(b"Message-ID: <", b"Message-ID: <resent-"), "2")
    assert service.poll().counts == {"new_ticket": 1, "appended": 1}
    assert len(tickets(service)) == 1 and len(rows(service, Report)) == 1
    assert len(outbox(service)) == 1
    resent = [m for m in incoming(service) if m.outcome == "appended"]
    assert "sent again" in resent[0].outcome_reason


def test_no_student_name_in_database_files_sent_mail_or_logs(service, inbox, caplog,
                                                             tmp_path):
    variants = [{}, {"cp1252": True, "bom": True}, {"english": True},
                {"forwarded": "attached"}, {"malformed_csv": True},
                # consent refused but the lists attached: they serve only to hide names
                {"consent": False, "attach_lists": True},
                {"n_students": 40, "orphan_media": True}]
    for i, options in enumerate(variants):
        raw = reportmail.build_report_mail(report_id_header=False,
                                           json_changes={"report_id": f"variant-{i}"}, **options)
        deliver(inbox, raw.replace(b"Message-ID: <", f"Message-ID: <v{i}-".encode()), f"{i}")
    with caplog.at_level(logging.DEBUG):
        service.poll()
        service.flush()
        CliRunner().invoke(app, ["tickets", "list"])  # nothing here prints names either
    assert len(incoming(service)) == len(variants)
    assert {m.outcome for m in incoming(service)} == {"new_ticket"}

    files = [p for p in tmp_path.rglob("*") if p.is_file() and "inbox" not in p.parts]
    assert {p.name for p in files} >= {"mailbot.db", "mailbot.db-wal"}
    names = names_of(40)
    # 1. Every byte stored (database, WAL, sent mail), names as UTF-8 and as JSON escapes.
    #    Sealed blobs are random bytes: names under 5 characters could turn up there by
    #    chance, so they are checked in step 2, on every readable column instead.
    stored = b"".join(p.read_bytes() for p in files)
    forms = {form for n in names if len(n) >= 5 for form in spellings(n)}
    assert sorted(f for f in forms if f.encode() in stored) == []
    # 2. Every text and JSON column of every table, whatever the case, and the logs.
    readable = (readable_columns(service) + "\n" + caplog.text).casefold()
    assert sorted(n for n in names
                  if any(f.casefold() in readable for f in spellings(n))) == []


def spellings(name: str) -> set[str]:
    """*name* as written, and as JSON escapes it (``L\\u00e9a``)."""
    return {name, json.dumps(name)[1:-1], json.dumps(name.upper())[1:-1], name.upper()}


def readable_columns(service: Service) -> str:
    """All non-binary values of all tables, as text."""
    from sqlalchemy import inspect, text

    chunks = []
    with service.engine.connect() as connection:
        for table in inspect(service.engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                chunks += [str(v) for v in row if not isinstance(v, bytes | memoryview)]
    return "\n".join(chunks)


def test_consent_refused_keeps_words_drops_lists_and_says_so(service, inbox):
    deliver(inbox, reportmail.build_report_mail(consent=False, attach_lists=True), "1")
    service.poll()
    [report] = rows(service, Report)
    assert report.data["consent"] is False and report.data["lists_dropped"] is True
    assert report.data["students_active"] is None and report.data["media"] is None
    assert "consent_refused" in {f["code"] for f in report.data["findings"]}
    [message] = incoming(service)
    kept = as_message(service.context.sealer.unseal(message.raw))
    lists = {part.get_filename(): part.get_content().replace("\r\n", "\n")
             for part in kept.iter_attachments()
             if part.get_filename() in ("eleves.csv", "medias.csv")}
    # the parts are still named, but their content is gone, even from the sealed copy
    assert lists == dict.fromkeys(("eleves.csv", "medias.csv"), report_intake.DROPPED_NOTE)
    assert "[ELV-" in message.body_text and "Moussa" not in message.body_text


def test_reports_sharing_a_signature_form_one_incident(service, inbox):
    for i, (sender, version) in enumerate([
            ("claire.dubois@ecole-les-tilleuls.example", "2.2.5"),
            ("paul.roux@college-jean-moulin.example", "2.2.5"),
            ("anne.petit@ecole-les-tilleuls.example", "2.2.5"),
            ("marc.blanc@ecole-du-port.example", "2.2.4")]):
        raw = reportmail.build_report_mail(app_version=version, report_id_header=False,
                                           json_changes={"report_id": f"id-{i}"})
        raw = raw.replace(b"claire.dubois@ecole-les-tilleuls.example", sender.encode())
        deliver(inbox, raw.replace(b"Message-ID: <", f"Message-ID: <i{i}-".encode()), f"{i}")
    assert service.poll().counts == {"new_ticket": 4}
    incidents = {i.signature: i for i in rows(service, Incident)}
    signature = next(s for s in incidents if s.startswith("2.2.5|"))
    links = [link for link in rows(service, IncidentTicket)
             if link.incident_id == incidents[signature].id]
    assert len(links) == 3 and len({link.school for link in links}) == 2
    assert any(s.startswith("2.2.4|") for s in incidents)
    listing = CliRunner().invoke(app, ["incidents", "list", "--config",
                                       str(write_config(service))])
    assert signature in listing.output
    row = next(line for line in listing.output.splitlines() if line.startswith(signature))
    assert row.split()[3:5] == ["3", "2"]  # tickets, schools


def test_tickets_show_gives_the_diagnosis_in_french_and_logs_the_access(service, inbox):
    deliver(inbox, reportmail.build_report_mail(stale_sync=True, storage_full=True), "1")
    service.poll()
    [ticket] = tickets(service)
    result = CliRunner().invoke(app, ["tickets", "show", ticket.ref.lower(), "--as", "agnes",
                                      "--config", str(write_config(service))])
    assert result.exit_code == 0, result.output
    assert "Diagnostic (rapport d'assistance e-carnet" in result.output
    assert "Stockage presque plein" in result.output and "Synchronisation" in result.output
    assert "Léa" not in result.output
    [access] = rows(service, AccessLog)
    assert (access.actor, access.action, access.ticket_id) == ("agnes", "tickets show", ticket.id)


def test_inspect_fills_report_without_names(tmp_path):
    path = tmp_path / "report.eml"
    path.write_bytes(reportmail.build_report_mail())
    result = CliRunner().invoke(app, ["inspect", str(path), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["report"]["report_id"] == reportmail.REPORT_ID
    assert data["report"]["students_total"] == 6
    assert not [n for n in names_of(6) if n in result.output]


def test_ordinary_mail_has_no_report(tmp_path):
    path = tmp_path / "m.eml"
    path.write_bytes(make_mail())
    data = json.loads(CliRunner().invoke(app, ["inspect", str(path), "--json"]).output)
    assert data["report"] is None


def test_big_report_and_gzip_bomb_make_tickets_with_findings(service, inbox):
    big = reportmail.build_report_mail(n_students=5000, report_id_header=False,
                                       json_changes={"report_id": "big"})
    deliver(inbox, big.replace(b"Message-ID: <", b"Message-ID: <big-"), "1")
    deliver(inbox, reportmail.build_report_mail(gzip_bomb=True), "2")
    assert service.poll().counts == {"new_ticket": 2}
    by_id = {r.report_id: r.data for r in rows(service, Report)}
    assert by_id["big"]["students_total"] == 5000
    bomb = by_id[reportmail.REPORT_ID]
    assert "journal_truncated" in {f["code"] for f in bomb["findings"]}


def test_report_data_never_holds_names(service, inbox):
    deliver(inbox, reportmail.build_report_mail(), "1")
    service.poll()
    with Session(service.engine) as session:
        data = json.dumps(session.exec(select(Report)).one().data, ensure_ascii=False)
    assert not [n for n in names_of(6) if n in data]


def test_same_report_from_another_address_stays_on_the_first_ticket(service, inbox):
    deliver(inbox, reportmail.build_report_mail(), "1")
    forwarded = reportmail.build_report_mail().replace(
        b"From: Claire Dubois <claire.dubois@", b"From: Marc Lemaire <direction@").replace(
        b"Message-ID: <", b"Message-ID: <fwd-")
    deliver(inbox, forwarded, "2")
    assert service.poll().counts == {"new_ticket": 1, "ignored": 1}
    [ticket] = tickets(service)
    other = next(m for m in incoming(service) if m.outcome == "ignored")
    assert other.ticket_id == ticket.id and "sent by another address" in other.outcome_reason
    assert len(outbox(service)) == 1 and len(rows(service, Report)) == 1


@pytest.mark.parametrize("change", [
    (b"Subject:", b"Auto-Submitted: auto-generated\r\nSubject:"),  # ignored as machine mail
    (b"From: Claire Dubois <claire.dubois@ecole-les-tilleuls.example>",
     b"From: Claire Dubois <claire.dubois>"),  # quarantined: no usable sender
])
def test_refused_lists_are_dropped_from_every_stored_copy(service, inbox, change):
    raw = reportmail.build_report_mail(consent=False, attach_lists=True).replace(*change)
    deliver(inbox, raw, "1")
    report = service.poll()
    assert report.counts.keys() <= {"ignored", "quarantined"} and len(report.results) == 1
    [message] = incoming(service)
    kept = as_message(service.context.sealer.unseal(message.raw))
    contents = {part.get_filename(): part.get_content() for part in kept.iter_attachments()}
    assert "Liste supprimée" in contents["eleves.csv"] and "Liste supprimée" in contents[
        "medias.csv"]


def test_later_replies_on_a_report_ticket_are_cleaned_of_names(service, inbox):
    deliver(inbox, reportmail.build_report_mail(), "1")
    service.poll()
    [ticket] = tickets(service)
    reply = make_mail("C'est toujours bloqué pour Lea Fontaine et MOUSSA.",
                      message_id="<later@ecole-les-tilleuls.example>", From=reportmail.TEACHER,
                      Subject=f"Re: [#{ticket.ref}] pour Léa")
    deliver(inbox, reply, "2")
    assert service.poll().counts == {"appended": 1}
    later = next(m for m in incoming(service)
                 if m.message_id == "<later@ecole-les-tilleuls.example>")
    assert "[ELV-" in later.body_text and "[ELV-" in later.subject
    for name in ("Lea", "Léa", "Fontaine", "MOUSSA", "Moussa"):
        assert name not in later.body_text and name not in later.subject
    [stored] = rows(service, Report)
    assert stored.name_digests and not [n for n in names_of(6)
                                        if n in json.dumps(stored.name_digests)]
