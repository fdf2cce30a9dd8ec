"""Mailing-list traffic: RFC 2369/2919 list headers, ezmlm, ``Precedence: list``
(or ``X-Precedence: list``).

A reply to list mail would go to every subscriber (or to the list owner), so
list mail is never answered automatically, even when a person wrote it.
"""

from __future__ import annotations

from email.message import Message

from mailbot import headers
from mailbot.model import MailKind

LIST_HEADERS = ("List-Id", "List-Post", "List-Unsubscribe", "Mailing-List")


class MailingList:
    """Hits on mail distributed by a mailing list or a bulk sender with list headers."""

    name = "list"
    description = "List-Id, List-Post, List-Unsubscribe, Mailing-List or (X-)Precedence: list"
    kind = MailKind.LIST

    def check(self, message: Message, sender: str) -> str | None:
        """The reason this message came through a list, or None."""
        for header in LIST_HEADERS:
            value = headers.first(message, header)
            if value is not None:
                return f"{header}: {headers.clip(value.strip())}"
        for header in ("Precedence", "X-Precedence"):
            for value in headers.values(message, header):
                words = value.lower().replace(";", " ").split()
                if words and words[0] == "list":
                    return f"{header}: list"
        return None


LIST = MailingList()
