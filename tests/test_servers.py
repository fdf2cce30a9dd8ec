"""Tests of the test harness itself: the real Dovecot and the scriptable SMTP sink."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from tests.conftest import SHARED, shared_dir
from tests.servers import DovecotServer, SmtpSink, live_group_members

RAW = b"From: a@example.test\r\nSubject: hello\r\nMessage-ID: <m%d@example.test>\r\n\r\nbody %d\r\n"


def _all(c: IMAPClient, folder: str = "INBOX") -> dict[int, dict]:
    c.select_folder(folder)
    uids = c.search(["ALL"])
    return c.fetch(uids, ["BODY.PEEK[]", "FLAGS"]) if uids else {}


# -- Dovecot ---------------------------------------------------------------------------------
def test_append_then_fetch_returns_the_bytes(dovecot: DovecotServer) -> None:
    uid = dovecot.append(RAW % (1, 1), flags=[b"\\Flagged"])
    assert uid == 1
    with dovecot.client() as c:
        data = _all(c)
    assert list(data) == [1]
    assert data[1][b"BODY[]"] == RAW % (1, 1)
    assert b"\\Flagged" in data[1][b"FLAGS"]
    assert dovecot.host == "127.0.0.1" and dovecot.port > 0 and dovecot.log_path.exists()


def test_create_folder_and_append_there(dovecot: DovecotServer) -> None:
    dovecot.create_folder("Archive.2026")
    dovecot.append(RAW % (2, 2), folder="Archive.2026")
    with dovecot.client() as c:
        assert c.folder_exists("Archive.2026")
        assert [d[b"BODY[]"] for d in _all(c, "Archive.2026").values()] == [RAW % (2, 2)]
        assert _all(c) == {}


def test_wrong_password_is_refused(dovecot: DovecotServer) -> None:
    c = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=10)
    with pytest.raises(LoginError):
        c.login(dovecot.user, dovecot.password + "x")
    c.shutdown()


def test_reset_uidvalidity_changes_it_and_keeps_the_messages(dovecot: DovecotServer) -> None:
    for i in range(3):
        dovecot.append(RAW % (i, i), flags=[b"\\Seen"] if i == 0 else [])
    old_conn = dovecot.client()
    before = old_conn.select_folder("INBOX")
    old_uids = old_conn.search(["ALL"])

    old, new = dovecot.reset_uidvalidity()

    assert old == before[b"UIDVALIDITY"] and new != old
    with pytest.raises((IMAPClientError, OSError)):  # a real server drops such sessions too
        old_conn.noop()
    with dovecot.client() as c:
        assert c.select_folder("INBOX")[b"UIDVALIDITY"] == new
        data = _all(c)
    assert [d[b"BODY[]"] for d in data.values()] == [RAW % (i, i) for i in range(3)]
    assert min(data) > max(old_uids)  # new UIDs, above the old UIDNEXT
    assert [b"\\Seen" in d[b"FLAGS"] for d in data.values()] == [True, False, False]
    assert dovecot.reset_uidvalidity()[1] not in (old, new)  # repeatable


def test_kick_breaks_an_existing_connection(dovecot: DovecotServer) -> None:
    c = dovecot.client()
    c.select_folder("INBOX")
    dovecot.kick()
    with pytest.raises((IMAPClientError, OSError)):
        c.noop()
    with dovecot.client() as fresh:  # the server itself is still up
        assert fresh.noop()[0].startswith(b"NOOP")


def test_stop_leaves_no_process_and_no_files(dovecot: DovecotServer) -> None:
    with dovecot.client() as c:
        c.select_folder("INBOX")
        pgid, root = dovecot._proc.pid, dovecot.root
        assert live_group_members(pgid)
        dovecot.stop()
        assert live_group_members(pgid) == []
        assert not root.exists()
        with pytest.raises((IMAPClientError, OSError)):
            c.noop()
    dovecot.stop()  # idempotent


def test_servers_are_isolated(dovecot: DovecotServer) -> None:
    with DovecotServer() as other:
        dovecot.append(RAW % (1, 1))
        assert dovecot.port != other.port and dovecot.password != other.password
        assert dovecot.root != other.root
        with other.client() as c:
            assert _all(c) == {}


@pytest.mark.parametrize(("require", "outcome"), [("0", "1 skipped"), ("1", "1 error")])
def test_missing_dovecot_skips_or_fails(require: str, outcome: str) -> None:
    env = {**os.environ, "MAILBOT_DOVECOT": "/nonexistent/dovecot",
           "MAILBOT_REQUIRE_SERVERS": require}
    test = "tests/test_servers.py::test_append_then_fetch_returns_the_bytes"
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert outcome in proc.stdout, proc.stdout
    assert "dovecot not installed: apt-get install dovecot-imapd" in proc.stdout


def test_shared_dir_skips_when_absent() -> None:
    assert SHARED.name == "shared" and SHARED.parent == Path(__file__).resolve().parents[2]
    with pytest.raises(pytest.skip.Exception, match="shared data not found"):
        shared_dir("no-such-folder-mailbot-test")


# -- SMTP sink -------------------------------------------------------------------------------
def _msg(to: str = "alice@example.test") -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "bot@example.test", to, "Re: ticket"
    m.set_content("Bonjour\n")
    return m


def _send(sink: SmtpSink, msg: EmailMessage | None = None, **kw):
    return asyncio.run(aiosmtplib.send(msg or _msg(), hostname=sink.host, port=sink.port,
                                       start_tls=False, timeout=10, **kw))


def test_sink_records_a_message(smtp_sink: SmtpSink) -> None:
    errors, _ = _send(smtp_sink, _msg("alice@example.test, bob@example.test"))
    assert errors == {}
    [(mail_from, rcpts, content)] = smtp_sink.wait_for(1)
    assert mail_from == "bot@example.test"
    assert rcpts == ["alice@example.test", "bob@example.test"]
    assert b"Subject: Re: ticket" in content and b"Bonjour" in content


def test_scripted_451_then_success(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next("451 4.3.0 try later")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as exc:
        _send(smtp_sink)
    assert [r.code for r in exc.value.recipients] == [451]
    assert smtp_sink.messages == []
    _send(smtp_sink)
    assert len(smtp_sink.messages) == 1


def test_scripted_550_and_data_failure(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_next("550 5.1.1 no such user")
    smtp_sink.fail_next("451 4.3.0 queue full", at="DATA")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as exc:
        _send(smtp_sink)
    assert exc.value.recipients[0].code == 550
    with pytest.raises(aiosmtplib.SMTPResponseException) as exc2:
        _send(smtp_sink)
    assert exc2.value.code == 451
    assert smtp_sink.messages == []
    _send(smtp_sink)
    assert len(smtp_sink.messages) == 1


@pytest.mark.parametrize("at", ["RCPT", "DATA"])
def test_scripted_disconnect(smtp_sink: SmtpSink, at: str) -> None:
    smtp_sink.disconnect_next(at=at)
    with pytest.raises(aiosmtplib.SMTPServerDisconnected) as exc:
        _send(smtp_sink)
    assert isinstance(exc.value, ConnectionError)
    assert isinstance(exc.value.__cause__, ConnectionResetError)  # a hard drop (RST)
    assert smtp_sink.messages == []
    _send(smtp_sink)
    assert len(smtp_sink.messages) == 1


def test_fail_next_rejects_a_bad_stage(smtp_sink: SmtpSink) -> None:
    with pytest.raises(ValueError):
        smtp_sink.fail_next("451 x", at="EHLO")


def test_auth() -> None:
    with SmtpSink(auth={"bot": "s3cret"}) as sink:
        errors, _ = _send(sink, username="bot", password="s3cret")
        assert errors == {} and sink.logins == ["bot"] and len(sink.messages) == 1
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as exc:
            _send(sink, username="bot", password="wrong")
        assert exc.value.code == 535
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as exc2:  # AUTH is required
            _send(sink)
        assert exc2.value.code == 530
        assert len(sink.messages) == 1
