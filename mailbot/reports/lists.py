"""eleves.csv and medias.csv -> pseudonymised students, counts and media totals.

Each student gets ``pseudonymise(id)`` (or ``pseudonymise("nom:prénom nom")``
when the row has no id); names go only to the report's scrubber.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict

from mailbot.reports.facts import Facts
from mailbot.reports.model import Finding, MediaTotals, StudentSummary
from mailbot.reports.tables import STUDENTS_FILE, MediaRow, StudentRow
from mailbot.reports.wording import lines_where, plural

_COUNTS = ("photos", "videos", "documents", "bytes")


def name_key(first: str, last: str) -> str:
    """The normalised ``prénom nom`` used to pseudonymise a student without an id."""
    full = unicodedata.normalize("NFC", f"{first} {last}")
    return "nom:" + " ".join(full.casefold().split())


def student_pseudonym(facts: Facts, row: StudentRow) -> str | None:
    """The row's pseudonym: from its id, else from its names, else ``None``."""
    if row.student_id:
        return facts.pseudonym(row.student_id)
    if row.first.strip() or row.last.strip():
        return facts.pseudonymise(name_key(row.first, row.last))
    return None


def media_by_student(rows: list[MediaRow]) -> dict[str, dict[str, int]]:
    """Per student id, the sum of each non-negative count over its rows."""
    sums: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_COUNTS, 0))
    for row in rows:
        target = sums[row.student_id]
        for name in _COUNTS:
            value = getattr(row, name)
            if value is not None and value > 0:
                target[name] += value
    return dict(sums)


def apply_lists(facts: Facts) -> None:
    """Fill the report's students, counts, media totals and scrubber from the tables."""
    report = facts.report
    per_student = media_by_student(facts.media.rows) if facts.media is not None else {}
    if facts.media is not None:
        totals = dict.fromkeys(_COUNTS, 0)
        for sums in per_student.values():
            for name in _COUNTS:
                totals[name] += sums[name]
        report.media = MediaTotals(**totals)
    if facts.students is None:
        return
    rows = facts.students.rows
    anonymous: list[int] = []
    summaries: list[StudentSummary] = []
    for row in rows:
        pseudonym = student_pseudonym(facts, row)
        if pseudonym is None:
            anonymous.append(row.line)
        elif row.first or row.last:
            report._scrubber.add(row.first, row.last, pseudonym)
        media = per_student.get(row.student_id or "") if facts.media is not None else None
        summaries.append(StudentSummary(
            pseudonym=pseudonym, status=row.status,
            last_activity=row.last_activity.isoformat() if row.last_activity else None,
            **(media or dict.fromkeys(_COUNTS))))
    report.students = summaries
    report.students_total = len(rows)
    report.students_active = sum(row.status == "actif" for row in rows)
    report.students_inactive = sum(row.status == "inactif" for row in rows)
    if anonymous:
        facts.problems.append(Finding(
            "invalid_field", f"{STUDENTS_FILE} : "
            f"{plural(len(anonymous), 'élève', 'élèves')} sans identifiant ni nom.",
            lines_where(STUDENTS_FILE, anonymous)))
