"""Find the report's files and headers in a message, forwarded copies included.

A report forwarded as an attachment (``message/rfc822``) carries its files and
``X-ECarnet-*`` headers one level down; ``Message.walk()`` descends into it.
Payloads are decoded only when asked for, so lists that must not be read
(consent refused) are never decoded.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage, Message

from mailbot.reports.model import Finding
from mailbot.reports.numbers import fold, format_bytes
from mailbot.textbody import body_text

DIAGNOSTIC = "diagnostic.json"
STUDENTS = "eleves.csv"
MEDIA = "medias.csv"
JOURNAL = "journal-24h.log"
_JOURNAL_ENDINGS = (".log", ".log.gz", ".gz", ".txt")


@dataclass
class ReportFiles:
    """The report's attachment parts by kind, and their file names as sent."""

    parts: dict[str, Message] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def __contains__(self, kind: str) -> bool:
        return kind in self.parts

    def payload(self, kind: str, max_bytes: int, problems: list[Finding]) -> bytes | None:
        """The decoded bytes of *kind*, or ``None`` (absent, undecodable or too large).

        A base64 part is measured before it is decoded, and decoded in one step
        (``email``'s own decoding holds about five copies of the attachment).
        """
        part = self.parts.get(kind)
        if part is None:
            return None
        name = self.names[kind]
        try:
            size, data = _decoded(part, max_bytes)
        except Exception:  # broken transfer encodings
            size, data = 0, None
        if size > max_bytes:
            problems.append(Finding(
                "attachment_too_large", f"{name} ignoré : {format_bytes(size)}, "
                f"au-delà de la limite de {format_bytes(max_bytes)}.", name))
            return None
        if not isinstance(data, bytes):
            problems.append(Finding("malformed_attachment", f"{name} : contenu illisible.", name))
            return None
        return data


def _decoded(part: Message, max_bytes: int) -> tuple[int, bytes | None]:
    """``(size, bytes)`` of *part*'s content; ``bytes`` is ``None`` when over *max_bytes*."""
    if str(part.get("Content-Transfer-Encoding", "")).strip().lower() == "base64":
        text = part.get_payload()
        if isinstance(text, str) and text.isascii():
            size = (len(text) - text.count("\n") - text.count("\r") - text.count(" ")) * 3 // 4
            if size > max_bytes + 3:  # padding: at most 2 bytes fewer
                return size, None
            try:
                data = binascii.a2b_base64(text)
            except binascii.Error:  # bad padding: the lenient stdlib decoder below
                pass
            else:
                return len(data), data
    data = part.get_payload(decode=True)
    return (len(data), data) if isinstance(data, bytes) else (0, None)


def _kind(filename: str) -> str | None:
    name = fold(filename.replace("\\", "/").rsplit("/", 1)[-1])
    if name in (DIAGNOSTIC, STUDENTS, MEDIA):
        return name
    if name.startswith("journal") and name.endswith(_JOURNAL_ENDINGS):
        return JOURNAL
    return None


def _parts(message: Message) -> Iterator[Message]:
    try:
        yield from message.walk()
    except Exception:  # a hostile structure ends the walk, not the report
        return


def _canonical_name(kind: str, filename: str) -> str:
    """The name findings and ``sources`` use: the spec's, never the name as sent
    (``journal-de-Léa.log`` would repeat a name)."""
    if kind == JOURNAL and fold(filename).endswith(".gz"):
        return JOURNAL + ".gz"
    return kind


def find_files(message: Message) -> ReportFiles:
    """The first ``diagnostic.json``, ``eleves.csv``, ``medias.csv`` and journal in *message*."""
    files = ReportFiles()
    for part in _parts(message):
        if part.is_multipart():
            continue
        try:
            filename = part.get_filename()
        except Exception:
            continue
        kind = _kind(filename) if filename else None
        if kind and kind not in files.parts:
            files.parts[kind] = part
            files.names[kind] = _canonical_name(kind, filename)
    return files


def header(message: Message, name: str) -> str | None:
    """Header *name* of *message*, else of the first forwarded message that has it."""
    for part in _parts(message):
        if part is not message and part.get_content_type() != "message/rfc822":
            continue
        candidates = [part] if part is message else _inner(part)
        for candidate in candidates:
            try:
                value = candidate.get(name)
            except Exception:
                continue
            if value is not None and str(value).strip():
                return str(value).strip()
    return None


def _inner(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [m for m in payload if isinstance(m, Message)] if isinstance(payload, list) else []


def forwarded_texts(message: Message) -> Iterator[str]:
    """The readable body of each forwarded ``message/rfc822`` part."""
    for part in _parts(message):
        if part.get_content_type() != "message/rfc822":
            continue
        for inner in _inner(part):
            if isinstance(inner, EmailMessage):
                yield body_text(inner)[0]
