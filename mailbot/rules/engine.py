"""Compiled rules and their evaluation: :class:`Rule`, :class:`RuleSet`.

Evaluation order is data: rules run in the order of :attr:`RuleSet.rules`,
which the loader builds from the file names (sorted) and the order of the
``[[rule]]`` tables in each file. Every rule gets a trace line, whether it
matched, missed (with the condition that failed), was skipped after a
``stop``, or is disabled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mailbot.rules.base import Condition
from mailbot.rules.decision import AppliedAction, Decision, RuleHit, TraceLine, apply_action
from mailbot.rules.facts import MessageFacts, MessageView


@dataclass(frozen=True)
class Rule:
    """One compiled rule: a condition tree and its actions, in the order written."""

    name: str
    description: str
    file: str
    line: int
    condition: Condition
    actions: tuple[tuple[str, Any], ...]
    enabled: bool = True
    stops: bool = field(init=False)

    def __post_init__(self) -> None:
        # Whether firing this rule ends the evaluation (``stop`` or ``ignore``).
        object.__setattr__(self, "stops", any(name in ("stop", "ignore")
                                              for name, _ in self.actions))


class RuleSet:
    """A loaded, validated, immutable sequence of rules."""

    __slots__ = ("_rules", "files")

    def __init__(self, rules: tuple[Rule, ...] = (), files: tuple[str, ...] = ()) -> None:
        self._rules = tuple(rules)
        self.files = tuple(files)

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules in evaluation order."""
        return self._rules

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return f"<RuleSet {len(self._rules)} rules in {len(self.files)} files>"

    def evaluate(self, facts: MessageFacts) -> Decision:
        """Run every rule on *facts*; merge the actions of those that fire."""
        view = MessageView(facts)
        decision = Decision()
        trace = decision.trace.append
        setters: dict[str, list[AppliedAction]] = {}
        for rule in self._rules:
            if decision.stopped_by is not None:
                trace(TraceLine(rule.name, rule.file, "skipped",
                                f"after 'stop' in rule {decision.stopped_by}"))
            elif not rule.enabled:
                trace(TraceLine(rule.name, rule.file, "disabled", "enabled = false"))
            else:
                hit, why = rule.condition.test(view)
                if not hit:
                    trace(TraceLine(rule.name, rule.file, "no match", why))
                    continue
                trace(TraceLine(rule.name, rule.file, "matched", why))
                rule_hit = RuleHit(rule.name, rule.file)
                decision.matched.append(rule_hit)
                for action, value in rule.actions:
                    apply_action(decision, rule_hit, action, value, setters)
                if rule.stops:
                    decision.stopped_by = rule.name
        return decision
