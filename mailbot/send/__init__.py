"""Outgoing transports: one ``deliver(mail_from, rcpt_to, raw)`` coroutine each.

* :class:`~mailbot.send.smtp.SmtpTransport` talks to a real SMTP server.
* :class:`~mailbot.send.maildir.MaildirTransport` writes into a local Maildir,
  for the embedded default and the demo.
"""

from __future__ import annotations

from typing import Protocol

from mailbot.config import SenderConfig


class Transport(Protocol):
    """Delivers one message or raises a :class:`~mailbot.errors.DeliveryError`."""

    description: str

    async def deliver(self, mail_from: str, rcpt_to: str, raw: bytes) -> None: ...


def make_transport(config: SenderConfig) -> Transport:
    """The transport the configuration asks for."""
    if config.kind == "smtp":
        from mailbot.send.smtp import SmtpTransport

        return SmtpTransport(config.smtp)
    from mailbot.send.maildir import MaildirTransport

    return MaildirTransport(config.maildir.path)
