"""Helpers shared by the rule tests (no tests here): facts with defaults, inline TOML rule sets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from mailbot.rules import MessageFacts, RuleSet, load_rules

# A Monday morning in Paris (09:30 local, CET).
MONDAY_MORNING = dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC)

REPORT: dict[str, Any] = {
    "app_version": "2.2.4", "os": "iPadOS", "os_version": "17.4",
    "error_codes": {"SYNC-504": 3, "NET-12": 1}, "main_error_code": "SYNC-504",
    "sync_state": "bloquee", "priority": "urgente", "recipient": "technique",
    "findings": [{"code": "storage_low", "message": "Stockage presque plein"},
                 {"code": "app_outdated", "message": "Application en version 2.2.4"}],
    "user_context": {"description": "texte de l'enseignant, jamais dans une trace"},
}


def facts(**changes: Any) -> MessageFacts:
    """An ordinary French mail; keyword arguments replace fields."""
    values: dict[str, Any] = {
        "sender": "elodie.martin@ecole-jules-ferry.example",
        "sender_domain": "ecole-jules-ferry.example",
        "subject": "Question",
        "text": "Bonjour, pouvez-vous m'aider ? Merci.",
        "kind": "normal", "language": "fr", "attachments": (), "report": None,
        "received_at": MONDAY_MORNING,
    }
    values.update(changes)
    return MessageFacts(**values)


def rule(when: str, then: str = 'then.tags = ["t"]', name: str = "r") -> str:
    """One ``[[rule]]`` table: *when* and *then* are TOML lines (dotted keys)."""
    return f'[[rule]]\nname = "{name}"\ndescription = "test"\n{when}\n{then}\n'


def ruleset(tmp_path: Path, *files: str, templates: Path | None = None) -> RuleSet:
    """Write each text as ``NN.toml`` (in order) in *tmp_path*/rules and load them."""
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    for i, text in enumerate(files):
        (folder / f"{i + 10}.toml").write_text(text, encoding="utf-8")
    return load_rules(folder, templates)


def hits(rules: RuleSet, **changes: Any) -> list[str]:
    """Names of the rules that fire on ``facts(**changes)``."""
    return [h.rule for h in rules.evaluate(facts(**changes)).matched]
