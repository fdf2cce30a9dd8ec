"""IMAP source (imapclient): UID-based polling that survives UIDVALIDITY changes.

Messages are fetched with ``BODY.PEEK[]`` so fetching does not set
``\\Seen``; the poller saves ``(UIDVALIDITY, UID)`` with each outcome, and
only then asks :meth:`ImapSource.acknowledge` to flag and, if configured,
move the message. When the server reports a new UIDVALIDITY every message is
offered again: the database's Message-ID + content hash dedupe keeps that
from creating tickets twice.

A message whose outcome was committed but whose flag or move did not happen
(the process was killed right after the commit, the connection dropped) is
at or below the saved checkpoint, so it is never fetched again. Each poll
therefore starts by finishing that job: with ``move_to``, every message still
in the folder at or below the checkpoint is moved (each such UID has a
committed outcome: the poller commits them in UID order, and new mail always
gets a higher UID); without it, only the message at the checkpoint is flagged
if unseen, as that is the one an interrupted poll leaves behind, and a person
who marks older processed mail unread keeps it so.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Iterator

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, IMAPClientAbortError, IMAPClientError

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
            if last_uid:
                self._acknowledge_processed(last_uid)
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
        """Flag the message ``\\Seen``, then move it if ``move_to`` is set.

        A refusal by the server is logged and the poll goes on. A lost
        connection raises :class:`SourceError`: the poll stops there, and the
        next one flags or moves this message (it is at the checkpoint).
        """
        uid = int(mail.source_key)
        try:
            self._flag_and_move([uid])
        except (IMAPClientAbortError, OSError) as exc:
            raise SourceError(f"IMAP connection to {self.origin} lost while flagging UID "
                              f"{uid} (its outcome is saved; the next poll finishes it): "
                              f"{type(exc).__name__}: {exc}") from exc
        except IMAPClientError as exc:
            # Already committed: the checkpoint, not the flag, prevents reprocessing.
            log.warning("could not flag/move UID %s in %s: %s", uid, self.origin, exc)

    def _acknowledge_processed(self, last_uid: int) -> None:
        """Flag or move what an interrupted poll committed but left behind (see the
        module's docstring)."""
        if self.config.move_to:
            criteria = ["UID", f"1:{last_uid}", "NOT", "DELETED"]
        else:
            criteria = ["UID", str(last_uid), "UNSEEN", "NOT", "DELETED"]
        left = sorted(u for u in self.client.search(criteria) if u <= last_uid)
        if not left:
            return
        log.warning("%d message(s) of %s already processed but not %s (interrupted poll): "
                    "doing it now", len(left), self.origin,
                    f"moved to {self.config.move_to}" if self.config.move_to else "flagged")
        try:
            self._flag_and_move(left)
        except IMAPClientAbortError:
            raise
        except IMAPClientError as exc:  # a refusal: log it, and poll anyway
            log.warning("could not flag/move %d processed message(s) in %s: %s", len(left),
                        self.origin, exc)

    def _flag_and_move(self, uids: list[int]) -> None:
        self.client.add_flags(uids, [SEEN])
        if self.config.move_to:
            self._move(uids, self.config.move_to)

    def _move(self, uids: list[int], folder: str) -> None:
        try:
            self.client.move(uids, folder)
        except CapabilityError:
            self.client.copy(uids, folder)
            self.client.add_flags(uids, [b"\\Deleted"])
            self.client.uid_expunge(uids)

    def close(self) -> None:
        """Log out; errors on a dead connection are ignored."""
        with contextlib.suppress(IMAPClientError, OSError):
            self.client.logout()
