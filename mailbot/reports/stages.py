"""The extraction stages that read the mail: headers, body, diagnostic.json, lists.

Each stage reads one source into :class:`~mailbot.reports.facts.Facts`; the
error and sync stages are in :mod:`mailbot.reports.errorcodes`, the order in
:data:`mailbot.reports.extract.STAGES`.
"""

from __future__ import annotations

from mailbot.reports import attachments as files
from mailbot.reports.facts import Facts
from mailbot.reports.labels import read_body
from mailbot.reports.lists import apply_lists, name_key, student_pseudonym
from mailbot.reports.merge import json_values, merge
from mailbot.reports.model import Finding, UserContext
from mailbot.reports.numbers import clean_version
from mailbot.reports.plausible import drop_impossible_sizes, plausible_generated_at
from mailbot.reports.schema import FILE, load
from mailbot.reports.tables import StudentTable, read_media, read_students


def _report_id(text: str | None) -> str | None:
    """A report id as compared: without ``<>`` and spaces, lower case."""
    cleaned = text.strip("<> \t\r\n").lower() if text else ""
    return cleaned or None


def read_headers(facts: Facts) -> None:
    """``X-ECarnet-Report`` (format), ``-App-Version`` and ``-Report-Id``; the files."""
    message = facts.message
    facts.header_format = files.header(message, "X-ECarnet-Report")
    facts.header_app_version = files.header(message, "X-ECarnet-App-Version")
    facts.header_report_id = _report_id(files.header(message, "X-ECarnet-Report-Id"))
    facts.report.report_id = facts.header_report_id
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
    report.generated_at = plausible_generated_at(diagnostic.generated_at, facts.mail_date,
                                                 facts.problems)
    report.device_model = diagnostic.device.model
    json_id = _report_id(diagnostic.report_id)
    if report.report_id is None:
        report.report_id = json_id
    elif json_id is not None and json_id != report.report_id:
        facts.problems.append(Finding(
            "body_json_mismatch", f"« Identifiant du rapport » : l'en-tête X-ECarnet-Report-Id "
            f"et {FILE} diffèrent (en-tête retenu).", f"{FILE}, report_id"))


def merge_fields(facts: Facts) -> None:
    """Body and JSON values -> the report's fields (JSON wins); impossible sizes dropped."""
    if facts.body is not None:
        drop_impossible_sizes(facts.body.values, False, facts.problems)
    drop_impossible_sizes(facts.json_values, True, facts.problems)
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
        if facts.students is not None:
            learn_stray_names(facts, facts.students)
    if report.students_total is None and facts.diagnostic is not None:
        report.students_total = facts.diagnostic.usage.students


def learn_names_only(facts: Facts) -> None:
    """Consent refused: read eleves.csv for one purpose only, protecting the children,
    so that names the teacher typed in the text are replaced by pseudonyms. No count,
    status, date or finding is taken from it, and medias.csv is not decoded at all."""
    data = facts.files.payload(files.STUDENTS, facts.settings.attachment_max_bytes, [])
    if data is None:
        return
    table = read_students(data)
    for row in table.rows:
        pseudonym = student_pseudonym(facts, row)
        if pseudonym is not None and (row.first or row.last):
            facts.report._scrubber.add(row.first, row.last, pseudonym)
    learn_stray_names(facts, table)


def learn_stray_names(facts: Facts, table: StudentTable) -> None:
    """Names in rows of eleves.csv that could not be read: to the scrubber, nowhere else.

    Their pseudonym comes from the names (``nom:…``), as for a row without an id.
    """
    scrubber = facts.report._scrubber
    for names in table.stray:
        pseudonym = facts.pseudonymise(name_key(names.first or " ".join(names.words),
                                                names.last))
        if names.first or names.last:
            scrubber.add(names.first, names.last, pseudonym)
        scrubber.add_words(names.words, pseudonym)


def scrub_context(facts: Facts) -> None:
    """The person's words, with student names replaced by pseudonyms."""
    values = {name: facts.report.scrub(text) if isinstance(text, str) else None
              for name, text in facts.user_values.items()}
    facts.report.user_context = UserContext(**values)
