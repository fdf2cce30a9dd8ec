"""What one message may cost to read: bounds on MIME depth and parts, headers and text.

``[limits]`` in the configuration (:class:`~mailbot.config.LimitsConfig`):

* ``max_message_bytes``: a larger message is not parsed at all, it is quarantined
  whole (checked by :func:`mailbot.intake.process` before parsing).
* ``max_mime_depth``: a ``multipart/*`` or ``message/*`` part at that nesting level is
  not opened; it stays one opaque ``application/octet-stream`` attachment. The stdlib
  parser handles each level with its own generator frames and re-checks every line
  against every enclosing boundary, so ten thousand levels would cost a
  ``RecursionError`` and depth x size time.
* ``max_attachments``: at most this many attachments are listed; MIME parts past
  ``max_attachments + PART_SLACK`` are not even built into the message tree (each one
  costs header parsing in every later stage).
* ``max_header_bytes``: a longer header value is cut in its middle (its start and its
  end are kept: a References header keeps the thread's root and latest messages).
  ``policy.default`` parses a header again on every read, in more than linear time:
  one folded 1 MB Subject costs seconds per read. MIME headers (``Content-*``) are
  cut at :data:`MIME_HEADER_BYTES` and :data:`MAX_MIME_PARAMS` parameters whatever the
  setting: every part has them, they are read by every stage and never need to be
  long. Parsed headers are cached per message, so each is parsed once.
* ``max_text_bytes``: only this much of the readable body is decoded and converted
  (html2text needs about 3 s per MB of HTML).

What is cut or skipped is listed in ``ParsedMail.defects``: the message is still read
best-effort and processed, never refused for being odd.

No general decompression limit: nothing on the generic path inflates data. Attachments
are described (name, type, size, SHA-256), never opened, so a zip or gzip bomb costs
its compressed size only; transfer encodings (base64, quoted-printable) only shrink.
The one inflated file, the gzipped journal of an e-carnet assistance report, has its
own cap (``[reports] journal_max_bytes``) whose overflow support reads as a
``journal_truncated`` finding, and report files have ``attachment_max_bytes``: those
are sized for the report format and stay in ``[reports]``.

The limits work inside the stdlib parser through its two documented extension
points, a policy and a message factory: :class:`LimitedPolicy` cuts long header values
as they are read (``header_source_parse``); :class:`LimitedMessage` parts learn their
depth when the feed parser attaches them and answer a leaf content type past the
limits. That the feed parser attaches a part before reading it, and asks its content
type to decide whether to descend, is how CPython's ``email.feedparser`` works, not a
documented promise: tests/test_limits.py pins it (the depth and parts tests would fail).
"""

from __future__ import annotations

import email
import email.parser
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from typing import Any

from mailbot import headers
from mailbot.config import LimitsConfig

MIME_HEADER_BYTES = 8192
PARSED_HEADER_CACHE = 4096
MAX_MIME_PARAMS = 64  # the stdlib parses parameter lists in more than linear time
PART_SLACK = 20  # body alternatives, inline images and containers besides attachments
OPAQUE = "application/octet-stream"
CONTAINERS = frozenset({"multipart", "message"})
CUT_MARK = " ... "
_MIME_HEADERS = frozenset({"content-type", "content-disposition", "content-transfer-encoding",
                           "content-id", "content-description", "content-location",
                           "content-language", "mime-version"})
_PARAM_HEADERS = frozenset({"content-type", "content-disposition"})


@dataclass
class Budget:
    """What one parse may use, and what it cut or skipped (one per parse)."""

    max_depth: int
    max_parts: int
    max_header: int
    parts: int = 0
    skipped_parts: int = 0
    opaque: int = 0
    cut_headers: dict[str, list[int]] = field(default_factory=dict)  # name -> [count, longest]
    pruned: Counter[str] = field(default_factory=Counter)  # name -> values with params dropped
    frozen: bool = False  # parsing is over: the message is a normal message again
    parsed_headers: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_config(cls, limits: LimitsConfig) -> Budget:
        """The budget for one message under *limits*."""
        return cls(max_depth=limits.max_mime_depth,
                   max_parts=limits.max_attachments + PART_SLACK,
                   max_header=limits.max_header_bytes)

    def header_limit(self, name: str) -> int:
        """How long a value of header *name* may be."""
        if name.strip().lower() in _MIME_HEADERS:
            return min(self.max_header, MIME_HEADER_BYTES)
        return self.max_header

    def note_cut(self, name: str, length: int) -> None:
        seen = self.cut_headers.setdefault(headers.clip(name, 60), [0, 0])
        seen[0] += 1
        seen[1] = max(seen[1], length)

    def defects(self) -> list[str]:
        """What was cut or skipped, one line each, naming the setting."""
        found = []
        for name, (count, longest) in self.cut_headers.items():
            limit = self.header_limit(name)
            found.append(f"header {name}: {_values(count)} over {limit:,} bytes cut in the "
                         f"middle (longest {longest:,} bytes) ([limits] max_header_bytes)")
        for name, count in self.pruned.items():
            found.append(f"header {name}: parameters past the first {MAX_MIME_PARAMS} dropped "
                         f"({_values(count)})")
        if self.opaque:
            found.append(f"MIME parts nested deeper than {self.max_depth} levels: {self.opaque}"
                         " container(s) kept unopened as attachments ([limits] max_mime_depth)")
        if self.skipped_parts:
            found.append(f"{self.parts:,} MIME parts: only the first {self.max_parts:,} read "
                         "([limits] max_attachments)")
        return found


def _values(count: int) -> str:
    return "1 value" if count == 1 else f"{count:,} values"


def cut_middle(value: str, limit: int) -> str:
    """*value* cut to about *limit* characters, keeping its start and its end."""
    keep = max(limit - len(CUT_MARK), 2)
    head, tail = value[: keep // 2], value[len(value) - (keep - keep // 2):]
    return head.rstrip("\r\n") + CUT_MARK + tail.lstrip("\r\n \t")


class LimitedPolicy(EmailPolicy):
    """``policy.default`` plus a :class:`Budget`: long header values are cut as read."""

    budget: Budget | None = None

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        """Split a raw header into name and value, the value cut to the budget."""
        name, value = super().header_source_parse(sourcelines)
        budget = self.budget
        if budget is not None and not budget.frozen:
            limit = budget.header_limit(name)
            if len(value) > limit:
                budget.note_cut(name, len(value))
                value = cut_middle(value, limit)
            if value.count(";") > MAX_MIME_PARAMS and name.strip().lower() in _PARAM_HEADERS:
                budget.pruned[headers.clip(name, 60)] += 1
                value = ";".join(value.split(";")[: MAX_MIME_PARAMS + 1])
        return name, value

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        """The parsed header, parsed once per value: every stage reads the same
        headers (Content-Type of each part a dozen times), and ``policy.default``
        would parse them again on each read. Header objects are immutable."""
        budget = self.budget
        if budget is None or hasattr(value, "name"):
            return super().header_fetch_parse(name, value)
        key = (name, value)
        parsed = budget.parsed_headers.get(key)
        if parsed is None:
            parsed = super().header_fetch_parse(name, value)
            if len(budget.parsed_headers) < PARSED_HEADER_CACHE:
                budget.parsed_headers[key] = parsed
        return parsed


class LimitedMessage(EmailMessage):
    """An :class:`EmailMessage` that knows its nesting level while being parsed.

    The feed parser attaches each new part to its parent *before* reading the
    part's headers and asks the part's content type to decide whether to descend:
    a part past the depth limit answers :data:`OPAQUE` (a leaf), a part past the
    parts limit is not attached at all and is a leaf too.
    """

    _mailbot_level = 1
    _mailbot_skipped = False
    _mailbot_opaque = False

    def _budget(self) -> Budget | None:
        budget = getattr(self.policy, "budget", None)
        return budget if isinstance(budget, Budget) and not budget.frozen else None

    def attach(self, payload: Any) -> None:
        """Attach *payload* (a part) unless the parts budget is spent."""
        budget = self._budget()
        if budget is None or not isinstance(payload, LimitedMessage):
            super().attach(payload)
            return
        payload._mailbot_level = self._mailbot_level + 1
        budget.parts += 1
        if self._mailbot_skipped or budget.parts > budget.max_parts:
            payload._mailbot_skipped = True
            budget.skipped_parts += 1
            return
        super().attach(payload)

    def get_content_type(self) -> str:
        """The content type, or :data:`OPAQUE` for a container the limits keep closed."""
        if self._mailbot_skipped or self._mailbot_opaque:
            return OPAQUE
        budget = self._budget()
        if budget is None:
            return super().get_content_type()
        # While parsing, the parser asks a container for its type once per child
        # (multipart/digest check): parse its Content-Type once, not 10,000 times.
        # Its headers are complete by then; after parsing the cache is not used.
        ctype = self.__dict__.get("_mailbot_ctype") or super().get_content_type()
        self._mailbot_ctype = ctype
        if self._mailbot_level >= budget.max_depth and ctype.partition("/")[0] in CONTAINERS:
            self._mailbot_opaque = True
            budget.opaque += 1
            return OPAQUE
        return ctype


def read_message(raw: bytes, limits: LimitsConfig) -> tuple[EmailMessage, list[str]]:
    """Parse *raw* within *limits*; return the message and what was cut or skipped.

    Never raises: if the parser fails anyway, the headers alone are read (the body
    stays one text payload), and failing that an empty message is returned, each
    time with a defect saying so.
    """
    budget = Budget.from_config(limits)
    policy = LimitedPolicy(budget=budget, message_factory=LimitedMessage)
    defects: list[str] = []
    message: Message | None = None
    try:
        message = email.message_from_bytes(raw, policy=policy)
    except Exception as exc:  # whatever hostile structure the limits did not foresee
        defects.append(f"MIME structure unreadable ({type(exc).__name__}): headers only")
        try:
            message = email.parser.BytesParser(policy=policy).parsebytes(raw, headersonly=True)
        except Exception as again:
            defects.append(f"headers unreadable ({type(again).__name__}): empty message")
    budget.frozen = True
    if not isinstance(message, EmailMessage):
        message = EmailMessage(policy=policy)
    return message, budget.defects() + defects


STRUCTURE_DEFECTS = {
    "InvalidBase64PaddingDefect": "broken base64 (padding)",
    "InvalidBase64CharactersDefect": "broken base64 (characters outside the alphabet)",
    "InvalidBase64LengthDefect": "broken base64 (truncated)",
    "StartBoundaryNotFoundDefect": "multipart boundary never found",
    "CloseBoundaryNotFoundDefect": "multipart closing boundary missing",
    "NoBoundaryInMultipartDefect": "multipart without a boundary",
    "MultipartInvariantViolationDefect": "multipart without parts",
    "MissingHeaderBodySeparatorDefect": "no blank line between headers and body",
    "FirstHeaderLineIsContinuationDefect": "first header line is a continuation",
    "MisplacedEnvelopeHeaderDefect": "envelope 'From ' line among the headers",
    "InvalidMultipartContentTransferEncodingDefect": "multipart with a transfer encoding",
}


def structure_defects(parts: Sequence[Message]) -> list[str]:
    """The parser's defects on *parts*, in words, each kind once with its count."""
    counts = Counter(type(d).__name__ for part in parts for d in part.defects)
    return [f"MIME: {STRUCTURE_DEFECTS.get(name, name)}" + (f" x{n}" if n > 1 else "")
            + (f" [{name}]" if name in STRUCTURE_DEFECTS else "")
            for name, n in counts.items()]


def defect_note(defects: Sequence[str], limit: int = 20) -> str:
    """One paragraph for a ticket's history or a message row: read best-effort, and why
    (at most *limit* defects of at most 200 characters). Empty when there is nothing
    to say.
    """
    if not defects:
        return ""
    shown = list(dict.fromkeys(headers.clip(d, 200) for d in defects))
    more = len(shown) - limit
    text = "; ".join(shown[:limit]) + (f"; and {more} more" if more > 0 else "")
    return f"odd mail, read best-effort: {text}"
