"""The outbox and SMTP delivery against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from pydantic import SecretStr
from sqlmodel import Session, select

from mailbot.service import Service
from mailbot.store.models import OutboxEntry, OutboxState, TicketEvent
from tests.helpers import as_message, deliver, local_config, outbox, rows, tickets
from tests.mails import make_mail
from tests.servers import SmtpSink


def smtp_service(tmp_path, sink: SmtpSink, **smtp) -> Service:
    config = local_config(tmp_path)
    config.sender.kind = "smtp"
    config.sender.smtp.host, config.sender.smtp.port = sink.host, sink.port
    config.sender.smtp.security = "plain"
    config.sender.smtp.timeout_seconds = 5
    config.outbox.max_attempts = 3
    for key, value in smtp.items():
        setattr(config.sender.smtp, key, value)
    service = Service.from_config(config)
    deliver(config.source.maildir.path, make_mail(), "1")
    service.poll()
    return service


def make_due(service: Service) -> None:
    """Move every pending row's next attempt into the past (instead of sleeping)."""
    with Session(service.engine) as session:
        for entry in session.exec(select(OutboxEntry)):
            entry.next_attempt_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            session.add(entry)
        session.commit()


def test_acknowledgement_is_delivered_over_smtp(tmp_path, smtp_sink):
    service = smtp_service(tmp_path, smtp_sink)
    report = service.flush()

    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    [(mail_from, rcpt_tos, content)] = smtp_sink.wait_for(1)
    assert mail_from == "support@ecarnet.example"
    assert rcpt_tos == ["elodie.martin@ecole-jules-ferry.example"]
    received = as_message(content)
    [ticket] = tickets(service)
    assert f"[#{ticket.ref}]" in received["Subject"]
    assert received["Auto-Submitted"] == "auto-replied"
    [entry] = outbox(service)
    assert entry.state == OutboxState.SENT and entry.sent_at is not None
    assert service.flush().sent == 0  # sent once, never again


def test_temporary_failure_is_retried_later_then_delivered(tmp_path, smtp_sink):
    service = smtp_service(tmp_path, smtp_sink)
    smtp_sink.fail_next("451 4.3.0 try again later", at="RCPT")

    assert service.flush().retrying == 1
    [entry] = outbox(service)
    assert entry.state == OutboxState.PENDING and entry.attempts == 1
    assert "451" in entry.last_error
    assert entry.next_attempt_at > dt.datetime.now(dt.UTC)  # backoff, not a hot loop
    assert service.flush().sent == 0  # not due yet

    make_due(service)
    assert service.flush().sent == 1
    assert len(smtp_sink.wait_for(1)) == 1


def test_dropped_connection_is_transient(tmp_path, smtp_sink):
    service = smtp_service(tmp_path, smtp_sink)
    smtp_sink.disconnect_next(at="DATA")
    assert service.flush().retrying == 1
    make_due(service)
    assert service.flush().sent == 1


def test_permanent_failure_is_recorded_on_the_ticket(tmp_path, smtp_sink):
    service = smtp_service(tmp_path, smtp_sink)
    smtp_sink.fail_next("550 5.1.1 no such user", at="RCPT")

    assert service.flush().failed == 1
    [entry] = outbox(service)
    assert entry.state == OutboxState.FAILED and "550" in entry.last_error
    [ticket] = tickets(service)
    failures = [e for e in rows(service, TicketEvent) if e.kind == "delivery_failed"]
    assert [e.ticket_id for e in failures] == [ticket.id]
    assert "550 5.1.1 no such user" in failures[0].detail
    make_due(service)
    assert service.flush().sent == 0 and smtp_sink.messages == []


def test_gives_up_after_max_attempts_and_records_it(tmp_path, smtp_sink):
    service = smtp_service(tmp_path, smtp_sink)
    smtp_sink.fail_next("421 4.4.2 busy", times=3, at="MAIL")
    for _ in range(3):
        make_due(service)
        service.flush()
    [entry] = outbox(service)
    assert entry.state == OutboxState.FAILED and entry.attempts == 3
    assert any("gave up after 3 attempts" in e.detail for e in rows(service, TicketEvent))


def test_unreachable_server_keeps_the_mail_queued(tmp_path, smtp_sink):
    service = smtp_service(tmp_path, smtp_sink)
    smtp_sink.stop()
    assert service.flush().retrying == 1
    assert outbox(service)[0].state == OutboxState.PENDING


def test_a_claim_left_by_a_crashed_flush_is_taken_again(tmp_path, smtp_sink):
    service = smtp_service(tmp_path, smtp_sink)
    with Session(service.engine) as session:
        entry = session.exec(select(OutboxEntry)).one()
        entry.state = OutboxState.SENDING
        entry.claimed_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        session.add(entry)
        session.commit()
    assert service.flush().sent == 1


def test_smtp_auth_and_no_password_in_logs(tmp_path, caplog):
    with SmtpSink(auth={"mailbot": "s3cr3t-pw"}) as sink:
        service = smtp_service(tmp_path, sink, user="mailbot", password=SecretStr("wrong-pw"))
        with caplog.at_level(logging.DEBUG):
            assert service.flush().retrying == 1  # our config is wrong: keep the mail
            assert outbox(service)[0].attempts == 0  # not the recipient's fault
            service.config.sender.smtp.password = SecretStr("s3cr3t-pw")
            make_due(service)
            assert service.flush().sent == 1
        assert sink.logins == ["mailbot"]
    logged = caplog.text + repr(service.config)
    assert "s3cr3t-pw" not in logged and "wrong-pw" not in logged


def test_a_refused_login_stops_the_flush_instead_of_trying_every_mail(tmp_path):
    with SmtpSink(auth={"mailbot": "s3cr3t-pw"}) as sink:
        service = smtp_service(tmp_path, sink, user="mailbot", password=SecretStr("wrong-pw"))
        for i in (2, 3):
            deliver(service.config.source.maildir.path, make_mail(
                message_id=f"<q{i}@x.example>", From=f"p{i}@ecole.example"), f"{i}")
        service.poll()
        assert len(outbox(service)) == 3
        report = service.flush()
        assert (report.sent, report.retrying) == (0, 1)  # one refused login, not three
        rows_ = sorted(outbox(service), key=lambda e: e.id)
        assert [e.last_error != "" for e in rows_] == [True, False, False]
        assert all(e.state == OutboxState.PENDING for e in rows_)


@pytest.mark.parametrize("code", [421, 450, 452])
def test_all_4xx_codes_are_transient(tmp_path, smtp_sink, code):
    service = smtp_service(tmp_path, smtp_sink)
    smtp_sink.fail_next(f"{code} 4.0.0 later", at="DATA")
    assert service.flush().retrying == 1


def _interrupted(service: Service, attempts: int) -> None:
    """Leave the one outbox row as a flush killed mid-send would: claimed long ago."""
    with Session(service.engine) as session:
        entry = session.exec(select(OutboxEntry)).one()
        entry.state, entry.attempts = OutboxState.SENDING, attempts
        entry.claimed_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        session.add(entry)
        session.commit()


def test_an_interrupted_send_counts_as_an_attempt(service, inbox):
    deliver(inbox, make_mail(), "1")
    service.poll()
    _interrupted(service, attempts=0)
    assert service.flush().sent == 1
    [entry] = outbox(service)
    assert (entry.state, entry.attempts) == (OutboxState.SENT, 2)  # the interrupted one + this


def test_a_message_that_always_kills_the_sender_is_given_up(service, inbox):
    deliver(inbox, make_mail(), "1")
    service.poll()
    _interrupted(service, attempts=service.config.outbox.max_attempts - 1)
    report = service.flush()
    assert report.sent == 0
    [entry] = outbox(service)
    assert entry.state == OutboxState.FAILED and "interrupted" in entry.last_error
    [event] = [e for e in rows(service, TicketEvent) if e.kind == "delivery_failed"]
    assert "interrupted" in event.detail
