"""diagnostic.json: pydantic models and a validation that keeps what is valid.

Every key is optional and unknown keys are kept (``extra="allow"``) and ignored.
A value of the wrong type or out of range does not reject the document: it is
dropped and reported as a finding naming its location. Pydantic errors are
formatted from ``loc`` and ``type`` only: the input value may be a name.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from mailbot.reports.model import Finding
from mailbot.reports.wording import cite, format_count

FILE = "diagnostic.json"
MAX_SINGLE = 5  # dropped values reported one by one before grouping
_MAX_PASSES = 20


def _number_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Text = Annotated[str, BeforeValidator(_number_as_text)]
Count = Annotated[int, Field(ge=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow")


class App(_Section):
    version: Text | None = None
    build: Count | None = None
    locale: Text | None = None


class Device(_Section):
    os: Text | None = None
    os_version: Text | None = None
    model: Text | None = None
    ram_total_mb: Count | None = None
    ram_free_mb: Count | None = None
    storage_total_mb: Count | None = None
    storage_free_mb: Count | None = None


class Network(_Section):
    state: Text | None = None
    latency_ms: Count | None = None


class Request(_Section):
    priority: Text | None = None
    recipient: Text | None = None
    detail_level: Text | None = None
    sensitive_data: Text | None = None
    consent: bool | None = None


class UserContextIn(_Section):
    description: Text | None = None
    actions: Text | None = None
    frequency: Text | None = None
    impact: Text | None = None


class ErrorEntry(_Section):
    at: dt.datetime | None = None
    code: Text | None = None
    message: Text | None = None
    screen: Text | None = None


class Sync(_Section):
    state: Text | None = None
    last_success_at: dt.datetime | None = None
    pending_items: Count | None = None
    last_error: Text | None = None


class Usage(_Section):
    students: Count | None = None
    portfolios: Count | None = None
    sessions_7d: Count | None = None


class Diagnostic(_Section):
    """The whole document; every section optional."""

    format: int | None = None
    report_id: Text | None = None
    generated_at: dt.datetime | None = None
    app: App = Field(default_factory=App)
    device: Device = Field(default_factory=Device)
    network: Network = Field(default_factory=Network)
    request: Request = Field(default_factory=Request)
    user_context: UserContextIn = Field(default_factory=UserContextIn)
    errors: list[ErrorEntry] = Field(default_factory=list)
    sync: Sync | None = None
    usage: Usage = Field(default_factory=Usage)
    performance: dict[str, Any] = Field(default_factory=dict)


# pydantic error type -> (finding code, French explanation)
_ERROR_TYPES: dict[str, tuple[str, str]] = {
    "greater_than_equal": ("negative_value", "valeur négative"),
    "int_parsing": ("invalid_field", "nombre entier attendu"),
    "int_type": ("invalid_field", "nombre entier attendu"),
    "int_from_float": ("invalid_field", "nombre entier attendu"),
    "float_parsing": ("invalid_field", "nombre attendu"),
    "float_type": ("invalid_field", "nombre attendu"),
    "string_type": ("invalid_field", "texte attendu"),
    "bool_parsing": ("invalid_field", "vrai ou faux attendu"),
    "bool_type": ("invalid_field", "vrai ou faux attendu"),
    "list_type": ("invalid_field", "liste attendue"),
    "dict_type": ("invalid_field", "objet attendu"),
    "model_type": ("invalid_field", "objet attendu"),
    "model_attributes_type": ("invalid_field", "objet attendu"),
    "datetime_parsing": ("impossible_value", "date illisible"),
    "datetime_from_date_parsing": ("impossible_value", "date illisible"),
    "datetime_type": ("impossible_value", "date illisible"),
    "datetime_object_invalid": ("impossible_value", "date impossible"),
}
_JSON_MESSAGES = {
    "Expecting value": "valeur attendue",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendus",
    "Expecting property name enclosed in double quotes": "nom de clé entre guillemets attendu",
    "Unterminated string starting at": "chaîne de caractères non terminée",
    "Extra data": "données après la fin du document",
    "Invalid control character at": "caractère de contrôle interdit",
    "Invalid \\escape": "séquence d'échappement invalide",
}


def load(data: bytes) -> tuple[Diagnostic | None, list[Finding]]:
    """Decode, parse and validate *data*; never raises.

    Returns ``(None, [malformed_json])`` when the text is not JSON, otherwise the
    model with every invalid value dropped, and one finding per dropped value.
    """
    text = _decode(data)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = _JSON_MESSAGES.get(exc.msg, "syntaxe JSON invalide")
        where = f"{FILE}, ligne {exc.lineno}, colonne {exc.colno}"
        return None, [Finding("malformed_json", f"{FILE} illisible : {reason}.", where)]
    except RecursionError:
        return None, [Finding("malformed_json", f"{FILE} illisible : imbrication trop "
                              "profonde.", FILE)]
    if not isinstance(document, dict):
        return None, [Finding("invalid_field", f"{FILE} : un objet JSON était attendu.", FILE)]
    return validate(document)


def validate(document: dict[str, Any]) -> tuple[Diagnostic, list[Finding]]:
    """Validate *document* (mutated), dropping invalid values until the rest passes."""
    findings: list[Finding] = []
    model = None
    for _ in range(_MAX_PASSES):
        try:
            model = Diagnostic.model_validate(document)
            break
        except ValidationError as exc:
            errors = exc.errors(include_input=False, include_url=False, include_context=False)
        findings.extend(_finding(error["loc"], error["type"]) for error in errors)
        if not _drop(document, [error["loc"] for error in errors]):
            break
    return model or Diagnostic(), _grouped(findings)


def _grouped(findings: list[Finding]) -> list[Finding]:
    """At most :data:`MAX_SINGLE` findings, then one for the rest (a list of 1,000 bad items)."""
    if len(findings) <= MAX_SINGLE + 1:
        return findings
    rest = findings[MAX_SINGLE:]
    paths = [f.where.removeprefix(f"{FILE}, ") for f in rest if f.where]
    return [*findings[:MAX_SINGLE], Finding(
        "invalid_field", f"{FILE} : {format_count(len(rest))} autres valeurs ignorées "
        f"({cite(paths)}).",
        FILE)]


def _known_names() -> frozenset[str]:
    names: set[str] = set()
    for model in (Diagnostic, App, Device, Network, Request, UserContextIn, ErrorEntry, Sync,
                  Usage):
        names.update(model.model_fields)
    return frozenset(names)


_KNOWN = _known_names()


def _finding(loc: tuple[int | str, ...], kind: str) -> Finding:
    """A finding for one dropped value: its path (known keys and list positions only)."""
    code, reason = _ERROR_TYPES.get(kind, ("invalid_field", "valeur invalide"))
    path = ".".join(str(part) if isinstance(part, int) or part in _KNOWN else "(clé inconnue)"
                    for part in loc) or "(racine)"
    return Finding(code, f"{FILE} : {path} ignoré ({reason}).", f"{FILE}, {path}")


def _drop(document: dict[str, Any], locs: list[tuple[int | str, ...]]) -> int:
    """Delete the value at each *loc* (list items from the end); return how many went."""
    targets: list[tuple[Any, int | str]] = []
    seen: set[tuple[int, int | str]] = set()
    for loc in locs:
        parent: Any = document
        for part in loc[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        if parent is not None and loc and (id(parent), loc[-1]) not in seen:
            seen.add((id(parent), loc[-1]))
            targets.append((parent, loc[-1]))
    dropped = 0
    for parent, key in sorted(targets, key=lambda t: t[1] if isinstance(t[1], int) else -1,
                              reverse=True):
        try:
            del parent[key]
        except (KeyError, IndexError, TypeError):
            continue
        dropped += 1
    return dropped


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
