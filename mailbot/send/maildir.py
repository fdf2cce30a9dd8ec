"""A transport that writes each outgoing message into a local Maildir."""

from __future__ import annotations

import mailbox
from pathlib import Path


class MaildirTransport:
    """Delivers into ``path/new/`` (created on first use); never fails transiently."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.description = f"maildir:{self.path}"

    async def deliver(self, mail_from: str, rcpt_to: str, raw: bytes) -> None:
        """Write *raw* with ``Return-Path``/``Delivered-To`` lines like an MTA would."""
        box = mailbox.Maildir(self.path, create=True)
        envelope = f"Return-Path: <{mail_from}>\r\nDelivered-To: {rcpt_to}\r\n".encode()
        box.add(envelope + raw)
