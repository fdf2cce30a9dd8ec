"""A whole ticket on real servers: Dovecot in, the mailbot CLI, aiosmtpd out.

requester mail -> acknowledgement; staff « #statut en cours » -> requester told;
staff « #solution » -> requester gets the solution; « ça marche, merci » ->
résolu + rating request; « 5 » -> rating stored; the clock moves -> fermé.
Every outgoing mail's headers and text are checked.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.config import load_config
from mailbot.service import Service
from mailbot.store.models import Rating, TicketStatus
from tests.helpers import as_message, real_servers_config
from tests.lifecycle_helpers import AUTHSERV, MARIE, REQUESTER, staff_mail, text_of
from tests.mails import make_mail

SUPPORT = "helpdesk@example.test"


@pytest.fixture
def config_file(tmp_path, dovecot, smtp_sink, monkeypatch):
    path = real_servers_config(tmp_path / "mailbot.toml", dovecot, smtp_sink, f"""
[[staff]]
address = "{MARIE}"
name = "Marie Durand"
team = "technique"

[staff_auth]
authserv_ids = ["{AUTHSERV}"]

[lifecycle]
auto_resolve_days = 7
auto_close_days = 14
""")
    monkeypatch.setenv("MAILBOT_IMAP_PASSWORD", dovecot.password)
    return path


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


class Mailbox:
    """What arrived at the SMTP sink, one new mail at a time."""

    def __init__(self, sink):
        self.sink, self.seen = sink, 0

    def new(self, expected: int = 1) -> list:
        got = self.sink.wait_for(self.seen + expected)
        fresh = got[self.seen:]
        self.seen = len(got)
        return [(rcpts, as_message(raw)) for _sender, rcpts, raw in fresh]

    def one_to(self, address: str):
        return self.each_to(address)[address]

    def each_to(self, *addresses: str) -> dict:
        """The next mails, exactly one to each of *addresses*, all from the support address."""
        fresh = self.new(len(addresses))
        assert sorted(r for rcpts, _m in fresh for r in rcpts) == sorted(addresses)
        assert all(parseaddr(m["From"])[1] == SUPPORT for _r, m in fresh)
        return {rcpts[0]: message for rcpts, message in fresh}


def test_a_whole_ticket_by_mail(config_file, dovecot, smtp_sink):
    mailbox = Mailbox(smtp_sink)
    poll = ["poll", "--once", "--config", str(config_file)]

    # 1. The requester writes: acknowledgement with the tracking number and an estimate.
    dovecot.append(make_mail())
    assert "new_ticket 1" in cli(*poll)
    ack = mailbox.one_to(REQUESTER)
    ref = ack["Subject"].split("]")[0].removeprefix("[#")
    assert ack["Subject"] == f"[#{ref}] Demande reçue : Les photos ne se synchronisent plus"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == "<q1@ecole-jules-ferry.example>"
    assert "Temps de réponse" in text_of(ack) and ref in text_of(ack)

    # 2. Marie: « #statut en cours » with a word for the requester.
    dovecot.append(staff_mail("#statut en cours\n\nBonjour, nous regardons cela.\n\n-- \n"
                              "Marie Durand\n\n> citation de l'accusé de réception",
                              ref, in_reply_to=ack["Message-ID"]))
    assert "appended 1" in cli(*poll)
    progress = mailbox.one_to(REQUESTER)
    assert progress["Subject"] == (f"[#{ref}] Demande en cours d'analyse : Les photos ne se "
                                   "synchronisent plus")
    assert "Auto-Submitted" not in progress  # Marie's words, relayed
    assert ack["Message-ID"] in progress["References"]
    body = text_of(progress)
    assert "Marie Durand, de l'équipe d'assistance e-carnet, vous répond" in body
    assert "nous regardons cela." in body and "citation" not in body and "#statut" not in body
    assert "est maintenant en cours d'analyse" in body

    # 3. Marie proposes a solution.
    dovecot.append(staff_mail("#solution\n\nInstallez la version 2.2.5 puis relancez la "
                              "synchronisation depuis Réglages > Synchroniser.", ref,
                              in_reply_to=progress["Message-ID"]))
    cli(*poll)
    solution = mailbox.one_to(REQUESTER)
    assert solution["Subject"].startswith(f"[#{ref}] Solution proposée")
    body = text_of(solution)
    assert "Installez la version 2.2.5" in body
    assert "répondez simplement « ça marche »" in body

    # 4. « ça marche, merci » -> résolu, and the rating request.
    dovecot.append(make_mail("ça marche, merci\n\nLe 25/11/2026, Support a écrit :\n> ...",
                             message_id="<ok@ecole-jules-ferry.example>",
                             Subject=f"Re: [#{ref}] Solution proposée",
                             In_Reply_To=solution["Message-ID"]))
    cli(*poll)
    sent = mailbox.each_to(REQUESTER, MARIE)  # Marie, the assignee, gets the answer too
    assert "ça marche, merci" in text_of(sent[MARIE])
    resolved = sent[REQUESTER]
    assert resolved["Subject"].startswith(f"[#{ref}] Demande résolue")
    assert resolved["Auto-Submitted"] == "auto-generated"
    assert resolved["In-Reply-To"] == "<ok@ecole-jules-ferry.example>"
    body = text_of(resolved)
    assert "Merci pour votre confirmation" in body
    assert f"mailto:{SUPPORT}?subject=%5B%23{ref}%5D%20Note%205%2F5&body=5" in body

    # 5. « 5 »: the rating is stored; nothing is sent back.
    dovecot.append(make_mail("5", message_id="<note@ecole-jules-ferry.example>",
                             Subject=f"Re: [#{ref}] Demande résolue",
                             In_Reply_To=resolved["Message-ID"]))
    assert "appended 1" in cli(*poll)
    service = Service.from_config(load_config(config_file))
    with Session(service.engine) as session:
        assert [r.score for r in session.exec(select(Rating))] == [5]

    # 6. Time passes: fermé after 14 days in « résolu ».
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=15)).isoformat()
    assert "closed 1" in cli("sweep", "--now", later, "--config", str(config_file))
    closed = mailbox.one_to(REQUESTER)
    assert closed["Subject"].startswith(f"[#{ref}] Demande fermée")
    assert "est maintenant fermée" in text_of(closed)
    assert len(smtp_sink.messages) == mailbox.seen  # nothing else was sent

    # The history says who did what, from which message.
    shown = cli("tickets", "show", ref, "--as", "test", "--config", str(config_file))
    assert (f"status: nouvelle demande -> en cours d'analyse (staff command)  by {MARIE} "
            "(message #") in shown
    assert f"solution proposée -> résolu (the requester confirmed the solution works)  by " \
           f"{REQUESTER}" in shown
    assert "résolu -> fermé" in shown and "rating: 5/5" in shown
    with Session(service.engine) as session:
        from mailbot.store.models import Ticket

        assert session.exec(select(Ticket)).one().status == TicketStatus.CLOSED
