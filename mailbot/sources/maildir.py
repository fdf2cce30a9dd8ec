"""A local Maildir as a source: the embedded default.

Messages in ``new/``, or in ``cur/`` without the ``S`` (seen) flag, are new;
acknowledging one moves it to ``cur/`` with the ``S`` flag, as a mail client
would. File names follow the Maildir convention (``KEY:2,FLAGS``), which
:mod:`mailbox` writes too; we read the folders directly so that checking a
flag does not parse the whole message (:mod:`mailbox` would).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from mailbot.model import RawMail

INFO_SEPARATOR = ":2,"


class MaildirSource:
    """Reads unseen messages from the Maildir at *path* (created if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        for sub in ("new", "cur", "tmp"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        self.origin = f"maildir:{self.path}"

    def fetch_new(self, checkpoint: tuple[int, int] | None = None) -> Iterator[RawMail]:
        """Yield unseen messages in delivery order. *checkpoint* is unused."""
        for subpath in self._unseen():
            try:
                raw = (self.path / subpath).read_bytes()
            except FileNotFoundError:  # taken by someone else meanwhile
                continue
            yield RawMail(raw=raw, origin=self.origin, source_key=subpath)

    def acknowledge(self, mail: RawMail) -> None:
        """Move the message to ``cur/`` with the ``S`` flag added."""
        name = mail.source_key.split("/", 1)[1]
        key, _, flags = name.partition(INFO_SEPARATOR)
        flags = "".join(sorted(set(flags) | {"S"}))
        target = self.path / "cur" / f"{key}{INFO_SEPARATOR}{flags}"
        with contextlib.suppress(FileNotFoundError):  # already moved by someone else
            os.rename(self.path / mail.source_key, target)

    def close(self) -> None:
        """Nothing to release for a Maildir."""

    def _unseen(self) -> list[str]:
        found: list[str] = []
        for sub in ("new", "cur"):
            for entry in os.scandir(self.path / sub):
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                flags = entry.name.partition(INFO_SEPARATOR)[2]
                if "S" not in flags:
                    found.append(f"{sub}/{entry.name}")
        # Maildir names start with the delivery time, so name order is arrival order.
        return sorted(found, key=lambda p: p.split("/", 1)[1])
