"""Incoming mail sources, all with the same small interface.

A source yields :class:`~mailbot.model.RawMail` items and is told, once the
outcome of each one is committed to the database, that it may acknowledge it
(mark it ``\\Seen``, move it). The database, not the mailbox flags, is the
record of what was processed: flags are a courtesy to humans reading the box.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from mailbot.config import SourceConfig
from mailbot.model import RawMail


class Source(Protocol):
    """What the poller needs from a mailbox."""

    origin: str

    def fetch_new(self, checkpoint: tuple[int, int] | None) -> Iterator[RawMail]:
        """Yield messages not yet processed, resuming after *checkpoint* if any."""
        ...

    def acknowledge(self, mail: RawMail) -> None:
        """Mark *mail* as handled in the mailbox; called after the commit."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def open_source(config: SourceConfig) -> Source:
    """Connect to the source the configuration names."""
    if config.kind == "imap":
        from mailbot.sources.imap import ImapSource

        return ImapSource(config.imap)
    from mailbot.sources.maildir import MaildirSource

    return MaildirSource(config.maildir.path)
