"""IMAP source (imapclient): UID-based polling that survives UIDVALIDITY changes.

Messages are fetched with ``BODY.PEEK[]`` so fetching does not set
``\\Seen``; the poller saves ``(UIDVALIDITY, UID)`` with each outcome, and
only then asks :meth:`ImapSource.acknowledge` to flag and, if configured,
move the message. When the server reports a new UIDVALIDITY every message is
offered again: the database's Message-ID + content hash dedupe keeps that
from creating tickets twice.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Iterator

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, IMAPClientError

from mailbot.config import ImapConfig
from mailbot.errors import SourceError
from mailbot.model import RawMail

log = logging.getLogger("mailbot.source")
SEEN = b"\\Seen"


class ImapSource:
    """One logged-in connection to one folder."""

    def __init__(self, config: ImapConfig) -> None:
        self.config = config
        self.origin = f"imap:{config.user}@{config.host}/{config.folder}"
        self.client = self._connect()

    def _connect(self) -> IMAPClient:
        cfg = self.config
        context = None
        if cfg.security != "plain":
            context = ssl.create_default_context(cafile=str(cfg.ca_file) if cfg.ca_file else None)
        try:
            client = IMAPClient(cfg.host, port=cfg.port, ssl=cfg.security == "tls",
                                ssl_context=context, timeout=cfg.timeout_seconds)
            # imapclient switches imaplib's debug output on for every connection;
            # formatting each fetched literal for a dropped log line costs ~7x
            # throughput (notes §9). Private attribute: imapclient is pinned.
            client._imap.debug = 0
            if cfg.security == "starttls":
                client.starttls(context)
            password = cfg.password.get_secret_value() if cfg.password else ""
            client.login(cfg.user, password)
            if cfg.move_to and not client.folder_exists(cfg.move_to):
                client.create_folder(cfg.move_to)
            self.uidvalidity = int(client.select_folder(cfg.folder)[b"UIDVALIDITY"])
        except (IMAPClientError, OSError) as exc:
            raise SourceError(f"IMAP {cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}") from exc
        return client

    def fetch_new(self, checkpoint: tuple[int, int] | None) -> Iterator[RawMail]:
        """Yield messages after *checkpoint*'s UID, in UID order, in batches."""
        last_uid = 0
        if checkpoint is not None:
            saved_validity, saved_uid = checkpoint
            if saved_validity == self.uidvalidity:
                last_uid = saved_uid
            else:
                log.warning("UIDVALIDITY of %s changed (%s -> %s): rescanning the folder",
                            self.origin, saved_validity, self.uidvalidity)
        try:
            uids = sorted(u for u in self.client.search(["UID", f"{last_uid + 1}:*"])
                          if u > last_uid)
            for start in range(0, len(uids), self.config.batch_size):
                batch = uids[start:start + self.config.batch_size]
                fetched = self.client.fetch(batch, ["BODY.PEEK[]"])
                for uid in batch:
                    data = fetched.get(uid)
                    if data is None or b"BODY[]" not in data:
                        continue  # expunged between SEARCH and FETCH
                    yield RawMail(raw=bytes(data[b"BODY[]"]), origin=self.origin,
                                  source_key=str(uid), checkpoint=(self.uidvalidity, uid))
        except (IMAPClientError, OSError) as exc:
            raise SourceError(f"IMAP fetch from {self.origin}: {exc}") from exc

    def acknowledge(self, mail: RawMail) -> None:
        """Flag the message ``\\Seen``, then move it if ``move_to`` is set."""
        uid = int(mail.source_key)
        try:
            self.client.add_flags([uid], [SEEN])
            if self.config.move_to:
                self._move(uid, self.config.move_to)
        except (IMAPClientError, OSError) as exc:
            # Already committed: the checkpoint, not the flag, prevents reprocessing.
            log.warning("could not flag/move UID %s in %s: %s", uid, self.origin, exc)

    def _move(self, uid: int, folder: str) -> None:
        try:
            self.client.move([uid], folder)
        except CapabilityError:
            self.client.copy([uid], folder)
            self.client.add_flags([uid], [b"\\Deleted"])
            self.client.uid_expunge([uid])

    def close(self) -> None:
        """Log out; errors on a dead connection are ignored."""
        with contextlib.suppress(IMAPClientError, OSError):
            self.client.logout()
