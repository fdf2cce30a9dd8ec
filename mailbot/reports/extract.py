"""Recognise an e-carnet report and extract it: the stages, in order, as data.

Each stage reads one source into :class:`Facts` (:mod:`mailbot.reports.stages`,
:mod:`mailbot.reports.errorcodes`); the checks of :mod:`mailbot.reports.findings`
then add findings. A stage or check that fails unexpectedly becomes an
``internal_error`` finding (exception type only) and the rest carries on:
:func:`extract_report` never raises. Last, every finding and the device's
free-text fields go through the report's name scrubber.
"""

from __future__ import annotations

from collections.abc import Callable

from mailbot.model import ParsedMail
from mailbot.reports import attachments as files
from mailbot.reports.errorcodes import read_errors, read_sync
from mailbot.reports.facts import Facts
from mailbot.reports.findings import CHECKS
from mailbot.reports.labels import has_label_block
from mailbot.reports.model import Finding, Report, ReportSettings
from mailbot.reports.stages import (
    merge_fields,
    read_body_block,
    read_diagnostic,
    read_headers,
    read_lists,
    scrub_context,
)

Stage = Callable[[Facts], None]


def is_report(parsed: ParsedMail) -> bool:
    """True for an e-carnet report: ``X-ECarnet-Report`` header, a ``diagnostic.json``
    attachment, or a body label block with ``Version de l'application``/``App version``.
    Looks into forwarded messages too; never raises."""
    try:
        if files.header(parsed.message, "X-ECarnet-Report") is not None:
            return True
        if files.DIAGNOSTIC in files.find_files(parsed.message):
            return True
        return has_label_block(parsed.text) or any(
            has_label_block(text) for text in files.forwarded_texts(parsed.message))
    except Exception:
        return False


STAGES: tuple[tuple[str, Stage], ...] = (
    ("en-têtes", read_headers),
    ("corps du message", read_body_block),
    ("diagnostic.json", read_diagnostic),
    ("fusion des champs", merge_fields),
    ("listes d'élèves et de médias", read_lists),
    ("journal", read_errors),
    ("synchronisation", read_sync),
    ("contexte", scrub_context),
)


def extract_report(parsed: ParsedMail, settings: ReportSettings,
                   pseudonymise: Callable[[str], str]) -> Report:
    """Build the :class:`Report` of *parsed*; never raises.

    *pseudonymise* maps a student id (or ``"nom:prénom nom"``) to a stable pseudonym
    such as ``ELV-7K2Q9M`` (keyed by the caller). Problems in the data are findings.
    """
    report = Report()
    try:
        facts = Facts(report=report, settings=settings, pseudonymise=pseudonymise,
                      message=parsed.message, text=parsed.text or "", mail_date=parsed.date)
    except Exception as exc:
        report.findings.append(_internal("préparation", exc))
        return report
    for label, stage in STAGES:
        try:
            stage(facts)
        except Exception as exc:
            facts.problems.append(_internal(label, exc))
    report.findings.extend(facts.problems)
    for check in CHECKS:
        try:
            report.findings.extend(check(facts))
        except Exception as exc:
            report.findings.append(_internal(check.__name__, exc))
    try:
        scrub_exported(report)
    except Exception as exc:
        report.findings.append(_internal("protection des noms", exc))
    return report


def scrub_exported(report: Report) -> None:
    """Pass every finding (message and place) and the device's free-text fields
    through the report's scrubber: a name that slipped into a value, a key or a
    file name ends as a pseudonym there too."""
    report.findings = [Finding(f.code, report.scrub(f.message),
                               report.scrub(f.where) if f.where else f.where)
                       for f in report.findings]
    for name in ("os", "os_version", "device_model"):
        value = getattr(report, name)
        if isinstance(value, str):
            setattr(report, name, report.scrub(value))


def _internal(stage: str, exc: Exception) -> Finding:
    return Finding("internal_error", f"Erreur interne ({type(exc).__name__}) pendant "
                   f"« {stage} » : rapport partiel.")
