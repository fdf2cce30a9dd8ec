"""Small helpers shared by tests: a service on tmp_path, database reads."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from sqlmodel import Session, select

from mailbot.config import Config
from mailbot.service import Service
from mailbot.store.models import Message, OutboxEntry, Ticket


def local_config(tmp_path: Path) -> Config:
    """The embedded default (SQLite + Maildir in and out) under *tmp_path*."""
    config = Config()
    config.database.url = f"sqlite:///{tmp_path / 'mailbot.db'}"
    config.source.kind = "maildir"
    config.source.maildir.path = tmp_path / "inbox"
    config.sender.kind = "maildir"
    config.sender.maildir.path = tmp_path / "sent"
    config.privacy.keys_file = tmp_path / "mailbot.keys"
    return config


def deliver(maildir: Path, raw: bytes, name: str) -> None:
    """Drop *raw* into ``maildir/new`` as an MTA would."""
    (maildir / "new").mkdir(parents=True, exist_ok=True)
    (maildir / "new" / name).write_bytes(raw)


def rows(service: Service, model: type) -> list:
    with Session(service.engine) as session:
        return list(session.exec(select(model)))


def tickets(service: Service) -> list[Ticket]:
    return rows(service, Ticket)


def incoming(service: Service) -> list[Message]:
    return [m for m in rows(service, Message) if m.direction == "in"]


def outbox(service: Service) -> list[OutboxEntry]:
    return rows(service, OutboxEntry)


def as_message(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def write_config(service: Service) -> Path:
    """A TOML config for the CLI pointing at *service*'s database, keys and rules."""
    path = service.config.source.maildir.path.parent / "mailbot.toml"
    cfg = service.config
    lines = [f'[database]\nurl = "{cfg.database.url}"',
             f'[privacy]\nkeys_file = "{cfg.privacy.keys_file}"']
    if cfg.rules.dir is not None:
        lines.append(f'[rules]\ndir = "{cfg.rules.dir}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def real_servers_config(path: Path, dovecot, smtp_sink, extra: str = "") -> Path:
    """Write a TOML config at *path* for the real Dovecot and SMTP fixtures (SQLite beside
    it, processed mail moved to ``Traites``), plus *extra* sections; the IMAP password
    comes from ``MAILBOT_IMAP_PASSWORD``, which the caller sets."""
    path.write_text(f"""
[identity]
support_address = "helpdesk@example.test"
message_id_domain = "mailbot.example.test"

[database]
url = "sqlite:///mailbot.db"

[source]
kind = "imap"
[source.imap]
host = "{dovecot.host}"
port = {dovecot.port}
security = "plain"
user = "{dovecot.user}"
folder = "INBOX"
move_to = "Traites"
timeout_seconds = 10

[sender]
kind = "smtp"
[sender.smtp]
host = "{smtp_sink.host}"
port = {smtp_sink.port}
security = "plain"
timeout_seconds = 10
{extra}""", encoding="utf-8")
    return path
