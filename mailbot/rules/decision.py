"""The result of evaluating a rule set: :class:`Decision`, with its hits and trace.

Merge semantics (also in docs/rules.md): rules run in file-name order, then
in the order written in each file. *Scalars* (``priority``, ``team``,
``status``, ``suggest_faq``) take the value of the **last** rule that set
them; the earlier value stays in :attr:`Decision.actions` marked
``overridden_by``. *Lists* (``tags``, ``auto_reply``, explicit FAQ articles)
accumulate in order without duplicates. ``stop`` ends the evaluation after
the current rule; ``ignore`` sets the reason and stops too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

# The ticket statuses (mailbot.store.models.TicketStatus), kept here so rule
# files can be checked without importing the database layer.
STATUSES = ("nouvelle demande", "en cours d'analyse", "solution proposée", "résolu", "fermé")
PRIORITIES = ("normale", "importante", "urgente")
TEAMS = ("technique", "pedagogique")


class RuleHit(NamedTuple):
    """A rule that fired: its name and the file (name within the rules folder)."""

    rule: str
    file: str


class TraceLine(NamedTuple):
    """What one rule did: ``matched``, ``no match``, ``skipped``, ``disabled`` or
    ``not evaluated`` (dry run of machine mail), and why.

    *detail* names the deciding condition with the value seen
    (``app_version: 2.2.5 does not satisfy <2.2.5``), or for a hit the
    conditions that held.
    """

    rule: str
    file: str
    outcome: str
    detail: str

    def to_json(self) -> dict[str, str]:
        """``{"rule", "file", "outcome", "detail"}``."""
        return {"rule": self.rule, "file": self.file, "outcome": self.outcome,
                "detail": self.detail}


@dataclass(slots=True)
class AppliedAction:
    """One action of a rule that fired.

    *overridden_by* names the later rule that replaced this scalar with a
    different value (setting the same value again is not an override).
    """

    rule: str
    file: str
    action: str
    value: Any
    overridden_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"rule", "file", "action", "value"}`` (+ ``overridden_by`` when set)."""
        data = {"rule": self.rule, "file": self.file, "action": self.action,
                "value": self.value}
        if self.overridden_by:
            data["overridden_by"] = self.overridden_by
        return data


@dataclass
class Decision:
    """The merged actions of the rules that fired, in order (see the module doc)."""

    priority: str | None = None
    team: str | None = None
    tags: list[str] = field(default_factory=list)
    status: str | None = None
    auto_replies: list[str] = field(default_factory=list)
    suggest_faq: bool = False
    faq_articles: list[str] = field(default_factory=list)
    ignore_reason: str | None = None
    matched: list[RuleHit] = field(default_factory=list)
    trace: list[TraceLine] = field(default_factory=list)
    actions: list[AppliedAction] = field(default_factory=list)
    stopped_by: str | None = None

    def summary(self) -> dict[str, Any]:
        """The merged result alone: what the pipeline will apply."""
        return {"priority": self.priority, "team": self.team, "tags": list(self.tags),
                "status": self.status, "auto_replies": list(self.auto_replies),
                "suggest_faq": self.suggest_faq, "faq_articles": list(self.faq_articles),
                "ignore_reason": self.ignore_reason, "stopped_by": self.stopped_by}

    def to_json(self) -> dict[str, Any]:
        """Exactly ``{"matched", "actions", "trace"}``: ``mailbot rules test --json``."""
        return {"matched": [{"rule": h.rule, "file": h.file} for h in self.matched],
                "actions": [a.to_json() for a in self.actions],
                "trace": [t.to_json() for t in self.trace]}


SCALARS = ("priority", "team", "status", "suggest_faq")


def apply_action(decision: Decision, hit: RuleHit, action: str, value: Any,
                 setters: dict[str, list[AppliedAction]]) -> None:
    """Merge one action of the rule *hit* into *decision*.

    *setters* (kept by the caller for one evaluation) lists, per scalar, the
    actions that set its current value, to mark them when a later rule
    replaces it.
    """
    applied = AppliedAction(hit.rule, hit.file, action, value)
    if action == "suggest_faq" and isinstance(value, list):
        _extend(decision.faq_articles, value)
    elif action in SCALARS:
        current = setters.setdefault(action, [])
        if current and current[0].value != value:
            for earlier in current:
                earlier.overridden_by = hit.rule
            current.clear()
        current.append(applied)
        setattr(decision, action, value)
    elif action == "tags":
        _extend(decision.tags, value)
    elif action == "auto_reply":
        _extend(decision.auto_replies, [value])
    elif action == "ignore":
        decision.ignore_reason = value
    decision.actions.append(applied)


def _extend(target: list[str], values: list[str]) -> None:
    for value in values:
        if value not in target:
            target.append(value)
