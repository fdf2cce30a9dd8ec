"""Conditions on the e-carnet assistance report carried by a message.

Every one of them misses when the message carries no report (``report =
false`` says so explicitly). They read only these fields of
``Report.to_json()``: ``app_version``, ``os``, ``os_version``,
``error_codes``/``main_error_code``, ``sync_state``, ``priority``,
``recipient`` and the finding codes; a trace shows those values and nothing
else of the report.
"""

from __future__ import annotations

from typing import Any

from mailbot.reports.vocab import VOCABULARIES
from mailbot.rules.base import CompileContext, Result, boolean, choices, globs, listed, strings
from mailbot.rules.facts import MessageView
from mailbot.rules.values import parse_version_spec

NO_REPORT = "no assistance report in this message"
# Every finding code mailbot.reports emits (docs/reports.md); a typo fails at load.
FINDING_CODES = frozenset({
    "app_outdated", "attachment_too_large", "body_json_mismatch", "consent_refused",
    "count_mismatch", "duplicate_student_id", "impossible_value", "internal_error",
    "invalid_field", "journal_truncated", "list_truncated", "malformed_attachment",
    "malformed_csv", "malformed_journal", "malformed_json", "missing_attachment",
    "negative_value", "orphan_media", "sensitive_data_present", "storage_low",
    "student_without_media", "sync_never", "sync_stale", "unknown_format",
})
# Rule key -> report field, for the conditions over one vocabulary value.
VALUE_FIELDS = {"sync_state": "sync_state", "report_priority": "priority",
                "recipient": "recipient"}


def _vocabulary(field: str) -> dict[str, str]:
    """Spellings accepted in rule files (folded, ``_`` for spaces) -> canonical value."""
    table = VOCABULARIES[field]
    return {key.replace(" ", "_"): str(value) for key, value in table.items()} | {
        str(value): str(value) for value in table.values()}


class IsReport:
    """``report = true``: the message carries an assistance report (``false``: it does not)."""

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        self.key = key
        self.wanted = boolean(value)

    def test(self, view: MessageView) -> Result:
        """Hit when the presence of a report is as wanted."""
        present = view.facts.report is not None
        return present == self.wanted, f"report: {'present' if present else 'none'}"


class Version:
    """``app_version`` / ``os_version`` satisfies a condition such as ``<2.2.5``."""

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        if not isinstance(value, str):
            raise ValueError(f"expected a text such as '<2.2.5', got {value!r}")
        self.key = key
        self.spec = parse_version_spec(value)

    def test(self, view: MessageView) -> Result:
        """Hit when the report's version satisfies every clause."""
        if view.facts.report is None:
            return False, f"{self.key}: {NO_REPORT}"
        version = view.version(self.key)
        raw = view.report_field(self.key)
        if version is None:
            return False, f"{self.key}: {raw!r} is not a version"
        hit = self.spec.matches(version)
        return hit, f"{self.key}: {raw}{'' if hit else ' does not satisfy'} {self.spec.text}"


class Os:
    """The report's operating system is one of these (case-insensitive)."""

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        self.key = key
        self.names = tuple(strings(value, "system name"))
        self._folded = frozenset(n.casefold() for n in self.names)
        self._shown = listed(self.names)

    def test(self, view: MessageView) -> Result:
        """Hit when ``os`` is listed."""
        if view.facts.report is None:
            return False, f"os: {NO_REPORT}"
        seen = view.report_field("os")
        hit = isinstance(seen, str) and seen.casefold() in self._folded
        return hit, f"os: {seen}" if hit else f"os: {seen} is not {self._shown}"


class ErrorCode:
    """An error code of the report (log counts or main code) matches a pattern (``SYNC-*``)."""

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        self.key = key
        self.patterns = tuple(p.upper() for p in strings(value, "error code"))
        self._regex = globs(self.patterns)
        self._shown = listed(self.patterns)

    def test(self, view: MessageView) -> Result:
        """Hit on the first code, main code first, that matches a pattern."""
        if view.facts.report is None:
            return False, f"error_code: {NO_REPORT}"
        codes = view.error_codes()
        for code in codes:
            if self._regex.match(code):
                return True, f"error_code: {code}"
        seen = listed(codes, 5) or "no error code"
        return False, f"error_code: {seen}, none like {self._shown}"


class ReportValue:
    """``sync_state`` / ``report_priority`` / ``recipient`` is one of the listed values.

    Values are checked against the report vocabulary at load (``bloquée``
    is read as ``bloquee``; an unknown state is an error).
    """

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        self.key = key
        self.field = VALUE_FIELDS[key]
        self.values = choices(value, _vocabulary(self.field), key)
        self._shown = listed(self.values)

    def test(self, view: MessageView) -> Result:
        """Hit when the field's value is listed."""
        if view.facts.report is None:
            return False, f"{self.key}: {NO_REPORT}"
        seen = view.report_field(self.field)
        hit = seen in self.values
        return hit, f"{self.key}: {seen}" if hit else f"{self.key}: {seen} is not {self._shown}"


class FindingCode:
    """The report has a finding with one of these codes (``storage_low``, ``app_outdated``…)."""

    def __init__(self, key: str, value: Any, ctx: CompileContext) -> None:
        self.key = key
        self.codes = tuple(strings(value, "finding code"))
        unknown = [c for c in self.codes if c not in FINDING_CODES]
        if unknown:
            raise ValueError(f"unknown finding code {unknown[0]!r} (known: "
                             f"{', '.join(sorted(FINDING_CODES))})")
        self._shown = listed(self.codes)
        self._none = f"finding: no finding, none of {self._shown}"

    def test(self, view: MessageView) -> Result:
        """Hit on the first listed code present."""
        if view.facts.report is None:
            return False, f"finding: {NO_REPORT}"
        present = view.finding_codes()
        if not present:
            return False, self._none
        for code in self.codes:
            if code in present:
                return True, f"finding: {code}"
        return False, f"finding: {listed(present, 5)}, none of {self._shown}"
