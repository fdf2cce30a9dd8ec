"""eleves.csv and medias.csv: ``;``-separated, UTF-8 (BOM or not) or Windows-1252.

Rows are read by :class:`~mailbot.reports.csvread.CsvRows`; a row that cannot
be read is skipped and reported (file and line), never fatal. Student names
stay in :class:`StudentRow` and :class:`StrayNames` fields hidden from
``repr`` and go no further than the pseudonymiser and the
:class:`~mailbot.reports.names.Scrubber`. Only counts and the first few line
numbers of bad rows are kept.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from mailbot.reports.csvread import CsvRows
from mailbot.reports.model import Finding
from mailbot.reports.numbers import fold, parse_when
from mailbot.reports.wording import LineTally

STUDENTS_FILE = "eleves.csv"
MEDIA_FILE = "medias.csv"
MAX_MEDIA_BYTES = 1024**5  # 1 Po: more for one student's media is not plausible
MAX_NAME_CELL = 100  # characters: a longer cell of an unreadable row is no name
_STATUS = {"actif": "actif", "active": "actif", "inactif": "inactif", "inactive": "inactif"}
_COUNTS = ("photos", "videos", "documents", "taille_octets")
_NAME_CELL = re.compile(r"[^\W\d_](?:[^\W\d_]|[\s'’ʼ.\-])*")
_NOT_NAMES = frozenset({*_STATUS, "id", "nom", "prenom", "statut", "cree_le",
                        "derniere_activite", "eleve_id"})


@dataclass(frozen=True)
class StudentRow:
    """One student; *first*/*last* are empty when sensitive data were excluded."""

    line: int
    student_id: str | None
    first: str = field(repr=False)
    last: str = field(repr=False)
    status: str | None
    last_activity: dt.datetime | None


@dataclass(frozen=True)
class StrayNames:
    """Names from a row of eleves.csv that could not be read, for the scrubber only:
    the cells under ``prenom``/``nom`` and every cell that looks like a name."""

    first: str = field(repr=False)
    last: str = field(repr=False)
    words: tuple[str, ...] = field(repr=False)


@dataclass(frozen=True)
class MediaRow:
    """One medias.csv row; a count is ``None`` when it was not a number."""

    line: int
    student_id: str
    photos: int | None
    videos: int | None
    documents: int | None
    bytes: int | None


@dataclass
class StudentTable:
    """The rows of eleves.csv, whether it had name columns, names of unreadable rows
    (``stray``, deduplicated) and reading problems."""

    rows: list[StudentRow] = field(default_factory=list)
    has_names: bool = False
    stray: list[StrayNames] = field(default_factory=list, repr=False)
    problems: list[Finding] = field(default_factory=list)


@dataclass
class MediaTable:
    """The rows of medias.csv and reading problems."""

    rows: list[MediaRow] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)


def _name_cell(cell: str) -> str:
    """*cell* if it may be a name (letters, spaces, ``'-.``; not a status), else ``""``."""
    cell = cell.strip()
    if len(cell) > MAX_NAME_CELL or not _NAME_CELL.fullmatch(cell) or fold(cell) in _NOT_NAMES:
        return ""
    return cell


def _stray_names(header: list[str], cells: list[str]) -> StrayNames | None:
    """The names an unreadable row may hold: by header position, and every name-like cell."""
    def at(name: str) -> str:
        index = header.index(name) if name in header else len(cells)
        return _name_cell(cells[index]) if index < len(cells) else ""

    words = tuple(dict.fromkeys(w for w in map(_name_cell, cells) if w))
    first, last = at("prenom"), at("nom")
    return StrayNames(first, last, words) if first or last or words else None


def read_students(data: bytes) -> StudentTable:
    """Parse eleves.csv (``id;nom;prenom;cree_le;derniere_activite;statut``)."""
    table = StudentTable()
    bad_status, bad_date = LineTally(), LineTally()
    reader = CsvRows(data, STUDENTS_FILE)
    header = reader.header
    table.has_names = "nom" in header or "prenom" in header
    found: list[Finding] = []
    if any(header) and "id" not in header:
        found.append(Finding(
            "malformed_csv", f"{STUDENTS_FILE} : colonne « id » absente.", STUDENTS_FILE))
    stray: dict[StrayNames, None] = {}
    seen: set[tuple[str, ...]] = set()

    def rejected(header: list[str], cells: list[str]) -> None:
        key = tuple(cells)
        if key in seen:  # the same bad row again (a file of a million "x")
            return
        seen.add(key)
        names = _stray_names(header, cells)
        if names is not None:
            stray[names] = None

    if table.has_names or "id" in header:
        for line, record in reader.records(rejected):
            status_text = record.get("statut", "")
            status = _STATUS.get(status_text) or _STATUS.get(fold(status_text))
            if status is None and status_text:
                bad_status.add(line)
            activity_text = record.get("derniere_activite", "")
            activity = parse_when(activity_text)
            if (activity is None and activity_text) or (
                    record.get("cree_le") and parse_when(record["cree_le"]) is None):
                bad_date.add(line)
            table.rows.append(StudentRow(
                line=line, student_id=record.get("id") or None,
                first=record.get("prenom", ""), last=record.get("nom", ""), status=status,
                last_activity=activity))
    table.stray = list(stray)
    table.problems = reader.problems() + found
    if bad_status:
        table.problems.append(Finding(
            "invalid_field", f"{STUDENTS_FILE} : statut inconnu sur "
            f"{bad_status.amount('ligne', 'lignes')} (attendu : actif ou inactif).",
            bad_status.where(STUDENTS_FILE)))
    if bad_date:
        table.problems.append(Finding(
            "impossible_value", f"{STUDENTS_FILE} : date illisible sur "
            f"{bad_date.amount('ligne', 'lignes')}.", bad_date.where(STUDENTS_FILE)))
    return table


def read_media(data: bytes) -> MediaTable:
    """Parse medias.csv (``eleve_id;photos;videos;documents;taille_octets``).

    A size over :data:`MAX_MEDIA_BYTES` is an ``impossible_value`` and read as unknown.
    """
    table = MediaTable()
    not_numbers, negatives, too_large = LineTally(), LineTally(), LineTally()
    reader = CsvRows(data, MEDIA_FILE)
    if any(reader.header) and "eleve_id" not in reader.header:
        table.problems = [*reader.problems(), Finding(
            "malformed_csv", f"{MEDIA_FILE} : colonne « eleve_id » absente.", MEDIA_FILE)]
        return table
    for line, record in reader.records():
        counts = [_integer(record.get(name, "")) for name in _COUNTS]
        if any(value is None for value in counts):
            not_numbers.add(line)
        if counts[3] is not None and counts[3] > MAX_MEDIA_BYTES:
            too_large.add(line)
            counts[3] = None
        if any(value is not None and value < 0 for value in counts):
            negatives.add(line)
        table.rows.append(MediaRow(line, record["eleve_id"], *counts))
    table.problems = reader.problems()
    for tally, code, text in (
            (not_numbers, "invalid_field", "valeur non numérique sur {}."),
            (negatives, "negative_value", "valeur négative sur {} (exclue des totaux)."),
            (too_large, "impossible_value", "taille impossible (plus de 1 Po) sur {} "
             "(exclue des totaux).")):
        if tally:
            table.problems.append(Finding(
                code, f"{MEDIA_FILE} : " + text.format(tally.amount("ligne", "lignes")),
                tally.where(MEDIA_FILE)))
    return table


def _integer(text: str) -> int | None:
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if not cleaned:
        return 0
    try:
        return int(cleaned)
    except ValueError:
        return None
