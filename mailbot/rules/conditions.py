"""The condition registry and the ``when`` compiler (TOML table -> Condition tree).

``CONDITIONS`` is the wiring, in one place: rule-file key -> condition class.
A ``when`` table holds conditions that must all hold (in the order written);
``all = [...]``, ``any = [...]`` and ``not = {...}`` nest. Compiling collects
every error with its path (``("when", "any", 1, "text_regex")``) instead of
stopping at the first.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from mailbot.rules import cond_mail, cond_report, cond_text
from mailbot.rules.base import CompileContext, Condition, Result
from mailbot.rules.facts import MessageView

Path = tuple[str | int, ...]
Factory = Callable[[str, Any, CompileContext], Condition]

CONDITIONS: dict[str, Factory] = {
    "sender": cond_mail.Sender,
    "sender_domain": cond_mail.SenderDomain,
    "subject_words": cond_text.Words,
    "text_words": cond_text.Words,
    "words": cond_text.Words,
    "subject_regex": cond_text.Regex,
    "text_regex": cond_text.Regex,
    "kind": cond_mail.Choice,
    "language": cond_mail.Choice,
    "attachment": cond_mail.Attachment,
    "weekday": cond_mail.Weekday,
    "time": cond_mail.TimeOfDay,
    "report": cond_report.IsReport,
    "app_version": cond_report.Version,
    "os": cond_report.Os,
    "os_version": cond_report.Version,
    "error_code": cond_report.ErrorCode,
    "sync_state": cond_report.ReportValue,
    "report_priority": cond_report.ReportValue,
    "recipient": cond_report.ReportValue,
    "finding": cond_report.FindingCode,
}
COMBINATORS = ("all", "any", "not")
_SHOWN_MISSES = 3


class All:
    """Every child holds; the first that does not explains the miss."""

    key = "all"

    def __init__(self, children: list[Condition]) -> None:
        self.children = tuple(children)

    def test(self, view: MessageView) -> Result:
        """Short-circuits on the first miss."""
        reasons = []
        for child in self.children:
            hit, why = child.test(view)
            if not hit:
                return False, why
            reasons.append(why)
        return True, "; ".join(reasons)


class Any_:
    """At least one child holds; a miss lists why each did not."""

    key = "any"

    def __init__(self, children: list[Condition]) -> None:
        self.children = tuple(children)

    def test(self, view: MessageView) -> Result:
        """Short-circuits on the first hit."""
        reasons = []
        for child in self.children:
            hit, why = child.test(view)
            if hit:
                return True, why
            reasons.append(why)
        extra = len(reasons) - _SHOWN_MISSES
        shown = " | ".join(reasons[:_SHOWN_MISSES]) + (f" | (+{extra})" if extra > 0 else "")
        return False, f"any: {shown}"


class Not:
    """The child does not hold."""

    key = "not"

    def __init__(self, child: Condition) -> None:
        self.child = child

    def test(self, view: MessageView) -> Result:
        """The child's result, inverted, with its reason."""
        hit, why = self.child.test(view)
        return not hit, f"not ({why})"


class WhenCompiler:
    """Compiles ``when`` tables; ``errors`` collects ``(path, message)`` pairs."""

    def __init__(self, ctx: CompileContext) -> None:
        self.ctx = ctx
        self.errors: list[tuple[Path, str]] = []

    def table(self, value: Any, path: Path) -> Condition | None:
        """A table of conditions that must all hold, or None after recording errors."""
        if not isinstance(value, dict) or not value:
            self.errors.append((path, "expected a table of conditions, e.g. "
                                      "{ words = [\"urgent\"] }"))
            return None
        children = [self.entry(key, item, (*path, key)) for key, item in value.items()]
        if any(c is None for c in children):
            return None
        return children[0] if len(children) == 1 else All(children)  # type: ignore[arg-type]

    def entry(self, key: str, value: Any, path: Path) -> Condition | None:
        """One key of a ``when`` table: a combinator or a registered condition."""
        if key in ("all", "any"):
            return self.combine(key, value, path)
        if key == "not":
            child = self.table(value, path)
            return Not(child) if child is not None else None
        factory = CONDITIONS.get(key)
        if factory is None:
            close = difflib.get_close_matches(key, [*CONDITIONS, *COMBINATORS], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.errors.append((path, f"unknown condition {key!r}{hint}"))
            return None
        try:
            return factory(key, value, self.ctx)
        except (ValueError, TypeError) as exc:
            self.errors.append((path, str(exc)))
            return None

    def combine(self, key: str, value: Any, path: Path) -> Condition | None:
        """``all``/``any``: a non-empty list of tables."""
        if not isinstance(value, list) or not value:
            self.errors.append((path, f"{key} expects a non-empty list of tables"))
            return None
        children = [self.table(item, (*path, i)) for i, item in enumerate(value)]
        if any(c is None for c in children):
            return None
        return (All if key == "all" else Any_)(children)  # type: ignore[arg-type]
