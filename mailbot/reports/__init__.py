"""e-carnet assistance reports: recognise, validate, normalise, pseudonymise.

Pure: no database, no network, no logging. See ``shared/specs/ecarnet-report.md``
(format 1). Typical use::

    if is_report(parsed):
        report = extract_report(parsed, ReportSettings(), pseudonymise)
        report.to_json()      # the ``report`` object of ``mailbot inspect --json``
        report.signature      # "2.2.5|SYNC-504": groups reports of one bug
        report.scrub(text)    # student names -> "[ELV-7K2Q9M]"
"""

from mailbot.reports.extract import extract_report, is_report
from mailbot.reports.model import (
    Finding,
    MediaTotals,
    Report,
    ReportSettings,
    StudentSummary,
    UserContext,
)

__all__ = [
    "Finding",
    "MediaTotals",
    "Report",
    "ReportSettings",
    "StudentSummary",
    "UserContext",
    "extract_report",
    "is_report",
]
