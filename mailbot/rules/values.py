"""Parsers for the values rule files compare against: versions, sizes, times, days.

Each ``parse_*`` turns the text a support team writes into a small immutable
matcher and raises :class:`ValueError` with a French-friendly explanation
when the text is wrong, so a bad value fails at load, never at match time.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from mailbot.rules.text import fold

Compare = Callable[[object, object], bool]
OPERATORS: dict[str, Compare] = {"<=": operator.le, ">=": operator.ge, "==": operator.eq,
                                 "!=": operator.ne, "<": operator.lt, ">": operator.gt,
                                 "=": operator.eq}
_CLAUSE = re.compile(r"\s*(<=|>=|==|!=|<|>|=)?\s*(.+?)\s*$")
_VERSION = re.compile(r"\s*v?(\d+(?:\.\d+)*)")


def parse_version(text: str) -> tuple[int, ...] | None:
    """``2.2.5`` / ``v2.2`` / ``2.2.5 (build 2250)`` -> ``(2, 2, 5)``; None if no number."""
    match = _VERSION.match(text)
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def _pad(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


@dataclass(frozen=True)
class VersionSpec:
    """``<2.2.5``, ``>=2.0, <2.2.5``, ``2.2.*``: every comma-separated clause must hold.

    Missing components count as zero (``2.2`` == ``2.2.0``); ``X.Y.*`` (with
    ``==``, ``!=`` or no operator) compares only the leading components.
    """

    text: str
    clauses: tuple[tuple[str, tuple[int, ...], bool], ...]

    def matches(self, version: tuple[int, ...]) -> bool:
        """Whether *version* satisfies every clause."""
        for op, wanted, prefix in self.clauses:
            if prefix:
                same = version[:len(wanted)] == wanted
                if same != (op != "!="):
                    return False
            elif not OPERATORS[op](*_pad(version, wanted)):
                return False
        return True


def parse_version_spec(text: str) -> VersionSpec:
    """Parse a version condition; see :class:`VersionSpec`."""
    clauses = []
    for raw in text.split(","):
        match = _CLAUSE.match(raw)
        if not match or not match.group(2):
            raise ValueError(f"empty version condition in {text!r}")
        op, value = match.group(1) or "==", match.group(2)
        prefix = value.endswith(".*")
        number = value[:-2] if prefix else value
        if not re.fullmatch(r"\d+(\.\d+)*", number):
            raise ValueError(f"{value!r} is not a version (expected e.g. 2.2.5, <2.2.5, 2.2.*)")
        if prefix and op not in ("==", "=", "!="):
            raise ValueError(f"'.*' works only with == or != (got {op}{value})")
        clauses.append(("==" if op == "=" else op, tuple(int(p) for p in number.split(".")),
                        prefix))
    return VersionSpec(text.strip(), tuple(clauses))


_UNITS = {"": 1, "o": 1, "b": 1, "octets": 1, "ko": 1024, "kb": 1024, "kio": 1024,
          "kib": 1024, "mo": 1024**2, "mb": 1024**2, "mio": 1024**2, "mib": 1024**2,
          "go": 1024**3, "gb": 1024**3, "gio": 1024**3, "gib": 1024**3}
_SIZE = re.compile(r"\s*(<=|>=|==|!=|<|>|=)?\s*(\d+(?:[.,]\d+)?)\s*([a-zA-Z]*)\s*$")


@dataclass(frozen=True)
class SizeSpec:
    """``> 10 Mo``: a comparison with a size in bytes (units are powers of 1024)."""

    text: str
    op: str
    limit: int

    def matches(self, size: int) -> bool:
        """Whether *size* (bytes) satisfies the comparison."""
        return OPERATORS[self.op](size, self.limit)


def parse_size_spec(text: str) -> SizeSpec:
    """``>10 Mo``, ``<= 500 ko``, ``>=2GB``: operator (default ``>=``), number, unit."""
    match = _SIZE.match(text)
    unit = match.group(3).lower() if match else ""
    if not match or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size condition (expected e.g. '>10 Mo', "
                         "'<= 500 ko'; units o, ko, Mo, Go)")
    number = float(match.group(2).replace(",", "."))
    return SizeSpec(text.strip(), match.group(1) or ">=", int(number * _UNITS[unit]))


@dataclass(frozen=True)
class TimeRange:
    """``18:00-08:00``: start included, end excluded; may run past midnight."""

    text: str
    start: int  # minutes after midnight
    end: int

    def contains(self, minute: int) -> bool:
        """Whether *minute* (after midnight) falls in the range."""
        if self.start <= self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end


def _minutes(text: str, whole: str) -> int:
    match = re.fullmatch(r"\s*(\d{1,2})(?:[:h](\d{2})?)?\s*", text)
    if not match or int(match.group(1)) > 24 or int(match.group(2) or 0) > 59:
        raise ValueError(f"{whole!r} is not a time range (expected e.g. '18:00-08:00')")
    return min(int(match.group(1)) * 60 + int(match.group(2) or 0), 24 * 60)


def parse_time_range(text: str) -> TimeRange:
    """``18:00-08:00``, ``8h-12h30``: two times separated by ``-``."""
    if text.count("-") != 1:
        raise ValueError(f"{text!r} is not a time range (expected e.g. '18:00-08:00')")
    start, end = text.split("-")
    first, last = _minutes(start, text), _minutes(end, text)
    if first == last:
        raise ValueError(f"{text!r}: the range is empty (start = end)")
    return TimeRange(text.strip(), first, last)


WEEKDAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_WEEKDAYS = {name: i for i, name in enumerate(WEEKDAY_NAMES)} | {
    name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday",
                                      "saturday", "sunday"))} | {
    name: i for i, name in enumerate(("lun", "mar", "mer", "jeu", "ven", "sam", "dim"))} | {
    name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}


def parse_weekday(text: str) -> int:
    """``samedi`` / ``Saturday`` / ``sam`` -> 5 (Monday is 0)."""
    day = _WEEKDAYS.get(fold(text).strip())
    if day is None:
        raise ValueError(f"{text!r} is not a day of the week (lundi … dimanche)")
    return day
