"""The 24-hour error journal (``journal-24h.log`` or ``.log.gz``), read with bounded memory.

Compressed journals are inflated in 64 KiB steps with
``zlib.decompressobj().decompress(data, max_length)`` and a hard cap on the
total (``ReportSettings.journal_max_bytes``): a 200 MB run of zeros packed in
200 kB costs one chunk of memory, not 200 MB. Lines are parsed as they come and
never stored; an over-long line is skipped. Only codes and times are kept:
messages may contain names. Bad lines are counted, with the first few line
numbers (:class:`~mailbot.reports.wording.LineTally`): ten million lines of
``x`` cost a few integers.

An error code is accepted only in the form ``SYNC-504`` (:func:`error_code`;
``sync-504`` and ``SYNC-504:`` are read as ``SYNC-504``); an error line whose
third field is anything else counts as a line without a code.
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
from mailbot.reports.wording import MAX_CITED, LineTally

CHUNK = 64 * 1024
MAX_LINE = 16 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_ENTRY = re.compile(
    rb"^(?P<at>\d{4}-\d\d-\d\d[T ]\S+)\s+(?P<level>[A-Za-z]+)(?:\s+(?P<code>\S{1,64}))?")
_MAY_BE_ENTRY = re.compile(rb"^[ \t\r\f\v]*\d{4}-\d\d-\d\d", re.MULTILINE)
_BLANK = re.compile(rb"^[ \t\r\f\v]*$", re.MULTILINE)
_CODE = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+")
_NOT_ERRORS = frozenset({b"INFO", b"DEBUG", b"TRACE", b"NOTICE"})


def error_code(text: str | None) -> str | None:
    """``" sync-504: "`` -> ``"SYNC-504"``; ``None`` for anything that is not a code."""
    if not text:
        return None
    code = text.strip().removesuffix(":").strip().upper()
    return code if len(code) <= 64 and _CODE.fullmatch(code) else None


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


def _batches(chunks: Iterator[bytes]) -> Iterator[list[bytes | None]]:
    """The complete lines of each chunk, without their end (one list per chunk, so
    that ten million short lines are not ten million generator steps); ``None``
    stands for a line longer than :data:`MAX_LINE`."""
    buffer = b""
    skipping = False
    for chunk in chunks:
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        if complete:
            batch: list[bytes | None] = complete  # type: ignore[assignment]
            if skipping:
                batch[0], skipping = None, False
            yield batch
        if len(buffer) > MAX_LINE:
            buffer, skipping = b"", True
    if buffer or skipping:
        yield [None if skipping else buffer]


def _count_garbage(batch: list[bytes | None]) -> int | None:
    """How many non-blank lines *batch* has when none of them can be an entry, counted
    by regexes in C; ``None`` when some line may be one (or is over-long)."""
    if None in batch:
        return None
    block = b"\n".join(batch)  # type: ignore[arg-type]
    if _MAY_BE_ENTRY.search(block):
        return None
    return len(batch) - len(_BLANK.findall(block))


def read_journal(data: bytes, file: str, max_bytes: int) -> Journal:
    """Count error codes in the journal *data* (plain or gzip); never raises."""
    journal = Journal()
    state = _Inflate()
    compressed = data.startswith(_GZIP_MAGIC)
    chunks = _inflate(data, max_bytes, state) if compressed else _plain(data, max_bytes, state)
    bad, codeless = LineTally(), LineTally()
    entries = 0
    number = 0
    for batch in _batches(chunks):
        if bad.count > MAX_CITED:
            garbage = _count_garbage(batch)
            if garbage is not None:  # no line of the batch can be an entry
                bad.count += garbage
                number += len(batch)
                continue
        for line in batch:
            number += 1
            stripped = line.strip() if line is not None else None
            if stripped == b"":
                continue
            match = _ENTRY.match(stripped) if stripped is not None else None
            when = parse_when(match["at"].decode("ascii", "replace")) if match else None
            if match is None or when is None:
                if bad.count > MAX_CITED:
                    bad.count += 1  # the common case of a bomb: a count, no call
                else:
                    bad.add(number)
                continue
            entries += 1
            if match["level"].upper() in _NOT_ERRORS:
                continue
            code = error_code(match["code"].decode("ascii", "replace")) if match["code"] \
                else None
            if code is None:
                codeless.add(number)
                continue
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
            f"{file} : {bad.amount('ligne illisible', 'lignes illisibles')}.", bad.where(file)))
    if codeless:
        journal.problems.append(Finding(
            "malformed_journal", f"{file} : {codeless.amount('ligne', 'lignes')} d'erreur "
            "sans code reconnaissable.", codeless.where(file)))
    return journal


def recency(seen: tuple[dt.datetime | None, int]) -> tuple[float, int]:
    """Sort key of a ``(time, position)`` sighting: later time, then later position."""
    when, number = seen
    return (when.timestamp() if when else float("-inf"), number)
