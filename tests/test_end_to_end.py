"""The whole loop on real servers: Dovecot (IMAP in) -> mailbot CLI -> aiosmtpd (SMTP out)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.config import load_config
from mailbot.service import Service
from mailbot.store.models import Outcome
from tests.helpers import as_message, incoming, outbox, real_servers_config, tickets
from tests.mails import make_mail

QUESTION = make_mail(
    "Bonjour,\n\nDepuis la mise à jour, impossible d'ajouter des vidéos au carnet de "
    "Léa : l'application affiche « Échec de l'envoi ».\n\nCordialement,\nÉlodie Martin\n",
    Subject="Échec de l'envoi des vidéos",
)
OUT_OF_OFFICE = make_mail(
    "Je suis absente jusqu'au 30 novembre.", message_id="<ooo@ecole.example>",
    From="Paul Bernard <paul.bernard@ecole.example>", Auto_Submitted="auto-replied",
    Subject="Réponse automatique : absente",
)
BOUNCE = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\n"
    b"To: helpdesk@example.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
    b"Message-ID: <bounce-1@mx.example>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain\r\n\r\nUser unknown.\r\n"
    b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
    b"Final-Recipient: rfc822; parti@ecole.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    b"--b--\r\n"
)


@pytest.fixture
def config_file(tmp_path, dovecot, smtp_sink, monkeypatch):
    """A config file for the real servers; the IMAP password comes from the environment."""
    path = real_servers_config(tmp_path / "mailbot.toml", dovecot, smtp_sink)
    monkeypatch.setenv("MAILBOT_IMAP_PASSWORD", dovecot.password)
    return path


def poll_once(config_file) -> str:
    result = CliRunner().invoke(app, ["poll", "--once", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    return result.output


def folder_uids(dovecot, folder: str, criteria=("ALL",)) -> list[int]:
    with dovecot.client() as client:
        client.select_folder(folder)
        return client.search(list(criteria))


def test_question_reply_auto_reply_and_bounce(config_file, dovecot, smtp_sink):
    service = Service.from_config(load_config(config_file))
    dovecot.append(QUESTION)

    output = poll_once(config_file)
    assert "new_ticket 1" in output and "sent 1" in output
    [ticket] = tickets(service)
    assert ticket.status == "nouvelle demande"
    [(_, rcpt, content)] = smtp_sink.wait_for(1)
    ack = as_message(content)
    assert rcpt == ["elodie.martin@ecole-jules-ferry.example"]
    assert ack["Subject"].startswith(f"[#{ticket.ref}]")
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == "<q1@ecole-jules-ferry.example>"
    assert ack["Message-ID"].endswith("@mailbot.example.test>")
    assert ack["References"] == "<q1@ecole-jules-ferry.example>"
    assert ack["X-Auto-Response-Suppress"] == "All"
    # processed mail is flagged and moved out of the inbox
    assert folder_uids(dovecot, "INBOX") == []
    assert len(folder_uids(dovecot, "Traites", ["SEEN"])) == 1

    assert "nothing new" in poll_once(config_file)
    assert len(tickets(service)) == 1 and len(smtp_sink.messages) == 1

    reply = make_mail(
        "Merci, je vous envoie une capture dès que possible.\n\n"
        "Le mer. 25 nov. 2026 à 10:00, Support e-carnet <helpdesk@example.test> a écrit :\n"
        "> Bonjour Élodie Martin,\n> Nous avons bien reçu votre message\n",
        message_id="<reply-1@ecole-jules-ferry.example>",
        Subject=f"Re: {ack['Subject']}", In_Reply_To=ack["Message-ID"],
        References=f"<q1@ecole-jules-ferry.example> {ack['Message-ID']}",
    )
    dovecot.append(reply)
    dovecot.append(OUT_OF_OFFICE)
    dovecot.append(BOUNCE)
    output = poll_once(config_file)
    assert "appended 1" in output and "ignored 2" in output

    assert len(tickets(service)) == 1
    appended = [m for m in incoming(service) if m.outcome == Outcome.APPENDED]
    assert [m.ticket_id for m in appended] == [ticket.id]
    assert appended[0].body_text == "Merci, je vous envoie une capture dès que possible."
    reasons = {m.message_id: m.outcome_reason for m in incoming(service)
               if m.outcome == Outcome.IGNORED}
    assert reasons["<ooo@ecole.example>"].startswith("auto_reply: Auto-Submitted")
    assert reasons["<bounce-1@mx.example>"].startswith("bounce: ")
    assert len(outbox(service)) == 1 and len(smtp_sink.messages) == 1  # no answer to machines


def test_uidvalidity_change_does_not_recreate_tickets(config_file, dovecot, smtp_sink):
    service = Service.from_config(load_config(config_file))
    service.config.source.imap.move_to = None  # keep the mail in INBOX for the reset
    dovecot.append(QUESTION)
    report = service.poll()
    assert report.counts == {"new_ticket": 1}
    assert folder_uids(dovecot, "INBOX", ["UNSEEN"]) == []

    old, new = dovecot.reset_uidvalidity("INBOX")
    assert old != new
    dovecot.append(make_mail(message_id="<q2@ecole-jules-ferry.example>",
                             Subject="Autre question"))
    report = service.poll()
    assert report.counts == {"already_processed": 1, "new_ticket": 1}
    assert len(tickets(service)) == 2 and len(incoming(service)) == 2


def test_server_disconnect_loses_nothing(config_file, dovecot, smtp_sink):
    service = Service.from_config(load_config(config_file))
    dovecot.append(QUESTION)
    dovecot.kick()  # no session yet: kicking must not matter
    assert service.poll().counts == {"new_ticket": 1}

    from mailbot.errors import SourceError
    from mailbot.sources.imap import ImapSource

    source = ImapSource(service.config.source.imap)
    dovecot.append(make_mail(message_id="<q3@ecole-jules-ferry.example>"))
    dovecot.kick()  # the connection dies before the fetch
    with pytest.raises(SourceError):
        list(source.fetch_new(None))
    source.close()
    assert service.poll().counts == {"new_ticket": 1}  # picked up by the next poll


def test_wrong_password_is_a_clear_error_without_the_password(config_file, dovecot,
                                                               monkeypatch):
    monkeypatch.setenv("MAILBOT_IMAP_PASSWORD", "not-the-password")
    result = CliRunner().invoke(app, ["poll", "--once", "--config", str(config_file)])
    assert result.exit_code == 1
    assert "poll failed" in result.output and "AUTHENTICATIONFAILED" in result.output
    assert "not-the-password" not in result.output


def test_imaplib_debug_formatting_is_off(config_file, dovecot):
    # imapclient turns imaplib's debug on for every connection, which formats every
    # fetched literal for a log line that is dropped (notes: ~7x slower fetches).
    # mailbot switches it off through a private attribute, so pin it with a test.
    from mailbot.sources.imap import ImapSource

    source = ImapSource(load_config(config_file).source.imap)
    try:
        assert source.client._imap.debug == 0
    finally:
        source.close()
