"""Loops between real instances: two mailbots facing each other, and a naive autoresponder.

One Dovecot holds the mailboxes of both instances; the SMTP server they send through
(tests/facing_helpers.py) delivers into those mailboxes as an MDA would, or lets a
vacation robot answer. Each round runs ``mailbot poll --once`` (poll, then send) for
each instance through the real command line; the mails that cross the bridge are
counted. A loop would show as mail in every round.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.config import load_config
from mailbot.store.db import make_engine
from mailbot.store.queries import list_messages
from tests.conftest import running, skip_or_fail
from tests.facing_helpers import Bridge, MailboxesDovecot, VacationResponder
from tests.mails import make_mail
from tests.servers import find_dovecot

pytestmark = pytest.mark.imap

A, B = "support-a@example.test", "support-b@example.test"
ROBOT = "paul.bernard@lycee.example"
ROUNDS = 10
runner = CliRunner()


@pytest.fixture
def mailboxes() -> Iterator[MailboxesDovecot]:
    """One Dovecot with a mailbox for each instance."""
    if not find_dovecot():
        skip_or_fail("dovecot not installed: apt-get install dovecot-imapd")
    yield from running(MailboxesDovecot({A: secrets.token_urlsafe(12),
                                         B: secrets.token_urlsafe(12)}))


def instance(tmp_path: Path, address: str, dovecot: MailboxesDovecot, bridge: Bridge,
             msgid_domain: str) -> Path:
    """A config file for one instance: its own folder, database, keys and mailbox."""
    folder = tmp_path / address.split("@")[0]
    folder.mkdir()
    (folder / "imap-password").write_text(dovecot.users[address], encoding="utf-8")
    path = folder / "mailbot.toml"
    path.write_text(f"""
[identity]
support_address = "{address}"
message_id_domain = "{msgid_domain}"
[database]
url = "sqlite:///mailbot.db"
[source]
kind = "imap"
[source.imap]
host = "{dovecot.host}"
port = {dovecot.port}
security = "plain"
user = "{address}"
password_file = "imap-password"
timeout_seconds = 10
[sender]
kind = "smtp"
[sender.smtp]
host = "{bridge.host}"
port = {bridge.port}
security = "plain"
timeout_seconds = 10
""", encoding="utf-8")
    return path


def poll(config: Path) -> None:
    result = runner.invoke(app, ["poll", "--once", "--config", str(config)])
    assert result.exit_code == 0, result.output


def play(configs: list[Path], bridge: Bridge) -> list[int]:
    """ROUNDS rounds of each instance polling and sending; mails crossed per round."""
    per_round = []
    for _ in range(ROUNDS):
        before = len(bridge.crossings)
        for config in configs:
            poll(config)
        per_round.append(len(bridge.crossings) - before)
    return per_round


def reasons(config: Path) -> list[tuple[str, str]]:
    engine = make_engine(load_config(config).database.url)
    try:
        return [(m.outcome, m.outcome_reason) for m in reversed(list_messages(engine))]
    finally:
        engine.dispose()


@pytest.fixture
def no_password_env(monkeypatch):
    monkeypatch.delenv("MAILBOT_IMAP_PASSWORD", raising=False)
    monkeypatch.delenv("MAILBOT_SMTP_PASSWORD", raising=False)


SEEDS = {
    # Someone at B's address writes to A by hand (no automatic-mail header).
    "mail from B's address": make_mail("Bonjour, pouvez-vous reprendre ce dossier ?",
                                       message_id="<seed@b.example.test>",
                                       From=f"Support B <{B}>", To=A,
                                       Subject="Dossier à reprendre"),
    # A teacher writes to A with B as Reply-To: A's acknowledgement goes to B.
    "teacher replying to B": make_mail(message_id="<seed@ecole.example>", To=A,
                                       Reply_To=B),
}


@pytest.mark.parametrize("shared_domain", [False, True],
                         ids=["own Message-ID domains", "one Message-ID domain for both"])
@pytest.mark.parametrize("seed", SEEDS)
def test_two_mailbots_facing_each_other_stop_at_once(tmp_path, mailboxes, no_password_env,
                                                     seed, shared_domain):
    bridge = Bridge(mailboxes).start()
    try:
        domain_a = "mailbot.example.test" if shared_domain else "a.example.test"
        domain_b = "mailbot.example.test" if shared_domain else "b.example.test"
        config_a = instance(tmp_path, A, mailboxes, bridge, domain_a)
        config_b = instance(tmp_path, B, mailboxes, bridge, domain_b)
        mailboxes.deliver(A, SEEDS[seed])
        per_round = play([config_a, config_b], bridge)
    finally:
        bridge.stop()

    print(f"\n{seed}, {'shared' if shared_domain else 'own'} domains: mails per round "
          f"{per_round}")
    crossed = bridge.crossings
    assert len(crossed) <= 3 and sum(per_round[2:]) == 0, crossed
    # A answered once (its acknowledgement, marked as automatic); B never answered.
    assert [(c.mail_from, c.rcpt_to) for c in crossed] == [(A, B)]
    assert crossed[0].auto_submitted == "auto-replied"
    assert mailboxes.count(A) == 1 and mailboxes.count(B) == 1
    assert [outcome for outcome, _ in reasons(config_a)] == ["new_ticket"]
    [(outcome, reason)] = reasons(config_b)
    assert outcome == "ignored"
    expected = ("own: Message-ID domain is our own: mailbot.example.test" if shared_domain
                else "auto_reply: Auto-Submitted: auto-replied")
    assert reason == expected


@pytest.mark.parametrize("copy_subject", [True, False],
                         ids=["copies the subject", "always the same subject"])
def test_a_naive_autoresponder_is_stopped_after_a_handful(tmp_path, mailboxes, no_password_env,
                                                          copy_subject):
    robot = VacationResponder(ROBOT, copy_subject=copy_subject)
    bridge = Bridge(mailboxes, robots={ROBOT: robot}).start()
    try:
        config_a = instance(tmp_path, A, mailboxes, bridge, "a.example.test")
        mailboxes.deliver(A, make_mail("Bonjour, une question sur le carnet.",
                                       message_id="<start@lycee.example>",
                                       From=f"Paul Bernard <{ROBOT}>", To=A,
                                       Subject="Question sur le carnet"))
        per_round = play([config_a], bridge)
    finally:
        bridge.stop()

    print(f"\nautoresponder that {'copies the subject' if copy_subject else 'does not'}: "
          f"mails per round {per_round}")
    crossed = bridge.crossings
    max_per_hour = load_config(config_a).loops.max_per_hour
    ours = [c for c in crossed if c.mail_from == A]
    assert all(c.auto_submitted == "auto-replied" and c.rcpt_to == ROBOT for c in ours)
    assert sum(per_round[-3:]) == 0, per_round  # it stopped
    outcomes = reasons(config_a)
    if copy_subject:
        # Its answer quotes the tracking number: it lands on the ticket, which is
        # never acknowledged twice.
        assert len(ours) == 1 and len(crossed) == 2
        assert [o for o, _ in outcomes] == ["new_ticket", "appended"]
    else:
        # Every answer looks like a new request: the per-recipient limit on automatic
        # mail stops the exchange, and each ticket it held back says why.
        assert len(ours) == max_per_hour and len(crossed) == 2 * max_per_hour
        assert [o for o, _ in outcomes] == ["new_ticket"] * (max_per_hour + 1)
        held = held_back(config_a)
        assert len(held) == 1 and "automatic mails in the last hour" in held[0]


def held_back(config: Path) -> list[str]:
    from sqlmodel import Session, select

    from mailbot.store.models import TicketEvent

    engine = make_engine(load_config(config).database.url)
    try:
        with Session(engine) as session:
            return [e.detail for e in session.exec(select(TicketEvent).where(
                TicketEvent.kind == "auto_reply_suppressed"))]
    finally:
        engine.dispose()
