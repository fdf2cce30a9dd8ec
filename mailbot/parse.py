"""Parse raw bytes into a :class:`~mailbot.model.ParsedMail`. Pure: no I/O.

Which library does what, and why:

* The stdlib ``email`` package (``policy.default``) does the structure:
  headers, body choice and attachments. It picks the right body part, keeps
  forwarded messages out of the body and decodes 8-bit header bytes to U+FFFD
  instead of dropping them.
* :mod:`mailbot.textbody` turns the chosen part into text (charset fallbacks,
  ``format=flowed``, HTML via html2text) and :mod:`mailbot.quotes` keeps only
  what the sender newly wrote (mail-parser-reply plus French separators).
* mail-parser was evaluated and is not used: on the fields we need it is the
  weaker choice (it silently drops undeclared 8-bit subject characters, leaks
  forwarded bodies into ``text_plain`` and hands attachments back as base64
  strings; see docs/design.md).

Every header access is guarded: hostile mail must give a record with
defects, never an exception. :mod:`mailbot.limits` bounds what one message may
cost (MIME depth and parts, header length, body text); what it cuts or skips is
listed in ``defects`` too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.policy
import hashlib
import mimetypes
import re
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from typing import TYPE_CHECKING

from mailbot import headers
from mailbot.config import LimitsConfig
from mailbot.limits import read_message, structure_defects
from mailbot.model import Attachment, ParsedMail
from mailbot.quotes import extract_reply
from mailbot.textbody import body_text

if TYPE_CHECKING:
    from collections.abc import Iterator

_MSGID = re.compile(r"<[^<>\s]+>")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_UNSAFE_FILENAME = re.compile(r"[^\w.\- ()\[\]]+", re.UNICODE)
MAX_FILENAME = 120


def parse_mail(raw: bytes, limits: LimitsConfig | None = None) -> ParsedMail:
    """Decode *raw* RFC 5322 bytes into a :class:`ParsedMail`, within *limits*
    (``[limits]``, the defaults when None).

    Never raises on bad mail: problems, and what the limits cut, are listed in
    ``defects``.
    """
    limits = limits or LimitsConfig()
    # A UTF-8 BOM or blank lines before the first header would make the
    # whole header block a body; real clients do send that.
    message, defects = read_message(raw.lstrip(b"\xef\xbb\xbf\r\n \t"), limits)
    from_name, from_addr = _sender(message, defects)
    from_is_fallback = bool(from_addr) and any(
        d.startswith("no usable From address") for d in defects)
    _, reply_to = _first_address(message, "Reply-To", defects)
    text, body_defects = body_text(message, max_bytes=limits.max_text_bytes)
    defects.extend(body_defects)
    if "\x00" in text:  # UTF-16 sent as UTF-8 is full of NULs; no text column takes them
        text = text.replace("\x00", "")
        defects.append("NUL characters removed from the text")
    attachments = list(_attachments(message, defects, limits.max_attachments))
    defects.extend(_structure_defects(message))  # after decoding: base64 defects show then
    return ParsedMail(
        message=message,
        message_id=_first_msgid(_header(message, "Message-ID", defects)),
        from_addr=from_addr,
        from_name=from_name,
        from_is_fallback=from_is_fallback,
        reply_to=reply_to or None,
        to=[a for _, a in _addresses(message, "To", defects)],
        cc=[a for _, a in _addresses(message, "Cc", defects)],
        subject=_one_line(_header(message, "Subject", defects)),
        date=_date(message, defects),
        in_reply_to=_MSGID.findall(_header(message, "In-Reply-To", defects)),
        references=_MSGID.findall(_header(message, "References", defects)),
        text=text,
        reply_text=extract_reply(text),
        attachments=attachments,
        defects=defects,
        content_sha256=hashlib.sha256(raw).hexdigest(),
    )


def _header(message: Message, name: str, defects: list[str]) -> str:
    try:
        value = message.get(name)
        text = "" if value is None else str(value)
    except Exception as exc:  # the stdlib header parser can raise on garbage
        defects.append(f"header {name}: {type(exc).__name__}")
        raw = headers.raw_values(message, name)  # as stored, never parsed again
        text = raw[0] if raw else ""
    # An encoded CR/LF in a header is an injection attempt, never content.
    return _CONTROL.sub(" ", text)


def _addresses(message: Message, name: str, defects: list[str]) -> list[tuple[str, str]]:
    value = _header(message, name, defects)
    pairs = getaddresses([value]) if value else []
    return [(_display_name(n), a.strip().lower()) for n, a in pairs if a.strip()]


def _display_name(name: str) -> str:
    """A display name decoded and made safe to put back in a header.

    A raw fallback value may still hold encoded words: decode them here, so
    that an encoded CR/LF cannot come back to life when we write the name in
    an answer's To: line.
    """
    if "=?" in name:
        with contextlib.suppress(ValueError, LookupError, UnicodeError):
            name = str(make_header(decode_header(name)))
    return " ".join(_CONTROL.sub(" ", name).split())


def _first_address(message: Message, name: str, defects: list[str]) -> tuple[str, str]:
    pairs = _addresses(message, name, defects)
    if pairs:
        return pairs[0]
    name_, addr = parseaddr(_header(message, name, defects))
    return name_, addr.lower()


SENDER_FALLBACKS = ("Sender", "Reply-To", "Return-Path")


def _sender(message: Message, defects: list[str]) -> tuple[str, str]:
    """The sender: From, else (with a defect) Sender, Reply-To or Return-Path.

    A mail without a usable From is still someone's mail; the envelope sender
    is where its bounces, hence a reply, would go.
    """
    name, addr = _first_address(message, "From", defects)
    if "@" in addr:
        return name, addr
    for header in SENDER_FALLBACKS:
        other_name, other = _first_address(message, header, defects)
        if "@" in other:
            defects.append(f"no usable From address: sender taken from {header}")
            return other_name, other
    defects.append("no sender address in From, Sender, Reply-To or Return-Path")
    return name, addr


def _first_msgid(value: str) -> str | None:
    found = _MSGID.findall(value)
    if found:
        return found[0]
    value = value.strip()
    return f"<{value}>" if value and " " not in value else None


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _date(message: Message, defects: list[str]) -> dt.datetime | None:
    try:
        header = message.get("Date")
        when = getattr(header, "datetime", None)
    except Exception as exc:
        defects.append(f"header Date: {type(exc).__name__}")
        return None
    if when is None:
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def _structure_defects(message: Message) -> list[str]:
    try:
        return structure_defects(list(message.walk()))
    except Exception as exc:  # walk() recursion is bounded by the limits; never fail here
        return [f"MIME structure: {type(exc).__name__}"]


def _attachments(message: EmailMessage, defects: list[str], limit: int) -> Iterator[Attachment]:
    try:
        parts = list(message.iter_attachments())
    except Exception as exc:  # broken multipart structures
        defects.append(f"attachments: {type(exc).__name__}")
        return
    if len(parts) > limit:
        defects.append(f"{len(parts)} attachments: only the first {limit} listed "
                       "([limits] max_attachments)")
    for index, part in enumerate(parts[:limit], start=1):
        try:
            payload = _payload_bytes(part)
            filename = part.get_filename() or ""
        except Exception as exc:  # an unreadable part is still listed, empty
            defects.append(f"attachment {index}: {type(exc).__name__}")
            payload, filename = b"", ""
        yield Attachment(
            filename=safe_filename(filename, part.get_content_type(), index),
            content_type=part.get_content_type(),
            size=len(payload),
            sha256=hashlib.sha256(payload).hexdigest(),
        )


def _payload_bytes(part: Message) -> bytes:
    if part.get_content_maintype() == "message" or part.is_multipart():
        return part.as_bytes(policy=email.policy.SMTP) if part.get_payload() else b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def safe_filename(filename: str, content_type: str, index: int) -> str:
    """A name safe to show and to write on disk: no path, no control characters.

    Keeps letters (accents included), digits, ``.-_ ()[]``; falls back to
    ``attachment-N`` with an extension guessed from *content_type*.
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip(" ._")
    if not name:
        name = f"attachment-{index}{mimetypes.guess_extension(content_type) or '.bin'}"
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        keep = MAX_FILENAME - len(ext) - 1
        name = f"{stem[:keep]}.{ext}" if dot and len(ext) <= 10 else name[:MAX_FILENAME]
    return name
