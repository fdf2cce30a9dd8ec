"""Reading a CSV attachment row by row in bounded memory, never stopping early.

The ``csv`` module parses the text as it streams; what it cannot read is read
again line by line from the text, split on the delimiter without quote handling:

- a record that raises :class:`csv.Error` (a field over the 128 KiB limit…);
- a record with a line over :data:`MAX_FIELD` (never copied out of the text:
  its over-long cells are skipped, the rest read, the row rejected);
- a record with the wrong number of fields that has a quote or runs over
  several physical lines (a stray leading ``"`` swallowing the lines after it).

Rows with the wrong number of fields are *rejected*: counted, and their cells
handed to ``on_rejected`` so that names in them still reach the scrubber.
Only counts and the first few line numbers are kept (:class:`LineTally`), and
only the first :data:`MAX_LINES` lines are read (the rest is counted, in C, and
reported as ``list_truncated``): a file of fifteen million bad lines costs a
few integers and a fraction of a second, not minutes.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator

from mailbot.reports.model import Finding
from mailbot.reports.numbers import fold
from mailbot.reports.wording import LineTally, format_count, plural

Record = tuple[int, dict[str, str]]
Rejected = Callable[[list[str], list[str]], None]  # (header, cells) of a rejected row
MAX_LINES = 100_000  # lines read per file: twenty times the largest list the spec allows
MAX_FIELD = csv.field_size_limit()  # 128 KiB: a longer cell is not read (csv.Error)
MAX_CELLS = 1_000  # a line with more cells than this is no row
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_ALIASES = {"identifiant": "id", "id_eleve": "eleve_id", "eleve": "eleve_id",
            "student_id": "eleve_id", "taille": "taille_octets", "bytes": "taille_octets",
            "first_name": "prenom", "last_name": "nom", "status": "statut"}


def decode_table(data: bytes) -> str:
    """Text of a CSV file: UTF-16 or UTF-8 with BOM, UTF-8, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def column(name: str) -> str:
    """The canonical column name: folded, ``_`` for spaces, English aliases mapped."""
    key = fold(name).strip(" \"'").replace(" ", "_")
    return _ALIASES.get(key, key)


class _Lines:
    """The physical lines of a text for ``csv.reader``, remembering where the lines of
    the record being read are (``current``: ``(start, end)`` spans in the text).

    Lines are cut lazily by a regex (``\\n``, ``\\r\\n`` or ``\\r`` ends, as
    ``newline=""`` would): ``io.StringIO`` would hold the whole text again, four
    bytes per character. A line longer than :data:`MAX_FIELD` is not copied out:
    the reader gets an empty line instead and the record is read again from the
    text, without quotes.
    """

    def __init__(self, text: str, limit: int) -> None:
        self.text = text
        self._source = _LINE.finditer(text)
        self._limit = limit
        self.number = 0
        self.current: list[tuple[int, int]] = []
        self.long_line = False  # the current record has a line over MAX_FIELD
        self.unread = 0  # lines left after the first *limit*
        self._end = 0  # where the last line read ends
        self._counted = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.number >= self._limit:
            if not self._counted:
                self.unread, self._counted = _count_lines(self.text, self._end), True
            raise StopIteration
        match = next(self._source)
        self.number += 1
        self._end = match.end()
        self.current.append(match.span())
        if match.end() - match.start() > MAX_FIELD:
            self.long_line = True
            return "\n"
        return match.group()

    def start_record(self) -> None:
        """Forget the lines of the previous record."""
        self.current = []
        self.long_line = False


def _count_lines(text: str, start: int) -> int:
    """How many lines *text* has from *start* on (counted in C, nothing copied)."""
    ends = text.count("\n", start) + text.count("\r", start) - text.count("\r\n", start)
    return ends + (1 if start < len(text) and text[-1] not in "\r\n" else 0)


def _clean(cell: str) -> str:
    return cell.strip().strip('"').replace('""', '"').strip()


def _split(text: str, start: int, end: int, delimiter: str) -> tuple[list[str], bool]:
    """The cells of ``text[start:end]`` without quote handling, and whether all of them
    could be read: a cell over :data:`MAX_FIELD` is given as ``""`` (never copied),
    a line of more than :data:`MAX_CELLS` cells as no cell at all."""
    while end > start and text[end - 1] in "\r\n":
        end -= 1
    if text.count(delimiter, start, end) >= MAX_CELLS:
        return [], False
    cells: list[str] = []
    complete = True
    while True:
        stop = text.find(delimiter, start, end)
        stop = end if stop < 0 else stop
        if stop - start > MAX_FIELD:
            cells.append("")
            complete = False
        else:
            cells.append(_clean(text[start:stop]))
        if stop >= end:
            return cells, complete
        start = stop + 1


def _delimiter(text: str) -> str:
    end = text.find("\n")
    first_line = text[:end] if end >= 0 else text
    if ";" not in first_line and "\t" in first_line:
        return "\t"
    return ";" if ";" in first_line or "," not in first_line else ","


class CsvRows:
    """The header of a CSV file and an iterator over its well-formed rows.

    Iterate :meth:`records` once, then read :meth:`problems`.
    """

    def __init__(self, data: bytes, file: str, max_lines: int = MAX_LINES) -> None:
        text = decode_table(data)
        self.file = file
        self.max_lines = max_lines
        self._delimiter = _delimiter(text)
        self._lines = _Lines(text, max_lines)
        self._reader = csv.reader(self._lines, delimiter=self._delimiter)
        self.wrong_count = LineTally()
        self.unquoted = LineTally()
        self.oversized = LineTally()
        self.header: list[str] = []
        for _, cells, _complete in self._rows():
            self.header = [column(name) for name in cells]
            break

    def _rows(self) -> Iterator[tuple[int, list[str], bool]]:
        """``(line, cells, complete)`` of each non-blank row, re-read without quotes if
        need be; *complete* is false when a cell was too long to be read."""
        lines = self._lines
        while True:
            lines.start_record()
            start = lines.number + 1
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error:
                yield from self._unquoted(start)
                continue
            stray_quote = bool(self.header) and len(row) != len(self.header) and (
                len(lines.current) > 1 or self._has_quote())  # maybe over several lines
            if lines.long_line or stray_quote:
                yield from self._unquoted(start)
            elif any(cell.strip() for cell in row):
                yield start, row, True

    def _has_quote(self) -> bool:
        text = self._lines.text
        return any(text.find('"', begin, end) >= 0 for begin, end in self._lines.current)

    def _unquoted(self, start: int) -> Iterator[tuple[int, list[str], bool]]:
        spans = self._lines.current
        self._lines.start_record()
        for offset, (begin, end) in enumerate(spans):
            cells, complete = _split(self._lines.text, begin, end, self._delimiter)
            if any(cells) or not complete:
                self.unquoted.add(start + offset)
                yield start + offset, cells, complete

    def records(self, on_rejected: Rejected | None = None) -> Iterator[Record]:
        """``(line, {column: value})`` per row with as many fields as the header.

        A row with another number of fields is counted and, when *on_rejected*
        is given, passed to it as ``(header, cells)``; it is not yielded.
        """
        if not any(self.header):
            return
        width = len(self.header)
        for line, cells, complete in self._rows():
            if len(cells) != width or not complete:
                (self.wrong_count if complete else self.oversized).add(line)
                if on_rejected is not None:
                    on_rejected(self.header, cells)
                continue
            yield line, {name: cell.strip() for name, cell in
                         zip(self.header, cells, strict=True)}

    def problems(self) -> list[Finding]:
        """Findings on the reading itself (empty file, unreadable or rejected lines)."""
        problems: list[Finding] = []
        file = self.file
        if not any(self.header):
            problems.append(Finding("malformed_csv", f"{file} est vide.", file))
        if self.unquoted:
            problems.append(Finding(
                "malformed_csv", f"{file} : {self.unquoted.amount('ligne relue', 'lignes relues')}"
                " sans tenir compte des guillemets (guillemet non fermé ou champ trop long).",
                self.unquoted.where(file)))
        if self.wrong_count:
            problems.append(Finding(
                "malformed_csv", f"{file} : "
                f"{self.wrong_count.amount('ligne ignorée', 'lignes ignorées')}"
                " (nombre de champs incorrect).", self.wrong_count.where(file)))
        if self.oversized:
            problems.append(Finding(
                "malformed_csv", f"{file} : "
                f"{self.oversized.amount('ligne ignorée', 'lignes ignorées')} (champ de plus "
                f"de {MAX_FIELD // 1024} Ko).", self.oversized.where(file)))
        if self._lines.unread:
            problems.append(Finding(
                "list_truncated", f"{file} tronqué : "
                f"{plural(self._lines.unread, 'ligne', 'lignes')} au-delà des "
                f"{format_count(self.max_lines)} premières non lues.", file))
        return problems
