"""Hostile input, odd addresses, concurrency and database failures."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from mailbot import intake, poller
from mailbot.errors import StoreError
from mailbot.intake import Stage
from mailbot.intake import process as real_process
from mailbot.model import RawMail
from mailbot.service import Service
from mailbot.sources.maildir import MaildirSource
from mailbot.store.models import OutboxEntry, OutboxState, TicketEvent
from tests.helpers import as_message, deliver, incoming, local_config, outbox, rows, tickets
from tests.mails import make_mail


def test_encoded_crlf_in_from_cannot_inject_headers(service, inbox):
    raw = make_mail().replace(  # written raw: the stdlib refuses to build such a header
        b"From: =?utf-8?q?=C3=89lodie?= Martin <elodie.martin@ecole-jules-ferry.example>",
        b"From: =?utf-8?q?Evil=0D=0ABcc=3A_victim=40x=2Eexample?= <a@b.example>")
    assert b"Evil=0D=0ABcc" in raw
    deliver(inbox, raw, "1")
    assert service.poll().counts == {"new_ticket": 1}
    [entry] = outbox(service)
    ack = as_message(entry.raw)
    assert entry.rcpt_to == "a@b.example"
    assert ack["Bcc"] is None and b"\r\nBcc:" not in entry.raw


def test_accented_domain_is_answered_in_idna(service, inbox):
    deliver(inbox, make_mail(From="Jean <jean@école.example>"), "1")
    assert service.poll().counts == {"new_ticket": 1}
    assert [e.rcpt_to for e in outbox(service)] == ["jean@xn--cole-9oa.example"]


def test_accented_local_part_opens_a_ticket_and_says_why_no_answer(service, inbox):
    deliver(inbox, make_mail(From="Jérôme <jérôme@ecole.example>"), "1")
    assert service.poll().counts == {"new_ticket": 1}
    assert outbox(service) == []
    [failure] = [e for e in rows(service, TicketEvent) if e.kind == "delivery_failed"]
    assert "needs SMTPUTF8" in failure.detail


def test_reply_to_our_own_address_falls_back_to_from(service, inbox):
    deliver(inbox, make_mail(Reply_To="support@ecarnet.example"), "1")
    service.poll()
    assert [e.rcpt_to for e in outbox(service)] == ["elodie.martin@ecole-jules-ferry.example"]


def test_bounce_of_our_acknowledgement_is_recorded_on_its_ticket(service, inbox):
    deliver(inbox, make_mail(), "1")
    service.poll()
    service.flush()
    [ticket], [entry] = tickets(service), outbox(service)
    bounce = (
        "From: MAILER-DAEMON@relay.example\r\nTo: support@ecarnet.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b1@relay.example>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status;'
        ' boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n'
        "--x\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay\r\n\r\n"
        "Final-Recipient: rfc822; elodie.martin@ecole-jules-ferry.example\r\n"
        "Action: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: smtp; 552 mailbox full\r\n"
        "--x\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@ecarnet.example\r\nMessage-ID: {entry.message_id}\r\n"
        "--x--\r\n").encode()
    deliver(inbox, bounce, "2")
    assert service.poll().counts == {"ignored": 1}
    bounced = next(m for m in incoming(service) if m.message_id == "<b1@relay.example>")
    assert bounced.ticket_id == ticket.id and "bounced" in bounced.outcome_reason
    [event] = [e for e in rows(service, TicketEvent) if e.kind == "delivery_failed"]
    assert event.ticket_id == ticket.id and "5.2.2" in event.detail
    assert outbox(service)[0].state == OutboxState.FAILED
    assert len(outbox(service)) == 1  # and still no answer to the machine


def test_huge_references_header_still_threads(service, inbox):
    deliver(inbox, make_mail(), "1")
    service.poll()
    [ticket] = tickets(service)
    noise = " ".join(f"<n{i}@spam.example>" for i in range(20_000))
    reply = make_mail("Suite.", message_id="<r@x.example>", Subject="Re: photos",
                      References=f"{noise} <q1@ecole-jules-ferry.example>")
    deliver(inbox, reply, "2")
    assert service.poll().counts == {"appended": 1}
    assert [m.ticket_id for m in incoming(service)] == [ticket.id, ticket.id]


def test_stop_request_leaves_the_rest_for_the_next_poll(service, inbox):
    for i in range(3):
        deliver(inbox, make_mail(message_id=f"<s{i}@x.example>"), f"{i}")
    source = MaildirSource(inbox)
    seen = []
    report = poller.poll_once(service.engine, source, service.context,
                              should_stop=lambda: len(seen.append(1) or seen) > 1)
    assert sum(report.counts.values()) == 1
    assert service.poll().counts == {"new_ticket": 2}


def test_database_failure_is_not_a_quarantine(service, inbox, monkeypatch):
    def locked(*args, **kwargs):
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    deliver(inbox, make_mail(), "1")
    monkeypatch.setattr(poller, "_save_checkpoint", locked)
    with pytest.raises(StoreError, match="database is locked"):
        service.poll()
    assert incoming(service) == [] and tickets(service) == []
    assert list((inbox / "new").iterdir())  # not acknowledged: still waiting
    monkeypatch.undo()
    assert service.poll().counts == {"new_ticket": 1}


def test_concurrent_poll_storing_the_same_message_first_is_not_a_quarantine(
        service, monkeypatch):
    mail = RawMail(raw=make_mail(), origin="maildir:x", source_key="1")

    def race(session, raw_mail, ctx, stage):
        with Session(service.engine) as other:  # the other poller wins the race
            real_process(other, raw_mail, ctx, Stage())
            other.commit()
        # ... after this poller had already looked and found nothing stored
        with monkeypatch.context() as stale:
            stale.setattr(intake, "_stored_with_same_identity", lambda *args: [])
            return real_process(session, raw_mail, ctx, stage)

    monkeypatch.setattr(poller, "process", race)
    result = poller._process_or_quarantine(service.engine, mail, service.context)
    assert result.outcome is None and "concurrent" in result.reason
    assert [m.outcome for m in incoming(service)] == ["new_ticket"]
    assert len(tickets(service)) == 1 and len(outbox(service)) == 1


def test_two_flushes_at_once_send_each_message_once(service, inbox):
    for i in range(20):
        # 20 different people, so that the per-recipient limit on automatic mail stays out
        deliver(inbox, make_mail(message_id=f"<m{i}@x.example>",
                                 From=f"prof{i}@ecole.example"), f"{i:02d}")
    service.poll()
    barrier = threading.Barrier(2)
    reports = []

    def flush():
        barrier.wait()
        reports.append(service.flush())

    threads = [threading.Thread(target=flush) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(r.sent for r in reports) == 20
    sent_dir = service.config.sender.maildir.path / "new"
    assert len(list(sent_dir.iterdir())) == 20


def test_unwritable_maildir_sink_is_transient_and_retry_requeues(service, inbox, tmp_path):
    deliver(inbox, make_mail(), "1")
    service.poll()
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where a folder should be")
    service.transport.path = blocker / "sent"
    assert service.flush().retrying == 1
    [entry] = outbox(service)
    assert entry.state == OutboxState.PENDING and "cannot write" in entry.last_error

    from mailbot import outbox as outbox_module

    with Session(service.engine) as session:
        row = session.exec(select(OutboxEntry)).one()
        row.state = OutboxState.FAILED
        session.add(row)
        session.commit()
        assert outbox_module.requeue_failed(session) == 1
    service.transport.path = tmp_path / "sent-ok"
    assert service.flush().sent == 1


def test_a_message_over_the_size_limit_is_quarantined_unparsed(tmp_path, monkeypatch):
    from mailbot import report_intake
    from mailbot.parse import parse_mail

    parsed_sizes = []

    def guarded(raw: bytes, limits=None):
        parsed_sizes.append(len(raw))
        return parse_mail(raw, limits)

    monkeypatch.setattr(intake, "parse_mail", guarded)
    monkeypatch.setattr(report_intake, "parse_mail", guarded)
    config = local_config(tmp_path)
    config.limits.max_message_bytes = 64 * 1024
    service = Service.from_config(config)
    big = make_mail("Pièce jointe énorme.\n" + "x" * 100_000, message_id="<big@x.example>")
    deliver(config.source.maildir.path, big, "1")
    deliver(config.source.maildir.path, make_mail(message_id="<ok@x.example>"), "2")
    assert service.poll().counts == {"quarantined": 1, "new_ticket": 1}
    [held] = [m for m in incoming(service) if m.outcome == "quarantined"]
    assert "over the limit of 65,536" in held.outcome_reason
    assert service.context.sealer.unseal(held.raw) == big  # kept whole, sealed
    assert parsed_sizes and max(parsed_sizes) < 64 * 1024  # never parsed
