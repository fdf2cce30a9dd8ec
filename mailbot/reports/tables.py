"""eleves.csv and medias.csv: ``;``-separated, UTF-8 (BOM or not) or Windows-1252.

Rows are read with the stdlib ``csv`` module; a row that cannot be read is
skipped and reported (file and line), never fatal. Student names stay in
:class:`StudentRow` fields hidden from ``repr`` and go no further than the
pseudonymiser and the :class:`~mailbot.reports.names.Scrubber`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from mailbot.reports.model import Finding
from mailbot.reports.numbers import fold, parse_when
from mailbot.reports.wording import lines_where, plural

STUDENTS_FILE = "eleves.csv"
MEDIA_FILE = "medias.csv"
_STATUS = {"actif": "actif", "active": "actif", "inactif": "inactif", "inactive": "inactif"}
_ALIASES = {"identifiant": "id", "id_eleve": "eleve_id", "eleve": "eleve_id",
            "student_id": "eleve_id", "taille": "taille_octets", "bytes": "taille_octets",
            "first_name": "prenom", "last_name": "nom", "status": "statut"}
_COUNTS = ("photos", "videos", "documents", "taille_octets")


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
    """The rows of eleves.csv, whether it had name columns, and reading problems."""

    rows: list[StudentRow] = field(default_factory=list)
    has_names: bool = False
    problems: list[Finding] = field(default_factory=list)


@dataclass
class MediaTable:
    """The rows of medias.csv and reading problems."""

    rows: list[MediaRow] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)


def decode_table(data: bytes) -> str:
    """Text of a CSV file: UTF-16 or UTF-8 with BOM, UTF-8, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _column(name: str) -> str:
    key = fold(name).strip(" \"'").replace(" ", "_")
    return _ALIASES.get(key, key)


def _read(data: bytes, file: str, problems: list[Finding]
          ) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and ``(line, {column: value})`` per well-formed row; never raises."""
    text = decode_table(data)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line or "," not in first_line else ","
    if ";" not in first_line and "\t" in first_line:
        delimiter = "\t"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] = []
    records: list[tuple[int, dict[str, str]]] = []
    bad: list[int] = []
    try:
        header = [_column(name) for name in next(reader, [])]
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                bad.append(reader.line_num)
                continue
            records.append((reader.line_num, {
                name: cell.strip() for name, cell in zip(header, row, strict=True)}))
    except csv.Error:
        problems.append(Finding("malformed_csv", f"{file} : ligne illisible, lecture "
                                "interrompue.", lines_where(file, [reader.line_num])))
    if not any(header):
        problems.append(Finding("malformed_csv", f"{file} est vide.", file))
    if bad:
        problems.append(Finding(
            "malformed_csv", f"{file} : {plural(len(bad), 'ligne ignorée', 'lignes ignorées')}"
            " (nombre de champs incorrect).", lines_where(file, bad)))
    return header, records


def read_students(data: bytes) -> StudentTable:
    """Parse eleves.csv (``id;nom;prenom;cree_le;derniere_activite;statut``)."""
    table = StudentTable()
    bad_status: list[int] = []
    bad_date: list[int] = []
    header, records = _read(data, STUDENTS_FILE, table.problems)
    table.has_names = "nom" in header or "prenom" in header
    if header and "id" not in header:
        table.problems.append(Finding(
            "malformed_csv", f"{STUDENTS_FILE} : colonne « id » absente.", STUDENTS_FILE))
        if not table.has_names:
            return table
    for line, record in records:
        status_text = record.get("statut", "")
        status = _STATUS.get(status_text) or _STATUS.get(fold(status_text))
        if status is None and status_text:
            bad_status.append(line)
        activity_text = record.get("derniere_activite", "")
        activity = parse_when(activity_text)
        if (activity is None and activity_text) or (
                record.get("cree_le") and parse_when(record["cree_le"]) is None):
            bad_date.append(line)
        table.rows.append(StudentRow(
            line=line, student_id=record.get("id") or None, first=record.get("prenom", ""),
            last=record.get("nom", ""), status=status, last_activity=activity))
    if bad_status:
        table.problems.append(Finding(
            "invalid_field", f"{STUDENTS_FILE} : statut inconnu sur "
            f"{plural(len(bad_status), 'ligne', 'lignes')} (attendu : actif ou inactif).",
            lines_where(STUDENTS_FILE, bad_status)))
    if bad_date:
        table.problems.append(Finding(
            "impossible_value", f"{STUDENTS_FILE} : date illisible sur "
            f"{plural(len(bad_date), 'ligne', 'lignes')}.", lines_where(STUDENTS_FILE, bad_date)))
    return table


def read_media(data: bytes) -> MediaTable:
    """Parse medias.csv (``eleve_id;photos;videos;documents;taille_octets``)."""
    table = MediaTable()
    not_numbers: list[int] = []
    negatives: list[int] = []
    header, records = _read(data, MEDIA_FILE, table.problems)
    if header and "eleve_id" not in header:
        table.problems.append(Finding(
            "malformed_csv", f"{MEDIA_FILE} : colonne « eleve_id » absente.", MEDIA_FILE))
        return table
    for line, record in records:
        counts = [_integer(record.get(name, "")) for name in _COUNTS]
        if any(value is None for value in counts):
            not_numbers.append(line)
        if any(value is not None and value < 0 for value in counts):
            negatives.append(line)
        table.rows.append(MediaRow(line, record["eleve_id"], *counts))
    if not_numbers:
        table.problems.append(Finding(
            "invalid_field", f"{MEDIA_FILE} : valeur non numérique sur "
            f"{plural(len(not_numbers), 'ligne', 'lignes')}.",
            lines_where(MEDIA_FILE, not_numbers)))
    if negatives:
        table.problems.append(Finding(
            "negative_value", f"{MEDIA_FILE} : valeur négative sur "
            f"{plural(len(negatives), 'ligne', 'lignes')} (exclue des totaux).",
            lines_where(MEDIA_FILE, negatives)))
    return table


def _integer(text: str) -> int | None:
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if not cleaned:
        return 0
    try:
        return int(cleaned)
    except ValueError:
        return None
