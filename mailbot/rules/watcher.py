"""Reload rule files when they change, without a restart.

:meth:`RuleWatcher.current` is called once per message. It compares a
fingerprint of the folder (the name, size and modification time in
nanoseconds of each ``*.toml`` file: one ``stat`` per file, a few
microseconds) with the one of the loaded set, on each call, or at most
every *min_interval* seconds when one is given. When it differs the folder
is loaded again. If that fails (with any exception: an unexpected one is
wrapped in a :class:`RuleError`), the previous set stays active and the
:class:`RuleError` goes to *on_error* (or, without one, to the
``mailbot.rules`` logger), once per change: the same broken files are not
reported again on every message.

The first load, in the constructor, raises :class:`RuleError`: a service
should not start on rules nobody has seen work.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mailbot.rules.engine import RuleSet
from mailbot.rules.errors import ErrorLine, RuleError
from mailbot.rules.loader import load_rules

log = logging.getLogger("mailbot.rules")
Fingerprint = tuple[tuple[str, int, int], ...] | None


def fingerprint(directory: Path) -> Fingerprint:
    """``(name, size, mtime_ns)`` of each rule file; None when the folder is unreadable.

    The same files as :func:`~mailbot.rules.loader.rule_files`, read with
    :func:`os.scandir` (one ``stat`` per file, no path objects).
    """
    try:
        with os.scandir(directory) as entries:
            found = [(e.name, e.stat()) for e in entries
                     if e.name.endswith(".toml") and not e.name.startswith((".", "#"))
                     and e.is_file()]
    except OSError:
        return None
    return tuple(sorted((name, st.st_size, st.st_mtime_ns) for name, st in found))


class RuleWatcher:
    """The current :class:`RuleSet` of a folder, reloaded when its files change."""

    def __init__(self, directory: Path, templates_dir: Path | None = None,
                 on_error: Callable[[RuleError], None] | None = None,
                 min_interval: float = 0.0) -> None:
        self.directory = Path(directory)
        self.templates_dir = templates_dir
        self.on_error = on_error
        self.min_interval = min_interval
        self.last_error: RuleError | None = None
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        seen = fingerprint(self.directory)
        self._rules = load_rules(self.directory, templates_dir)  # raises: fail at start
        self._seen: Fingerprint | object = self._stable(seen)

    def current(self) -> RuleSet:
        """The rule set to use now (reloaded first if the files changed)."""
        now = time.monotonic()
        if self.min_interval and now - self._checked < self.min_interval:
            return self._rules
        with self._lock:
            self._checked = now
            seen = fingerprint(self.directory)
            if seen != self._seen:
                self._reload(seen)
            return self._rules

    def _stable(self, seen: Fingerprint) -> Fingerprint | object:
        """*seen*, or a marker that forces a reload when files changed during the load."""
        return seen if fingerprint(self.directory) == seen else object()

    def _reload(self, seen: Fingerprint) -> None:
        try:
            rules = load_rules(self.directory, self.templates_dir)
        except Exception as caught:  # never let a broken folder reach message processing
            exc = caught if isinstance(caught, RuleError) else RuleError([ErrorLine(
                str(self.directory), 0, "file",
                f"cannot load: {type(caught).__name__}: {caught}")])
            self._seen, self.last_error = seen, exc
            if self.on_error is not None:
                self.on_error(exc)
            else:
                log.error("rule files invalid, the previous %d rules stay active:\n%s",
                          len(self._rules), exc)
            return
        self._seen = self._stable(seen)
        self._rules, self.last_error = rules, None
        log.info("reloaded %d rules from %d files in %s", len(rules), len(rules.files),
                 self.directory)
