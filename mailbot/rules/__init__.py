"""Rule files: triage decisions a support team writes in ``rules/*.toml``.

A rule has a name, a description, conditions (``when``) and actions
(``then``). :func:`load_rules` compiles a folder into an immutable
:class:`RuleSet` (any error -> :class:`RuleError` with file:line:key);
:meth:`RuleSet.evaluate` turns the :class:`MessageFacts` of one message into
a :class:`Decision` with a trace line for every rule; :class:`RuleWatcher`
reloads the folder when it changes and keeps the last good set when it is
broken. Format and semantics: docs/rules.md.
"""

from mailbot.rules.decision import AppliedAction, Decision, RuleHit, TraceLine
from mailbot.rules.engine import Rule, RuleSet
from mailbot.rules.errors import ErrorLine, RuleError
from mailbot.rules.facts import MessageFacts, facts_from
from mailbot.rules.loader import default_rules_dir, load_rules
from mailbot.rules.watcher import RuleWatcher

__all__ = [
    "AppliedAction", "Decision", "ErrorLine", "MessageFacts", "Rule", "RuleError", "RuleHit",
    "RuleSet", "RuleWatcher", "TraceLine", "default_rules_dir", "facts_from", "load_rules",
]
