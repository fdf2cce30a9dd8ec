"""What a bounce or an auto-reply says about mail we sent.

A delivery failure usually arrives as a new message from MAILER-DAEMON that
carries our original message (``message/rfc822``) or its headers
(``text/rfc822-headers``) rather than a ``References`` header. This module
finds the Message-IDs it refers to and the delivery status it reports, so
the failure can be recorded on the ticket whose answer bounced.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import Message

from mailbot import headers

_MSGID = re.compile(r"<[^<>\s]+>")
RETURNED_PARTS = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")
STATUS_FIELDS = ("Final-Recipient", "Status", "Diagnostic-Code")


def referenced_ids(message: Message) -> list[str]:
    """Message-IDs this message refers to: its own References/In-Reply-To,
    then the Message-ID of any returned message or headers inside it."""
    found: list[str] = []
    for name in ("In-Reply-To", "References"):
        for value in headers.raw_values(message, name):
            found += _MSGID.findall(value)
    for part in _all_parts(message):
        if headers.content_type(part)[0] in RETURNED_PARTS:
            found += _MSGID.findall(" ".join(headers.raw_values(_as_message(part), "Message-ID")))
    return list(dict.fromkeys(found))


def delivery_status(message: Message) -> str:
    """``Final-Recipient …; Status …; Diagnostic-Code …`` from a DSN, or ``""``."""
    for part in _all_parts(message):
        if headers.content_type(part)[0] != "message/delivery-status":
            continue
        text = _payload_text(part)
        fields = {}
        for line in text.splitlines():
            name, _, value = line.partition(":")
            if name.strip() in STATUS_FIELDS and name.strip() not in fields:
                fields[name.strip()] = headers.clip(value.strip(), 120)
        return "; ".join(f"{k} {v}" for k, v in fields.items())
    return ""


def _all_parts(message: Message) -> list[Message]:
    parts, stack = [], [message]
    while stack and len(parts) < 200:
        part = stack.pop()
        parts.append(part)
        payload = part.get_payload()
        if isinstance(payload, list) and headers.content_type(part)[0] not in RETURNED_PARTS:
            stack.extend(p for p in payload if isinstance(p, Message))
    return parts


def _as_message(part: Message) -> Message:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]  # message/rfc822 holds the returned message
    return email.message_from_string(_payload_text(part), policy=email.policy.compat32)


def _payload_text(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list):  # message/delivery-status: a list of header blocks
        return "\n\n".join(str(block) for block in payload)
    raw = part.get_payload(decode=True)
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload or "")
