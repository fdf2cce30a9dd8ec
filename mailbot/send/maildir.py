"""A transport that writes each outgoing message into a local Maildir."""

from __future__ import annotations

import mailbox
from pathlib import Path

from mailbot.errors import TransientDeliveryError


class MaildirTransport:
    """Delivers into ``path/new/`` (created on first use); never fails transiently."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.description = f"maildir:{self.path}"

    async def deliver(self, mail_from: str, rcpt_to: str, raw: bytes) -> None:
        """Write *raw* with ``Return-Path``/``Delivered-To`` lines like an MTA would."""
        envelope = f"Return-Path: <{mail_from}>\r\nDelivered-To: {rcpt_to}\r\n".encode()
        try:
            for sub in ("new", "cur", "tmp"):  # exist_ok: two flushes may race here
                (self.path / sub).mkdir(parents=True, exist_ok=True)
            mailbox.Maildir(self.path, create=False).add(envelope + raw)
        except OSError as exc:  # disk full, permissions: try again later
            raise TransientDeliveryError(f"cannot write to {self.path}: {exc}") from exc
