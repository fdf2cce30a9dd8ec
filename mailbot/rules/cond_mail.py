"""Conditions on the envelope of a message: sender, kind, language, attachments, time.

``sender`` takes addresses or shell-style patterns (``*@ac-lyon.fr``),
``sender_domain`` a domain that also covers its subdomains. ``weekday`` and
``time`` read the reception time in the rule file's ``timezone``
(Europe/Paris unless the file says otherwise).
"""

from __future__ import annotations

import re
from typing import Any

from mailbot.model import MailKind
from mailbot.rules.base import CompileContext, Result, choices, globs, listed, strings
from mailbot.rules.facts import MessageView
from mailbot.rules.values import (
    WEEKDAY_NAMES,
    SizeSpec,
    parse_size_spec,
    parse_time_range,
    parse_weekday,
)

KINDS = {k.value: k.value for k in MailKind}
LANGUAGES = {"fr": "fr", "en": "en", "francais": "fr", "anglais": "en", "french": "fr",
             "english": "en"}
ATTACHMENT_KEYS = ("name", "type", "size")


class Sender:
    """The sender's address is one of these (``*`` and ``?`` allowed)."""

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        self.key = key
        self.patterns = tuple(p.lower() for p in strings(value, "address"))
        self._regex = globs(self.patterns)
        self._shown = listed(self.patterns)

    def test(self, view: MessageView) -> Result:
        """Hit when the address matches a pattern."""
        sender = view.facts.sender
        if self._regex.match(sender):
            return True, f"sender: {sender} matches {self._shown}"
        return False, f"sender: {sender or '(none)'} is not {self._shown}"


class SenderDomain:
    """The sender's domain is one of these, or a subdomain of one."""

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        self.key = key
        self.domains = tuple(d.lower().lstrip("@.") for d in strings(value, "domain"))
        self._suffixes = tuple("." + d for d in self.domains)
        self._shown = listed(self.domains)

    def test(self, view: MessageView) -> Result:
        """Hit on ``ac-lyon.fr`` for ``ac-lyon.fr`` and ``ecole.ac-lyon.fr``."""
        domain = view.facts.sender_domain
        if domain in self.domains or domain.endswith(self._suffixes):
            return True, f"sender_domain: {domain} is in {self._shown}"
        return False, f"sender_domain: {domain or '(none)'} is not in {self._shown}"


class Choice:
    """A fact (``kind``, ``language``) is one of the listed values."""

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        self.key = key
        allowed = KINDS if key == "kind" else LANGUAGES
        self.values = choices(value, allowed, key)
        self._shown = listed(self.values)

    def test(self, view: MessageView) -> Result:
        """Hit when the fact is listed."""
        seen = getattr(view.facts, self.key)
        if seen in self.values:
            return True, f"{self.key}: {seen}"
        return False, f"{self.key}: {seen} is not {self._shown}"


class Attachment:
    """An attachment with all the given properties, or (``true``/``false``) any at all.

    ``{ name = "*.mov", type = "video/*", size = "> 20 Mo" }``: *name* and
    *type* are shell-style patterns (case-insensitive); every key given must
    hold for the same attachment.
    """

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        self.key = key
        self.present: bool | None = None
        self.names: re.Pattern[str] | None = None
        self.types: re.Pattern[str] | None = None
        self.size: SizeSpec | None = None
        if isinstance(value, bool):
            self.present = value
            return
        if not isinstance(value, dict) or not value:
            raise ValueError("expected true, false or a table with name, type and/or size")
        unknown = sorted(set(value) - set(ATTACHMENT_KEYS))
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r} (expected name, type, size)")
        shown = []
        if "name" in value:
            names = tuple(n.lower() for n in strings(value["name"], "file name"))
            self.names, shown = globs(names), [*shown, *names]
        if "type" in value:
            types = tuple(t.lower() for t in strings(value["type"], "content type"))
            self.types, shown = globs(types), [*shown, *types]
        if "size" in value:
            if not isinstance(value["size"], str):
                raise ValueError("size: expected a text such as '> 10 Mo'")
            self.size = parse_size_spec(value["size"])
        self._shown = " ".join(shown + ([self.size.text] if self.size else []))

    def _fits(self, name: str, ctype: str, size: int) -> bool:
        return ((self.names is None or self.names.match(name.lower()) is not None)
                and (self.types is None or self.types.match(ctype) is not None)
                and (self.size is None or self.size.matches(size)))

    def test(self, view: MessageView) -> Result:
        """Hit on the first attachment that fits."""
        files = view.facts.attachments
        if self.present is not None:
            return (bool(files) == self.present,
                    f"attachment: {len(files)} attached file(s)")
        for name, ctype, size in files:
            if self._fits(name, ctype, size):
                return True, f"attachment: {name} ({ctype}, {size} bytes) fits {self._shown}"
        seen = listed([f"{n} ({t}, {s} bytes)" for n, t, s in files], 3) or "no attachment"
        return False, f"attachment: none fits {self._shown}: {seen}"


class Weekday:
    """Received on one of these days (``samedi``, ``Sunday``, ``lun``…)."""

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        self.key = key
        self.timezone = ctx.timezone
        self.days = frozenset(parse_weekday(d) for d in strings(value, "day"))
        self._shown = listed([WEEKDAY_NAMES[d] for d in sorted(self.days)], 7)

    def test(self, view: MessageView) -> Result:
        """Hit when the local day of reception is listed."""
        day = view.local_time(self.timezone)[0]
        if day in self.days:
            return True, f"weekday: {WEEKDAY_NAMES[day]} in {self._shown}"
        return False, f"weekday: {WEEKDAY_NAMES[day]} not in {self._shown}"


class TimeOfDay:
    """Received within one of these ranges of local time (``18:00-08:00``)."""

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        self.key = key
        self.timezone = ctx.timezone
        self.ranges = tuple(parse_time_range(r) for r in strings(value, "time range"))
        self._shown = listed([r.text for r in self.ranges])

    def test(self, view: MessageView) -> Result:
        """Hit when the local time of reception falls in a range."""
        _, minute, shown = view.local_time(self.timezone)
        if any(r.contains(minute) for r in self.ranges):
            return True, f"time: {shown} in {self._shown}"
        return False, f"time: {shown} not in {self._shown}"
