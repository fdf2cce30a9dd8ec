"""The checks run on a report once everything is read: one small function each.

``CHECKS`` is the ordered tuple of checks; each takes the :class:`Facts` and
yields :class:`Finding` objects. Messages are French, cite at most a few
pseudonyms or lines, and never a name, a free-text value or an unknown key
(values shown are vocabulary words, numbers and version numbers only).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterator

from mailbot.reports import attachments as files
from mailbot.reports.facts import Facts
from mailbot.reports.lists import student_pseudonym
from mailbot.reports.merge import JSON_PATHS
from mailbot.reports.model import Finding
from mailbot.reports.numbers import (
    clean_version,
    format_hours,
    format_mb,
    format_percent,
    format_when,
    version_tuple,
)
from mailbot.reports.percentages import bad_percentages
from mailbot.reports.schema import FILE
from mailbot.reports.tables import MEDIA_FILE, STUDENTS_FILE
from mailbot.reports.vocab import FIELD_NAMES, OS_NAMES, VOCABULARIES
from mailbot.reports.wording import cite, format_count, lines_where, plural

Check = Callable[[Facts], Iterator[Finding]]
CLOCK_SKEW = dt.timedelta(minutes=10)
_FORMAT_NUMBER = re.compile(r"\d[\d.]{0,9}")
_VERSION_LIKE = re.compile(r"\d[\w.\-]{0,19}", re.ASCII)
_OS_SPELLINGS = frozenset(OS_NAMES.values())


def check_format(facts: Facts) -> Iterator[Finding]:
    """``unknown_format``: header or diagnostic.json format other than 1."""
    header = facts.header_format
    if header is not None and header.strip() != "1":
        shown = f" ({header.strip()})" if _FORMAT_NUMBER.fullmatch(header.strip()) else ""
        yield Finding("unknown_format", f"Version de format inconnue dans l'en-tête "
                      f"X-ECarnet-Report{shown} : rapport lu au mieux.", "X-ECarnet-Report")
    version = facts.diagnostic.format if facts.diagnostic else None
    if version is not None and version != 1:
        yield Finding("unknown_format", f"{FILE} au format {version}, inconnu : rapport lu "
                      "au mieux.", f"{FILE}, format")


def check_consent(facts: Facts) -> Iterator[Finding]:
    """``consent_refused``: the lists were not read."""
    if facts.report.lists_dropped:
        yield Finding("consent_refused", "Consentement refusé : les listes d'élèves et de "
                      "médias ne sont ni analysées ni conservées.")


def check_missing_attachments(facts: Facts) -> Iterator[Finding]:
    """``missing_attachment``: a file the detail level or the header promises is absent."""
    if facts.header_format is not None and files.DIAGNOSTIC not in facts.files:
        yield Finding("missing_attachment", f"{files.DIAGNOSTIC} absent alors que l'en-tête "
                      "X-ECarnet-Report est présent.", files.DIAGNOSTIC)
    if facts.report.detail_level != "complet":
        return
    expected = [files.STUDENTS, files.MEDIA] if facts.report.consent is not False else []
    missing = [name for name in [*expected, files.JOURNAL] if name not in facts.files]
    if missing:
        noun = "pièce jointe absente" if len(missing) == 1 else "pièces jointes absentes"
        yield Finding("missing_attachment", f"Niveau de détail « complet » mais {noun} : "
                      f"{', '.join(missing)}.")


def check_body_json(facts: Facts) -> Iterator[Finding]:
    """``body_json_mismatch``: one finding per field the body and the JSON disagree on."""
    for mismatch in facts.mismatches:
        label = FIELD_NAMES.get(mismatch.field, mismatch.field)
        where = f"{FILE}, {JSON_PATHS.get(mismatch.field, mismatch.field)}"
        if mismatch.field in ("description", "actions", "frequency", "impact"):
            text = f"« {label} » diffère entre le message et {FILE} (texte de {FILE} retenu)."
        else:
            body, json_ = (_shown(mismatch.field, v) for v in (mismatch.body_value,
                                                              mismatch.json_value))
            text = (f"« {label} » : {body} dans le message, {json_} dans {FILE} (valeur de "
                    f"{FILE} retenue).")
        yield Finding("body_json_mismatch", text, where)
    header = facts.header_app_version
    version = facts.report.app_version
    if header and version and version_tuple(header) != version_tuple(version):
        shown = clean_version(header) or "une autre version"
        yield Finding("body_json_mismatch", f"« Version de l'application » : {shown} dans "
                      f"l'en-tête X-ECarnet-App-Version, {version} dans le rapport.",
                      "X-ECarnet-App-Version")


def _shown(name: str, value: object) -> str:
    """*value* as a finding may show it: vocabulary, numbers, versions; else no value."""
    if isinstance(value, bool):
        return "« oui »" if value else "« non »"
    if name.endswith("_mb") and isinstance(value, int):
        return format_mb(value)
    text = str(value)
    if name in VOCABULARIES or isinstance(value, int) or text in _OS_SPELLINGS or \
            _VERSION_LIKE.fullmatch(text):
        return f"« {text} »"
    return "une autre valeur"


def check_sensitive_columns(facts: Facts) -> Iterator[Finding]:
    """``sensitive_data_present``: names in eleves.csv although declared excluded."""
    if facts.students and facts.students.has_names and \
            facts.report.sensitive_data == "exclues":
        yield Finding("sensitive_data_present", f"{STUDENTS_FILE} contient des noms alors que "
                      "les données sensibles sont déclarées exclues.", STUDENTS_FILE)


def check_duplicates(facts: Facts) -> Iterator[Finding]:
    """``duplicate_student_id``: an id on several rows of eleves.csv."""
    if not facts.students:
        return
    seen: Counter[str] = Counter()
    lines: list[int] = []
    for row in facts.students.rows:
        if row.student_id:
            seen[row.student_id] += 1
            if seen[row.student_id] == 2:
                lines.append(row.line)
    duplicated = [facts.pseudonym(i) for i, count in seen.items() if count > 1]
    if duplicated:
        noun = plural(len(duplicated), "identifiant présent", "identifiants présents")
        yield Finding("duplicate_student_id", f"{STUDENTS_FILE} : {noun} sur plusieurs "
                      f"lignes ({cite(duplicated)}).", lines_where(STUDENTS_FILE, lines))


def check_orphan_media(facts: Facts) -> Iterator[Finding]:
    """``orphan_media``: medias.csv rows for a student missing from eleves.csv."""
    if not facts.students or not facts.media:
        return
    known = {row.student_id for row in facts.students.rows if row.student_id}
    orphans = [row for row in facts.media.rows if row.student_id not in known]
    if orphans:
        ids = list(dict.fromkeys(facts.pseudonym(row.student_id) for row in orphans))
        noun = plural(len(orphans), "ligne", "lignes")
        yield Finding("orphan_media", f"{noun} de {MEDIA_FILE} pour un élève absent de "
                      f"{STUDENTS_FILE} ({cite(ids)}).",
                      lines_where(MEDIA_FILE, [row.line for row in orphans]))


def check_students_without_media(facts: Facts) -> Iterator[Finding]:
    """``student_without_media``: students with no row in medias.csv."""
    if not facts.students or not facts.media:
        return
    with_media = {row.student_id for row in facts.media.rows}
    alone = [row for row in facts.students.rows
             if row.student_id and row.student_id not in with_media]
    if alone:
        cited = [student_pseudonym(facts, row) for row in alone[:4]]
        yield Finding("student_without_media", f"{plural(len(alone), 'élève', 'élèves')} "
                      f"sans ligne dans {MEDIA_FILE} ({cite(cited)}).",
                      lines_where(STUDENTS_FILE, [row.line for row in alone]))


def check_counts(facts: Facts) -> Iterator[Finding]:
    """``count_mismatch``: usage.students differs from the rows of eleves.csv."""
    declared = facts.diagnostic.usage.students if facts.diagnostic else None
    if facts.students is None or declared is None:
        return
    actual = len(facts.students.rows)
    if declared != actual:
        yield Finding("count_mismatch", f"{FILE} annonce {plural(declared, 'élève', 'élèves')}"
                      f", {STUDENTS_FILE} en contient {format_count(actual)}.",
                      f"{FILE}, usage.students")


def check_impossible(facts: Facts) -> Iterator[Finding]:
    """``impossible_value``: free > total, sync after the report, percentages out of range."""
    report = facts.report
    for label, total, free, path in (
            ("Mémoire", report.ram_total_mb, report.ram_free_mb, "device.ram_free_mb"),
            ("Stockage", report.storage_total_mb, report.storage_free_mb,
             "device.storage_free_mb")):
        if total is not None and free is not None and free > total:
            yield Finding("impossible_value", f"{label} : {format_mb(free)} libres pour "
                          f"{format_mb(total)} au total.", f"{FILE}, {path}")
    last = report.last_sync_at
    reference = report.generated_at or facts.mail_date
    if last and reference and last - reference > CLOCK_SKEW:
        yield Finding("impossible_value", "Dernière synchronisation réussie postérieure à la "
                      "création du rapport.", f"{FILE}, sync.last_success_at")
    if facts.diagnostic is not None:
        for path in bad_percentages(facts.diagnostic):
            place = f"{path}, clé inconnue" if path else "clé inconnue"
            yield Finding("impossible_value", f"{FILE} : pourcentage hors de 0–100 ({place}).",
                          f"{FILE}, {path}" if path else FILE)


def check_storage(facts: Facts) -> Iterator[Finding]:
    """``storage_low``: free storage under the percentage or the absolute threshold."""
    total, free = facts.report.storage_total_mb, facts.report.storage_free_mb
    if not total or free is None or free > total:
        return
    percent = free * 100 / total
    settings = facts.settings
    if percent < settings.storage_low_percent or free < settings.storage_low_mb:
        yield Finding("storage_low", f"Stockage presque plein : {format_mb(free)} libres sur "
                      f"{format_mb(total)} ({format_percent(percent)}).")


def check_sync(facts: Facts) -> Iterator[Finding]:
    """``sync_never`` / ``sync_stale``: no successful sync, or none for too long."""
    report = facts.report
    unreadable = f"{FILE}, sync.last_success_at" in {f.where for f in facts.problems}
    if report.sync_state == "jamais" or (
            facts.sync_present and report.last_sync_at is None and not unreadable
            and report.sync_state != "ok"):
        yield Finding("sync_never", "Aucune synchronisation réussie n'a encore eu lieu.")
        return
    hours = report.hours_since_sync
    if hours is not None and report.last_sync_at and hours > facts.settings.sync_stale_hours:
        yield Finding("sync_stale", f"Dernière synchronisation réussie il y a "
                      f"{format_hours(hours)} (le {format_when(report.last_sync_at)}).")


def check_version(facts: Facts) -> Iterator[Finding]:
    """``app_outdated``: the app is older than ``settings.current_app_version``."""
    version = facts.report.app_version
    current = facts.settings.current_app_version
    if version and version_tuple(version) and version_tuple(version) < version_tuple(current):
        yield Finding("app_outdated", f"Application en version {version}, antérieure à la "
                      f"version actuelle {current}.")


CHECKS: tuple[Check, ...] = (
    check_format,
    check_consent,
    check_missing_attachments,
    check_body_json,
    check_sensitive_columns,
    check_duplicates,
    check_orphan_media,
    check_students_without_media,
    check_counts,
    check_impossible,
    check_storage,
    check_sync,
    check_version,
)
