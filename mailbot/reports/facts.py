"""Everything read from one report mail, shared by the extraction stages and the checks.

:class:`Facts` is internal: it holds raw rows (names included) and must never be
exported. The public result is ``facts.report``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message

from mailbot.reports.attachments import ReportFiles
from mailbot.reports.labels import BodyFields
from mailbot.reports.model import Finding, Report, ReportSettings
from mailbot.reports.schema import Diagnostic
from mailbot.reports.tables import MediaTable, StudentTable


@dataclass(frozen=True)
class Mismatch:
    """A field on which the body and diagnostic.json disagree (JSON wins)."""

    field: str
    body_value: object
    json_value: object


@dataclass(repr=False)
class Facts:
    """The working state of one extraction (``repr`` disabled: rows hold names)."""

    report: Report
    settings: ReportSettings
    pseudonymise: Callable[[str], str]
    message: Message
    text: str
    mail_date: dt.datetime | None
    files: ReportFiles = field(default_factory=ReportFiles)
    header_format: str | None = None
    header_app_version: str | None = None
    header_report_id: str | None = None
    body: BodyFields | None = None
    diagnostic: Diagnostic | None = None
    json_values: dict[str, object] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    students: StudentTable | None = None
    media: MediaTable | None = None
    pseudonyms: dict[str, str] = field(default_factory=dict)  # student id -> pseudonym
    user_values: dict[str, object] = field(default_factory=dict)
    sync_present: bool = False
    problems: list[Finding] = field(default_factory=list)

    def pseudonym(self, student_id: str) -> str:
        """The pseudonym of *student_id*, computed once."""
        known = self.pseudonyms.get(student_id)
        if known is None:
            known = self.pseudonyms[student_id] = self.pseudonymise(student_id)
        return known
