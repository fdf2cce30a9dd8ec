"""Recognise an e-carnet report and extract it: the stages, in order, as data.

Each stage reads one source into :class:`Facts`; the checks of
:mod:`mailbot.reports.findings` then add findings. A stage or check that fails
unexpectedly becomes an ``internal_error`` finding (exception type only) and the
rest carries on: :func:`extract_report` never raises.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from mailbot.model import ParsedMail
from mailbot.reports import attachments as files
from mailbot.reports.facts import Facts
from mailbot.reports.findings import CHECKS
from mailbot.reports.journal import read_journal, recency
from mailbot.reports.labels import has_label_block, read_body
from mailbot.reports.lists import apply_lists, student_pseudonym
from mailbot.reports.merge import json_values, merge
from mailbot.reports.model import Finding, Report, ReportSettings, UserContext
from mailbot.reports.numbers import clean_version
from mailbot.reports.schema import load
from mailbot.reports.tables import read_media, read_students
from mailbot.reports.vocab import normalise

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


def read_headers(facts: Facts) -> None:
    """``X-ECarnet-Report`` (format), ``-App-Version`` and ``-Report-Id``; the files."""
    message = facts.message
    facts.header_format = files.header(message, "X-ECarnet-Report")
    facts.header_app_version = files.header(message, "X-ECarnet-App-Version")
    report_id = files.header(message, "X-ECarnet-Report-Id")
    facts.report.report_id = report_id.strip("<> \t") if report_id else None
    facts.files = files.find_files(message)
    if facts.header_format and facts.header_format.strip().isdigit():
        facts.report.format_version = int(facts.header_format.strip())


def read_body_block(facts: Facts) -> None:
    """The label block of the body, or of a forwarded message's body."""
    facts.body = read_body(facts.text)
    if facts.body is None:
        for text in files.forwarded_texts(facts.message):
            facts.body = read_body(text)
            if facts.body is not None:
                break
    if facts.body is not None:
        facts.report.sources.append("body")
        facts.problems.extend(facts.body.problems)


def read_diagnostic(facts: Facts) -> None:
    """diagnostic.json, validated; its values in the report vocabulary."""
    data = facts.files.payload(files.DIAGNOSTIC, facts.settings.attachment_max_bytes,
                               facts.problems)
    if data is None:
        return
    facts.diagnostic, problems = load(data)
    facts.problems.extend(problems)
    if facts.diagnostic is None:
        return
    facts.report.sources.append(files.DIAGNOSTIC)
    facts.json_values = json_values(facts.diagnostic, facts.problems)
    report, diagnostic = facts.report, facts.diagnostic
    report.format_version = diagnostic.format or report.format_version
    report.generated_at = diagnostic.generated_at
    report.device_model = diagnostic.device.model
    if report.report_id is None and diagnostic.report_id:
        report.report_id = diagnostic.report_id.strip()


def merge_fields(facts: Facts) -> None:
    """Body and JSON values -> the report's fields (JSON wins)."""
    values = merge(facts)
    report = facts.report
    for name in ("priority", "recipient", "detail_level", "sensitive_data", "consent",
                 "app_version", "app_build", "os", "os_version", "network", "ram_total_mb",
                 "ram_free_mb", "storage_total_mb", "storage_free_mb"):
        setattr(report, name, values.get(name))
    if report.app_version is None and facts.header_app_version:
        report.app_version = clean_version(facts.header_app_version)
    facts.user_values = {name: values.get(name) for name in
                         ("description", "actions", "frequency", "impact")}


def read_lists(facts: Facts) -> None:
    """eleves.csv and medias.csv; with consent refused, only the names (see below)."""
    report = facts.report
    if report.consent is False:
        report.lists_dropped = True
        learn_names_only(facts)
    else:
        limit = facts.settings.attachment_max_bytes
        for kind, reader, target in ((files.STUDENTS, read_students, "students"),
                                     (files.MEDIA, read_media, "media")):
            data = facts.files.payload(kind, limit, facts.problems)
            if data is not None:
                table = reader(data)
                setattr(facts, target, table)
                facts.problems.extend(table.problems)
                report.sources.append(kind)
        apply_lists(facts)
    if report.students_total is None and facts.diagnostic is not None:
        report.students_total = facts.diagnostic.usage.students


def learn_names_only(facts: Facts) -> None:
    """Consent refused: read eleves.csv for one purpose only, protecting the children,
    so that names the teacher typed in the text are replaced by pseudonyms. No count,
    status, date or finding is taken from it, and medias.csv is not decoded at all."""
    data = facts.files.payload(files.STUDENTS, facts.settings.attachment_max_bytes, [])
    if data is None:
        return
    for row in read_students(data).rows:
        pseudonym = student_pseudonym(facts, row)
        if pseudonym is not None and (row.first or row.last):
            facts.report._scrubber.add(row.first, row.last, pseudonym)


def read_errors(facts: Facts) -> None:
    """Error codes: from the journal when attached and readable, else diagnostic.json."""
    report = facts.report
    counts: Counter[str] = Counter()
    last_seen: dict[str, tuple[dt.datetime | None, int]] = {}
    data = facts.files.payload(files.JOURNAL, facts.settings.attachment_max_bytes,
                               facts.problems)
    journal = None
    if data is not None:
        journal = read_journal(data, facts.files.names[files.JOURNAL],
                               facts.settings.journal_max_bytes)
        facts.problems.extend(journal.problems)
    if journal is not None and journal.readable:
        report.sources.append(facts.files.names[files.JOURNAL])
        counts, last_seen = journal.counts, journal.last_seen
    elif facts.diagnostic is not None:
        for number, entry in enumerate(facts.diagnostic.errors):
            if entry.code and entry.code.strip():
                code = entry.code.strip().upper()
                counts[code] += 1
                last_seen[code] = max(last_seen.get(code, (entry.at, number)),
                                      (entry.at, number), key=recency)
    report.error_codes = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    last_error = facts.diagnostic.sync.last_error if (
        facts.diagnostic and facts.diagnostic.sync) else None
    if last_error and last_error.strip():
        report.main_error_code = last_error.strip().upper()
    elif counts:
        report.main_error_code = max(counts, key=lambda c: (counts[c], recency(last_seen[c])))


def read_sync(facts: Facts) -> None:
    """Sync state, last success and hours since (against generated_at, else the mail Date)."""
    sync = facts.diagnostic.sync if facts.diagnostic else None
    if sync is None:
        return
    report = facts.report
    facts.sync_present = True
    state = normalise("sync_state", sync.state) if sync.state else None
    if sync.state and state is None:
        facts.problems.append(Finding("invalid_field", "diagnostic.json : sync.state ignoré "
                                      "(valeur non reconnue).", "diagnostic.json, sync.state"))
    report.sync_state = state
    report.pending_items = sync.pending_items
    report.last_sync_at = sync.last_success_at
    reference = report.generated_at or facts.mail_date
    if sync.last_success_at and reference:
        last = sync.last_success_at
        last = last if last.tzinfo else last.replace(tzinfo=dt.UTC)
        reference = reference if reference.tzinfo else reference.replace(tzinfo=dt.UTC)
        hours = (reference - last).total_seconds() / 3600
        report.hours_since_sync = round(hours, 1) if hours >= 0 else None


def scrub_context(facts: Facts) -> None:
    """The person's words, with student names replaced by pseudonyms."""
    values = {name: facts.report.scrub(text) if isinstance(text, str) else None
              for name, text in facts.user_values.items()}
    facts.report.user_context = UserContext(**values)


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
    return report


def _internal(stage: str, exc: Exception) -> Finding:
    return Finding("internal_error", f"Erreur interne ({type(exc).__name__}) pendant "
                   f"« {stage} » : rapport partiel.")
