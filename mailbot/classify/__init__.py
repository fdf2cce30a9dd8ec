"""The classify stage: who produced a message, so mailbot never answers a machine.

Each check is one small module with a ``name``, a ``description`` and a
``check(message, sender)`` that returns the reason for a hit or None. The
checks run in the order of :func:`checks`; the first hit decides, so
precedence is data, in one place: own, bounce, auto_reply, list. A message no
check claims is ``normal``, the only kind mailbot may auto-reply to.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from email.message import EmailMessage, Message
from typing import Protocol

from mailbot.classify.auto_reply import AUTO_REPLY
from mailbot.classify.bounce import BOUNCE
from mailbot.classify.mailing_list import LIST
from mailbot.classify.own import OwnMail
from mailbot.model import MailKind, Verdict

__all__ = ["Check", "OwnIdentity", "checks", "classify"]

NO_SIGNAL = "no automated-mail signal"


class Check(Protocol):
    """One classification rule: *kind* is the verdict it gives on a hit."""

    name: str
    description: str
    kind: MailKind

    def check(self, message: Message, sender: str) -> str | None:
        """Return the reason (the deciding header or part) on a hit, else None."""
        ...


@dataclass(frozen=True)
class OwnIdentity:
    """What marks mail as our own; every entry lower-case.

    *addresses* are the mailbox addresses mailbot sends from (and any alias it
    receives on); *message_id_domains* are the domains of the Message-IDs it mints.
    """

    addresses: frozenset[str]
    message_id_domains: frozenset[str]


@functools.lru_cache(maxsize=8)
def checks(identity: OwnIdentity) -> tuple[Check, ...]:
    """The checks in precedence order, the first hit wins."""
    return (OwnMail(identity), BOUNCE, AUTO_REPLY, LIST)


def classify(message: EmailMessage, sender: str, identity: OwnIdentity) -> Verdict:
    """Classify *message* as own, bounce, auto_reply, list or normal.

    *sender* is the sender's address as the caller parsed it (normally
    ``ParsedMail.from_addr``, ``""`` when unknown); it is checked alongside the
    From header, which alone decides a null sender (``From: <>``). Malformed
    headers never raise: they are read raw, or treated as absent.
    """
    for rule in checks(identity):
        reason = rule.check(message, sender)
        if reason is not None:
            return Verdict(rule.kind, reason)
    return Verdict(MailKind.NORMAL, NO_SIGNAL)
