"""What rule conditions may look at: :class:`MessageFacts`, built once per message.

The facts are a deliberate, small projection of the message: no raw headers,
no quoted history, no student data beyond the report fields rules can test.
:class:`MessageView` adds the derived forms conditions share (folded words,
local time), each computed at most once per evaluation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from mailbot.model import ParsedMail
from mailbot.rules.text import FoldedText
from mailbot.rules.values import parse_version

# See mailbot.rules.cond_text.required_literals.
_ODD_CASES = frozenset("İıſK")


@dataclass(frozen=True)
class MessageFacts:
    """The message as rules see it.

    *text* is what the sender newly wrote (quotes and signature removed),
    with student names already replaced by pseudonyms; *report* is
    ``Report.to_json()`` or None; *received_at* is timezone-aware.
    """

    sender: str
    sender_domain: str
    subject: str
    text: str
    kind: str
    language: str
    attachments: tuple[tuple[str, str, int], ...]
    report: dict[str, Any] | None
    received_at: dt.datetime


def facts_from(parsed: ParsedMail, kind: str, language: str, report: dict[str, Any] | None,
               received_at: dt.datetime) -> MessageFacts:
    """The facts of *parsed* (already scrubbed of student names by the caller).

    *text* is ``reply_text``, or the whole text when nothing new was written
    (a forward without a note: what was forwarded is the request). A naive
    *received_at* is taken as UTC.
    """
    sender = (parsed.from_addr or "").strip().lower()
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=dt.UTC)
    return MessageFacts(
        sender=sender,
        sender_domain=sender.rpartition("@")[2] if "@" in sender else "",
        subject=parsed.subject or "",
        text=parsed.reply_text or parsed.text or "",
        kind=str(kind),
        language=language,
        attachments=tuple((a.filename, a.content_type.lower(), a.size)
                          for a in parsed.attachments),
        report=report,
        received_at=received_at,
    )


class MessageView:
    """*facts* plus lazily derived forms, shared by all conditions of one evaluation."""

    __slots__ = ("_codes", "_findings", "_local", "_lowered", "_subject", "_text", "_versions",
                 "facts")

    def __init__(self, facts: MessageFacts) -> None:
        self.facts = facts
        self._subject: FoldedText | None = None
        self._text: FoldedText | None = None
        self._local: dict[str, tuple[int, int, str]] = {}
        self._versions: dict[str, tuple[int, ...] | None] = {}
        self._codes: tuple[str, ...] | None = None
        self._findings: tuple[str, ...] | None = None
        self._lowered: dict[str, str | None] = {}

    @property
    def subject(self) -> FoldedText:
        """The subject's folded words."""
        if self._subject is None:
            self._subject = FoldedText.of(self.facts.subject)
        return self._subject

    @property
    def text(self) -> FoldedText:
        """The new text's folded words."""
        if self._text is None:
            self._text = FoldedText.of(self.facts.text)
        return self._text

    def lowered(self, place: str) -> str | None:
        """``subject`` or ``text`` in lower case (None if it holds ``İ ı ſ`` or Kelvin ``K``).

        Those four are the only characters whose case-insensitive regex
        matching disagrees with ``str.lower()`` about an ASCII letter.
        """
        if place not in self._lowered:
            text = self.facts.subject if place == "subject" else self.facts.text
            self._lowered[place] = None if _ODD_CASES.intersection(text) else text.lower()
        return self._lowered[place]

    def local_time(self, timezone: ZoneInfo) -> tuple[int, int, str]:
        """*received_at* in *timezone*: ``(weekday, minute of the day, "HH:MM")``."""
        key = timezone.key
        found = self._local.get(key)
        if found is None:
            local = self.facts.received_at.astimezone(timezone)
            found = self._local[key] = (local.weekday(), local.hour * 60 + local.minute,
                                        f"{local.hour:02d}:{local.minute:02d}")
        return found

    def report_field(self, name: str) -> Any:
        """A field of the report, None without a report or when absent."""
        report = self.facts.report
        return report.get(name) if report is not None else None

    def version(self, name: str) -> tuple[int, ...] | None:
        """A report version field (``app_version``, ``os_version``) parsed, or None."""
        if name not in self._versions:
            raw = self.report_field(name)
            self._versions[name] = parse_version(str(raw)) if raw is not None else None
        return self._versions[name]

    def error_codes(self) -> tuple[str, ...]:
        """The report's error codes, upper case: the main code first, then the log's."""
        if self._codes is None:
            codes = [str(c).upper() for c in self.report_field("error_codes") or {}]
            main = str(self.report_field("main_error_code") or "").upper()
            if main:
                codes = [main, *(c for c in codes if c != main)]
            self._codes = tuple(codes)
        return self._codes

    def finding_codes(self) -> tuple[str, ...]:
        """The codes of the report's findings, in order."""
        if self._findings is None:
            self._findings = tuple(str(f.get("code")) for f in self.report_field("findings") or []
                                   if isinstance(f, dict))
        return self._findings
