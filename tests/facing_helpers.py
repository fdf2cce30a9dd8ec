"""Real servers for mailbot instances that write to each other (tests/test_facing.py).

* :class:`MailboxesDovecot`: the test Dovecot of :mod:`tests.servers`, with one
  mailbox per address instead of one.
* :class:`Bridge`: an aiosmtpd server standing for the mail system between them.
  Each recipient's copy is delivered the way an MDA does it (``Return-Path`` and
  ``Delivered-To`` on top, then IMAP APPEND into that user's INBOX), or handed to a
  scripted robot (:class:`VacationResponder`) whose answer is delivered the same
  way. Every mail that crosses it is recorded, in order.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import re
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from aiosmtpd.controller import Controller
from imapclient import IMAPClient

from tests.servers import HOST, DovecotServer, free_port


class MailboxesDovecot(DovecotServer):
    """A private Dovecot with several users; *users* maps address -> password."""

    def __init__(self, users: dict[str, str]) -> None:
        first = next(iter(users))
        super().__init__(user=first, password=users[first])
        self.users = dict(users)

    def _write_config(self) -> None:
        super()._write_config()
        (self.root / "users").write_text(
            "".join(f"{user}:{{PLAIN}}{password}\n" for user, password in self.users.items()))

    def client_for(self, user: str) -> IMAPClient:
        """A new IMAPClient logged in as *user*. Caller logs out."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(user, self.users[user])
        return client

    def deliver(self, user: str, raw: bytes) -> None:
        """APPEND *raw* to *user*'s INBOX."""
        with self.client_for(user) as client:
            client.append("INBOX", raw)

    def count(self, user: str) -> int:
        """How many messages *user*'s INBOX holds."""
        with self.client_for(user) as client:
            return int(client.select_folder("INBOX", readonly=True)[b"EXISTS"])


@dataclass(frozen=True)
class Crossing:
    """One mail that went through the bridge: who, to whom, and its headers."""

    mail_from: str
    rcpt_to: str
    subject: str
    auto_submitted: str | None
    by_robot: bool


class VacationResponder:
    """A naive autoresponder: answers every mail, sets none of the headers that
    mark automatic mail (no Auto-Submitted, no Precedence, no In-Reply-To).

    *copy_subject*: ``Absent : <their subject>`` (as most do), else always the same
    fresh subject, so that its answers never continue a ticket.
    """

    def __init__(self, address: str, copy_subject: bool) -> None:
        self.address = address
        self.copy_subject = copy_subject
        self._numbers = itertools.count(1)

    def answer(self, raw: bytes) -> tuple[str, bytes]:
        """``(recipient, raw answer)`` for the incoming mail *raw*."""
        incoming = email.message_from_bytes(raw, policy=email.policy.default)
        to = parseaddr(str(incoming.get("Reply-To") or incoming.get("From") or ""))[1]
        subject = str(incoming.get("Subject") or "")
        answer = EmailMessage(policy=email.policy.SMTP)
        answer["From"] = f"Paul Bernard <{self.address}>"
        answer["To"] = to
        answer["Subject"] = f"Absent : {subject}" if self.copy_subject else "Message d'absence"
        answer["Date"] = formatdate(localtime=True)
        answer["Message-ID"] = f"<absence-{next(self._numbers)}@{self.address.split('@')[1]}>"
        answer.set_content("Bonjour,\n\nJe suis absent jusqu'au 5 janvier, sans accès à mes "
                           "messages.\n\nPaul Bernard\n")
        return to, answer.as_bytes()


class Bridge:
    """SMTP in, IMAP APPEND out (or a robot's answer); records every crossing."""

    def __init__(self, dovecot: MailboxesDovecot,
                 robots: dict[str, VacationResponder] | None = None) -> None:
        self.dovecot = dovecot
        self.robots = dict(robots or {})
        self.host, self.port = HOST, 0
        self.undeliverable: list[str] = []  # recipients with no mailbox here
        self._crossings: list[Crossing] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> Bridge:
        """Listen on a free port of 127.0.0.1."""
        self.port = free_port()
        self._controller = Controller(self, hostname=self.host, port=self.port,
                                      ready_timeout=10)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def crossings(self) -> list[Crossing]:
        """Every mail delivered so far, oldest first."""
        with self._lock:
            return list(self._crossings)

    async def handle_DATA(self, server, session, envelope) -> str:
        """aiosmtpd hook: deliver each recipient's copy before answering 250."""
        content = bytes(envelope.content)
        loop = asyncio.get_running_loop()
        for rcpt in envelope.rcpt_tos:
            await loop.run_in_executor(None, self._deliver, envelope.mail_from, rcpt.lower(),
                                       content, False)
        return "250 OK"

    def _deliver(self, mail_from: str, rcpt: str, content: bytes, by_robot: bool) -> None:
        raw = (f"Return-Path: <{mail_from}>\r\nDelivered-To: {rcpt}\r\n".encode()
               + re.sub(rb"^(\r?\n)+", b"", content))
        headers = email.message_from_bytes(raw, policy=email.policy.default)
        with self._lock:
            self._crossings.append(Crossing(
                mail_from=mail_from, rcpt_to=rcpt, subject=str(headers.get("Subject") or ""),
                auto_submitted=headers.get("Auto-Submitted"), by_robot=by_robot))
        if rcpt in self.dovecot.users:
            self.dovecot.deliver(rcpt, raw)
        elif rcpt in self.robots:
            robot = self.robots[rcpt]
            to, answer = robot.answer(raw)
            self._deliver(robot.address, to.lower(), answer, True)
        else:
            self.undeliverable.append(rcpt)
