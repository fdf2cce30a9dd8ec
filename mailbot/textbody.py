"""Choose and decode the readable body of a message.

Which library does what, and why:

* **stdlib ``email``** (``policy=email.policy.default``) gives the MIME structure and
  chooses the body with ``get_body(preferencelist=("plain", "html"))``. Unlike
  mail-parser it does not leak the text of forwarded ``message/rfc822`` parts into the
  body. We decode the payload bytes ourselves instead of calling ``get_content()``,
  because ``get_content()`` raises ``LookupError`` on unknown charsets and ``KeyError``
  on a ``multipart/*`` part whose boundary is broken, and decodes cp1252 bytes
  labelled ISO-8859-1 (common from Outlook) as C1 control characters.
* **html2text** turns HTML-only mail into plain readable text (no hard wrapping, no
  images, no link or emphasis markup; ``<blockquote>`` becomes ``> `` lines, which
  :mod:`mailbot.quotes` then recognises as quoted text).
* ``format=flowed`` text (RFC 3676) is un-flowed here with a few lines of our own.

Nothing in this module raises on bad input: problems are reported as defect strings.
"""

from __future__ import annotations

import codecs
import html
import re
from email.message import EmailMessage, Message

import html2text

# Labels that WHATWG decodes as windows-1252: Outlook and others send cp1252 bytes
# (’ = 0x92, € = 0x80) under an ISO-8859-1 label.
_CP1252_LABELS = frozenset(("cp1252", "windows-1252", "x-cp1252", "latin1", "latin-1", "l1"))
_CP1252_LABELS |= {"iso-8859-1", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987"}
_CP1252_LABELS |= {"iso-ir-100", "cp819", "ibm819", "csisolatin1"}
# US-ASCII labels: ASCII bytes decode the same in every candidate; when 8-bit bytes
# slipped in, valid UTF-8 is by far the likeliest, then windows-1252 (WHATWG).
_ASCII_LABELS = frozenset({"us-ascii", "ascii", "ansi_x3.4-1968", "us", "csascii"})
# Labels WHATWG decodes with a superset codec (GBK bytes sent as gb2312, cp949 as euc-kr).
_SUPERSETS = dict.fromkeys(("gb2312", "gbk", "x-gbk", "iso-gb2312", "euc-cn"), "gb18030") | {
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "unicode-1-1-utf-7": "utf-7",
}

_HTML2TEXT_OPTIONS = {
    "body_width": 0,  # no hard wrapping
    "ignore_images": True,
    "ignore_links": True,  # keep the link text, drop "[text](url)" clutter
    "ignore_emphasis": True,  # no ** and _ around bold/italic words
    "ignore_tables": True,  # cell text without "|" and "---" grid lines
    "unicode_snob": True,  # keep ’ « » and NBSP as sent, not ASCII look-alikes
    "single_line_break": True,  # one <p> or <br> is one line break
}
# html2text escapes Markdown-looking text ("\-", "1\.", "\+", "\\"); undo it.
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
_TAG = re.compile(r"<[^>]*>")
_BLANK_RUN = re.compile(r"\n{3,}")


def body_text(message: EmailMessage, max_bytes: int | None = None) -> tuple[str, list[str]]:
    """Return the readable text of *message* and a list of defect descriptions.

    The text/plain body is preferred, then text/html converted with html2text; a
    blank text/plain alternative falls through to the HTML one. Charsets are decoded
    leniently (see :func:`decode_part`), ``format=flowed`` is un-flowed and line endings
    become ``\\n``. A ``multipart/*`` part with a broken boundary yields its decoded raw
    payload. With *max_bytes*, only that much of the chosen part is decoded (cut at
    a line end), with a defect. Never raises: anything unexpected becomes a defect
    and ``""``.
    """
    defects: list[str] = []
    try:
        text = _body_text(message, defects, max_bytes)
    except Exception as exc:  # hostile mail must never stop the pipeline
        defects.append(f"body: {type(exc).__name__}: {exc}")
        text = ""
    return text, defects


def decode_part(part: Message) -> str:
    """Return the decoded text of one non-multipart *part*, never raising.

    The transfer encoding is undone with ``get_payload(decode=True)`` and the bytes are
    decoded with the declared charset, except that an ISO-8859-1/Latin-1 label is read
    as windows-1252 (WHATWG rule), US-ASCII or a missing label as UTF-8 falling back to
    windows-1252, and an unknown charset as UTF-8 falling back to windows-1252 with
    replacement characters. Line endings become ``\\n``; ``format=flowed`` plain text
    is un-flowed. Returns ``""`` for containers (multipart, message/rfc822).
    """
    return _decode_part(part, [])


def html_to_text(markup: str) -> str:
    """Convert an HTML body to readable plain text with html2text (never raises)."""
    try:
        converter = html2text.HTML2Text()
        for name, value in _HTML2TEXT_OPTIONS.items():
            setattr(converter, name, value)
        text = _MARKDOWN_ESCAPE.sub(r"\1", converter.handle(markup))
    except Exception:  # html.parser chokes on some garbage: strip tags instead
        text = html.unescape(_TAG.sub(" ", markup))
    lines = [line.rstrip() for line in _newlines(text).split("\n")]
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip("\n")


def _body_text(message: EmailMessage, defects: list[str], max_bytes: int | None) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is not None and part.get_content_subtype() == "plain":
        text = _decode_part(part, defects, max_bytes)
        html_part = None if text.strip() else message.get_body(preferencelist=("html",))
        if html_part is None:
            return text
        part = html_part
    if part is not None:
        text = _decode_part(part, defects, max_bytes)
        return html_to_text(text) if part.get_content_subtype() == "html" else text
    broken = _broken_multipart(message)
    if broken is not None:
        defects.append(
            f"{broken.get_content_type()} part has no usable boundary; using its raw payload"
        )
        return _decode_part(broken, defects, max_bytes)
    defects.append(f"no text body in {message.get_content_type()} message")
    return ""


def _broken_multipart(message: Message) -> Message | None:
    """The first multipart/* part that the parser could not split (broken boundary)."""
    for part in message.walk():
        if part.get_content_maintype() == "multipart" and not part.is_multipart():
            return part
    return None


def _decode_part(part: Message, defects: list[str], max_bytes: int | None = None) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:
        defects.append(f"payload: {type(exc).__name__}: {exc}")
        return ""
    if not isinstance(data, bytes):
        return ""
    if max_bytes is not None and len(data) > max_bytes:
        defects.append(f"text body of {len(data):,} bytes: only the first {max_bytes:,} read "
                       "([limits] max_text_bytes)")
        data = _cut_at_line_end(data, max_bytes)
    label = _charset_label(part)
    text, defect = _decode_bytes(data, label)
    if defect:
        defects.append(defect)
    text = _newlines(text)
    if part.get_content_subtype() == "plain" and _param(part, "format") == "flowed":
        text = unflow(text, delsp=_param(part, "delsp") == "yes")
    return text


def _cut_at_line_end(data: bytes, size: int) -> bytes:
    """The first *size* bytes of *data*, back to the last line end if one is near.

    A newline byte is never inside a multi-byte character of the ASCII-compatible
    charsets mail uses (UTF-8, GB18030, Shift_JIS, EUC-*), so no character is split.
    """
    cut = data[:size]
    end = cut.rfind(b"\n", max(0, size - 4096))
    return cut[: end + 1] if end >= 0 else cut


def _param(part: Message, name: str) -> str:
    value = part.get_param(name)
    return value.strip().lower() if isinstance(value, str) else ""


def _charset_label(part: Message) -> str | None:
    try:
        label = part.get_content_charset()
    except Exception:
        return None
    return label.strip().strip("'\"").lower() if isinstance(label, str) and label else None


def _decode_bytes(data: bytes, label: str | None) -> tuple[str, str | None]:
    """Decode *data* for charset *label*; return the text and an optional defect."""
    if label is None or label in _ASCII_LABELS:
        if data.isascii():
            return data.decode("ascii"), None
        return _utf8_or_cp1252(data), f"8-bit bytes under charset {label or '(none)'}"
    if label in _CP1252_LABELS:
        return data.decode("cp1252", errors="replace"), None
    codec = _SUPERSETS.get(label) or _lookup(label)
    if codec is None:
        return _utf8_or_cp1252(data), f"unknown charset {label!r}; decoded as utf-8/cp1252"
    try:
        return data.decode(codec), None
    except UnicodeDecodeError:
        return data.decode(codec, errors="replace"), f"invalid {label} bytes replaced"
    except (LookupError, UnicodeError, ValueError):  # e.g. "base64", "undefined"
        return _utf8_or_cp1252(data), f"charset {label!r} unusable; decoded as utf-8/cp1252"


def _lookup(label: str) -> str | None:
    """The Python codec name for *label*, also trying it without an ``x-`` prefix."""
    for name in (label, label.removeprefix("x-")):
        try:
            return codecs.lookup(name).name
        except (LookupError, ValueError):
            continue
    return None


def _utf8_or_cp1252(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def unflow(text: str, delsp: bool = False) -> str:
    """Join the soft line breaks of RFC 3676 ``format=flowed`` *text*.

    A line ending in a space continues on the next line of the same quote depth
    (with *delsp* the trailing space is deleted); the space-stuffing after the quote
    marks is removed; ``-- `` (signature separator) is never joined. Quoted lines are
    re-emitted as ``> `` per quote level.
    """
    out: list[str] = []
    pending: str | None = None  # text of a paragraph still being joined
    pending_depth = 0
    for raw in text.split("\n"):
        stripped = raw.lstrip(">")
        depth = len(raw) - len(stripped)
        content = stripped.removeprefix(" ")  # space-stuffing (RFC 3676 §4.4)
        if pending is not None and depth != pending_depth:  # improperly flowed: end it
            out.append(_quoted(pending, pending_depth))
            pending = None
        soft = content.endswith(" ") and content != "-- "
        if delsp and soft:
            content = content[:-1]
        pending = content if pending is None else pending + content
        pending_depth = depth
        if not soft:
            out.append(_quoted(pending, depth))
            pending = None
    if pending is not None:
        out.append(_quoted(pending, pending_depth))
    return "\n".join(out)


def _quoted(line: str, depth: int) -> str:
    return "> " * depth + line if depth else line
