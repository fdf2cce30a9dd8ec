"""Own mail: a message mailbot (or the help desk itself) sent.

Answering our own mail is the shortest loop there is, so this check runs first.
It hits when the From address (or the *sender* the caller passes) is one of
our addresses, or when the Message-ID was minted on one of our domains.
"""

from __future__ import annotations

from email.message import Message
from typing import TYPE_CHECKING

from mailbot import headers
from mailbot.model import MailKind

if TYPE_CHECKING:
    from mailbot.classify import OwnIdentity


def message_id_domain(message: Message) -> str | None:
    """The lower-cased domain of the Message-ID, or None when there is none."""
    value = headers.first(message, "Message-ID")
    if value is None:
        return None
    local, at, domain = value.strip().strip("<>").rpartition("@")
    domain = domain.strip().rstrip(">").strip().lower()
    return domain if at and local and domain else None


class OwnMail:
    """Hits on mail whose From address or Message-ID domain is ours."""

    name = "own"
    description = "From is one of our addresses, or the Message-ID is on our domain"
    kind = MailKind.OWN

    def __init__(self, identity: OwnIdentity) -> None:
        """Bind the check to the addresses and domains that are ours."""
        self.identity = identity

    def check(self, message: Message, sender: str) -> str | None:
        """The reason this message is our own, or None."""
        candidates = [sender, *(addr for _, addr in headers.addresses(message, "From"))]
        for addr in candidates:
            addr = addr.strip().strip("<>").strip().lower()
            if addr and addr in self.identity.addresses:
                return f"From is our own address {headers.clip(addr)}"
        domain = message_id_domain(message)
        if domain is not None and domain in self.identity.message_id_domains:
            return f"Message-ID domain is our own: {headers.clip(domain)}"
        return None
