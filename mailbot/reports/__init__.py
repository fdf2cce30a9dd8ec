"""e-carnet assistance reports: recognise, validate, normalise, pseudonymise.

Pure: no database, no network, no logging. See ``shared/specs/ecarnet-report.md``
(format 1). Typical use::

    if is_report(parsed):
        report = extract_report(parsed, ReportSettings(), pseudonymise)
        report.to_json()      # the ``report`` object of ``mailbot inspect --json``
        report.signature      # "2.2.5|SYNC-504": groups reports of one bug
        report.scrub(text)    # student names -> "[ELV-7K2Q9M]"
        digests = report.name_digests(key)   # no names: store it with the ticket
    scrub_with_digests(later_text, digests, key)  # a later reply, same labels
"""

from mailbot.reports.digests import scrub_with_digests
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
    "scrub_with_digests",
]
