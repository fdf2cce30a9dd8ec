"""The 24-hour error journal (``journal-24h.log`` or ``.log.gz``), read with bounded memory.

Compressed journals are inflated in 64 KiB steps with
``zlib.decompressobj().decompress(data, max_length)`` and a hard cap on the
total (``ReportSettings.journal_max_bytes``): a 200 MB run of zeros packed in
200 kB costs one chunk of memory, not 200 MB. Lines are parsed as they come and
never stored; an over-long line is skipped. Only codes and times are kept:
messages may contain names.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from mailbot.reports.model import Finding
from mailbot.reports.numbers import format_mb, parse_when
from mailbot.reports.wording import lines_where, plural

CHUNK = 64 * 1024
MAX_LINE = 16 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_ENTRY = re.compile(
    rb"^(?P<at>\d{4}-\d\d-\d\d[T ]\S+)\s+(?P<level>[A-Za-z]+)"
    rb"(?:\s+(?P<code>[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)(?=\s|$))?")
_NOT_ERRORS = frozenset({b"INFO", b"DEBUG", b"TRACE", b"NOTICE"})


@dataclass
class Journal:
    """Error counts per code, when each code was last seen, and reading problems."""

    counts: Counter[str] = field(default_factory=Counter)
    last_seen: dict[str, tuple[dt.datetime | None, int]] = field(default_factory=dict)
    readable: bool = True
    problems: list[Finding] = field(default_factory=list)


@dataclass
class _Inflate:
    truncated: bool = False
    corrupt: bool = False


def _inflate(data: bytes, cap: int, state: _Inflate) -> Iterator[bytes]:
    """Decompressed chunks of gzip (or zlib) *data*, at most *cap* bytes in all."""
    total = 0
    pending = data
    while pending:
        inflater = zlib.decompressobj(wbits=47)  # 32 + 15: gzip or zlib header
        source = pending
        try:
            while not inflater.eof:
                room = cap - total
                if room <= 0:
                    state.truncated = True
                    return
                chunk = inflater.decompress(source, min(CHUNK, room))
                progress = bool(chunk) or len(inflater.unconsumed_tail) != len(source)
                source = inflater.unconsumed_tail
                total += len(chunk)
                if chunk:
                    yield chunk
                if not progress:
                    break
        except zlib.error:
            state.corrupt = True
            return
        if not inflater.eof:
            state.corrupt = True  # stream ended early
            return
        pending = inflater.unused_data.lstrip(b"\0")  # next gzip member, if any


def _plain(data: bytes, cap: int, state: _Inflate) -> Iterator[bytes]:
    state.truncated = len(data) > cap
    for start in range(0, min(len(data), cap), CHUNK):
        yield data[start:min(start + CHUNK, cap)]


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes | None]:
    """Lines without their end; ``None`` for a line longer than :data:`MAX_LINE`."""
    buffer = b""
    skipping = False
    for chunk in chunks:
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for line in complete:
            yield None if skipping else line
            skipping = False
        if len(buffer) > MAX_LINE:
            buffer, skipping = b"", True
    if buffer or skipping:
        yield None if skipping else buffer


def read_journal(data: bytes, file: str, max_bytes: int) -> Journal:
    """Count error codes in the journal *data* (plain or gzip); never raises."""
    journal = Journal()
    state = _Inflate()
    compressed = data.startswith(_GZIP_MAGIC)
    chunks = _inflate(data, max_bytes, state) if compressed else _plain(data, max_bytes, state)
    bad: list[int] = []
    entries = 0
    for number, line in enumerate(_lines(chunks), start=1):
        if line is not None and not line.strip():
            continue
        match = _ENTRY.match(line.strip()) if line is not None else None
        when = parse_when(match["at"].decode("ascii", "replace")) if match else None
        if match is None or when is None:
            bad.append(number)
            continue
        entries += 1
        if match["code"] and match["level"].upper() not in _NOT_ERRORS:
            code = match["code"].decode("ascii")
            journal.counts[code] += 1
            journal.last_seen[code] = max(journal.last_seen.get(code, (when, number)),
                                          (when, number), key=recency)
    if state.truncated:
        journal.problems.append(Finding(
            "journal_truncated", f"{file} tronqué : lecture arrêtée après "
            f"{format_mb(max_bytes / 1024 / 1024)} décompressés.", file))
    # Garbage (a bomb of zeros, a corrupt archive) does not count as "no errors".
    journal.readable = entries > 0 or not (bad or state.corrupt)
    if state.corrupt:
        journal.problems.append(Finding(
            "malformed_journal", f"{file} : archive gzip corrompue ou incomplète.", file))
    if bad:
        journal.problems.append(Finding(
            "malformed_journal",
            f"{file} : {plural(len(bad), 'ligne illisible', 'lignes illisibles')}.",
            lines_where(file, bad)))
    return journal


def recency(seen: tuple[dt.datetime | None, int]) -> tuple[float, int]:
    """Sort key of a ``(time, position)`` sighting: later time, then later position."""
    when, number = seen
    return (when.timestamp() if when else float("-inf"), number)
