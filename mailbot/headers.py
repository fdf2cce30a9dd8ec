"""Header and MIME access that never raises on hostile input (classify, parse).

``policy.default`` parses a header when it is read, and some malformed values
raise there (``AttributeError``, ``IndexError``, ``HeaderParseError`` ...).
Every read goes through these helpers, which fall back to the raw stored
value: for loop prevention a header we cannot parse still counts as present.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message
from email.utils import getaddresses
from typing import Any, cast

_FOLD = re.compile(r"\r?\n[ \t]*|\r[ \t]*")
_MAX_PARTS = 500  # walking more than this many MIME parts is hostile input


def raw_values(message: Message, name: str) -> list[str]:
    """Values of header *name* exactly as stored (unfolded, not decoded)."""
    try:
        wanted = name.lower()
        return [_FOLD.sub(" ", str(v)) for k, v in message.raw_items() if k.lower() == wanted]
    except Exception:  # a broken message object: the header is unreadable, so absent
        return []


def values(message: Message, name: str) -> list[str]:
    """Decoded values of every header *name*; the raw values if parsing raises."""
    try:
        return [str(v) for v in message.get_all(name) or ()]
    except Exception:  # stdlib header parsing raised: use what was on the wire
        return raw_values(message, name)


def first(message: Message, name: str) -> str | None:
    """The first value of header *name*, or None when absent."""
    found = values(message, name)
    return found[0] if found else None


def addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """``(display name, addr-spec)`` pairs of an address header, never raising."""
    try:
        found: list[tuple[str, str]] = []
        headers: list[Any] = message.get_all(name) or []  # AddressHeader under policy.default
        for header in headers:
            for addr in header.addresses:
                found.append((str(addr.display_name), str(addr.addr_spec)))
        return found
    except Exception:  # stdlib address parsing raised, or compat32 headers
        pairs = getaddresses(raw_values(message, name))
        return [(n, a) for n, a in pairs if n or a]


def local_part(addr: str) -> str:
    """The part of *addr* before the last ``@``, lower-cased."""
    return addr.rpartition("@")[0].lower() if "@" in addr else addr.lower()


def content_type(part: Message) -> tuple[str, dict[str, str]]:
    """``(type/subtype, params)`` of *part*, all lower-cased; ``("", {})`` if unreadable."""
    try:
        header: Any = part.get("Content-Type")  # ContentTypeHeader under policy.default
        if header is None:
            return part.get_content_type(), {}
        params = {str(k).lower(): str(v).lower() for k, v in header.params.items()}
        return str(header.content_type).lower(), params
    except Exception:  # unparsable Content-Type: read the raw text ourselves
        raw = raw_values(part, "Content-Type")
        if not raw:
            return "", {}
        ctype, *rest = (item.strip() for item in raw[0].split(";"))
        pairs = (p.partition("=") for p in rest)
        return ctype.lower(), {k.strip().lower(): v.strip(' "').lower() for k, _, v in pairs}


def parts(message: Message) -> Iterator[Message]:
    """*message* and its MIME descendants, depth first.

    Attached messages (``message/*``) are not entered: a forwarded bounce is
    someone's mail *about* a bounce, and its report parts say nothing about
    the message at hand.
    """
    stack = [message]
    seen = 0
    while stack and seen < _MAX_PARTS:
        part = stack.pop()
        seen += 1
        yield part
        try:
            if part.is_multipart() and not content_type(part)[0].startswith("message/"):
                stack.extend(reversed(cast(list[Message], part.get_payload())))
        except Exception:  # a broken multipart: its children are unreachable
            continue


def clip(text: str, limit: int = 80) -> str:
    """*text* made safe for a reason string: printable, one line, at most *limit* chars."""
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
