"""Numbers as people and the app write them: French sizes, versions, dates.

Sizes are parsed to mebibytes (``Mo``/``MB`` are 1024² bytes: the app writes
``3 Go`` for ``ram_total_mb: 3072``) together with the rounding the text
implies, so that ``1,2 Go`` agrees with ``1228`` but not with ``2048``.
Everything here is pure and never raises on odd input: it returns ``None``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from mailbot.reports.wording import THIN_SPACE, format_count

# Thousands may be grouped with a normal, non-breaking or narrow non-breaking space.
_NUMBER = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_SIZE = re.compile(
    rf"(?P<number>{_NUMBER})\s*(?P<unit>[kKmMgGtT]i?[oOB]|octets?|bytes?|[oB])(?![\w])")
_UNIT_MB = {"k": 1 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0 * 1024}
_FREE = re.compile(r"(?:libre|free|disponible|available)\s*:?\s*", re.IGNORECASE)
_VERSION = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True)
class Size:
    """A size read from text: *mb* (truncated, as the app does) and the rounding slack."""

    mb: int
    tolerance_mb: float


def parse_number(text: str) -> float | None:
    """``"1,2"`` / ``"1.2"`` / ``"65 536"`` -> float; ``None`` when not a number."""
    cleaned = re.sub(r"[ \u00a0\u202f]", "", text.strip()).replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        return None


def parse_size(text: str) -> Size | None:
    """The first size in *text* (``"1,2 Go"``, ``"412 MB"``, ``"900 Ko"``), in Mo."""
    match = _SIZE.search(text)
    return _size(match) if match else None


def parse_total_and_free(text: str) -> tuple[Size | None, Size | None]:
    """``"3 Go (libre : 412 Mo)"`` -> (total, free); either may be ``None``."""
    free_at = _FREE.search(text)
    head = text[: free_at.start()] if free_at else text
    total = parse_size(head)
    free = parse_size(text[free_at.end():]) if free_at else None
    return total, free


def _size(match: re.Match[str]) -> Size | None:
    number, unit = match["number"], match["unit"].lower()
    value = parse_number(number)
    if value is None:
        return None
    factor = _UNIT_MB.get(unit[0], 1 / (1024 * 1024))  # o, B, octets, bytes
    fraction = re.search(r"[.,](\d+)$", number)
    decimals = len(fraction.group(1)) if fraction else 0
    # Half a unit of the last written digit, plus one for the app's truncation.
    tolerance = 0.5 * 10 ** -decimals * factor + 1
    return Size(mb=int(value * factor), tolerance_mb=tolerance)


def format_mb(mb: float) -> str:
    """French display of a size in Mo: ``412 Mo``, ``1,2 Go``, ``64 Go``, ``2 To``."""
    if abs(mb) >= 1024 * 1024:
        return f"{_french_decimal(mb / 1024 / 1024)} To"
    if abs(mb) >= 1024:
        return f"{_french_decimal(mb / 1024)} Go"
    return f"{_french_decimal(mb)} Mo"


def format_bytes(size: int) -> str:
    """French display of a byte count: ``900 o``, ``3,5 Ko``, ``12 Mo``, ``1,2 Go``."""
    if size < 1024:
        return f"{size} o"
    if size < 1024 * 1024:
        return f"{_french_decimal(size / 1024)} Ko"
    return format_mb(size / 1024 / 1024)


def format_percent(value: float) -> str:
    """``1.87`` -> ``2 %``; below 1, one decimal (``0,4 %``)."""
    if 0 < abs(value) < 1:
        return f"{_french_decimal(value)} %"
    return f"{round(value):d} %"


def _french_decimal(value: float) -> str:
    """``1234.5`` -> ``"1 234,5"`` (narrow no-break space between thousands)."""
    text = f"{value:,.1f}".replace(",", THIN_SPACE).replace(".", ",")
    return text.removesuffix(",0")


def clean_version(text: str | None) -> str | None:
    """The version alone: ``"2.2.5 (build 2250)"`` -> ``"2.2.5"``; ``None`` if none."""
    if not text:
        return None
    match = _VERSION.search(text)
    return match.group(0) if match else None


def signature_version(version: str) -> str:
    """The version as incidents group it: components of ``0`` beyond the third dropped.

    ``2.2.5.0`` -> ``2.2.5``; ``2.2.0`` and ``2.2`` are left as they are.
    """
    parts = version.strip().split(".")
    while len(parts) > 3 and parts[-1].isdigit() and int(parts[-1]) == 0:
        parts.pop()
    return ".".join(parts)


def version_tuple(version: str) -> tuple[int, ...]:
    """``"2.2.5"`` -> ``(2, 2, 5)``, for numeric comparison (``2.10`` > ``2.9``)."""
    match = _VERSION.search(version)
    if not match:
        return ()
    parts = tuple(int(p) for p in match.group(0).split("."))
    while parts and parts[-1] == 0:
        parts = parts[:-1]  # 2.2 == 2.2.0
    return parts


def parse_when(text: str | None) -> dt.datetime | None:
    """An ISO 8601 date or date-time; naive values are taken as UTC. ``None`` if unreadable."""
    if not text or not text.strip():
        return None
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when


def aware(when: dt.datetime) -> dt.datetime:
    """*when* with a time zone (UTC when it had none), so that any two compare."""
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def format_when(when: dt.datetime) -> str:
    """``05/04/2025 à 18:02`` in the time zone the value was written in."""
    return when.strftime("%d/%m/%Y à %H:%M")


def format_hours(hours: float) -> str:
    """``15 h`` below two days, ``3 jours`` above."""
    if hours < 48:
        return f"{format_count(round(hours))} h"
    return f"{format_count(round(hours / 24))} jours"


def fold(text: str) -> str:
    """Accent-, case-, spacing-insensitive key: ``Niveau de  Détail`` -> ``niveau de detail``."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").replace("ʼ", "'"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())
