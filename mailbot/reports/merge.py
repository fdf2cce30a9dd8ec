"""diagnostic.json and the body block -> one set of normalised fields (JSON wins).

Fields are compared in the diagnostic.json vocabulary; sizes within the
rounding the body's text implies (``1,2 Go`` vs ``1228``), versions
numerically, free text ignoring spacing and case.
"""

from __future__ import annotations

from mailbot.reports.facts import Facts, Mismatch
from mailbot.reports.model import Finding
from mailbot.reports.numbers import clean_version, version_tuple
from mailbot.reports.schema import FILE, Diagnostic
from mailbot.reports.vocab import normalise, os_name

# field -> where it lives in diagnostic.json
JSON_PATHS: dict[str, str] = {
    "priority": "request.priority", "recipient": "request.recipient",
    "detail_level": "request.detail_level", "sensitive_data": "request.sensitive_data",
    "consent": "request.consent", "app_version": "app.version", "app_build": "app.build",
    "os": "device.os", "os_version": "device.os_version",
    "ram_total_mb": "device.ram_total_mb", "ram_free_mb": "device.ram_free_mb",
    "storage_total_mb": "device.storage_total_mb",
    "storage_free_mb": "device.storage_free_mb", "network": "network.state",
    "description": "user_context.description", "actions": "user_context.actions",
    "frequency": "user_context.frequency", "impact": "user_context.impact",
}
_VOCABULARY_FIELDS = ("priority", "recipient", "detail_level", "sensitive_data", "network")
_SIZES = ("ram_total_mb", "ram_free_mb", "storage_total_mb", "storage_free_mb")
_TEXTS = ("description", "actions", "frequency", "impact")


def json_values(diagnostic: Diagnostic, problems: list[Finding]) -> dict[str, object]:
    """The fields of *diagnostic* in the report vocabulary; unknown values -> findings."""
    request, device = diagnostic.request, diagnostic.device
    raw: dict[str, object] = {
        "priority": request.priority, "recipient": request.recipient,
        "detail_level": request.detail_level, "sensitive_data": request.sensitive_data,
        "network": diagnostic.network.state,
    }
    values: dict[str, object] = {}
    for name, value in raw.items():
        if value is None:
            continue
        values[name] = normalise(name, value)
        if values[name] is None:
            path = JSON_PATHS[name]
            problems.append(Finding("invalid_field", f"{FILE} : {path} ignoré (valeur non "
                                    "reconnue).", f"{FILE}, {path}"))
    values["consent"] = request.consent
    values["app_version"] = clean_version(diagnostic.app.version)
    values["app_build"] = diagnostic.app.build
    values["os"] = os_name(device.os) if device.os else None
    values["os_version"] = device.os_version.strip() if device.os_version else None
    for name in _SIZES:
        values[name] = getattr(device, name)
    for name in _TEXTS:
        text = getattr(diagnostic.user_context, name)
        values[name] = text.strip() if text and text.strip() else None
    return {name: value for name, value in values.items() if value is not None}


def merge(facts: Facts) -> dict[str, object]:
    """Final values (JSON, else body); each disagreement is recorded in ``facts.mismatches``."""
    body = facts.body.values if facts.body else {}
    tolerances = facts.body.tolerances if facts.body else {}
    merged: dict[str, object] = dict(body)
    for name, json_value in facts.json_values.items():
        body_value = body.get(name)
        if body_value is not None and not _same(name, body_value, json_value,
                                                tolerances.get(name, 0.0)):
            facts.mismatches.append(Mismatch(name, body_value, json_value))
        merged[name] = json_value
    return merged


def _same(name: str, body_value: object, json_value: object, tolerance: float) -> bool:
    if name in _SIZES and isinstance(body_value, int) and isinstance(json_value, int):
        return abs(body_value - json_value) <= tolerance
    if name in ("app_version", "os_version"):
        return version_tuple(str(body_value)) == version_tuple(str(json_value))
    if isinstance(body_value, str) and isinstance(json_value, str):
        return _plain(body_value) == _plain(json_value)
    return body_value == json_value


def _plain(text: str) -> str:
    return " ".join(text.replace("’", "'").casefold().split())
