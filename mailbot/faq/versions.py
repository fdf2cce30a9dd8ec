"""App version ranges for articles: ``>=2.2``, ``<2.2.5``, ``>=2.2, <2.2.5``, ``==2.2.4``.

Versions compare as tuples of integers padded with zeros, so ``2.2`` equals
``2.2.0``. A bare version (``2.2.4``) means ``==2.2.4``. Build numbers and
suffixes in what users send (« 2.2.4 (build 2240) ») are ignored.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

_VERSION = re.compile(r"\d+(?:\.\d+)*")
_CLAUSE = re.compile(r"^(>=|<=|==|!=|>|<)?\s*(\d+(?:\.\d+)*)$")
_OPS: dict[str, Callable[[object, object], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
    ">": operator.gt, "<": operator.lt,
}


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """``(2, 2, 4)`` for « 2.2.4 (build 2240) »; ``None`` when there is no version number."""
    match = _VERSION.search(text or "")
    if not match:
        return None
    return tuple(int(part) for part in match.group().split("."))


def _pad(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


@dataclass(frozen=True)
class VersionSpec:
    """A comma-separated conjunction of comparisons."""

    clauses: tuple[tuple[str, tuple[int, ...]], ...]

    @classmethod
    def parse(cls, text: str) -> VersionSpec:
        """Parse *text*; raise ``ValueError`` with a readable reason when it is malformed."""
        clauses = []
        for raw in text.split(","):
            match = _CLAUSE.match(raw.strip())
            if not match:
                raise ValueError(f"bad version range {raw.strip()!r} "
                                 "(expected e.g. '>=2.2', '<2.2.5' or '>=2.2, <2.2.5')")
            op = match.group(1) or "=="
            clauses.append((op, tuple(int(p) for p in match.group(2).split("."))))
        return cls(tuple(clauses))

    def contains(self, version: tuple[int, ...]) -> bool:
        """Whether *version* satisfies every clause."""
        return all(_OPS[op](*_pad(version, bound)) for op, bound in self.clauses)
