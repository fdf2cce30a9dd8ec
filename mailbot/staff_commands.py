"""Commands at the top of a staff mail, in French or English (pure).

A staff member answers a ticket and steers it with lines such as::

    #statut en cours
    #priorité: urgente
    #assigner Marie Durand <marie@ecarnet.fr>

    Bonjour, nous regardons votre problème…

The command block is the leading lines that start with ``#`` and a letter
(blank lines and indentation allowed); it ends at the first other non-blank
line, so a ``#hashtag`` further down, a quoted ``> #statut`` or a signature is
ordinary text. Command names and values are read without regard to case or
accents (``#Résolu``, ``#resolu``, ``#RESOLVED``), a colon may follow the name,
and Windows line endings and no-break spaces are fine. Each invalid line gives
one error in English; the caller then changes nothing and answers with
:data:`HELP`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from mailbot.rules.text import fold
from mailbot.threads import normalise_ref

# The values of mailbot.store.models.TicketStatus and mailbot.triage.PRIORITY_ORDER,
# kept here so that this module does not import the database layer (a test
# checks that they agree). Teams are stored as the ticket's category label.
NEW, ANALYSING, SOLUTION_PROPOSED, RESOLVED, CLOSED = (
    "nouvelle demande", "en cours d'analyse", "solution proposée", "résolu", "fermé")
PRIORITIES = ("normale", "importante", "urgente")
TEAMS = ("technique", "pédagogique")


@dataclass(frozen=True)
class Command:
    """One valid command line.

    *name* is canonical (``status``, ``solution``, ``resolved``, ``close``,
    ``priority``, ``team``, ``assign``, ``note``, ``merge``) and so is *value*:
    a ticket status, a priority, a team, a lower-case address, an ``ECN-XXXXXX``
    reference, the note text, or ``""``. *line* is the line as written, without
    its line break.
    """

    name: str
    value: str
    line: str


@dataclass(frozen=True)
class CommandBlock:
    """The commands of a mail, one error per invalid line, and the text without them."""

    commands: tuple[Command, ...]
    errors: tuple[str, ...]
    text: str


class HelpEntry(NamedTuple):
    """One command in the help answer, in French and English."""

    syntax_fr: str
    syntax_en: str
    meaning_fr: str
    meaning_en: str


HELP: tuple[HelpEntry, ...] = (
    HelpEntry("#statut nouvelle | en cours | solution | résolu | fermé",
              "#status new | in-progress | solution-proposed | resolved | closed",
              "change le statut de la demande", "sets the status of the request"),
    HelpEntry("#solution", "#solution",
              "votre réponse propose une solution (statut « solution proposée »)",
              "your answer proposes a solution (status “solution proposée”)"),
    HelpEntry("#résolu", "#resolved", "la demande est résolue", "the request is resolved"),
    HelpEntry("#fermer", "#close", "ferme la demande", "closes the request"),
    HelpEntry("#priorité normale | importante | urgente",
              "#priority normal | important | urgent",
              "change la priorité", "sets the priority"),
    HelpEntry("#équipe technique | pédagogique", "#team technical | teaching",
              "confie la demande à une équipe", "hands the request to a team"),
    HelpEntry("#assigner adresse@exemple.fr", "#assign address@example.com",
              "confie la demande à un membre du support", "assigns the request to a staff member"),
    HelpEntry("#note [texte]", "#note [text]",
              "note interne : le message n'est pas transmis au demandeur",
              "internal note: the mail is not passed on to the requester"),
    HelpEntry("#fusionner ECN-XXXXXX", "#merge ECN-XXXXXX",
              "fusionne cette demande dans la demande ECN-XXXXXX",
              "merges this request into request ECN-XXXXXX"),
)

_NAMES = {
    "status": "statut|status|etat",
    "solution": "solution",
    "resolved": "resolu|resolue|resolved",
    "close": "fermer|ferme|fermee|clore|clos|close|closed",
    "priority": "priorite|priority",
    "team": "equipe|team",
    "assign": "assigner|assign|attribuer",
    "note": "note",
    "merge": "fusionner|fusion|merge",
}
_STATUS_WORDS = {
    NEW: "nouvelle|nouvelle demande|nouveau|new|new request",
    ANALYSING: "en cours|en cours d analyse|en analyse|analyse|en traitement|in progress"
               "|analysing|analyzing|in analysis|under analysis|ongoing",
    SOLUTION_PROPOSED: "solution|solution proposee|proposee|solution proposed"
                       "|proposed solution|proposed",
    RESOLVED: "resolu|resolue|resolved|solved",
    CLOSED: "ferme|fermee|clos|close|closed",
}
_PRIORITY_WORDS = {"normale": "normale|normal", "importante": "importante|important|high",
                   "urgente": "urgente|urgent"}
_TEAM_WORDS = {"technique": "technique|technical|tech",
               "pédagogique": "pedagogique|pedagogical|teaching"}
_NO_VALUE = {"solution": SOLUTION_PROPOSED, "resolved": RESOLVED, "close": CLOSED}
_VALID = {
    "status": "nouvelle, en cours, solution, résolu, fermé / "
              "new, in-progress, solution-proposed, resolved, closed",
    "priority": "normale, importante, urgente / normal, important, urgent",
    "team": "technique, pédagogique / technical, teaching",
}

_COMMAND_LINE = re.compile(r"#\s*([^\W\d_][^\s:]*)\s*:?\s*(.*)", re.DOTALL)
_SEPARATORS = re.compile(r"[\s\-_'’`]+")
_TRAILING = ".!;,"
_QUOTES = " \t\"'«»“”"
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+")
_DOMAIN = re.compile(r"[^.]+(\.[^.]+)+")
_REF = re.compile(r"(?:(?:avec|dans|vers|with|into|to)\s+)?\[?\s*#?\s*ECN-(\w+)\s*\]?",
                  re.IGNORECASE)


def _key(text: str) -> str:
    """``En cours d’analyse.`` -> ``en cours d analyse``: how names and values compare."""
    return _SEPARATORS.sub(" ", fold(text).strip(_TRAILING + _QUOTES)).strip()


def _table(words: dict[str, str]) -> dict[str, str]:
    return {_key(w): canonical for canonical, ws in words.items() for w in ws.split("|")}


_NAME_TABLE = _table(_NAMES)
_STATUS_TABLE = _table(_STATUS_WORDS)
_PRIORITY_TABLE = _table(_PRIORITY_WORDS)
_TEAM_TABLE = _table(_TEAM_WORDS)
_VALUE_TABLES = {"status": _STATUS_TABLE, "priority": _PRIORITY_TABLE, "team": _TEAM_TABLE}
_WHAT = {"status": "status", "priority": "priority", "team": "team",
         "assign": "address", "merge": "tracking number"}


def parse_commands(text: str) -> CommandBlock:
    """The command block at the top of *text*, checked, and the text after it.

    ``text`` of the result is everything from the first line that is neither
    blank nor a command (line breaks normalised to ``\\n``), or ``""``.
    """
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    commands: list[Command] = []
    errors: list[str] = []
    end = len(lines)
    for index, raw in enumerate(lines):
        line = raw.strip().lstrip("\u200b\ufeff")
        if not line:
            continue
        match = _COMMAND_LINE.fullmatch(line)
        if match is None:
            end = index
            break
        parsed = _parse(match.group(1), match.group(2).strip(), raw.strip())
        if isinstance(parsed, Command):
            commands.append(parsed)
        else:
            errors.append(parsed)
    return CommandBlock(tuple(commands), tuple(errors), "\n".join(lines[end:]))


def _parse(word: str, value: str, line: str) -> Command | str:
    """One command line -> a :class:`Command`, or the error message for it."""
    shown = f"#{word.rstrip(_TRAILING)}"
    name = _NAME_TABLE.get(_key(word))
    if name is None:
        return f"unknown command {shown}"
    if name == "note":
        return Command(name, value, line)
    if name in _NO_VALUE:
        # "#solution proposée" or "#fermé." say no more than the name itself
        if value.strip(_TRAILING) and _STATUS_TABLE.get(_key(f"{word} {value}")) != _NO_VALUE[name]:
            return f"{shown}: takes no value (got {value!r})"
        return Command(name, "", line)
    if not value.strip(_TRAILING):
        return f"{shown}: missing {_WHAT[name]}" + (
            f" (valid: {_VALID[name]})" if name in _VALID else "")
    if name in _VALUE_TABLES:
        canonical = _VALUE_TABLES[name].get(_key(value))
        if canonical is None:
            return f"{shown}: unknown {_WHAT[name]} {value!r} (valid: {_VALID[name]})"
        return Command(name, canonical, line)
    if name == "assign":
        address = _address(value)
        if address is None:
            return f"{shown}: {value!r} is not an email address"
        return Command(name, address, line)
    ref = _ref(value)
    if ref is None:
        return f"{shown}: {value!r} is not a tracking number like ECN-4F7K2Q"
    return Command(name, ref, line)


def _address(value: str) -> str | None:
    """``marie@x.fr``, ``<marie@x.fr>`` or ``Marie <marie@x.fr>`` -> ``marie@x.fr``."""
    value = value.strip().rstrip(_TRAILING)
    if value.endswith(">") and "<" in value:
        value = value[value.rindex("<") + 1:-1].strip()
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:"):]
    if not _ADDRESS.fullmatch(value) or not _DOMAIN.fullmatch(value.rpartition("@")[2]):
        return None
    return value.lower()


def _ref(value: str) -> str | None:
    """``ECN-4F7K2Q``, ``[#ECN-4f7k2q]``, ``avec ECN-4F7K2Q`` -> ``ECN-4F7K2Q``."""
    match = _REF.fullmatch(value.strip().rstrip(_TRAILING))
    return normalise_ref(match.group(1)) if match else None
