"""Line numbers for errors in rule files.

:mod:`tomllib` gives values without positions, so the line of a problem is
found in the file's text: the ``[[rule]]`` header of the N-th rule, then
each key of the path in turn (``when``, ``any``, ``text_regex``) at or after
the line of the previous one, within that rule. A list index moves to the
N-th following line that opens an inline table (``{ ... }``), the layout
the documentation recommends. When a key cannot be found the last line
found stands, so the number is never past the problem.
"""

from __future__ import annotations

import re

RULE_HEADER = re.compile(r"^\s*\[\[\s*rule\s*\]\]")


class Locator:
    """Finds the line of a rule, or of a key inside a rule, in one file's text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.starts = [i for i, line in enumerate(self.lines) if RULE_HEADER.match(line)]

    def _span(self, rule: int | None) -> tuple[int, int]:
        if rule is None:
            return 0, self.starts[0] if self.starts else len(self.lines)
        if rule >= len(self.starts):
            return 0, len(self.lines)
        end = self.starts[rule + 1] if rule + 1 < len(self.starts) else len(self.lines)
        return self.starts[rule], end

    def line(self, rule: int | None, path: tuple[str | int, ...] = ()) -> int:
        """1-based line of *path* inside rule number *rule* (None: the file's own keys)."""
        pos, end = self._span(rule)
        for part in path:
            if isinstance(part, int):
                pos = self._nth_table(pos, end, part)
            else:
                pos = self._key(pos, end, part)
        return pos + 1 if self.lines else 0

    def _key(self, pos: int, end: int, key: str) -> int:
        pattern = re.compile(r"(^|[\s{,.\[])[\"']?" + re.escape(key) + r"[\"']?\s*(=|\]|\.)")
        for i in range(pos, end):
            if pattern.search(self.lines[i]):
                return i
        return pos

    def _nth_table(self, pos: int, end: int, index: int) -> int:
        opened = [i for i in range(pos + 1, end) if self.lines[i].lstrip().startswith("{")]
        return opened[index] if index < len(opened) else pos
