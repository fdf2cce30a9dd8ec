"""``mailbot rules test``: evaluate rules on one .eml file, nothing sent, nothing stored.

The message goes through the same steps as in the service up to the rules:
parse, classify, read the assistance report (names replaced by pseudonyms),
choose the language; then the rule set is evaluated and the decision
returned with its trace. As in the service, only ``normal`` mail reaches the
rules: machine mail (own, bounce, auto_reply, list) stops after classifying,
with every rule traced ``not evaluated: machine mail (kind …)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from mailbot import acks, report_intake
from mailbot.classify import OwnIdentity, classify
from mailbot.config import LimitsConfig
from mailbot.model import MailKind
from mailbot.parse import parse_mail
from mailbot.privacy import Keys
from mailbot.reports import ReportSettings
from mailbot.rules.decision import Decision, TraceLine
from mailbot.rules.engine import RuleSet
from mailbot.rules.facts import MessageFacts, facts_from


@dataclass(frozen=True)
class DryRun:
    """The facts rules saw and what they decided."""

    facts: MessageFacts
    decision: Decision
    descriptions: dict[str, str]
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Exactly ``{"matched", "actions", "trace"}`` (message facts: :func:`summary`)."""
        return self.decision.to_json()


def dry_run(raw: bytes, rules: RuleSet, identity: OwnIdentity, settings: ReportSettings,
            keys: Keys, default_language: str = "fr",
            received_at: dt.datetime | None = None,
            limits: LimitsConfig | None = None) -> DryRun:
    """Evaluate *rules* on the message *raw*; never raises for bad mail.

    *received_at* defaults to the message's Date header (so a saved mail
    gives the same answer every time), else now.
    """
    try:
        parsed = parse_mail(raw, limits)
        kind = classify(parsed.message, parsed.from_addr, identity).kind.value
        report = report_intake.analyse(parsed, settings, keys)
    except Exception as exc:  # describe bad mail, never crash
        facts = MessageFacts("", "", "", "", MailKind.NORMAL.value, default_language, (),
                             None, received_at or dt.datetime.now(dt.UTC))
        return DryRun(facts, rules.evaluate(facts), _descriptions(rules),
                      f"unparseable: {type(exc).__name__}: {exc}")
    if report is not None:
        parsed = parsed.with_texts(report.scrub)
    when = received_at or parsed.date or dt.datetime.now(dt.UTC)
    facts = facts_from(parsed, kind, acks.choose_language(parsed, default_language),
                       report.to_json() if report else None, when)
    if kind != MailKind.NORMAL.value:  # the service ignores it before the rules
        return DryRun(facts, not_evaluated(rules, kind), _descriptions(rules))
    return DryRun(facts, rules.evaluate(facts), _descriptions(rules))


def not_evaluated(rules: RuleSet, kind: str) -> Decision:
    """No rule runs on machine mail: each one traced ``not evaluated``, nothing matched."""
    why = f"machine mail (kind {kind})"
    return Decision(trace=[TraceLine(r.name, r.file, "not evaluated", why) for r in rules.rules])


def _descriptions(rules: RuleSet) -> dict[str, str]:
    return {rule.name: rule.description for rule in rules.rules}


def summary(run: DryRun) -> str:
    """The dry run as readable text: message, decision, then one line per rule."""
    f, d = run.facts, run.decision
    lines = [f"message: from {f.sender or '(none)'}, kind {f.kind}, language {f.language}, "
             f"{'with' if f.report else 'no'} report, received {f.received_at:%Y-%m-%d %H:%M %Z}"]
    if run.problem:
        lines.append(f"problem: {run.problem}")
    lines.append(f"subject: {f.subject}")
    if f.kind != MailKind.NORMAL.value:
        lines.append(f"not evaluated: machine mail (kind {f.kind}); only normal mail "
                     "reaches the rules")
    lines.append("matched:" if d.matched else "matched: no rule")
    lines += [f"  {h.rule} ({h.file}): {run.descriptions.get(h.rule, '')}" for h in d.matched]
    decided = {k: v for k, v in d.summary().items() if v not in (None, [], False)}
    lines.append("decision: " + (", ".join(f"{k}={v}" for k, v in decided.items())
                                 or "nothing to change"))
    lines.append("actions:" if d.actions else "actions: none")
    for a in d.actions:
        note = f" (overridden by {a.overridden_by})" if a.overridden_by else ""
        lines.append(f"  {a.rule}: {a.action} = {a.value}{note}")
    lines.append("trace:")
    width = max((len(t.rule) for t in d.trace), default=0)
    lines += [f"  {'+' if t.outcome == 'matched' else '-'} {t.rule.ljust(width)}  "
              f"{t.outcome}: {t.detail}" for t in d.trace]
    return "\n".join(lines)
